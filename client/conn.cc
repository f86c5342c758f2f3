#include "client/conn.h"

#include <limits.h>
#include <sys/epoll.h>

#include <algorithm>

#include "client/load.h"
#include "loop/clock.h"
#include "loop/socket.h"

namespace churn {

namespace {
constexpr size_t kReadBuffer = 1 << 20;  // readable bytes buffered at most, parsed as they come
// --write gather: iovecs per writev(). IOV_MAX is the kernel's limit (UIO_MAXIOV); a send with more pieces
// than this would go out in several writev() calls, so options.cc caps --pipeline to keep it one.
constexpr int kMaxIov = 1024;
static_assert(kMaxIov <= IOV_MAX, "writev() refuses more than IOV_MAX iovecs with EINVAL");
}  // namespace

Conn::Conn(Load& load, Reactor& reactor, int id, size_t read_cap)
    : load_(load), reactor_(reactor), id_(id), read_cap_(read_cap) {}

Conn::~Conn() { close_socket(); }

void Conn::begin(const Request* r) {
    has_request_ = r != nullptr;
    if (r) {
        req_ = *r;
        out_ = &load_.pieces_for(req_);
        answered_ = 0;
    }
    connect_socket();
}

uint32_t Conn::outstanding() const { return has_request_ ? load_.per_send() - answered_ : 0; }

// ---- 1. connect ----------------------------------------------------------------------------------------

void Conn::connect_socket() {
    connect_start_us_ = mono_us();
    if (has_request_) ++req_.attempts;
    source_ = load_.next_source();
    const Options& o = load_.options();
    const Endpoint* src = source_ < 0 ? nullptr : &o.sources[static_cast<size_t>(source_)];
    SockResult c = connect_tcp(o.url.endpoint, [&o, src](int fd) {
        // --source: the local address is ours to choose, the port stays the kernel's (bind_source binds
        // with IP_BIND_ADDRESS_NO_PORT). An address that is not on this host was refused at startup
        // (main.cc), so an EADDRNOTAVAIL here is the port search running out, as without --source.
        if (src) {
            if (int err = bind_source(fd, *src).error()) return err;
        }
        // Before connect(): the mode is read when the SYN-ACK comes in (socket.cc, delay_handshake_ack).
        if (o.smart_connect) {
            if (int err = delay_handshake_ack(fd).error()) return err;
        }
        // --mss: before connect(), or the SYN has already gone out with the route's MSS.
        if (o.mss) return set_maxseg(fd, o.mss).error();
        return 0;
    });
    if (c.status == Io::Error) {
        // Failed inside connect() itself: EADDRNOTAVAIL (no free local port: the churn failure),
        // EMFILE (out of fds). No packet left the host; nothing to wait for.
        connect_failed(c.err, /*immediate=*/true);
        return;
    }
    fd_ = c.fd;
    peer_fin_seen_ = input_edge_ = false;
    served_ = 0;
    state_ = State::Connecting;
    deadline_us_ = connect_start_us_ + load_.options().timeout_ms * 1000;
    // The one epoll_ctl of this connection: no MOD later, no DEL at the end (close_socket). EPOLLOUT
    // reports the end of the handshake (connected; a failure adds EPOLLERR|EPOLLHUP); EPOLLIN|EPOLLRDHUP
    // are wanted from the start so a response and a FIN are never missed. EPOLLOUT stays registered for
    // the whole life of the socket, because edge-triggered it costs nothing while unused: the kernel
    // wakes a socket's writers only when a write found the send buffer full (SOCK_NOSPACE, set by
    // tcp_poll or sendmsg) and ACKs then free room (tcp_check_space), not on every ACK. So a request that
    // fits in the buffer raises no EPOLLOUT edge at all, and one that did not gets the edge it needs.
    // (Readiness reported for other reasons, e.g. the response's EPOLLIN, carries EPOLLOUT in its mask
    // too; on_events reads EPOLLOUT only in Connecting and Writing.) The price of toggling it instead, as
    // wrk does, is an epoll_ctl(MOD) per request: a tenth of this client's syscalls per connection.
    reactor_.watch(fd_, EPOLLIN | EPOLLOUT | EPOLLRDHUP, this);
    // Loopback can complete the handshake inside connect(); a veth never does.
    if (c.status == Io::Ok) on_connected();
}

void Conn::on_events(uint32_t events) {
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) peer_fin_seen_ = true;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) input_edge_ = true;
    if (state_ == State::Connecting) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        // Ask the kernel how the handshake ended (SO_ERROR: ECONNREFUSED for an RST, ETIMEDOUT after the
        // SYN retries, EHOSTUNREACH from an ICMP, ...) only when the event says it may have failed: a
        // handshake that failed leaves the socket in CLOSE with sk_err set, which tcp_poll reports as
        // EPOLLHUP and EPOLLERR, in this very mask (the kernel sets sk_err before the state, and
        // tcp_poll reads them in the other order, with a barrier). EPOLLOUT with neither means the
        // socket has left SYN-SENT and is not closed: connected, and a getsockopt would only say 0.
        // An error that comes later (a reset right after the handshake) shows up on the send() or
        // read() as ECONNRESET/EPIPE, a request error, as it is: the connection did exist.
        if (events & (EPOLLERR | EPOLLHUP)) {
            if (int err = take_socket_error(fd_).error()) {
                connect_failed(err, /*immediate=*/false);
                return;
            }
        }
        on_connected();
        if (state_ != State::Reading && state_ != State::Idle) return;  // closed or still writing
    }
    if (state_ == State::Writing && (events & (EPOLLOUT | EPOLLERR))) on_writable();
    if ((state_ == State::Reading || state_ == State::Idle || state_ == State::AwaitingEof) &&
        (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        on_readable();
}

void Conn::on_connected() {
    load_.handshake_done(mono_us() - connect_start_us_, source_);
    if (load_.options().nodelay) {
        // Nagle would hold a small request that follows an unacknowledged one (the write-write-read
        // stall, 40 ms here); a load generator must never add that on its own side. --nodelay off skips
        // this call on purpose: a new socket starts with Nagle on, and that is the stall to reproduce.
        if (int err = set_nodelay(fd_, true).error()) load_.count_errno(err);
    }
    if (has_request_) {
        send_request(mono_us());
    } else {
        state_ = State::Idle;
        deadline_us_ = 0;
        // EPOLLOUT stays registered (connect_socket says why that is free): no MOD here.
        load_.slot_free(*this);
    }
}

// ---- 2. request ----------------------------------------------------------------------------------------

void Conn::send(const Request& r, uint64_t now_us) {
    req_ = r;
    out_ = &load_.pieces_for(req_);
    answered_ = 0;
    has_request_ = true;
    send_request(now_us);
}

void Conn::send_request(uint64_t now_us) {
    state_ = State::Writing;
    written_ = 0;
    send_start_us_ = now_us;
    deadline_us_ = send_start_us_ + load_.options().timeout_ms * 1000;
    parser_.reset();
    on_writable();
}

void Conn::on_writable() {
    const Pieces& p = *out_;
    const Options::Write how = load_.options().write;
    if (how == Options::Write::Cork && !corked_) {
        // --write cork: from here the kernel sends only full segments; the pieces written below collect in
        // the send queue instead of leaving one by one. TCP_CORK overrides Nagle and TCP_NODELAY alike.
        if (int err = set_cork(fd_, true).error()) return request_failed({err, ProtoError::count});
        corked_ = true;
    }
    while (written_ < p.bytes.size()) {
        IoResult r;
        if (how == Options::Write::Gather) {
            // --write gather: every piece left, in ONE call, one iovec per piece: writev(), made as
            // sendmsg() so that a reset peer gives EPIPE, not SIGPIPE (send_iov). TCP gets the request
            // whole, cuts it into segments by MSS alone, and there is no later small write for Nagle to
            // hold: the structural fix, with nothing to set on the socket. (The pieces sit side by side
            // in one string here; a program whose head and body live in separate buffers sends them with
            // the same call and no copy, which is what an iovec is for.)
            iovec iov[kMaxIov];
            int n = gather_iov(p, written_, iov, kMaxIov);
            r = send_iov(fd_, iov, n);
        } else {
            // single: to the end of this request; each, cork: to the end of this piece.
            //
            // With --write each and Nagle on, THE SECOND PIECE'S write() IS WHERE THE STALL STARTS. The
            // head went out at once (nothing was in flight). The body is smaller than the MSS and the head
            // is still unacknowledged, so the kernel queues it and sends nothing (tcp_nagle_test; Linux uses
            // Minshall's variant: a small segment waits while an earlier SMALL one is unacknowledged). The
            // write() itself returns at once: the wait is invisible here. The server will not ACK the head
            // soon either: it has half a request and nothing to answer yet, so its ACK waits for the
            // delayed-ACK timer (TCP_DELACK_MIN, 40 ms). When that ACK lands, the body leaves, and only then
            // can the server answer. Nagle is the writer's rule, delayed ACK the reader's; the stall needs
            // both. TCP_NODELAY (--nodelay on) removes the first, TCP_QUICKACK on the server the second.
            size_t stop = write_stop(p, how, written_);
            r = write_some(fd_, p.bytes.data() + written_, stop - written_);
        }
        if (r.status == Io::WouldBlock) {
            // Send buffer full: the EPOLLOUT edge registered since connect_socket brings us back when
            // ACKs free room (this EAGAIN is what makes the kernel raise it). A corked send stays corked
            // until all of it is in, so the kernel keeps coalescing what is left.
            return;
        }
        if (r.status == Io::Error) {
            request_failed({r.err, ProtoError::count});
            return;
        }
        written_ += r.bytes;  // a short write just goes round again for the rest of the same piece
    }
    if (corked_) {
        // Uncork now that the whole send is in: the kernel pushes what it held at once, the last partial
        // segment included (tcp_push). Left corked, that partial segment would wait up to 200 ms for more
        // bytes (TCP_CORK's ceiling), a stall of our own making instead of Nagle's.
        corked_ = false;
        if (int err = set_cork(fd_, false).error()) return request_failed({err, ProtoError::count});
    }
    state_ = State::Reading;
    // Output done. EPOLLOUT stays registered: no ACK wakes us for it unless a write found the buffer
    // full (connect_socket says why), so a MOD to drop it would be a syscall that buys nothing.
    // No read() here "in case the response is already there": it almost never is, and when it arrives
    // the kernel raises a new edge. The one edge we could have missed is input that arrived while we were
    // still writing (a server answering 400 before reading all of the request): input_edge_ remembers it.
    if (input_edge_) on_readable();
}

// ---- 3. response ---------------------------------------------------------------------------------------

void Conn::on_readable() {
    // Edge-triggered: read until EAGAIN (or a short read, see Buffer::fill_from). A response bigger than
    // the buffer cap is consumed as it is parsed.
    input_edge_ = false;
    for (size_t taken = 0;;) {
        // Each fill asks for no more than what is left of this wakeup's cap, so the cap is a bound, not
        // a threshold checked after the fact (which would let one wakeup read cap + kReadBuffer - 1).
        size_t max = std::min(kReadBuffer, in_.readable() + (read_cap_ - taken));
        Buffer::FillResult f = in_.fill_from(fd_, max, !peer_fin_seen_);
        taken += f.bytes;
        if (f.bytes > 0 && load_.options().quickack) rearm_quickack();
        if ((state_ == State::Idle || state_ == State::AwaitingEof) && in_.readable() > 0) {
            // Bytes nobody asked for: after a complete response the stream is out of sync.
            load_.proto_error(ProtoError::BadResponse);
            in_.clear();
            return closed_by_peer(/*counted=*/true);
        }
        while (state_ == State::Reading && in_.readable() > 0) {
            ResponseParser::Result r = parser_.feed(in_.peek(), in_.readable());
            in_.consume(r.consumed);
            if (r.state == ResponseParser::State::Error) return request_failed({0, ProtoError::BadResponse});
            if (r.state == ResponseParser::State::NeedMore) break;
            response_complete(mono_us());
            // Reading: the next pipelined response (parse on). Idle: bytes left over are a protocol error,
            // caught above on the next pass. Anything else: closed, or waiting for the server's FIN.
            if (state_ != State::Idle && state_ != State::Reading) break;
        }
        if (fd_ < 0) return;  // churn closed it after the response: nothing more to read
        switch (f.how) {
            case Buffer::Fill::Full:
                // Parsed what we had; read the rest -- up to a point. A big response (--size of megabytes
                // from a fast server) would keep this one connection reading for as long as bytes keep
                // coming, while the other connections' responses, the schedule's timers and the deadline
                // sweep wait (and the latency they measure grows by our loop's delay). Past the cap the
                // ready list brings us back before the loop sleeps: no edge would, the bytes are queued.
                if (taken >= read_cap_) return reactor_.defer(fd_, EPOLLIN);
                continue;
            case Buffer::Fill::Drained: return;
            case Buffer::Fill::Error:
                if (state_ == State::Reading) return request_failed({f.err, ProtoError::count});
                // After a complete response that said "Connection: close", an RST is how the server
                // closes (churn-server --linger0: SO_LINGER {1, 0}); the request already succeeded.
                if (!(state_ == State::AwaitingEof && f.err == ECONNRESET)) load_.count_errno(f.err);
                return closed_by_peer(/*counted=*/true);
            case Buffer::Fill::Eof:
                if (state_ == State::Reading) {
                    // A body delimited by the close, or a server that closed before answering.
                    if (parser_.on_eof() != ResponseParser::State::Complete)
                        return request_failed({0, ProtoError::ClosedEarly});
                    response_complete(mono_us());
                    // Pipelined requests still owed an answer on a stream that has ended: lost.
                    if (state_ == State::Reading) return request_failed({0, ProtoError::ClosedEarly});
                }
                // Idle: the server closed a keep-alive connection (its idle timeout, or it is going away).
                // AwaitingEof: the FIN we waited for after "Connection: close".
                if (state_ == State::Idle || state_ == State::AwaitingEof) closed_by_peer(state_ == State::AwaitingEof);
                return;
        }
    }
}

void Conn::rearm_quickack() {
    // --quickack: the client is the receiver of responses, and its delayed ACK is what a server writing
    // head and body separately with Nagle on waits for. TCP_QUICKACK does two things when set: if an ACK
    // is due it goes out now (tcp_cleanup_rbuf; the receive queue is empty after this read), and the
    // socket leaves "pingpong" (interactive) mode, so the next segments are ACKed at once. Neither lasts:
    // the kernel goes back to pingpong mode as soon as we send soon after receiving (tcp_event_data_sent,
    // i.e. our next request), and then delays ACKs again. So it is set again after EVERY read, not once.
    if (int err = set_quickack(fd_).error()) load_.count_errno(err);
}

void Conn::response_complete(uint64_t now_us) {
    ++served_;
    ++answered_;
    load_.request_done(req_, now_us, now_us - send_start_us_, parser_.status(), parser_.body_bytes());
    bool more = answered_ < load_.per_send();  // --pattern pipeline: responses still to come for this send
    if (!parser_.keep_alive()) {
        // The server will not read past a "Connection: close" answer (RFC 9112 §9.6): pipelined requests
        // behind it will never be answered. Count them failed now rather than wait out --timeout.
        if (more) return request_failed({0, ProtoError::ClosedEarly});
        // "Connection: close": the server will close, so let it close first and take the TIME-WAIT
        // (that is what churn-server --close server is for). Wait for its FIN, bounded by --timeout.
        has_request_ = false;
        load_.closed_by_server();
        state_ = State::AwaitingEof;
        deadline_us_ = now_us + load_.options().timeout_ms * 1000;
        return;
    }
    if (more) {
        // The next response follows on the same stream, maybe already in the buffer: on_readable's loop
        // parses on, still Reading, under the same deadline.
        parser_.reset();
        return;
    }
    has_request_ = false;
    deadline_us_ = 0;
    if (load_.options().mode == Options::Mode::Pool) {
        state_ = State::Idle;
        // The clock reading that ended this request also starts the next one on this connection: it is
        // written within the same call chain, microseconds later. One vDSO clock_gettime per request
        // instead of three (the profile in EXPERIMENTS §3 shows them beside the parser).
        load_.slot_free(*this, now_us);
        return;
    }
    // Churn: the naive client reads its response and closes first, so TIME-WAIT lands on this host.
    close_socket();
    load_.slot_free(*this);
}

void Conn::closed_by_peer(bool counted) {
    // The server's FIN (or RST) ended the connection; close our side and give the slot back.
    if (!counted) load_.closed_by_server();
    close_socket();
    if (load_.options().mode == Options::Mode::Pool) load_.reconnect_later(*this);
    else load_.slot_free(*this);
}

// ---- failures and deadlines ----------------------------------------------------------------------------

void Conn::connect_failed(int err, bool immediate) {
    close_socket();
    has_request_ = false;  // handed back to the schedule by the Load (request() still reads it)
    load_.connect_failed(*this, err, immediate);
}

void Conn::request_failed(Failure why) {
    // Stale (safe to send again) only when nothing of this send was answered: a pipeline cut off halfway
    // had its first answers counted already, and sending it all again would count them twice.
    why.stale = served_ > 0 && answered_ == 0 && !parser_.in_progress() &&
                (why.err == ECONNRESET || why.err == EPIPE || (why.err == 0 && why.proto == ProtoError::ClosedEarly));
    uint32_t owed = outstanding();
    close_socket();
    has_request_ = false;
    load_.request_failed(*this, req_, why, owed);
}

void Conn::check_deadline(uint64_t now_us) {
    if (deadline_us_ == 0 || now_us < deadline_us_) return;
    deadline_us_ = 0;
    if (state_ == State::Connecting) connect_failed(ETIMEDOUT, false);
    else if (state_ == State::Writing || state_ == State::Reading) request_failed({0, ProtoError::Timeout});
    else if (state_ == State::AwaitingEof) closed_by_peer(/*counted=*/true);  // it never sent its FIN
}

void Conn::abandon() {
    has_request_ = false;
    close_socket();
}

void Conn::close_socket() {
    if (fd_ < 0) return;
    // Unregister before close(): the reactor bumps this fd's generation, so an event for it later in
    // the same epoll batch is dropped, not delivered to whoever gets the fd number next. Without an
    // epoll_ctl(DEL): the close() below drops the kernel's registration, since this socket is ours
    // alone (connect_tcp made it; churn-client never dup()s a socket, never forks, never passes fds).
    // Any of those would keep the file, and its registration, alive past close(): see Reactor.
    reactor_.forget_before_close(fd_);
    // --linger0 (run-levers row 6): SO_LINGER {1, 0} turns this close() into an abortive one. The kernel
    // sends RST instead of FIN and frees the socket at once, so this host keeps no TIME-WAIT and its port
    // is free for the next connect(). What it costs: anything still in our send queue is dropped and
    // never retransmitted, our unread input is discarded, and the server's next read() or write() on
    // its end fails with ECONNRESET (churn-server counts it in closes.reset), where a FIN would have
    // read as a clean EOF. Only on an established connection: a socket still in SYN-SENT has nothing
    // to lose and no TIME-WAIT to skip.
    if (load_.options().linger0 && state_ != State::Connecting) {
        if (int err = set_linger0(fd_).error()) load_.count_errno(err);
    }
    // close() can report a pending error (or EBADF: a bookkeeping bug); count it like any other errno.
    if (int err = close_fd(fd_).error()) load_.count_errno(err);
    fd_ = -1;
    corked_ = false;  // the cork went with the socket
    state_ = State::Closed;
    deadline_us_ = 0;
    in_.clear();
}

}  // namespace churn
