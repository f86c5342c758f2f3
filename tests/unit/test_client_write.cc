// churn-client's write patterns (issue 11): the options that choose them (client/options.cc) and the
// pieces they cut a send into (client/pieces.cc). The pieces are checked with churn-server's own request
// parser, so "valid HTTP/1.1 with the right Content-Length" means what the server will make of them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "client/options.h"
#include "tests/unit/test_client_util.h"
#include "client/pieces.h"
#include "server/http_request.h"

using churn::Options;
using churn::Pieces;
using churn::Shape;

namespace {

using churn::test::Cli;
using churn::test::check_bad;
using churn::test::run_cli;
using churn::test::U;

churn::Url url(const std::string& text = U) {
    churn::Url u;
    std::string why;
    REQUIRE(churn::parse_url(text, u, why));
    return u;
}

// What churn-server makes of a send: each request's head size and Content-Length, in order. Fails the
// test on a parse error or on bytes left over.
struct Parsed {
    size_t head;
    uint64_t body;
    std::string method;
    bool keep_alive;  // false when the server will close after answering (Connection: close)
};
std::vector<Parsed> server_view(const std::string& bytes) {
    std::vector<Parsed> out;
    std::string_view rest = bytes;
    while (!rest.empty()) {
        churn::http::RequestParser p;
        churn::http::ParseResult r = p.parse(rest);
        INFO("parsing: " << std::string(rest.substr(0, 200)));
        REQUIRE(r.status == churn::http::Parse::Complete);
        REQUIRE(r.request.total_bytes() <= rest.size());
        out.push_back({r.request.header_bytes, r.request.content_length, std::string(r.request.method),
                       r.request.keep_alive});
        rest.remove_prefix(r.request.total_bytes());
    }
    return out;
}

std::string concat_pieces(const Pieces& p) {
    std::string all;
    for (size_t i = 0; i < p.pieces(); ++i) all += p.piece(i);
    return all;
}

std::string concat_iov(const iovec* iov, int n) {
    std::string all;
    for (int i = 0; i < n; ++i) all.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
    return all;
}

}  // namespace

// ---- options ---------------------------------------------------------------------------------------------

TEST_CASE("churn-client cli: write-pattern defaults are today's behaviour", "[client][cli][nagle]") {
    Cli c = run_cli({U});
    REQUIRE(c.rc == -1);
    CHECK(c.opt.pattern == Options::Pattern::Single);
    CHECK(c.opt.write == Options::Write::Single);
    CHECK(c.opt.nodelay);
    CHECK_FALSE(c.opt.quickack);
    CHECK(c.opt.pipeline == 1);
    CHECK(c.opt.body == 0);
    CHECK(c.opt.head == 0);
    CHECK(c.opt.trace.path.empty());
    CHECK(c.opt.make_trace_path.empty());
}

TEST_CASE("churn-client cli: --pattern, --write, --body, --head, --pipeline", "[client][cli][nagle]") {
    Cli s = run_cli({"--pattern", "split", "--write", "each", U});
    REQUIRE(s.rc == -1);
    CHECK(s.opt.pattern == Options::Pattern::Split);
    CHECK(s.opt.write == Options::Write::Each);
    CHECK(s.opt.body == 16);  // split's second piece, unless told
    CHECK(run_cli({"--pattern", "split", "--body", "3", "--head", "120", U}).opt.body == 3);
    CHECK(run_cli({"--pattern", "split", "--body", "3", "--head", "120", U}).opt.head == 120);
    CHECK(run_cli({"--write", "gather", U}).opt.write == Options::Write::Gather);
    CHECK(run_cli({"--write", "cork", U}).opt.write == Options::Write::Cork);
    CHECK(run_cli({"--write", "single", U}).opt.write == Options::Write::Single);
    CHECK(run_cli({"--cork", U}).opt.write == Options::Write::Cork);  // the issue's name for it
    CHECK(run_cli({"--cork", "--write", "cork", U}).opt.write == Options::Write::Cork);
    check_bad({"--cork", "--write", "gather", U}, "--cork: contradicts --write gather");
    CHECK(run_cli({"--body", "100", U}).opt.body == 100);  // single: a POST, one piece
    Cli p = run_cli({"--pattern", "pipeline", U});
    REQUIRE(p.rc == -1);
    CHECK(p.opt.pipeline == 4);
    CHECK(run_cli({"--pattern", "pipeline", "--pipeline", "1024", U}).opt.pipeline == 1024);
    CHECK(run_cli({"--mode", "churn", "--pattern", "pipeline", "--pipeline", "2", U}).rc == -1);

    check_bad({"--pattern", "triple", U}, "--pattern");
    check_bad({"--write", "writev", U}, "--write");
    check_bad({"--pattern", "split", "--body", "0", U}, "--body: --pattern split needs a body of at least 1 byte");
    check_bad({"--pipeline", "4", U}, "--pipeline: only with --pattern pipeline");
    // A bulk sender has no requests to shape: each of these is refused, not ignored.
    for (auto [opt, value] : std::vector<std::pair<std::string, std::string>>{
             {"--pattern", "split"}, {"--write", "each"}, {"--body", "10"}, {"--head", "100"}, {"--trace", "t.txt"}})
        check_bad({"--mode", "bulk", opt, value, U}, opt + ": only with --mode churn or pool");
    check_bad({"--mode", "bulk", "--quickack", U}, "--quickack: only with --mode churn or pool");
}

