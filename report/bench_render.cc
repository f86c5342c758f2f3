// bench_render.cc: bench.md and bench.json from a loaded Bench (bench.h).
//
// bench.md holds three tables: the rate of each side (req/s or conn/s), the CPU per unit of the side
// under test (with the other end's beside it), and the syscalls per unit of every process, next to the
// floor: one read and one write per request on a keep-alive connection.
#include <nlohmann/json.hpp>
#include <tuple>

#include "report/bench.h"
#include "report/table.h"

namespace churn::report {
namespace {

// "112306 (105000–118000)" or "-" when not measured; `sig` significant digits.
std::string cell(const Spread& s, int sig) {
    if (!s.n) return "-";
    std::string m = format_sig(s.median, sig);
    if (s.n == 1) return m;
    return m + " (" + format_sig(s.min, sig) + "–" + format_sig(s.max, sig) + ")";
}

std::string ratio_cell(double r) { return r > 0 ? format_sig(r, 3) + "x" : "-"; }

// The name of the `role` process on `side`, from the runs (cli_name=wrk, srv_name=nginx).
std::string proc_name(const BenchPair& p, const std::string& side, const std::string& role) {
    for (const BenchRun& r : p.runs) {
        if (r.side != side) continue;
        auto it = r.text.find(role + "_name");
        if (it != r.text.end()) return it->second;
    }
    return role == "cli" ? "client" : "server";
}

std::string other(const std::string& role) { return role == "cli" ? "srv" : "cli"; }

Spread steal(const BenchPair& p) {
    std::vector<double> v;
    for (const BenchRun& r : p.runs)
        if (auto it = r.keys.find("steal"); it != r.keys.end()) v.push_back(it->second * 100);
    return spread(v);
}

nlohmann::json spread_json(const Spread& s) {
    if (!s.n) return nullptr;
    return {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"n", s.n}};
}

constexpr Cost kSyscallCosts[] = {Cost::Syscalls, Cost::Reads,     Cost::Writes, Cost::EpollWaits,
                                  Cost::EpollCtls, Cost::Conn,     Cost::Other,  Cost::ProcIo,
                                  Cost::ReactorWaits};

// How busy process `role` was in the runs of `side`: CPU seconds over wall seconds, in %, from the runs
// that did not count syscalls. Near 100 %, that process set the pair's rate; the other end waited.
Spread busy(const BenchPair& p, const std::string& side, const std::string& role) {
    std::vector<double> v;
    for (const BenchRun& r : p.runs) {
        if (r.side != side || r.counted()) continue;
        auto cpu = r.keys.find(role + "_cpu_s"), wall = r.keys.find("wall_s");
        if (cpu == r.keys.end() || wall == r.keys.end() || wall->second <= 0) continue;
        v.push_back(100 * cpu->second / wall->second);
    }
    return spread(v);
}

// The floor: a pair whose peer is bench-floor (lab/bench_floor.cc: nothing but epoll_wait, read and write)
// next to a pair against the well-known peer on the same side: wrk for a client, nginx for a server. The
// peer's CPU per request divided by the floor's is the largest ratio ANY program could reach against that
// peer on this machine and kernel: the yardstick for pair 1's and pair 2's targets.
std::string render_floor(const Bench& b) {
    std::string out;
    for (const auto& [role, peer_name, who] : {std::tuple<std::string, std::string, std::string>{"cli", "wrk", "client"},
                                                {"srv", "nginx", "server"}}) {
        const BenchPair *floor = nullptr, *vs_peer = nullptr;
        for (const BenchPair& p : b.pairs) {
            if (p.tested != role) continue;
            std::string peer = proc_name(p, "peer", role);
            if (peer == "bench-floor") floor = &p;
            if (peer == peer_name) vs_peer = &p;
        }
        if (!floor || !vs_peer) continue;
        Spread f = floor->tested_cpu("peer"), ours = floor->tested_cpu("ours"), w = vs_peer->tested_cpu("peer");
        if (!f.n || !ours.n || !w.n || f.median <= 0) continue;
        std::string name = proc_name(*floor, "ours", role);
        out += "\n**The " + who + "'s floor.** bench-floor, which only waits, reads and writes, costs " +
               format_sig(f.median, 3) + " µs per request (pair " + floor->id + "), and " + peer_name + " " +
               format_sig(w.median, 3) + " (pair " + vs_peer->id + "): no " + who + " can be cheaper than " + peer_name +
               " by more than " + format_sig(w.median / f.median, 3) + "x on this machine. " + name + " costs " +
               format_sig(ours.median / f.median, 3) + "x the floor (pair " + floor->id + ").\n";
    }
    return out;
}

}  // namespace

