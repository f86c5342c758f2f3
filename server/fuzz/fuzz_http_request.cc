// fuzz_http_request.cc: libFuzzer target for `make fuzz`: arbitrary bytes as what a client sent, through
// the server's request-head parser (server/http_request.h), the way server/connection.cc drives it:
// parse, and after Complete skip header_bytes + content_length and parse the next pipelined request.
//
// Each input is parsed twice: all at once, and growing one byte at a time (one read() per byte, the
// slowloris case, where the parser resumes from where it stopped looking). Both must give the same
// answers; a difference means a request is judged by how it was cut into reads, and traps.
#include <cstdint>
#include <string_view>
#include <vector>

#include "server/http_request.h"

using namespace churn::http;

namespace {

struct Step {
    Parse status;
    int error_status;
    size_t header_bytes;
    uint64_t content_length;
    bool keep_alive;
    bool operator==(const Step&) const = default;
};

void check_views(const ParseResult& r, std::string_view data) {
    // method and target are views into the caller's bytes: they must lie inside what was passed.
    for (std::string_view v : {r.request.method, r.request.target})
        if (!v.empty() && (v.data() < data.data() || v.data() + v.size() > data.data() + data.size())) __builtin_trap();
    if (r.request.header_bytes == 0 || r.request.header_bytes > data.size()) __builtin_trap();
}

// `bytewise`: feed each request's bytes one more at a time, as a client trickling them would.
std::vector<Step> run(std::string_view all, bool bytewise) {
    std::vector<Step> steps;
    RequestParser parser;
    size_t at = 0;
    while (at < all.size() && steps.size() < 64) {
        std::string_view rest = all.substr(at);
        ParseResult r;
        if (bytewise) {
            for (size_t n = 1; n <= rest.size(); ++n)
                if ((r = parser.parse(rest.substr(0, n))).status != Parse::NeedMore) break;
        } else {
            r = parser.parse(rest);
        }
        if (r.status == Parse::Complete) check_views(r, rest);
        steps.push_back({r.status, r.error_status, r.request.header_bytes, r.request.content_length, r.request.keep_alive});
        if (r.status != Parse::Complete) break;
        // The body, then the next request; a body longer than what we have ends the input.
        if (r.request.content_length > rest.size() - r.request.header_bytes) break;
        at += r.request.header_bytes + r.request.content_length;
        parser.reset();
    }
    return steps;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view all(reinterpret_cast<const char*>(data), size);
    if (run(all, false) != run(all, true)) __builtin_trap();
    return 0;
}