TEST_CASE("churn-client cli: bad numbers for the write options: one line, exit 2", "[client][cli][nagle]") {
    for (const char* bad : {"nan", "inf", "-inf", "-1", "1.5", "1e3", "", "0x10", " 5", "16777217", "99999999999999999999"})
        check_bad({"--body", bad, U}, "--body");
    for (const char* bad : {"nan", "inf", "-1", "8193", "1.5", "x"}) check_bad({"--head", bad, U}, "--head");
    for (const char* bad : {"nan", "inf", "-1", "0", "1025", "2.5"})
        check_bad({"--pattern", "pipeline", "--pipeline", bad, U}, "--pipeline");
    // The limits themselves are accepted.
    CHECK(run_cli({"--head", "8192", U}).rc == -1);
    CHECK(run_cli({"--body", "16777216", U}).rc == -1);
}

TEST_CASE("churn-client cli: --nodelay on|off, and --no-nodelay still works", "[client][cli][nagle]") {
    CHECK(run_cli({"--nodelay", "on", U}).opt.nodelay);
    Cli off = run_cli({"--nodelay", "off", U});
    REQUIRE(off.rc == -1);
    CHECK_FALSE(off.opt.nodelay);
    Cli old = run_cli({"--no-nodelay", U});
    REQUIRE(old.rc == -1);
    CHECK_FALSE(old.opt.nodelay);
    CHECK_FALSE(run_cli({"--no-nodelay", "--nodelay", "off", U}).opt.nodelay);
    check_bad({"--nodelay", "maybe", U}, "--nodelay: must be 'on' or 'off', got 'maybe'");
    check_bad({"--nodelay", "1", U}, "--nodelay: must be 'on' or 'off', got '1'");
    check_bad({"--no-nodelay", "--nodelay", "on", U}, "--no-nodelay: contradicts --nodelay on");
    CHECK(run_cli({"--quickack", U}).opt.quickack);
}

TEST_CASE("churn-client cli: --trace is the schedule and the sizes", "[client][cli][nagle]") {
    Cli t = run_cli({"-c", "1", "--trace", "t.txt", "--pattern", "split", "--write", "each", U});
    REQUIRE(t.rc == -1);
    CHECK(t.opt.trace.path == "t.txt");
    CHECK(t.opt.trace.lines.empty());  // main.cc reads the file, after the parse
    CHECK(t.opt.body == 0);           // the trace gives the sizes
    CHECK_FALSE(t.opt.duration_given);
    CHECK(run_cli({"--trace", "t.txt", "-d", "3", U}).opt.duration_given);
    check_bad({"--trace", "t.txt", "-R", "50", U}, "--rate: the --trace file is the schedule");
    check_bad({"--trace", "t.txt", "--body", "8", U}, "--body: the --trace file gives");
    check_bad({"--trace", "t.txt", "--head", "120", U}, "--head: the --trace file gives");
    check_bad({"--trace", "", U}, "--trace: needs a file name");
}

