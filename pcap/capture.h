// capture.h: `churn-pcap capture`, libpcap on one interface of one network namespace, to a pcap file.
//
// libpcap here and not a hand-written AF_PACKET reader: the capture side is where libpcap earns its keep
// (TPACKET ring setup, BPF compilation, the kernel's drop counters), and its savefile is what tcpdump and
// Wireshark open. The reading side (pcap_file.h) is hand-written for the opposite reasons.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace churn::pcap {

struct CaptureOptions {
    std::string iface;        // -i: "cl1a2b3cc", "any", "lo"
    std::string netns;        // --netns: a name under /run/netns (ip netns add NAME), empty = ours
    std::string out_path;     // -w
    std::string filter = "tcp";  // BPF, as tcpdump takes it
    std::string linktype;     // "" = the interface's own; "LINUX_SLL2" (for "any"), "LINUX_SLL", ...
    std::string json_path;    // --json: the counters below, written at exit
    uint64_t count = 0;       // stop after this many packets (0: no limit)
    double seconds = 0;       // stop after this long (0: no limit)
    int snaplen = 262144;     // bytes kept per packet
    int buffer_mb = 8;        // kernel ring size
    bool quiet = false;
};

struct CaptureResult {
    uint64_t written = 0;    // packets in the file
    uint64_t received = 0;   // pcap_stats ps_recv: packets that passed the filter
    uint64_t dropped = 0;    // ps_drop: the ring was full (our reader too slow)
    uint64_t if_dropped = 0;  // ps_ifdrop: dropped by the interface/driver
    double seconds = 0;
    std::string stopped_by;  // "count", "seconds", "SIGINT", "SIGTERM", "error: ..."
    std::string linktype;
    bool nanosecond = false;
};

// The capture cannot start because of what was asked: no such namespace (or not allowed into it), no
// such interface, a filter or link type libpcap rejects. churn-pcap exits 2 on it, like on any bad option.
struct BadCaptureInput : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Runs the capture to its end. Throws BadCaptureInput, or std::runtime_error (one line) when it cannot
// start for another reason.
CaptureResult run_capture(const CaptureOptions& opt);

}  // namespace churn::pcap
