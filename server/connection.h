// connection.h: one accepted socket's life, read top to bottom in connection.cc:
//
//   open(fd) -> on_events -> step: read until EAGAIN (--quickack: re-armed) -> serve: parse every
//   complete request, queue its precomputed response as pieces (--response-pattern) -> flush once, the
//   --write way (send_queue.h) -> (EPOLLOUT only while output is pending) -> settle: the state and its
//   clock -> finish: close
//   (--discard: on_events -> step -> discard: read and drop until EAGAIN -> at EOF, finish: close)
//
// The state is what each step leaves behind (settle), the first that applies, and it picks the clock:
//   Closing  the last answer is queued (Connection: close, or an error): close once flushed    send
//   Body     a head said Content-Length: reading and dropping the body                         body
//   Writing  answers queued beyond what the send buffer took: waiting for EPOLLOUT             send
//   Head     part of a request head buffered, or nothing yet on a new connection               header
//   Idle     keep-alive: nothing buffered, nothing to send                                     idle
// The usual keep-alive life: Head -(request in, answer sent in the same step)-> Idle -(a byte)-> Head.
// Closed: no socket; any state ends there on EOF, an error, a timeout, or an eviction (Head, Idle,
// Writing, Closing). The send clock restarts on every write the kernel takes bytes from, not on input:
// a peer that keeps sending requests but reads nothing is exactly the one it is for.
// Leaked (--leak-close-wait) and Discard (--discard) are the two ways of life that are not HTTP.
//
// The input side is one more fact, kept apart because it is true in any state: whether bytes may be
// waiting in the socket that no edge will announce (Input::Unread, we stopped before EAGAIN), or the
// peer has sent its FIN (Input::Eof). Unread input must end every step either waiting for EPOLLOUT
// (which runs step again) or on the reactor's ready list (defer); anything else stalls it for good.
//
// Objects are owned and reused by their Owner (the Listener's free list), never deleted while the server
// runs: a connection that closes itself inside on_events is still on the stack, so "freeing" it only
// means handing it back to the free list, which is popped only by the accept handler -- never while this
// object's own handler runs. Stale events for its old fd in the same epoll batch are dropped by the
// reactor's generation counter (forget_before_close() runs before close()).
#pragma once

#include <cstdint>

#include "loop/buffer.h"
#include "loop/reactor.h"
#include "server/http_request.h"
#include "server/options.h"
#include "server/response.h"
#include "server/send_queue.h"
#include "server/stats.h"
#include "server/timeouts.h"

namespace churn {

// Work per wakeup. Fairness: one client pipelining thousands of requests must not starve the rest.
// Stopping early is safe only because step() then calls Reactor::defer (edge-triggered: no new edge
// would ever come for bytes already waiting). Back-pressure: a client that pipelines without reading
// its answers would grow out_ without bound; past output_cap unsent bytes we stop parsing and reading
// until EPOLLOUT drains it. The defaults are the server's; tests shrink them to reach the edge cases
// with a socketpair's small buffers.
struct ConnectionLimits {
    size_t read_cap = 256 * 1024;       // bytes buffered per wakeup
    int requests_per_wakeup = 64;
    size_t output_cap = 1024 * 1024;
    // --discard: bytes read and dropped per wakeup. A sender on loopback can refill the receive queue
    // as fast as we empty it; without a cap one bulk connection would hold the loop (and its signals
    // and timers) for as long as it keeps sending.
    size_t discard_cap = 4 * 1024 * 1024;
};

class Connection final : public Reactor::Handler {
public:
    // Whoever hands out connections (the Listener) gets each back when it closes.
    struct Owner {
        virtual void release(Connection* c) = 0;

    protected:
        ~Owner() = default;
    };

    using Limits = ConnectionLimits;

    enum class State { Closed, Head, Body, Idle, Writing, Closing, Leaked, Discard };
    enum class Input { Edge, Unread, Eof };  // Edge: read to EAGAIN, the next byte raises a new edge

    Connection(Reactor& reactor, Owner& owner, Timeouts& timeouts, const ServerOptions& opt,
               const Responses& responses, ServerStats& stats, Limits limits = {})
        : reactor_(reactor), owner_(owner), timeouts_(timeouts), opt_(opt), responses_(responses), stats_(stats),
          limits_(limits), out_(opt.write) {}

    // Take over a freshly accepted fd (the Listener calls watch() next); its header clock starts now.
    void open(int fd);
    // Server shutdown: close without a verdict on who closed first.
    void abandon();
    // --max-conns: make room for a new connection (the Listener picks the victim, timeouts.h says how).
    void evict();
    // Its clock ran out (Timeouts::sweep).
    void expire(Timeouts::Clock k);

    bool is_open() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    State state() const { return state_; }
    Input input() const { return input_; }
    size_t backlog() const { return out_.pending(); }  // answers not yet taken by the kernel
    uint64_t clock_since_us() const { return link_.since_us; }  // when its current clock started

    void on_events(uint32_t events) override;

private:
    friend class Timeouts;  // link_
    enum class End { Client, Server, Reset, Error };

    void step(bool readable);
    bool serve();  // true when it stopped with work left (budget or output cap)
    void respond(const Response& r, bool head_only);
    void settle(bool wrote);
    void reset_unsent();
    void fail(int err);
    void finish(End how);
    void leak();
    void discard();

    Reactor& reactor_;
    Owner& owner_;
    Timeouts& timeouts_;
    const ServerOptions& opt_;
    const Responses& responses_;
    ServerStats& stats_;
    Limits limits_;

    int fd_ = -1;
    State state_ = State::Closed;
    Input input_ = Input::Edge;
    bool peer_fin_seen_ = false;  // EPOLLRDHUP/HUP/ERR seen: read to EAGAIN from now on (Buffer::fill_from)
    Buffer in_;
    SendQueue out_;  // after opt_: initialised from opt_.write
    http::RequestParser parser_;
    uint64_t requests_ = 0;              // complete heads on this connection
    uint64_t body_left_ = 0;             // body bytes of the current request still to discard
    const Response* pending_ = nullptr;  // its answer, sent once the body is in
    bool pending_head_only_ = false;     // ... cut after the head (the request was HEAD)
    bool restart_clock_ = false;         // this step completed a head or took body bytes: settle() restarts the clock
    Timeouts::Link link_;
};

const char* state_name(Connection::State s);

}  // namespace churn
