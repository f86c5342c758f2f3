// churn-client --trace and --make-trace (client/trace.cc): the parser names the bad line and what is wrong
// with it; the generator gives the same bytes for the same seed, and a trace the parser takes back.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "client/trace.h"

using churn::Trace;
using churn::TraceSpec;

namespace {

struct Parsed {
    bool ok;
    Trace trace;
    std::string error;
};

Parsed parse(const std::string& text, const std::string& name = "t.txt") {
    Parsed p;
    std::istringstream in(text);
    p.ok = churn::parse_trace(in, name, p.trace, p.error);
    return p;
}

// A bad trace: refused, the message starts with "t.txt:LINE: " and says `why`, nothing kept.
void check_bad(const std::string& text, int line, const std::string& why) {
    Parsed p = parse(text);
    INFO("trace:\n" << text << "\nerror: " << p.error);
    CHECK_FALSE(p.ok);
    CHECK(p.error.rfind("t.txt:" + std::to_string(line) + ": ", 0) == 0);
    CHECK(p.error.find(why) != std::string::npos);
    CHECK(p.error.find('\n') == std::string::npos);  // one line
    CHECK(p.trace.lines.empty());
}

}  // namespace

TEST_CASE("trace: lines, comments, blank lines, tabs and CRLF", "[client][trace]") {
    Parsed p = parse("# made by hand\n"
                     "\n"
                     "0 120 16\n"
                     "  1500\t100   8   # a comment after a line\n"
                     "1500 90 0\r\n"
                     "   \n"
                     "2000000 8192 16777216\n");
    INFO(p.error);
    REQUIRE(p.ok);
    CHECK(p.trace.path == "t.txt");
    REQUIRE(p.trace.lines.size() == 4);
    CHECK(p.trace.lines[0].t_us == 0);
    CHECK(p.trace.lines[0].head == 120);
    CHECK(p.trace.lines[0].body == 16);
    CHECK(p.trace.lines[1].t_us == 1500);
    CHECK(p.trace.lines[1].head == 100);
    CHECK(p.trace.lines[1].body == 8);
    CHECK(p.trace.lines[2].t_us == 1500);  // the same time twice: two requests due together
    CHECK(p.trace.lines[2].body == 0);
    CHECK(p.trace.lines[3].head == churn::kMaxTraceHead);
    CHECK(p.trace.lines[3].body == churn::kMaxTraceBody);
}

TEST_CASE("trace: a bad line is named, with what is wrong", "[client][trace]") {
    check_bad("0 120\n", 1, "expected 't_us head_bytes body_bytes', got '0 120'");
    check_bad("0 120 16 4\n", 1, "expected 't_us head_bytes body_bytes', got '0 120 16 4'");
    check_bad("# header\n\n0 1 x\n", 3, "body_bytes 'x' is not a whole number");  // comments and blanks count
    check_bad("0 1 1\nabc 1 1\n", 2, "t_us 'abc' is not a whole number");
    check_bad("0 -1 1\n", 1, "head_bytes '-1' is not a whole number");
    check_bad("0 +1 1\n", 1, "head_bytes '+1' is not a whole number");
    check_bad("0 1 1.5\n", 1, "body_bytes '1.5' is not a whole number");
    check_bad("0x10 1 1\n", 1, "t_us '0x10' is not a whole number");
    check_bad("1e3 1 1\n", 1, "t_us '1e3' is not a whole number");
    check_bad("99999999999999999999 1 1\n", 1, "t_us '99999999999999999999' is not a whole number");
    check_bad("0 8193 1\n", 1, "head_bytes 8193 is over 8192");
    check_bad("0 1 16777217\n", 1, "body_bytes 16777217 is over 16777216");
    check_bad("0 1 1\n500 1 1\n499 1 1\n", 3, "t_us 499 is before the previous request's 500");
    check_bad("0,1,1\n", 1, "expected 't_us head_bytes body_bytes'");
}

TEST_CASE("trace: t_us past a day is refused (it would wrap the replay's start + t_us)", "[client][trace]") {
    Parsed day = parse("0 1 1\n86400000000 1 1\n");
    INFO(day.error);
    CHECK(day.ok);  // exactly a day: the longest run -d allows
    check_bad("86400000001 1 1\n", 1, "t_us 86400000001 is over 86400000000 (a day");
    check_bad("0 1 1\n18446744073709551615 1 1\n", 2, "t_us 18446744073709551615 is over 86400000000");
}

