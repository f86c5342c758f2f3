// send_queue.h: the answers the kernel has not taken yet, kept as the pieces they were queued in, and the
// four ways of handing them over (--write). The choice decides how many syscalls an answer costs and,
// with Nagle on (--nodelay off), whether a second small piece waits for the peer's delayed ACK.
//
//   single  every piece is copied into one Buffer as it is queued; a flush is one send() of all of it
//           (the server before --write existed, and the default). A pipelined burst leaves in one call.
//   each    one send() per piece, in order: what `write(head); write(body);` code does. With Nagle on,
//           the kernel sends the first small piece at once; the second finds it unacknowledged and is
//           held (RFC 896) until the peer ACKs, and the peer delays that ACK (>= 40 ms on Linux) since
//           it has nothing to send back yet: it is still waiting for the rest of the answer.
//   gather  one sendmsg() with one iovec per piece, for everything queued (IOV_MAX pieces a call): the
//           structural fix. One syscall, the kernel builds full segments from all the pieces, no copy.
//   cork    TCP_CORK on, one send() per piece, TCP_CORK off: while corked the kernel sends only full
//           segments, and the uncork pushes the rest at once. The segments of gather, for the syscalls
//           of each plus two setsockopt().
//
// The pieces are views, never copies (except in single mode): they point into the server's Responses,
// built once at startup and never changed while it runs, so a view stays valid until the kernel has it.
//
//   pieces_:  | sent | sent | front: off_ bytes sent | queued | queued |
//                           ^ next_                                    ^ pieces_.size()
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <string_view>
#include <vector>

#include "loop/buffer.h"
#include "loop/sys.h"
#include "server/options.h"

namespace churn {

class SendQueue {
public:
    using Write = ServerOptions::Write;

    explicit SendQueue(Write mode = Write::Single) : mode_(mode) {}

    // Queue one piece behind the others. It must stay valid until sent (see the header); empty pieces
    // are dropped: a zero-byte send() would be a syscall that carries nothing.
    void push(std::string_view piece);
    size_t pending() const { return bytes_; }  // bytes queued, not yet taken by the kernel
    size_t pieces() const;                     // pieces not yet taken whole (single mode: 1 while any byte waits)
    void clear();                              // keeps the capacity: a reused connection does not allocate

    struct Flushed {
        Io status;        // Ok: everything taken; WouldBlock: the send buffer is full, bytes remain; Error
        int err;          // with Error: the errno of the send (EPIPE, ECONNRESET, ...)
        size_t bytes;     // taken by the kernel in this flush
        unsigned calls;   // send()/sendmsg() calls made, the one that said EAGAIN included
        int cork_err;     // cork mode: the errno of a TCP_CORK setsockopt that failed (the pieces still go), else 0
    };
    // Hand over as much as the kernel takes, the --write way. Stops at EAGAIN: the caller waits for
    // EPOLLOUT and calls flush again, which carries on where this one stopped (mid-piece if need be).
    Flushed flush(int fd);

    // The iovecs gather hands to sendmsg(): one per queued piece, the first starting past its sent
    // bytes; at most `max`. Returns how many were filled. (Public for the unit tests.)
    int iovecs(iovec* out, int max) const;

private:
    Flushed flush_single(int fd);
    Flushed flush_each(int fd);
    Flushed flush_gather(int fd);
    void consume(size_t n);
    // One send's result into f: its bytes consumed and counted; false (status and errno kept) when it
    // took nothing, so the flush stops there.
    bool took(const IoResult& r, Flushed& f);

    Write mode_;
    Buffer buf_;                            // single mode only
    std::vector<std::string_view> pieces_;  // the other modes
    size_t next_ = 0;                       // first piece not yet taken whole
    size_t off_ = 0;                        // bytes of pieces_[next_] already taken
    size_t bytes_ = 0;
};

}  // namespace churn
