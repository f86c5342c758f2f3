// The churn-server request parser, fed bytes the way a socket delivers them: whole, pipelined, and split
// at every possible byte boundary.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "server/http_request.h"

using churn::http::kMaxHeaderBytes;
using churn::http::Parse;
using churn::http::ParseResult;
using churn::http::RequestParser;

namespace {

ParseResult parse_once(std::string_view bytes) {
    RequestParser p;
    return p.parse(bytes);
}

struct Got {
    std::string method, target;
    int minor;
    bool keep_alive;
    uint64_t content_length;
    size_t header_bytes;
};

struct Stream {
    std::vector<Got> requests;
    int error = 0;      // HTTP status of the first error, 0 if none
    size_t left = 0;    // bytes still buffered (an unfinished request) at the end
};

// What server/connection.cc does: append what arrived, parse every complete head, skip its body.
Stream feed(const std::string& bytes, const std::vector<size_t>& cuts) {
    Stream s;
    RequestParser parser;
    std::string buf;
    uint64_t body_left = 0;
    size_t from = 0;
    std::vector<size_t> ends = cuts;
    ends.push_back(bytes.size());
    for (size_t end : ends) {
        buf.append(bytes, from, end - from);
        from = end;
        for (;;) {
            if (body_left > 0) {
                size_t take = std::min<uint64_t>(body_left, buf.size());
                buf.erase(0, take);
                body_left -= take;
                if (body_left > 0) break;
            }
            if (buf.empty()) break;
            ParseResult r = parser.parse(buf);
            if (r.status == Parse::NeedMore) break;
            if (r.status == Parse::Error) {
                s.error = r.error_status;
                return s;
            }
            const auto& q = r.request;
            s.requests.push_back({std::string(q.method), std::string(q.target), q.version_minor, q.keep_alive,
                                  q.content_length, q.header_bytes});
            body_left = q.content_length;
            buf.erase(0, q.header_bytes);
        }
    }
    s.left = buf.size() + body_left;
    return s;
}

const std::string kGet = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nUser-Agent: test\r\n\r\n";

}  // namespace

TEST_CASE("http request: simple GET is complete, with every field exact") {
    ParseResult r = parse_once(kGet);
    REQUIRE(r.status == Parse::Complete);
    CHECK(r.request.method == "GET");
    CHECK(r.request.target == "/index.html");
    CHECK(r.request.version_minor == 1);
    CHECK(r.request.keep_alive);
    CHECK_FALSE(r.request.expect_continue);
    CHECK(r.request.content_length == 0);
    CHECK(r.request.header_bytes == kGet.size());
    CHECK_FALSE(r.request.is_head());
}

TEST_CASE("http request: a head cut short needs more, then completes with the same parser") {
    RequestParser p;
    std::string buf = kGet.substr(0, 30);
    CHECK(p.parse(buf).status == Parse::NeedMore);
    CHECK(p.parse(buf).status == Parse::NeedMore);  // asking twice with nothing new is harmless
    buf = kGet.substr(0, kGet.size() - 1);  // all but the final LF
    CHECK(p.parse(buf).status == Parse::NeedMore);
    buf = kGet;
    ParseResult r = p.parse(buf);
    REQUIRE(r.status == Parse::Complete);
    CHECK(r.request.header_bytes == kGet.size());
    CHECK(r.request.target == "/index.html");
}

TEST_CASE("http request: bytes after the head are left alone") {
    ParseResult r = parse_once(kGet + "GET /next");
    REQUIRE(r.status == Parse::Complete);
    CHECK(r.request.header_bytes == kGet.size());
}

