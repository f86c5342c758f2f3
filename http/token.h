// http/token.h: the few token rules that the request parser (server/) and the response parser
// (client/) share, in one copy. Header-only: both parsers call these per header line, so they inline.
//
// RFC 9110 §5.1: field names are case-insensitive; §5.6.1: list elements are separated by commas with
// optional whitespace (OWS = SP / HTAB) around them; §5.5: a field value has no leading or trailing OWS.
#pragma once

#include <string_view>

namespace churn::http {

inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

// ASCII only, on purpose: tolower() follows the C locale, and header names are never anything but ASCII.
// `lower` is already lower case (the names we look for are literals), so only `s` is folded.
inline bool iequals(std::string_view s, std::string_view lower) {
    if (s.size() != lower.size()) return false;
    for (size_t i = 0; i < s.size(); ++i)
        if (ascii_lower(s[i]) != lower[i]) return false;
    return true;
}

inline bool is_ows(char c) { return c == ' ' || c == '\t'; }

inline std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

// Calls f(token) for each element of a comma-separated list ("keep-alive, Upgrade"), empty elements
// skipped (RFC 9110 §5.6.1 asks recipients to accept and ignore them).
template <typename F>
void for_each_token(std::string_view list, F f) {
    while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view tok = trim_ows(list.substr(0, comma));
        if (!tok.empty()) f(tok);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

}  // namespace churn::http
