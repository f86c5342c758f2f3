// json_line.h: one flat-ish JSON object appended to a string, for the per-flow rows of `decode --json`.
//
// Why not nlohmann::json for those too: a 200 000-packet churn capture has ~20 000 flows of ~30 fields;
// building them as a json tree and dumping it took 0.6 s, ten times the decode itself, and would have
// made decode slower than `tcpdump -r`. The rows only hold integers, booleans, null and strings we made
// (addresses, fixed words), so nothing needs escaping and plain appends are enough.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace churn::pcap {

class JsonLine {
public:
    explicit JsonLine(std::string& out) : out_(out) {}
    JsonLine& open(std::string_view key = {}) {
        sep();
        if (!key.empty()) name(key);
        out_ += '{';
        first_ = true;
        return *this;
    }
    JsonLine& close() {
        out_ += '}';
        first_ = false;
        return *this;
    }
    JsonLine& num(std::string_view key, int64_t v) {
        sep(), name(key);
        char b[24];
        auto r = std::to_chars(b, b + sizeof b, v);
        out_.append(b, r.ptr);
        return *this;
    }
    // A fixed-point number with 3 decimals from an integer count of thousandths: 43125 -> 43.125 (ms from µs).
    JsonLine& milli(std::string_view key, int64_t thousandths) {
        sep(), name(key);
        if (thousandths < 0) out_ += '-', thousandths = -thousandths;
        char b[24];
        auto r = std::to_chars(b, b + sizeof b, thousandths / 1000);
        out_.append(b, r.ptr);
        int64_t frac = thousandths % 1000;
        out_ += '.';
        out_ += static_cast<char>('0' + frac / 100), out_ += static_cast<char>('0' + frac / 10 % 10);
        out_ += static_cast<char>('0' + frac % 10);
        return *this;
    }
    // An array; its elements are open()/close() objects.
    JsonLine& open_array(std::string_view key) {
        sep(), name(key);
        out_ += '[';
        first_ = true;
        return *this;
    }
    JsonLine& close_array() {
        out_ += ']';
        first_ = false;
        return *this;
    }
    // -1 (or any negative: "not captured") becomes null.
    JsonLine& num_or_null(std::string_view key, int64_t v) { return v < 0 ? null(key) : num(key, v); }
    JsonLine& boolean(std::string_view key, bool v) {
        sep(), name(key);
        out_ += v ? "true" : "false";
        return *this;
    }
    JsonLine& null(std::string_view key) {
        sep(), name(key);
        out_ += "null";
        return *this;
    }
    // Only for text without quotes, backslashes or control characters (addresses, fixed words).
    JsonLine& str(std::string_view key, std::string_view v) {
        sep(), name(key);
        out_ += '"';
        out_ += v;
        out_ += '"';
        return *this;
    }

private:
    void sep() {
        if (!first_) out_ += ", ";
        first_ = false;
    }
    void name(std::string_view key) {
        out_ += '"';
        out_ += key;
        out_ += "\": ";
        first_ = false;
    }
    std::string& out_;
    bool first_ = true;
};

}  // namespace churn::pcap
