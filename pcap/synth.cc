// synth.cc: frames and conversations built byte by byte (see synth.h). The mirror image of packet.cc.
#include "pcap/synth.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace churn::pcap {

namespace {

void put16(std::vector<uint8_t>& v, uint16_t x) { v.push_back(x >> 8), v.push_back(x & 0xff); }
void put32(std::vector<uint8_t>& v, uint32_t x) { put16(v, x >> 16), put16(v, x & 0xffff); }
void le32(std::vector<uint8_t>& v, uint32_t x) {
    for (int i = 0; i < 4; ++i) v.push_back((x >> (8 * i)) & 0xff);
}
void le16(std::vector<uint8_t>& v, uint16_t x) { v.push_back(x & 0xff), v.push_back(x >> 8); }

// The Internet checksum (RFC 1071) over `sum` plus the bytes: one's complement of the one's complement sum.
uint16_t csum(const uint8_t* p, size_t n, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
    if (n & 1) sum += static_cast<uint32_t>(p[n - 1] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

std::vector<uint8_t> tcp_segment(const SegmentSpec& s, const uint8_t* src, const uint8_t* dst, size_t alen) {
    std::vector<uint8_t> opts;
    if (s.opt.mss >= 0) opts.insert(opts.end(), {2, 4}), put16(opts, static_cast<uint16_t>(s.opt.mss));
    if (s.opt.sack_ok) opts.insert(opts.end(), {4, 2});
    if (s.opt.timestamps || s.timestamps_option) {
        if (!s.opt.sack_ok) opts.insert(opts.end(), {1, 1});  // keep TS 4-byte aligned, as Linux does
        opts.insert(opts.end(), {8, 10}), put32(opts, s.opt.tsval), put32(opts, s.opt.tsecr);
    }
    if (s.opt.wscale >= 0) opts.insert(opts.end(), {1, 3, 3, static_cast<uint8_t>(s.opt.wscale)});
    while (opts.size() % 4) opts.push_back(0);  // EOL padding
    std::vector<uint8_t> t;
    put16(t, s.sport), put16(t, s.dport), put32(t, s.seq), put32(t, s.ack);
    t.push_back(static_cast<uint8_t>((20 + opts.size()) / 4 << 4));
    t.push_back(s.flags);
    put16(t, 64240), put16(t, 0), put16(t, 0);  // window, checksum (below), urgent pointer
    t.insert(t.end(), opts.begin(), opts.end());
    static const char http[] = "GET / HTTP/1.1\r\nHost: 198.18.0.2:8080\r\n\r\n";
    for (uint32_t i = 0; i < s.payload; ++i) t.push_back(i < sizeof http - 1 ? http[i] : 'x');
    // Pseudo-header: addresses, protocol, TCP length (RFC 9293 3.1; RFC 8200 8.1 for IPv6).
    std::vector<uint8_t> ph(src, src + alen);
    ph.insert(ph.end(), dst, dst + alen);
    if (alen == 16) put32(ph, static_cast<uint32_t>(t.size())), put32(ph, 6);
    else ph.push_back(0), ph.push_back(6), put16(ph, static_cast<uint16_t>(t.size()));
    ph.insert(ph.end(), t.begin(), t.end());
    uint16_t c = csum(ph.data(), ph.size());
    t[16] = c >> 8, t[17] = c & 0xff;
    return t;
}

std::vector<uint8_t> ip_packet(const SegmentSpec& s) {
    std::vector<uint8_t> ip;
    if (!s.v6) {
        uint8_t src[4], dst[4];
        ::inet_pton(AF_INET, s.src.c_str(), src);
        ::inet_pton(AF_INET, s.dst.c_str(), dst);
        std::vector<uint8_t> tcp = tcp_segment(s, src, dst, 4);
        int optlen = std::min(40, s.ip_option_bytes / 4 * 4);
        ip.push_back(static_cast<uint8_t>(0x40 | (5 + optlen / 4)));
        ip.push_back(0);
        put16(ip, static_cast<uint16_t>(20 + optlen + tcp.size()));
        put16(ip, 0x1234), put16(ip, 0x4000);  // id, DF
        ip.push_back(64), ip.push_back(6), put16(ip, 0);
        ip.insert(ip.end(), src, src + 4), ip.insert(ip.end(), dst, dst + 4);
        if (optlen) {
            ip.insert(ip.end(), {0x94, 0x04, 0x00, 0x00});  // router alert (RFC 2113)
            for (int i = 4; i < optlen; ++i) ip.push_back(1);  // NOP
        }
        uint16_t c = csum(ip.data(), ip.size());
        ip[10] = c >> 8, ip[11] = c & 0xff;
        ip.insert(ip.end(), tcp.begin(), tcp.end());
    } else {
        uint8_t src[16], dst[16];
        ::inet_pton(AF_INET6, s.src.c_str(), src);
        ::inet_pton(AF_INET6, s.dst.c_str(), dst);
        std::vector<uint8_t> tcp = tcp_segment(s, src, dst, 16);
        std::vector<uint8_t> ext;
        if (s.ipv6_ext) {
            // Hop-by-hop (next: destination options), PadN filling its 8 bytes; then destination options
            // (next: TCP), 16 bytes (length field 1) to exercise the length arithmetic.
            ext.insert(ext.end(), {60, 0, 1, 4, 0, 0, 0, 0});
            ext.insert(ext.end(), {6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        }
        put32(ip, 0x60000000);
        put16(ip, static_cast<uint16_t>(ext.size() + tcp.size()));
        ip.push_back(s.ipv6_ext ? 0 : 6), ip.push_back(64);
        ip.insert(ip.end(), src, src + 16), ip.insert(ip.end(), dst, dst + 16);
        ip.insert(ip.end(), ext.begin(), ext.end());
        ip.insert(ip.end(), tcp.begin(), tcp.end());
    }
    return ip;
}

}  // namespace

std::vector<uint8_t> build_frame(uint32_t linktype, const SegmentSpec& s) {
    std::vector<uint8_t> f;
    uint16_t type = s.v6 ? 0x86dd : 0x0800;
    static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 0x01}, mac_s[6] = {0x02, 0, 0, 0, 0, 0x02};
    const uint8_t* own = s.outgoing ? mac_c : mac_s;
    switch (linktype) {
        case linktype_ethernet:
            f.insert(f.end(), s.outgoing ? mac_s : mac_c, (s.outgoing ? mac_s : mac_c) + 6);
            f.insert(f.end(), own, own + 6);
            if (s.vlan) put16(f, 0x8100), put16(f, 42);
            put16(f, type);
            break;
        case linktype_linux_sll:
            put16(f, s.outgoing ? 4 : 0), put16(f, 1), put16(f, 6);  // pkttype, ARPHRD_ETHER, addr len
            f.insert(f.end(), own, own + 6), put16(f, 0);
            put16(f, type);
            break;
        case linktype_linux_sll2:
            put16(f, type), put16(f, 0), put32(f, 2), put16(f, 1);  // protocol, reserved, ifindex, ARPHRD_ETHER
            f.push_back(s.outgoing ? 4 : 0), f.push_back(6);
            f.insert(f.end(), own, own + 6), put16(f, 0);
            break;
        default: break;  // RAW, IPV4, IPV6: the IP packet is the frame
    }
    std::vector<uint8_t> ip = ip_packet(s);
    f.insert(f.end(), ip.begin(), ip.end());
    // Ethernet's minimum frame is 60 bytes before the FCS: a bare ACK (54) gets 6 bytes of padding that are
    // not TCP payload. Keep it: the decoder must take lengths from IP, not from the frame.
    if (linktype == linktype_ethernet && f.size() < 60) f.resize(60, 0);
    return f;
}

void PcapWriter::add(int64_t ts_ns, std::vector<uint8_t> frame, uint32_t wire_len) {
    recs_.push_back({ts_ns, wire_len ? wire_len : static_cast<uint32_t>(frame.size()), std::move(frame)});
}

std::vector<uint8_t> PcapWriter::bytes() const {
    std::vector<const Rec*> order;
    order.reserve(recs_.size());
    for (const Rec& r : recs_) order.push_back(&r);
    std::stable_sort(order.begin(), order.end(), [](const Rec* a, const Rec* b) { return a->ts_ns < b->ts_ns; });
    std::vector<uint8_t> out;
    // Little-endian, as libpcap writes on x86: the reader's byte-order detection is tested separately.
    le32(out, nano_ ? 0xa1b23c4d : 0xa1b2c3d4);
    le16(out, 2), le16(out, 4), le32(out, 0), le32(out, 0), le32(out, snaplen_), le32(out, linktype_);
    for (const Rec* r : order) {
        uint32_t cap = std::min<uint32_t>(static_cast<uint32_t>(r->frame.size()), snaplen_);
        le32(out, static_cast<uint32_t>(r->ts_ns / 1'000'000'000));
        uint32_t frac = static_cast<uint32_t>(r->ts_ns % 1'000'000'000);
        le32(out, nano_ ? frac : frac / 1000);
        le32(out, cap), le32(out, r->wire_len);
        out.insert(out.end(), r->frame.begin(), r->frame.begin() + cap);
    }
    return out;
}

bool PcapWriter::write(const std::string& path) const {
    std::vector<uint8_t> b = bytes();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return false;
    bool ok = std::fwrite(b.data(), 1, b.size(), f) == b.size();
    return std::fclose(f) == 0 && ok;
}

int64_t synth_flow(PcapWriter& w, const SynthFlow& f) {
    SegmentSpec c, s;  // client -> server, server -> client
    c.v6 = s.v6 = f.v6;
    c.src = s.dst = f.client;
    c.dst = s.src = f.server;
    c.sport = s.dport = f.cport;
    c.dport = s.sport = f.sport;
    c.ip_option_bytes = s.ip_option_bytes = f.ip_option_bytes;
    c.ipv6_ext = s.ipv6_ext = f.ipv6_ext;
    c.vlan = s.vlan = f.vlan;
    c.outgoing = true;
    s.outgoing = false;
    // Arbitrary ISNs, but different for the same port at another time: a new connection on a reused port
    // must not look like a retransmitted SYN.
    uint32_t mix = static_cast<uint32_t>(f.start_ns / 1000) * 2654435761u;
    uint32_t cseq = mix + f.cport * 7919u, sseq = ~mix + f.cport * 104729u;
    int64_t t = f.start_ns, half = f.rtt_ns / 2;
    auto send = [&](SegmentSpec& sp, int64_t at, uint8_t flags, uint32_t& seq, uint32_t ack, uint32_t len,
                    const TcpOptions* o) {
        sp.flags = flags, sp.seq = seq, sp.ack = ack, sp.payload = len;
        sp.opt = o ? *o : TcpOptions{};
        w.add(at, build_frame(w.linktype(), sp));
        seq += len + ((flags & (tcp_syn | tcp_fin)) ? 1 : 0);
    };
    if (f.handshake) {
        for (int i = 0; i <= f.syn_retransmits; ++i) {
            uint32_t isn = cseq;
            send(c, t, tcp_syn, isn, 0, 0, &f.copt);
            if (i < f.syn_retransmits) t += (1'000'000'000ll << i);
        }
        ++cseq;
        if (!f.synack) return t;
        t += f.rtt_ns;
        send(s, t, tcp_syn | tcp_ack, sseq, cseq, 0, &f.sopt);
        t += f.ack_delay_ns;
        send(c, t, tcp_ack, cseq, sseq, 0, nullptr);
    }
    for (int r = 0; r < f.requests; ++r) {
        t += 5'000;
        send(c, t, tcp_psh | tcp_ack, cseq, sseq, f.request_len, nullptr);
        send(s, t + half, tcp_ack, sseq, cseq, 0, nullptr);
        t += f.rtt_ns + f.server_time_ns;
        send(s, t, tcp_psh | tcp_ack, sseq, cseq, f.response_len, nullptr);
        send(c, t + 2'000, tcp_ack, cseq, sseq, 0, nullptr);
        t += 2'000;
    }
    switch (f.close) {
        case SynthFlow::Close::client:
            t += 10'000;
            send(c, t, tcp_fin | tcp_ack, cseq, sseq, 0, nullptr);
            t += f.rtt_ns;
            send(s, t, tcp_fin | tcp_ack, sseq, cseq, 0, nullptr);
            t += 1'000;
            send(c, t, tcp_ack, cseq, sseq, 0, nullptr);
            break;
        case SynthFlow::Close::server:
            t += half;
            send(s, t, tcp_fin | tcp_ack, sseq, cseq, 0, nullptr);
            t += 10'000;
            send(c, t, tcp_fin | tcp_ack, cseq, sseq, 0, nullptr);
            t += f.rtt_ns;
            send(s, t, tcp_ack, sseq, cseq, 0, nullptr);
            break;
        case SynthFlow::Close::client_rst:
            t += 10'000;
            send(c, t, tcp_rst | tcp_ack, cseq, sseq, 0, nullptr);
            break;
        case SynthFlow::Close::none: break;
    }
    return t;
}

void synth_churn(PcapWriter& w, uint32_t connections, double rate, const SynthFlow& shape) {
    SynthFlow f = shape;
    int64_t start = f.start_ns;
    for (uint32_t i = 0; i < connections; ++i) {
        f.cport = static_cast<uint16_t>(32768 + i % 28232);  // the default ephemeral range, in order
        f.start_ns = start + static_cast<int64_t>(i * 1e9 / rate);
        synth_flow(w, f);
    }
}

}  // namespace churn::pcap