TEST_CASE("http request: three pipelined requests in one buffer, answered in order") {
    const std::string a = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string b = "HEAD /2 HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string c = "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const std::string all = a + b + c;

    SECTION("one parse per request, consuming header_bytes each time") {
        RequestParser p;
        std::string_view rest = all;
        ParseResult r1 = p.parse(rest);
        REQUIRE(r1.status == Parse::Complete);
        CHECK(r1.request.target == "/1");
        CHECK(r1.request.header_bytes == a.size());
        rest.remove_prefix(r1.request.header_bytes);
        ParseResult r2 = p.parse(rest);
        REQUIRE(r2.status == Parse::Complete);
        CHECK(r2.request.target == "/2");
        CHECK(r2.request.is_head());
        CHECK(r2.request.header_bytes == b.size());
        rest.remove_prefix(r2.request.header_bytes);
        ParseResult r3 = p.parse(rest);
        REQUIRE(r3.status == Parse::Complete);
        CHECK(r3.request.target == "/3");
        CHECK_FALSE(r3.request.keep_alive);
        CHECK(r3.request.header_bytes == c.size());
        rest.remove_prefix(r3.request.header_bytes);
        CHECK(rest.empty());
    }

    SECTION("split at every byte boundary") {
        for (size_t cut = 0; cut <= all.size(); ++cut) {
            INFO("cut at " << cut);
            Stream s = feed(all, {cut});
            REQUIRE(s.error == 0);
            REQUIRE(s.requests.size() == 3);
            CHECK(s.requests[0].target == "/1");
            CHECK(s.requests[1].target == "/2");
            CHECK(s.requests[2].target == "/3");
            CHECK(s.requests[0].header_bytes == a.size());
            CHECK(s.requests[1].header_bytes == b.size());
            CHECK(s.requests[2].header_bytes == c.size());
            CHECK(s.left == 0);
        }
    }

    SECTION("one byte per read") {
        std::vector<size_t> cuts;
        for (size_t i = 1; i < all.size(); ++i) cuts.push_back(i);
        Stream s = feed(all, cuts);
        REQUIRE(s.requests.size() == 3);
        CHECK(s.requests[2].target == "/3");
        CHECK(s.left == 0);
    }
}

TEST_CASE("http request: keep-alive rules for HTTP/1.0 and HTTP/1.1") {
    auto keep = [](const std::string& version, const std::string& headers) {
        ParseResult r = parse_once("GET / " + version + "\r\n" + headers + "\r\n");
        REQUIRE(r.status == Parse::Complete);
        return r.request.keep_alive;
    };
    CHECK(keep("HTTP/1.1", ""));
    CHECK_FALSE(keep("HTTP/1.1", "Connection: close\r\n"));
    CHECK_FALSE(keep("HTTP/1.1", "connection: CLOSE\r\n"));
    CHECK_FALSE(keep("HTTP/1.1", "Connection: Upgrade, close\r\n"));
    CHECK_FALSE(keep("HTTP/1.1", "Connection: keep-alive\r\nConnection: close\r\n"));
    CHECK(keep("HTTP/1.1", "Connection: keep-alive\r\n"));
    CHECK(keep("HTTP/1.1", "Connection: closed\r\n"));  // a different token, not "close"
    CHECK_FALSE(keep("HTTP/1.0", ""));
    CHECK(keep("HTTP/1.0", "Connection: keep-alive\r\n"));  // what ab -k sends
    CHECK(keep("HTTP/1.0", "Connection: Keep-Alive\r\n"));
    CHECK(keep("HTTP/1.0", "Connection:keep-alive\r\n"));   // OWS is optional
    CHECK_FALSE(keep("HTTP/1.0", "Connection: keep-alive, close\r\n"));
    CHECK(keep("HTTP/1.2", ""));  // a higher minor version gets 1.1 rules
}

TEST_CASE("http request: version and method are reported") {
    ParseResult r = parse_once("HEAD /x?y=1 HTTP/1.0\r\n\r\n");
    REQUIRE(r.status == Parse::Complete);
    CHECK(r.request.method == "HEAD");
    CHECK(r.request.is_head());
    CHECK(r.request.target == "/x?y=1");
    CHECK(r.request.version_minor == 0);
    CHECK_FALSE(r.request.keep_alive);
}

