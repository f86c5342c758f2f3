// host.cc: open everything inside a namespace once, answer from anywhere; see host.h.
#include "probe/host.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <sstream>
#include <tuple>
#include <vector>

#include "loop/sys.h"
#include "probe/tcp_states.h"
#include "sysctl/proc_sys.h"

namespace churn::probe {
namespace {

int open_optional(const char* path) {
    // /proc/net/tcp6 is missing when IPv6 is disabled: then there are no IPv6 sockets to count.
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) {
        int err = errno;
        throw ProbeError(sys_message("open", path, err));
    }
    return fd;
}

NetSysctls read_sysctls() {
    // Read while inside the namespace: net.* sysctls answer for the namespace of the task that opens them.
    NetSysctls s;
    if (auto v = sysctl::read_longs("net.ipv4.ip_local_port_range"); v.size() == 2) s.port_lo = v[0], s.port_hi = v[1];
    if (auto v = sysctl::read_longs("net.ipv4.tcp_tw_reuse"); v.size() == 1) s.tw_reuse = v[0];
    if (auto v = sysctl::read_longs("net.ipv4.tcp_tw_reuse_delay"); v.size() == 1) s.tw_reuse_delay_ms = v[0];
    if (auto v = sysctl::read_longs("net.ipv4.tcp_max_tw_buckets"); v.size() == 1) s.max_tw_buckets = v[0];
    if (auto v = sysctl::read_longs("net.ipv4.tcp_fin_timeout"); v.size() == 1) s.fin_timeout = v[0];
    return s;
}

std::string hex_line(std::span<const uint8_t> data) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2 + 1);
    for (uint8_t b : data) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    out += '\n';
    return out;
}

}  // namespace

HostSpec parse_host_spec(const std::string& text) {
    HostSpec s;
    size_t eq = text.find('=');
    if (eq == std::string::npos) {
        s.netns = text;
        s.label = text.empty() ? "host" : text;
    } else {
        s.label = text.substr(0, eq);
        s.netns = text.substr(eq + 1);
        if (s.label.empty()) throw ProbeError("--netns '" + text + "': empty label before '='");
    }
    return s;
}

Host::Host(HostSpec spec, const HostOptions& opt) : spec_(std::move(spec)) {
    std::optional<Netns> ns;
    // loop/netns.h throws std::system_error; for the probe a namespace it cannot enter is bad input
    // (exit 2, one line), so it becomes a ProbeError naming the option.
    try {
        if (!spec_.netns.empty()) ns.emplace(Netns::open(spec_.netns));
    } catch (const std::system_error& e) {
        throw ProbeError(std::string("--netns ") + e.what());
    }
    {
        std::optional<InNetns> inside;
        try {
            inside.emplace(ns ? &*ns : nullptr);
        } catch (const std::system_error& e) {
            throw ProbeError(std::string("--netns ") + e.what());
        }
        tcp_fd_ = open_optional("/proc/net/tcp");
        tcp6_fd_ = open_optional("/proc/net/tcp6");
        netstat_ = std::make_unique<NetstatReader>();
        sysctls_ = read_sysctls();
        if (opt.force_proc) {
            source_ = Source::Proc;
        } else {
            try {
                diag_ = std::make_unique<SockDiag>();
            } catch (const DiagError& e) {
                if (!diag_unavailable(e.err)) throw;
                fall_back(e.what());
            }
        }
    }  // home again
    if (!opt.record_path.empty() && diag_) {
        record_fd_ = ::open(opt.record_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (record_fd_ < 0) {
            int err = errno;
            throw ProbeError("--record: " + sys_message("open", opt.record_path, err));
        }
        diag_->set_tap([fd = record_fd_](std::span<const uint8_t> d) {
            std::string line = hex_line(d);
            // A debugging aid: a short write loses a line of the recording, never the probe's answer.
            (void)!::write(fd, line.data(), line.size());
        });
    }
}

Host::~Host() {
    for (int fd : {tcp_fd_, tcp6_fd_, record_fd_})
        if (fd >= 0) ::close(fd);
}

void Host::fall_back(const std::string& why) {
    source_ = Source::Proc;
    diag_.reset();
    std::fprintf(stderr, "churn-probe: note: %s: sock_diag unavailable (%s); reading /proc/net/tcp and tcp6 instead\n",
                 spec_.label.c_str(), why.c_str());
}

void Host::each_socket(uint32_t wanted, const Filter& filter, uint8_t ext, const HostSocketCallback& cb) {
    if (source_ == Source::Netlink) {
        DiagRequest req;
        req.states = request_mask(wanted);
        req.ext = ext;
        req.bytecode = compile(filter);
        size_t delivered = 0;
        auto on_msg = [&](const DiagMessage& m) {
            ++delivered;
            // We asked for extra bits (request_mask): keep only the states the caller wanted.
            if (wanted & state_bit(m.rec.state)) cb(m.rec, &m);
        };
        try {
            for (uint8_t family : {AF_INET, AF_INET6}) {
                req.family = family;
                diag_->dump(req, on_msg);
            }
            return;
        } catch (const DiagError& e) {
            // ENOENT from the first dump: the kernel has sock_diag but no TCP handler (tcp_diag not
            // loaded, not loadable). Anything else (EINVAL for a filter, EPERM) is a real error, and so
            // is a failure after sockets were already reported: falling back then would count them twice.
            if (!diag_unavailable(e.err) || delivered > 0) throw;
            fall_back(e.what());
        }
    }
    if (ext != 0) throw ProbeError(spec_.label + ": tcp_info needs sock_diag (/proc/net/tcp does not carry it)");
    each_proc(wanted, filter, cb);
}

void Host::each_proc(uint32_t wanted, const Filter& filter, const HostSocketCallback& cb) {
    auto on_rec = [&](const SockRecord& r) {
        if ((wanted & state_bit(r.state)) && filter.matches(r)) cb(r, nullptr);
    };
    for (auto [fd, family, path] : {std::tuple{tcp_fd_, AF_INET, "/proc/net/tcp"}, std::tuple{tcp6_fd_, AF_INET6, "/proc/net/tcp6"}}) {
        if (fd < 0) continue;
        ProcTcpStats st = parse_proc_tcp(read_proc_fd(fd, path), family, on_rec);
        if (st.malformed && proc_malformed_ == 0)
            std::fprintf(stderr, "churn-probe: note: %s: %s: %zu malformed lines skipped (first: line %zu)\n",
                         spec_.label.c_str(), path, st.malformed, st.first_malformed);
        proc_malformed_ += st.malformed;
    }
}

}  // namespace churn::probe
