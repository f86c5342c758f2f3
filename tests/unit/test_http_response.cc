// ResponseParser: framing, keep-alive rules, every split point of a read(), and malformed input.
#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "client/http_response.h"

using churn::ResponseParser;
using State = ResponseParser::State;

namespace {

// Feeds `wire` in two pieces split at `cut`, the way two read()s would deliver it, carrying unconsumed
// bytes over like the client's Buffer does. Returns the final state and the total bytes consumed.
struct Outcome {
    State state;
    size_t consumed;
};

Outcome feed_split(ResponseParser& p, const std::string& wire, size_t cut) {
    std::string pending;
    size_t total = 0;
    Outcome out{State::NeedMore, 0};
    std::string_view w(wire);
    for (std::string_view piece : {w.substr(0, cut), w.substr(cut)}) {
        pending.append(piece);
        auto r = p.feed(pending.data(), pending.size());
        total += r.consumed;
        pending.erase(0, r.consumed);
        out = {r.state, total};
        if (r.state != State::NeedMore) break;
    }
    return out;
}

// Byte at a time, the harshest split: every state boundary is crossed between two feeds.
Outcome feed_bytewise(ResponseParser& p, const std::string& wire) {
    size_t total = 0;
    for (char c : wire) {
        auto r = p.feed(&c, 1);
        total += r.consumed;
        if (r.state != State::NeedMore) return {r.state, total};
        REQUIRE(r.consumed == 1);
    }
    return {State::NeedMore, total};
}

const std::string kLengthResponse =
    "HTTP/1.1 200 OK\r\n"
    "Server: churn\r\n"
    "Content-Type: text/plain\r\n"
    "content-LENGTH: 12\r\n"
    "\r\n"
    "hello world\n";

const std::string kChunkedResponse =
    "HTTP/1.1 200 OK\r\n"
    "Transfer-Encoding: gzip, Chunked\r\n"
    "\r\n"
    "5;name=value\r\n"
    "hello\r\n"
    "1A ; a=b;c=\"d;e\"\r\n"
    "abcdefghijklmnopqrstuvwxyz\r\n"
    "000\r\n"
    "X-Trailer: yes\r\n"
    "Another: one\r\n"
    "\r\n";

}  // namespace

TEST_CASE("Content-Length response fed whole", "[http]") {
    ResponseParser p;
    REQUIRE_FALSE(p.in_progress());
    auto r = p.feed(kLengthResponse);
    REQUIRE(r.state == State::Complete);
    REQUIRE(r.consumed == kLengthResponse.size());
    REQUIRE(p.status() == 200);
    REQUIRE(p.keep_alive());
    REQUIRE(p.body_bytes() == 12);
    REQUIRE(p.in_progress());
    REQUIRE(p.error().empty());
    // After Complete nothing more is taken until reset().
    REQUIRE(p.feed("HTTP/1.1").consumed == 0);
    p.reset();
    REQUIRE_FALSE(p.in_progress());
    REQUIRE(p.status() == 0);
}

TEST_CASE("Content-Length response split at every byte boundary", "[http]") {
    ResponseParser p;
    for (size_t cut = 0; cut <= kLengthResponse.size(); ++cut) {
        p.reset();
        INFO("cut at " << cut);
        Outcome o = feed_split(p, kLengthResponse, cut);
        REQUIRE(o.state == State::Complete);
        REQUIRE(o.consumed == kLengthResponse.size());
        REQUIRE(p.body_bytes() == 12);
        REQUIRE(p.status() == 200);
    }
    p.reset();
    Outcome o = feed_bytewise(p, kLengthResponse);
    REQUIRE(o.state == State::Complete);
    REQUIRE(o.consumed == kLengthResponse.size());
}

TEST_CASE("two back-to-back responses in one buffer", "[http]") {
    const std::string second = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\nnop";
    const std::string both = kLengthResponse + second;
    ResponseParser p;
    auto r = p.feed(both);
    REQUIRE(r.state == State::Complete);
    REQUIRE(r.consumed == kLengthResponse.size());  // stops exactly at the first one's end
    p.reset();
    r = p.feed(both.data() + kLengthResponse.size(), both.size() - kLengthResponse.size());
    REQUIRE(r.state == State::Complete);
    REQUIRE(r.consumed == second.size());
    REQUIRE(p.status() == 404);
    REQUIRE_FALSE(p.keep_alive());

    // Chunked then a 204, with the second response split mid-way through: the first must not eat it.
    const std::string pair = kChunkedResponse + "HTTP/1.1 204 No Content\r\n\r\n";
    for (size_t cut = 0; cut <= pair.size(); ++cut) {
        INFO("cut at " << cut);
        p.reset();
        Outcome o = feed_split(p, pair, cut);
        REQUIRE(o.state == State::Complete);
        REQUIRE(o.consumed == kChunkedResponse.size());
    }
}