TEST_CASE("http request: Content-Length body is counted and skipped, not parsed") {
    const std::string post = "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
    const std::string all = post + "GET /" + "GET /n HTTP/1.1\r\n\r\n";  // body "GET /" looks like a request
    ParseResult r = parse_once(all);
    REQUIRE(r.status == Parse::Complete);
    CHECK(r.request.method == "POST");
    CHECK(r.request.content_length == 5);
    CHECK(r.request.header_bytes == post.size());
    CHECK(r.request.total_bytes() == post.size() + 5);
    for (size_t cut = 0; cut <= all.size(); ++cut) {
        INFO("cut at " << cut);
        Stream s = feed(all, {cut});
        REQUIRE(s.requests.size() == 2);
        CHECK(s.requests[0].content_length == 5);
        CHECK(s.requests[1].target == "/n");
        CHECK(s.left == 0);
    }
}

TEST_CASE("http request: Content-Length: repeated equal is fine, anything else is 400") {
    ParseResult same = parse_once("POST / HTTP/1.1\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n");
    REQUIRE(same.status == Parse::Complete);
    CHECK(same.request.content_length == 7);
    for (const char* bad : {"Content-Length: 7\r\nContent-Length: 8\r\n", "Content-Length: abc\r\n",
                            "Content-Length: -1\r\n", "Content-Length: 5, 5\r\n", "Content-Length:\r\n",
                            "Content-Length: 1 2\r\n", "Content-Length: 99999999999999999999999\r\n"}) {
        INFO(bad);
        ParseResult r = parse_once(std::string("POST / HTTP/1.1\r\n") + bad + "\r\n");
        CHECK(r.status == Parse::Error);
        CHECK(r.error_status == 400);
    }
    ParseResult ows = parse_once("POST / HTTP/1.1\r\nContent-Length:  12 \r\n\r\n");
    REQUIRE(ows.status == Parse::Complete);
    CHECK(ows.request.content_length == 12);
}

