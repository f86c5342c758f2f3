#include "link/relay.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "loop/clock.h"
#include "loop/sys.h"

namespace churn {

void Direction::on_events(uint32_t) {
    for (int n = 0; n < kBurst; ++n) {
        uint32_t slot = pool_.take();
        char scratch[PacketPool::kSlotBytes];
        char* buf = slot == PacketPool::kNone ? scratch : pool_.data(slot);
        // One read() = one whole IP packet: a TUN fd is a packet interface, never a byte stream.
        IoResult r = read_some(in_fd_, buf, PacketPool::kSlotBytes);
        if (r.status != Io::Ok) {
            if (slot != PacketPool::kNone) pool_.give(slot);
            if (r.status == Io::WouldBlock) return;  // drained: the next packet brings a new edge
            // EOF or an error on a TUN fd means the device is gone (EBADFD once detached): the link is
            // broken, and carrying on would only count phantom losses. Stop the run.
            fatal_errno_ = r.status == Io::Error ? r.err : EBADFD;
            std::fprintf(stderr, "churn-link: %s\n",
                         sys_message("read", name_ + " entry TUN fd=" + std::to_string(in_fd_), fatal_errno_).c_str());
            reactor_.stop();
            return;
        }
        // Stamped after the read: the time the packet reached the link as far as we can know (a TUN fd
        // has no receive timestamps). Under load this is late by however long the packet sat in the
        // device's queue before we got to it.
        uint64_t now_ns = mono_ns();
        // 0. --drop-synack, before the pool check: a SYN-ACK counts toward its N whether or not we had a
        //    buffer for it, so "the first N" means the first N that reached the link.
        if (synack_ && synack_->drop(reinterpret_cast<const uint8_t*>(buf), r.bytes)) {
            model_.drop_synack(r.bytes);
            if (slot != PacketPool::kNone) pool_.give(slot);
            continue;
        }
        if (slot == PacketPool::kNone) {
            // Pool at its cap: the packet is read (so the device's queue keeps moving) and dropped. It still
            // takes its loss draw (refuse), so the packets after it keep theirs. Counted apart; it means
            // --queue/--delay are larger than the pool allows.
            model_.refuse(r.bytes);
            continue;
        }
        Verdict v = model_.arrive(now_ns, r.bytes);
        if (v.fate != Fate::Deliver) {
            pool_.give(slot);
            continue;
        }
        InFlight p{v.due_ns, slot, static_cast<uint32_t>(r.bytes)};
        if (line_.empty() && v.due_ns <= now_ns) {
            deliver(p, now_ns);  // zero delay and no queue: no timer round trip
            continue;
        }
        line_.push_back(p);
        if (!armed_) arm();
    }
    // Stopped at the cap with (maybe) more to read: come back before the reactor sleeps.
    reactor_.defer(in_fd_, EPOLLIN);
}

void Direction::deliver(const InFlight& p, uint64_t now_ns) {
    // write() on a TUN fd hands the packet to the namespace's stack as if it had arrived on the device
    // (netif_rx); it does not block and it takes the whole packet or fails. Failure is counted, not fatal:
    // EIO while the far device is still down (link.sh has not set it up yet), EINVAL for a packet the
    // stack cannot parse.
    // ::write directly, not loop/sys.h's write_some(): that one tries send() first and falls back to
    // write() on ENOTSOCK, one wasted syscall per packet on a TUN fd. EINTR cannot happen (SIGINT and
    // SIGTERM are blocked for the signalfd) but costs nothing to honour.
    long rc;
    int saved;
    do {
        rc = ::write(out_fd_, pool_.data(p.slot), p.len);
        saved = errno;
    } while (rc < 0 && saved == EINTR);
    IoResult w = classify_write(rc, saved);
    if (w.status == Io::Ok) {
        ++model_.stats().delivered_packets;
        model_.stats().delivered_bytes += p.len;
    } else {
        ++model_.stats().write_errors;
        last_write_errno_ = w.status == Io::Error ? w.err : EAGAIN;
    }
    uint64_t late = now_ns > p.due_ns ? now_ns - p.due_ns : 0;
    ++rel_.released;
    rel_.late_sum_ns += late;
    rel_.late_max_ns = std::max(rel_.late_max_ns, late);
    rel_.late_us.record((late + 500) / 1000);
    if (late > 50'000) ++rel_.late_over_50us;
    if (late > 1'000'000) ++rel_.late_over_1ms;
    pool_.give(p.slot);
}

uint64_t Direction::advance_ns() const {
    if (max_spin_ns_ == 0) return 0;  // no busy-wait: sleep until the due time itself
    return std::min<uint64_t>(static_cast<uint64_t>(wake_late_ns_) + kMarginNs, max_spin_ns_);
}

void Direction::arm() {
    // Early by the learned wakeup lateness, so the callback runs just before the head is due (see header).
    // Never before now: a target in the past would fire at once and then be counted as lateness it was not.
    uint64_t now = mono_ns(), adv = advance_ns(), head = line_.front().due_ns;
    uint64_t at_ns = std::max(head > adv ? head - adv : 0, now);
    armed_ = true;
    armed_for_ns_ = at_ns;
    // The reactor's timers are in whole µs: round down, so we are early rather than late.
    reactor_.at(at_ns / 1000, [this] { release(); });
}

void Direction::release() {
    armed_ = false;
    uint64_t now = mono_ns();
    // Learn how late timer callbacks run. A long stall (the loop was busy reading a burst) is not typical
    // wakeup latency; cap what one sample can teach so the advance does not jump to the cap and burn CPU.
    double late = static_cast<double>(std::min<uint64_t>(now - std::min(now, armed_for_ns_), kMaxAdvanceNs));
    wake_late_ns_ += (late - wake_late_ns_) / 16;
    uint64_t spin_until = now + advance_ns();
    while (!line_.empty() && line_.front().due_ns <= spin_until) {
        // Due within the advance window: spin on the vDSO clock (no syscall) until the exact due time.
        uint64_t t0 = now;
        while (now < line_.front().due_ns) now = mono_ns();
        rel_.spin_ns += now - t0;
        deliver(line_.front(), now);
        line_.pop_front();
        now = mono_ns();
    }
    if (!line_.empty()) arm();
}

void Direction::finish() {
    rel_.advance_us = advance_ns() / 1e3;
    model_.stats().undelivered_at_exit += line_.size();
    while (!line_.empty()) {
        pool_.give(line_.front().slot);
        line_.pop_front();
    }
}

}  // namespace churn
