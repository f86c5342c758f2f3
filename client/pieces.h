// pieces.h: what one send puts on the wire, cut into the PIECES that --write hands to the kernel.
//
// A send is what is due at one moment on one connection: one request (--pattern single, split), or K
// pipelined requests (--pattern pipeline). It is kept as one string and its cut points:
//
//   --pattern split, one request:        --pattern pipeline, K = 3:
//   | head           | body |            | request 1 | request 2 | request 3 |
//                    ^      ^                        ^           ^           ^
//   piece_end:       1      2            piece_end:  1           2           3
//   message_end:            1            message_end: 1          2           3
//
// --write decides how the pieces reach the kernel (conn.cc, Conn::on_writable):
//   single  one write() per message: the client's behaviour before --write existed (the default);
//   each    one write() per piece: THE TRAP. With Nagle on, the second small piece waits in the kernel
//           until the first is acknowledged, and the receiver holds that ACK for its delayed-ACK timer;
//   gather  one writev() of every piece left, one iovec per piece: one syscall, nothing left for Nagle
//           to hold (the structural fix);
//   cork    setsockopt(TCP_CORK, 1), one write() per piece, setsockopt(TCP_CORK, 0): the kernel
//           coalesces the pieces and sends them when uncorked.
// single and each differ only for split (head + body in one write, or two); for pipeline each request is
// one piece, so they are the same calls.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "client/options.h"

namespace churn {

// One request's sizes. head: pad the head to this many bytes (0, or anything below the smallest head
// for the URL: the smallest head). body: Content-Length bytes, 0 = a GET without a body.
struct Shape {
    uint32_t head = 0;
    uint32_t body = 0;
    bool close = false;  // "Connection: close": the server closes after answering
};

struct Pieces {
    std::string bytes;               // every piece, back to back
    std::vector<size_t> piece_end;   // offset just past each piece
    std::vector<size_t> message_end; // offset just past each request
    uint32_t requests() const { return static_cast<uint32_t>(message_end.size()); }
    size_t pieces() const { return piece_end.size(); }
    std::string_view piece(size_t i) const;
};

// The head of one request: "GET" or "POST" (with Content-Length) to the URL's path, Host, User-Agent,
// padded to s.head. Exactly max(s.head, smallest head) bytes (pieces.cc says how the padding is done).
std::string request_head(const Url& url, Shape s);

// The send for `pattern`: single = one request, head and body as ONE piece; split = one request, head
// and body as TWO pieces (one if s.body is 0); pipeline = `pipeline` requests, each one piece.
Pieces build_pieces(Options::Pattern pattern, const Url& url, Shape s, uint32_t pipeline);

// single, each, cork: where the write() that starts at byte `written` stops: the end of the message
// (single) or of the piece (each, cork) that `written` is in. gather: the end of the send.
size_t write_stop(const Pieces& p, Options::Write how, size_t written);

// gather: the iovecs for what is left after `written` bytes, one per piece (the first may start in the
// middle of a piece after a short writev()). At most `max` (the caller passes IOV_MAX or less; the rest
// goes in the next writev()); returns how many were filled.
int gather_iov(const Pieces& p, size_t written, iovec* iov, int max);

}  // namespace churn