TEST_CASE("trace: a long junk line is quoted cut short, still one line", "[client][trace]") {
    std::string junk(5000, 'x');
    check_bad(junk + "\n", 1, "got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'");
    check_bad("0 1 " + junk + "\n", 1, "body_bytes 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not");
    Parsed p = parse(junk + "\n");
    CHECK(p.error.size() < 200);
}

TEST_CASE("trace: built_bytes counts each distinct size once, times the pipeline", "[client][trace]") {
    Parsed p = parse("0 100 10\n1 100 10\n2 0 16777216\n3 100 10\n");
    REQUIRE(p.ok);
    CHECK(churn::built_bytes(p.trace, 1) == 110 + 16777216);
    CHECK(churn::built_bytes(p.trace, 4) == 4 * (110 + 16777216));
    CHECK(churn::built_bytes(p.trace, 1) <= churn::kMaxBuiltBytes);
}

TEST_CASE("trace: an empty trace is refused; an unreadable file says why", "[client][trace]") {
    for (const char* text : {"", "# only a comment\n", "\n\n  \n"}) {
        Parsed p = parse(text);
        CHECK_FALSE(p.ok);
        CHECK(p.error == "t.txt: no requests (every line is blank or a comment)");
    }
    Trace t;
    std::string why;
    CHECK_FALSE(churn::load_trace("/nonexistent/trace.txt", t, why));
    CHECK(why.rfind("cannot read /nonexistent/trace.txt: ENOENT", 0) == 0);
}

TEST_CASE("trace: A-B ranges", "[client][trace]") {
    uint32_t lo = 9, hi = 9;
    std::string why;
    CHECK(churn::parse_range("100-200", 8192, lo, hi, why));
    CHECK(lo == 100);
    CHECK(hi == 200);
    CHECK(churn::parse_range("16", 8192, lo, hi, why));
    CHECK(lo == 16);
    CHECK(hi == 16);
    CHECK(churn::parse_range("0-8192", 8192, lo, hi, why));
    for (const char* bad : {"", "-", "1-", "-1", "a-b", "2-1", "1-8193", "1.5-2", "1--2", "1-2-3", " 1-2", "0x1-2"}) {
        INFO(bad);
        CHECK_FALSE(churn::parse_range(bad, 8192, lo, hi, why));
        CHECK_FALSE(why.empty());
    }
}

TEST_CASE("trace: the generator: same seed, same bytes; the parser takes it back", "[client][trace]") {
    TraceSpec spec;
    spec.seed = 7;
    spec.count = 2000;
    spec.rate = 100;
    spec.head_lo = 100;
    spec.head_hi = 160;
    spec.body_lo = 8;
    spec.body_hi = 64;
    std::string a = churn::make_trace(spec), b = churn::make_trace(spec);
    CHECK(a == b);
    CHECK(a.rfind("# churn-client --make-trace: seed=7 count=2000 rate=100 head=100-160 body=8-64\n", 0) == 0);
    TraceSpec other = spec;
    other.seed = 8;
    CHECK(churn::make_trace(other) != a);

    Parsed p = parse(a);
    INFO(p.error);
    REQUIRE(p.ok);
    REQUIRE(p.trace.lines.size() == 2000);
    CHECK(p.trace.lines[0].t_us == 0);
    bool in_range = true;
    for (const auto& l : p.trace.lines)
        in_range = in_range && l.head >= 100 && l.head <= 160 && l.body >= 8 && l.body <= 64;
    CHECK(in_range);
    // 1999 exponential gaps of mean 10 ms: about 20 s in all (the seed fixes the exact value; this only
    // catches a rate in the wrong unit or a gap formula that is not the mean it claims).
    double last_s = p.trace.lines.back().t_us / 1e6;
    CHECK(last_s > 18);
    CHECK(last_s < 22);
    // Not every gap the same (fixed spacing would hide the queueing a Poisson trace shows).
    CHECK(p.trace.lines[1].t_us - p.trace.lines[0].t_us != p.trace.lines[2].t_us - p.trace.lines[1].t_us);
}

TEST_CASE("trace: the generator's draws are pinned (a seed means the same trace on every build)", "[client][trace]") {
    TraceSpec spec;
    spec.seed = 7;
    spec.count = 3;
    spec.rate = 50;
    // The exact text for seed 7, computed apart from this code (splitmix64 and the exponential gaps
    // redone in Python): if it changes, every committed trace and evidence run made with --make-trace no
    // longer reproduces. Change it only on purpose.
    CHECK(churn::make_trace(spec) ==
          "# churn-client --make-trace: seed=7 count=3 rate=50 head=100-200 body=8-64\n"
          "# t_us head_bytes body_bytes\n"
          "0 127 41\n"
          "46204 116 33\n"
          "51943 130 56\n");
}
