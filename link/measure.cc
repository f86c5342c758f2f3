#include "link/measure.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "link/main.h"
#include "loop/netns.h"
#include "link/options.h"
#include "loop/clock.h"
#include "loop/reactor.h"
#include "loop/sys.h"

namespace churn {

namespace {

constexpr uint32_t kMagic = 0x6c6e6b21;  // "lnk!": anything else reaching our ports is not ours
constexpr uint64_t kIpUdpHeaders = 20 + 8;
struct Probe {
    uint32_t magic;
    uint32_t kind;  // 0 ping, 1 stream
    uint64_t seq;
    uint64_t sent_ns;   // sender's clock at send(); the sender is us, so both ends read the same clock
    uint64_t dwell_ns;  // ping: how long the echo held it (kernel receive stamp -> its send())
};
static_assert(sizeof(Probe) == 32, "probe header layout");

// Why CLOCK_REALTIME here, against the project's one-clock rule (loop/clock.h): the receive timestamps
// come from the kernel (SO_TIMESTAMPNS), and the kernel stamps packets with CLOCK_REALTIME only. Every
// figure is a difference over milliseconds between two readings of that one clock: an NTP slew changes it
// by parts per million; a step (date -s) would spoil the samples around it, which medians shrug off.
uint64_t real_ns() {
    timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

sockaddr_in ipv4(const std::string& addr, uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (::inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1) throw_sys("inet_pton", addr, EINVAL);
    return sa;
}

// A UDP socket created inside namespace `ns` and bound to addr:port (port 0: the kernel picks). It stays
// in that namespace for life, so one process can hold both ends of the link.
int udp_socket_in(const std::string& ns, const sockaddr_in& local, int buf_bytes) {
    InNetns in(netns_path(ns));
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_sys("socket", "AF_INET, SOCK_DGRAM in " + ns, errno);
    // *FORCE (root only) because net.core.rmem_max/wmem_max would cap a plain SO_RCVBUF at ~200 KB, about
    // 140 full-size datagrams: a scheduling hiccup of 15 ms at 100 Mbit/s, and the socket, not the link,
    // would drop. We want every loss we count to be the link's.
    for (int opt : {SO_RCVBUFFORCE, SO_SNDBUFFORCE})
        if (::setsockopt(fd, SOL_SOCKET, opt, &buf_bytes, sizeof buf_bytes) < 0)
            throw_sys("setsockopt", opt == SO_RCVBUFFORCE ? "SO_RCVBUFFORCE" : "SO_SNDBUFFORCE", errno);
    // Kernel receive timestamps: the time the link handed the packet to this namespace's stack, not the
    // time this (busy, single-threaded) process got round to recvmsg(). Without them the measurement
    // would add its own scheduling delay to every figure it reports about the link.
    int on = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0) throw_sys("setsockopt", "SO_TIMESTAMPNS", errno);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) < 0) {
        char a[INET_ADDRSTRLEN];
        ::inet_ntop(AF_INET, &local.sin_addr, a, sizeof a);
        throw_sys("bind", std::string(a) + ":" + std::to_string(ntohs(local.sin_port)) + " in " + ns, errno);
    }
    return fd;
}

struct OnReadable : Reactor::Handler {
    std::function<void()> fn;
    void on_events(uint32_t) override { fn(); }
};

class Measurement {
public:
    Measurement(Reactor& r, const MeasureOptions& o) : r_(r), o_(o) {
        const int buf = 8 << 20;
        echo_fd_ = udp_socket_in(o.ns_b, ipv4(o.addr_b, o.port), buf);
        sink_fd_ = udp_socket_in(o.ns_b, ipv4(o.addr_b, static_cast<uint16_t>(o.port + 1)), buf);
        ping_fd_ = udp_socket_in(o.ns_a, ipv4(o.addr_a, 0), buf);
        stream_fd_ = udp_socket_in(o.ns_a, ipv4(o.addr_a, 0), buf);
        // connect() on the A side: send() without an address, and only the peer's datagrams come back.
        sockaddr_in echo = ipv4(o.addr_b, o.port), sink = ipv4(o.addr_b, static_cast<uint16_t>(o.port + 1));
        if (::connect(ping_fd_, reinterpret_cast<sockaddr*>(&echo), sizeof echo) < 0) throw_sys("connect", "ping", errno);
        if (::connect(stream_fd_, reinterpret_cast<sockaddr*>(&sink), sizeof sink) < 0) throw_sys("connect", "stream", errno);
        got_.assign(o.stream_count, 0);
        owd_us_.reserve(o.stream_count);
        rtt_us_.reserve(o.pings);
        rtt_app_us_.reserve(o.pings);
        h_[0].fn = [this] { on_echo(); };
        h_[1].fn = [this] { on_pong(); };
        h_[2].fn = [this] { on_sink(); };
        r_.watch(echo_fd_, EPOLLIN, &h_[0]);
        r_.watch(ping_fd_, EPOLLIN, &h_[1]);
        r_.watch(sink_fd_, EPOLLIN, &h_[2]);
    }
    ~Measurement() {
        for (int fd : {echo_fd_, sink_fd_, ping_fd_, stream_fd_}) ::close(fd);
    }

