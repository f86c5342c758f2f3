// fuzz_sock_diag.cc: libFuzzer target for `make fuzz`: arbitrary bytes as one datagram recvmsg() returned
// on the NETLINK_SOCK_DIAG socket, through parse_reply (probe/sock_diag.h) and, for every socket message,
// through what `churn-probe info` does with it: its attributes, the tcp_info / congestion / BBR decoding
// (probe/tcp_info.h), the JSON and the ss-like text. The seeds are datagrams a real kernel sent.
//
// The kernel is trusted to send well-formed replies, but the parser is not allowed to trust it: a length
// that runs past the buffer must be DiagTruncated, an NLMSG_ERROR a DiagError, never a read out of bounds.
#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <span>

#include "probe/sock_diag.h"
#include "probe/tcp_info.h"

using namespace churn::probe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> buf(data, size);
    // Answer as the dump that sent the first message's sequence number, so the fuzzer need not guess it
    // to get past the "foreign message" check; messages with another number still exercise that path.
    uint32_t seq = 1;
    if (size >= sizeof(nlmsghdr)) std::memcpy(&seq, data + offsetof(nlmsghdr, nlmsg_seq), sizeof seq);
    size_t called = 0;
    try {
        ReplyChunk c = parse_reply(buf, seq, [&](const DiagMessage& m) {
            ++called;
            // No attributes: an empty span, whose data() may be null. Otherwise they lie inside the datagram.
            if (!m.attrs.empty() && (m.attrs.data() < data || m.attrs.data() + m.attrs.size() > data + size))
                __builtin_trap();
            for (int type = 0; type <= INET_DIAG_MAX + 1; ++type) {
                std::span<const uint8_t> a = m.attr(type);
                if (!a.empty() && (a.data() < m.attrs.data() || a.data() + a.size() > m.attrs.data() + m.attrs.size()))
                    __builtin_trap();
            }
            ConnInfo info = decode_conn(m);
            std::string j = conn_json(info).dump();
            std::string t = conn_text(info);
            if (j.empty() || t.empty()) __builtin_trap();
        });
        if (c.sockets != called) __builtin_trap();
    } catch (const ProbeError&) {
        // DiagError (NLMSG_ERROR, an error in NLMSG_DONE) or DiagTruncated: what the probe reports.
    }
    return 0;
}
