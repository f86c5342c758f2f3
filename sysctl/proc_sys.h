// proc_sys.h: a network namespace's sysctls, read and written through /proc/sys.
//
// Which namespace answers: the files under /proc/sys/net are looked up against the network namespace of
// the task that opens them (the kernel's sysctl "set" for net.* is chosen per lookup from
// current->nsproxy->net_ns). So reading inside a namespace means: setns() into it first, then open. An fd
// opened before a setns() keeps answering for the namespace it was opened in.
//
// Names: sysctl.d spells a key with dots (net.ipv4.tcp_tw_reuse) or slashes (net/ipv4/tcp_tw_reuse).
// As systemd's sysctl.d(5) says, if the first separator is a '/', the key is a path as it stands; if it
// is a '.', dots and slashes swap (net.ipv4.conf.eth0/100.forwarding is the file
// net/ipv4/conf/eth0.100/forwarding). Inside the project a key is always in the dotted form.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace churn::sysctl {

// Every error of the sysctl module is one line; churn-sysctl prints it and exits 2.
struct SysctlError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// "net/ipv4/tcp_tw_reuse" or "net.ipv4.tcp_tw_reuse" -> "net.ipv4.tcp_tw_reuse".
std::string dotted_key(std::string_view key);
// Either form -> "/proc/sys/net/ipv4/tcp_tw_reuse".
std::string proc_path(std::string_view key);
// "32768\t60999\n" -> "32768 60999": whitespace runs to one space, none at either end. The kernel
// separates the fields of a multi-value sysctl with tabs; sysctl(8) prints them with tabs too.
std::string squeeze(std::string_view text);

// The value in the namespace of the calling thread, squeezed; nullopt when the file cannot be opened or
// read (this kernel lacks the sysctl, or a write-only/secret one such as stable_secret).
std::optional<std::string> read_value(std::string_view key);
// The same as numbers ("32768 60999" -> {32768, 60999}); empty when absent or not all numbers.
std::vector<long> read_longs(std::string_view key);

// Write values in the namespace of the calling thread. All files are opened first and only then written,
// so a key this kernel (or this namespace) lacks, or a missing permission, fails before anything has
// changed. Each value goes in one write(): the kernel parses a sysctl from the buffer of a single write,
// and a short write would leave a half value (ip_local_port_range "1024" without its upper end).
// `optional[i]` (sysctl.d's leading '-'): a failure on that key is reported in `skipped` and not thrown.
struct WriteOp {
    std::string key;    // dotted
    std::string value;
    bool optional = false;
};
struct WriteResult {
    std::string key;
    bool written = false;
    std::string skipped;  // why an optional key was not written (its open or write error)
};
std::vector<WriteResult> write_values(const std::vector<WriteOp>& ops);

}  // namespace churn::sysctl