std::string render_bench_table(const Bench& b) {
    std::string out = "| # | comparison | metric | churnlab, median (min–max) | peer, median (min–max) | ratio | target | |\n"
                      "|---|---|---|---:|---:|---:|---:|---|\n";
    for (const BenchPair& p : b.pairs) {
        out += "| " + p.id + " | " + p.label + " | " + p.metric + " | " + cell(spread(p.ours), 4) + " (n=" +
               std::to_string(p.ours.size()) + ") | " + cell(spread(p.peer), 4) + " (n=" + std::to_string(p.peer.size()) +
               ") | " + ratio_cell(p.ratio()) + " | " +
               (p.target > 0 ? ">= " + format_sig(p.target, 2) + "x | " + (p.met() ? "met" : "NOT met")
                             : std::string("- | reference")) +
               " |\n";
    }

    out += "\n**How busy each process was**: CPU seconds ÷ wall seconds of the run, in % of one CPU, medians. "
           "The process near 100 % sets its pair's rate; the other end waits for it.\n\n"
           "| # | with churnlab: client | server | with the peer: client | server |\n|---|---:|---:|---:|---:|\n";
    for (const BenchPair& p : b.pairs) {
        out += "| " + p.id;
        for (const char* side : {"ours", "peer"})
            for (const char* role : {"cli", "srv"}) {
                Spread s = busy(p, side, role);
                out += " | " + (s.n ? proc_name(p, side, role) + " " + format_sig(s.median, 3) + " %" : std::string("-"));
            }
        out += " |\n";
    }

    out += "\n**CPU µs per unit** (request, or connection for conn/s) of the side under test; ratio = peer ÷ churnlab, "
           "above 1 means churnlab is cheaper. The other end's CPU per unit is beside it.\n\n"
           "| # | side under test | churnlab | peer | ratio | target | | other end with churnlab | with peer | steal % |\n"
           "|---|---|---:|---:|---:|---:|---|---:|---:|---:|\n";
    for (const BenchPair& p : b.pairs) {
        std::string t = p.tested.empty() ? "?" : p.tested;
        std::string who = proc_name(p, "ours", t) + " vs " + proc_name(p, "peer", t);
        std::string target = p.target_cpu > 0 ? ">= " + format_sig(p.target_cpu, 2) + "x" : "-";
        std::string verdict = p.target_cpu <= 0 || p.cpu_ratio() <= 0 ? "" : (p.cpu_met() ? "met" : "NOT met");
        std::string o_ours = "-", o_peer = "-";
        if (!p.tested.empty()) {
            o_ours = proc_name(p, "ours", other(t)) + " " + cell(p.cost("ours", other(t), Cost::Cpu), 3);
            o_peer = proc_name(p, "peer", other(t)) + " " + cell(p.cost("peer", other(t), Cost::Cpu), 3);
        }
        out += "| " + p.id + " | " + who + " | " + cell(p.tested_cpu("ours"), 3) + " | " + cell(p.tested_cpu("peer"), 3) +
               " | " + ratio_cell(p.cpu_ratio()) + " | " + target + " | " + verdict + " | " + o_ours + " | " + o_peer +
               " | " + cell(steal(p), 2) + " |\n";
    }

    out += render_floor(b);

    out += "\n**Syscalls per unit**, medians. all: every syscall (perf, syscall tracepoints); read-like: read, readv, "
           "recvfrom, recvmsg; write-like: write, writev, sendto, sendmsg; conn: socket, connect, accept4, close, "
           "shutdown, set/getsockopt. syscr+syscw is /proc/PID/io, which leaves out recv*/send*. The floor on a "
           "keep-alive connection is one read and one write per request.\n\n"
           "| # | process | all | read-like | write-like | epoll_wait | epoll_ctl | conn | other | syscr+syscw | "
           "reactor's epoll_wait |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const BenchPair& p : b.pairs) {
        if (p.tested.empty()) continue;
        for (const char* side : {"ours", "peer"}) {
            for (const std::string& role : {p.tested, other(p.tested)}) {
                std::string name = proc_name(p, side, role);
                if (role != p.tested) name += " (under " + proc_name(p, side, p.tested) + ")";
                out += "| " + p.id + " | " + name;
                // Medians only here (the spread is in bench.json); "-" is "not measured", never zero.
                for (Cost c : kSyscallCosts) {
                    Spread s = p.cost(side, role, c);
                    out += " | " + (s.n ? format_sig(s.median, 3) : std::string("-"));
                }
                out += " |\n";
            }
        }
    }
    if (!b.notes.empty()) out += "\n";
    for (const std::string& n : b.notes) out += n + "\n";
    return out;
}

std::string bench_json(const Bench& b) {
    nlohmann::json j;
    j["pairs"] = nlohmann::json::array();
    for (const BenchPair& p : b.pairs) {
        nlohmann::json costs = nlohmann::json::object();
        for (const char* side : {"ours", "peer"}) {
            for (const char* role : {"cli", "srv"}) {
                nlohmann::json c = nlohmann::json::object();
                for (Cost k : {Cost::Cpu, Cost::Syscalls, Cost::Reads, Cost::Writes, Cost::EpollWaits, Cost::EpollCtls,
                               Cost::Conn, Cost::Other, Cost::ProcIo, Cost::ReactorWaits})
                    c[cost_name(k)] = spread_json(p.cost(side, role, k));
                costs[side][role] = c;
                costs[side][role]["name"] = proc_name(p, side, role);
            }
        }
        nlohmann::json runs = nlohmann::json::array();
        for (const BenchRun& r : p.runs) {
            nlohmann::json k = r.keys;
            for (const auto& [name, text] : r.text) k[name] = text;
            runs.push_back({{"side", r.side}, {"rate", r.rate}, {"units", r.units ? nlohmann::json(*r.units) : nullptr},
                            {"keys", k}});
        }
        j["pairs"].push_back({{"id", p.id}, {"label", p.label}, {"metric", p.metric}, {"tested", p.tested},
                              {"ours", p.ours}, {"peer", p.peer}, {"ours_median", p.ours_median()},
                              {"peer_median", p.peer_median()}, {"ratio", p.ratio()}, {"target", p.target},
                              {"met", p.met()}, {"cpu_us", {{"ours", spread_json(p.tested_cpu("ours"))},
                                                            {"peer", spread_json(p.tested_cpu("peer"))}}},
                              {"cpu_ratio", p.cpu_ratio()}, {"target_cpu", p.target_cpu}, {"cpu_met", p.cpu_met()},
                              {"costs", costs}, {"runs", runs}});
    }
    j["notes"] = b.notes;
    return j.dump(2) + "\n";
}

}  // namespace churn::report
