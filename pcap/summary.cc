// summary.cc: totals, JSON and the table for `churn-pcap decode`.
#include "pcap/summary.h"

#include "pcap/json_line.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace churn::pcap {

namespace {

constexpr int64_t timeline_limit_s = 86400;

Percentiles percentiles(std::vector<int64_t> v) {
    Percentiles p;
    p.n = v.size();
    if (v.empty()) return p;
    std::sort(v.begin(), v.end());
    // Nearest rank: the smallest value with at least q% of the samples at or below it.
    auto at = [&](double q) { size_t k = static_cast<size_t>(q / 100.0 * v.size() + 0.999999); return v[k ? k - 1 : 0]; };
    p.p50 = at(50);
    p.p90 = at(90);
    p.p99 = at(99);
    p.max = v.back();
    return p;
}

nlohmann::ordered_json pct_json(const Percentiles& p) {
    if (!p.n) return nullptr;
    return {{"n", p.n}, {"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"max", p.max}};
}

// What both ends agreed on. Window scaling, SACK and timestamps are in effect only when the SYN offered
// them AND the SYN-ACK answered with them (RFC 7323 2.2, RFC 2018); each side then sends segments no
// larger than the MSS the OTHER side announced, so the smaller of the two bounds both directions.
struct Negotiated {
    bool known;
    int32_t mss;
    bool wscale, sack, timestamps;
};
Negotiated negotiated(const Flow& f) {
    Negotiated n{f.opt_seen[client] && f.opt_seen[server], -1, false, false, false};
    const TcpOptions &c = f.opt[client], &s = f.opt[server];
    if (c.mss >= 0 && s.mss >= 0) n.mss = std::min(c.mss, s.mss);
    else n.mss = std::max(c.mss, s.mss);
    n.wscale = c.wscale >= 0 && s.wscale >= 0;
    n.sack = c.sack_ok && s.sack_ok;
    n.timestamps = c.timestamps && s.timestamps;
    return n;
}

const char* closed_by_name(const Flow& f) {
    return f.closed_by < 0 ? nullptr : f.closed_by == client ? "client" : "server";
}

}  // namespace

Totals summarize(const Capture& cap) {
    Totals t;
    std::vector<int64_t> irtt, synack;
    for (const Flow& f : cap.table.flows()) {
        ++t.connections;
        if (f.handshake()) {
            ++t.handshakes;
            irtt.push_back(us(f.irtt_ns));
            // Seconds since the first record. Timestamps come from the file and need not be monotonic (a
            // corrupt record, a clock step during the capture): a SYN before the first record or more than a
            // day after it is left out of the timeline rather than allowed to size it.
            int64_t since = f.syn_ns - cap.first_ns;
            if (since >= 0 && since < timeline_limit_s * 1'000'000'000) {
                size_t sec = static_cast<size_t>(since / 1'000'000'000);
                if (t.timeline.size() <= sec) t.timeline.resize(sec + 1, 0);
                ++t.timeline[sec];
            }
        } else if (f.syns) {
            ++t.syn_without_handshake;
        } else {
            ++t.already_open;
        }
        if (f.syns && f.synacks) synack.push_back(us(f.synack_ns - f.syn_ns));
        t.requests += f.requests;
        t.reused_requests += f.reused_requests();
        if (f.reset) ++t.resets;
        else if (f.closed_by == client) ++t.closed_by_client;
        else if (f.closed_by == server) ++t.closed_by_server;
        if (f.syns > 1) t.syn_retransmits += f.syns - 1;
        switch (cookie_facts(f, cap.last_ns).verdict) {
            case Cookie::likely: ++t.cookie_likely; break;
            case Cookie::no: ++t.cookie_no; break;
            case Cookie::unknown: ++t.cookie_unknown; break;
        }
        if (!f.stall.found.empty()) {  // only candidates can become stalls: skip the facts for the rest
            StallFacts sf = stall_facts(f);
            t.stalls += sf.stalls.size();
            t.stall_flows += !sf.stalls.empty();
            t.stall_ns += sf.total_gap_ns;
        }
    }
    if (cap.first_ns >= 0) t.duration_s = (cap.last_ns - cap.first_ns) / 1e9;
    t.handshakes_per_s = t.duration_s > 0 ? t.handshakes / t.duration_s : 0;
    t.irtt = percentiles(std::move(irtt));
    t.syn_synack = percentiles(std::move(synack));
    return t;
}

int64_t median_irtt_us(const Capture& cap) {
    std::vector<int64_t> v;
    for (const Flow& f : cap.table.flows())
        if (f.handshake()) v.push_back(us(f.irtt_ns));
    return v.empty() ? -1 : percentiles(std::move(v)).p50;
}

nlohmann::ordered_json to_json(const Capture& cap, const Totals& t, bool with_flows) {
    if (with_flows) return to_json_with_flows(cap, t);
    using J = nlohmann::ordered_json;
    J undecodable = J::object(), notes = J::object();
    for (int i = 0; i < issue_count; ++i) {
        Issue is = static_cast<Issue>(i);
        if (!cap.issues[is]) continue;
        (is_undecodable(is) ? undecodable : notes)[issue_name(is)] = cap.issues[is];
    }
    // A plain array, one number per second: a capture spanning hours (or a corrupt timestamp a day away)
    // stays a few hundred KB, where an object per second would be ten times that.
    J timeline = t.timeline;
    J out = {
        {"file",
         {{"path", cap.path},
          {"linktype", linktype_name(cap.header.linktype)},
          {"linktype_number", cap.header.linktype},
          {"precision", cap.header.nanosecond ? "ns" : "us"},
          {"snaplen", cap.header.snaplen},
          {"bytes", cap.bytes},
          {"records", cap.records},
          {"tcp_segments", cap.tcp_segments},
          {"duration_s", t.duration_s}}},
        {"totals",
         {{"connections", t.connections},
          {"handshakes", t.handshakes},
          {"syn_without_handshake", t.syn_without_handshake},
          {"already_open", t.already_open},
          {"requests", t.requests},
          {"reused_requests", t.reused_requests},
          {"closed_by_client", t.closed_by_client},
          {"closed_by_server", t.closed_by_server},
          {"resets", t.resets},
          {"syn_retransmits", t.syn_retransmits},
          {"handshakes_per_s", t.handshakes_per_s},
          {"irtt_us", pct_json(t.irtt)},
          {"syn_synack_us", pct_json(t.syn_synack)},
          {"syn_cookies", {{"likely", t.cookie_likely}, {"no", t.cookie_no}, {"unknown", t.cookie_unknown}}},
          {"stalls", t.stalls},
          {"stall_flows", t.stall_flows},
          {"stall_ms", std::round(t.stall_ns / 1e3) / 1e3}}},
        {"handshakes_per_second", timeline},
        {"undecodable", undecodable},
        {"decoded_with", notes},
    };
    return out;
}

namespace {

void side_json(JsonLine& j, const Flow& f, Side s) {
    if (!f.opt_seen[s]) {
        j.null(s == client ? "client" : "server");
        return;
    }
    const TcpOptions& o = f.opt[s];
    j.open(s == client ? "client" : "server")
        .num_or_null("mss", o.mss)
        .num_or_null("wscale", o.wscale)
        .boolean("sack", o.sack_ok)
        .boolean("timestamps", o.timestamps)
        .close();
}

// One flow, one line: see summary.h for the fields. Times inside the flow count from its first packet.
void flow_json(std::string& out, const Flow& f, int64_t capture_start_ns, int64_t capture_end_ns) {
    Negotiated n = negotiated(f);
    bool hs = f.handshake();
    auto rel_us = [&](int64_t ns) { return ns < 0 ? int64_t{-1} : us(ns - f.first_ns); };
    JsonLine j(out);
    j.open()
        .num("index", f.index)
        .str("client", endpoint_str(f.key, end_of(f, client)))
        .str("server", endpoint_str(f.key, end_of(f, server)))
        .boolean("client_guessed", f.client_guessed)
        .num("start_us", us(f.first_ns - capture_start_ns))
        .num("packets", f.packets)
        .num_or_null("syn_us", rel_us(f.syn_ns))
        .num_or_null("synack_us", rel_us(f.synack_ns))
        .num_or_null("ack_us", hs ? rel_us(f.ack_ns) : -1)
        .num_or_null("syn_synack_us", f.syns && f.synacks ? us(f.synack_ns - f.syn_ns) : -1)
        .num_or_null("irtt_us", hs ? us(f.irtt_ns) : -1)
        .num("syn_retransmits", f.syns > 1 ? f.syns - 1 : 0)
        .num("synack_retransmits", f.synacks > 1 ? f.synacks - 1 : 0)
        .num_or_null("mss", n.known ? n.mss : -1);
    // In effect: the shift counts of both sides; false: not negotiated; null: handshake not captured.
    if (!n.known) j.null("wscale");
    else if (!n.wscale) j.boolean("wscale", false);
    else j.open("wscale").num("client", f.opt[client].wscale).num("server", f.opt[server].wscale).close();
    if (n.known) j.boolean("sack", n.sack).boolean("timestamps", n.timestamps);
    else j.null("sack").null("timestamps");
    j.open("options");
    side_json(j, f, client);
    side_json(j, f, server);
    CookieFacts cf = cookie_facts(f, capture_end_ns);
    j.close()
        .str("cookie", cookie_name(cf.verdict))
        .open("largest_segment").num("client", f.cookie.largest[client]).num("server", f.cookie.largest[server]).close()
        .num_or_null("server_mss", cf.server_mss)
        .num_or_null("request_us", rel_us(f.request_ns))
        .num_or_null("response_us", rel_us(f.response_ns))
        .num("requests", f.requests)
        .num("responses", f.responses)
        .num("reused_requests", f.reused_requests())
        .open("bytes").num("client", static_cast<int64_t>(f.bytes[client])).num("server", static_cast<int64_t>(f.bytes[server])).close();
    if (f.closed_by < 0) j.null("closed_by").null("close");
    else j.str("closed_by", closed_by_name(f)).str("close", f.reset ? "rst" : "fin");
    j.num_or_null("close_us", rel_us(f.close_ns)).num("last_us", us(f.last_ns - f.first_ns));
    StallFacts sf = stall_facts(f);
    j.num("stalls", static_cast<int64_t>(sf.stalls.size()))
        .milli("stall_ms", us(sf.total_gap_ns))
        .open("stall_mss").num("client", sf.mss[client]).num("server", sf.mss[server]).close()
        .open("stall_mss_from").str("client", mss_from_name(sf.from[client])).str("server", mss_from_name(sf.from[server])).close()
        .open_array("stall_acks");
    for (const Stall& x : sf.stalls) {
        j.open()
            .str("writer", x.c.writer == client ? "client" : "server")
            .num("ack_us", us(x.c.ack_ns - capture_start_ns))
            .num("gap_us", us(x.gap_ns))
            .num_or_null("hold_us", x.hold_ns < 0 ? -1 : us(x.hold_ns))
            .num("after_us", us(x.after_ns))
            .close();
    }
    j.close_array().close();
}

}  // namespace

std::string json_text(const Capture& cap, const Totals& t, bool with_flows) {
    std::string s = to_json(cap, t, false).dump(1);
    if (!with_flows) return s + "\n";
    // The head ends with "\n}": reopen it and append the flows, one per line (grep- and diff-friendly).
    s.resize(s.size() - 2);
    s += ",\n \"flows\": [";
    s.reserve(s.size() + cap.table.flows().size() * 700);
    bool first = true;
    for (const Flow& f : cap.table.flows()) {
        s += first ? "\n  " : ",\n  ";
        first = false;
        flow_json(s, f, cap.first_ns, cap.last_ns);
    }
    s += first ? "]\n}\n" : "\n ]\n}\n";
    return s;
}

nlohmann::ordered_json to_json_with_flows(const Capture& cap, const Totals& t) {
    return nlohmann::ordered_json::parse(json_text(cap, t, true));
}

void print_table(std::FILE* out, const Capture& cap, const Totals& t, bool summary_only) {
    std::fprintf(out, "%s: %s, %s timestamps, snaplen %u, %llu records (%llu TCP) over %.3f s\n", cap.path.c_str(),
                 linktype_name(cap.header.linktype), cap.header.nanosecond ? "ns" : "µs", cap.header.snaplen,
                 (unsigned long long)cap.records, (unsigned long long)cap.tcp_segments, t.duration_s);
    std::fprintf(out,
                 "  connections   %llu: %llu handshakes, %llu SYN without a complete handshake, %llu already open "
                 "(no SYN)\n",
                 (unsigned long long)t.connections, (unsigned long long)t.handshakes,
                 (unsigned long long)t.syn_without_handshake, (unsigned long long)t.already_open);
    std::fprintf(out, "  requests      %llu, %llu of them on reused connections (no handshake of their own)\n",
                 (unsigned long long)t.requests, (unsigned long long)t.reused_requests);
    std::fprintf(out, "  handshakes/s  %.1f on the wire", t.handshakes_per_s);
    if (!t.timeline.empty()) {
        std::fprintf(out, "; per second:");
        size_t show = std::min<size_t>(t.timeline.size(), 20);
        for (size_t s = 0; s < show; ++s) std::fprintf(out, " %u", t.timeline[s]);
        if (show < t.timeline.size()) std::fprintf(out, " ...");
    }
    std::fputc('\n', out);
    if (t.irtt.n)
        std::fprintf(out, "  iRTT          p50 %lld µs  p90 %lld  p99 %lld  max %lld (SYN -> ACK, Wireshark's initial_rtt)\n",
                     (long long)t.irtt.p50, (long long)t.irtt.p90, (long long)t.irtt.p99, (long long)t.irtt.max);
    if (t.syn_synack.n)
        std::fprintf(out, "  SYN->SYN-ACK  p50 %lld µs  p90 %lld  p99 %lld  max %lld\n", (long long)t.syn_synack.p50,
                     (long long)t.syn_synack.p90, (long long)t.syn_synack.p99, (long long)t.syn_synack.max);
    std::fprintf(out, "  closed first  by the client %llu, by the server %llu, by RST %llu; SYN retransmits %llu\n",
                 (unsigned long long)t.closed_by_client, (unsigned long long)t.closed_by_server,
                 (unsigned long long)t.resets, (unsigned long long)t.syn_retransmits);
    std::fprintf(out, "  SYN cookies   %llu flows look like cookie answers, %llu do not, %llu cannot tell "
                 "(churn-pcap annotate --flow N says why)\n",
                 (unsigned long long)t.cookie_likely, (unsigned long long)t.cookie_no, (unsigned long long)t.cookie_unknown);
    std::fprintf(out, "  Nagle stalls  %llu in %llu flows, %.1f ms in all (a small segment, its pure ACK >= %.0f ms later, "
                 "the next small segment right after; annotate --flow N shows them)\n",
                 (unsigned long long)t.stalls, (unsigned long long)t.stall_flows, t.stall_ns / 1e6,
                 cap.table.stall_threshold_ns() / 1e6);
    for (int pass = 0; pass < 2; ++pass) {
        std::string line;
        for (int i = 0; i < issue_count; ++i) {
            Issue is = static_cast<Issue>(i);
            if (is_undecodable(is) != (pass == 0) || !cap.issues[is]) continue;
            line += std::string(line.empty() ? " " : ", ") + issue_name(is) + " " + std::to_string(cap.issues[is]);
        }
        std::fprintf(out, "  %-13s%s\n", pass == 0 ? "undecodable" : "decoded with", line.empty() ? " nothing" : line.c_str());
    }
    if (summary_only) return;
    std::fprintf(out, "\n%6s  %-24s %-24s %11s %9s %5s %6s %4s %4s %4s %-7s %6s  %s\n", "flow", "client", "server", "SYN->SYNACK",
                 "iRTT", "MSS", "wscale", "SACK", "TS", "req", "cookie", "stalls", "closed first by");
    char a[32], b[32], ws[16];
    for (const Flow& f : cap.table.flows()) {
        Negotiated n = negotiated(f);
        if (f.syns && f.synacks) std::snprintf(a, sizeof a, "%lld µs", (long long)us(f.synack_ns - f.syn_ns));
        else std::snprintf(a, sizeof a, "-");
        if (f.handshake()) std::snprintf(b, sizeof b, "%lld µs", (long long)us(f.irtt_ns));
        else std::snprintf(b, sizeof b, f.syns ? "none" : "no SYN");
        if (!n.known) std::snprintf(ws, sizeof ws, "?");
        else if (n.wscale) std::snprintf(ws, sizeof ws, "%d/%d", f.opt[client].wscale, f.opt[server].wscale);
        else std::snprintf(ws, sizeof ws, "off");
        std::string closed = f.closed_by < 0 ? "-" : std::string(closed_by_name(f)) + (f.reset ? " RST" : " FIN");
        std::fprintf(out, "%6u  %-24s %-24s %12s %10s %5s %6s %4s %4s %4u %-7s %6zu  %s\n", f.index,
                     endpoint_str(f.key, end_of(f, client)).c_str(), endpoint_str(f.key, end_of(f, server)).c_str(), a, b,
                     n.known && n.mss >= 0 ? std::to_string(n.mss).c_str() : "?", ws, n.known ? (n.sack ? "yes" : "no") : "?",
                     n.known ? (n.timestamps ? "yes" : "no") : "?", f.requests, cookie_name(cookie_facts(f, cap.last_ns).verdict),
                     f.stall.found.empty() ? size_t{0} : stall_facts(f).stalls.size(), closed.c_str());
    }
}

}  // namespace churn::pcap
