// synflood_render.cc: synflood.md's tables, the findings, the runbook's quote and synflood.gp; see
// synflood.h. Everything here reads SynCase only, so it renders the same from a run's directory and from
// synflood.json (the committed evidence).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "report/results.h"
#include "report/synflood.h"
#include "report/table.h"

namespace churn::report {
namespace {

std::string s3(double x) { return format_sig(x, 3); }
std::string n(long x) { return std::to_string(x); }
std::string pct(double x) { return format_sig(100 * x, 3) + " %"; }

std::vector<const SynCase*> of_kind(const std::vector<SynCase>& cases, const std::string& kind) {
    std::vector<const SynCase*> out;
    for (const SynCase& c : cases)
        if (c.kind == kind) out.push_back(&c);
    return out;
}
// "not run: needs X" cases of a kind, one line each under its table.
std::string not_run(const std::vector<const SynCase*>& cs) {
    std::string out;
    for (const SynCase* c : cs)
        if (!c->ran()) out += "- " + c->id + " (" + c->settings + "): " + c->status + ".\n";
    return out.empty() ? "" : "\n" + out;
}
// Connect times of the handshakes that completed: "—" when none did.
std::string connect_cell(const ClientView& v, bool with_p99 = true) {
    if (v.handshakes == 0) return "— (no handshake completed)";
    return s3(v.connect_p50_ms) + " / " + (with_p99 ? s3(v.connect_p99_ms) + " / " : "") + s3(v.connect_max_ms);
}
std::string options_text(const SynCase& c) {
    std::string o = std::string(c.opt_ts ? "ts " : "") + (c.opt_sack ? "sack " : "") + (c.opt_wscale ? "wscale " : "");
    return o.empty() ? "none" : o.substr(0, o.size() - 1);
}
std::string cross_cell(const CounterDeltas& d) {
    if (!d.present) return "—";
    if (d.disagree.empty()) return "agrees (" + n(static_cast<long>(d.probe.size())) + " counters)";
    return "DISAGREES: " + d.disagree.front() + (d.disagree.size() > 1 ? " (+" + n(static_cast<long>(d.disagree.size() - 1)) + ")" : "");
}
// Requests answered per second, averaged over whole seconds before accept() stopped and after it.
std::pair<double, double> ok_rate_around(const SynCase& c) {
    double stop = c.accept_stopped_at_s.value_or(0);
    double a = 0, b = 0;
    int na = 0, nb = 0;
    for (auto [t, ok] : c.cli.ok_per_second) {
        if (t <= std::floor(stop)) a += static_cast<double>(ok), ++na;
        else if (static_cast<double>(t) >= std::ceil(stop) + 1) b += static_cast<double>(ok), ++nb;
    }
    return {na ? a / na : 0, nb ? b / nb : 0};
}

}  // namespace

std::string render_syn_counters(const std::vector<SynCase>& cases) {
    auto all = of_kind(cases, "flood");
    std::vector<const SynCase*> cs;
    for (const SynCase* c : all)
        if (c->ran()) cs.push_back(c);
    if (all.empty()) return "";
    if (cs.empty()) return "No flood case ran.\n" + not_run(all);
    std::string md = "| server host |";
    std::string rule = "|---|";
    for (const SynCase* c : cs) md += " tcp_syncookies=" + n(c->syncookies) + " |", rule += "---:|";
    md += "\n" + rule + "\n";
    auto row = [&](const std::string& what, auto cell) {
        md += "| " + what + " |";
        for (const SynCase* c : cs) md += " " + cell(*c) + " |";
        md += "\n";
    };
    row("SYNs sent (churn-synflood), per second", [](const SynCase& c) { return s3(c.flood_sent) + " (" + s3(c.flood_achieved) + "/s)"; });
    row("SYN-RECV during the flood: median / peak (churn-probe watch)", [](const SynCase& c) { return s3(c.synrecv_median) + " / " + n(c.synrecv_peak); });
    row("SYN-RECV mid-flood: `ss` (churn-probe before / after)", [](const SynCase& c) {
        auto o = [](const std::optional<long>& v) { return v ? n(*v) : std::string("?"); };
        return o(c.synrecv_ss) + " (" + o(c.synrecv_probe_before) + " / " + o(c.synrecv_probe_after) + ")";
    });
    for (const std::string& k : syn_counters()) row(k, [&](const SynCase& c) { return n(c.server.get(k)); });
    row("`nstat -asz` cross-check", [](const SynCase& c) { return cross_cell(c.server); });
    const SynCase& f = *cs.front();
    md += "\nchurn-server --backlog " + n(f.backlog) + " (tcp_max_syn_backlog " + n(f.max_syn_backlog) + ", somaxconn " + n(f.somaxconn) +
          "), " + s3(f.flood_rate) + " spoofed SYN/s for " + s3(f.flood_duration_s) +
          " s, each setting in a fresh lab. Counter deltas over the whole case on the server host, by churn-probe nstat; "
          "`nstat -asz` was read between two churn-probe readings at both ends and must lie between them. SYN-RECV "
          "counts request sockets (TCP_NEW_SYN_RECV in the kernel); the median is over the samples from 2 s into the flood to its end.\n";
    return md + not_run(all);
}

std::string render_syn_clients(const std::vector<SynCase>& cases) {
    auto all = of_kind(cases, "flood");
    if (all.empty()) return "";
    std::string md = "| tcp_syncookies | answered / scheduled | success | handshakes | connect p50 / p99 / max (ms) | ETIMEDOUT | "
                     "unfinished | latency p99 (ms) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
    bool any = false;
    for (const SynCase* c : all) {
        if (!c->ran()) continue;
        any = true;
        const ClientView& v = c->cli;
        md += "| " + n(c->syncookies) + " | " + n(v.ok) + " / " + n(v.scheduled) + " | " + pct(v.success()) + " | " + n(v.handshakes) +
              " | " + connect_cell(v) + " | " + n(v.error("ETIMEDOUT")) + " | " + n(v.unfinished) + " | " + s3(v.latency_p99_ms) + " |\n";
    }
    if (!any) return "No flood case ran.\n" + not_run(all);
    md += "\nThe legitimate client: churn-client --mode churn at a fixed rate, from 1 s into the flood until 3 s before "
          "its end (what is still in flight then gets 2 s more, so every connect falls inside the flood). Connect times "
          "are those of the handshakes that completed; ETIMEDOUT counts the connects (or responses) that gave up at the "
          "client's --timeout, each then tried again; unfinished: still waiting when the client stopped.";
    const SynCase* f = nullptr;
    for (const SynCase* c : all)
        if (c->ran() && !f) f = c;
    // When a SYN is retransmitted is the client host's setting, and it sets the connect times a dropped SYN gets.
    if (f && f->syn_linear_timeouts >= 0) {
        std::string at, t;
        double rto = 1, when = 0;
        for (long k = 1; k <= std::min<long>(f->syn_retries, 6); ++k) {
            when += rto;
            at += (at.empty() ? "" : ", ") + s3(when);
            if (k > f->syn_linear_timeouts) rto *= 2;  // the first linear+1 RTOs are all the initial one
        }
        md += " The client host: tcp_syn_retries " + n(f->syn_retries) + ", tcp_syn_linear_timeouts " + n(f->syn_linear_timeouts) +
              ", so an unanswered SYN is sent again at " + at + " s after the first (the initial RTO of 1 s, doubled only after "
              "the linear ones).";
    }
    md += "\n";
    return md + not_run(all);
}

std::string render_syn_accept(const std::vector<SynCase>& cases) {
    auto all = of_kind(cases, "accept");
    if (all.empty()) return "";
    std::string md = "| backlog | accept() stopped at (s) | accepted | ListenOverflows | ListenDrops | answered / scheduled | "
                     "answered per s: before / after the stop | connect p50 / p99 / max (ms) | ETIMEDOUT |\n"
                     "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const SynCase* c : all) {
        if (!c->ran()) continue;
        auto [before, after] = ok_rate_around(*c);
        md += "| " + n(c->backlog) + " | " + (c->accept_stopped_at_s ? s3(*c->accept_stopped_at_s) : "never") + " | " + n(c->accepted) +
              " | " + n(c->server.get("TcpExtListenOverflows")) + " | " + n(c->server.get("TcpExtListenDrops")) + " | " + n(c->cli.ok) +
              " / " + n(c->cli.scheduled) + " | " + s3(before) + " / " + s3(after) + " | " + connect_cell(c->cli) + " | " +
              n(c->cli.error("ETIMEDOUT")) + " |\n";
    }
    return md + not_run(all);
}

