// cli.h: the one check every numeric command-line option of every churn binary goes through.
//
// Why not CLI11's own Range: it converts, then tests `v < min || v > max`, and every comparison with
// NaN is false, so `churn-client -d nan` passed Range(0.001, 86400) and ran until killed. CLI11's
// conversion also takes "inf", "-inf", hex ("0x10") and octal ("010" is 8), and for an unsigned target
// it wraps "-1" to 2^64-1 (strtoull). So every numeric option is declared with
//
//     cli::add_number(app, "-d,--duration", opt.duration_s, "seconds to measure", 0.001, 86400.0);
//
// and its text must be a plain decimal number of the option's type, finite, within [min, max]. The
// check runs on the text before CLI11 converts it; CLI11 then reports "--duration: 'nan' is not a finite
// number" and the binary prints that one line and exits 2. Integers are rewritten to plain decimal, so
// CLI11's base-0 conversion reads "010" as the 10 that was checked, not as octal 8.
//
// Options parsed from text by hand (probe's "100ms" durations) use parse_finite() below for the number.
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <type_traits>

namespace churn::cli {

// `text` as a finite double, every character used ("1e3", "-0.5"; not "nan", "inf", "1x", "", " 1").
// std::from_chars, not strtod: it ignores the locale and skips no leading whitespace.
inline bool parse_finite(const std::string& text, double& out) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc() && ptr == end && std::isfinite(out);
}

template <typename T>
std::string show(T v) {
    if constexpr (std::is_floating_point_v<T>) {
        char b[32];
        std::snprintf(b, sizeof b, "%g", static_cast<double>(v));
        return b;
    } else {
        return std::to_string(v);
    }
}

// Validator (used as a transform: see add_number) for an option of arithmetic type T: a finite number
// within [min, max], else a one-line reason. Integers: decimal digits and an optional '-' only (no "1.5",
// "1e3", "0x10").
template <typename T>
CLI::Validator number(T min = std::numeric_limits<T>::lowest(), T max = std::numeric_limits<T>::max()) {
    static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, "cli::number is for numeric options");
    auto check = [min, max](std::string& text) -> std::string {
        T v{};
        if constexpr (std::is_floating_point_v<T>) {
            double d = 0;
            const char* end = text.data() + text.size();
            auto [ptr, ec] = std::from_chars(text.data(), end, d);
            if (ec == std::errc::result_out_of_range) return "'" + text + "' is out of range";
            if (ec != std::errc() || ptr != end) return "'" + text + "' is not a number";
            // "nan" and "inf" are numbers to from_chars and strtod: say it is the value that is refused.
            if (!std::isfinite(d)) return "'" + text + "' is not a finite number";
            v = static_cast<T>(d);
        } else {
            const char* end = text.data() + text.size();
            auto [ptr, ec] = std::from_chars(text.data(), end, v);
            bool negative = text.size() > 1 && text[0] == '-' && text[1] >= '0' && text[1] <= '9';
            if (ec == std::errc::result_out_of_range || (negative && std::is_unsigned_v<T> && ptr == text.data()))
                return "must be between " + show(min) + " and " + show(max) + ", got " + text;
            if (ec != std::errc() || ptr != end) return "'" + text + "' is not a whole number";
            text = std::to_string(v);  // what CLI11 converts next: plain decimal, never octal
        }
        if (v < min || v > max) return "must be between " + show(min) + " and " + show(max) + ", got " + text;
        return {};
    };
    return CLI::Validator(check, "in [" + show(min) + ", " + show(max) + "]", "NUMBER");
}

// The usual way in: add_option + number<T> with T the option's own type, so the check and CLI11's
// conversion agree on what a valid value is ("1.5" is refused for an int option, said so at once).
template <typename T>
CLI::Option* add_number(CLI::App& app, const std::string& name, T& var, const std::string& help,
                        std::type_identity_t<T> min = std::numeric_limits<T>::lowest(),
                        std::type_identity_t<T> max = std::numeric_limits<T>::max()) {
    // transform(), not check(): check() runs a validator on a copy of the text, so the rewrite to plain
    // decimal would be lost and CLI11 would still read "010" as octal.
    return app.add_option(name, var, help)->transform(number<T>(min, max));
}

}  // namespace churn::cli
