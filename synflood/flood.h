// flood.h: the paced sender. A raw IPv4 socket, a schedule on CLOCK_MONOTONIC, sendmmsg batches.
//
// The schedule: SYN k is due at t0 + k / rate. Every wakeup sends every SYN that is due by now, then sleeps
// (a reactor timer, i.e. the timerfd) until the next one is due, but at least kMinTickNs: at 20 000/s that
// is a batch of 20 per millisecond, not 20 000 wakeups a second. A wakeup that comes late (the hypervisor
// stole the CPU, another helper's compile ran) catches up at most max_burst SYNs; the rest of the delay is
// forgiven (the schedule slides, schedule_slip_s says by how much) instead of bursting thousands of SYNs
// at once into the veth, whose receiving side drops what exceeds net.core.netdev_max_backlog (1000).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "loop/reactor.h"
#include "synflood/options.h"
#include "synflood/packet.h"

namespace churn::synflood {

// SYN number n of the flood: a pure function of (options, n), so the same seed sends the same packets,
// whatever the timing did.
SynSpec syn_for(const Options& opt, uint64_t n);

// The pacing arithmetic, apart from the clock and the socket, so that tests drive it with made-up times.
// SYN k is due at start_ns + k / rate (start_ns moves forward when a stall is forgiven).
struct Schedule {
    double rate = 1000;
    uint64_t count = 0;
    uint64_t max_burst = 64;
    uint64_t start_ns = 0;
    double slip_s = 0;  // how far forgiven stalls moved start_ns

    uint64_t due_ns(uint64_t k) const;
    // How many SYNs to send at now_ns when `done` were sent already: every one due by now (SYN 0 at once),
    // never beyond count, at most max_burst (the schedule slides by the excess).
    uint64_t take(uint64_t now_ns, uint64_t done);
};

struct FloodStats {
    uint64_t attempted = 0;        // SYNs handed to sendmmsg (sent + failed)
    uint64_t sent = 0;             // accepted by the kernel (not: delivered; a veth backlog may still drop)
    std::map<int, uint64_t> errors;  // errno -> SYNs refused with it
    uint64_t syscalls = 0;         // sendmmsg calls
    double schedule_slip_s = 0;    // how far stalls pushed the schedule back
    double elapsed_s = 0;
    std::string stopped_by;        // "count", "duration", "signal"
};

// socket(AF_INET, SOCK_RAW, IPPROTO_RAW): throws std::system_error naming the call (EPERM without
// CAP_NET_RAW).
int open_raw_socket();

class Flood {
public:
    static constexpr uint64_t kMinTickNs = 1'000'000;
    static constexpr size_t kBatch = 64;  // SYNs per sendmmsg call

    Flood(Reactor& reactor, const Options& opt, int fd);
    void start();
    void stop(const char* why);  // idempotent; the reactor stops after this iteration
    const FloodStats& stats() const { return stats_; }
    uint64_t max_burst() const { return sched_.max_burst; }
    // "3.0 s  6000 sent  2000/s  errors 0"
    std::string progress() const;

private:
    void tick();
    void send_due(uint64_t n);

    Reactor& reactor_;
    const Options& opt_;
    int fd_;
    sockaddr_in dst_{};
    uint64_t t0_ns_ = 0, end_ns_ = 0;
    Schedule sched_;
    bool stopped_ = false;
    FloodStats stats_;
    std::vector<uint8_t> bufs_;
    std::vector<iovec> iov_;
    std::vector<mmsghdr> msgs_;
};

}  // namespace churn::synflood