TEST_CASE("churn-client cli: --make-trace and its knobs", "[client][cli][nagle]") {
    Cli m = run_cli({"--make-trace", "t.txt", "--seed", "7", "--count", "10", "-R", "20", "--head-range", "100-120",
                     "--body-range", "0-8"});
    REQUIRE(m.rc == -1);
    CHECK(m.opt.make_trace_path == "t.txt");
    CHECK(m.opt.trace_spec.seed == 7);
    CHECK(m.opt.trace_spec.count == 10);
    CHECK(m.opt.trace_spec.rate == 20);
    CHECK(m.opt.trace_spec.head_lo == 100);
    CHECK(m.opt.trace_spec.head_hi == 120);
    CHECK(m.opt.trace_spec.body_lo == 0);
    CHECK(m.opt.trace_spec.body_hi == 8);
    Cli d = run_cli({"--make-trace", "-"});
    REQUIRE(d.rc == -1);
    CHECK(d.opt.trace_spec.rate == 50);
    CHECK(d.opt.trace_spec.count == 400);
    CHECK(run_cli({"--make-trace", "-", "--body-range", "16"}).opt.trace_spec.body_hi == 16);

    check_bad({"--make-trace", "t.txt", U}, "--make-trace writes a trace and exits: no URL");
    check_bad({"--make-trace", ""}, "--make-trace: needs a file name");
    check_bad({"--seed", "3", U}, "--seed: only with --make-trace");
    check_bad({"--count", "3", U}, "--count: only with --make-trace");
    check_bad({"--head-range", "1-2", U}, "--head-range: only with --make-trace");
    check_bad({"--body-range", "1-2", U}, "--body-range: only with --make-trace");
    for (const char* bad : {"0", "-1", "nan", "inf", "1.5", "10000001"})
        check_bad({"--make-trace", "-", "--count", bad}, "--count");
    for (const char* bad : {"-1", "nan", "1.5", "18446744073709551616"}) check_bad({"--make-trace", "-", "--seed", bad}, "--seed");
    check_bad({"--make-trace", "-", "-R", "0"}, "--rate: --make-trace needs a rate above 0");
    check_bad({"--make-trace", "-", "-R", "nan"}, "--rate");
    for (const char* bad : {"5-3", "a-b", "1-", "", "1-8193", "1.5-2", "1--2"})
        check_bad({"--make-trace", "-", "--head-range", bad}, "--head-range");
    check_bad({"--make-trace", "-", "--body-range", "0-16777217"}, "--body-range: '0-16777217': at most 16777216");
    check_bad({}, "URL is required");
    // count / rate past a day: --trace would refuse the file, and a tiny rate would overflow the times.
    check_bad({"--make-trace", "-", "-R", "1e-300"}, "--count/--rate: 400 requests at 1e-300/s would last");
    check_bad({"--make-trace", "-", "--count", "10000000"}, "over a day");
    CHECK(run_cli({"--make-trace", "-", "--count", "4320000", "-R", "50"}).rc == -1);  // exactly a day
}

TEST_CASE("churn-client cli: a send too big to build is refused, not a bad_alloc", "[client][cli][nagle]") {
    // 16 x 16 MiB: at the limit (kMaxBuiltBytes, 256 MiB); 1024 x 16 MiB would be 16 GiB.
    CHECK(run_cli({"--pattern", "pipeline", "--pipeline", "16", "--body", "16777216", U}).rc == -1);
    check_bad({"--pattern", "pipeline", "--pipeline", "17", "--body", "16777216", U},
              "--pipeline: 17 requests of --body 16777216 bytes is 285212672 bytes a send, over 268435456");
    check_bad({"--pattern", "pipeline", "--pipeline", "1024", "--body", "16777216", "--head", "8192", U}, "--pipeline");
}

// ---- the pieces ------------------------------------------------------------------------------------------

TEST_CASE("pieces: a head is valid HTTP/1.1, GET without a body, POST with its Content-Length", "[client][nagle]") {
    std::string get = churn::request_head(url(), Shape{0, 0});
    CHECK(get.rfind("GET / HTTP/1.1\r\nHost: 198.18.0.2:8080\r\n", 0) == 0);
    CHECK(get.find("Content-Length") == std::string::npos);
    auto g = server_view(get);
    REQUIRE(g.size() == 1);
    CHECK(g[0].method == "GET");
    CHECK(g[0].head == get.size());
    std::string post = churn::request_head(url("http://198.18.0.2:8080/x/y"), Shape{0, 16});
    CHECK(post.rfind("POST /x/y HTTP/1.1\r\n", 0) == 0);
    CHECK(post.find("\r\nContent-Length: 16\r\n") != std::string::npos);
}

