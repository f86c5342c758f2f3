// path.h: what happens to one packet on one direction of the emulated link, as pure functions of time.
// No fds, no clock: the caller passes "now", so the unit tests drive it with a fake clock.
//
// The model, in the order a packet meets it (the same order netem + tbf would apply on a real router
// port, and the order the counters are named after):
//
//   arrival ──> 1. LOSS: the n-th packet of a direction meets draw n (prng.h: a function of the seed and n
//                  only); i.i.d., so a dropped packet never occupies the queue.
//           ──> 2. DROP-TAIL QUEUE at the bottleneck: the backlog is every packet that has arrived and not
//                  yet finished serialization (the one on the wire included). If adding this packet would
//                  exceed --queue-pkts or --queue-bytes, it is dropped here.
//           ──> 3. SERIALIZATION at --rate: a packet of L bytes occupies the bottleneck for L*8/rate.
//                  It starts when the previous packet's last bit has left (FIFO, back to back) or when it
//                  arrives, whichever is later:  depart = max(now, busy_until) + L*8/rate.
//           ──> 4. PROPAGATION: the packet reaches the far end at  due = depart + delay.
//
// Because depart is non-decreasing and delay is constant per direction, due is non-decreasing too: the
// delay line is a FIFO, and packets leave in the order they arrived.
//
// Time is in nanoseconds here (one 1500-byte packet at 1 Gbit/s is 12 µs; rounding each one to whole µs
// would change the rate by up to 8 %). The runtime converts due times to µs, rounding up, for the timers.
#pragma once

#include <cstdint>

#include "link/prng.h"
#include "link/ring.h"

namespace churn {

struct DirectionConfig {
    uint64_t delay_ns = 0;     // one-way propagation delay
    double loss_pct = 0;       // i.i.d. random loss, 0..100
    uint64_t rate_bps = 0;     // bottleneck, bits per second; 0 = no bottleneck (serialization takes no time)
    uint64_t queue_pkts = 0;   // drop-tail limit on the backlog in packets; 0 = no packet limit
    uint64_t queue_bytes = 0;  // drop-tail limit on the backlog in bytes;   0 = no byte limit
};

struct DirectionStats {
    uint64_t packets_in = 0, bytes_in = 0;                 // read from the entry TUN device
    uint64_t delivered_packets = 0, delivered_bytes = 0;   // written to the exit TUN device
    uint64_t dropped_synack = 0;                           // 0. --drop-synack (link/synack.h)
    uint64_t dropped_loss = 0;                             // 1. random loss
    uint64_t dropped_queue = 0;                            // 2. drop-tail overflow
    uint64_t dropped_no_buffer = 0;                        // the packet pool was at its cap (should stay 0)
    uint64_t write_errors = 0;                             // write() to the exit device failed
    // Every packet read ends in exactly one of: delivered, dropped_synack, dropped_loss, dropped_queue,
    // dropped_no_buffer, write_errors, undelivered_at_exit. So packets_in is their sum (run.cc checks it at exit).
    uint64_t undelivered_at_exit = 0;                      // still in the queue or delay line at stop
    uint64_t max_backlog_packets = 0, max_backlog_bytes = 0;
};

// Serialization time of `len` bytes at `rate_bps`, rounded up to whole ns; 0 when there is no bottleneck.
uint64_t serialization_ns(uint64_t len, uint64_t rate_bps);

// Steps 2 and 3: the drop-tail queue in front of the bottleneck, and its serializer.
class Bottleneck {
public:
    explicit Bottleneck(const DirectionConfig& cfg) : cfg_(cfg) {}

    // A packet of `len` bytes reaches the queue at `now_ns`. Returns false if drop-tail rejects it;
    // otherwise sets `depart_ns`, the time its last bit leaves the bottleneck.
    bool enqueue(uint64_t now_ns, uint64_t len, uint64_t& depart_ns);

    // The backlog as of the last enqueue() (packets not yet fully serialized at that time).
    uint64_t backlog_packets() const { return backlog_.size(); }
    uint64_t backlog_bytes() const { return backlog_bytes_; }
    uint64_t max_backlog_packets() const { return max_pkts_; }
    uint64_t max_backlog_bytes() const { return max_bytes_; }

private:
    struct Queued {
        uint64_t depart_ns;
        uint64_t len;
    };
    void forget_departed(uint64_t now_ns);

    DirectionConfig cfg_;
    Ring<Queued> backlog_;
    uint64_t backlog_bytes_ = 0;
    uint64_t busy_until_ns_ = 0;  // when the last accepted packet's last bit leaves
    uint64_t max_pkts_ = 0, max_bytes_ = 0;
};

enum class Fate { Lost, QueueFull, NoBuffer, Deliver };

struct Verdict {
    Fate fate;
    uint64_t depart_ns;  // Deliver only: serialization done
    uint64_t due_ns;     // Deliver only: arrives at the far end
};

// The whole direction: loss, then the bottleneck, then the delay. Counts what it decides.
class PathModel {
public:
    PathModel(const DirectionConfig& cfg, LossDraw loss) : cfg_(cfg), loss_(loss), bottleneck_(cfg) {}

    Verdict arrive(uint64_t now_ns, uint64_t len);
    // A packet the runtime had no buffer for (read into scratch, cannot be held). It still takes its loss
    // draw, so packet n keeps its verdict: counted as a loss if the seed says so, else as no_buffer.
    Fate refuse(uint64_t len);
    // A packet the --drop-synack filter took (step 0, before loss). It still uses up its index n, so every
    // later packet meets the same loss draw it would have met had this one passed.
    void drop_synack(uint64_t len);

    const DirectionConfig& config() const { return cfg_; }
    const Bottleneck& bottleneck() const { return bottleneck_; }
    DirectionStats& stats() { return stats_; }
    const DirectionStats& stats() const { return stats_; }

private:
    DirectionConfig cfg_;
    LossDraw loss_;
    Bottleneck bottleneck_;
    DirectionStats stats_;
};

}  // namespace churn
