// states.h: counting sockets by state, optionally grouped by local port or remote endpoint, and
// printing the result as ss's state names (text table or JSON).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "probe/socket_record.h"
#include "probe/tcp_states.h"

namespace churn::probe {

struct StateCounts {
    std::array<uint64_t, kMaxState + 1> by_state{};
    uint64_t total = 0;

    void add(int state) {
        ++by_state[static_cast<size_t>(state) <= kMaxState ? state : 0];
        ++total;
    }
    uint64_t operator[](int state) const { return by_state[static_cast<size_t>(state)]; }
};

// {"ESTAB": n, "SYN-SENT": n, ... "CLOSING": n}: the ten states always (zeros included, so a reader can
// rely on the keys), "UNCONN" only when there are any.
nlohmann::ordered_json counts_json(const StateCounts& c);
// The reverse, for saved samples; unknown keys are ignored.
StateCounts counts_from_json(const nlohmann::json& j);

// "ESTAB 32, TIME-WAIT 28232" (non-zero states in ss order), or "none".
std::string counts_line(const StateCounts& c);

enum class GroupBy { State, LocalPort, Remote };
// "state", "lport" (local port), "remote" (remote address:port). Throws ProbeError.
GroupBy parse_group_by(std::string_view text);
const char* group_by_name(GroupBy g);
std::string group_key(GroupBy g, const SockRecord& r);

struct Grouped {
    GroupBy by = GroupBy::State;
    StateCounts all;
    std::map<std::string, StateCounts> groups;

    void add(const SockRecord& r) {
        all.add(r.state);
        if (by != GroupBy::State) groups[group_key(by, r)].add(r.state);
    }
    // Largest groups first (ties by key); top = 0 means all.
    std::vector<std::pair<std::string, StateCounts>> top(size_t n) const;
};

// The text table: one column per state that is non-zero anywhere, a row per group (or one row).
std::string grouped_text(const Grouped& g, size_t top);

}  // namespace churn::probe
