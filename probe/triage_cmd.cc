// triage_cmd.cc: `churn-probe triage`: gather what analyze() needs from one host, print the verdict.
#include <iostream>

#include "loop/clock.h"
#include "probe/commands.h"
#include "probe/sample.h"
#include "probe/tcp_info.h"
#include "probe/triage.h"

namespace churn::probe {

int run_triage(const TriageArgs& a) {
    auto host = open_single_host(a.common);
    uint64_t now = mono_ns();
    TriageInput in;
    in.top = a.top;
    in.tried.insert(a.tried.begin(), a.tried.end());

    // One dump of every state: counts, the TIME-WAIT sockets (who, to where), the listening ports.
    host->each_socket(kAllStates, Filter{}, 0, [&](const SockRecord& r, const DiagMessage*) {
        in.counts.add(r.state);
        if (r.state == kTimeWait) in.time_wait.push_back(r);
        if (r.state == kListen) in.listen_ports.insert(r.sport);
    });

    // CLOSE-WAIT again, with tcp_info this time: tcpi_last_ack_recv is how long ago the peer last sent
    // anything, which for a CLOSE-WAIT socket is its FIN (it has nothing more to say). That is the age
    // we sort by. Over /proc there is no tcp_info: the ages stay 0 and the order is the kernel's.
    if (in.counts[kCloseWait] > 0) {
        uint8_t ext = host->source() == Source::Netlink ? kExtInfo : 0;
        host->each_socket(state_bit(kCloseWait), Filter{}, ext, [&](const SockRecord& r, const DiagMessage* m) {
            in.close_wait.push_back({r, m ? decode_conn(*m).last_ack_recv_ms : 0});
        });
        std::unordered_set<uint64_t> inodes;
        for (const CloseWaitSock& s : in.close_wait)
            if (s.rec.inode) inodes.insert(s.rec.inode);
        in.owners = find_owners(inodes);
    }
    in.sysctls = host->sysctls();
    in.counters = host->counters().as_map();
    Triage t = analyze(in);

    if (a.common.json) {
        nlohmann::ordered_json j = sample_header(*host, now);
        nlohmann::ordered_json body = triage_json(t);
        for (auto it = body.begin(); it != body.end(); ++it) j[it.key()] = *it;
        std::cout << j.dump() << "\n";
        return 0;
    }
    std::cout << "churn-probe triage: " << (host->netns().empty() ? "this host" : "netns " + host->netns()) << " ("
              << source_name(host->source()) << "), " << wall_now() << "\n";
    std::cout << triage_text(t);
    return 0;
}

}  // namespace churn::probe
