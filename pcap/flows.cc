// flows.cc: the flow table and the per-segment bookkeeping (see flows.h).
#include "pcap/flows.h"

#include <arpa/inet.h>

#include <cstring>

namespace churn::pcap {

namespace {

// Sequence numbers wrap at 2^32: "a is after b" is the sign of the 32-bit difference (RFC 9293 3.4).
bool seq_after(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }

}  // namespace

bool FlowKey::operator==(const FlowKey& o) const { return std::memcmp(this, &o, sizeof *this) == 0; }

size_t FlowKeyHash::operator()(const FlowKey& k) const {
    // Five 64-bit words, each folded in with a multiply (the murmur3 finalizer's constants), then a final
    // avalanche. std::hash of a string of these 40 bytes would do, but costs a copy; and the usual
    // "xor the fields" hash collides whenever two flows differ only in swapped halves, which is exactly
    // what a table of both-direction keys is full of.
    uint64_t w[5];
    std::memcpy(w, &k, sizeof w);
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (uint64_t x : w) {
        h ^= x;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
    }
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return static_cast<size_t>(h);
}

void FlowTable::reserve(size_t flows) {
    by_tuple_.reserve(flows);
    flows_.reserve(flows);
}

uint32_t FlowTable::new_flow(const FlowKey& key, const Segment& seg, bool src_is_end0, int64_t ts_ns) {
    Flow f;
    f.key = key;
    f.index = static_cast<uint32_t>(flows_.size());
    f.first_ns = f.last_ns = ts_ns;
    f.stall.threshold_ns = stall_threshold_ns_;
    uint8_t src_end = src_is_end0 ? 0 : 1;
    if ((seg.flags & (tcp_syn | tcp_ack)) == tcp_syn) {
        f.client_end = src_end;  // the SYN's sender opened the connection
    } else if ((seg.flags & (tcp_syn | tcp_ack)) == (tcp_syn | tcp_ack)) {
        f.client_end = 1 - src_end;  // the SYN-ACK answers the client
    } else {
        // Opened before the capture began (a pooled connection): no handshake says who the client is.
        // A listening port is chosen by a person and is low (80, 8080); the client's is drawn from the
        // ephemeral range (32768-60999 by default), so the higher port is the client's.
        uint16_t src_port = seg.sport, dst_port = seg.dport;
        f.client_end = src_port >= dst_port ? src_end : 1 - src_end;
        f.client_guessed = true;
    }
    flows_.push_back(f);
    return f.index;
}

Event FlowTable::observe(const Segment& seg, int64_t ts_ns) {
    FlowKey key;
    std::memset(&key, 0, sizeof key);
    // Canonical order: the endpoint with the smaller (address, port) is end 0, whichever way this segment
    // travels, so both directions of a connection share one key.
    int c = std::memcmp(seg.src, seg.dst, 16);
    bool src_first = c < 0 || (c == 0 && seg.sport <= seg.dport);
    std::memcpy(key.addr[0], src_first ? seg.src : seg.dst, 16);
    std::memcpy(key.addr[1], src_first ? seg.dst : seg.src, 16);
    key.port[0] = src_first ? seg.sport : seg.dport;
    key.port[1] = src_first ? seg.dport : seg.sport;
    key.v6 = seg.v6;
    uint8_t src_end = src_first ? 0 : 1;

    bool bare_syn = (seg.flags & (tcp_syn | tcp_ack)) == tcp_syn;
    uint32_t idx;
    auto it = by_tuple_.find(key);
    if (it == by_tuple_.end()) {
        idx = new_flow(key, seg, src_first, ts_ns);
        by_tuple_.emplace(key, idx);
    } else {
        idx = it->second;
        const Flow& old = flows_[idx];
        // A SYN on a known 4-tuple is either the same SYN again (same sender, same ISN: the first one or
        // its SYN-ACK was lost, RTO 1 s) or a new connection reusing the ports. Wireshark splits on the
        // ISN the same way, which keeps our flow numbers equal to its tcp.stream numbers.
        if (bare_syn && !(old.syns && src_end == old.client_end && seg.seq == old.isn[client])) {
            idx = new_flow(key, seg, src_first, ts_ns);
            it->second = idx;
        }
    }

    Flow& f = flows_[idx];
    Side side = src_end == f.client_end ? client : server;
    Event ev;
    ev.flow = idx;
    ev.side = side;
    ++f.packets;
    f.last_ns = ts_ns;

    // ---- handshake ----
    if (bare_syn) {
        if (f.syns == 0) {
            f.syn_ns = ts_ns;
            f.isn[client] = seg.seq;
            f.next_seq[client] = seg.seq + 1;  // a SYN occupies one sequence number
            f.seq_known[client] = true;
            f.opt[client] = seg.opt;
            f.opt_seen[client] = true;
            ev.syn = true;
        } else {
            ev.syn_again = true;
        }
        ++f.syns;
        f.mru_syn_ns = ts_ns;
    } else if (seg.flags & tcp_syn) {  // SYN-ACK
        if (f.synacks == 0) {
            f.synack_ns = ts_ns;
            f.isn[server] = seg.seq;
            f.next_seq[server] = seg.seq + 1;
            f.seq_known[server] = true;
            f.opt[server] = seg.opt;
            f.opt_seen[server] = true;
            ev.synack = true;
        } else {
            ev.synack_again = true;
        }
        ++f.synacks;
    }
    // Wireshark's tcp.analysis.initial_rtt: from the most recent SYN to the first segment with ACK and
    // without SYN, in either direction. Normally that is the client's third packet of the handshake.
    if ((seg.flags & (tcp_syn | tcp_ack)) == tcp_ack && f.mru_syn_ns >= 0 && f.irtt_ns < 0) {
        f.ack_ns = ts_ns;
        f.irtt_ns = ts_ns - f.mru_syn_ns;
        ev.completes_handshake = f.synacks > 0;
    }

    cookie_observe(f, side, seg, ts_ns);

    // ---- requests and responses ----
    // Heuristic, for request/response protocols such as HTTP/1.1 without pipelining: a request starts when
    // the client sends new bytes and either it is the first data on the connection or the server has sent
    // data since the previous request began; everything else the client sends continues that request.
    // Symmetrically a response starts with the server's first new bytes after a request began. Only new
    // bytes count (their end is past the highest sequence seen), so a retransmitted request is not a second
    // request. Pipelined requests (several sent before the first answer) count as one.
    bool fresh = false;
    if (seg.payload > 0) {
        uint32_t end = seg.seq + seg.payload;
        fresh = !f.seq_known[side] || seq_after(end, f.next_seq[side]);
        if (fresh) {
            f.seq_known[side] = true;
            f.next_seq[side] = end;
            f.bytes[side] += seg.payload;
            if (side == client) {
                if (f.requests == 0 || f.server_spoke) {
                    ++f.requests;
                    f.server_spoke = false;
                    ev.data = Data::request;
                    if (f.request_ns < 0) f.request_ns = ts_ns;
                } else {
                    ev.data = Data::request_more;
                }
                ev.n = f.requests;
            } else {
                if (!f.server_spoke) {
                    ++f.responses;
                    f.server_spoke = true;
                    ev.data = Data::response;
                    if (f.response_ns < 0) f.response_ns = ts_ns;
                } else {
                    ev.data = Data::response_more;
                }
                ev.n = f.responses;
            }
        } else {
            ev.data = Data::retransmission;
        }
    }
    stall_observe(f, side, seg, fresh, ts_ns);

    // ---- close ----
    // Whoever sends the first FIN is the active closer and ends in TIME-WAIT (RFC 9293 3.6); a RST ends the
    // connection at once, with no TIME-WAIT on either side.
    if (seg.flags & tcp_rst) {
        ev.rst = true;
        if (f.closed_by < 0) {
            f.closed_by = static_cast<int8_t>(side);
            f.reset = true;
            f.close_ns = ts_ns;
        }
    }
    if (seg.flags & tcp_fin) {
        if (f.fin[side]) {
            ev.fin_again = true;
        } else {
            f.fin[side] = true;
            if (f.closed_by < 0) {
                f.closed_by = static_cast<int8_t>(side);
                f.close_ns = ts_ns;
                ev.fin_first = true;
            } else {
                ev.fin_second = true;
            }
        }
    } else if (f.closed_by == static_cast<int8_t>(side) && !f.reset && f.fin[1 - side] && !f.last_ack_seen &&
               (seg.flags & (tcp_syn | tcp_rst | tcp_ack)) == tcp_ack && seg.payload == 0) {
        // The active closer acknowledges the passive closer's FIN: from here it sits in TIME-WAIT.
        f.last_ack_seen = true;
        ev.last_ack = true;
    }
    return ev;
}

std::string endpoint_str(const FlowKey& k, int end) {
    char a[INET6_ADDRSTRLEN];
    ::inet_ntop(k.v6 ? AF_INET6 : AF_INET, k.addr[end], a, sizeof a);
    return k.v6 ? "[" + std::string(a) + "]:" + std::to_string(k.port[end]) : std::string(a) + ":" + std::to_string(k.port[end]);
}

}  // namespace churn::pcap
