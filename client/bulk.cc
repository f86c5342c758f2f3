#include "client/bulk.h"

// linux/tcp.h, not netinet/tcp.h: glibc's struct tcp_info stops at tcpi_total_retrans, and the fields this
// experiment is about (delivery_rate, pacing_rate, bytes_acked) come later. The two headers clash, so
// this file includes only the kernel's.
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "loop/clock.h"
#include "loop/socket.h"
#include "loop/sys.h"

namespace churn {

namespace {
constexpr size_t kWriteChunk = 256 * 1024;
// TCP_CA_NAME_MAX (16) lives in the kernel's include/net/tcp.h, not in the uapi headers.
constexpr size_t kCaNameMax = 16;
// tcp_info grows with kernel versions; we read what we need up to tcpi_delivery_rate (kernel >= 4.9).
static_assert(offsetof(struct tcp_info, tcpi_delivery_rate) + sizeof(__u64) <= sizeof(struct tcp_info),
              "linux/tcp.h too old: tcp_info has no tcpi_delivery_rate");
// "Infinite" ssthresh before the first loss: TCP_INFINITE_SSTHRESH in the kernel.
constexpr uint32_t kInfiniteSsthresh = 0x7fffffff;
}  // namespace

TcpSample sample_from(const struct tcp_info& ti, double t_s) {
    TcpSample s;
    s.t_s = t_s;
    s.state = ti.tcpi_state;
    s.cwnd = ti.tcpi_snd_cwnd;
    s.ssthresh = ti.tcpi_snd_ssthresh;
    s.mss = ti.tcpi_snd_mss;
    s.retrans = ti.tcpi_retrans;
    s.total_retrans = ti.tcpi_total_retrans;
    s.lost = ti.tcpi_lost;
    s.rtt_us = ti.tcpi_rtt;
    s.rttvar_us = ti.tcpi_rttvar;
    s.rto_us = ti.tcpi_rto;
    s.delivery_rate = ti.tcpi_delivery_rate;
    s.pacing_rate = ti.tcpi_pacing_rate;
    s.bytes_acked = ti.tcpi_bytes_acked;
    return s;
}

std::string ss_style_line(const TcpSample& s, const std::string& cc, uint8_t snd_wscale, uint8_t rcv_wscale) {
    // ss prints rates in bps with a unit, rtt as srtt/rttvar in ms, and ssthresh only when it is set.
    auto rate = [](uint64_t bytes_per_s) {
        char b[32];
        double bps = bytes_per_s * 8.0;
        if (bps >= 1e9) snprintf(b, sizeof b, "%.1fGbps", bps / 1e9);
        else if (bps >= 1e6) snprintf(b, sizeof b, "%.1fMbps", bps / 1e6);
        else snprintf(b, sizeof b, "%.0fKbps", bps / 1e3);
        return std::string(b);
    };
    char line[512];
    int n = snprintf(line, sizeof line, "%s wscale:%u,%u rto:%u rtt:%.3f/%.3f mss:%u cwnd:%u", cc.c_str(), snd_wscale,
                     rcv_wscale, s.rto_us / 1000, s.rtt_us / 1000.0, s.rttvar_us / 1000.0, s.mss, s.cwnd);
    std::string out(line, static_cast<size_t>(n));
    if (s.ssthresh < kInfiniteSsthresh) out += " ssthresh:" + std::to_string(s.ssthresh);
    out += " bytes_acked:" + std::to_string(s.bytes_acked);
    out += " retrans:" + std::to_string(s.retrans) + "/" + std::to_string(s.total_retrans);
    if (s.lost) out += " lost:" + std::to_string(s.lost);
    out += " delivery_rate " + rate(s.delivery_rate) + " pacing_rate " + rate(s.pacing_rate);
    return out;
}

BulkSender::BulkSender(Reactor& reactor, const Options& opt, size_t write_cap)
    : reactor_(reactor), opt_(opt), write_cap_(write_cap), buf_(kWriteChunk, 'x') {}

BulkSender::~BulkSender() {
    if (fd_ >= 0) {
        if (reactor_.watching(fd_)) reactor_.forget(fd_);
        // The run is over and measured; what is still in the send buffer (megabytes) is not part of it.
        // A plain close() would queue a FIN behind those bytes and the kernel would keep sending them
        // after we exit, an orphan competing with the next run on the same path (for minutes at CUBIC's
        // pace under loss). SO_LINGER {1, 0} makes close() drop them and send RST instead.
        if (connected_) set_linger0(fd_);
        ::close(fd_);
    }
}

void BulkSender::start() {
    std::string cc = opt_.cc;
    int mss = opt_.mss;
    SockResult c = connect_tcp(opt_.url.endpoint, [&cc, mss](int fd) {
        // --mss: before connect(), so the SYN advertises it (loop/socket.cc, set_maxseg).
        if (mss) {
            if (int err = set_maxseg(fd, mss).error()) return err;
        }
        if (cc.empty()) return 0;
        // Per socket, before connect(): the experiment compares algorithms on the same path without
        // touching the namespace's net.ipv4.tcp_congestion_control. ENOENT means the kernel has no such
        // algorithm (and could not load it).
        if (::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc.data(), static_cast<socklen_t>(cc.size())) < 0)
            return errno;
        return 0;
    });
    if (c.status == Io::Error) {
        error_ = sys_message("connect", opt_.url.endpoint.str() + (cc.empty() ? "" : ", TCP_CONGESTION=" + cc), c.err);
        reactor_.stop();
        return;
    }
    fd_ = c.fd;
    reactor_.watch(fd_, EPOLLOUT | EPOLLRDHUP, this);
    if (c.status == Io::Ok) on_connected();
}

