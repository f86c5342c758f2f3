// stats.h: what the server counts. Plain integers on the loop thread; main.cc prints and serialises them.
#pragma once

#include <cstdint>
#include <map>

namespace churn {

struct ServerStats {
    uint64_t accepted = 0;  // accept4() successes, including the rejected ones
    uint64_t rejected = 0;  // over --max-conns: accepted and closed at once
    uint64_t shed = 0;      // accepted with the spare fd and closed at once (EMFILE/ENFILE)
    uint64_t requests = 0;  // complete request heads parsed
    uint64_t responses = 0; // responses queued, 200s and errors
    uint64_t bytes_in = 0, bytes_out = 0;
    // send()/sendmsg() calls that carried answers (--write: single and gather one per flush, each and cork
    // one per piece), the ones that met EAGAIN included.
    uint64_t write_calls = 0;
    uint64_t bytes_discarded = 0;  // --discard: bytes read and dropped (also counted in bytes_in)

    // Who ended each served connection. TIME-WAIT lands on the side that closed first, so this is the
    // number to hold next to `ss -tan state time-wait` on each host.
    uint64_t close_client = 0;  // peer's FIN arrived first (read EOF), then we closed
    uint64_t close_server = 0;  // we closed first (--close server, Connection: close, an HTTP error)
    uint64_t close_reset = 0;   // the peer reset the connection (ECONNRESET, EPIPE)
    uint64_t close_error = 0;   // any other socket error (ETIMEDOUT, ...)
    uint64_t open_at_exit = 0;  // still open when the server stopped
    uint64_t leaked = 0;        // --leak-close-wait: the peer closed, we kept the fd (CLOSE-WAIT until exit)

    uint64_t http_400 = 0, http_431 = 0, http_501 = 0;

    // Closed by a clock (timeouts.h), each also counted in close_server (or close_client if its FIN came).
    uint64_t timeout_header = 0, timeout_body = 0, timeout_idle = 0, timeout_send = 0;
    // Closed at --max-conns to make room for a new connection: no request head yet / idle keep-alive /
    // answers pending that the peer has not taken for a while.
    uint64_t evicted_head = 0, evicted_idle = 0, evicted_send = 0;

    uint64_t live = 0, max_concurrent = 0;

    // The reactor's own syscalls over the run (Reactor::epoll_waits), copied in when it ends: with
    // /proc/PID/io's read and write counts they make `make bench`'s syscalls per request.
    uint64_t epoll_waits = 0, epoll_ctls = 0;

    // --accept-for: seconds after the listener opened when it stopped calling accept(); < 0 = never stopped.
    double accept_stopped_at_s = -1;

    std::map<int, uint64_t> errors;  // errno -> count; rare, so a map is fine
    void count_error(int err) { ++errors[err]; }
    uint64_t error_total() const {
        uint64_t n = 0;
        for (const auto& [err, count] : errors) n += count;
        return n;
    }
};

}  // namespace churn