std::string render_syn_rtt(const std::vector<SynCase>& cases) {
    auto all = of_kind(cases, "bulk");
    if (all.empty()) return "";
    std::string md = "| tcp_syncookies (server) | tcp_timestamps (client) | cookies sent / validated | options on the server's socket | "
                     "snd_wscale | snd_mss (client asked) | snd_wnd (B) | download (s) | throughput (kB/s) | 65535 B ÷ RTT (kB/s) |\n"
                     "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n";
    const SynCase* f = nullptr;
    for (const SynCase* c : all) {
        if (!c->ran()) continue;
        f = f ? f : c;
        std::string asked = c->mss_asked ? n(c->mss_asked) : "default";
        md += "| " + n(c->syncookies) + " | " + n(c->timestamps) + " | " + n(c->server.get("TcpExtSyncookiesSent")) + " / " +
              n(c->server.get("TcpExtSyncookiesRecv")) + " | " + (c->has_info ? options_text(*c) : "not read") + " | " +
              (c->has_info ? n(c->snd_wscale) : "—") + " | " + (c->has_info ? n(c->snd_mss) : "—") + " (" + asked + ") | " +
              (c->has_info ? n(c->snd_wnd) : "—") + " | " + (c->cli.ok ? s3(c->cli.request_p50_ms / 1000) : "failed") + " | " +
              (c->cli.ok ? s3(c->throughput_kBps()) : "—") + " | " + s3(c->window_cap_kBps()) + " |\n";
    }
    if (f)
        md += "\nOne " + n(f->body_bytes) + "-byte download per row over churn-link, RTT " + s3(f->rtt_ms) +
              " ms, each row in a fresh lab. tcp_info of the server's accepted socket (churn-probe info, 1 s into the "
              "transfer): snd_wscale is the client's window scale as the server uses it; snd_mss is the segment size the "
              "server sends (less 12 B when timestamps are on); snd_wnd the client's window as the server sees it. "
              "Download: from the request sent to the last byte (churn-client request time).\n";
    return md + not_run(all);
}

