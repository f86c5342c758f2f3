// triage.h: the runbook's first minutes as one function over what the kernel said.
//
//   1. counts by state;
//   2. TIME-WAIT: which side closes first (TIME-WAIT sits on that side for 60 s), the busiest remote
//      endpoints, the connection rate that TIME-WAIT count implies (count / 60 s) against the ceiling
//      the port range allows per destination (ports / 60 s);
//   3. CLOSE-WAIT: the application never called close() after the peer's FIN; grouped by the owning
//      process, the one whose sockets have waited longest first;
//   4. the next rung of the fix ladder, with a one-line reason:
//        pool        reuse connections: no new handshake, no new TIME-WAIT
//        tw_reuse    net.ipv4.tcp_tw_reuse=1: connect() may take over a TIME-WAIT port
//        port_range  widen ip_local_port_range: a higher ceiling, same 60 s
//        msl         nothing shortens TIME-WAIT (60 s, compiled in): fewer connections or more destinations
//
// analyze() is pure (no syscalls), so the ladder's decisions are unit-tested on made-up inputs.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "probe/host.h"
#include "probe/owners.h"
#include "probe/states.h"

namespace churn::probe {

inline constexpr double kTimeWaitSeconds = 60;  // TCP_TIMEWAIT_LEN, include/net/tcp.h

struct CloseWaitSock {
    SockRecord rec;
    uint64_t idle_ms = 0;  // tcpi_last_ack_recv: since the peer last sent anything -- its FIN, here
};

struct TriageInput {
    StateCounts counts;
    std::vector<SockRecord> time_wait;       // every TIME-WAIT socket
    std::vector<CloseWaitSock> close_wait;   // every CLOSE-WAIT socket
    std::set<uint16_t> listen_ports;         // this host's listening ports
    NetSysctls sysctls;
    std::map<std::string, int64_t> counters; // nstat names
    OwnerScan owners;                        // for the CLOSE-WAIT inodes
    std::set<std::string> tried;             // rungs already taken (--tried)
    size_t top = 5;
};

struct TwEndpoint {
    std::string remote;
    uint64_t count = 0;
    double rate_per_s = 0;   // count / 60 s
    double fraction = 0;     // count / ports in range
};

struct CwOwner {
    int pid = 0;             // 0: no owner found (unreadable /proc, or gone)
    std::string comm;
    uint64_t count = 0;
    uint64_t oldest_idle_ms = 0;
    std::vector<CloseWaitSock> sockets;  // oldest first, at most `top`
};

struct Triage {
    StateCounts counts;
    NetSysctls sysctls;
    uint64_t tw = 0, tw_as_client = 0, tw_as_server = 0;
    double implied_rate_per_s = 0;   // TIME-WAIT as client / 60 s
    double ceiling_per_s = 0;        // ports / 60 s, per destination
    double busiest_fraction = 0;     // the busiest destination's TIME-WAIT / ports
    std::vector<TwEndpoint> top_remote;  // client-side TIME-WAIT by remote endpoint
    uint64_t close_wait = 0;
    std::vector<CwOwner> owners;     // oldest first
    size_t unreadable_processes = 0;
    std::string rung;                // pool | tw_reuse | port_range | msl | none
    std::string reason;
    std::vector<std::string> notes;
    std::map<std::string, int64_t> counters;  // the ones triage looked at
};

Triage analyze(const TriageInput& in);

nlohmann::ordered_json triage_json(const Triage& t);
std::string triage_text(const Triage& t);

}  // namespace churn::probe
