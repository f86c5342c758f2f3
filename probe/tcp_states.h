// tcp_states.h: the kernel's TCP state numbers, and the names `ss` prints for them.
//
// The numbers are the kernel's enum in include/net/tcp_states.h. They are ABI: sock_diag reports them
// in inet_diag_msg.idiag_state, /proc/net/tcp prints them in hex in its `st` column, and the request's
// idiag_states is a bitmask of (1 << state). Userspace headers do not export the enum (netinet/tcp.h has
// TCP_ESTABLISHED..TCP_CLOSING as an anonymous enum, without NEW_SYN_RECV), so we keep our own copy and
// pin every value below.
//
// Two states are the kernel's internal ones and never reach a reader under their own name:
//   NEW_SYN_RECV (12)  a request sock: a SYN answered, the final ACK still missing. The kernel reports
//                      it as SYN_RECV (3) in both sock_diag and /proc/net/tcp; `ss` calls it SYN-RECV.
//   CLOSE (7)          a socket that is neither connected nor listening (bound, or closed but not yet
//                      freed). `ss` calls it UNCONN. Rare for TCP; counted, never hidden.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace churn::probe {

enum TcpState : uint8_t {
    kEstablished = 1,
    kSynSent = 2,
    kSynRecv = 3,
    kFinWait1 = 4,
    kFinWait2 = 5,
    kTimeWait = 6,
    kClose = 7,
    kCloseWait = 8,
    kLastAck = 9,
    kListen = 10,
    kClosing = 11,
    kNewSynRecv = 12,
};
inline constexpr int kMaxState = 12;

// The order `ss` lists them in and the one our JSON and tables use.
inline constexpr std::array<TcpState, 11> kReportOrder = {
    kEstablished, kSynSent, kSynRecv, kFinWait1, kFinWait2, kTimeWait, kCloseWait, kLastAck, kListen, kClosing, kClose,
};

// ss's names (misc/ss.c, sstate_name[]). "UNCONN" for CLOSE, as ss prints it.
constexpr std::string_view state_name(int state) {
    switch (state) {
        case kEstablished: return "ESTAB";
        case kSynSent: return "SYN-SENT";
        case kSynRecv: return "SYN-RECV";
        case kFinWait1: return "FIN-WAIT-1";
        case kFinWait2: return "FIN-WAIT-2";
        case kTimeWait: return "TIME-WAIT";
        case kClose: return "UNCONN";
        case kCloseWait: return "CLOSE-WAIT";
        case kLastAck: return "LAST-ACK";
        case kListen: return "LISTEN";
        case kClosing: return "CLOSING";
        case kNewSynRecv: return "SYN-RECV";
        default: return "UNKNOWN";
    }
}

// "TIME-WAIT" (or "time-wait", as ss's filter syntax spells it) -> kTimeWait. SYN-RECV gives kSynRecv.
// ss's filter words "established", "listening" and "closed" are accepted too.
inline std::optional<TcpState> state_from_name(std::string_view name) {
    auto same = [](std::string_view a, std::string_view b) {
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i) {
            char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 'a' + 'A') : a[i];
            if (x != b[i]) return false;
        }
        return true;
    };
    for (TcpState s : kReportOrder)
        if (same(name, state_name(s))) return s;
    // ss's filter words for the three whose names differ from its column headings.
    if (same(name, "ESTABLISHED")) return kEstablished;
    if (same(name, "LISTENING")) return kListen;
    if (same(name, "CLOSED")) return kClose;
    return std::nullopt;
}

// Fold the kernel's internal NEW_SYN_RECV into SYN_RECV, as the kernel itself does in its replies.
constexpr int reported_state(int state) { return state == kNewSynRecv ? kSynRecv : state; }

constexpr uint32_t state_bit(int state) { return 1u << state; }

// Every state a dump can return. This is the mask `ss -a` sends. The kernel walks the listeners and the
// established hash (which also holds the TIME-WAIT and request socks) and keeps a socket only if its
// state's bit is set: leave out TIME-WAIT or SYN-RECV and those sockets silently vanish from the answer.
inline constexpr uint32_t kAllStates = [] {
    uint32_t m = 0;
    for (int s = kEstablished; s <= kMaxState; ++s) m |= state_bit(s);
    return m;
}();

// The bits to ask for when the user wants `wanted` (a mask over reported states). Request socks carry
// NEW_SYN_RECV internally; the kernel adds that bit itself when SYN_RECV is asked for (measured on 6.18:
// either bit alone returns them), but we ask for it explicitly rather than rely on that. Orphaned
// FIN-WAIT-2 sockets live in the TIME-WAIT table as timewait socks, yet the kernel filters them by their
// substate: the FIN-WAIT-2 bit alone finds them, the TIME-WAIT bit alone does not (measured).
constexpr uint32_t request_mask(uint32_t wanted) {
    uint32_t m = wanted;
    if (m & state_bit(kSynRecv)) m |= state_bit(kNewSynRecv);
    return m;
}

static_assert(kEstablished == 1 && kTimeWait == 6 && kListen == 10 && kNewSynRecv == 12,
              "TCP state numbers are kernel ABI (include/net/tcp_states.h)");
static_assert(kAllStates == 0x1ffe, "states 1..12");

}  // namespace churn::probe
