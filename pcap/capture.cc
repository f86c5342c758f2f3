// capture.cc: libpcap setup, then the project's reactor drains the capture fd until a bound is reached.
//
// Order matters, and is libpcap's "create, set, activate" protocol: the options below can only be set
// between pcap_create() and pcap_activate(), which is when the packet socket and its ring are made.
#include "pcap/capture.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>

#include "loop/clock.h"
#include "loop/netns.h"
#include "loop/reactor.h"
#include "loop/sys.h"

namespace churn::pcap {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }
[[noreturn]] void bad_input(const std::string& what) { throw BadCaptureInput(what); }

// Enter the lab host for good (loop/netns.h), before pcap_create/pcap_activate: a packet socket belongs
// to the namespace its creator was in when socket() ran, and the interface name is looked up there.
void enter_netns(const std::string& name) {
    try {
        Netns::open(name).enter();
    } catch (const std::system_error& e) {
        bad_input(std::string("--netns ") + e.what());
    }
}

struct Capturer : Reactor::Handler {
    Reactor& reactor;
    pcap_t* p;
    pcap_dumper_t* dumper;
    uint64_t limit;  // 0: none
    uint64_t written = 0;
    std::string stopped_by;

    Capturer(Reactor& r, pcap_t* pc, pcap_dumper_t* d, uint64_t l) : reactor(r), p(pc), dumper(d), limit(l) {}

    static void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
        auto* self = reinterpret_cast<Capturer*>(user);
        ::pcap_dump(reinterpret_cast<u_char*>(self->dumper), h, bytes);
        ++self->written;
    }

    // Edge-triggered: drain until pcap_dispatch() finds the ring empty (it returns 0 in non-blocking mode,
    // our EAGAIN), or the packet budget is spent. Returns false when the capture must end.
    bool drain() {
        for (;;) {
            int want = limit ? static_cast<int>(std::min<uint64_t>(limit - written, 1 << 20)) : -1;
            int n = ::pcap_dispatch(p, want, &Capturer::on_packet, reinterpret_cast<u_char*>(this));
            if (n < 0) {
                // The interface went away (its namespace was deleted under us) or the socket failed: stop, and
                // still close the file properly so that what was captured stays readable.
                stopped_by = std::string("error: pcap_dispatch: ") + ::pcap_geterr(p);
                return false;
            }
            if (limit && written >= limit) {
                stopped_by = "count";
                return false;
            }
            if (n == 0) return true;
        }
    }
    void on_events(uint32_t) override {
        if (!drain()) reactor.stop();
    }
};

}  // namespace

