// listener.h: the listening socket, its accept loop, and the pool of Connection objects.
//
// Edge-triggered: one EPOLLIN edge may stand for many queued connections, so on_events accepts until
// EAGAIN -- or until kAcceptsPerWakeup, and then the ready list (Reactor::defer) brings it back before the
// loop sleeps. accept4() errors fall in three groups (accept(2), "Error handling"):
//   expected     EAGAIN (queue drained: the only way the loop ends), ECONNABORTED (peer reset while
//                queued), EINTR (retried inside accept_one), and the new socket's network errors Linux
//                passes on (EPROTO, ENETDOWN, ...): counted, keep accepting;
//   resources    EMFILE/ENFILE: muduo's spare-fd trick (below); ENOBUFS/ENOMEM: counted, retry in 10 ms;
//   bugs         EBADF, EINVAL, ENOTSOCK, EFAULT: thrown, the run stops loudly.
//
// The spare-fd trick: at EMFILE the connection stays in the accept queue, the listening socket stays
// readable, and (level-triggered) the loop would spin; (edge-triggered) the queue would just sit there
// while clients time out. So one fd (/dev/null) is held in reserve: at EMFILE we close it, accept the
// connection, close that at once (the client sees a clean close instead of a hang), and reopen the spare.
//
// --max-conns: at the limit a new connection evicts an old one rather than being refused (timeouts.h
// keeps the order): first the one that has gone longest without a complete request head, if it has had
// its grace (ServerOptions::evict_grace_us) to send one; then the longest-idle keep-alive connection;
// then the connection with answers pending whose peer has taken no byte for longer than that grace;
// only when there is none of these is the newcomer refused. A server that refuses at the limit can be
// held by anyone who opens max-conns connections and sends nothing; one that evicts serves whoever
// actually sends a request.
//
// Why writers last, and only stalled ones: a connection with answers pending has been served, and its
// peer may simply be downloading (each write that makes progress restarts its Send clock, so it is
// never "old" on that list). Cutting an active download for a newcomer that has not sent a byte yet
// trades real service for a promise. One whose peer has taken nothing for a whole grace, though, is
// most likely not reading at all (a reader on a path of a few RTTs frees send-buffer room many times a
// second): the send timeout would close it anyway, and it holds the most memory of all. So it goes
// before a newcomer is refused, oldest stall first, and with the same reset as its timeout
// (Connection::evict).
//
// --accept-for: a server that stops calling accept() while the clients keep coming, on purpose (a stuck
// worker, a server busy elsewhere). The listener leaves epoll but stays open, so the kernel still
// completes handshakes into its accept queue until that holds backlog + 1 connections
// (sk_acceptq_is_full is `queued > backlog`). From then on, in the kernel (net/ipv4/tcp_input.c,
// tcp_minisocks.c; tcp_abort_on_overflow=0, the default):
//   - a client's third ACK (or its first data, which carries the ACK) finds no room: the child socket is
//     not created, TcpExtListenOverflows and TcpExtListenDrops each count one, and the ACK is dropped.
//     The request stays in the SYN queue, marked acked, and the server retransmits its SYN-ACK (1 s, 2 s,
//     ...), so the client's ACKs come again and are counted again. The client, though, is ESTABLISHED
//     since it sent that ACK: its connect() returned at once, and it is its request that waits. (With
//     tcp_abort_on_overflow=1 the server would answer RST instead: a fast ECONNRESET, no retries.)
//   - a new SYN is dropped before any SYN-ACK (tcp_conn_request: "if (sk_acceptq_is_full(sk))"),
//     counted in both counters again, cookies or not. That client's connect() waits for its own SYN
//     retransmits, each dropped again while the queue stays full: on this kernel 1 s, 2 s, 3 s, 4 s after
//     the first SYN (tcp_syn_linear_timeouts=4: linear at first), then doubling. That is where the
//     clients' connect times (or their ETIMEDOUTs) show it.
// Nothing in the server's own counters moves meanwhile: "accepted" just stops growing. The kernel's
// counters (churn-probe nstat, nstat) and `ss -ltn` (Recv-Q = queued, Send-Q = backlog) tell the story.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "loop/reactor.h"
#include "loop/socket.h"
#include "server/connection.h"
#include "server/options.h"
#include "server/response.h"
#include "server/stats.h"
#include "server/timeouts.h"

namespace churn {

class Listener final : public Reactor::Handler, public Connection::Owner {
public:
    // Fairness: a flood of new connections (a SYN burst, a client reconnecting in a loop) must not keep the
    // loop accepting while the connections it already has wait to be served; 64 is libuv's kind of number,
    // enough that a normal burst is taken in one wakeup.
    static constexpr int kAcceptsPerWakeup = 64;

    // socket + bind + listen (throws std::system_error naming the call and address), then watch().
    Listener(Reactor& reactor, const ServerOptions& opt, const Responses& responses, ServerStats& stats);
    ~Listener() override;
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    void on_events(uint32_t events) override;  // the accept loop

    std::string local() const;
    // A Connection that closed itself hands itself back here (see connection.h on lifetimes).
    void release(Connection* c) override;
    // At exit: close every connection still open.
    void abandon_all();

    // Tests: stand in for accept_one (to script ECONNABORTED, EMFILE, ... where the kernel will not).
    void set_accept_for_test(std::function<SockResult(int)> fn) { accept_ = std::move(fn); }

private:
    void stop_accepting();
    void admit(int fd);
    bool shed_one(int err);
    void retry_later();
    Connection* victim();

    Reactor& reactor_;
    const ServerOptions& opt_;
    const Responses& responses_;
    ServerStats& stats_;
    int fd_ = -1;
    int spare_fd_ = -1;
    bool retry_armed_ = false;
    bool accepting_ = true;  // false once --accept-for ran out: on_events then accepts nothing
    uint64_t started_us_ = 0;
    TimerId accept_stop_ = 0;
    std::function<SockResult(int)> accept_ = accept_one;
    Timeouts timeouts_;
    TimerId sweep_ = 0;
    std::vector<std::unique_ptr<Connection>> pool_;  // every Connection ever made; reused, never freed
    std::vector<Connection*> free_;
};

}  // namespace churn
