// fuzz_trace.cc: libFuzzer target for `make fuzz`: arbitrary bytes as a --trace file, through the parser
// churn-client reads it with (client/trace.h), and the first line also as a --head-range/--body-range.
//
// What must hold for every input, besides "no crash, no UB" (ASan + UBSan):
//   refused:  error is one line naming the input ("f:LINE: ..." or "f: no requests ..."), nothing kept;
//   accepted: at least one line, times in order and within kMaxTraceTimeUs, sizes within their limits,
//             and the lines written back as "t_us head body" parse to the same lines (nothing was read
//             as something it is not: the parser and the format agree).
#include <cstdint>
#include <sstream>
#include <string>

#include "client/trace.h"

using namespace churn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    std::istringstream in(text);
    Trace t;
    std::string error;
    bool ok = parse_trace(in, "f", t, error);
    if (!ok) {
        if (error.rfind("f:", 0) != 0 || error.find('\n') != std::string::npos || !t.lines.empty())
            __builtin_trap();
    } else {
        if (t.lines.empty() || !error.empty() || t.path != "f") __builtin_trap();
        std::ostringstream back;
        for (size_t i = 0; i < t.lines.size(); ++i) {
            const TraceLine& l = t.lines[i];
            if (l.t_us > kMaxTraceTimeUs || l.head > kMaxTraceHead || l.body > kMaxTraceBody) __builtin_trap();
            if (i > 0 && l.t_us < t.lines[i - 1].t_us) __builtin_trap();
            back << l.t_us << ' ' << l.head << ' ' << l.body << '\n';
        }
        std::istringstream again(back.str());
        Trace u;
        if (!parse_trace(again, "f", u, error) || u.lines.size() != t.lines.size()) __builtin_trap();
        for (size_t i = 0; i < t.lines.size(); ++i)
            if (u.lines[i].t_us != t.lines[i].t_us || u.lines[i].head != t.lines[i].head ||
                u.lines[i].body != t.lines[i].body)
                __builtin_trap();
        if (built_bytes(t, 1024) < built_bytes(t, 1)) __builtin_trap();  // it must not wrap
    }
    // The first line as an A-B range: lo <= hi <= max when accepted, a reason when not.
    uint32_t lo = 7, hi = 7;
    std::string why;
    std::string first = text.substr(0, text.find('\n'));
    if (parse_range(first, kMaxTraceHead, lo, hi, why)) {
        if (lo > hi || hi > kMaxTraceHead) __builtin_trap();
    } else if (why.empty()) {
        __builtin_trap();
    }
    return 0;
}