std::string render_syn_synack(const std::vector<SynCase>& cases) {
    auto all = of_kind(cases, "synack");
    if (all.empty()) return "";
    std::string md = "| SYN-ACKs dropped per flow | tcp_syncookies | connects completed | connect p50 / max (ms) | SYN-ACKs the link dropped | "
                     "server: SYN-ACK retransmits | client: SYN retransmits | cookies sent / validated |\n"
                     "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    const SynCase* f = nullptr;
    for (const SynCase* c : all) {
        if (!c->ran()) continue;
        f = f ? f : c;
        md += "| " + n(c->drop_synack) + " | " + n(c->syncookies) + " | " + n(c->cli.handshakes) + " | " + connect_cell(c->cli, false) + " | " +
              (c->link_dropped_synack ? n(*c->link_dropped_synack) : "?") + " | " + n(c->server.get("TcpExtTCPSynRetrans")) + " | " +
              (c->client.present ? n(c->client.get("TcpExtTCPSynRetrans")) : "—") + " | " + n(c->server.get("TcpExtSyncookiesSent")) +
              " / " + n(c->server.get("TcpExtSyncookiesRecv")) + " |\n";
    }
    if (f)
        md += "\nThe same path (RTT " + s3(f->rtt_ms) + " ms); churn-link drops the first SYN-ACK(s) of every flow; " +
              n(f->cli.scheduled) + " connections opened at once per row. Retransmits: TcpExtTCPSynRetrans on each host "
              "(the server's are SYN-ACKs, the client's SYNs).\n";
    return md + not_run(all);
}

