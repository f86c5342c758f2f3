// conn.h: one client connection slot, read top to bottom like wrk's:
//
//   begin() → connect_socket() → on_connected() → send_request() → on_writable()
//           → on_readable() → response_complete() → close (churn) | back to the pool (pool)
//
// A slot is never lost. Whatever goes wrong (connect refused, no local port, reset, timeout), the slot
// reports it to the Load, which counts it by errno and hands the slot (and, for a failed connect, the
// request) back to the schedule. wrk drops a slot whose connect() fails at once; we must not.
#pragma once

#include <cstdint>
#include <string>

#include "client/http_response.h"
#include "client/pieces.h"
#include "client/stats.h"
#include "loop/buffer.h"
#include "loop/reactor.h"

namespace churn {

class Load;

// Why a request failed: an errno from the socket, or (err == 0) a protocol problem. `stale`: it died on
// a reused keep-alive connection before a single response byte came back, the race every HTTP client
// meets when the server closes an idle connection just as a request goes out; such a request is safe to
// send again.
struct Failure {
    int err;
    ProtoError proto;
    bool stale = false;
};

// One send as the schedule sees it: one request, or K pipelined ones (--pattern pipeline).
struct Request {
    uint64_t intended_us = 0;  // when it should have been sent (open loop), or when it was issued
    uint32_t attempts = 0;     // connect attempts so far
    uint32_t line = 0;         // --trace: its line (0-based, comments not counted); it gives the sizes
};

class Conn : public Reactor::Handler {
public:
    // AwaitingEof: the response said "Connection: close"; we wait for the server's FIN before closing.
    enum class State { Closed, Connecting, Idle, Writing, Reading, AwaitingEof };

    // Bytes read per wakeup at most before the rest is deferred (conn.cc, on_readable, says why).
    static constexpr size_t kReadPerWakeup = 4 << 20;

    // read_cap: kReadPerWakeup, except in tests, which shrink it to reach the cap with a socket's
    // default buffers.
    Conn(Load& load, Reactor& reactor, int id, size_t read_cap = kReadPerWakeup);
    ~Conn() override;

    // Churn: take `r` and open a new connection for it. Pool: open the keep-alive connection (no request).
    void begin(const Request* r);
    // Pool: send `r` on this idle, established connection.
    void send(const Request& r, uint64_t now_us);

    void on_events(uint32_t events) override;
    // Called by the Load's sweep timer: give up on a phase that has run past its deadline.
    void check_deadline(uint64_t now_us);
    // End of run: drop the connection without counting anything.
    void abandon();

    State state() const { return state_; }
    bool has_request() const { return has_request_; }
    // Requests of the current send still waiting for their response (0 when there is no send).
    uint32_t outstanding() const;
    const Request& request() const { return req_; }
    int id() const { return id_; }
    int fd() const { return fd_; }  // -1 when closed
    int source() const { return source_; }  // --source index of the current (or last) connect, -1 = none

private:
    void connect_socket();
    void on_connected();
    void send_request(uint64_t now_us);
    void on_writable();
    void on_readable();
    void rearm_quickack();
    void response_complete(uint64_t now_us);
    void close_socket();
    void connect_failed(int err, bool immediate);
    void request_failed(Failure why);
    void closed_by_peer(bool counted);

    Load& load_;
    Reactor& reactor_;
    int id_;
    size_t read_cap_;
    int fd_ = -1;
    int source_ = -1;
    State state_ = State::Closed;
    bool has_request_ = false;
    Request req_;
    uint64_t connect_start_us_ = 0;
    uint64_t send_start_us_ = 0;
    uint64_t deadline_us_ = 0;    // 0 = none
    const Pieces* out_ = nullptr; // the current send's bytes and cut points (owned by the Load)
    size_t written_ = 0;          // bytes of the send written so far
    bool corked_ = false;         // --write cork: TCP_CORK is on and must come off when the send is out
    uint32_t answered_ = 0;       // responses read for the current send (pipeline: up to K)
    uint32_t served_ = 0;         // responses on this connection since it was opened
    bool input_edge_ = false;     // an EPOLLIN edge came and no read has followed it yet
    bool peer_fin_seen_ = false;  // EPOLLRDHUP/HUP/ERR seen: read to EAGAIN from now on (Buffer::fill_from)
    Buffer in_;
    ResponseParser parser_;
};

}  // namespace churn
