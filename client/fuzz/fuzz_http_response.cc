// fuzz_http_response.cc: libFuzzer target for `make fuzz`: arbitrary bytes as what a server answered,
// through the load generator's response parser (client/http_response.h), the way client/conn.cc uses it
// on a keep-alive connection: feed, and after Complete reset() and feed the rest as the next response;
// at the end of the input the peer closes (on_eof).
//
// Each input is fed twice: in one read, and one byte per read (every status line, header, chunk size and
// CRLF cut at every possible place). Both must give the same responses, bodies and errors; a difference
// means the answer depends on how TCP segmented the stream, and traps.
#include <cstdint>
#include <string_view>
#include <vector>

#include "client/http_response.h"

using churn::ResponseParser;

namespace {

struct Response {
    ResponseParser::State state;
    int status;
    bool keep_alive;
    uint64_t body_bytes;
    size_t bytes;  // consumed by this response (Complete only; not meaningful on Error)
    bool operator==(const Response&) const = default;
};

std::vector<Response> run(std::string_view all, size_t read_size) {
    std::vector<Response> out;
    ResponseParser p;
    size_t at = 0, start = 0;
    auto record = [&](ResponseParser::State s) {
        bool done = s == ResponseParser::State::Complete;
        out.push_back({s, p.status(), done && p.keep_alive(), p.body_bytes(), done ? at - start : 0});
    };
    while (at < all.size()) {
        size_t n = std::min(read_size, all.size() - at);
        ResponseParser::Result r = p.feed(all.data() + at, n);
        if (r.consumed > n) __builtin_trap();  // took bytes it was not given
        at += r.consumed;
        if (r.state == ResponseParser::State::Error) {
            if (p.error().empty()) __builtin_trap();  // every error says why, in one line
            record(r.state);
            return out;
        }
        if (r.state == ResponseParser::State::Complete) {
            if (!p.complete()) __builtin_trap();
            record(r.state);
            // After Complete nothing more is taken until reset().
            if (at < all.size() && p.feed(all.data() + at, all.size() - at).consumed != 0) __builtin_trap();
            p.reset();
            start = at;
            if (out.size() >= 256) return out;
        } else if (r.consumed < n) {
            __builtin_trap();  // NeedMore yet it left bytes of this read untaken: they would be lost
        }
    }
    ResponseParser::State s = p.on_eof();
    if (s != ResponseParser::State::NeedMore) record(s);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view all(reinterpret_cast<const char*>(data), size);
    if (run(all, all.size() + 1) != run(all, 1)) __builtin_trap();
    return 0;
}
