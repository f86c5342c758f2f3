// netstat.h: the kernel's SNMP and extended TCP counters under nstat's names.
//
// /proc/net/snmp and /proc/net/netstat come as pairs of lines, a header of names and a line of values,
// each starting with the group:
//
//   TcpExt: SyncookiesSent SyncookiesRecv ... TW TWRecycled ...
//   TcpExt: 0 0 ... 155459 7938 ...
//
// nstat names a counter group + name: TcpExtTW, TcpExtTWRecycled, TcpActiveOpens, IpExtInOctets.
// /proc/net/snmp6 is already one "Ip6InReceives  3" per line. We read all three, like nstat.
//
// nstat leaves out seven numbers that are settings or gauges rather than counters (IpForwarding,
// IpDefaultTTL, TcpRtoAlgorithm, TcpRtoMin, TcpRtoMax, TcpMaxConn, TcpCurrEstab); we keep them, and
// is_gauge() says which they are, so deltas skip them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace churn::probe {

struct Counter {
    std::string name;
    int64_t value = 0;  // Tcp MaxConn is -1; every real counter fits easily
};

struct Counters {
    std::vector<Counter> list;  // in file order (snmp, snmp6, netstat), as nstat prints them
    size_t malformed = 0;       // lines skipped: a header without its values, counts that differ, non-numbers

    std::optional<int64_t> get(std::string_view name) const;
    std::map<std::string, int64_t> as_map() const;
};

// Parse the pairs-of-lines format of /proc/net/netstat and /proc/net/snmp, appending to `out`.
void parse_snmp_pairs(std::string_view text, Counters& out);
// Parse /proc/net/snmp6 ("Name value" per line), appending to `out`.
void parse_snmp6(std::string_view text, Counters& out);

bool is_gauge(std::string_view name);

// The counters that tell the churn story, in the order watch and triage print them.
const std::vector<std::string>& churn_counters();
// A SYN flood and the listener's answers to it: cookies sent/accepted, queues full, handshakes done.
const std::vector<std::string>& syncookie_counters();
// --counters / nstat NAME lists: the set names "churn" and "syncookies" become their counters (in the
// set's order, each name once); everything else ("all", a counter name, TcpExt*) passes unchanged.
std::vector<std::string> expand_counter_sets(const std::vector<std::string>& names);

// Open fds on /proc/net/{netstat,snmp,snmp6} in the current network namespace; read() re-reads them.
class NetstatReader {
public:
    NetstatReader();  // throws ProbeError naming the file it cannot open
    ~NetstatReader();
    NetstatReader(const NetstatReader&) = delete;
    NetstatReader& operator=(const NetstatReader&) = delete;

    Counters read() const;

private:
    int netstat_ = -1, snmp_ = -1, snmp6_ = -1;  // snmp6 is -1 when IPv6 is disabled
};

}  // namespace churn::probe