    void start() {
        t0_ns_ = mono_ns();
        interval_ns_ = (o_.stream_size + kIpUdpHeaders) * 8e9 / (o_.stream_mbit * 1e6);
        if (o_.pings) ping_timer_ = r_.every(static_cast<uint64_t>(o_.ping_interval_ms * 1000), [this] { ping(); });
        else pings_done_ = true;
        if (o_.stream_count) pump();
        else stream_done_ = true;
        maybe_finish();
    }

    nlohmann::ordered_json report();
    void write_drops(const std::string& path) const;

private:
    void ping() {
        char buf[2048] = {};
        Probe p{kMagic, 0, ping_sent_, real_ns(), 0};
        std::memcpy(buf, &p, sizeof p);
        // A lost or refused ping is just a missing sample; the median does not need every one.
        if (::send(ping_fd_, buf, std::max<size_t>(o_.ping_size, sizeof p), 0) < 0) ++ping_send_errors_;
        if (++ping_sent_ == o_.pings) {
            r_.cancel(ping_timer_);
            pings_done_ = true;
            maybe_finish();
        }
    }

    // Paced: datagram k leaves at t0 + k * interval. Whatever is due is sent now (catching up after a
    // late wakeup), then the timer is armed for the next one.
    void pump() {
        char buf[2048] = {};
        uint64_t now = mono_ns();
        while (stream_sent_ < o_.stream_count && due(stream_sent_) <= now) {
            Probe p{kMagic, 1, stream_sent_, real_ns(), 0};
            std::memcpy(buf, &p, sizeof p);
            if (::send(stream_fd_, buf, std::max<size_t>(o_.stream_size, sizeof p), 0) < 0) {
                // EAGAIN: the send buffer is full of datagrams the link has not read yet. Try again soon;
                // the datagram keeps its place in the sequence.
                if (errno != EAGAIN) throw_sys("send", "stream", errno);
                ++send_eagain_;
                r_.after(100, [this] { pump(); });
                return;
            }
            if (stream_sent_ == 0) first_tx_ns_ = p.sent_ns;
            last_tx_ns_ = p.sent_ns;
            ++stream_sent_;
        }
        if (stream_sent_ < o_.stream_count) {
            r_.at(due(stream_sent_) / 1000, [this] { pump(); });
            return;
        }
        stream_done_ = true;
        maybe_finish();
    }
    uint64_t due(uint64_t k) const { return t0_ns_ + static_cast<uint64_t>(k * interval_ns_); }

