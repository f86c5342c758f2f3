// http_request.h: an incremental HTTP/1.x request-head parser. No sockets, no allocation: feed it the
// bytes buffered so far, it answers Complete, NeedMore or Error(400 | 431 | 501).
//
// The caller keeps the bytes (a churn::Buffer) and passes the same start again with more bytes appended
// after NeedMore; the parser remembers how far it has looked, so each byte is examined once even when a
// request trickles in one byte per read(). After Complete or Error the parser is back at its initial
// state: consume request.header_bytes (and skip content_length body bytes), then parse() the rest.
//
// Deliberately strict, because this server is a measuring instrument, not a proxy (RFC 9112 allows each):
//   - Lines end in CRLF. A bare LF or bare CR anywhere in the head is 400: lenient line endings are how
//     request smuggling starts, and every load generator we test with (wrk, ab, curl) sends CRLF.
//   - Exactly one SP between method, target and version; "HTTP/1.<digit>" only (other majors: 400).
//   - A header line must be `token ":" value`; no colon, an empty name, whitespace before the colon, or
//     an obs-fold continuation line (leading SP/HTAB) is 400.
//   - Content-Length must be 1*DIGIT; repeated with the same value is accepted, with different values 400.
//   - Any Transfer-Encoding is 501: we never decode chunked bodies, and guessing the body length wrong
//     would desynchronise every pipelined request after it.
//   - The head (request line + headers + blank line) may be at most max_header bytes (8 KiB): 431.
//   - Host is not required even for HTTP/1.1: the server has one resource and ignores it anyway.
// Up to kMaxEmptyLines empty lines before the request line are skipped (RFC 9112 §2.2 SHOULD): some
// clients send a stray CRLF after a POST body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace churn::http {

inline constexpr size_t kMaxHeaderBytes = 8192;
inline constexpr int kMaxEmptyLines = 4;

struct Request {
    std::string_view method;  // views into the caller's bytes: valid until the caller consumes them
    std::string_view target;
    int version_minor = 1;    // HTTP/1.<minor>; 0 means HTTP/1.0 rules
    bool keep_alive = true;   // decided from the version and the Connection header tokens
    bool expect_continue = false;  // "Expect: 100-continue" on an HTTP/1.1 request
    uint64_t content_length = 0;   // body bytes that follow the head; the caller skips them
    size_t header_bytes = 0;       // request line + headers + blank line (+ skipped leading CRLFs)

    bool is_head() const { return method == "HEAD"; }
    size_t total_bytes() const { return header_bytes + static_cast<size_t>(content_length); }
};

enum class Parse { Complete, NeedMore, Error };

struct ParseResult {
    Parse status = Parse::NeedMore;
    int error_status = 0;   // 400, 431 or 501 when status == Error
    const char* why = "";   // short reason, for tests and debug output ("bare LF", "no colon", ...)
    Request request;        // valid when status == Complete
};

class RequestParser {
public:
    explicit RequestParser(size_t max_header = kMaxHeaderBytes) : max_header_(max_header) {}

    // `data` starts at the first byte of the request under parse (the same start on every call until
    // Complete/Error). Bytes past the head (body, next pipelined request) are left alone.
    ParseResult parse(std::string_view data);
    void reset();

private:
    ParseResult fail(int status, const char* why);
    ParseResult complete(std::string_view data);
    bool request_line(std::string_view data, size_t start, size_t end, const char** why);
    int header_line(std::string_view line, const char** why);  // 0 or an HTTP error status

    size_t max_header_;
    // Progress through the head; all offsets from the start of `data`.
    size_t scanned_ = 0;       // bytes already searched for '\n'
    size_t line_start_ = 0;    // where the current, unfinished line begins
    int empty_lines_ = 0;      // skipped before the request line
    bool have_request_line_ = false;
    // What the lines seen so far said.
    size_t method_off_ = 0, method_len_ = 0, target_off_ = 0, target_len_ = 0;
    int version_minor_ = 1;
    bool conn_close_ = false, conn_keep_alive_ = false, expect_continue_ = false;
    bool have_length_ = false;
    uint64_t content_length_ = 0;
};

}  // namespace churn::http
