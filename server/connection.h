// connection.h: one accepted socket's life, read top to bottom in connection.cc:
//
//   open(fd) -> on_events -> step: read until EAGAIN -> serve: parse every complete request, append its
//   precomputed response -> flush once -> (EPOLLOUT only while output is pending) -> finish: close
//   (--discard: on_events -> step -> discard: read and drop until EAGAIN -> at EOF, finish: close)
//
// Objects are owned and reused by the Listener (a free list), never deleted while the server runs: a
// connection that closes itself inside on_events is still on the stack, so "freeing" it only means
// handing it back to the free list, which is popped only by the accept handler -- never while this
// object's own handler runs. Stale events for its old fd in the same epoll batch are dropped by the
// reactor's generation counter (forget() runs before close()).
#pragma once

#include <cstdint>

#include "loop/buffer.h"
#include "loop/reactor.h"
#include "server/http_request.h"
#include "server/options.h"
#include "server/response.h"
#include "server/stats.h"

namespace churn {

class Listener;

class Connection final : public Reactor::Handler {
public:
    // Fairness caps per wakeup: one client pipelining thousands of requests must not starve the rest.
    // Stopping early is safe only because step() then calls Reactor::defer (edge-triggered: no new edge
    // would ever come for bytes already waiting).
    static constexpr size_t kReadCap = 256 * 1024;     // bytes buffered per wakeup
    static constexpr int kRequestsPerWakeup = 64;
    // Back-pressure: a client that pipelines without reading its answers would grow out_ without
    // bound; past this much unsent output we stop parsing and reading until EPOLLOUT drains it.
    static constexpr size_t kOutputCap = 1024 * 1024;
    // --discard: bytes read and dropped per wakeup before the rest waits on the ready list (defer).
    // A sender on loopback can refill the receive queue as fast as we empty it; without a cap one bulk
    // connection would hold the loop (and its signals and timers) for as long as it keeps sending.
    static constexpr size_t kDiscardCap = 4 * 1024 * 1024;

    Connection(Reactor& reactor, Listener& owner, const ServerOptions& opt, const Responses& responses,
               ServerStats& stats)
        : reactor_(reactor), owner_(owner), opt_(opt), responses_(responses), stats_(stats) {}

    // Take over a freshly accepted fd (already registered by nobody; the Listener calls watch()).
    void open(int fd);
    // Server shutdown: close without a verdict on who closed first.
    void abandon();
    bool is_open() const { return fd_ >= 0; }
    int fd() const { return fd_; }

    void on_events(uint32_t events) override;

private:
    enum class End { Client, Server, Reset, Error };

    void step(bool readable);
    bool serve();  // true when it stopped with work left (budget or output cap)
    void respond(const Response& r, bool head_only);
    void fail(int err);
    void finish(End how);
    void leak();
    void discard();

    Reactor& reactor_;
    Listener& owner_;
    const ServerOptions& opt_;
    const Responses& responses_;
    ServerStats& stats_;

    int fd_ = -1;
    Buffer in_;
    Buffer out_;
    http::RequestParser parser_;
    uint64_t body_left_ = 0;                // body bytes of the current request still to discard
    const Response* pending_ = nullptr;     // its answer, sent once the body is in
    bool pending_head_ = false;
    bool closing_ = false;   // the last response is queued (Connection: close or an error): close after flush
    bool peer_eof_ = false;  // read() returned 0: the peer will send nothing more
    bool must_read_ = false; // we stopped reading before EAGAIN, so no edge will remind us
    bool peer_fin_seen_ = false;  // EPOLLRDHUP/HUP/ERR seen: read to EAGAIN from now on (Buffer::fill_from)
};

}  // namespace churn