CaptureResult run_capture(const CaptureOptions& opt) {
    if (!opt.netns.empty()) enter_netns(opt.netns);
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t* p = ::pcap_create(opt.iface.c_str(), err);
    if (!p) fail("pcap_create(" + opt.iface + "): " + err);
    // From here every failure closes p: a guard, since fail() throws.
    struct Closer {
        pcap_t* p;
        ~Closer() { ::pcap_close(p); }
    } closer{p};

    ::pcap_set_snaplen(p, opt.snaplen);
    // Not promiscuous: on a veth every frame we care about is addressed to this host anyway, and not
    // touching IFF_PROMISC leaves the interface as the lab made it.
    ::pcap_set_promisc(p, 0);
    // Immediate mode: hand each packet over as it arrives. Without it libpcap uses TPACKET_V3 blocks that
    // are released when full or after a timeout, and a short bounded capture could end with its last
    // packets still sitting in a half-full block.
    ::pcap_set_immediate_mode(p, 1);
    // A 3000 connections/s churn run is ~30 000 packets/s; the ring must absorb our scheduling hiccups.
    ::pcap_set_buffer_size(p, opt.buffer_mb << 20);
    // Nanosecond timestamps: a veth round trip is tens of µs, so µs rounding would be a visible error in
    // iRTT. The dumper then writes the nanosecond magic (0xa1b23c4d), which tcpdump and Wireshark read.
    bool nano = ::pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;

    int rc = ::pcap_activate(p);
    if (rc < 0) {
        // PCAP_ERROR_NO_SUCH_DEVICE etc.: pcap_geterr has the details ("... No such device exists").
        std::string what = "pcap_activate(" + opt.iface + (opt.netns.empty() ? "" : " in netns " + opt.netns) +
                           "): " + ::pcap_statustostr(rc) + (rc == PCAP_ERROR ? std::string(": ") + ::pcap_geterr(p) : "");
        // A mistyped -i is bad input (exit 2); no permission or a failing socket is not.
        if (rc == PCAP_ERROR_NO_SUCH_DEVICE) bad_input("--interface: " + what);
        fail(what);
    }
    if (rc > 0 && !opt.quiet)
        std::fprintf(stderr, "churn-pcap capture: pcap_activate warning: %s\n", ::pcap_statustostr(rc));
    if (!opt.linktype.empty()) {
        int dlt = ::pcap_datalink_name_to_val(opt.linktype.c_str());
        if (dlt < 0) bad_input("--linktype: unknown link type '" + opt.linktype + "' (e.g. LINUX_SLL2, LINUX_SLL, EN10MB)");
        if (::pcap_set_datalink(p, dlt) < 0) bad_input("--linktype: pcap_set_datalink(" + opt.linktype + "): " + ::pcap_geterr(p));
    }
    nano = nano && ::pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;

    // The filter runs in the kernel (classic BPF attached to the socket), so what it drops never crosses
    // into user space. Netmask unknown: only matters for "broadcast" primitives.
    bpf_program prog;
    if (::pcap_compile(p, &prog, opt.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0)
        bad_input("--filter: pcap_compile(\"" + opt.filter + "\"): " + ::pcap_geterr(p));
    rc = ::pcap_setfilter(p, &prog);
    ::pcap_freecode(&prog);
    if (rc < 0) fail(std::string("pcap_setfilter: ") + ::pcap_geterr(p));

    // Non-blocking plus the selectable fd: the reactor waits on it next to the --seconds timer and the
    // signalfd, so SIGINT/SIGTERM and the time bound stop us between two batches of packets. That is why
    // no pcap_breakloop() is needed: there is no blocking pcap_loop() to break out of.
    if (::pcap_setnonblock(p, 1, err) < 0) fail(std::string("pcap_setnonblock: ") + err);
    int fd = ::pcap_get_selectable_fd(p);
    if (fd < 0) fail("pcap_get_selectable_fd: none for " + opt.iface);

    pcap_dumper_t* dumper = ::pcap_dump_open(p, opt.out_path.c_str());
    if (!dumper) fail("pcap_dump_open(" + opt.out_path + "): " + ::pcap_geterr(p));

    CaptureResult res;
    res.linktype = ::pcap_datalink_val_to_name(::pcap_datalink(p)) ? ::pcap_datalink_val_to_name(::pcap_datalink(p)) : "?";
    res.nanosecond = nano;
    Reactor reactor;
    Capturer cap(reactor, p, dumper, opt.count);
    reactor.on_signals({SIGINT, SIGTERM}, [&](int sig) {
        cap.stopped_by = sig == SIGINT ? "SIGINT" : "SIGTERM";
        reactor.stop();
    });
    if (opt.seconds > 0)
        reactor.after(static_cast<uint64_t>(opt.seconds * 1e6), [&] {
            cap.stopped_by = "seconds";
            reactor.stop();
        });
    reactor.watch(fd, EPOLLIN, &cap);
    if (!opt.quiet)
        std::fprintf(stderr, "churn-pcap capture: capturing on %s%s%s (%s, snaplen %d, %s timestamps, buffer %d MiB, "
                     "filter \"%s\") -> %s\n", opt.iface.c_str(), opt.netns.empty() ? "" : " in netns ",
                     opt.netns.c_str(), res.linktype.c_str(), opt.snaplen, nano ? "ns" : "µs", opt.buffer_mb,
                     opt.filter.c_str(), opt.out_path.c_str());
    uint64_t t0 = mono_ns();
    // Packets that arrived between activate and watch() are not lost: with EPOLLET, registering an fd that
    // is already readable reports it at once (listener.cc relies on the same). Draining once here only
    // writes them before the first epoll_wait.
    if (cap.drain()) reactor.run();
    // Stopped by a signal or the timer: what is already in the ring was captured before the stop, keep it
    // (still within --count).
    if (cap.stopped_by == "seconds" || cap.stopped_by == "SIGINT" || cap.stopped_by == "SIGTERM") {
        std::string why = cap.stopped_by;
        if (cap.drain() || cap.stopped_by == "count") cap.stopped_by = why;
    }
    res.seconds = (mono_ns() - t0) / 1e9;
    reactor.forget(fd);

    pcap_stat st{};
    if (::pcap_stats(p, &st) == 0) {
        res.received = st.ps_recv;
        res.dropped = st.ps_drop;
        res.if_dropped = st.ps_ifdrop;
    }
    // pcap_dump buffers through stdio: close it before anyone reads the file.
    ::pcap_dump_close(dumper);
    res.written = cap.written;
    res.stopped_by = cap.stopped_by;
    return res;
}

}  // namespace churn::pcap