std::string render_syn_findings(const std::vector<SynCase>& cases) {
    std::string md;
    for (const SynCase& c : cases) {
        std::string line = "- **" + c.id + "**: ";
        if (!c.ran()) {
            md += line + c.status + ".\n";
            continue;
        }
        const ClientView& v = c.cli;
        std::string client = n(v.ok) + " of " + n(v.scheduled) + " requests answered (" + pct(v.success()) + "), connect p50 / p99 " +
                             (v.handshakes ? s3(v.connect_p50_ms) + " / " + s3(v.connect_p99_ms) + " ms" : "— (no handshake completed)") +
                             ", " + n(v.error("ETIMEDOUT")) + " gave up (ETIMEDOUT)";
        if (c.kind == "flood") {
            line += "tcp_syncookies=" + n(c.syncookies) + ": SYN-RECV median " + s3(c.synrecv_median) + " (peak " + n(c.synrecv_peak) +
                    ", backlog " + n(c.backlog) + "); " + n(c.server.get("TcpExtSyncookiesSent")) + " cookies sent, " +
                    n(c.server.get("TcpExtSyncookiesRecv")) + " came back valid; " + n(c.server.get("TcpExtTCPReqQFullDrop")) +
                    " SYNs dropped with the queue full (TcpExtTCPReqQFullDrop), ListenDrops " + n(c.server.get("TcpExtListenDrops")) +
                    "; the legitimate client: " + client;
        } else if (c.kind == "accept") {
            auto [before, after] = ok_rate_around(c);
            line += "accept() stopped " + (c.accept_stopped_at_s ? "at " + s3(*c.accept_stopped_at_s) + " s" : std::string("never")) +
                    " after " + n(c.accepted) + " accepted; ListenOverflows " + n(c.server.get("TcpExtListenOverflows")) + ", ListenDrops " +
                    n(c.server.get("TcpExtListenDrops")) + "; answered per second " + s3(before) + " before, " + s3(after) + " after; " + client;
        } else if (c.kind == "bulk") {
            line += "tcp_syncookies=" + n(c.syncookies) + ", client tcp_timestamps=" + n(c.timestamps) + ": " +
                    (c.has_info ? "options " + options_text(c) + ", snd_wscale " + n(c.snd_wscale) + ", snd_mss " + n(c.snd_mss) +
                                      (c.mss_asked ? " (asked " + n(c.mss_asked) + ")" : "")
                                : std::string("tcp_info not read")) +
                    "; " + (v.ok ? n(c.body_bytes) + " B in " + s3(v.request_p50_ms / 1000) + " s = " + s3(c.throughput_kBps()) + " kB/s, " +
                                       s3(c.throughput_kBps() / c.window_cap_kBps()) + " × the 65535 B ÷ RTT cap"
                                 : std::string("the download failed"));
        } else {
            line += "first " + n(c.drop_synack) + " SYN-ACK(s) of each flow dropped, tcp_syncookies=" + n(c.syncookies) + ": " +
                    n(v.handshakes) + " connects, p50 " + (v.handshakes ? s3(v.connect_p50_ms) + " ms" : std::string("—")) +
                    "; the server retransmitted " + n(c.server.get("TcpExtTCPSynRetrans")) + " SYN-ACKs, the client " +
                    (c.client.present ? n(c.client.get("TcpExtTCPSynRetrans")) : std::string("?")) + " SYNs";
        }
        if (!c.server.disagree.empty() || !c.client.disagree.empty()) line += "; COUNTER CROSS-CHECK FAILED (see the counters table)";
        md += line + ".\n";
    }
    return md;
}

