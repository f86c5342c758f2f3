// response.h: every byte the server ever sends, built once at startup.
//
// The body never changes (--size bytes), so the whole response -- status line, headers, body -- is
// precomputed in each variant and a request costs one append of a ready string. A HEAD request gets
// the same bytes cut after the head.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace churn {

struct Response {
    std::string bytes;  // status line + headers + blank line + body
    size_t head = 0;    // length of the part before the body

    std::string_view full() const { return bytes; }
    std::string_view head_only() const { return std::string_view(bytes).substr(0, head); }

    // The answer as the pieces it is queued in (--response-pattern): one piece, or with `split` the head
    // and then the body as two (one when there is no body: a HEAD request, or --size 0). Either way the
    // pieces concatenate to full() (head_only() for HEAD). Returns how many of out[0..1] it filled.
    int pieces(bool head_only_request, bool split, std::string_view out[2]) const {
        std::string_view all = head_only_request ? head_only() : full();
        if (!split || all.size() == head) {
            out[0] = all;
            return 1;
        }
        out[0] = all.substr(0, head);
        out[1] = all.substr(head);
        return 2;
    }
};

struct Responses {
    // HTTP/1.1 keep-alive: persistence is the default, so no Connection header at all.
    Response keep_alive_11;
    // HTTP/1.0 keep-alive: a 1.0 client assumes close unless the server says "Connection: keep-alive"
    // (ab -k even searches the response head for the string "keep-alive" before reusing the socket).
    Response keep_alive_10;
    // The server will close after this one: --close server, Connection: close, or HTTP/1.0.
    Response close;
    // Errors, all followed by close: after a request we could not parse we cannot know where the next
    // one would start.
    Response bad_request;       // 400
    Response header_too_large;  // 431
    Response not_implemented;   // 501
    // Sent before reading a body when the client asked "Expect: 100-continue" (curl does for big POSTs).
    std::string continue_100;

    static Responses build(size_t body_size);
    const Response& error(int status) const;
};

}  // namespace churn
