#include "server/send_queue.h"

#include <climits>

#include "loop/socket.h"

namespace churn {

namespace {
// The kernel refuses a longer iovec array with EINVAL (UIO_MAXIOV, 1024 on Linux); IOV_MAX is its
// userspace name. Anything past it waits for the next sendmsg() of the same flush.
constexpr int kMaxIov = IOV_MAX;
static_assert(kMaxIov >= 2, "a split answer needs two iovecs in one call");
// Sent pieces are dropped from the front of the vector only once they are this many and at least half of
// it: the common case (everything sent) just clears it, and a long pipelined backlog is not shifted
// down on every flush.
constexpr size_t kCompactAt = 1024;
}  // namespace

void SendQueue::push(std::string_view piece) {
    if (piece.empty()) return;
    if (mode_ == Write::Single) buf_.append(piece);  // today's copy: every answer of the step in one buffer
    else pieces_.push_back(piece);
    bytes_ += piece.size();
}

size_t SendQueue::pieces() const {
    if (mode_ == Write::Single) return bytes_ > 0 ? 1 : 0;
    return pieces_.size() - next_;
}

void SendQueue::clear() {
    buf_.clear();
    pieces_.clear();
    next_ = off_ = bytes_ = 0;
}

int SendQueue::iovecs(iovec* out, int max) const {
    int n = 0;
    for (size_t i = next_; i < pieces_.size() && n < max; ++i, ++n) {
        size_t skip = i == next_ ? off_ : 0;
        // iov_base is void*, not const void*: the kernel only reads it for a send.
        out[n].iov_base = const_cast<char*>(pieces_[i].data() + skip);
        out[n].iov_len = pieces_[i].size() - skip;
    }
    return n;
}

void SendQueue::consume(size_t n) {
    bytes_ -= n;
    while (n > 0) {
        size_t left = pieces_[next_].size() - off_;
        if (n < left) {  // a short write: the kernel took part of this piece, the rest goes next time
            off_ += n;
            return;
        }
        n -= left;
        ++next_;
        off_ = 0;
    }
    if (next_ == pieces_.size()) {
        pieces_.clear();
        next_ = 0;
    } else if (next_ >= kCompactAt && next_ * 2 >= pieces_.size()) {
        pieces_.erase(pieces_.begin(), pieces_.begin() + static_cast<std::ptrdiff_t>(next_));
        next_ = 0;
    }
}

bool SendQueue::took(const IoResult& r, Flushed& f) {
    ++f.calls;
    if (r.status != Io::Ok) {
        f.status = r.status;
        f.err = r.err;
        return false;
    }
    consume(r.bytes);
    f.bytes += r.bytes;
    return true;
}

SendQueue::Flushed SendQueue::flush(int fd) {
    switch (mode_) {
        case Write::Single: return flush_single(fd);
        case Write::Each: return flush_each(fd);
        case Write::Gather: return flush_gather(fd);
        case Write::Cork: break;
    }
    // Cork: the pieces go one send() each, as in `each`, but the kernel holds every partial segment
    // while the cork is in (only full MSS-sized segments leave), so head and body share a segment.
    int cork_err = set_cork(fd, true).error();
    Flushed f = flush_each(fd);
    // Uncork even when the flush stopped at EAGAIN: what the kernel took must leave now, not at the
    // next flush or when the kernel's 200 ms cork limit runs out. (Uncorking is the push: tcp(7).)
    if (int e = set_cork(fd, false).error(); e && !cork_err) cork_err = e;
    f.cork_err = cork_err;
    return f;
}

// The loop of Buffer::flush_to, counting its calls: send() until the buffer is empty or EAGAIN.
SendQueue::Flushed SendQueue::flush_single(int fd) {
    Flushed f{Io::Ok, 0, 0, 0, 0};
    while (buf_.readable() > 0) {
        IoResult r = write_some(fd, buf_.peek(), buf_.readable());
        ++f.calls;
        if (r.status == Io::Ok) {
            buf_.consume(r.bytes);
            bytes_ -= r.bytes;
            f.bytes += r.bytes;
            continue;  // a short write means the send buffer filled: the next call says EAGAIN
        }
        f.status = r.status;
        f.err = r.err;
        return f;
    }
    return f;
}

SendQueue::Flushed SendQueue::flush_each(int fd) {
    Flushed f{Io::Ok, 0, 0, 0, 0};
    while (next_ < pieces_.size()) {
        // One piece per send(), never more, even when the next piece is right behind it in the queue:
        // this mode exists to show what the kernel does with separate small writes.
        std::string_view piece = pieces_[next_].substr(off_);
        if (!took(write_some(fd, piece.data(), piece.size()), f)) return f;
    }
    return f;
}

SendQueue::Flushed SendQueue::flush_gather(int fd) {
    Flushed f{Io::Ok, 0, 0, 0, 0};
    iovec iov[kMaxIov];
    while (bytes_ > 0) {
        // Every piece due now in one call: the kernel copies them into its send queue back to back, so
        // a head and its body (and the answers pipelined behind them) share segments, and nothing small
        // is left to wait behind Nagle.
        int n = iovecs(iov, kMaxIov);
        if (!took(send_iov(fd, iov, n), f)) return f;
    }
    return f;
}

}  // namespace churn
