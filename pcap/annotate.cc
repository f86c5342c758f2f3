// annotate.cc: the sentences. The flow table already decided what each segment meant (flows.h, Event);
// this file only says it in words, with the numbers of this capture.
#include "pcap/annotate.h"

#include <cstdarg>
#include <cstdio>
#include <vector>

#include "pcap/decode.h"
#include "pcap/summary.h"

namespace churn::pcap {

namespace {

struct Shown {
    Event ev;
    Segment seg;
    int64_t ts_ns;
};

// Collects the chosen flow's segments during the one decode pass; the other flows only feed the median.
struct FlowTap : Tap {
    uint32_t flow;
    std::vector<Shown> rows;
    void on_segment(const Event& ev, const Segment& seg, const Record& rec) override {
        if (ev.flow == flow) rows.push_back({ev, seg, rec.ts_ns});
    }
};

void appendf(std::string& s, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void appendf(std::string& s, const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) s.append(buf, static_cast<size_t>(n) < sizeof buf ? static_cast<size_t>(n) : sizeof buf - 1);
}

std::string offers(const TcpOptions& o) {
    std::string s;
    auto add = [&](const std::string& x) { s += (s.empty() ? "" : ", ") + x; };
    if (o.mss >= 0) add("MSS " + std::to_string(o.mss));
    if (o.wscale >= 0) add("wscale " + std::to_string(o.wscale));
    if (o.sack_ok) add("SACK");
    if (o.timestamps) add("timestamps");
    return s.empty() ? "no options" : s;
}

const char* who(Side s) { return s == client ? "client" : "server"; }

// The round trip a request on an established connection did not pay, in words: this flow's own iRTT,
// else the median of this capture's handshakes, else the one measured on another capture (--irtt-from).
struct SavedRtt {
    int64_t median_us = -1;
    uint64_t handshakes = 0;
    const AnnotateOptions* opt = nullptr;
};
std::string saved_rtt(const Flow& f, const SavedRtt& s) {
    if (f.handshake()) return "iRTT " + std::to_string(us(f.irtt_ns)) + " µs on this flow";
    auto plural = [](uint64_t n) { return std::to_string(n) + " handshake" + (n == 1 ? "" : "s"); };
    if (s.median_us >= 0)
        return "≈ " + std::to_string(s.median_us) + " µs, the median iRTT of " + plural(s.handshakes) + " in this capture";
    if (s.opt && s.opt->reference_irtt_us >= 0)
        return "≈ " + std::to_string(s.opt->reference_irtt_us) + " µs, the median iRTT of " +
               plural(s.opt->reference_handshakes) + " in " + s.opt->reference_name;
    return "unknown: no handshake in this capture to measure one";
}

// request_ns: when the request this segment belongs to (or answers) began, -1 if none yet.
std::string explain(const Shown& r, const Flow& f, const SavedRtt& saved, int64_t request_ns) {
    const Event& ev = r.ev;
    std::vector<std::string> parts;
    char b[320];
    if (ev.syn)
        parts.push_back("SYN: the client asks to connect, offering " + offers(r.seg.opt));
    if (ev.syn_again) {
        std::snprintf(b, sizeof b, "SYN again, %.3f s after the first: no SYN-ACK came back within the SYN "
                      "timeout (1 s; doubled after each try, except the first tcp_syn_linear_timeouts tries on kernels "
                      "that have that sysctl)", (r.ts_ns - f.syn_ns) / 1e9);
        parts.push_back(b);
    }
    if (ev.synack) {
        if (f.syn_ns >= 0)
            std::snprintf(b, sizeof b, "SYN-ACK after %lld µs: the server accepts (%s); one round trip paid before any data",
                          (long long)us(r.ts_ns - f.mru_syn_ns), offers(r.seg.opt).c_str());
        else
            std::snprintf(b, sizeof b, "SYN-ACK: the server accepts (%s); the client's SYN was not captured",
                          offers(r.seg.opt).c_str());
        parts.push_back(b);
    }
    if (ev.synack) {
        std::string note = cookie_synack_note(f, cookie_facts(f));
        if (!note.empty()) parts.push_back(note);
    }
    if (ev.synack_again) parts.push_back("SYN-ACK again: the server did not see the handshake's ACK in time");
    if (ev.completes_handshake) {
        std::snprintf(b, sizeof b, "ACK: handshake complete, iRTT %lld µs (SYN -> this ACK, Wireshark's "
                      "initial_rtt); the client may send its request now", (long long)us(f.irtt_ns));
        parts.push_back(b);
    }
    switch (ev.data) {
        case Data::request:
            if (ev.n == 1 && f.syns) {
                std::snprintf(b, sizeof b, "request 1: %u bytes from the client, %lld µs after its SYN", r.seg.payload,
                              (long long)us(r.ts_ns - f.syn_ns));
            } else if (f.syns) {
                std::snprintf(b, sizeof b, "request %u on the same connection: no new SYN, the handshake's round trip "
                              "(%s) saved", ev.n, saved_rtt(f, saved).c_str());
            } else {
                std::snprintf(b, sizeof b, "request %u on an established connection: no SYN, the handshake's round "
                              "trip (%s) saved", ev.n, saved_rtt(f, saved).c_str());
            }
            parts.push_back(b);
            break;
        case Data::request_more: parts.push_back("more of request " + std::to_string(ev.n)); break;
        case Data::response:
            if (request_ns >= 0)
                std::snprintf(b, sizeof b, "response %u: %u bytes from the server, %lld µs after the request began", ev.n,
                              r.seg.payload, (long long)us(r.ts_ns - request_ns));
            else
                std::snprintf(b, sizeof b, "response %u: %u bytes from the server", ev.n, r.seg.payload);
            parts.push_back(b);
            break;
        case Data::response_more: parts.push_back("more of response " + std::to_string(ev.n)); break;
        case Data::retransmission: parts.push_back("retransmission: these bytes were sent before"); break;
        case Data::none: break;
    }
    if (ev.fin_first) {
        std::snprintf(b, sizeof b, "FIN from the %s: it closes first, so TIME-WAIT (60 s) lands on the %s%s", who(ev.side),
                      who(ev.side), ev.side == client ? " and holds its port" : "; the client's port is free at once");
        parts.push_back(b);
    }
    if (ev.fin_second) {
        std::snprintf(b, sizeof b, "FIN from the %s: its answer to the %s's FIN (no TIME-WAIT on this side)", who(ev.side),
                      who(ev.side == client ? server : client));
        parts.push_back(b);
    }
    if (ev.fin_again) parts.push_back("FIN again: the first was not acknowledged in time");
    if (ev.last_ack) {
        std::snprintf(b, sizeof b, "ACK of the %s's FIN: the %s's socket is now in TIME-WAIT for 60 s",
                      who(ev.side == client ? server : client), who(ev.side));
        parts.push_back(b);
    }
    if (ev.rst) {
        if (ev.side == server && f.synacks == 0 && f.syns)
            parts.push_back("RST from the server: nothing listens on that port (connection refused)");
        else {
            std::snprintf(b, sizeof b, "RST from the %s: the connection is torn down at once, no TIME-WAIT on either "
                          "side (SO_LINGER 0, or data arrived for a closed socket)", who(ev.side));
            parts.push_back(b);
        }
    }
    if (parts.empty()) parts.push_back(r.seg.payload ? "data" : "ACK");
    std::string s;
    for (size_t i = 0; i < parts.size(); ++i) s += (i ? "; " : "") + parts[i];
    return s;
}

}  // namespace

bool annotate(PcapFile& file, const std::string& path, const AnnotateOptions& opt, std::string& out) {
    Capture cap;
    cap.path = path;
    FlowTap tap;
    tap.flow = opt.flow;
    cap.table.set_stall_threshold_ns(static_cast<int64_t>(opt.stall_ms * 1e6));
    decode_file(file, cap, &tap);
    const auto& flows = cap.table.flows();
    if (opt.flow >= flows.size()) {
        appendf(out, "no flow %u in %s: it has %zu TCP flow%s%s", opt.flow, path.c_str(), flows.size(),
                flows.size() == 1 ? "" : "s", flows.empty() ? "" : (" (0-" + std::to_string(flows.size() - 1) + ")").c_str());
        return false;
    }
    const Flow& f = flows[opt.flow];
    Totals t = summarize(cap);
    SavedRtt saved{median_irtt_us(cap), t.handshakes, &opt};

    appendf(out, "flow %u of %s (Wireshark: tcp.stream == %u)\n", f.index, path.c_str(), f.index);
    appendf(out, "  client %s -> server %s%s, %u packets over %lld µs\n", endpoint_str(f.key, end_of(f, client)).c_str(),
            endpoint_str(f.key, end_of(f, server)).c_str(),
            f.client_guessed ? " (client guessed: the higher port)" : "", f.packets, (long long)us(f.last_ns - f.first_ns));
    if (!f.syns)
        appendf(out, "  no SYN in this capture: the connection was open before the capture began (a pooled, reused\n"
                     "  connection). Its requests pay no handshake: each saves one round trip (%s).\n",
                saved_rtt(f, saved).c_str());
    appendf(out, "\n%11s  %-5s %-12s %6s  %s\n", "µs", "dir", "flags", "len", "what it means");
    uint32_t shown = 0;
    int64_t request_ns = -1;
    StallFacts stalls = stall_facts(f);
    for (const Shown& r : tap.rows) {
        if (r.ev.data == Data::request) request_ns = r.ts_ns;
        if (opt.limit && shown == opt.limit) break;
        char fl[48];
        appendf(out, "%10lld  %-5s %-12s %6u  ", (long long)us(r.ts_ns - f.first_ns), r.ev.side == client ? "C->S" : "S->C",
                flags_name(r.seg.flags, fl, sizeof fl), r.seg.payload);
        std::string what = explain(r, f, saved, request_ns);
        // Rows are this flow's packets in order, so the row number is the packet number stall.h recorded.
        std::string stall = stalls.stalls.empty() ? "" : stall_note(f, stalls, shown + 1);
        if (!stall.empty()) what = what == "ACK" || what == "data" ? stall : what + "; " + stall;
        out += what;
        out += '\n';
        ++shown;
    }
    if (shown < tap.rows.size())
        appendf(out, "%10s  ... %zu more packets (--limit 0 shows all)\n", "", tap.rows.size() - shown);

    // The SYN-cookie verdict with every clue (cookie.h): only for a flow whose handshake we saw.
    if (f.syns || f.synacks) {
        CookieFacts cf = cookie_facts(f, cap.last_ns);
        appendf(out, "\nSYN cookie: %s\n", cookie_name(cf.verdict));
        for (const std::string& d : cookie_details(f, cf)) appendf(out, "  - %s\n", d.c_str());
    }

    // Nagle + delayed ACK: said for any flow that carried data (none found is an answer too).
    if (f.bytes[client] || f.bytes[server]) appendf(out, "\nNagle + delayed ACK: %s\n", stall_summary(f, stalls).c_str());

    // One closing sentence: what this connection cost and where its TIME-WAIT went.
    std::string cost;
    if (f.handshake()) cost = "handshake: one round trip (iRTT " + std::to_string(us(f.irtt_ns)) + " µs) before the first request";
    else if (f.syns) cost = "no complete handshake captured";
    else cost = "no handshake paid in this capture";
    std::string closing = f.closed_by < 0 ? "not closed within the capture"
                          : f.reset       ? std::string("reset by the ") + who(static_cast<Side>(f.closed_by)) + " (no TIME-WAIT)"
                                          : std::string("closed first by the ") + who(static_cast<Side>(f.closed_by)) +
                                                " (TIME-WAIT on the " + who(static_cast<Side>(f.closed_by)) + ")";
    std::string reuse;
    if (f.reused_requests() && (f.handshake() || saved.median_us >= 0 || opt.reference_irtt_us >= 0))
        reuse = " (each saved a handshake: " + saved_rtt(f, saved) + ")";
    appendf(out, "\nsummary: %s; %u request%s, %u on a reused connection%s; %s\n", cost.c_str(), f.requests,
            f.requests == 1 ? "" : "s", f.reused_requests(), reuse.c_str(), closing.c_str());
    return true;
}

}  // namespace churn::pcap
