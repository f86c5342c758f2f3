// known.h: what the project knows about the churn-relevant sysctls: the value each one takes, and the
// ones that never go in a profile (with the run-levers row that says why). Pure; no syscalls.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace churn::sysctl {

enum class Kind {
    PortRange,  // "LO HI": two ports, LO <= HI, 1..65535
    PortList,   // "8080,9000-9010" (ip_local_reserved_ports); empty is valid
    Int,        // one integer in [min, max]
    Name,       // one word: [a-z0-9_]+ (a congestion control)
};

struct KeyInfo {
    const char* key;      // dotted
    Kind kind;
    long min, max;        // for Int
    const char* never;    // non-null: never in a profile, and why
};

// nullptr for a key the table does not know (its value is then not checked).
const KeyInfo* key_info(std::string_view dotted);

// "" when `value` is what `info` takes, else why not ("must be two ports LO HI with LO <= HI, ...").
std::string value_problem(const KeyInfo& info, std::string_view value);

// "8080,9000-9010" -> {8080, 9000..9010}; false (and `why`) when malformed.
bool parse_port_list(std::string_view text, std::set<uint16_t>& out, std::string& why);
// "1024 65535" (any whitespace) -> lo, hi; false when not two ports in order.
bool parse_port_range(std::string_view text, long& lo, long& hi);

// The keys `churn-sysctl show` and `check` print, in this order.
const std::vector<std::string>& churn_keys();

}  // namespace churn::sysctl
