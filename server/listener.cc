#include "server/listener.h"

#include <fcntl.h>
#include <sys/epoll.h>

#include <cerrno>

#include "loop/clock.h"
#include "loop/socket.h"
#include "loop/sys.h"

namespace churn {

namespace {
constexpr uint64_t kRetryUs = 10'000;

int open_spare() {
    // O_CLOEXEC like every other fd we hold; /dev/null because it always opens and costs nothing.
    return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}
}  // namespace

Listener::Listener(Reactor& reactor, const ServerOptions& opt, const Responses& responses, ServerStats& stats)
    : reactor_(reactor), opt_(opt), responses_(responses), stats_(stats),
      timeouts_(opt.header_timeout_us, opt.body_timeout_us, opt.idle_timeout_us, opt.send_timeout_us) {
    spare_fd_ = open_spare();
    if (spare_fd_ < 0) throw_sys("open", "/dev/null, O_RDONLY", errno);
    try {
        fd_ = listen_tcp(opt.endpoint, ListenOptions{opt.backlog, opt.reuseport});
    } catch (...) {
        ::close(spare_fd_);
        throw;
    }
    if (opt.nodelay) {
        // Nagle would hold a small response while an earlier segment is unacknowledged; with the
        // client's delayed ACK that is a 40 ms stall for pipelined or multi-write answers. Set ONCE,
        // here: Linux copies the listener's TCP_NODELAY into every connection it accepts (the child is
        // a clone of the listening socket, sk_clone_lock, nonagle included; fd flags such as
        // O_NONBLOCK are what accept() does NOT pass on). One setsockopt per run instead of one per
        // accepted connection. --nodelay off leaves the listener, and so every connection, with Nagle
        // on, as a new socket starts. Checked by tests/unit/test_server_accept.cc on this kernel.
        if (int e = set_nodelay(fd_, true).error()) {
            ::close(fd_);
            ::close(spare_fd_);
            throw_sys("setsockopt", "TCP_NODELAY, listening fd=" + std::to_string(fd_), e);
        }
    }
    started_us_ = mono_us();
    if (opt.accept_for_us == 0) {
        // --accept-for 0: listen() but never accept(); the queue fills from the first handshake on.
        accepting_ = false;
        stats_.accept_stopped_at_s = 0;
    } else {
        // Connections may already be queued between listen() and here; EPOLL_CTL_ADD reports a socket
        // that is already readable, so the first edge is not lost.
        reactor_.watch(fd_, EPOLLIN, this);
        if (opt.accept_for_us != ServerOptions::kAcceptAlways)
            accept_stop_ = reactor_.after(opt.accept_for_us, [this] { stop_accepting(); });
    }
    // One periodic timer for every connection's timeouts (timeouts.h says why not one each).
    if (uint64_t every = timeouts_.sweep_interval_us())
        sweep_ = reactor_.every(every, [this] { timeouts_.sweep(mono_us()); });
}

Listener::~Listener() {
    if (sweep_) reactor_.cancel(sweep_);
    if (accept_stop_) reactor_.cancel(accept_stop_);
    if (fd_ >= 0) {
        if (reactor_.watching(fd_)) reactor_.forget(fd_);
        ::close(fd_);
    }
    if (spare_fd_ >= 0) ::close(spare_fd_);
}

std::string Listener::local() const { return local_str(fd_); }

// --accept-for ran out (listener.h says what the kernel does from here on). forget(), not close(): a
// closed listener would answer every SYN with RST (ECONNREFUSED at once), which is a different failure
// from a server that is alive but does not take its connections. Out of epoll, no edge wakes us for
// nothing; events already fetched in this batch, and a deferred accept, are dropped by the reactor.
void Listener::stop_accepting() {
    accept_stop_ = 0;
    accepting_ = false;
    if (reactor_.watching(fd_)) reactor_.forget(fd_);
    stats_.accept_stopped_at_s = static_cast<double>(mono_us() - started_us_) / 1e6;
}

void Listener::on_events(uint32_t) {
    // retry_later()'s timer calls us directly, not through epoll: it must not revive accepting.
    if (!accepting_) return;
    for (int n = 0; n < kAcceptsPerWakeup; ++n) {
        SockResult r = accept_(fd_);
        if (r.status == Io::Ok) {
            admit(r.fd);
            continue;
        }
        if (r.status == Io::WouldBlock) return;  // drained: the next connection brings a new edge
        switch (r.err) {
            case EMFILE:
            case ENFILE:
                // The fd table is full. accept4() reports this before it looks at the queue, so an empty
                // queue at EMFILE never says EAGAIN: shed_one() tells us when we are done.
                if (spare_fd_ < 0) {
                    stats_.count_error(r.err);
                    retry_later();
                    return;
                }
                if (!shed_one(r.err)) return;
                continue;
            case ENOBUFS:
            case ENOMEM:
                // Kernel memory pressure: hammering accept4() will not help; try again shortly.
                stats_.count_error(r.err);
                retry_later();
                return;
            case EBADF:
            case EINVAL:
            case ENOTSOCK:
            case EFAULT:
                throw_sys("accept4", "fd=" + std::to_string(fd_), r.err);
            default:
                // ECONNABORTED, EPERM (a firewall rule), and the network errors of the new socket
                // (EPROTO, ENETDOWN, EHOSTUNREACH, ...): that connection is gone, the next may be fine.
                stats_.count_error(r.err);
                continue;
        }
    }
    // The cap, not EAGAIN: more may be queued, and no new edge will say so. Come back before sleeping.
    reactor_.defer(fd_, EPOLLIN);
}

// EMFILE/ENFILE with the spare fd in hand: free one slot, accept into it, close both ends of the
// bargain. Returns false only once the queue is drained (EAGAIN): any other outcome -- a connection shed,
// or one that died in the queue (ECONNABORTED, EPROTO) -- says nothing about the connections behind it,
// and they get no new edge, so the accept loop must go on.
bool Listener::shed_one(int err) {
    ::close(spare_fd_);
    SockResult r = accept_(fd_);
    if (r.status == Io::Ok) {
        ++stats_.accepted;
        ++stats_.shed;
        stats_.count_error(err);  // one count per connection we had to turn away
        if (int e = close_fd(r.fd).error()) stats_.count_error(e);
    } else if (r.status == Io::Error) {
        stats_.count_error(r.err);
    }
    // The slot we just freed is ours again (this server has one thread, and nothing else opens fds
    // between these lines); if open() still fails, retry_later() reopens the spare.
    spare_fd_ = open_spare();
    return r.status != Io::WouldBlock;
}

void Listener::retry_later() {
    if (retry_armed_) return;
    retry_armed_ = true;
    reactor_.after(kRetryUs, [this] {
        retry_armed_ = false;
        if (spare_fd_ < 0) spare_fd_ = open_spare();
        // No edge will come for connections already queued: run the accept loop ourselves.
        on_events(EPOLLIN);
    });
}

// The connection to close so that a new one fits under --max-conns, or nullptr (timeouts.h keeps the
// lists in order; see listener.h for the policy).
Connection* Listener::victim() {
    uint64_t now = mono_us();
    // On Head and Send the oldest is the best candidate: if even it is within its grace, every other one
    // is too.
    if (Connection* c = timeouts_.oldest(Timeouts::Clock::Head)) {
        if (c->clock_since_us() + opt_.evict_grace_us <= now) return c;
    }
    if (Connection* c = timeouts_.oldest(Timeouts::Clock::Idle)) return c;
    if (Connection* c = timeouts_.oldest(Timeouts::Clock::Send)) {
        if (c->clock_since_us() + opt_.evict_grace_us <= now) return c;
    }
    return nullptr;
}

void Listener::admit(int fd) {
    ++stats_.accepted;
    if (opt_.max_conns != 0 && stats_.live >= opt_.max_conns) {
        Connection* v = opt_.evict ? victim() : nullptr;
        if (!v) {
            // Nobody to evict: accepting and closing at once tells the client "no" in one round trip;
            // leaving it in the queue would let the backlog fill and SYNs be dropped, which looks like loss.
            ++stats_.rejected;
            if (int e = close_fd(fd).error()) stats_.count_error(e);
            return;
        }
        v->evict();  // closes it and hands it back to free_ (release), so live drops below the limit
    }
    // TCP_NODELAY (--nodelay on) came with the socket: inherited from the listener (constructor).
    if (opt_.linger0) {
        if (int e = set_linger0(fd).error()) stats_.count_error(e);
    }
    Connection* c;
    if (free_.empty()) {
        pool_.push_back(std::make_unique<Connection>(reactor_, *this, timeouts_, opt_, responses_, stats_));
        c = pool_.back().get();
    } else {
        c = free_.back();
        free_.pop_back();
    }
    c->open(fd);
    if (++stats_.live > stats_.max_concurrent) stats_.max_concurrent = stats_.live;
    // The request usually is already in the receive queue; ADD reports that, no read needed here.
    reactor_.watch(fd, EPOLLIN | EPOLLRDHUP, c);
}

void Listener::release(Connection* c) {
    --stats_.live;
    free_.push_back(c);
}

void Listener::abandon_all() {
    // Stop listening first. Closing the connections first would let a client that reconnects on our FIN
    // complete a handshake with the listen queue of a server that is going away, only to be reset a
    // moment later when the listener closes: a handshake and an ECONNRESET that mean nothing.
    if (fd_ >= 0) {
        if (reactor_.watching(fd_)) reactor_.forget(fd_);
        ::close(fd_);
        fd_ = -1;
    }
    for (auto& c : pool_) {
        if (c->is_open()) {
            c->abandon();
            --stats_.live;
        }
    }
}

}  // namespace churn
