// relay.h: the running link. Two TUN devices, one per namespace, and one Direction per way:
//
//   ns A stack ──> tun A fd ──read──> Direction A->B: PathModel (loss, queue, rate, delay) ──> delay line
//                                       ... timer at the head's due time ──write──> tun B fd ──> ns B stack
//   and the mirror image B->A.
//
// Edge-triggered: a TUN fd is notified once per "became readable" edge. Each handler reads until EAGAIN,
// but at most kBurst packets per wakeup: the other direction and the release timers must not wait behind a
// flood (a late release shows up directly as extra RTT). A handler that stops at the cap defer()s itself so
// the reactor comes back to it before sleeping; no new edge would ever come for packets already queued.
//
// Release: each direction's delay line is FIFO and its due times never decrease (path.h), so one reactor
// timer per direction, armed for the head packet, is enough: when it fires, write every packet that is due,
// then re-arm for the new head.
//
// Timer advance: between the timerfd expiring and our write() lie a wakeup, epoll_wait's return and the
// timer dispatch, measured here at ~18 µs per packet when idle. Two of those per round trip would be ~36 µs
// of RTT the configuration never asked for (2 % of a 2 ms RTT). So each direction learns its wakeup
// lateness (a moving average), arms its timer that much (+ a margin) before the due time, and spins the last
// few µs on the clock. A packet then leaves within ~1 µs of its due time unless the loop was busy.
//
// Lateness is kept as a distribution (p50, p99, max), not only a mean: on a shared VM the mean hides the
// two shapes that matter, "every packet a little late" (wakeup cost: the advance fixes it) and "most on
// time, a few very late" (the hypervisor took the CPU away: nothing in user space fixes that, but the
// figures must show it beside the host's steal time).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "client/histogram.h"
#include "link/path.h"
#include "link/pool.h"
#include "link/ring.h"
#include "link/synack.h"
#include "loop/reactor.h"

namespace churn {

struct ReleaseStats {
    uint64_t released = 0;      // packets written at or after their due time (all of them)
    uint64_t late_over_50us = 0;  // ... of which more than 50 µs late: the loop was busy or woke late
    uint64_t late_over_1ms = 0;   // ... more than 1 ms late: a stall (another task, or a stolen CPU)
    uint64_t late_sum_ns = 0, late_max_ns = 0;
    Histogram late_us;          // how late each release was, in µs (exact below 256 µs, 0.4 % above)
    uint64_t spin_ns = 0;       // CPU spent spinning to the exact due time
    double advance_us = 0;      // the timer advance in use at exit (filled by finish())
};

class Direction : public Reactor::Handler {
public:
    // The default spin budget: never busy-wait longer than this per wakeup (--spin-max-us 100). Measured
    // (make link-timing): it takes the median release lateness from ~40 µs to ~1 µs.
    static constexpr uint64_t kMaxAdvanceNs = 100'000;

    // max_spin_ns: the most the release may busy-wait per wakeup (0: never spin, sleep to the due time).
    Direction(std::string name, Reactor& reactor, PacketPool& pool, int in_fd, int out_fd, PathModel model,
              uint64_t max_spin_ns = kMaxAdvanceNs)
        : name_(std::move(name)), reactor_(reactor), pool_(pool), in_fd_(in_fd), out_fd_(out_fd),
          model_(std::move(model)), max_spin_ns_(max_spin_ns) {}

    // --drop-synack N: drop the first N SYN-ACKs of each connection that crosses this direction.
    void drop_synacks(uint64_t n) { synack_ = n ? std::make_unique<SynAckDropper>(n) : nullptr; }
    const SynAckDropper* synack_filter() const { return synack_.get(); }

    void on_events(uint32_t events) override;  // in_fd readable
    // At stop: count what is still in flight as undelivered and give its buffers back.
    void finish();

    const std::string& name() const { return name_; }
    const PathModel& model() const { return model_; }
    const ReleaseStats& release_stats() const { return rel_; }
    int last_write_errno() const { return last_write_errno_; }
    int fatal_errno() const { return fatal_errno_; }

private:
    static constexpr int kBurst = 64;
    static constexpr uint64_t kMarginNs = 4'000;      // spin budget beyond the learned lateness
    struct InFlight {
        uint64_t due_ns;
        uint32_t slot;
        uint32_t len;
    };
    uint64_t advance_ns() const;
    void arm();
    void release();
    void deliver(const InFlight& p, uint64_t now_ns);

    std::string name_;
    Reactor& reactor_;
    PacketPool& pool_;
    int in_fd_, out_fd_;
    PathModel model_;
    std::unique_ptr<SynAckDropper> synack_;  // null without --drop-synack
    uint64_t max_spin_ns_;
    Ring<InFlight> line_{1024};
    bool armed_ = false;
    uint64_t armed_for_ns_ = 0;      // when we asked the timer to fire
    double wake_late_ns_ = 20'000;   // moving average of how late the timer callback runs
    ReleaseStats rel_;
    int last_write_errno_ = 0;
    int fatal_errno_ = 0;
};

}  // namespace churn
