// churn-pcap: capture on a lab interface, decode every handshake, annotate one connection.
//
//   churn-pcap capture -i cl1a2b3cc --netns churnlab-1a2b3c-cli -w churn.pcap --seconds 5 --count 200000
//   churn-pcap decode churn.pcap [--json] [--summary] [--stall-ms 30]
//   churn-pcap annotate churn.pcap [--flow N] [--stall-ms 30]
//   churn-pcap synth -o big.pcap --connections 25000 --rate 3000
//
// Exit status: 0 done; 2 unusable input (not a pcap file, missing file, no such flow, no such namespace
// or interface, a bad filter) or bad usage; 1 a capture that could not start for another reason, or failed.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "loop/cli.h"
#include "pcap/annotate.h"
#include "pcap/capture.h"
#include "pcap/decode.h"
#include "pcap/summary.h"
#include "pcap/synth.h"

using namespace churn::pcap;

namespace {

int do_capture(const CaptureOptions& opt) {
    // Open the JSON file first: a typo in its path must fail before the capture, not after it.
    std::ofstream json;
    if (!opt.json_path.empty()) {
        json.open(opt.json_path);
        if (!json) {
            std::fprintf(stderr, "churn-pcap capture: cannot write --json %s\n", opt.json_path.c_str());
            return 2;
        }
    }
    CaptureResult r;
    try {
        r = run_capture(opt);
    } catch (const BadCaptureInput& e) {
        std::fprintf(stderr, "churn-pcap capture: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "churn-pcap capture: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr,
                 "churn-pcap capture: %llu packets written to %s in %.2f s (stopped by %s); kernel: %llu passed the "
                 "filter, %llu dropped (ring full), %llu dropped by the interface\n",
                 (unsigned long long)r.written, opt.out_path.c_str(), r.seconds, r.stopped_by.c_str(),
                 (unsigned long long)r.received, (unsigned long long)r.dropped, (unsigned long long)r.if_dropped);
    if (json)
        json << nlohmann::ordered_json{{"file", opt.out_path},   {"iface", opt.iface},
                                       {"netns", opt.netns},     {"filter", opt.filter},
                                       {"snaplen", opt.snaplen}, {"linktype", r.linktype},
                                       {"precision", r.nanosecond ? "ns" : "us"},
                                       {"packets", r.written},   {"received", r.received},
                                       {"dropped", r.dropped},   {"if_dropped", r.if_dropped},
                                       {"seconds", r.seconds},   {"stopped_by", r.stopped_by}}
                    .dump(2)
             << '\n';
    return r.stopped_by.rfind("error", 0) == 0 ? 1 : 0;
}

int do_decode(const std::string& path, bool as_json, bool summary_only, double stall_ms) {
    try {
        PcapFile f = PcapFile::open(path);
        Capture cap;
        cap.path = path;
        cap.table.set_stall_threshold_ns(static_cast<int64_t>(stall_ms * 1e6));
        decode_file(f, cap);
        Totals t = summarize(cap);
        if (as_json) {
            std::string s = json_text(cap, t, !summary_only);
            std::fwrite(s.data(), 1, s.size(), stdout);
        } else {
            print_table(stdout, cap, t, summary_only);
        }
    } catch (const Unusable& e) {
        std::fprintf(stderr, "churn-pcap decode: %s\n", e.what());
        return 2;
    }
    return 0;
}

int do_annotate(const std::string& path, AnnotateOptions opt, const std::string& irtt_from) {
    try {
        if (!irtt_from.empty()) {
            PcapFile ref = PcapFile::open(irtt_from);
            Capture rc;
            rc.path = irtt_from;
            decode_file(ref, rc);
            opt.reference_irtt_us = median_irtt_us(rc);
            opt.reference_handshakes = summarize(rc).handshakes;
            opt.reference_name = irtt_from.substr(irtt_from.rfind('/') + 1);
        }
        PcapFile f = PcapFile::open(path);
        std::string out;
        if (!annotate(f, path, opt, out)) {
            std::fprintf(stderr, "churn-pcap annotate: %s\n", out.c_str());
            return 2;
        }
        std::fwrite(out.data(), 1, out.size(), stdout);
    } catch (const Unusable& e) {
        std::fprintf(stderr, "churn-pcap annotate: %s\n", e.what());
        return 2;
    }
    return 0;
}

int do_synth(const std::string& path, uint32_t connections, double rate, const std::string& linktype,
             const SynthFlow& shape) {
    uint32_t lt = linktype == "RAW" ? linktype_raw
                  : linktype == "LINUX_SLL" ? linktype_linux_sll
                  : linktype == "LINUX_SLL2" ? linktype_linux_sll2
                  : linktype_ethernet;
    PcapWriter w(lt);
    synth_churn(w, connections, rate, shape);
    if (!w.write(path)) {
        std::fprintf(stderr, "churn-pcap synth: cannot write %s\n", path.c_str());
        return 1;
    }
    std::fprintf(stderr, "churn-pcap synth: %zu packets, %u connections -> %s\n", w.records(), connections, path.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"churn-pcap: capture TCP handshakes on a lab interface, decode and annotate them"};
    app.require_subcommand(1);

    CaptureOptions copt;
    auto* cap = app.add_subcommand("capture", "capture with libpcap to a pcap file (tcpdump/Wireshark open it)");
    cap->add_option("-i,--interface", copt.iface, "interface, e.g. the lab's client veth (or any)")->required();
    cap->add_option("--netns", copt.netns, "enter /run/netns/NAME first (a lab namespace)");
    cap->add_option("-w,--write", copt.out_path, "pcap file to write")->required();
    // Every number goes through loop/cli.h: finite, of the option's type, within these bounds.
    churn::cli::add_number(*cap, "-c,--count", copt.count, "stop after this many packets (0: no limit)");
    churn::cli::add_number(*cap, "-s,--seconds", copt.seconds, "stop after this many seconds (0: no limit)", 0, 86400);
    churn::cli::add_number(*cap, "--snaplen", copt.snaplen, "bytes kept per packet (>= 128 keeps every TCP/IP header)",
                           64, 262144);
    churn::cli::add_number(*cap, "--buffer-mb", copt.buffer_mb, "kernel ring size in MiB", 1, 1024);
    cap->add_option("-f,--filter", copt.filter, "BPF filter expression, as tcpdump takes it");
    cap->add_option("--linktype", copt.linktype, "ask for another link-layer header, e.g. LINUX_SLL2 on any");
    cap->add_option("--json", copt.json_path, "write the capture's counters as JSON to this file");
    cap->add_flag("-q,--quiet", copt.quiet, "no start line");

    std::string file;
    bool as_json = false, summary_only = false;
    auto* dec = app.add_subcommand("decode", "every TCP flow: handshake times and options, requests, who closed, SYN cookie or not, Nagle + delayed-ACK stalls");
    dec->add_option("FILE", file, "pcap file")->required();
    dec->add_flag("--json", as_json, "JSON instead of the table");
    dec->add_flag("--summary", summary_only, "totals only, no per-flow rows");
    // Below the 40 ms of Linux's TCP_DELACK_MIN, with room for a timer that fires a little early or a
    // capture clock that rounds; 0 would call every ACK-clocked small segment a stall.
    double stall_ms = default_stall_ms;
    churn::cli::add_number(*dec, "--stall-ms", stall_ms,
                           "segment -> pure ACK gap (ms) from which a Nagle + delayed-ACK stall counts", 0.1, 600000.0);

    AnnotateOptions aopt;
    auto* ann = app.add_subcommand("annotate", "one flow's packets, each explained (a Nagle + delayed-ACK stall named on its packets); then the SYN-cookie clues of its handshake");
    ann->add_option("FILE", file, "pcap file")->required();
    churn::cli::add_number(*ann, "--flow", aopt.flow, "flow number (Wireshark's tcp.stream), default 0");
    churn::cli::add_number(*ann, "--limit", aopt.limit, "packets shown at most (0: all)");
    churn::cli::add_number(*ann, "--stall-ms", aopt.stall_ms,
                           "segment -> pure ACK gap (ms) from which a Nagle + delayed-ACK stall counts", 0.1, 600000.0);
    std::string irtt_from;
    ann->add_option("--irtt-from", irtt_from,
                    "another capture (e.g. the churn run's) whose median iRTT is the round trip a reused connection saves");

    uint32_t connections = 25000;
    double rate = 3000, rtt_us = 50;
    std::string synth_linktype = "EN10MB";
    SynthFlow shape;
    auto* syn = app.add_subcommand("synth", "write a synthetic churn capture (bench input, fuzz seeds)");
    syn->add_option("-o,--output", file, "pcap file to write")->required();
    churn::cli::add_number(*syn, "--connections", connections, "connections, ~10 packets each", 1, 10'000'000);
    churn::cli::add_number(*syn, "--rate", rate, "connections per second", 1, 1e7);
    churn::cli::add_number(*syn, "--rtt-us", rtt_us, "round trip in µs", 1, 1e7);
    syn->add_option("--linktype", synth_linktype, "link-layer header")
        ->check(CLI::IsMember({"EN10MB", "RAW", "LINUX_SLL", "LINUX_SLL2"}));
    churn::cli::add_number(*syn, "--requests", shape.requests, "requests per connection", 0, 1000);
    syn->add_flag("--ipv6", shape.v6, "IPv6 (2001:2::/48) instead of IPv4");
    churn::cli::add_number(*syn, "--ip-options", shape.ip_option_bytes, "IPv4 option bytes per packet", 0, 40);
    syn->add_flag("--ipv6-ext", shape.ipv6_ext, "IPv6 hop-by-hop and destination options headers");
    syn->add_flag("--vlan", shape.vlan, "an 802.1Q tag on every Ethernet frame");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "churn-pcap: %s (see --help)\n", e.what());
        return 2;
    }
    if (*cap) return do_capture(copt);
    if (*dec) return do_decode(file, as_json, summary_only, stall_ms);
    if (*ann) return do_annotate(file, aopt, irtt_from);
    shape.rtt_ns = static_cast<int64_t>(rtt_us * 1000);
    if (shape.v6) shape.client = "2001:2::1", shape.server = "2001:2::2";
    return do_synth(file, connections, rate, synth_linktype, shape);
}
