#include "server/connection.h"

#include <sys/epoll.h>

#include <algorithm>

#include "loop/clock.h"
#include "loop/socket.h"
#include "loop/sys.h"
#include "server/listener.h"

namespace churn {

namespace {
// EPOLLRDHUP always: the peer's FIN (half-close) must wake us even when we have nothing to write.
// EPOLLOUT only while output is pending: an idle keep-alive socket is always writable, and asking for
// it would wake the loop for nothing (edge-triggered, once per ACK that frees send-buffer space).
constexpr uint32_t kIdle = EPOLLIN | EPOLLRDHUP;
constexpr uint32_t kWriting = EPOLLIN | EPOLLRDHUP | EPOLLOUT;
}  // namespace

void Connection::open(int fd) {
    fd_ = fd;
    // clear() keeps the buffers' capacity: a reused connection object does not allocate again.
    in_.clear();
    out_.clear();
    parser_.reset();
    requests_ = 0;
    body_left_ = 0;
    pending_ = nullptr;
    pending_head_only_ = restart_clock_ = peer_fin_seen_ = false;
    input_ = Input::Edge;
    if (opt_.discard) {
        state_ = State::Discard;  // no HTTP, so no request clocks: the sender decides when it is done
        return;
    }
    // The header clock starts at the accept, like nginx's: a client that connects and says nothing is
    // the cheapest slowloris of all.
    state_ = State::Head;
    timeouts_.start(*this, Timeouts::Clock::Head, mono_us());
}

void Connection::on_events(uint32_t events) {
    // EPOLLHUP/EPOLLERR also mean "read now": read() is where the pending error (ECONNRESET) or the
    // EOF shows up with its errno.
    bool readable = (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) peer_fin_seen_ = true;
    step(readable);
}

// One pass: take input, answer it, push the answers, then decide what waits for what.
void Connection::step(bool readable) {
    if (state_ == State::Discard) return discard();
    bool more = false;  // parsed input left over (request budget or output cap): no edge will announce it
    if ((readable || input_ == Input::Unread) && state_ != State::Closing && input_ != Input::Eof) {
        if (out_.pending() >= limits_.output_cap) {
            // Back-pressure: leave the bytes in the socket (its receive window will push back on the
            // client) and remember them. Whatever happens to the backlog below, they are ours to fetch.
            input_ = Input::Unread;
        } else {
            Buffer::FillResult f = in_.fill_from(fd_, limits_.read_cap, !peer_fin_seen_);
            stats_.bytes_in += f.bytes;
            if (f.how == Buffer::Fill::Error) return fail(f.err);
            if (opt_.quickack && f.bytes > 0) {
                // --quickack, after every read that brought bytes: the ACK for them leaves now, not up to
                // 40 ms later. It matters when the request is not complete yet (a head without its body):
                // we have no answer to carry the ACK, and a client with Nagle on holds its next small
                // piece until that ACK comes. Again on every read, because it is not sticky: our last
                // answer, sent right after a read, put the socket back in delayed-ACK mode
                // (loop/socket.cc, set_quickack).
                if (int e = set_quickack(fd_).error()) stats_.count_error(e);
            }
            // EOF with bytes still buffered: answer them first (the peer half-closed after sending,
            // e.g. `printf ... | nc -N`), close afterwards.
            input_ = f.how == Buffer::Fill::Eof ? Input::Eof : f.how == Buffer::Fill::Full ? Input::Unread : Input::Edge;
        }
    }
    if (state_ != State::Closing && serve()) more = true;

    bool wrote = false;  // the kernel took bytes: progress for the send clock
    if (out_.pending() > 0) {
        // Once per step, after serving everything buffered: the answers to a pipelined burst are all
        // queued by now, so single and gather hand them to the kernel in one call (each and cork: one
        // call per piece, on purpose).
        SendQueue::Flushed w = out_.flush(fd_);
        wrote = w.bytes > 0;
        stats_.bytes_out += w.bytes;
        stats_.write_calls += w.calls;
        if (w.cork_err) stats_.count_error(w.cork_err);
        if (w.status == Io::Error) return fail(w.err);
    }
    if (out_.pending() > 0) {
        // The send buffer is full: EPOLLOUT brings us back here, and step() carries on from where it
        // stopped (reading Unread input, serving more, closing) once the backlog drains.
        reactor_.rewatch(fd_, kWriting);
        return settle(wrote);
    }
    reactor_.rewatch(fd_, kIdle);  // no syscall when the interest set is unchanged

    if (state_ == State::Closing) return finish(End::Server);
    if (input_ == Input::Eof && !more) return opt_.leak_close_wait ? leak() : finish(End::Client);
    // The rule of the file header: input we stopped reading (read cap, or the output cap at the top of
    // this step even if the flush just emptied the backlog) and requests we stopped parsing come back
    // through the ready list, since no edge will. (Linux happens to hide a missing defer here today: the
    // EPOLL_CTL_MOD that drops EPOLLOUT re-arms a readable fd. A reactor that left EPOLLOUT registered
    // would not, so we do not lean on it; tests/unit/test_server_conn.cc checks the defer itself.)
    if (more || input_ == Input::Unread) reactor_.defer(fd_, EPOLLIN);
    settle(wrote);
}

// Which state the step left us in, and its clock. Called at the end of every step that keeps the
// connection; the clock restarts on a change of clock or on that clock's own progress: a complete head
// or body bytes for Head and Body, bytes taken by the kernel (`wrote`) for Send. Writing and Closing
// share the send clock, so a Connection: close answer queued behind a stalled backlog does not restart it;
// and a request parsed while answers wait is no progress for it either.
void Connection::settle(bool wrote) {
    State next;
    if (state_ == State::Closing) next = State::Closing;  // only reached with its last answer unsent
    else if (body_left_ > 0) next = State::Body;
    else if (out_.pending() > 0) next = State::Writing;
    else if (in_.readable() > 0 || requests_ == 0) next = State::Head;  // a partial head, or none yet
    else next = State::Idle;
    Timeouts::Clock k = next == State::Head                                 ? Timeouts::Clock::Head
                        : next == State::Body                               ? Timeouts::Clock::Body
                        : next == State::Idle                               ? Timeouts::Clock::Idle
                        : next == State::Writing || next == State::Closing ? Timeouts::Clock::Send
                                                                            : Timeouts::Clock::None;
    bool progress = k == Timeouts::Clock::Send ? wrote : restart_clock_;
    bool restart = progress || k != link_.clock;
    restart_clock_ = false;
    state_ = next;
    if (!restart) return;
    // mono_us() is clock_gettime through the vDSO: no syscall. Called only when a clock (re)starts.
    if (k == Timeouts::Clock::None) timeouts_.stop(*this);
    else timeouts_.start(*this, k, mono_us());
}

// Parse and answer every complete request buffered, in order, queueing the answers in out_ so that
// a pipelined burst is flushed together (one send() with --write single, one sendmsg() with gather).
bool Connection::serve() {
    for (int served = 0;;) {
        if (body_left_ > 0) {
            // Bodies are read and dropped; the answer waits until the whole body is in, so the next
            // request's first byte is where the parser will start.
            size_t take = static_cast<size_t>(std::min<uint64_t>(body_left_, in_.readable()));
            in_.consume(take);
            body_left_ -= take;
            if (take > 0) restart_clock_ = true;  // progress: the body clock measures silence, not total time
            if (body_left_ > 0) return false;
            respond(*pending_, pending_head_only_);
            if (state_ == State::Closing) return false;
        }
        if (in_.readable() == 0) return false;
        if (served == limits_.requests_per_wakeup || out_.pending() >= limits_.output_cap) return true;

        http::ParseResult p = parser_.parse(in_.view());
        if (p.status == http::Parse::NeedMore) return false;
        if (p.status == http::Parse::Error) {
            if (p.error_status == 431) ++stats_.http_431;
            else if (p.error_status == 501) ++stats_.http_501;
            else ++stats_.http_400;
            // After a request we cannot parse, nothing tells us where the next one starts: answer and close.
            respond(responses_.error(p.error_status), false);
            return false;
        }
        ++served;
        ++requests_;
        ++stats_.requests;
        restart_clock_ = true;  // a head is complete: whatever comes next starts its own clock
        const http::Request& q = p.request;
        const Response* r = &responses_.keep_alive_11;
        if (opt_.close_server || !q.keep_alive) r = &responses_.close;
        else if (q.version_minor == 0) r = &responses_.keep_alive_10;
        bool head = q.is_head();
        uint64_t body = q.content_length;
        bool expect = q.expect_continue;
        in_.consume(q.header_bytes);  // q's string_views die here
        if (body > 0) {
            body_left_ = body;
            pending_ = r;
            pending_head_only_ = head;
            // curl waits up to 1 s for this before sending a large body; skip it if the body is here.
            if (expect && in_.readable() < body) out_.push(responses_.continue_100);
            continue;
        }
        respond(*r, head);
        if (state_ == State::Closing) return false;
    }
}

void Connection::respond(const Response& r, bool head_only) {
    std::string_view piece[2];
    int n = r.pieces(head_only, opt_.response_pattern == ServerOptions::Pattern::Split, piece);
    for (int i = 0; i < n; ++i) out_.push(piece[i]);  // views into responses_, which outlive every connection
    ++stats_.responses;
    // Anything after a Connection: close answer (pipelined requests) is left unanswered, as RFC 9112
    // §9.6 says; the client knows to retry them on a new connection.
    if (&r != &responses_.keep_alive_11 && &r != &responses_.keep_alive_10) state_ = State::Closing;
}

void Connection::fail(int err) {
    stats_.count_error(err);
    // ECONNRESET on read, EPIPE on write: the peer's RST (a client with SO_LINGER 0, or one that
    // closed with our data unread). Anything else is a real socket error.
    finish(err == ECONNRESET || err == EPIPE ? End::Reset : End::Error);
}

void Connection::finish(End how) {
    // Unregister before close(): once closed, the fd number can come back from the next accept4().
    // No epoll_ctl(DEL): the close() below drops the registration, as this socket is ours alone
    // (accept4 made it; churn-server never dup()s, forks or passes fds). A shared file would outlive
    // our close() with its registration: see Reactor::forget_before_close. leak() keeps the fd, so it
    // uses forget(), with the DEL.
    reactor_.forget_before_close(fd_);
    timeouts_.stop(*this);
    if (how == End::Server && input_ != Input::Eof) {
        // close() with unread bytes in the receive queue sends RST instead of FIN (RFC 2525 §2.17), and
        // the RST may destroy our last response before the client reads it. Read what is queued first.
        // Bytes that arrive after close() still draw an RST; a full lingering close is not worth a
        // timer here. (--linger0 sends RST on purpose, after the response, and is unaffected.)
        in_.clear();
        Buffer::FillResult f = in_.fill_from(fd_, 64 * 1024);
        stats_.bytes_in += f.bytes;
        in_.clear();
        if (f.how == Buffer::Fill::Eof) input_ = Input::Eof;
    }
    // A peer that half-closed before our last answer sent the first FIN: the TIME-WAIT is on its side,
    // even when our answer said Connection: close.
    if (how == End::Server && input_ == Input::Eof) how = End::Client;
    switch (how) {
        case End::Client: ++stats_.close_client; break;
        case End::Server: ++stats_.close_server; break;
        case End::Reset: ++stats_.close_reset; break;
        case End::Error: ++stats_.close_error; break;
    }
    // With --linger0 this close() sends RST and the socket skips TIME-WAIT; otherwise it sends FIN,
    // and whichever side sent the first FIN holds the TIME-WAIT for 60 s.
    if (int err = close_fd(fd_).error()) stats_.count_error(err);
    fd_ = -1;
    state_ = State::Closed;
    owner_.release(this);  // to the free list; this object stays valid until we return
}

// --leak-close-wait: the bug this server exists to demonstrate. The peer sent FIN (read() returned 0),
// the kernel ACKed it and moved the socket to CLOSE-WAIT, where it stays until *we* close(). We stop
// watching the fd (it would only report EOF again) and keep it: the socket, its fd and its slot in the
// fd table stay taken until the process exits, which is what churn-probe triage must find and name.
void Connection::leak() {
    reactor_.forget(fd_);
    timeouts_.stop(*this);  // a leak is forever: no clock may close it
    state_ = State::Leaked;
    ++stats_.leaked;
}

// --discard: the receiving end of a bulk transfer (make run-cc). No HTTP and no answer: every byte is
// read and dropped at once, so the receive window never closes and the sender's congestion control
// alone sets the pace. The bytes go to a scratch array, not in_: nothing is kept, so nothing grows.
// Edge-triggered: read until EAGAIN (the next segment raises a new edge), or until the per-wakeup cap,
// and then the ready list brings us back. Every edge, EPOLLRDHUP included, ends here: the FIN shows up
// as read() == 0 once the queued data is drained.
void Connection::discard() {
    char scratch[64 * 1024];
    for (size_t taken = 0;;) {
        if (taken >= limits_.discard_cap) return reactor_.defer(fd_, EPOLLIN);
        IoResult r = read_some(fd_, scratch, sizeof scratch);
        switch (r.status) {
            case Io::Ok:
                taken += r.bytes;
                stats_.bytes_in += r.bytes;
                stats_.bytes_discarded += r.bytes;
                break;
            case Io::WouldBlock: return;
            case Io::Eof: input_ = Input::Eof; return finish(End::Client);  // the sender's FIN: it closed first
            case Io::Error: return fail(r.err);  // ECONNRESET: the sender reset (killed, or SO_LINGER 0)
        }
    }
}

void Connection::abandon() {
    reactor_.forget_before_close(fd_);  // closed just below; finish() says why no DEL
    timeouts_.stop(*this);
    if (int err = close_fd(fd_).error()) stats_.count_error(err);
    fd_ = -1;
    state_ = State::Closed;
    ++stats_.open_at_exit;
}

// Timeouts and evictions close the way nginx does: a plain close after reading what is queued (finish),
// no 408. An idle keep-alive client would take an unsolicited 408 for the answer to its next request,
// and a slowloris reads nothing anyway. The server closes first, so the TIME-WAIT is ours (closes.server).
// The exception is a peer that is not taking our answers (the send clock, and evicting a writer): it
// gets an RST instead (reset_unsent), and no TIME-WAIT is left on either side.
void Connection::expire(Timeouts::Clock k) {
    switch (k) {
        case Timeouts::Clock::Head: ++stats_.timeout_header; break;
        case Timeouts::Clock::Body: ++stats_.timeout_body; break;
        case Timeouts::Clock::Idle: ++stats_.timeout_idle; break;
        case Timeouts::Clock::Send: ++stats_.timeout_send; return reset_unsent();
        case Timeouts::Clock::None: break;
    }
    finish(End::Server);
}

void Connection::evict() {
    if (state_ == State::Writing || state_ == State::Closing) {
        ++stats_.evicted_send;
        return reset_unsent();
    }
    if (state_ == State::Idle) ++stats_.evicted_idle;
    else ++stats_.evicted_head;
    finish(End::Server);
}

// Closing a connection whose peer takes none of our answers. A plain close() would queue our FIN behind
// a full send buffer that the peer is not draining: the kernel keeps the orphaned socket and its buffer,
// probing a zero window for minutes (tcp_orphan_retries), memory this server no longer sees or counts.
// SO_LINGER {1, 0} makes close() drop the unsent bytes and send RST: the peer learns at once, and nothing
// is left behind (nginx's reset_timedout_connection). The answers were lost either way.
void Connection::reset_unsent() {
    if (int err = set_linger0(fd_).error()) stats_.count_error(err);
    finish(End::Server);
}

const char* state_name(Connection::State s) {
    switch (s) {
        case Connection::State::Closed: return "Closed";
        case Connection::State::Head: return "Head";
        case Connection::State::Body: return "Body";
        case Connection::State::Idle: return "Idle";
        case Connection::State::Writing: return "Writing";
        case Connection::State::Closing: return "Closing";
        case Connection::State::Leaked: return "Leaked";
        case Connection::State::Discard: return "Discard";
    }
    return "?";
}

}  // namespace churn
