#include "client/load.h"

#include <algorithm>
#include <cmath>

#include "loop/clock.h"

namespace churn {

namespace {
constexpr uint64_t kSweepUs = 10'000;      // deadline sweep: timeouts are real timers, checked every 10 ms
constexpr uint64_t kMaxDrainUs = 2'000'000;  // after the run, in-flight requests get at most this long
constexpr uint64_t kWakeSlackUs = 20;      // don't arm the timerfd for less than this: batch instead
}  // namespace

Load::Load(Reactor& reactor, const Options& opt, Stats& stats) : reactor_(reactor), opt_(opt), stats_(stats) {
    // Every send built once, before the clock starts: without --trace every send is the same bytes; with
    // it, one per distinct size in the file (a few hundred at most for --make-trace's ranges).
    if (!opt_.trace.lines.empty()) {
        trace_ = &opt_.trace;
        for (const TraceLine& l : trace_->lines) {
            auto [it, fresh] = shapes_.try_emplace({l.head, l.body});
            if (fresh) it->second = build_pieces(opt_.pattern, opt_.url, Shape{l.head, l.body, opt_.close_server}, opt_.pipeline);
            line_pieces_.push_back(&it->second);
        }
    } else {
        pieces_ = build_pieces(opt_.pattern, opt_.url, Shape{opt_.head, opt_.body, opt_.close_server}, opt_.pipeline);
    }
    for (const Endpoint& src : opt_.sources) {
        std::string a = src.str();
        stats_.sources.push_back({a.substr(0, a.rfind(':')), 0, {}});  // "198.18.0.3", without the ":0"
    }
    for (int i = 0; i < opt_.connections; ++i) conns_.push_back(std::make_unique<Conn>(*this, reactor_, i));
}

Load::~Load() = default;

double Load::since_start_s(uint64_t now_us) const { return (now_us - t0_us_) / 1e6; }

double Load::elapsed_s() const {
    uint64_t end = t_finish_us_ ? std::min(t_finish_us_, t_end_us_) : mono_us();
    return end > t_measure_us_ ? (end - t_measure_us_) / 1e6 : 0.0;
}

const Pieces& Load::pieces_for(const Request& r) const { return trace_ ? *line_pieces_[r.line] : pieces_; }

uint64_t Load::intended(uint64_t k) const {
    if (trace_) return t0_us_ + trace_->lines[k].t_us;
    return t0_us_ + static_cast<uint64_t>(std::llround(k * period_us_));
}

// How many sends of the schedule are due by now_us, capped at total_.
uint64_t Load::released(uint64_t now_us) const {
    if (now_us < t0_us_) return 0;
    uint64_t n;
    if (trace_) {
        // The lines are in time order (the parser refuses one that is not): those at or before now.
        const auto& L = trace_->lines;
        n = static_cast<uint64_t>(std::upper_bound(L.begin(), L.end(), now_us - t0_us_,
                                                   [](uint64_t t, const TraceLine& l) { return t < l.t_us; }) -
                                  L.begin());
    } else {
        n = static_cast<uint64_t>((now_us - t0_us_) / period_us_) + 1;
    }
    return std::min(n, total_);
}

void Load::start() {
    t0_us_ = mono_us();
    t_measure_us_ = t0_us_ + static_cast<uint64_t>(opt_.warmup_s * 1e6);
    t_end_us_ = t_measure_us_ + static_cast<uint64_t>(opt_.duration_s * 1e6);
    if (trace_) {
        // The lines due before the end; with -d at its default (main.cc) that is every line.
        const auto& L = trace_->lines;
        total_ = static_cast<uint64_t>(std::lower_bound(L.begin(), L.end(), t_end_us_ - t0_us_,
                                                        [](const TraceLine& l, uint64_t t) { return l.t_us < t; }) -
                                       L.begin());
        if (opt_.max_requests) total_ = std::min(total_, opt_.max_requests);
    } else if (opt_.rate > 0) {
        period_us_ = 1e6 / opt_.rate;
        total_ = static_cast<uint64_t>(std::floor((t_end_us_ - t0_us_) / period_us_));
        if (opt_.max_requests) total_ = std::min(total_, opt_.max_requests);
    }
    reactor_.every(kSweepUs, [this] {
        uint64_t now = mono_us();
        for (auto& c : conns_) c->check_deadline(now);
    });
    reactor_.at(t_measure_us_, [this] { measure_start(); });
    reactor_.at(t_end_us_, [this] { begin_drain(); });
    if (opt_.mode == Options::Mode::Pool) {
        for (auto& c : conns_) c->begin(nullptr);  // open the pool; each reports slot_free when up
    } else {
        for (auto& c : conns_) free_.push_back(c.get());
    }
    dispatch();
}

void Load::measure_start() {
    if (opt_.warmup_s > 0) stats_.reset();
    // The per-second timeline starts with the measured part.
    reactor_.every(1'000'000, [this] { on_second(); });
}

void Load::on_second() {
    // The timeline covers the measured duration; the drain after it is not a second of offered load.
    if (finished_ || seconds_ >= static_cast<uint64_t>(std::ceil(opt_.duration_s))) return;
    stats_.close_second(++seconds_);
    const auto& s = stats_.timeline.back();
    if (!opt_.quiet && ::isatty(2)) {
        uint64_t errs = 0;
        for (auto& [e, n] : s.errors) errs += n;
        fprintf(stderr, "\r[%3llus] %7llu req/s  %6llu conn/s  p99 %8.2f ms  errors %llu  waiting %zu   ",
                static_cast<unsigned long long>(s.t), static_cast<unsigned long long>(s.requests),
                static_cast<unsigned long long>(s.connects), s.p99_us / 1000.0, static_cast<unsigned long long>(errs),
                retries_.size() + (open_loop() ? released(mono_us()) - started_ : 0));
        fflush(stderr);
    }
}

// ---- the schedule --------------------------------------------------------------------------------------

bool Load::next_request(uint64_t now_us, Request& out) {
    // Oldest first: a retried request was due before any request not yet started.
    if (!retries_.empty() && retries_.front().not_before_us <= now_us) {
        out = retries_.front().req;
        retries_.pop_front();
        return true;
    }
    if (open_loop()) {
        if (started_ >= released(now_us)) return false;
        out = Request{intended(started_), 0, static_cast<uint32_t>(started_)};
        ++started_;
        return true;
    }
    if (draining_ || (opt_.max_requests && issued_ >= opt_.max_requests)) return false;
    ++issued_;
    out = Request{now_us, 0};  // closed loop: due now
    return true;
}

void Load::dispatch(uint64_t now_us) {
    // Conn callbacks re-enter here (slot_free after a failed connect): one pass at a time.
    // While draining, requests already due still go out; next_request() creates no new ones.
    if (in_dispatch_ || finished_) return;
    in_dispatch_ = true;
    // now_us: a caller that has just read the clock (a response completed) passes its reading on.
    uint64_t now = now_us ? now_us : mono_us();
    while (!free_.empty()) {
        if (opt_.mode == Options::Mode::Churn && now < paused_until_us_) break;
        Request r;
        if (!next_request(now, r)) break;
        Conn* c = free_.back();
        free_.pop_back();
        if (opt_.mode == Options::Mode::Churn) c->begin(&r);
        else c->send(r, now);
    }
    in_dispatch_ = false;
    // Sleep until the next thing that can make progress: the next request due, a retry coming of age,
    // or the end of a connect pause. Free slots with nothing due need no wakeup; a slot freeing up
    // calls dispatch() itself.
    if (free_.empty()) return;
    uint64_t next = 0;
    if (open_loop() && started_ < total_) next = intended(started_);
    if (!retries_.empty() && (!next || retries_.front().not_before_us < next)) next = retries_.front().not_before_us;
    if (opt_.mode == Options::Mode::Churn && paused_until_us_ > now && next && next < paused_until_us_)
        next = paused_until_us_;
    if (next) wake_at(std::max(next, now + kWakeSlackUs));
}

void Load::wake_at(uint64_t when_us) {
    if (wake_timer_ && wake_us_ <= when_us && wake_us_ > mono_us()) return;  // an earlier wakeup is armed
    if (wake_timer_) reactor_.cancel(wake_timer_);
    wake_us_ = when_us;
    wake_timer_ = reactor_.at(when_us, [this] {
        wake_timer_ = 0;
        dispatch();
    });
}

// ---- what the connections report -----------------------------------------------------------------------

bool Load::idle() const {
    if (!retries_.empty() || (open_loop() && started_ < total_)) return false;
    for (auto& c : conns_)
        if (c->has_request()) return false;
    return true;
}

void Load::slot_free(Conn& c, uint64_t now_us) {
    free_.push_back(&c);
    dispatch(now_us);
    // -n N done (every request issued, none waiting or in flight): end the run now rather than idle
    // until --duration, so elapsed_s and rps describe the work done. `-n 1` against a large --size is
    // then one download, timed by request_us (and body_bytes / request_us is its throughput).
    if (!draining_ && t_end_us_ && all_issued() && idle()) {
        t_end_us_ = std::max(mono_us(), t_measure_us_);
        begin_drain();
        return;
    }
    // After the end, nothing new is scheduled: the run is over once nothing is waiting or in flight.
    if (draining_ && idle()) finish();
}

bool Load::all_issued() const {
    // --trace: when every line of the file is on the schedule (-d did not cut it short), the run is done
    // once they have all gone out and come back, even without -n: a replay ends with its last answer.
    if (trace_ && total_ == trace_->lines.size()) return started_ >= total_;
    if (!opt_.max_requests) return false;
    // Open loop: -n capped the schedule (total_); closed loop: issued_ counts up to it.
    return open_loop() ? total_ == opt_.max_requests && started_ >= total_ : issued_ >= opt_.max_requests;
}

void Load::reconnect_later(Conn& c) {
    // An idle pool connection sits in free_; once it closes it is no longer free, and on_connected()
    // will add it back. Without this erase it would be listed twice and get two requests at once.
    std::erase(free_, &c);
    if (finished_) return;
    // Pool: reopen at once; if that fails inside connect(), connect_failed() spaces the next try.
    c.begin(nullptr);
}

void Load::handshake_done(uint64_t connect_us, int source) { stats_.record_handshake(connect_us, source); }

int Load::next_source() {
    // Strict rotation, not "the least used" or "the one that still has ports": the connections spread
    // evenly, so each address runs out of ports at the same time, and the per-source counts in the
    // JSON show the doubling directly (an address out of ports fails its turn and the request is retried
    // on the next turn, which is the next address).
    if (opt_.sources.empty()) return -1;
    return static_cast<int>(source_turn_++ % opt_.sources.size());
}

void Load::count_errno(int err) { stats_.record_errno(err, since_start_s(mono_us())); }

void Load::proto_error(ProtoError e) { stats_.record_proto(e); }

void Load::closed_by_server() { ++stats_.closes_by_server; }

void Load::connect_failed(Conn& c, int err, bool immediate) {
    uint64_t now = mono_us();
    stats_.record_errno(err, since_start_s(now), c.source());
    uint64_t delay = opt_.retry_delay_ms * 1000;
    if (immediate) paused_until_us_ = now + delay;  // the host is out of ports or fds: back off as a whole
    if (opt_.mode == Options::Mode::Pool) {
        // A pool slot retries its own connect; it has no request attached.
        reactor_.after(delay, [this, &c] {
            if (!finished_) c.begin(nullptr);
        });
        return;
    }
    // Churn: the request keeps its intended time and goes back to the schedule. The slot rests for the
    // retry delay too: a refusing server answers in microseconds, and without the rest 32 slots would
    // spin through tens of thousands of refused SYNs a second.
    retries_.push_back({c.request(), now + delay});
    if (immediate) return slot_free(c);
    reactor_.after(delay, [this, &c] {
        if (!finished_) slot_free(c);
    });
}

void Load::request_done(const Request& r, uint64_t now_us, uint64_t request_us, int status, uint64_t body_bytes) {
    if (status >= 400) stats_.record_proto(ProtoError::Status4xx5xx);
    if (measuring(r.intended_us)) stats_.record_ok(now_us - r.intended_us, request_us, body_bytes);
}

void Load::request_failed(Conn& c, const Request& r, Failure why, uint32_t owed) {
    uint64_t now = mono_us();
    if (why.err) count_errno(why.err);
    else stats_.record_proto(why.proto);
    if (why.stale) {
        // Counted above, and sent again with its intended time kept, like a request whose connect failed.
        retries_.push_back({r, now});
    } else if (measuring(r.intended_us)) {
        for (uint32_t i = 0; i < owed; ++i) stats_.record_given_up(now - r.intended_us, false);
    }
    if (opt_.mode == Options::Mode::Pool) {
        reconnect_later(c);
        dispatch();  // a stale request goes out now on another idle connection, if there is one
    } else {
        slot_free(c);
    }
}

// ---- the end -------------------------------------------------------------------------------------------

void Load::begin_drain() {
    if (draining_) return;
    // From here no new request is scheduled; those already due still go out, and everything in
    // flight gets until the drain deadline to finish.
    draining_ = true;
    t_finish_us_ = mono_us();
    dispatch();
    if (idle()) return finish();
    reactor_.after(std::min<uint64_t>(opt_.timeout_ms * 1000, kMaxDrainUs), [this] { finish(); });
}

void Load::stop_early() {
    t_end_us_ = std::min(t_end_us_, mono_us());
    begin_drain();
    finish();
}

void Load::finish() {
    if (finished_) return;
    uint64_t now = mono_us();
    // Close the seconds the 1 s tick has not reached yet: the drain timer and the last tick share a
    // deadline, and a run stopped early still reports its partial last second.
    uint64_t covered = std::min(now, t_end_us_) > t_measure_us_ ? std::min(now, t_end_us_) - t_measure_us_ : 0;
    uint64_t due = std::min<uint64_t>((covered + 999'999) / 1'000'000, static_cast<uint64_t>(std::ceil(opt_.duration_s)));
    while (seconds_ < due) stats_.close_second(++seconds_);
    finished_ = true;
    // Everything still waiting is recorded at its age: these users never got an answer.
    // A send of K pipelined requests is K requests here, as in every count of the results.
    auto give_up = [&](uint64_t intended_us, uint32_t n) {
        if (!measuring(intended_us)) return;
        for (uint32_t i = 0; i < n; ++i) stats_.record_given_up(now - intended_us, true);
    };
    for (auto& c : conns_) {
        if (c->has_request()) give_up(c->request().intended_us, c->outstanding());
        c->abandon();
    }
    for (const Retry& r : retries_) give_up(r.req.intended_us, per_send());
    if (open_loop()) {
        uint64_t rel = released(t_end_us_ - 1);
        for (uint64_t k = started_; k < rel; ++k) give_up(intended(k), per_send());
        stats_.scheduled = 0;
        for (uint64_t k = 0; k < rel; ++k)
            if (measuring(intended(k))) stats_.scheduled += per_send();
    } else {
        stats_.scheduled = stats_.ok + stats_.failed + stats_.unfinished;
    }
    reactor_.stop();
}

}  // namespace churn