TEST_CASE("chunked with extensions and trailers, split at every boundary", "[http]") {
    ResponseParser p;
    auto r = p.feed(kChunkedResponse);
    REQUIRE(r.state == State::Complete);
    REQUIRE(r.consumed == kChunkedResponse.size());
    REQUIRE(p.body_bytes() == 5 + 26);  // chunk data only, not the framing
    REQUIRE(p.keep_alive());

    for (size_t cut = 0; cut <= kChunkedResponse.size(); ++cut) {
        INFO("cut at " << cut);
        p.reset();
        Outcome o = feed_split(p, kChunkedResponse, cut);
        REQUIRE(o.state == State::Complete);
        REQUIRE(o.consumed == kChunkedResponse.size());
        REQUIRE(p.body_bytes() == 31);
    }
    p.reset();
    REQUIRE(feed_bytewise(p, kChunkedResponse).state == State::Complete);
    REQUIRE(p.body_bytes() == 31);

    // Smallest chunked body; bare LF line ends are tolerated (RFC 9112 2.2).
    p.reset();
    r = p.feed("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n");
    REQUIRE(r.state == State::Complete);
    REQUIRE(p.body_bytes() == 3);
}

TEST_CASE("no body: 204, 304, 1xx, Content-Length 0", "[http]") {
    ResponseParser p;
    for (const char* head : {"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
                             "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
                             "HTTP/1.1 100 Continue\r\n\r\n",
                             "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}) {
        INFO(head);
        p.reset();
        std::string wire = std::string(head) + "HTTP/1.1 200 OK\r\n";  // next response follows
        auto r = p.feed(wire);
        REQUIRE(r.state == State::Complete);
        REQUIRE(r.consumed == std::string(head).size());
        REQUIRE(p.body_bytes() == 0);
        REQUIRE(p.keep_alive());
    }
}

TEST_CASE("close-delimited body completes on EOF", "[http]") {
    const std::string wire = "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nsome body bytes";
    ResponseParser p;
    for (size_t cut = 0; cut <= wire.size(); ++cut) {
        INFO("cut at " << cut);
        p.reset();
        Outcome o = feed_split(p, wire, cut);
        REQUIRE(o.state == State::NeedMore);
        REQUIRE(o.consumed == wire.size());
        REQUIRE(p.on_eof() == State::Complete);
        REQUIRE(p.body_bytes() == 15);
        REQUIRE_FALSE(p.keep_alive());  // the close is the framing
    }
    // Transfer-Encoding whose last coding is not chunked: also read until close, even with a length.
    p.reset();
    REQUIRE(p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 2\r\n\r\nabcd")
                .state == State::NeedMore);
    REQUIRE(p.on_eof() == State::Complete);
    REQUIRE(p.body_bytes() == 4);
}

TEST_CASE("EOF elsewhere", "[http]") {
    ResponseParser p;
    REQUIRE(p.on_eof() == State::NeedMore);  // clean close between responses
    REQUIRE(p.error().empty());

    p.feed("HTTP/1.1 200");
    REQUIRE(p.on_eof() == State::Error);
    REQUIRE(p.error() == "peer closed inside the header section");

    p.reset();
    p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    REQUIRE(p.on_eof() == State::Error);
    REQUIRE(p.error() == "peer closed after 3 of 10 body bytes");

    p.reset();
    p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
    REQUIRE(p.on_eof() == State::Error);

    p.reset();
    p.feed(kLengthResponse);
    REQUIRE(p.on_eof() == State::Complete);  // already complete: the close changes nothing
}

TEST_CASE("keep-alive rules", "[http]") {
    auto keep = [](const std::string& head) {
        ResponseParser p;
        auto r = p.feed(head + "Content-Length: 0\r\n\r\n");
        REQUIRE(r.state == State::Complete);
        return p.keep_alive();
    };
    CHECK(keep("HTTP/1.1 200 OK\r\n"));                                      // 1.1 default: persistent
    CHECK_FALSE(keep("HTTP/1.1 200 OK\r\nConnection: close\r\n"));
    CHECK_FALSE(keep("HTTP/1.1 200 OK\r\nconnection: Upgrade, CLOSE\r\n"));  // token list, any case
    CHECK(keep("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"));
    CHECK_FALSE(keep("HTTP/1.0 200 OK\r\n"));                                // 1.0 default: close
    CHECK(keep("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"));
    CHECK_FALSE(keep("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n"));
    CHECK(keep("HTTP/1.1 200\r\n"));  // no reason phrase, no trailing space
}

TEST_CASE("malformed input -> Error with a one-line reason", "[http]") {
    auto error_of = [](const std::string& wire) {
        ResponseParser p;
        auto r = p.feed(wire);
        REQUIRE(r.state == State::Error);
        REQUIRE_FALSE(p.error().empty());
        REQUIRE(p.error().find('\n') == std::string::npos);
        REQUIRE(p.feed("more").state == State::Error);  // stays failed until reset()
        REQUIRE(p.on_eof() == State::Error);
        return p.error();
    };
    CHECK(error_of("HTTP/1.1 20 OK\r\n\r\n") == "malformed status line \"HTTP/1.1 20 OK\"");
    CHECK(error_of("HTTP/1.1 2000 OK\r\n\r\n").rfind("malformed status line", 0) == 0);
    CHECK(error_of("HTTP/1.1  200 OK\r\n\r\n").rfind("malformed status line", 0) == 0);
    CHECK(error_of("SSH-2.0-OpenSSH_9.2\r\n\r\n").rfind("malformed status line", 0) == 0);
    CHECK(error_of("\x16\x03\x01\r\n\r\n") == "malformed status line \"\\x16\\x03\\x01\"");
    CHECK(error_of("HTTP/2.0 200 OK\r\n\r\n").rfind("unsupported HTTP version", 0) == 0);
    CHECK(error_of("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n").rfind("header line without", 0) == 0);
    CHECK(error_of("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n").rfind("whitespace before", 0) == 0);
    CHECK(error_of("HTTP/1.1 200 OK\r\nX: a\r\n  folded\r\n\r\n").rfind("obsolete line folding", 0) == 0);
    CHECK(error_of("HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n") == "bad Content-Length \"12a\"");
    CHECK(error_of("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").rfind("bad Content-Length", 0) == 0);
    CHECK(error_of("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n")
              .rfind("bad Content-Length", 0) == 0);
    CHECK(error_of("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") ==
          "conflicting Content-Length headers");

    const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK(error_of(chunked + "zz\r\n") == "bad chunk size: unexpected \"z\" where a hex digit was expected");
    CHECK(error_of(chunked + "\r\n").rfind("bad chunk size", 0) == 0);
    CHECK(error_of(chunked + "5x\r\n") == "bad chunk size: unexpected \"x\" after hex digits");
    CHECK(error_of(chunked + "11111111111111111\r\n") == "chunk size larger than 64 bits");
    CHECK(error_of(chunked + "3\r\nabcd\r\n").rfind("chunk data longer than its size", 0) == 0);
    CHECK(error_of(chunked + "3\rX").rfind("chunk-size line: CR not followed", 0) == 0);

    // Bad chunk size fed byte by byte fails at the same place.
    ResponseParser p;
    Outcome o = feed_bytewise(p, chunked + "5\r\nhello\r\ng\r\n");
    REQUIRE(o.state == State::Error);
    REQUIRE(p.error() == "bad chunk size: unexpected \"g\" where a hex digit was expected");
}

TEST_CASE("oversize header section -> Error", "[http]") {
    std::string big = "HTTP/1.1 200 OK\r\n";
    while (big.size() < 70 * 1024) big += "X-Filler: " + std::string(100, 'a') + "\r\n";
    big += "\r\n";

    ResponseParser p;
    auto r = p.feed(big);  // all at once
    REQUIRE(r.state == State::Error);
    REQUIRE(p.error() == "header section larger than 65536 bytes");

    p.reset();  // in 1000-byte reads, through the carry buffer
    State s = State::NeedMore;
    for (size_t off = 0; off < big.size() && s == State::NeedMore; off += 1000)
        s = p.feed(big.data() + off, std::min<size_t>(1000, big.size() - off)).state;
    REQUIRE(s == State::Error);
    REQUIRE(p.error() == "header section larger than 65536 bytes");

    // Just under the limit passes, whole and split.
    std::string ok = "HTTP/1.1 204 No Content\r\nX: ";
    ok += std::string(ResponseParser::kMaxHeaderBytes - ok.size() - 4, 'b') + "\r\n\r\n";
    REQUIRE(ok.size() == ResponseParser::kMaxHeaderBytes);
    p.reset();
    REQUIRE(p.feed(ok).state == State::Complete);
    for (size_t cut : {size_t{1}, size_t{30000}, ok.size() - 2, ok.size() - 1}) {
        p.reset();
        REQUIRE(feed_split(p, ok, cut).state == State::Complete);
    }
}

TEST_CASE("oversize trailers -> Error", "[http]") {
    std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
    while (wire.size() < 70 * 1024) wire += "T: " + std::string(200, 't') + "\r\n";
    ResponseParser p;
    REQUIRE(p.feed(wire).state == State::Error);
    REQUIRE(p.error().rfind("chunk-size line or trailers larger than", 0) == 0);
}

TEST_CASE("random splits of mutated responses agree with one feed", "[http]") {
    // Framing must not depend on where read() boundaries fall, even for garbage: compare a single
    // feed with the same bytes in 1..4 random pieces, for valid responses and byte-mutated ones.
    const std::string corpus[] = {kLengthResponse, kChunkedResponse,
                                  "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
                                  "Content-Length: 4\r\n\r\nabcd",
                                  "HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\nuntil eof"};
    std::mt19937 rng(2024);
    const char alphabet[] = "\r\n:; 0aF-HTTP/1.chunkedContent-Length";
    for (int iter = 0; iter < 20000; ++iter) {
        std::string wire = corpus[rng() % std::size(corpus)];
        int mutations = static_cast<int>(rng() % 3);
        for (int m = 0; m < mutations; ++m)
            wire[rng() % wire.size()] = alphabet[rng() % (sizeof alphabet - 1)];
        wire += "HTTP/1.1 200 OK\r\n";  // the start of a next response: must never be consumed

        ResponseParser whole;
        auto r = whole.feed(wire);
        REQUIRE(r.consumed <= wire.size());

        ResponseParser split;
        std::string pending;
        size_t pos = 0, total = 0;
        State st = State::NeedMore;
        int pieces = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < pieces && st == State::NeedMore; ++k) {
            size_t n = k + 1 == pieces ? wire.size() - pos : rng() % (wire.size() - pos + 1);
            pending.append(wire, pos, n);
            pos += n;
            auto q = split.feed(pending.data(), pending.size());
            total += q.consumed;
            pending.erase(0, q.consumed);
            st = q.state;
        }
        INFO("wire: " << wire);
        REQUIRE(st == r.state);
        REQUIRE(split.error() == whole.error());
        if (r.state != State::Error) {
            REQUIRE(total == r.consumed);
            REQUIRE(split.status() == whole.status());
            REQUIRE(split.body_bytes() == whole.body_bytes());
            REQUIRE(split.keep_alive() == whole.keep_alive());
        }
        REQUIRE(split.on_eof() == whole.on_eof());
    }
}

TEST_CASE("throughput: 1e6 small responses (printed, not asserted)", "[http][perf]") {
    const std::string wire =
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
        "Content-Type: application/octet-stream\r\nContent-Length: 64\r\nConnection: keep-alive\r\n\r\n" +
        std::string(64, 'x');
    ResponseParser p;
    uint64_t bytes = 0;
    constexpr int kN = 1'000'000;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kN; ++i) {
        p.reset();
        auto r = p.feed(wire);
        bytes += p.body_bytes() + (r.state == State::Complete);
    }
    auto elapsed = std::chrono::steady_clock::now() - t0;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
    REQUIRE(bytes == uint64_t{kN} * 65);
    std::printf("ResponseParser: %.1f ns/response (%zu-byte response, whole in one feed)\n",
                static_cast<double>(ns) / kN, wire.size());
}
