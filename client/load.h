// load.h: the schedule. Decides when each request is due and which slot carries it.
//
// Open loop (-R RATE): request k is due at t0 + k/RATE whatever happens to earlier ones, so a stall
// shows up as latency and queueing, not as a quietly lower offered rate. --trace FILE is open loop too:
// request k is due at t0 + line k's t_us, and carries that line's sizes. Closed loop (no -R): each slot
// sends its next request as soon as the previous one is done.
//
// A connect that fails is counted by errno and its request goes back to the schedule (retry after
// --retry-delay). If connect() failed inside the syscall (EADDRNOTAVAIL, EMFILE) the condition belongs
// to the host, not to one request, so new connects pause for the retry delay instead of spinning on a
// port search that costs milliseconds of kernel CPU each time (../shared/FACTS.md).
//
// With --pattern pipeline the schedule's unit is a SEND of K requests: -R, -n and the trace's lines
// count sends, while every count in the results (ok, failed, scheduled, latency) counts requests.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/conn.h"
#include "client/options.h"
#include "client/stats.h"
#include "loop/reactor.h"

namespace churn {

class Load {
public:
    Load(Reactor& reactor, const Options& opt, Stats& stats);
    ~Load();

    void start();
    void stop_early();  // SIGINT/SIGTERM: finish now, report what was measured
    double elapsed_s() const;

    const Options& options() const { return opt_; }
    // What a send writes: the same Pieces for every send, or with --trace the ones for its line's sizes.
    const Pieces& pieces_for(const Request& r) const;
    // Requests per send: K with --pattern pipeline, else 1.
    uint32_t per_send() const { return opt_.pipeline; }

    // ---- called by Conn ----
    void slot_free(Conn& c, uint64_t now_us = 0);
    void reconnect_later(Conn& c);
    void handshake_done(uint64_t connect_us, int source);
    // --source: the index of the local address the next connection binds to (in turn), -1 without it.
    int next_source();
    void connect_failed(Conn& c, int err, bool immediate);
    void request_done(const Request& r, uint64_t now_us, uint64_t request_us, int status, uint64_t body_bytes);
    // `owed`: the send's requests that got no response (all of them, or the rest of a pipeline).
    void request_failed(Conn& c, const Request& r, Failure why, uint32_t owed);
    void proto_error(ProtoError e);
    void count_errno(int err);
    void closed_by_server();

private:
    struct Retry {
        Request req;
        uint64_t not_before_us;
    };
    void dispatch(uint64_t now_us = 0);
    bool next_request(uint64_t now_us, Request& out);
    uint64_t intended(uint64_t k) const;
    uint64_t released(uint64_t now_us) const;
    void wake_at(uint64_t when_us);
    void on_second();
    void measure_start();
    void begin_drain();
    void finish();
    bool open_loop() const { return opt_.rate > 0 || trace_; }
    bool idle() const;  // nothing waiting, nothing in flight
    bool all_issued() const;  // -n N: every one of the N requests has been issued
    bool measuring(uint64_t t_us) const { return t_us >= t_measure_us_; }
    double since_start_s(uint64_t now_us) const;

    Reactor& reactor_;
    const Options& opt_;
    Stats& stats_;
    const Trace* trace_ = nullptr;  // --trace, else null
    Pieces pieces_;                 // every send's, without --trace
    // --trace: one Pieces per distinct (head, body) in the file, and each line's entry in it. std::map:
    // its nodes never move, so the pointers stay valid.
    std::map<std::pair<uint32_t, uint32_t>, Pieces> shapes_;
    std::vector<const Pieces*> line_pieces_;
    std::vector<std::unique_ptr<Conn>> conns_;
    std::vector<Conn*> free_;
    std::deque<Retry> retries_;

    uint64_t t0_us_ = 0;          // load starts (warmup included)
    uint64_t t_measure_us_ = 0;   // measured part starts
    uint64_t t_end_us_ = 0;       // no new requests after this
    uint64_t total_ = 0;          // open loop: requests the whole run will schedule
    uint64_t started_ = 0;        // open loop: next new request index
    uint64_t issued_ = 0;         // closed loop: requests issued
    double period_us_ = 0;
    uint64_t paused_until_us_ = 0;
    uint64_t wake_us_ = 0;
    TimerId wake_timer_ = 0;
    uint64_t seconds_ = 0;
    size_t source_turn_ = 0;      // connections handed a --source address so far
    bool draining_ = false;
    bool finished_ = false;
    bool in_dispatch_ = false;
    uint64_t t_finish_us_ = 0;
};

}  // namespace churn
