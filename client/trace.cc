// trace.cc: the trace file's parser and its seeded generator (trace.h has the format).
#include "client/trace.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "loop/sys.h"

namespace churn {

namespace {

// Plain decimal digits only: no sign, no "1e3", no "0x10", and never a wrapped "-1".
bool whole(std::string_view s, uint64_t& v) {
    if (s.empty() || s.front() < '0' || s.front() > '9') return false;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && ptr == s.data() + s.size();
}

std::string_view trim(std::string_view s) {
    // '\r' too: a trace written on Windows ends its lines with CRLF.
    const char* ws = " \t\r";
    size_t a = s.find_first_not_of(ws);
    if (a == std::string_view::npos) return {};
    return s.substr(a, s.find_last_not_of(ws) - a + 1);
}

// A field or line as an error message quotes it: cut short, so a line of junk gives a one-line error of
// reasonable length, not the whole line back.
std::string quoted(std::string_view s) {
    constexpr size_t kShown = 40;
    return "'" + std::string(s.substr(0, kShown)) + (s.size() > kShown ? "...'" : "'");
}

// splitmix64 (Steele, Lea, Flood 2014): a counter through a mixer. Tiny, seedable with any value
// (0 included), and fully specified here, so a seed means the same numbers everywhere.
struct SplitMix64 {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1), 53 bits
    uint32_t between(uint32_t lo, uint32_t hi) {  // [lo, hi]; the modulo bias is < 2^-32, irrelevant here
        return lo + static_cast<uint32_t>(next() % (uint64_t(hi) - lo + 1));
    }
};

}  // namespace

bool parse_trace(std::istream& in, const std::string& name, Trace& out, std::string& error) {
    out.lines.clear();
    auto bad = [&](uint64_t n, const std::string& why) {
        out.lines.clear();  // nothing half-read for a caller that goes on anyway
        error = name + ":" + std::to_string(n) + ": " + why;
        return false;
    };
    std::string raw;
    uint64_t n = 0;
    while (std::getline(in, raw)) {
        ++n;
        std::string_view line = raw;
        line = trim(line.substr(0, line.find('#')));
        if (line.empty()) continue;
        std::string_view field[4];
        int count = 0;
        for (size_t pos = 0; pos < line.size() && count < 4;) {
            size_t end = line.find_first_of(" \t", pos);
            if (end == std::string_view::npos) end = line.size();
            field[count++] = line.substr(pos, end - pos);
            pos = line.find_first_not_of(" \t", end);
            if (pos == std::string_view::npos) break;
        }
        if (count != 3) return bad(n, "expected 't_us head_bytes body_bytes', got " + quoted(line));
        static const char* const what[3] = {"t_us", "head_bytes", "body_bytes"};
        uint64_t v[3];
        for (int i = 0; i < 3; ++i)
            if (!whole(field[i], v[i]))
                return bad(n, std::string(what[i]) + " " + quoted(field[i]) + " is not a whole number");
        if (v[0] > kMaxTraceTimeUs)
            return bad(n, "t_us " + std::to_string(v[0]) + " is over " + std::to_string(kMaxTraceTimeUs) +
                              " (a day, the longest run -d allows)");
        if (v[1] > kMaxTraceHead)
            return bad(n, "head_bytes " + std::to_string(v[1]) + " is over " + std::to_string(kMaxTraceHead) +
                              " (churn-server answers a larger head with 431)");
        if (v[2] > kMaxTraceBody)
            return bad(n, "body_bytes " + std::to_string(v[2]) + " is over " + std::to_string(kMaxTraceBody));
        // In time order: the replay walks the file once (load.cc, released()); a line earlier than the one
        // before it would be sent late and charged for a wait that is the file's fault.
        if (!out.lines.empty() && v[0] < out.lines.back().t_us)
            return bad(n, "t_us " + std::to_string(v[0]) + " is before the previous request's " +
                              std::to_string(out.lines.back().t_us) + " (a trace is in time order)");
        if (out.lines.size() >= kMaxTraceLines)
            return bad(n, "more than " + std::to_string(kMaxTraceLines) + " requests");
        out.lines.push_back({v[0], static_cast<uint32_t>(v[1]), static_cast<uint32_t>(v[2])});
    }
    if (in.bad()) return bad(n, "read error");
    if (out.lines.empty()) {
        error = name + ": no requests (every line is blank or a comment)";
        return false;
    }
    out.path = name;
    return true;
}

bool load_trace(const std::string& path, Trace& out, std::string& error) {
    std::ifstream f(path);
    if (!f) {
        int saved = errno;
        error = "cannot read " + path + ": " + errno_name(saved) + " (" + std::strerror(saved) + ")";
        return false;
    }
    return parse_trace(f, path, out, error);
}

uint64_t built_bytes(const Trace& t, uint32_t pipeline) {
    std::set<std::pair<uint32_t, uint32_t>> seen;  // the shapes load.cc builds once each
    uint64_t total = 0;
    for (const TraceLine& l : t.lines)
        if (seen.insert({l.head, l.body}).second) total += (uint64_t(l.head) + l.body) * pipeline;
    return total;  // at most 10^7 lines x 16 MiB x 1024: < 2^58, no overflow
}

bool parse_range(const std::string& text, uint32_t max, uint32_t& lo, uint32_t& hi, std::string& error) {
    size_t dash = text.find('-');
    std::string a = text.substr(0, dash), b = dash == std::string::npos ? a : text.substr(dash + 1);
    uint64_t x = 0, y = 0;
    if (!whole(a, x) || !whole(b, y)) {
        error = "expected A-B (whole numbers, e.g. 100-200), got '" + text + "'";
        return false;
    }
    if (x > y) {
        error = "'" + text + "': the low end is above the high end";
        return false;
    }
    if (y > max) {
        error = "'" + text + "': at most " + std::to_string(max);
        return false;
    }
    lo = static_cast<uint32_t>(x);
    hi = static_cast<uint32_t>(y);
    return true;
}

std::string make_trace(const TraceSpec& spec) {
    std::ostringstream o;
    o << "# churn-client --make-trace: seed=" << spec.seed << " count=" << spec.count << " rate=" << spec.rate
      << " head=" << spec.head_lo << "-" << spec.head_hi << " body=" << spec.body_lo << "-" << spec.body_hi << "\n"
      << "# t_us head_bytes body_bytes\n";
    SplitMix64 rng{spec.seed};
    double t = 0;  // the first request at 0: the run starts with work, not with a wait
    for (uint64_t k = 0; k < spec.count; ++k) {
        if (k > 0) {
            // Exponential gaps with mean 1/rate: arrivals that are independent of each other, as users'
            // are (a Poisson process). 1 - u is in (0, 1], so the log is finite.
            t += -std::log(1.0 - rng.unit()) / spec.rate * 1e6;
        }
        // Head, then body, drawn for every line even when a range is a single value: the sequence of
        // draws is the same for every spec, so one seed gives the same times whatever the ranges.
        uint32_t head = rng.between(spec.head_lo, spec.head_hi);
        uint32_t body = rng.between(spec.body_lo, spec.body_hi);
        o << static_cast<uint64_t>(std::llround(t)) << ' ' << head << ' ' << body << '\n';
    }
    return o.str();
}

}  // namespace churn
