// http_response.cc: see http_response.h for the framing rules and the hot-path choices.
#include "client/http_response.h"

#include <algorithm>
#include <cstring>

#include "http/token.h"

namespace churn {

using http::for_each_token;
using http::iequals;
using http::is_ows;
using http::trim_ows;

namespace {

// Error text shows at most 40 bytes of what the peer sent, non-printables as \xNN, so it stays one line.
std::string quoted(std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (char c : s.substr(0, 40)) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
            out += c;
        } else {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
    out += s.size() > 40 ? "\"..." : "\"";
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

const char* to_string(ResponseParser::State s) {
    switch (s) {
        case ResponseParser::State::NeedMore: return "NeedMore";
        case ResponseParser::State::Complete: return "Complete";
        case ResponseParser::State::Error: return "Error";
    }
    return "?";
}

void ResponseParser::reset() {
    std::string keep = std::move(carry_);  // keep its capacity: the next split header costs no malloc
    keep.clear();
    *this = ResponseParser{};
    carry_ = std::move(keep);
}

void ResponseParser::fail(std::string reason) {
    phase_ = Phase::Failed;
    error_ = std::move(reason);
}

ResponseParser::Result ResponseParser::feed(const char* data, size_t len) {
    if (phase_ == Phase::Done) return {State::Complete, 0};
    if (phase_ == Phase::Failed) return {State::Error, 0};
    if (len == 0) return {State::NeedMore, 0};
    seen_ = true;

    size_t used = 0;
    if (phase_ == Phase::Head) used = feed_head(data, len);
    // The header may end mid-buffer with body bytes behind it: go on with them in the same call.
    if (phase_ != Phase::Head && phase_ != Phase::Done && phase_ != Phase::Failed)
        used += feed_body(data + used, len - used);

    switch (phase_) {
        case Phase::Done: return {State::Complete, used};
        case Phase::Failed: return {State::Error, used};
        default: return {State::NeedMore, used};
    }
}

// Header section, one line at a time, each line parsed once where it lies in `data` (zero-copy). Only a
// line cut by the end of a read() is copied, into carry_, and completed by the next feed().
size_t ResponseParser::feed_head(const char* data, size_t len) {
    size_t i = 0;
    while (i < len && phase_ == Phase::Head) {
        const void* nl = std::memchr(data + i, '\n', len - i);
        if (!nl) {
            // >= rather than >: this line still needs its LF, so the section cannot end within the limit.
            head_bytes_ += len - i;
            if (head_bytes_ >= kMaxHeaderBytes) {
                fail("header section larger than " + std::to_string(kMaxHeaderBytes) + " bytes");
                return len;
            }
            carry_.append(data + i, len - i);
            return len;
        }
        size_t stop = static_cast<size_t>(static_cast<const char*>(nl) - data);  // index of the LF
        head_bytes_ += stop + 1 - i;
        if (head_bytes_ > kMaxHeaderBytes) {
            fail("header section larger than " + std::to_string(kMaxHeaderBytes) + " bytes");
            return stop + 1;
        }
        std::string_view line(data + i, stop - i);
        if (!carry_.empty()) {
            carry_.append(line);
            line = carry_;
        }
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // a bare LF also ends a line
        i = stop + 1;

        if (status_ == 0)
            parse_status_line(line);
        else if (line.empty())
            start_body();  // the blank line: the body (if any) starts at data[i]
        else
            parse_header_field(line);
        carry_.clear();
    }
    return i;
}

// status-line = HTTP-version SP 3DIGIT SP [reason]; servers that drop the last SP are accepted.
bool ResponseParser::parse_status_line(std::string_view line) {
    bool shape_ok = line.size() >= 12 && line.substr(0, 5) == "HTTP/" && is_digit(line[5]) &&
                    line[6] == '.' && is_digit(line[7]) && line[8] == ' ' && is_digit(line[9]) &&
                    is_digit(line[10]) && is_digit(line[11]) && (line.size() == 12 || line[12] == ' ');
    if (!shape_ok) {
        fail("malformed status line " + quoted(line));
        return false;
    }
    if (line[5] != '1') {
        fail("unsupported HTTP version in status line " + quoted(line));
        return false;
    }
    int code = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (code < 100) {
        fail("status code below 100 in " + quoted(line));
        return false;
    }
    minor_ = line[7] - '0';
    status_ = code;
    return true;
}

bool ResponseParser::parse_header_field(std::string_view line) {
    if (is_ows(line.front())) {  // obs-fold (RFC 9112 5.2): nothing we test sends it
        fail("obsolete line folding in header " + quoted(line));
        return false;
    }
    // One pass finds the colon and checks the name: a library call per line showed in the profile.
    size_t colon = 0;
    bool space_in_name = false;
    while (colon < line.size() && line[colon] != ':') space_in_name |= is_ows(line[colon++]);
    if (colon == line.size() || colon == 0) {
        fail("header line without a name and ':' " + quoted(line));
        return false;
    }
    // RFC 9112 5.1: whitespace between name and colon must be rejected (request smuggling history).
    if (space_in_name) {
        fail("whitespace before ':' in header " + quoted(line));
        return false;
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim_ows(line.substr(colon + 1));

    // Dispatch on length first: most headers (Date, Server, Content-Type) end here after one compare.
    if (name.size() == 14 && iequals(name, "content-length")) {
        if (value.empty() || value.size() > 18 || !std::all_of(value.begin(), value.end(), is_digit)) {
            fail("bad Content-Length " + quoted(value));
            return false;
        }
        uint64_t n = 0;
        for (char c : value) n = n * 10 + static_cast<uint64_t>(c - '0');  // <= 18 digits: no overflow
        if (has_length_ && n != content_length_) {  // RFC 9112 6.3: differing lengths are fatal
            fail("conflicting Content-Length headers");
            return false;
        }
        has_length_ = true;
        content_length_ = n;
    } else if (name.size() == 17 && iequals(name, "transfer-encoding")) {
        has_te_ = true;
        // Only the last coding decides the framing: "gzip, chunked" is chunked, "chunked, gzip" is not.
        for_each_token(value, [&](std::string_view tok) { chunked_ = iequals(tok, "chunked"); });
    } else if (name.size() == 10 && iequals(name, "connection")) {
        for_each_token(value, [&](std::string_view tok) {
            if (iequals(tok, "close")) conn_close_ = true;
            if (iequals(tok, "keep-alive")) conn_keep_alive_ = true;
        });
    }
    return true;
}

// RFC 9112 6.3, in its order. Transfer-Encoding overrides Content-Length.
void ResponseParser::start_body() {
    keep_alive_ = minor_ >= 1 ? !conn_close_ : (conn_keep_alive_ && !conn_close_);
    if (status_ < 200 || status_ == 204 || status_ == 304) {
        phase_ = Phase::Done;
    } else if (has_te_ && chunked_) {
        phase_ = Phase::ChunkSize;
    } else if (!has_te_ && has_length_) {
        remaining_ = content_length_;
        phase_ = remaining_ ? Phase::LengthBody : Phase::Done;
    } else {
        // Transfer-Encoding without chunked last, or no framing at all: the close marks the end,
        // so this connection cannot carry another request.
        phase_ = Phase::EofBody;
        keep_alive_ = false;
    }
}

// Body. Length and chunk data are skipped in one step; chunk framing goes byte by byte because a
// read() may end anywhere inside "1a;ext=x\r\n".
size_t ResponseParser::feed_body(const char* data, size_t len) {
    auto over_limit = [&] {
        if (line_bytes_ <= kMaxHeaderBytes) return false;
        fail("chunk-size line or trailers larger than " + std::to_string(kMaxHeaderBytes) + " bytes");
        return true;
    };
    auto end_size_line = [&] {
        line_bytes_ = 0;
        if (chunk_size_ == 0) {  // last-chunk: trailers follow, then the final CRLF
            phase_ = Phase::TrailerStart;
        } else {
            remaining_ = chunk_size_;
            phase_ = Phase::ChunkData;
        }
        chunk_size_ = 0;
        chunk_digits_ = 0;
    };

    size_t i = 0;
    while (i < len && phase_ != Phase::Done && phase_ != Phase::Failed) {
        char c = data[i];
        switch (phase_) {
            case Phase::LengthBody:
            case Phase::ChunkData: {
                uint64_t take = std::min<uint64_t>(remaining_, len - i);
                body_bytes_ += take;
                remaining_ -= take;
                i += take;
                if (remaining_ == 0) phase_ = phase_ == Phase::LengthBody ? Phase::Done : Phase::ChunkDataCR;
                break;
            }
            case Phase::EofBody:
                body_bytes_ += len - i;
                i = len;
                break;
            case Phase::ChunkSize: {
                ++line_bytes_;
                int h = hex_value(c);
                if (h >= 0) {
                    if (chunk_size_ >> 60) {
                        fail("chunk size larger than 64 bits");
                        break;
                    }
                    chunk_size_ = chunk_size_ * 16 + static_cast<uint64_t>(h);
                    ++chunk_digits_;
                    ++i;
                    if (over_limit()) break;
                } else if (chunk_digits_ == 0) {
                    // Only the byte itself: the text must not depend on where the read() ended.
                    fail("bad chunk size: unexpected " + quoted({&c, 1}) + " where a hex digit was expected");
                } else if (c == '\r') {
                    phase_ = Phase::ChunkSizeLF;
                    ++i;
                } else if (c == '\n') {
                    ++i;
                    end_size_line();
                } else if (c == ';' || is_ows(c)) {  // chunk-ext = *( BWS ";" ... ): skipped
                    phase_ = Phase::ChunkExt;
                    ++i;
                } else {
                    fail("bad chunk size: unexpected " + quoted({&c, 1}) + " after hex digits");
                }
                break;
            }
            case Phase::ChunkExt: {
                const void* nl = std::memchr(data + i, '\n', len - i);
                size_t stop = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data) + 1 : len;
                line_bytes_ += stop - i;
                i = stop;
                if (over_limit()) break;
                if (nl) end_size_line();
                break;
            }
            case Phase::ChunkSizeLF:
                if (c != '\n') {
                    fail("chunk-size line: CR not followed by LF");
                    break;
                }
                ++i;
                end_size_line();
                break;
            case Phase::ChunkDataCR:
                if (c == '\r') {
                    phase_ = Phase::ChunkDataLF;
                } else if (c == '\n') {
                    phase_ = Phase::ChunkSize;
                } else {
                    fail("chunk data longer than its size (no CRLF after it)");
                    break;
                }
                ++i;
                break;
            case Phase::ChunkDataLF:
                if (c != '\n') {
                    fail("chunk data: CR not followed by LF");
                    break;
                }
                ++i;
                phase_ = Phase::ChunkSize;
                break;
            case Phase::TrailerStart:
                ++line_bytes_;
                if (c == '\r') {
                    phase_ = Phase::TrailerLF;
                    ++i;
                } else if (c == '\n') {
                    phase_ = Phase::Done;
                    ++i;
                } else {
                    phase_ = Phase::TrailerLine;  // a trailer field: skipped like the headers we ignore
                }
                break;
            case Phase::TrailerLine: {
                const void* nl = std::memchr(data + i, '\n', len - i);
                size_t stop = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data) + 1 : len;
                line_bytes_ += stop - i;
                i = stop;
                if (over_limit()) break;
                if (nl) phase_ = Phase::TrailerStart;
                break;
            }
            case Phase::TrailerLF:
                if (c != '\n') {
                    fail("final CRLF of chunked body: CR not followed by LF");
                    break;
                }
                ++i;
                phase_ = Phase::Done;
                break;
            case Phase::Head:
            case Phase::Done:
            case Phase::Failed:
                break;  // not reached: the loop condition and feed() keep these out
        }
    }
    return i;
}

ResponseParser::State ResponseParser::on_eof() {
    switch (phase_) {
        case Phase::Done: return State::Complete;
        case Phase::Failed: return State::Error;
        case Phase::EofBody: phase_ = Phase::Done; return State::Complete;
        default: break;
    }
    if (!seen_) return State::NeedMore;  // closed between responses: nothing was lost
    if (phase_ == Phase::Head)
        fail("peer closed inside the header section");
    else if (phase_ == Phase::LengthBody)
        fail("peer closed after " + std::to_string(body_bytes_) + " of " + std::to_string(content_length_) +
             " body bytes");
    else
        fail("peer closed inside a chunked body after " + std::to_string(body_bytes_) + " bytes");
    return State::Error;
}

}  // namespace churn