std::string render_syn_quote(const std::vector<SynCase>& cases) {
    std::string q;
    const SynCase* any = nullptr;
    for (const SynCase* c : of_kind(cases, "flood")) {
        if (!c->ran()) continue;
        any = any ? any : c;
        q += std::string(q.empty() ? "" : "; ") + "tcp_syncookies=" + n(c->syncookies) + ": SYN-RECV " + s3(c->synrecv_median) +
             ", SyncookiesSent " + n(c->server.get("TcpExtSyncookiesSent")) + ", ReqQFullDrop " + n(c->server.get("TcpExtTCPReqQFullDrop")) +
             ", ListenDrops " + n(c->server.get("TcpExtListenDrops")) + ", the client's connects " +
             (c->cli.handshakes ? "p99 " + s3(c->cli.connect_p99_ms) + " ms" : std::string("none completed")) + " (" + pct(c->cli.success()) +
             " answered)";
    }
    if (!any) throw ReportError("synflood.quote: no flood case ran in the evidence");
    return "> Measured (`make run-synflood`, " + s3(any->flood_rate) + " spoofed SYN/s at a listener with backlog " + n(any->backlog) +
           "): " + q + ".\n";
}

std::string render_synflood_md(const std::vector<SynCase>& cases) {
    std::string md = "## SYN floods and SYN cookies\n";
    for (auto [title, body] : {std::pair{"The flood: server counters per tcp_syncookies setting", render_syn_counters(cases)},
                               std::pair{"The legitimate client during the flood", render_syn_clients(cases)},
                               std::pair{"Accept queue overflow", render_syn_accept(cases)},
                               std::pair{"Long RTT: what a cookie costs the client", render_syn_rtt(cases)},
                               std::pair{"A lost SYN-ACK", render_syn_synack(cases)}})
        if (!body.empty()) md += "\n### " + std::string(title) + "\n\n" + body;
    return md + "\n### Per case\n\n" + render_syn_findings(cases);
}

std::string synflood_gnuplot(const std::vector<SynCase>& cases) {
    std::vector<const SynCase*> cs;
    for (const SynCase* c : of_kind(cases, "flood"))
        if (c->ran() && !c->synrecv_series.empty()) cs.push_back(c);
    std::ostringstream g;
    g << "# synflood.gp: SYN-RECV on the server host against time, one line per tcp_syncookies setting.\n"
      << "# Written by churn-report synflood; run in the results directory: gnuplot synflood.gp -> synrecv.svg\n";
    double ymax = 1, tmax = 1, flood = 0;
    for (const SynCase* c : cs) {
        flood = std::max(flood, c->flood_duration_s);
        for (auto [t, v] : c->synrecv_series) ymax = std::max(ymax, v), tmax = std::max(tmax, t);
    }
    for (size_t k = 0; k < cs.size(); ++k) {
        g << "$s" << k << " << EOD\n";
        for (auto [t, v] : cs[k]->synrecv_series) g << std::round(t * 1000) / 1000 << " " << v << "\n";  // ms resolution, no trailing zeros
        g << "EOD\n";
    }
    g << "set terminal svg size 900,420 dynamic enhanced font 'Helvetica,11' background rgb 'white'\nset output 'synrecv.svg'\n"
      << "set title 'make run-synflood: SYN-RECV on the server host (churn-probe watch, every 100 ms)'\n"
      << "set xlabel 'seconds since the flood started'\nset ylabel 'sockets in SYN-RECV'\nset grid lc rgb '#dddddd'\n"
      << "set key center center box opaque\nset xrange [-1:" << std::ceil(tmax) << "]\nset yrange [0:" << std::ceil(ymax * 1.2) << "]\n";
    if (flood > 0) g << "set arrow from " << flood << ",0 to " << flood << "," << std::ceil(ymax * 1.2) << " nohead dt 2 lc rgb '#888888'\n";
    if (cs.empty()) {
        g << "set label 'no flood case ran' at graph 0.4,0.5\nplot 1/0 notitle\n";
        return g.str();
    }
    // Two settings can sit on the same line (1 and 0 both hold the queue at the backlog): the first drawn
    // is the widest, each later one thinner and dashed, so every line stays visible where they overlap.
    const char* colors[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd"};
    g << "plot ";
    for (size_t k = 0; k < cs.size(); ++k)
        g << (k ? ", " : "") << "$s" << k << " using 1:2 with steps lw " << (k < 3 ? 5 - 1.5 * static_cast<double>(k) : 1) << " dt " << k + 1
          << " lc rgb '" << colors[k % 4] << "' title 'tcp\\_syncookies=" << cs[k]->syncookies << "'";
    g << "\n";
    return g.str();
}

}  // namespace churn::report