void BulkSender::on_events(uint32_t events) {
    if (!connected_) {
        if (int err = take_socket_error(fd_).error()) {
            error_ = sys_message("connect", opt_.url.endpoint.str(), err);
            return stop();
        }
        on_connected();
        return;
    }
    if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        error_ = "the receiver closed the connection after " + std::to_string(bytes_written_) + " bytes";
        return stop();
    }
    if (events & EPOLLOUT) fill();
}

void BulkSender::on_connected() {
    connected_ = true;
    t_connected_us_ = mono_us();
    t_end_us_ = t_connected_us_ + static_cast<uint64_t>(opt_.duration_s * 1e6);
    char name[kCaNameMax + 1] = {};
    socklen_t len = kCaNameMax;
    if (::getsockopt(fd_, IPPROTO_TCP, TCP_CONGESTION, name, &len) == 0) cc_ = name;
    reactor_.at(t_end_us_, [this] { stop(); });
    sampler_ = reactor_.every(static_cast<uint64_t>(opt_.sample_ms * 1000), [this] { take_sample(); });
    fill();
}

void BulkSender::fill() {
    // Edge-triggered: write until the send buffer is full (EAGAIN); the next EPOLLOUT edge comes when
    // ACKs free room. The kernel decides how fast that is: that is the congestion control under test.
    for (size_t sent = 0;;) {
        if (sent >= write_cap_) {
            // Fairness with our own timers: on loopback (or any path faster than our copies) the send
            // buffer drains as fast as we fill it and EAGAIN may not come for seconds, while the TCP_INFO
            // sampler (every --sample-ms) and the end of the run wait behind us. Come back through the
            // ready list: no new EPOLLOUT edge would come for room that is already there.
            return reactor_.defer(fd_, EPOLLOUT);
        }
        // The last write of a wakeup asks only for what is left of the cap: a bound, not a threshold.
        // With --bytes, the last write of the run asks only for what is left of N: exactly N, never more.
        size_t want = std::min(buf_.size(), write_cap_ - sent);
        if (opt_.bytes) want = static_cast<size_t>(std::min<uint64_t>(want, opt_.bytes - bytes_written_));
        IoResult r = write_some(fd_, buf_.data(), want);
        if (r.status == Io::Ok) {
            sent += r.bytes;
            bytes_written_ += r.bytes;
            if (opt_.bytes && bytes_written_ == opt_.bytes) return close_after_bytes();
            continue;
        }
        if (r.status == Io::WouldBlock) return;
        error_ = sys_message("send", "fd=" + std::to_string(fd_), r.err);
        return stop();
    }
}