    void maybe_finish() {
        if (pings_done_ && stream_done_ && !finishing_) {
            finishing_ = true;
            r_.after(static_cast<uint64_t>(o_.settle_ms * 1000), [this] { settle_done(); });
        }
    }
    // No late-packet policy of our own: a datagram that arrives after we close would be counted lost by
    // us and "delivered" by the link (the kernel's Udp NoPorts is where it would show). So while datagrams
    // are still arriving (the link was stalled and is catching up), keep listening, 100 ms at a time, up
    // to 10 s more.
    void settle_done() {
        if (mono_ns() - last_rx_mono_ns_ < 100'000'000 && ++settle_extensions_ < 100) {
            r_.after(100'000, [this] { settle_done(); });
            return;
        }
        r_.stop();
    }

    // Receive until EAGAIN (edge-triggered); `fn` gets each datagram that carries our magic, with its kernel
    // receive time (SO_TIMESTAMPNS; falls back to "now" if a datagram came without one).
    template <class Fn>
    void drain(int fd, Fn fn) {
        char buf[2048];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
        for (;;) {
            sockaddr_in from{};
            iovec iov{buf, sizeof buf};
            msghdr msg{};
            msg.msg_name = &from;
            msg.msg_namelen = sizeof from;
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            long n = ::recvmsg(fd, &msg, 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) return;
                throw_sys("recvmsg", "fd=" + std::to_string(fd), errno);
            }
            uint64_t rx_ns = 0;
            for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    timespec ts;
                    std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
                    rx_ns = static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
                }
            }
            if (!rx_ns) rx_ns = real_ns();
            last_rx_mono_ns_ = mono_ns();
            Probe p;
            if (static_cast<size_t>(n) < sizeof p) continue;
            std::memcpy(&p, buf, sizeof p);
            if (p.magic != kMagic) continue;
            fn(p, buf, static_cast<size_t>(n), from, rx_ns);
        }
    }
    void on_echo() {
        drain(echo_fd_, [this](Probe p, char* buf, size_t n, const sockaddr_in& from, uint64_t rx_ns) {
            // TWAMP-style: tell the pinger how long we held the probe, so that our own scheduling delay
            // (this process also runs the sink) is not counted as RTT.
            ++echoed_;
            p.dwell_ns = real_ns() - rx_ns;
            std::memcpy(buf, &p, sizeof p);
            if (::sendto(echo_fd_, buf, n, 0, reinterpret_cast<const sockaddr*>(&from), sizeof from) < 0) ++echo_errors_;
        });
    }
    void on_pong() {
        drain(ping_fd_, [this](const Probe& p, char*, size_t, const sockaddr_in&, uint64_t rx_ns) {
            uint64_t now = real_ns();
            rtt_us_.push_back((static_cast<double>(rx_ns) - p.sent_ns - p.dwell_ns) / 1e3);
            rtt_app_us_.push_back((now - p.sent_ns) / 1e3);
        });
    }
    void on_sink() {
        drain(sink_fd_, [this](const Probe& p, char*, size_t n, const sockaddr_in&, uint64_t rx_ns) {
            if (p.seq >= got_.size()) return;
            if (got_[p.seq]++) {
                ++duplicates_;
                return;
            }
            if (received_ && p.seq < max_seq_) ++reordered_;
            max_seq_ = std::max(max_seq_, p.seq);
            if (!received_) first_rx_ns_ = rx_ns, first_rx_bytes_ = n + kIpUdpHeaders;
            last_rx_ns_ = rx_ns;
            ++received_;
            rx_bytes_ += n + kIpUdpHeaders;
            owd_us_.push_back((static_cast<double>(rx_ns) - static_cast<double>(p.sent_ns)) / 1e3);
        });
    }

    Reactor& r_;
    MeasureOptions o_;
    int echo_fd_ = -1, sink_fd_ = -1, ping_fd_ = -1, stream_fd_ = -1;
    OnReadable h_[3];
    TimerId ping_timer_ = 0;
    bool pings_done_ = false, stream_done_ = false, finishing_ = false;
    uint64_t last_rx_mono_ns_ = 0, settle_extensions_ = 0, echoed_ = 0;
    uint64_t ping_sent_ = 0, ping_send_errors_ = 0, echo_errors_ = 0;
    std::vector<double> rtt_us_, rtt_app_us_;  // link RTT (kernel stamps, dwell removed); as the app sees it
    uint64_t t0_ns_ = 0, first_tx_ns_ = 0, last_tx_ns_ = 0;
    double interval_ns_ = 0;
    uint64_t stream_sent_ = 0, send_eagain_ = 0;
    std::vector<uint8_t> got_;
    std::vector<double> owd_us_;
    uint64_t received_ = 0, rx_bytes_ = 0, first_rx_bytes_ = 0, reordered_ = 0, duplicates_ = 0, max_seq_ = 0;
    uint64_t first_rx_ns_ = 0, last_rx_ns_ = 0;
};

double mbit(uint64_t bytes, uint64_t ns) { return ns ? bytes * 8e3 / ns : 0; }

