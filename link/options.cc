#include "link/options.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ostream>

namespace churn {

namespace {

// Every check reports "--name: what is wrong"; parse_link_cli adds the program name and exits 2.
struct BadValue {
    std::string message;
};

std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return b;
}

double to_number(const std::string& name, const std::string& text) {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(v)) throw BadValue{name + ": '" + text + "' is not a number"};
    return v;
}

uint64_t to_count(const std::string& name, const std::string& text, uint64_t min) {
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (!text.empty() && text[0] == '-') throw BadValue{name + ": must be >= " + std::to_string(min) + ", got " + text};
    if (ec != std::errc() || ptr != text.data() + text.size() || text.empty())
        throw BadValue{name + ": '" + text + "' is not a whole number"};
    if (v < min) throw BadValue{name + ": must be >= " + std::to_string(min) + ", got " + text};
    return v;
}

// One knob, settable for both directions (--delay) or per direction (--delay-ab, --delay-ba); the
// per-direction value wins. Empty text = not given.
struct Knob {
    std::string both, ab, ba;
    const std::string& for_ab() const { return ab.empty() ? both : ab; }
    const std::string& for_ba() const { return ba.empty() ? both : ba; }
    std::string name_ab(const char* base) const { return std::string("--") + base + (ab.empty() ? "" : "-ab"); }
    std::string name_ba(const char* base) const { return std::string("--") + base + (ba.empty() ? "" : "-ba"); }
};

void add_knob(CLI::App& app, Knob& k, const char* base, const std::string& help, const char* unit) {
    std::string b = std::string("--") + base;
    app.add_option(b, k.both, help + " (both directions)")->type_name(unit);
    app.add_option(b + "-ab", k.ab, help + ", A->B only")->type_name(unit);
    app.add_option(b + "-ba", k.ba, help + ", B->A only")->type_name(unit);
}