void BulkSender::close_after_bytes() {
    // The sampler's last word (bytes_acked, retransmits) needs the socket: stop() takes it, then we close.
    stop();
    if (opt_.linger0) {
        // --linger0 (run-levers row 6, the data-loss case): close() becomes an abortive close. The kernel
        // drops the whole send queue, sends RST and forgets the connection: nothing in the queue is ever
        // sent or retransmitted, and the receiver, after the bytes that reached it, reads ECONNRESET
        // (churn-server --discard counts it in closes.reset) instead of EOF. write() had accepted those
        // bytes; no error ever tells this sender they were lost.
        if (int err = set_linger0(fd_).error()) error_ = sys_message("setsockopt", "SO_LINGER {1,0}, fd=" + std::to_string(fd_), err);
    }
    // Just before close(), what the kernel still holds. SIOCOUTQ is write_seq - snd_una: every byte
    // write() accepted that the peer has not acknowledged, sent or not. SIOCOUTQNSD is write_seq - snd_nxt:
    // only the bytes never put on the wire. SIOCOUTQ ("unsent_at_close") is the count the sender can stand
    // behind for "accepted but never delivered": an ACK is its only proof of delivery, and after an RST it
    // keeps no copy to retransmit, so an unacknowledged segment lost on the path is lost for good. It is an
    // upper bound: segments already in flight may still arrive. SIOCOUTQNSD ("notsent_at_close") is the
    // lower bound, the bytes that certainly never left. On the lab's veth, which keeps order and loses
    // nothing, the in-flight ones do arrive before the RST, and the receiver's count came out as exactly
    // written - notsent_at_close (t_client_linger0); SIOCOUTQ over-counted by the bytes in flight.
    int outq = 0, notsent = 0;
    if (::ioctl(fd_, SIOCOUTQ, &outq) < 0) error_ = sys_message("ioctl", "SIOCOUTQ, fd=" + std::to_string(fd_), errno);
    else unsent_at_close_ = outq;
    if (::ioctl(fd_, SIOCOUTQNSD, &notsent) < 0) error_ = sys_message("ioctl", "SIOCOUTQNSD, fd=" + std::to_string(fd_), errno);
    else notsent_at_close_ = notsent;
    reactor_.forget(fd_);
    // Without --linger0 a plain close(): the FIN queues behind the data and the kernel, owning the socket
    // now, delivers every byte after we exit (receiver's count == bytes_written).
    if (int err = close_fd(fd_).error()) error_ = sys_message("close", "fd=" + std::to_string(fd_), err);
    fd_ = -1;
    closed_ = true;
}

void BulkSender::take_sample() {
    struct tcp_info ti {};
    socklen_t len = sizeof ti;
    if (::getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0) {
        error_ = sys_message("getsockopt", "TCP_INFO", errno);
        return stop();
    }
    double t = (mono_us() - t_connected_us_) / 1e6;
    TcpSample s = sample_from(ti, t);
    s.goodput_mbps = t > prev_t_s_ ? (s.bytes_acked - prev_acked_) * 8 / (t - prev_t_s_) / 1e6 : 0;
    prev_acked_ = s.bytes_acked;
    prev_t_s_ = t;
    snd_wscale_ = ti.tcpi_snd_wscale;
    rcv_wscale_ = ti.tcpi_rcv_wscale;
    samples_.push_back(s);
    // Keep three ss-style lines from the middle of the run (at 40, 50 and 60 % of it), where neither slow
    // start nor the end shows.
    if (ss_lines_.size() < 3 && t >= opt_.duration_s * (0.4 + 0.1 * ss_lines_.size()))
        ss_lines_.push_back(ss_style_line(s, cc_, snd_wscale_, rcv_wscale_));
}

void BulkSender::stop() {
    // --bytes and the clock ran out first: the run did not do what it was asked, say so (exit 1).
    if (opt_.bytes && !closed_ && bytes_written_ < opt_.bytes && connected_ && error_.empty())
        error_ = "--duration ended after " + std::to_string(bytes_written_) + " of --bytes " + std::to_string(opt_.bytes);
    if (sampler_) {
        if (connected_ && error_.empty()) take_sample();  // the last word on bytes acknowledged
        reactor_.cancel(sampler_);
        sampler_ = 0;
    }
    reactor_.stop();
}