TEST_CASE("pieces: --head pads to exactly the size asked, every size, still valid", "[client][nagle]") {
    for (uint32_t body : {0u, 16u}) {
        size_t natural = churn::request_head(url(), Shape{0, body}).size();
        // Below the smallest head: the smallest head.
        CHECK(churn::request_head(url(), Shape{static_cast<uint32_t>(natural - 1), body}).size() == natural);
        CHECK(churn::request_head(url(), Shape{1, body}).size() == natural);
        // Every size from the smallest up, across the switch from spaces to the X-Pad header.
        for (size_t target = natural; target < natural + 40; ++target) {
            std::string h = churn::request_head(url(), Shape{static_cast<uint32_t>(target), body});
            INFO("body " << body << " target " << target << ": " << h);
            CHECK(h.size() == target);
            std::string req = h + std::string(body, 'b');
            auto v = server_view(req);
            REQUIRE(v.size() == 1);
            CHECK(v[0].head == target);
            CHECK(v[0].body == body);
        }
    }
    CHECK(churn::request_head(url(), Shape{8192, 16}).size() == 8192);
    CHECK(churn::request_head(url(), Shape{120, 16}).find("X-Pad: ") != std::string::npos);
}

// --close server: the request itself asks the server to close first (RFC 9112 §9.6), so the server keeps
// the TIME-WAIT. One header, once, and --head still means the exact size of the head.
size_t count_of(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
    return n;
}

TEST_CASE("pieces: --close server puts Connection: close in the head, once; without it, never", "[client][close]") {
    const std::string header = "\r\nConnection: close\r\n";
    for (uint32_t body : {0u, 16u}) {
        std::string with = churn::request_head(url(), Shape{0, body, true});
        INFO("body " << body << ": " << with);
        CHECK(count_of(with, header) == 1);
        CHECK(count_of(with, "Connection:") == 1);
        auto v = server_view(with + std::string(body, 'b'));
        REQUIRE(v.size() == 1);
        CHECK_FALSE(v[0].keep_alive);  // churn-server reads it as "close after this answer"
        CHECK(v[0].body == body);
        std::string without = churn::request_head(url(), Shape{0, body, false});
        CHECK(without.find("Connection") == std::string::npos);
        CHECK(server_view(without + std::string(body, 'b'))[0].keep_alive);
        // The header is the only difference: 19 bytes.
        CHECK(with.size() == without.size() + std::string("Connection: close\r\n").size());
    }
    // Shape{} and Shape{h, b} keep meaning keep-alive: the field defaults to false.
    CHECK(churn::request_head(url(), Shape{120, 16}).find("Connection") == std::string::npos);
}

TEST_CASE("pieces: --head pads to exactly the size asked with Connection: close too", "[client][close]") {
    for (uint32_t body : {0u, 16u}) {
        size_t natural = churn::request_head(url(), Shape{0, body, true}).size();
        CHECK(churn::request_head(url(), Shape{1, body, true}).size() == natural);
        for (size_t target = natural; target < natural + 40; ++target) {
            std::string h = churn::request_head(url(), Shape{static_cast<uint32_t>(target), body, true});
            INFO("body " << body << " target " << target << ": " << h);
            CHECK(h.size() == target);
            CHECK(count_of(h, "\r\nConnection: close\r\n") == 1);
            auto v = server_view(h + std::string(body, 'b'));
            REQUIRE(v.size() == 1);
            CHECK(v[0].head == target);
            CHECK_FALSE(v[0].keep_alive);
        }
    }
    std::string big = churn::request_head(url(), Shape{8192, 16, true});
    CHECK(big.size() == 8192);
    CHECK(count_of(big, "\r\nConnection: close\r\n") == 1);
    // build_pieces carries the flag into the head it cuts (load.cc builds every request this way).
    for (auto pattern : {Options::Pattern::Single, Options::Pattern::Split}) {
        Pieces p = churn::build_pieces(pattern, url(), Shape{120, 16, true}, 1);
        std::string all = concat_pieces(p);
        CHECK(count_of(all, "\r\nConnection: close\r\n") == 1);
        CHECK(all.size() == 120 + 16);
    }
}

TEST_CASE("pieces: split is head then body, two pieces, one request", "[client][nagle]") {
    Pieces p = churn::build_pieces(Options::Pattern::Split, url(), Shape{120, 16}, 1);
    REQUIRE(p.pieces() == 2);
    CHECK(p.requests() == 1);
    CHECK(p.piece(0).size() == 120);
    CHECK(p.piece(1) == std::string(16, 'b'));
    CHECK(p.bytes.size() == 136);
    auto v = server_view(p.bytes);
    REQUIRE(v.size() == 1);
    CHECK(v[0].method == "POST");
    CHECK(v[0].head == 120);
    CHECK(v[0].body == 16);
    // No body: only the head, one piece.
    Pieces h = churn::build_pieces(Options::Pattern::Split, url(), Shape{0, 0}, 1);
    CHECK(h.pieces() == 1);
    CHECK(server_view(h.bytes).size() == 1);
    // single: the same bytes as one piece.
    Pieces s = churn::build_pieces(Options::Pattern::Single, url(), Shape{120, 16}, 1);
    CHECK(s.pieces() == 1);
    CHECK(s.bytes == p.bytes);
}

