// host.h: one probed host (a network namespace, or the one we run in), with everything opened inside it.
//
// Construction enters the namespace once (setns), creates what must belong to it -- the sock_diag
// netlink socket, fds on /proc/net/tcp{,6}, /proc/net/{netstat,snmp,snmp6}, the sysctls triage needs --
// and goes home. After that a Host answers for its namespace from any namespace, so one process can
// watch both lab hosts without switching back and forth at every sample.
//
// Source: sock_diag when it works, /proc/net/tcp{,6} when asked (--proc) or when sock_diag is not
// there; the fallback says so once on stderr.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "probe/diag_filter.h"
#include "loop/netns.h"
#include "probe/netstat.h"
#include "probe/proc_tcp.h"
#include "probe/sock_diag.h"

namespace churn::probe {

// "client=churnlab-ab12cd-cli" (a label for the JSON, then the namespace) or just "NAME".
struct HostSpec {
    std::string label;  // "client"; defaults to the namespace name, or "host" for our own namespace
    std::string netns;  // empty: the namespace we run in
};
HostSpec parse_host_spec(const std::string& text);

enum class Source { Netlink, Proc };
inline const char* source_name(Source s) { return s == Source::Netlink ? "netlink" : "proc"; }

// The per-namespace sysctls triage needs, read inside the namespace (net.* sysctls are per namespace).
struct NetSysctls {
    long port_lo = 32768, port_hi = 60999;  // net.ipv4.ip_local_port_range
    long tw_reuse = -1;                     // net.ipv4.tcp_tw_reuse (0, 1, 2=loopback only)
    long tw_reuse_delay_ms = -1;            // net.ipv4.tcp_tw_reuse_delay (kernels >= 6.12)
    long max_tw_buckets = -1;               // net.ipv4.tcp_max_tw_buckets
    long fin_timeout = -1;                  // net.ipv4.tcp_fin_timeout
    long ports() const { return port_hi - port_lo + 1; }
};

struct HostOptions {
    bool force_proc = false;   // --proc
    std::string record_path;   // --record FILE: raw sock_diag datagrams as hex, one per line
};

// Called once per socket: the record, and for sock_diag the message (with its attributes), else null.
using HostSocketCallback = std::function<void(const SockRecord&, const DiagMessage*)>;

class Host {
public:
    Host(HostSpec spec, const HostOptions& opt);
    ~Host();
    Host(const Host&) = delete;
    Host& operator=(const Host&) = delete;

    const std::string& label() const { return spec_.label; }
    const std::string& netns() const { return spec_.netns; }
    Source source() const { return source_; }
    const NetSysctls& sysctls() const { return sysctls_; }

    // Every socket whose (reported) state is in `wanted` (a mask of state_bit()s) and which passes
    // `filter`, IPv4 then IPv6. `ext` asks sock_diag for extensions (tcp_info, ...); /proc has none, so
    // a non-zero ext on the /proc source throws ProbeError.
    void each_socket(uint32_t wanted, const Filter& filter, uint8_t ext, const HostSocketCallback& cb);

    Counters counters() const { return netstat_->read(); }

    // Lines of /proc/net/tcp{,6} skipped as malformed, over this host's lifetime.
    size_t proc_malformed() const { return proc_malformed_; }

private:
    void fall_back(const std::string& why);
    void each_proc(uint32_t wanted, const Filter& filter, const HostSocketCallback& cb);

    HostSpec spec_;
    Source source_ = Source::Netlink;
    std::unique_ptr<SockDiag> diag_;
    int tcp_fd_ = -1, tcp6_fd_ = -1;
    std::unique_ptr<NetstatReader> netstat_;
    NetSysctls sysctls_;
    size_t proc_malformed_ = 0;
    int record_fd_ = -1;
};

}  // namespace churn::probe