nlohmann::json BulkSender::json() const {
    nlohmann::json j;
    j["tool"] = "churn-client";
    j["mode"] = "bulk";
    j["target"] = opt_.url.endpoint.str();
    j["cc"] = cc_.empty() ? opt_.cc : cc_;
    j["duration_s"] = opt_.duration_s;
    if (!error_.empty()) j["error"] = error_;
    double elapsed = samples_.empty() ? 0 : samples_.back().t_s;
    uint64_t acked = samples_.empty() ? 0 : samples_.back().bytes_acked;
    j["bytes_written"] = bytes_written_;
    j["linger0"] = opt_.linger0;
    if (opt_.bytes) {
        j["bytes"] = opt_.bytes;
        j["closed"] = !closed_ ? "by --duration (RST)" : opt_.linger0 ? "after --bytes, RST (SO_LINGER {1,0})" : "after --bytes, FIN";
        j["unsent_at_close"] = unsent_at_close_ >= 0 ? nlohmann::json(unsent_at_close_) : nlohmann::json(nullptr);
        j["notsent_at_close"] = notsent_at_close_ >= 0 ? nlohmann::json(notsent_at_close_) : nlohmann::json(nullptr);
    }
    j["bytes_acked"] = acked;
    j["goodput_mbps"] = elapsed > 0 ? acked * 8 / elapsed / 1e6 : 0.0;
    j["retrans"] = samples_.empty() ? 0 : samples_.back().total_retrans;
    double cwnd = 0, ssthresh = 0;
    size_t n_ss = 0;
    for (const TcpSample& s : samples_) {
        cwnd += s.cwnd;
        if (s.ssthresh < kInfiniteSsthresh) ssthresh += s.ssthresh, ++n_ss;
    }
    j["mean_cwnd"] = samples_.empty() ? 0.0 : cwnd / samples_.size();
    j["mean_ssthresh"] = n_ss ? ssthresh / n_ss : 0.0;
    j["mss"] = samples_.empty() ? 0 : samples_.back().mss;  // tcp_info's snd_mss, as the handshake settled it
    j["mss_option"] = opt_.mss ? nlohmann::json(opt_.mss) : nlohmann::json(nullptr);  // --mss, null when unset
    j["ss_lines"] = ss_lines_;
    nlohmann::json arr = nlohmann::json::array();
    for (const TcpSample& s : samples_)
        arr.push_back({{"t", s.t_s},
                       {"cwnd", s.cwnd},
                       {"ssthresh", s.ssthresh < kInfiniteSsthresh ? nlohmann::json(s.ssthresh) : nlohmann::json(nullptr)},
                       {"retrans", s.retrans},
                       {"total_retrans", s.total_retrans},
                       {"lost", s.lost},
                       {"srtt_us", s.rtt_us},
                       {"rttvar_us", s.rttvar_us},
                       {"delivery_rate_bps", s.delivery_rate * 8},
                       {"pacing_rate_bps", s.pacing_rate * 8},
                       {"bytes_acked", s.bytes_acked},
                       {"goodput_mbps", s.goodput_mbps}});
    j["samples"] = arr;
    return j;
}

std::string BulkSender::summary() const {
    nlohmann::json j = json();
    char line[256];
    // --bytes may end the run long before --duration: then say how long it really took.
    double secs = closed_ && !samples_.empty() ? samples_.back().t_s : opt_.duration_s;
    snprintf(line, sizeof line, "churn-client: bulk %s to %s for %.2f s: goodput %.2f Mbit/s, %llu retransmits, mean cwnd %.1f",
             j["cc"].get<std::string>().c_str(), j["target"].get<std::string>().c_str(), secs,
             j["goodput_mbps"].get<double>(), static_cast<unsigned long long>(j["retrans"].get<uint64_t>()),
             j["mean_cwnd"].get<double>());
    std::string out = line;
    if (closed_) {
        snprintf(line, sizeof line, "\n  --bytes: %llu written, then %s with %lld still in the send queue (SIOCOUTQ; %lld never sent)",
                 static_cast<unsigned long long>(bytes_written_), opt_.linger0 ? "RST" : "FIN",
                 static_cast<long long>(unsent_at_close_), static_cast<long long>(notsent_at_close_));
        out += line;
    }
    if (!error_.empty()) out += "\n  error: " + error_;
    for (const std::string& l : ss_lines_) out += "\n  " + l;
    return out;
}

}  // namespace churn