TEST_CASE("http request: Transfer-Encoding is 501, in any case") {
    for (const char* h : {"Transfer-Encoding: chunked", "transfer-encoding: gzip, chunked", "TRANSFER-ENCODING: x"}) {
        INFO(h);
        ParseResult r = parse_once(std::string("POST / HTTP/1.1\r\n") + h + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        CHECK(r.status == Parse::Error);
        CHECK(r.error_status == 501);
    }
}

TEST_CASE("http request: a head over 8 KiB is 431") {
    const std::string start = "GET / HTTP/1.1\r\nX-Pad: ";
    SECTION("exactly 8192 bytes including the blank line is accepted") {
        std::string head = start + std::string(kMaxHeaderBytes - start.size() - 4, 'a') + "\r\n\r\n";
        REQUIRE(head.size() == kMaxHeaderBytes);
        ParseResult r = parse_once(head);
        REQUIRE(r.status == Parse::Complete);
        CHECK(r.request.header_bytes == kMaxHeaderBytes);
    }
    SECTION("8193 bytes is 431") {
        std::string head = start + std::string(kMaxHeaderBytes - start.size() - 3, 'a') + "\r\n\r\n";
        REQUIRE(head.size() == kMaxHeaderBytes + 1);
        ParseResult r = parse_once(head);
        CHECK(r.status == Parse::Error);
        CHECK(r.error_status == 431);
    }
    SECTION("9 KiB with no end yet is 431 as soon as 8 KiB are buffered") {
        std::string head = start + std::string(9 * 1024, 'a');
        RequestParser p;
        CHECK(p.parse(std::string_view(head).substr(0, kMaxHeaderBytes - 1)).status == Parse::NeedMore);
        ParseResult r = p.parse(head);
        CHECK(r.status == Parse::Error);
        CHECK(r.error_status == 431);
    }
    SECTION("many small headers add up") {
        std::string head = "GET / HTTP/1.1\r\n";
        for (int i = 0; i < 1000; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
        head += "\r\n";
        ParseResult r = parse_once(head);
        CHECK(r.status == Parse::Error);
        CHECK(r.error_status == 431);
    }
}

TEST_CASE("http request: malformed requests are 400") {
    const std::vector<std::string> bad = {
        "GARBAGE\r\n\r\n",
        "GET /\r\n\r\n",                          // HTTP/0.9: no version
        "GET  / HTTP/1.1\r\n\r\n",                // two spaces
        "GET / HTTP/1.1 \r\n\r\n",                // trailing space
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTX/1.1\r\n\r\n",
        "GET / HTTP/1.x\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",                 // '(' is not a token character
        "GET /a\x01 HTTP/1.1\r\n\r\n",            // control character in the target
        "GET / HTTP/1.1\nHost: x\n\n",            // bare LF line endings
        "GET / HTTP/1.1\r\nHost: x\n\r\n",        // one bare LF
        "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",   // bare CR inside a value
        "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",  // obs-fold
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",     // space before the colon
        "GET / HTTP/1.1\r\n: x\r\n\r\n",          // empty name
        "GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n",   // DEL in a value
        std::string("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 28),  // NUL in a value (28 bytes, not the literal's NUL)
        "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n",  // more empty lines than we skip
    };
    for (const std::string& b : bad) {
        INFO(b);
        ParseResult r = parse_once(b);
        CHECK(r.status == Parse::Error);
        CHECK(r.error_status == 400);
    }
}

TEST_CASE("http request: a header line without a colon is 400") {
    ParseResult r = parse_once("GET / HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n");
    REQUIRE(r.status == Parse::Error);
    CHECK(r.error_status == 400);
    CHECK(std::string(r.why) == "header line without a colon");
}

TEST_CASE("http request: binary garbage is 400 before a line ends") {
    // A TLS ClientHello starts 0x16 0x03 0x01: no newline will come soon, answer now.
    ParseResult r = parse_once(std::string("\x16\x03\x01\x02\x00", 5));
    CHECK(r.status == Parse::Error);
    CHECK(r.error_status == 400);
    // A method still arriving is fine.
    CHECK(parse_once("GE").status == Parse::NeedMore);
    CHECK(parse_once("GET /abc").status == Parse::NeedMore);
    CHECK(parse_once("\r").status == Parse::NeedMore);
}

TEST_CASE("http request: leading empty lines are skipped and counted in header_bytes") {
    const std::string req = "\r\n\r\nGET /x HTTP/1.1\r\n\r\n";
    ParseResult r = parse_once(req);
    REQUIRE(r.status == Parse::Complete);
    CHECK(r.request.target == "/x");
    CHECK(r.request.header_bytes == req.size());
}

TEST_CASE("http request: Expect: 100-continue only for HTTP/1.1") {
    ParseResult r11 = parse_once("PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 10\r\n\r\n");
    REQUIRE(r11.status == Parse::Complete);
    CHECK(r11.request.expect_continue);
    ParseResult r10 = parse_once("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n");
    REQUIRE(r10.status == Parse::Complete);
    CHECK_FALSE(r10.request.expect_continue);
}

TEST_CASE("http request: the parser starts over after an error") {
    RequestParser p;
    CHECK(p.parse("GET / HTTP/1.1\r\nbroken\r\n\r\n").status == Parse::Error);
    ParseResult r = p.parse(kGet);
    REQUIRE(r.status == Parse::Complete);
    CHECK(r.request.header_bytes == kGet.size());
}

TEST_CASE("http request: what wrk, ab -k and curl send") {
    struct Case {
        const char* who;
        std::string bytes;
        bool keep_alive;
    } cases[] = {
        {"wrk", "GET / HTTP/1.1\r\nHost: 127.0.0.1:18080\r\n\r\n", true},
        {"ab -k", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: 127.0.0.1:18080\r\nUser-Agent: ApacheBench/2.3\r\n"
                  "Accept: */*\r\n\r\n", true},
        {"ab", "GET / HTTP/1.0\r\nHost: 127.0.0.1:18080\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n", false},
        {"curl", "GET / HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n", true},
    };
    for (const Case& c : cases) {
        INFO(c.who);
        ParseResult r = parse_once(c.bytes);
        REQUIRE(r.status == Parse::Complete);
        CHECK(r.request.keep_alive == c.keep_alive);
        CHECK(r.request.header_bytes == c.bytes.size());
    }
}
