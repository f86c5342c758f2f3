// nagle_render.cc: nagle.md's tables, the findings and nagle.gp; see nagle.h. Everything here reads
// NagleReport only, so it renders the same from a run's directory and from nagle.json (the evidence).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "report/nagle.h"
#include "report/table.h"

namespace churn::report {
namespace {

std::string s3(double x) { return format_sig(x, 3); }
std::string n(long x) { return std::to_string(x); }
// RTTs and the models' sums are whole ms as configured: "50", not "50.0".
std::string ms(double x) { return x == std::round(x) && std::fabs(x) < 1e9 ? std::to_string(static_cast<long>(x)) : s3(x); }

std::string pieces_text(const NagleCase& c) {
    const std::string p = c.pieces();
    if (p == "split") return "head, then body";
    if (p == "single") return "one piece";
    if (p == "pipeline") return (c.pipeline > 0 ? std::to_string(c.pipeline) : std::string("K")) + " whole requests back to back";
    return p;
}
std::string writes_text(const std::string& w) {
    if (w == "each") return "write() per piece";
    if (w == "gather") return "one writev()";
    if (w == "cork") return "TCP_CORK, write() per piece, uncork";
    if (w == "single") return "one write()";
    return w;
}
std::string stalls_cell(const WireStalls& w) {
    if (!w.count) return "— (no detector)";
    // The mean gap per stall: what each held-back segment waited for its ACK, where the capture saw it.
    return n(*w.count) + (w.total_ms && *w.count > 0 ? " (" + s3(*w.total_ms / static_cast<double>(*w.count)) + " ms each)" : "");
}
std::string not_run(const std::vector<const NagleCase*>& cs) {
    std::string out;
    for (const NagleCase* c : cs)
        if (!c->ran()) out += "- " + c->id + " (client " + (c->client_flags.empty() ? "defaults" : c->client_flags) + "; server " +
                              (c->server_flags.empty() ? "defaults" : c->server_flags) + "): " + c->status + ".\n";
    return out.empty() ? "" : "\n" + out;
}
const NagleCase* find_case(const NagleReport& rep, const std::string& id) {
    for (const NagleCase& c : rep.cases)
        if (c.id == id && c.ran()) return &c;
    return nullptr;
}
// Which model the measured extra lies nearer to; "both" where they coincide (RTT 0: 40 ms each).
std::string nearer(const SweepRow& r) {
    double e = r.extra_ms(), a = std::fabs(e - r.model_sum_ms()), b = std::fabs(e - r.model_max_ms());
    if (std::fabs(r.model_sum_ms() - r.model_max_ms()) < 1) return "both (equal here), off by " + s3(a) + " ms";
    return (a <= b ? "RTT + 40, off by " + s3(a) : "max(RTT, 40), off by " + s3(b)) + " ms";
}

}  // namespace

std::string render_nagle_table(const NagleReport& rep, const std::string& group) {
    std::vector<const NagleCase*> all;
    for (const NagleCase& c : rep.cases)
        if (c.group == group) all.push_back(&c);
    if (all.empty()) return "";
    bool resp = group == "resp";
    std::string md = std::string("| case | ") +
                     (resp ? "the server writes each response as" : group == "pipe" ? "the client writes each send as" : "the client writes each request as") +
                     " | with | Nagle on the " + (resp ? "server" : "client") + " | TCP_QUICKACK on the " + (resp ? "client" : "server") +
                     " | answered | p50 (ms) | p99 (ms) | max (ms) | req/s | exchange p50 (ms) | stalls on the wire |\n"
                     "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
    bool any = false;
    for (const NagleCase* c : all) {
        if (!c->ran()) continue;
        any = true;
        md += "| " + c->id + " | " + pieces_text(*c) + " | " + writes_text(c->writes()) + " | " +
              (c->writer_nagle() ? "on" : "off (TCP_NODELAY)") + " | " + (c->receiver_quickack() ? "yes, after every read" : "no") + " | " +
              n(c->ok) + " / " + n(c->scheduled) + " | " + s3(c->p50_ms) + " | " + s3(c->p99_ms) + " | " + s3(c->max_ms) + " | " +
              s3(c->rps) + " | " + s3(c->exchange_p50_ms) + " | " + stalls_cell(c->wire) + " |\n";
    }
    if (!any) return "No case of this kind ran.\n" + not_run(all);
    md += "\nEvery row replays the same trace (" + n(rep.trace_requests) + " " + (group == "pipe" ? "sends" : "requests") +
          ", trace.txt" + (group == "pipe" ? "; each send is that many requests, each counted" : "") + ") over one keep-alive connection, each in a fresh lab on the bare veth. Latency counts from each "
          "request's time in the trace (open loop: a request that waits behind a stalled one is charged the wait); an exchange "
          "runs from the request's first byte written to the response's last byte read. Stalls: churn-pcap decode's count on "
          "the whole run's capture (the server's veth), with the mean time from a held-back segment to its ACK.\n";
    return md + not_run(all);
}

std::string render_nagle_sweep(const NagleReport& rep) {
    std::vector<const NagleCase*> all;
    for (const NagleCase& c : rep.cases)
        if (c.group == "sweep") all.push_back(&c);
    if (all.empty()) return "";
    std::vector<SweepRow> rows = sweep_rows(rep);
    if (rows.empty()) return "No RTT has both its Nagle and its TCP_NODELAY case.\n" + not_run(all);
    bool qa = false;
    for (const SweepRow& r : rows) qa = qa || r.quickack;
    std::string md = std::string("| RTT (ms) | exchange p50: Nagle (ms) | exchange p50: TCP_NODELAY (ms) | ") +
                     (qa ? "exchange p50: Nagle + QUICKACK on the receiver (ms) | " : "") +
                     "extra per exchange (ms) | model RTT + 40 ms | model max(RTT, 40 ms) | nearer | stalls on the wire (Nagle) |\n"
                     "|---:|---:|---:|" + (qa ? "---:|" : "") + "---:|---:|---:|---|---:|\n";
    for (const SweepRow& r : rows) {
        md += "| " + ms(r.rtt_ms) + " | " + s3(r.nagle->exchange_p50_ms) + " | " + s3(r.nodelay->exchange_p50_ms) + " | " +
              (qa ? (r.quickack ? s3(r.quickack->exchange_p50_ms) : std::string("—")) + " | " : "") + s3(r.extra_ms()) + " | " +
              ms(r.model_sum_ms()) + " | " + ms(r.model_max_ms()) + " | " + nearer(r) + " | " + stalls_cell(r.nagle->wire) + " |\n";
    }
    md += "\nOver churn-link (the RTT split evenly between the two directions), the client writing each request as head, then "
          "body, with Nagle on or with TCP_NODELAY; each row a fresh lab replaying sweep-trace.txt (" + n(rep.sweep_trace_requests) +
          " requests). Extra per exchange: the Nagle case's exchange p50 minus the TCP_NODELAY case's. The models' 40 ms is "
          "TCP_DELACK_MIN, not a measurement. Stalls: churn-pcap on the client's TUN device (the writer's side), where a held-back segment waits one round trip plus the held ACK.\n";
    return md + not_run(all);
}

std::string render_nagle_findings(const NagleReport& rep) {
    std::string md;
    const NagleCase *rn = find_case(rep, "req-nagle"), *rd = find_case(rep, "req-nodelay");
    if (rn && rd)
        md += "- **The stall on the bare veth**: an exchange of req-nagle takes " + s3(rn->exchange_p50_ms) + " ms at p50, of req-nodelay " +
              s3(rd->exchange_p50_ms) + " ms: " + s3(rn->exchange_p50_ms - rd->exchange_p50_ms) +
              " ms held per exchange, against TCP_DELACK_MIN's 40 ms; latency p99 " + s3(rn->p99_ms) + " ms before, " + s3(rd->p99_ms) +
              " ms after, from the same trace.\n";
    const NagleCase *pn = find_case(rep, "resp-nagle"), *pd = find_case(rep, "resp-nodelay");
    if (pn && pd)
        md += "- **The same with the roles swapped** (the server splits its responses): " + s3(pn->exchange_p50_ms) + " ms against " +
              s3(pd->exchange_p50_ms) + " ms per exchange at p50.\n";
    const NagleCase *qn = find_case(rep, "pipe-nagle"), *qd = find_case(rep, "pipe-nodelay");
    if (qn && qd)
        md += "- **Pipelined whole requests** (" + pieces_text(*qn) + ", a write() each): " + s3(qn->exchange_p50_ms) + " ms with Nagle, " +
              s3(qd->exchange_p50_ms) + " ms with TCP_NODELAY per exchange at p50; " +
              (qn->wire.count ? n(*qn->wire.count) : std::string("?")) + " stalls on the wire with Nagle.\n";
    for (const NagleCase& c : rep.cases) {
        std::string line = "- **" + c.id + "**: ";
        if (!c.ran()) {
            md += line + c.status + ".\n";
            continue;
        }
        line += "the " + c.writer() + " writes " + pieces_text(c) + " with " + writes_text(c.writes()) + ", Nagle " +
                (c.writer_nagle() ? "on" : "off") + (c.receiver_quickack() ? ", TCP_QUICKACK on the receiver" : "") +
                (c.group == "sweep" ? ", RTT " + ms(c.rtt_ms) + " ms (" + c.path + ")" : std::string()) + ": " + n(c.ok) + " of " +
                n(c.scheduled) + " answered; latency p50 / p99 / max " + s3(c.p50_ms) + " / " + s3(c.p99_ms) + " / " + s3(c.max_ms) +
                " ms; exchange p50 " + s3(c.exchange_p50_ms) + " ms; " +
                (c.wire.count ? n(*c.wire.count) + " stalls on the wire" : std::string("no stall count (churn-pcap without the detector)"));
        md += line + ".\n";
    }
    if (rep.has_excerpt_nagle || rep.has_excerpt_nodelay)
        md += "- **The excerpts**: churn-pcap found " + (rep.excerpt_nagle.count ? n(*rep.excerpt_nagle.count) : std::string("?")) +
              " stalls in the Nagle capture and " + (rep.excerpt_nodelay.count ? n(*rep.excerpt_nodelay.count) : std::string("?")) +
              " in the TCP_NODELAY one.\n";
    return md;
}

std::string render_nagle_md(const NagleReport& rep) {
    std::string md = "## The Nagle + delayed-ACK stall\n";
    for (auto [title, body] : {std::pair{"The client splits its requests", render_nagle_table(rep, "req")},
                               std::pair{"The server splits its responses", render_nagle_table(rep, "resp")},
                               std::pair{"The client pipelines whole requests", render_nagle_table(rep, "pipe")},
                               std::pair{"Against the path's RTT", render_nagle_sweep(rep)}})
        if (!body.empty()) md += "\n### " + std::string(title) + "\n\n" + body;
    return md + "\n### Per case\n\n" + render_nagle_findings(rep);
}

std::string nagle_gnuplot(const NagleReport& rep) {
    std::vector<SweepRow> rows = sweep_rows(rep);
    std::ostringstream g;
    g << "# nagle.gp: the extra time per exchange that Nagle + the delayed ACK cost, against the path's RTT, beside\n"
      << "# the models RTT + 40 ms and max(RTT, 40 ms). Written by churn-report nagle; in the results directory:\n"
      << "# gnuplot nagle.gp -> nagle.svg\n";
    double xmax = 10, ymax = 50;
    bool qa = false;
    for (const SweepRow& r : rows) {
        xmax = std::max(xmax, r.rtt_ms), ymax = std::max({ymax, r.extra_ms(), r.model_sum_ms()});
        qa = qa || r.quickack;
    }
    g << "$extra << EOD\n";
    for (const SweepRow& r : rows) g << r.rtt_ms << " " << std::round(r.extra_ms() * 1000) / 1000 << "\n";
    g << "EOD\n";
    if (qa) {
        g << "$quickack << EOD\n";
        for (const SweepRow& r : rows)
            if (r.quickack) g << r.rtt_ms << " " << std::round((r.quickack->exchange_p50_ms - r.nodelay->exchange_p50_ms) * 1000) / 1000 << "\n";
        g << "EOD\n";
    }
    g << "set terminal svg size 900,420 dynamic enhanced font 'Helvetica,11' background rgb 'white'\nset output 'nagle.svg'\n"
      << "set title 'make run-nagle: extra time per exchange, split writes (exchange p50 minus TCP\\_NODELAY''s)'\n"
      << "set xlabel 'RTT of the path (ms, churn-link)'\nset ylabel 'extra time per exchange (ms)'\nset grid lc rgb '#dddddd'\n"
      << "set key top left box opaque\nset xrange [0:" << std::ceil(xmax * 1.05) << "]\nset yrange [0:" << std::ceil(ymax * 1.15) << "]\n"
      << "sum(x) = x + " << kDelackMinMs << "\nmx(x) = x > " << kDelackMinMs << " ? x : " << kDelackMinMs << "\nset samples 400\n";
    if (rows.empty()) {
        g << "set label 'no RTT sweep ran' at graph 0.4,0.5\nplot 1/0 notitle\n";
        return g.str();
    }
    g << "plot sum(x) with lines lw 2 dt 2 lc rgb '#1f77b4' title 'model: RTT + 40 ms', "
      << "mx(x) with lines lw 2 dt 3 lc rgb '#2ca02c' title 'model: max(RTT, 40 ms)', "
      << "$extra using 1:2 with linespoints lw 3 pt 7 ps 1.2 lc rgb '#d62728' title 'measured: Nagle on, split writes'";
    if (qa) g << ", $quickack using 1:2 with linespoints lw 2 pt 5 lc rgb '#9467bd' title 'measured: Nagle on, QUICKACK on the receiver'";
    g << "\n";
    return g.str();
}

}  // namespace churn::report
