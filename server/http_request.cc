#include "server/http_request.h"

#include <algorithm>
#include <cstring>

#include "http/token.h"

namespace churn::http {

namespace {

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" /
// "|" / "~" / DIGIT / ALPHA. Methods and header names are tokens.
bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

// The unfinished first line can already be judged by its method: a TLS ClientHello or binary noise
// gets its 400 at once instead of after 8 KiB (431) or never (a client that waits for an answer).
bool plausible_start(std::string_view partial) {
    if (partial == "\r") return true;  // half of an empty line we are allowed to skip
    for (char c : partial) {
        if (c == ' ') return true;  // the method is over; the rest is judged when the line ends
        if (!is_tchar(c)) return false;
    }
    return true;
}

}  // namespace

void RequestParser::reset() {
    size_t keep = max_header_;
    *this = RequestParser(keep);
}

ParseResult RequestParser::fail(int status, const char* why) {
    reset();
    ParseResult r;
    r.status = Parse::Error;
    r.error_status = status;
    r.why = why;
    return r;
}

ParseResult RequestParser::parse(std::string_view data) {
    // Never look past the cap: a buffer holding many pipelined requests is parsed one head at a time,
    // and a head that has not ended within max_header_ bytes is 431 whatever follows.
    size_t limit = std::min(data.size(), max_header_);
    while (scanned_ < limit) {
        const void* nl = std::memchr(data.data() + scanned_, '\n', limit - scanned_);
        if (!nl) {
            scanned_ = limit;
            break;
        }
        size_t eol = static_cast<size_t>(static_cast<const char*>(nl) - data.data());
        scanned_ = eol + 1;
        if (eol == line_start_ || data[eol - 1] != '\r') return fail(400, "bare LF");
        size_t start = line_start_;
        std::string_view line = data.substr(start, eol - 1 - start);
        line_start_ = scanned_;
        if (line.find('\r') != std::string_view::npos) return fail(400, "bare CR");

        if (!have_request_line_) {
            if (line.empty()) {
                if (++empty_lines_ > kMaxEmptyLines) return fail(400, "too many empty lines before the request line");
                continue;
            }
            const char* why = "";
            if (!request_line(data, start, eol - 1, &why)) return fail(400, why);
            have_request_line_ = true;
            continue;
        }
        if (line.empty()) return complete(data);  // the blank line: end of the head
        const char* why = "";
        if (int status = header_line(line, &why)) return fail(status, why);
    }
    if (!have_request_line_ && !plausible_start(data.substr(line_start_, scanned_ - line_start_)))
        return fail(400, "not an HTTP request line");
    if (data.size() >= max_header_) return fail(431, "head larger than the limit");
    return {};
}

bool RequestParser::request_line(std::string_view data, size_t start, size_t end, const char** why) {
    std::string_view line = data.substr(start, end - start);
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) {
        *why = "request line is not METHOD SP TARGET SP VERSION";
        return false;
    }
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method)) {
        *why = "bad method";
        return false;
    }
    // Target: VCHAR or obs-text only, so no SP (a second space), no CTL, no DEL.
    bool target_ok = !target.empty() && std::all_of(target.begin(), target.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u != 0x7f;
    });
    if (!target_ok) {
        *why = "bad request target";
        return false;
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[7] < '0' ||
        version[7] > '9') {
        *why = "bad HTTP version";
        return false;
    }
    if (version[5] != '1') {  // HTTP/2 speaks a binary preface, HTTP/0.9 has no version: neither is ours
        *why = "unsupported HTTP major version";
        return false;
    }
    method_off_ = start;
    method_len_ = method.size();
    target_off_ = start + sp1 + 1;
    target_len_ = target.size();
    version_minor_ = version[7] - '0';
    return true;
}

int RequestParser::header_line(std::string_view line, const char** why) {
    if (line.front() == ' ' || line.front() == '\t') {
        *why = "obsolete line folding";
        return 400;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
        *why = "header line without a colon";
        return 400;
    }
    std::string_view name = line.substr(0, colon);
    // Whitespace between name and colon fails is_token: RFC 9112 §5.1 says reject it with 400.
    if (!is_token(name)) {
        *why = "bad header name";
        return 400;
    }
    std::string_view value = trim_ows(line.substr(colon + 1));
    for (char c : value) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) {
            *why = "control character in a header value";
            return 400;
        }
    }
    if (iequals(name, "content-length")) {
        uint64_t v = 0;
        if (value.empty()) {
            *why = "bad Content-Length";
            return 400;
        }
        for (char c : value) {
            // A comma list ("5, 5") is legal but rare; strict 1*DIGIT keeps one rule for smuggling checks.
            if (c < '0' || c > '9') {
                *why = "bad Content-Length";
                return 400;
            }
            uint64_t d = static_cast<uint64_t>(c - '0');
            if (v > (UINT64_MAX - d) / 10) {
                *why = "Content-Length overflows";
                return 400;
            }
            v = v * 10 + d;
        }
        if (have_length_ && v != content_length_) {
            *why = "conflicting Content-Length headers";
            return 400;
        }
        have_length_ = true;
        content_length_ = v;
    } else if (iequals(name, "transfer-encoding")) {
        *why = "Transfer-Encoding not implemented";
        return 501;
    } else if (iequals(name, "connection")) {
        // A comma-separated token list; a request may also repeat the header.
        for_each_token(value, [&](std::string_view tok) {
            if (iequals(tok, "close")) conn_close_ = true;
            if (iequals(tok, "keep-alive")) conn_keep_alive_ = true;
        });
    } else if (iequals(name, "expect")) {
        if (iequals(value, "100-continue")) expect_continue_ = true;
    }
    return 0;
}

ParseResult RequestParser::complete(std::string_view data) {
    ParseResult r;
    r.status = Parse::Complete;
    Request& q = r.request;
    q.method = data.substr(method_off_, method_len_);
    q.target = data.substr(target_off_, target_len_);
    q.version_minor = version_minor_;
    // HTTP/1.1 is persistent unless "close"; HTTP/1.0 closes unless "keep-alive" (RFC 9112 §9.3).
    q.keep_alive = !conn_close_ && (version_minor_ >= 1 || conn_keep_alive_);
    // A 1.0 client does not know 100 Continue (RFC 9110 §10.1.1): never send it one.
    q.expect_continue = expect_continue_ && version_minor_ >= 1;
    q.content_length = content_length_;
    q.header_bytes = scanned_;
    reset();
    return r;
}

}  // namespace churn::http
