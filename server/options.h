// options.h: churn-server's command line, parsed and checked in one place (unit-testable: no sockets).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "loop/socket.h"

namespace churn {

struct ServerOptions {
    // --response-pattern: how an answer is cut into pieces before it reaches the kernel. Single: one piece
    // (status line, headers and body together). Split: the head, then the body, as two pieces (what a
    // server that writes its headers before it has the body does).
    enum class Pattern { Single, Split };
    // --write: how the pieces queued in one step reach the kernel (server/send_queue.h says what each
    // costs and what Nagle makes of it). Single (the default): copied into one buffer, one send().
    enum class Write { Single, Each, Gather, Cork };

    std::string listen;      // as given, e.g. "127.0.0.1:18080"
    Endpoint endpoint;       // parsed from `listen`
    size_t size = 64;        // response body bytes
    bool close_server = false;  // --close server: the server closes first, after every response
    bool linger0 = false;    // SO_LINGER {1, 0} on accepted sockets: our close() sends RST
    bool leak_close_wait = false;  // --leak-close-wait: never close after the peer's FIN (a CLOSE-WAIT leak, on purpose)
    bool discard = false;    // --discard: no HTTP; read and drop every byte (the receiver of churn-client --mode bulk)
    bool nodelay = true;     // TCP_NODELAY on accepted sockets
    Pattern response_pattern = Pattern::Single;
    Write write = Write::Single;
    bool quickack = false;   // --quickack: TCP_QUICKACK set again after every read (not sticky: connection.cc)
    int backlog = 4096;
    bool reuseport = false;
    uint64_t max_conns = 0;  // 0 = unlimited
    bool evict = true;       // at max_conns, evict the connection with the least progress instead of refusing
    // Not an option: a connection younger than this is not evicted for lack of a request head, since its
    // request may be one round trip away (a burst of honest clients past --max-conns would otherwise
    // evict each other). Tests set it to 0 or to forever.
    uint64_t evict_grace_us = 1'000'000;
    // Connection clocks (server/timeouts.h), microseconds, 0 = off. nginx uses 60 s, 60 s and 75 s; the
    // lab's heads and bodies cross a local veth (or an emulated path of a few RTTs), so 10 s is already
    // generous, and a slowloris is closed 6x sooner. Idle stays at nginx's 75 s: longer than a default
    // 40 s run, so a pooled experiment never meets a server-side idle close it did not ask for.
    uint64_t header_timeout_us = 10'000'000;
    uint64_t body_timeout_us = 10'000'000;  // between two reads that bring body bytes, like nginx's
    uint64_t idle_timeout_us = 75'000'000;
    // Between two writes that make progress while answers are pending (nginx's send_timeout, 60 s).
    // 10 s, like the head and body clocks: on the lab's paths a peer that reads at all frees send-buffer
    // room many times a second, so 10 s without a byte taken means it has stopped reading; and a
    // stalled writer holds more than any other (up to output_cap of answers plus a full send buffer).
    // The price of nginx's definition of progress (a write the kernel takes): TCP takes a write only once
    // a third of the send buffer is free (EPOLLOUT), so a peer that reads, but slower than a third of our
    // send buffer per timeout, is closed too: with loopback's 4 MiB buffer, below ~140 KB/s at 10 s
    // (measured at 1 s: a reader taking 64 KiB every 50 ms was reset; one every 10 ms was not).
    uint64_t send_timeout_us = 10'000'000;
    // --accept-for: stop calling accept() this long after the listener opens (listener.h says what the
    // kernel then does with the queue). 0 = never accept at all; kAcceptAlways (the default) = never stop.
    static constexpr uint64_t kAcceptAlways = UINT64_MAX;
    uint64_t accept_for_us = kAcceptAlways;
    double duration_s = 0;   // 0 = until SIGINT/SIGTERM
    std::string json_path;   // empty = no JSON
    bool quiet = false;      // no summary line on exit
};

// The words of the command line and the JSON: "single", "split"; "single", "each", "gather", "cork".
const char* pattern_name(ServerOptions::Pattern p);
const char* write_name(ServerOptions::Write w);

inline constexpr size_t kMaxBodySize = 64u << 20;  // the body is precomputed in three copies

// Parse argv into `opt`. Returns -1 when the server should run; otherwise the exit code, with the text
// already written: 0 after --help (to `out`), 2 after a bad or missing value (one line to `err`,
// "churn-server: --size: must be >= 0").
int parse_cli(int argc, const char* const* argv, ServerOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace churn
