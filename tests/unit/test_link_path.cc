// churn-link's scheduling math as pure functions of a fake clock (ns): serialization, back-to-back
// departures, propagation delay, drop-tail by packets and by bytes, and loss before the queue.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "link/path.h"
#include "link/pool.h"
#include "link/ring.h"

using namespace churn;

namespace {
constexpr uint64_t us = 1000, ms = 1000 * us;
DirectionConfig cfg(uint64_t delay_ns, uint64_t rate_bps, uint64_t qp = 0, uint64_t qb = 0, double loss = 0) {
    DirectionConfig c;
    c.delay_ns = delay_ns;
    c.rate_bps = rate_bps;
    c.queue_pkts = qp;
    c.queue_bytes = qb;
    c.loss_pct = loss;
    return c;
}
PathModel model(const DirectionConfig& c, uint64_t seed = 1) { return PathModel(c, LossDraw(seed, c.loss_pct)); }
}  // namespace

TEST_CASE("link path: serialization time is L*8/rate, rounded up, and 0 without a bottleneck") {
    CHECK(serialization_ns(1500, 100'000'000) == 120 * us);  // 1500 B at 100 Mbit/s
    CHECK(serialization_ns(1500, 1'000'000'000) == 12 * us);
    CHECK(serialization_ns(92, 100'000'000) == 7360);
    CHECK(serialization_ns(1, 3) == 2'666'666'667);           // 8e9/3 = 2666666666.67, up
    CHECK(serialization_ns(1500, 0) == 0);
}

TEST_CASE("link path: packets arriving together leave the bottleneck back to back, then the delay") {
    PathModel m = model(cfg(10 * ms, 100'000'000));
    uint64_t t = 5 * ms;
    for (int i = 1; i <= 3; ++i) {
        Verdict v = m.arrive(t, 1500);
        REQUIRE(v.fate == Fate::Deliver);
        CHECK(v.depart_ns == t + i * 120 * us);
        CHECK(v.due_ns == v.depart_ns + 10 * ms);
    }
    CHECK(m.bottleneck().backlog_packets() == 3);
    CHECK(m.stats().max_backlog_packets == 3);
    CHECK(m.stats().max_backlog_bytes == 4500);
}

TEST_CASE("link path: an idle bottleneck starts a packet on arrival; a busy one when the last is done") {
    PathModel m = model(cfg(1 * ms, 100'000'000));
    Verdict a = m.arrive(0, 1500);            // on the wire 0..120 us
    Verdict b = m.arrive(50 * us, 1500);      // waits for a: 120..240 us
    Verdict c = m.arrive(1000 * us, 1500);    // idle again: 1000..1120 us
    CHECK(a.depart_ns == 120 * us);
    CHECK(b.depart_ns == 240 * us);
    CHECK(c.depart_ns == 1120 * us);
    CHECK(c.due_ns == 2120 * us);
    CHECK(m.bottleneck().backlog_packets() == 1);  // a and b have left by t = 1000 us
}

TEST_CASE("link path: drop-tail by packets counts the packet on the wire, and frees a place as it leaves") {
    PathModel m = model(cfg(0, 100'000'000, 2));
    CHECK(m.arrive(0, 1500).fate == Fate::Deliver);  // on the wire until 120 us
    CHECK(m.arrive(0, 1500).fate == Fate::Deliver);  // waiting, until 240 us
    CHECK(m.arrive(0, 1500).fate == Fate::QueueFull);
    CHECK(m.arrive(119 * us, 1500).fate == Fate::QueueFull);
    Verdict v = m.arrive(120 * us, 1500);             // the first has left: room for one
    CHECK(v.fate == Fate::Deliver);
    CHECK(v.depart_ns == 360 * us);                   // behind the second, back to back
    CHECK(m.stats().dropped_queue == 2);
    CHECK(m.stats().max_backlog_packets == 2);
}

TEST_CASE("link path: drop-tail by bytes refuses a packet that would not fit, but a smaller one may") {
    PathModel m = model(cfg(0, 100'000'000, 0, 3100));
    CHECK(m.arrive(0, 1500).fate == Fate::Deliver);
    CHECK(m.arrive(0, 1500).fate == Fate::Deliver);   // 3000 of 3100 bytes
    CHECK(m.arrive(0, 1500).fate == Fate::QueueFull);
    CHECK(m.arrive(0, 100).fate == Fate::Deliver);    // exactly 3100
    CHECK(m.arrive(0, 1).fate == Fate::QueueFull);
    CHECK(m.bottleneck().backlog_bytes() == 3100);
    CHECK(m.stats().max_backlog_bytes == 3100);
    CHECK(m.stats().dropped_queue == 2);
}

TEST_CASE("link path: without a rate nothing queues, so a queue limit never drops") {
    PathModel m = model(cfg(3 * ms, 0, 1));
    for (int i = 0; i < 100; ++i) {
        Verdict v = m.arrive(7 * us, 1500);
        REQUIRE(v.fate == Fate::Deliver);
        CHECK(v.due_ns == 7 * us + 3 * ms);
    }
    CHECK(m.stats().dropped_queue == 0);
    CHECK(m.stats().max_backlog_packets == 0);
}

TEST_CASE("link path: loss comes first, so a lost packet takes no place in the queue") {
    PathModel m = model(cfg(0, 100'000'000, 1, 0, 100.0));
    for (int i = 0; i < 10; ++i) CHECK(m.arrive(0, 1500).fate == Fate::Lost);
    CHECK(m.stats().dropped_loss == 10);
    CHECK(m.stats().dropped_queue == 0);
    CHECK(m.bottleneck().backlog_packets() == 0);
    CHECK(m.stats().packets_in == 10);
    CHECK(m.stats().bytes_in == 15000);
}

TEST_CASE("link path: the k-th packet meets the k-th loss draw whatever the queue does") {
    // Same seed, one path with a tiny queue that drops most packets, one without a queue limit: the
    // packets lost to the PRNG are the same ones.
    PathModel tight = model(cfg(0, 1'000'000, 1, 0, 10.0), 77), roomy = model(cfg(0, 1'000'000, 0, 0, 10.0), 77);
    int queue_drops = 0;
    for (int k = 0; k < 10'000; ++k) {
        Verdict a = tight.arrive(k * us, 1500), b = roomy.arrive(k * us, 1500);
        CHECK((a.fate == Fate::Lost) == (b.fate == Fate::Lost));
        queue_drops += a.fate == Fate::QueueFull;
    }
    CHECK(queue_drops > 5'000);
    CHECK(tight.stats().dropped_loss == roomy.stats().dropped_loss);
}

TEST_CASE("link path: packet n's loss verdict is draw n, whatever the arrival times and refusals") {
    // The same 10 000 packets through three paths with one seed: one arriving evenly, one in bursts
    // with long stalls (a stolen CPU), one where every 13th packet had no buffer (refuse()). Each
    // packet's "lost or not" is LossDraw::drop(n), in all three.
    DirectionConfig c = cfg(5 * ms, 100'000'000, 0, 0, 3.0);
    PathModel even = model(c, 5), bursty = model(c, 5), starved = model(c, 5);
    LossDraw truth(5, 3.0);
    uint64_t t = 0;
    for (uint64_t n = 0; n < 10'000; ++n) {
        t += n % 500 == 0 ? 30 * ms : 0;  // nothing for 30 ms, then 500 at the same instant
        bool want = truth.drop(n);
        REQUIRE((even.arrive(n * 10 * us, 1500).fate == Fate::Lost) == want);
        REQUIRE((bursty.arrive(t, 1500).fate == Fate::Lost) == want);
        Fate f = n % 13 == 0 ? starved.refuse(1500) : starved.arrive(n * 10 * us, 1500).fate;
        REQUIRE((f == Fate::Lost) == want);
        if (n % 13 == 0 && !want) REQUIRE(f == Fate::NoBuffer);
    }
    CHECK(even.stats().dropped_loss == bursty.stats().dropped_loss);
    CHECK(even.stats().dropped_loss == starved.stats().dropped_loss);
    CHECK(starved.stats().dropped_no_buffer > 700);
}

TEST_CASE("link path: every packet in has exactly one fate (in = deliver + loss + queue + no buffer)") {
    PathModel m = model(cfg(1 * ms, 10'000'000, 20, 0, 2.0), 9);
    uint64_t delivered = 0;
    for (uint64_t n = 0; n < 20'000; ++n) {
        Fate f = n % 97 == 0 ? m.refuse(1000) : m.arrive(n * 100, 1000).fate;  // 80 Mbit/s into 10: queue drops
        delivered += f == Fate::Deliver;
    }
    const DirectionStats& s = m.stats();
    CHECK(s.dropped_queue > 1000);
    CHECK(s.dropped_loss > 100);
    CHECK(s.packets_in == delivered + s.dropped_loss + s.dropped_queue + s.dropped_no_buffer);
}

TEST_CASE("link path: due times never decrease and delivered = due - depart = delay (FIFO, constant delay)") {
    PathModel m = model(cfg(25 * ms, 100'000'000, 50, 0, 1.0));
    uint64_t t = 0, last_due = 0;
    uint64_t lens[] = {40, 1500, 576, 1500, 92, 1500, 1500, 1};
    for (int k = 0; k < 20'000; ++k) {
        t += (k * 7919) % 200 * us / 2;  // irregular gaps, bursts included (gap 0)
        Verdict v = m.arrive(t, lens[k % 8]);
        if (v.fate != Fate::Deliver) continue;
        CHECK(v.due_ns >= last_due);
        CHECK(v.due_ns - v.depart_ns == 25 * ms);
        CHECK(v.depart_ns >= t + serialization_ns(lens[k % 8], 100'000'000));
        last_due = v.due_ns;
    }
    const DirectionStats& s = m.stats();
    CHECK(s.packets_in == 20'000);
    CHECK(s.max_backlog_packets <= 50);
}

TEST_CASE("link ring: FIFO across wrap-around and growth") {
    Ring<int> r(4);
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < round % 7 + 1; ++i) r.push_back(next_in++);
        for (int i = 0; i < round % 5 && !r.empty(); ++i) {
            CHECK(r.front() == next_out++);
            r.pop_front();
        }
    }
    while (!r.empty()) {
        CHECK(r.front() == next_out++);
        r.pop_front();
    }
    CHECK(next_in == next_out);
}

TEST_CASE("link pool: slots are reused, and the cap is a cap") {
    PacketPool p(512);
    std::vector<uint32_t> taken;
    for (int i = 0; i < 512; ++i) taken.push_back(p.take());
    CHECK(p.take() == PacketPool::kNone);
    CHECK(p.allocated() == 512);
    p.give(taken[3]);
    CHECK(p.take() == taken[3]);
    for (uint32_t s : taken) p.give(s);
    CHECK(p.in_use() == 0);
    // Distinct memory per slot.
    CHECK(p.data(0) + PacketPool::kSlotBytes == p.data(1));
}
