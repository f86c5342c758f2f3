// fuzz_proc_tcp.cc: libFuzzer target for `make fuzz`: arbitrary bytes as the text of /proc/net/tcp and
// /proc/net/tcp6, through the probe's fallback parser (probe/proc_tcp.h) and on to what it prints about
// each socket (its endpoints as text). The file is read while sockets come and go, so any line may be
// cut or garbled: the contract is "a line that does not parse is counted and skipped, never fatal".
#include <sys/socket.h>

#include <cstdint>
#include <string_view>

#include "probe/proc_tcp.h"
#include "probe/tcp_states.h"

using namespace churn::probe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    size_t lines = 0;
    for (char c : text) lines += c == '\n';
    lines += !text.empty() && text.back() != '\n';
    for (int family : {AF_INET, AF_INET6}) {
        size_t called = 0;
        ProcTcpStats st = parse_proc_tcp(text, family, [&](const SockRecord& r) {
            ++called;
            if (r.family != family || r.state < kEstablished || r.state > kMaxState) __builtin_trap();
            // What states/triage print for every socket: must not read past the address arrays.
            std::string s = r.local() + " " + r.remote() + " " + r.remote_addr();
            if (s.empty()) __builtin_trap();
        });
        // Every socket reported once, and a line is either a socket, malformed, blank or the header.
        if (st.sockets != called || st.sockets + st.malformed > lines) __builtin_trap();
        if (st.malformed && (st.first_malformed == 0 || st.first_malformed > lines)) __builtin_trap();
    }
    return 0;
}
