// netstat.cc: /proc/net/{netstat,snmp,snmp6} under nstat's names; see netstat.h.
#include "probe/netstat.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "loop/sys.h"
#include "probe/proc_tcp.h"
#include "probe/socket_record.h"

namespace churn::probe {
namespace {

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
        size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

bool to_i64(std::string_view s, int64_t& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return true;
    // A u64 counter above INT64_MAX would land here; none exists in practice, but say it rather than wrap.
    return false;
}

std::vector<std::string_view> lines(std::string_view text) {
    std::vector<std::string_view> out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        out.push_back(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    return out;
}

int open_proc(const char* path, bool optional) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (optional && err == ENOENT) return -1;
        throw ProbeError(sys_message("open", path, err));
    }
    return fd;
}

}  // namespace

std::optional<int64_t> Counters::get(std::string_view name) const {
    for (const Counter& c : list)
        if (c.name == name) return c.value;
    return std::nullopt;
}

std::map<std::string, int64_t> Counters::as_map() const {
    std::map<std::string, int64_t> m;
    for (const Counter& c : list) m[c.name] = c.value;
    return m;
}

void parse_snmp_pairs(std::string_view text, Counters& out) {
    // A header line holds names, a values line only integers. Tell them apart by content rather than by
    // position, so one broken line costs its own pair and nothing after it.
    auto is_values = [](const std::vector<std::string_view>& w) {
        int64_t v;
        for (size_t k = 1; k < w.size(); ++k)
            if (!to_i64(w[k], v)) return false;
        return w.size() > 1;
    };
    std::vector<std::string_view> header;
    for (std::string_view line : lines(text)) {
        std::vector<std::string_view> w = words(line);
        if (w.empty()) continue;
        if (w[0].size() < 2 || w[0].back() != ':') {
            ++out.malformed;
            header.clear();
            continue;
        }
        if (!is_values(w)) {
            if (!header.empty()) ++out.malformed;  // the previous header never got its values
            header = std::move(w);
            continue;
        }
        if (header.empty() || header[0] != w[0] || header.size() != w.size()) {
            ++out.malformed;  // values without their header, or a count that does not match
            if (!header.empty()) ++out.malformed;
            header.clear();
            continue;
        }
        std::string_view group = w[0].substr(0, w[0].size() - 1);
        for (size_t k = 1; k < w.size(); ++k) {
            Counter c{std::string(group) + std::string(header[k]), 0};
            to_i64(w[k], c.value);
            out.list.push_back(std::move(c));
        }
        header.clear();
    }
    if (!header.empty()) ++out.malformed;
}

void parse_snmp6(std::string_view text, Counters& out) {
    for (std::string_view line : lines(text)) {
        std::vector<std::string_view> w = words(line);
        if (w.empty()) continue;
        Counter c{std::string(w[0]), 0};
        if (w.size() != 2 || !to_i64(w[1], c.value)) {
            ++out.malformed;
            continue;
        }
        out.list.push_back(std::move(c));
    }
}

bool is_gauge(std::string_view name) {
    for (const char* g : {"IpForwarding", "IpDefaultTTL", "TcpRtoAlgorithm", "TcpRtoMin", "TcpRtoMax", "TcpMaxConn",
                          "TcpCurrEstab"})
        if (name == g) return true;
    return false;
}

const std::vector<std::string>& churn_counters() {
    static const std::vector<std::string> names = {
        "TcpActiveOpens",          // connect() sent a SYN (CLOSED -> SYN-SENT)
        "TcpPassiveOpens",         // a listener completed a handshake (SYN-RECV -> ESTAB)
        "TcpAttemptFails",         // SYN-SENT/SYN-RECV -> CLOSED: refused, reset or timed out
        "TcpEstabResets",          // ESTAB/CLOSE-WAIT -> CLOSED by a reset
        "TcpCurrEstab",            // gauge: ESTAB + CLOSE-WAIT now
        "TcpRetransSegs",
        "TcpOutRsts",
        "TcpExtTW",                // sockets put into TIME-WAIT with the full 60 s timer (counted on entry)
        "TcpExtTWRecycled",        // tcp_tw_reuse took over a TIME-WAIT port for a new connect()
        "TcpExtTWKilled",          // ... with a short timer (<= 4 s) instead
        "TcpExtTCPTimeWaitOverflow",  // tcp_max_tw_buckets full: TIME-WAIT skipped
        "TcpExtSyncookiesSent",
        "TcpExtListenOverflows",   // accept queue full
        "TcpExtListenDrops",
        "TcpExtTCPAbortOnClose",   // close() with unread data: RST instead of FIN
        "TcpExtTCPAbortOnData",
    };
    return names;
}

const std::vector<std::string>& syncookie_counters() {
    static const std::vector<std::string> names = {
        "TcpExtSyncookiesSent",        // SYN-ACKs answered with a cookie instead of a request sock
        "TcpExtSyncookiesRecv",        // ACKs that carried a valid cookie: a connection made from it
        "TcpExtSyncookiesFailed",      // ACKs whose cookie did not check out (stale, forged, or a plain
                                       // ACK while cookies were active)
        "TcpExtTCPReqQFullDoCookies",  // the SYN queue was full, so a cookie (tcp_syncookies=1)
        "TcpExtTCPReqQFullDrop",       // the SYN queue was full and cookies were off: the SYN dropped
        "TcpExtListenOverflows",       // a handshake completed into a full accept queue
        "TcpExtListenDrops",           // every SYN or ACK a listener dropped (overflows included)
        "TcpPassiveOpens",             // handshakes completed on a listener (cookie ones too)
        "TcpAttemptFails",             // SYN-SENT/SYN-RECV -> CLOSED: also request socks given up
    };
    return names;
}

std::vector<std::string> expand_counter_sets(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    auto add = [&](const std::string& n) {
        for (const std::string& o : out)
            if (o == n) return;
        out.push_back(n);
    };
    for (const std::string& n : names) {
        if (n == "churn") for (const std::string& c : churn_counters()) add(c);
        else if (n == "syncookies") for (const std::string& c : syncookie_counters()) add(c);
        else add(n);
    }
    return out;
}

NetstatReader::NetstatReader() {
    // Opened now, in whatever network namespace we are in: /proc/net is /proc/self/net, which resolves to
    // the namespace of the opening task, and the open file keeps it. So a watcher that setns()'d into a
    // lab host to open these reads that host's counters forever after, without switching again.
    netstat_ = open_proc("/proc/net/netstat", false);
    try {
        snmp_ = open_proc("/proc/net/snmp", false);
        snmp6_ = open_proc("/proc/net/snmp6", true);  // absent when IPv6 is disabled
    } catch (...) {
        ::close(netstat_);
        if (snmp_ >= 0) ::close(snmp_);
        throw;
    }
}

NetstatReader::~NetstatReader() {
    for (int fd : {netstat_, snmp_, snmp6_})
        if (fd >= 0) ::close(fd);
}

Counters NetstatReader::read() const {
    Counters c;
    // nstat's order: snmp (Ip, Icmp, Tcp, Udp), snmp6, then netstat (TcpExt, IpExt, ...).
    parse_snmp_pairs(read_proc_fd(snmp_, "/proc/net/snmp"), c);
    if (snmp6_ >= 0) parse_snmp6(read_proc_fd(snmp6_, "/proc/net/snmp6"), c);
    parse_snmp_pairs(read_proc_fd(netstat_, "/proc/net/netstat"), c);
    return c;
}

}  // namespace churn::probe