void apply_delay(const std::string& name, const std::string& text, DirectionConfig& d) {
    if (text.empty()) return;
    double ms = to_number(name, text);
    if (ms < 0) throw BadValue{name + ": must be >= 0 ms, got " + text};
    if (ms > 60'000) throw BadValue{name + ": must be <= 60000 ms, got " + text};
    d.delay_ns = static_cast<uint64_t>(std::llround(ms * 1e6));
}

void apply_loss(const std::string& name, const std::string& text, DirectionConfig& d) {
    if (text.empty()) return;
    double pct = to_number(name, text);
    if (pct < 0 || pct > 100) throw BadValue{name + ": must be between 0 and 100 %, got " + text};
    d.loss_pct = pct;
}

void apply_rate(const std::string& name, const std::string& text, DirectionConfig& d) {
    if (text.empty()) return;
    double mbit = to_number(name, text);
    // A zero rate would never serialize anything: every packet would wait forever.
    if (mbit <= 0) throw BadValue{name + ": must be > 0 Mbit/s, got " + text};
    if (mbit > 100'000) throw BadValue{name + ": must be <= 100000 Mbit/s, got " + text};
    d.rate_bps = static_cast<uint64_t>(std::llround(mbit * 1e6));
}

}  // namespace

std::string describe(const DirectionConfig& d) {
    std::string s = "delay " + num(d.delay_ns / 1e6) + " ms, loss " + num(d.loss_pct) + " %, rate ";
    s += d.rate_bps ? num(d.rate_bps / 1e6) + " Mbit/s" : "unlimited";
    if (d.queue_pkts) s += ", queue " + std::to_string(d.queue_pkts) + " pkts";
    if (d.queue_bytes) s += ", queue " + std::to_string(d.queue_bytes) + " B";
    return s;
}

int parse_link_cli(int argc, const char* const* argv, LinkOptions& opt, std::ostream& out, std::ostream& err) {
    CLI::App app{"churn-link: an emulated WAN link between two network namespaces, through one TUN device in "
                 "each.\nPer direction: loss (seeded) -> drop-tail queue -> serialization at --rate -> "
                 "--delay.\nPrints 'ready' on stdout once both devices exist; stops after --duration or on "
                 "SIGINT/SIGTERM."};
    app.name("churn-link");
    std::string seed = "1", drop_synack = "0", duration = "600", rt = "10", cpu = "none", spin = "100";
    Knob delay, loss, rate, qpkts, qbytes;
    app.add_option("--ns-a", opt.ns_a, "namespace of end A (name in /run/netns, or a path)")->required()->type_name("NS");
    app.add_option("--ns-b", opt.ns_b, "namespace of end B")->required()->type_name("NS");
    app.add_option("--dev-a", opt.dev_a, "TUN device name created in A (default churn-a)")->type_name("NAME");
    app.add_option("--dev-b", opt.dev_b, "TUN device name created in B (default churn-b)")->type_name("NAME");
    add_knob(app, delay, "delay", "one-way propagation delay", "MS");
    add_knob(app, loss, "loss", "i.i.d. random loss", "PCT");
    add_knob(app, rate, "rate", "bottleneck rate (default: none)", "MBIT");
    add_knob(app, qpkts, "queue-pkts", "drop-tail limit on the bottleneck backlog (default 1000)", "N");
    add_knob(app, qbytes, "queue-bytes", "drop-tail limit on the bottleneck backlog in bytes", "BYTES");
    app.add_option("--drop-synack", drop_synack,
                   "drop the first N SYN-ACKs (SYN and ACK set) of every connection (4-tuple and client ISN), in "
                   "either direction, before loss and queue; counted per direction as dropped_synack. The flow "
                   "table holds 65536 connections, the oldest forgotten first (default 0: none)")
        ->type_name("N");
    app.add_option("--seed", seed, "seed of the loss PRNG (default 1)")->type_name("N");
    app.add_option("--duration", duration, "stop after this many seconds (default 600)")->type_name("S");
    app.add_option("--rt-priority", rt, "SCHED_FIFO priority, so the link runs the moment a packet is due "
                                        "(default 10; 0 = normal scheduling)")->type_name("0-99");
    app.add_option("--cpu", cpu, "pin the link to this CPU (default none: the kernel may move it to whichever "
                                 "CPU is free; pinning measured no gain on these VMs, and a pinned link cannot escape a stalled vCPU)")->type_name("N|none");
    app.add_option("--spin-max-us", spin, "busy-wait at most this long before a release is due (default 100; "
                                          "0 = sleep to the due time)")->type_name("US");
    bool no_mlock = false;
    app.add_flag("--no-mlock", no_mlock, "do not lock the link's memory (mlockall)");
    app.add_option("--json", opt.json_path, "write configuration and counters to FILE at exit")->type_name("FILE");
    app.add_flag("-q,--quiet", opt.quiet, "no summary line at exit");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e, out, err);  // --help
        err << "churn-link: " << e.what() << "\n";
        return 2;
    }
    try {
        for (const std::string* dev : {&opt.dev_a, &opt.dev_b}) {
            // IFNAMSIZ is 16 with the terminating NUL; TUNSETIFF would silently truncate a longer name.
            if (dev->empty() || dev->size() > 15 || dev->find('/') != std::string::npos || *dev == "." || *dev == "..")
                throw BadValue{"--dev-" + std::string(dev == &opt.dev_a ? "a" : "b") + ": '" + *dev +
                               "' is not a device name (1-15 characters, no '/')"};
        }
        apply_delay(delay.name_ab("delay"), delay.for_ab(), opt.ab);
        apply_delay(delay.name_ba("delay"), delay.for_ba(), opt.ba);
        apply_loss(loss.name_ab("loss"), loss.for_ab(), opt.ab);
        apply_loss(loss.name_ba("loss"), loss.for_ba(), opt.ba);
        apply_rate(rate.name_ab("rate"), rate.for_ab(), opt.ab);
        apply_rate(rate.name_ba("rate"), rate.for_ba(), opt.ba);
        const std::string* q[][2] = {{&qpkts.for_ab(), &qbytes.for_ab()}, {&qpkts.for_ba(), &qbytes.for_ba()}};
        DirectionConfig* dirs[] = {&opt.ab, &opt.ba};
        for (int i = 0; i < 2; ++i) {
            std::string n_pk = i ? qpkts.name_ba("queue-pkts") : qpkts.name_ab("queue-pkts");
            std::string n_by = i ? qbytes.name_ba("queue-bytes") : qbytes.name_ab("queue-bytes");
            if (!q[i][0]->empty()) dirs[i]->queue_pkts = to_count(n_pk, *q[i][0], 1);
            if (!q[i][1]->empty()) dirs[i]->queue_bytes = to_count(n_by, *q[i][1], 1);
            // Neither limit given: 1000 packets, netem's default limit and a common txqueuelen.
            if (q[i][0]->empty() && q[i][1]->empty()) dirs[i]->queue_pkts = 1000;
        }
        opt.seed = to_count("--seed", seed, 0);
        opt.drop_synack = to_count("--drop-synack", drop_synack, 0);
        // A bound: beyond a handful, the server (tcp_synack_retries, 5) or the client (tcp_syn_retries, 6)
        // gives up long before the link would let a SYN-ACK through.
        if (opt.drop_synack > 100) throw BadValue{"--drop-synack: must be <= 100, got " + drop_synack};
        opt.duration_s = to_number("--duration", duration);
        if (opt.duration_s <= 0) throw BadValue{"--duration: must be > 0 s (every link run stops by itself), got " + duration};
        // A bound, not only a sign: seconds become integer nanoseconds for the timer, and 1e300 s does not fit
        // (the conversion would be undefined behaviour). A week is more than any lab run needs.
        if (opt.duration_s > 7 * 86400) throw BadValue{"--duration: at most 604800 s (a week), got " + duration};
        uint64_t prio = to_count("--rt-priority", rt, 0);
        if (prio > 99) throw BadValue{"--rt-priority: must be between 0 and 99, got " + rt};
        opt.rt_priority = static_cast<int>(prio);
        if (cpu != "none") {
            uint64_t c = to_count("--cpu", cpu, 0);
            if (c > 1023) throw BadValue{"--cpu: must be a CPU number below 1024 or 'none', got " + cpu};
            opt.cpu = static_cast<int>(c);
        }
        opt.spin_max_us = to_count("--spin-max-us", spin, 0);
        if (opt.spin_max_us > 10'000) throw BadValue{"--spin-max-us: must be <= 10000 us, got " + spin};
        opt.mlock = !no_mlock;
        if (app.count("--json") && opt.json_path.empty()) throw BadValue{"--json: needs a file name"};
    } catch (const BadValue& e) {
        err << "churn-link: " << e.message << "\n";
        return 2;
    }
    return -1;
}

}  // namespace churn