TEST_CASE("pieces: pipeline is K whole requests, each one piece", "[client][nagle]") {
    for (uint32_t k : {1u, 4u, 17u}) {
        Pieces p = churn::build_pieces(Options::Pattern::Pipeline, url(), Shape{0, 5}, k);
        INFO("K = " << k);
        CHECK(p.requests() == k);
        CHECK(p.pieces() == k);
        auto v = server_view(p.bytes);
        REQUIRE(v.size() == k);
        for (uint32_t i = 0; i < k; ++i) {
            CHECK(v[i].body == 5);
            CHECK(p.piece(i).size() == v[i].head + 5);
            CHECK(p.message_end[i] == (i + 1) * p.piece(0).size());
        }
    }
    CHECK(server_view(churn::build_pieces(Options::Pattern::Pipeline, url(), Shape{}, 3).bytes)[2].method == "GET");
}

TEST_CASE("pieces: where each --write mode's write() stops", "[client][nagle]") {
    Pieces sp = churn::build_pieces(Options::Pattern::Split, url(), Shape{120, 16}, 1);
    // each, cork: piece by piece; single: the whole request; gather: everything.
    CHECK(churn::write_stop(sp, Options::Write::Each, 0) == 120);
    CHECK(churn::write_stop(sp, Options::Write::Cork, 0) == 120);
    CHECK(churn::write_stop(sp, Options::Write::Each, 50) == 120);  // after a short write: the same piece
    CHECK(churn::write_stop(sp, Options::Write::Each, 120) == 136);
    CHECK(churn::write_stop(sp, Options::Write::Single, 0) == 136);
    CHECK(churn::write_stop(sp, Options::Write::Gather, 0) == 136);
    Pieces pl = churn::build_pieces(Options::Pattern::Pipeline, url(), Shape{}, 3);
    size_t one = pl.piece(0).size();
    // pipeline: a message is a piece, so single and each stop at the same places.
    for (size_t w : {size_t(0), one - 1, one, 2 * one + 3}) {
        CHECK(churn::write_stop(pl, Options::Write::Single, w) == churn::write_stop(pl, Options::Write::Each, w));
        CHECK(churn::write_stop(pl, Options::Write::Each, w) == (w / one + 1) * one);
    }
}

TEST_CASE("pieces: gather's iovecs are the each-mode pieces, concatenated", "[client][nagle]") {
    std::vector<Pieces> sends = {
        churn::build_pieces(Options::Pattern::Split, url(), Shape{120, 16}, 1),
        churn::build_pieces(Options::Pattern::Split, url(), Shape{0, 1}, 1),
        churn::build_pieces(Options::Pattern::Pipeline, url(), Shape{100, 3}, 7),
        churn::build_pieces(Options::Pattern::Single, url(), Shape{}, 1),
    };
    for (const Pieces& p : sends) {
        iovec iov[1024];
        int n = churn::gather_iov(p, 0, iov, 1024);
        CHECK(static_cast<size_t>(n) == p.pieces());  // one iovec per piece: the boundaries are kept
        for (int i = 0; i < n; ++i) {
            CHECK(iov[i].iov_base == static_cast<const void*>(p.piece(static_cast<size_t>(i)).data()));
            CHECK(iov[i].iov_len == p.piece(static_cast<size_t>(i)).size());
        }
        CHECK(concat_iov(iov, n) == concat_pieces(p));
        CHECK(concat_iov(iov, n) == p.bytes);
        // After a short writev() of w bytes: exactly the rest, from mid-piece on.
        for (size_t w = 1; w < p.bytes.size(); w += 7) {
            int m = churn::gather_iov(p, w, iov, 1024);
            INFO("written " << w);
            CHECK(concat_iov(iov, m) == p.bytes.substr(w));
        }
        CHECK(churn::gather_iov(p, p.bytes.size(), iov, 1024) == 0);
    }
    // More pieces than iovecs: the first `max`, the rest for the next call.
    Pieces big = churn::build_pieces(Options::Pattern::Pipeline, url(), Shape{}, 10);
    iovec iov[4];
    CHECK(churn::gather_iov(big, 0, iov, 4) == 4);
    CHECK(concat_iov(iov, 4) == big.bytes.substr(0, big.message_end[3]));
}
