// tw_csv.cc: parse the sampler's CSV; see tw_csv.h.
#include "report/tw_csv.h"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace churn::report {
namespace {

constexpr std::string_view kHeader = "t_s,client_tw,server_tw";

// from_chars, not stod/stol: no locale, no exceptions, and it tells us whether the whole field was a
// number ("12abc" is malformed, not 12).
template <typename T>
bool parse_field(std::string_view field, T& out) {
    if (field.empty()) return false;
    const char* end = field.data() + field.size();
    auto [ptr, ec] = std::from_chars(field.data(), end, out);
    return ec == std::errc() && ptr == end;
}

bool parse_line(std::string_view line, TwSample& s) {
    size_t c1 = line.find(',');
    if (c1 == std::string_view::npos) return false;
    size_t c2 = line.find(',', c1 + 1);
    if (c2 == std::string_view::npos || line.find(',', c2 + 1) != std::string_view::npos) return false;
    return parse_field(line.substr(0, c1), s.t_s) &&
           parse_field(line.substr(c1 + 1, c2 - c1 - 1), s.client_tw) &&
           parse_field(line.substr(c2 + 1), s.server_tw) && s.client_tw >= 0 && s.server_tw >= 0;
}

}  // namespace

TwSeries parse_tw_csv(std::istream& in) {
    TwSeries series;
    std::string line;
    size_t lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        if (lineno == 1 && line == kHeader) continue;
        TwSample s;
        if (parse_line(line, s)) {
            series.samples.push_back(s);
        } else {
            if (series.malformed++ == 0) series.first_malformed = lineno;
        }
    }
    return series;
}

TwSummary summarize(const TwSeries& series) {
    TwSummary sum;
    sum.samples = series.samples.size();
    sum.malformed = series.malformed;
    for (const TwSample& s : series.samples) {
        sum.client_peak = std::max(sum.client_peak, s.client_tw);
        sum.server_peak = std::max(sum.server_peak, s.server_tw);
    }
    if (!series.samples.empty()) {
        sum.client_final = series.samples.back().client_tw;
        sum.server_final = series.samples.back().server_tw;
    }
    return sum;
}

}  // namespace churn::report