nlohmann::ordered_json Measurement::report() {
    uint64_t ip = o_.stream_size + kIpUdpHeaders;
    // Rate over first..last arrival: the bytes after the first packet arrived in that time. At a saturated
    // bottleneck packets leave back to back, so this is the bottleneck's rate.
    double rx = received_ > 1 ? mbit(rx_bytes_ - first_rx_bytes_, last_rx_ns_ - first_rx_ns_) : 0;
    double tx = stream_sent_ > 1 ? mbit((stream_sent_ - 1) * ip, last_tx_ns_ - first_tx_ns_) : 0;
    uint64_t rtt_n = rtt_us_.size(), owd_n = owd_us_.size();
    return {
        {"rtt",
         {{"sent", ping_sent_}, {"echoed", echoed_}, {"received", rtt_n}, {"size", o_.ping_size},
          {"min_us", percentile(rtt_us_, 0)}, {"p10_us", percentile(rtt_us_, 10)},
          {"median_us", percentile(rtt_us_, 50)}, {"p90_us", percentile(rtt_us_, 90)},
          {"max_us", percentile(rtt_us_, 100)},
          {"app_median_us", percentile(rtt_app_us_, 50)}}},
        {"stream",
         {{"sent", stream_sent_}, {"size", o_.stream_size}, {"sent_ip_bytes", stream_sent_ * ip},
          {"tx_mbit", tx}, {"received", received_}, {"received_ip_bytes", rx_bytes_}, {"rx_mbit", rx},
          {"lost", stream_sent_ - received_},
          {"loss_pct", stream_sent_ ? 100.0 * (stream_sent_ - received_) / stream_sent_ : 0},
          {"reordered", reordered_}, {"duplicates", duplicates_}, {"send_eagain", send_eagain_},
          {"settle_extensions", settle_extensions_},
          {"owd_samples", owd_n}, {"owd_min_us", percentile(owd_us_, 0)}, {"owd_p1_us", percentile(owd_us_, 1)},
          {"owd_median_us", percentile(owd_us_, 50)}, {"owd_p99_us", percentile(owd_us_, 99)},
          {"owd_max_us", percentile(owd_us_, 100)}}},
    };
}

void Measurement::write_drops(const std::string& path) const {
    std::ofstream f(path);
    for (uint64_t s = 0; s < stream_sent_; ++s)
        if (!got_[s]) f << s << "\n";
}

}  // namespace

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    // Nearest rank: the smallest sample with at least p % of the samples at or below it.
    size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * v.size()));
    return v[rank ? rank - 1 : 0];
}

int measure_main(int argc, const char* const* argv) {
    MeasureOptions o;
    int rc = parse_measure_cli(argc, argv, o, std::cout, std::cerr);
    if (rc >= 0) return rc;
    if (o.rt_priority > 0) {
        // The pacing and the send timestamps are ours: a compile on the other core preempting us between
        // stamping a datagram and sending it would show up as link delay. Below the link's priority, so
        // the link still runs first. Not fatal if refused: the figures only get noisier.
        sched_param sp{};
        sp.sched_priority = o.rt_priority;
        if (::sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
            std::fprintf(stderr, "churn-link measure: %s\n", sys_message("sched_setscheduler", "SCHED_FIFO", errno).c_str());
    }
    try {
        Reactor reactor;
        reactor.on_signals({SIGINT, SIGTERM}, [&](int) { reactor.stop(); });
        Measurement m(reactor, o);
        m.start();
        reactor.run();
        nlohmann::ordered_json j = m.report();
        if (!o.drops_path.empty()) m.write_drops(o.drops_path);
        if (!o.json_path.empty()) std::ofstream(o.json_path) << j.dump(2) << "\n";
        const auto& t = j["rtt"];
        const auto& s = j["stream"];
        std::printf("churn-link measure: rtt median %.1f us (%llu/%llu answered); stream %llu/%llu received, "
                    "%.1f Mbit/s, lost %.3f %%, reordered %llu, owd median %.1f us\n",
                    t["median_us"].get<double>(), (unsigned long long)t["received"].get<uint64_t>(),
                    (unsigned long long)t["sent"].get<uint64_t>(), (unsigned long long)s["received"].get<uint64_t>(),
                    (unsigned long long)s["sent"].get<uint64_t>(), s["rx_mbit"].get<double>(),
                    s["loss_pct"].get<double>(), (unsigned long long)s["reordered"].get<uint64_t>(),
                    s["owd_median_us"].get<double>());
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "churn-link measure: %s\n", e.what());
        return 2;
    }
    return 0;
}

}  // namespace churn
