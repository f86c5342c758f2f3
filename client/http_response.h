// http_response.h: incremental HTTP/1.x response parser for the load generator. No sockets, no clock.
//
// Feed it whatever read() returned; it says NeedMore, Complete or Error and how many bytes it took.
// It never takes bytes past the end of the current response: on a keep-alive connection those are the
// start of the next one, and the caller feeds them again after reset().
//
// Hot-path decisions (200 k responses/s per client):
//   - The header section is parsed line by line in place, one pass, no copy. Only a line cut in two by
//     the end of a read() is copied, into a buffer whose capacity survives reset(), so steady state
//     allocates nothing.
//   - Only three headers matter to a load generator (Content-Length, Transfer-Encoding, Connection);
//     the others are checked for shape and skipped. Bodies are counted, never copied.
//   - Chunked framing is a byte state machine (sizes and CRLFs may split anywhere), but chunk data is
//     skipped in one step per feed.
//
// Body length, in RFC 9112 section 6.3 order:
//   1xx, 204, 304     -> no body (a 1xx is reported as a complete response of its own)
//   chunked last in Transfer-Encoding -> chunked; body_bytes() counts chunk data, not framing
//   Content-Length    -> that many bytes
//   neither           -> until the peer closes: on_eof() completes it, and keep_alive() is false
// A response to HEAD also has no body; this parser does not know the request, so do not send HEAD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace churn {

class ResponseParser {
public:
    enum class State { NeedMore, Complete, Error };
    struct Result {
        State state;
        size_t consumed;  // bytes of `data` that belong to this response (not meaningful on Error)
    };

    static constexpr size_t kMaxHeaderBytes = 64 * 1024;  // status line + headers + blank line; trailers

    // Feed bytes; consumes at most up to the end of one response (bytes after it belong to the next
    // response on a keep-alive connection and are NOT consumed). After Complete or Error it consumes
    // nothing until reset().
    Result feed(const char* data, size_t len);
    Result feed(std::string_view s) { return feed(s.data(), s.size()); }
    // Peer closed: completes a read-until-EOF body; otherwise returns Error if a response was in progress.
    // With no byte of a response seen it returns NeedMore (a clean close between responses).
    State on_eof();
    void reset();  // ready for the next response on the same connection

    int status() const { return status_; }  // 0 until the status line is parsed
    // Whether the connection may carry another request. HTTP/1.1: yes unless "Connection: close".
    // HTTP/1.0: only with "Connection: keep-alive". Never for a body delimited by close.
    bool keep_alive() const { return keep_alive_; }
    uint64_t body_bytes() const { return body_bytes_; }  // payload bytes so far (chunk framing excluded)
    bool in_progress() const { return seen_; }           // some bytes of a response were seen since reset()
    const std::string& error() const { return error_; }  // one line; empty unless State::Error
    bool complete() const { return phase_ == Phase::Done; }
    int http_minor() const { return minor_; }            // 0 or 1 once the status line is parsed

private:
    enum class Phase : uint8_t {
        Head,            // status line and headers, until the blank line
        LengthBody,      // Content-Length: remaining_ bytes left
        EofBody,         // no framing: everything until the peer closes
        ChunkSize,       // hex digits of a chunk-size line
        ChunkExt,        // ";ext=val" or spaces after the size, up to LF
        ChunkSizeLF,     // CR seen after the size, LF must follow
        ChunkData,       // remaining_ bytes of chunk data left
        ChunkDataCR,     // CRLF after chunk data
        ChunkDataLF,
        TrailerStart,    // after the last chunk: a trailer field or the final CRLF
        TrailerLine,     // inside a trailer field, up to LF
        TrailerLF,       // CR of the final CRLF seen
        Done,
        Failed,
    };

    size_t feed_head(const char* data, size_t len);
    size_t feed_body(const char* data, size_t len);
    bool parse_status_line(std::string_view line);
    bool parse_header_field(std::string_view line);
    void start_body();
    void fail(std::string reason);

    Phase phase_ = Phase::Head;
    bool seen_ = false;
    int status_ = 0;
    int minor_ = 0;
    bool keep_alive_ = false;
    bool conn_close_ = false;       // "close" token in Connection
    bool conn_keep_alive_ = false;  // "keep-alive" token in Connection
    bool chunked_ = false;          // "chunked" is the last transfer coding
    bool has_te_ = false;
    bool has_length_ = false;
    uint64_t content_length_ = 0;
    uint64_t remaining_ = 0;        // LengthBody, ChunkData
    uint64_t chunk_size_ = 0;       // ChunkSize accumulator
    int chunk_digits_ = 0;
    size_t line_bytes_ = 0;         // chunk-size line / trailer bytes, held to kMaxHeaderBytes
    uint64_t body_bytes_ = 0;
    size_t head_bytes_ = 0;         // header section so far, held to kMaxHeaderBytes
    std::string carry_;             // a header line cut by the end of a feed; capacity kept over reset()
    std::string error_;
};

const char* to_string(ResponseParser::State s);

}  // namespace churn
