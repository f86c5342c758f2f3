// sock_diag.cc: the netlink socket, the request, and the reply parser; see sock_diag.h.
#include "probe/sock_diag.h"

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "loop/sys.h"
#include "probe/tcp_states.h"

namespace churn::probe {

// What we assume of the kernel's structs. They are ABI and have not changed since 2011
// (inet_diag_req_v2) or ever (inet_diag_msg); if a header ever disagrees, stop here, not at run time.
static_assert(sizeof(nlmsghdr) == 16);
static_assert(sizeof(inet_diag_sockid) == 48);
static_assert(sizeof(inet_diag_req_v2) == 56);
static_assert(sizeof(inet_diag_msg) == 72);
static_assert(offsetof(inet_diag_msg, id) == 4 && offsetof(inet_diag_msg, idiag_inode) == 68);
static_assert(sizeof(nlattr) == 4 && sizeof(inet_diag_bc_op) == 4);
static_assert(sizeof(nlmsgerr) == 20, "int error + the offending request's nlmsghdr");

namespace {

// 32 KiB is the most the kernel puts in one dump datagram (netlink_dump caps its skb at 32 KiB minus
// overhead, and sizes it from our largest recvmsg so far). Twice that leaves room, and MSG_TRUNC still
// catches the impossible.
constexpr size_t kRecvBuffer = 64 * 1024;

uint32_t read_u32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);  // the buffer is aligned, but memcpy keeps the compiler honest
    return v;
}

SockRecord record_from(const inet_diag_msg& m) {
    SockRecord r;
    r.family = m.idiag_family;
    r.state = static_cast<uint8_t>(reported_state(m.idiag_state));
    // Ports are big-endian on the wire (__be16), addresses stay in network order as the kernel keeps them.
    r.sport = ntohs(m.id.idiag_sport);
    r.dport = ntohs(m.id.idiag_dport);
    std::memcpy(r.src.data(), m.id.idiag_src, 16);
    std::memcpy(r.dst.data(), m.id.idiag_dst, 16);
    r.uid = m.idiag_uid;
    r.inode = m.idiag_inode;
    r.rqueue = m.idiag_rqueue;
    r.wqueue = m.idiag_wqueue;
    return r;
}

std::string family_name(uint8_t f) { return f == AF_INET6 ? "AF_INET6" : f == AF_INET ? "AF_INET" : std::to_string(f); }

}  // namespace

std::span<const uint8_t> DiagMessage::attr(int type) const {
    size_t off = 0;
    while (off + sizeof(nlattr) <= attrs.size()) {
        nlattr a;
        std::memcpy(&a, attrs.data() + off, sizeof a);
        if (a.nla_len < sizeof(nlattr) || off + a.nla_len > attrs.size()) break;  // malformed: stop, never overrun
        // The top bits of nla_type are flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER), not part of the type.
        if ((a.nla_type & NLA_TYPE_MASK) == type) return attrs.subspan(off + sizeof(nlattr), a.nla_len - sizeof(nlattr));
        off += NLA_ALIGN(a.nla_len);
    }
    return {};
}

std::vector<uint8_t> build_request(const DiagRequest& req, uint32_t seq) {
    struct {
        nlmsghdr nlh;
        inet_diag_req_v2 r;
    } head{};
    static_assert(sizeof(head) == NLMSG_LENGTH(sizeof(inet_diag_req_v2)), "no padding between header and request");
    size_t bc_attr = req.bytecode.empty() ? 0 : NLA_HDRLEN + req.bytecode.size();
    head.nlh.nlmsg_len = static_cast<uint32_t>(sizeof(head) + NLA_ALIGN(bc_attr));
    head.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    // NLM_F_DUMP: every matching socket, not one looked up by its exact 4-tuple and cookie.
    head.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    head.nlh.nlmsg_seq = seq;
    head.nlh.nlmsg_pid = 0;  // the kernel fills in our port id
    head.r.sdiag_family = req.family;
    head.r.sdiag_protocol = IPPROTO_TCP;
    head.r.idiag_ext = req.ext;
    head.r.idiag_states = req.states;
    // id stays zero: in a dump, a non-zero sport/dport here would filter too, but bytecode says it
    // explicitly (and can say ranges), so we never use these fields.

    std::vector<uint8_t> out(head.nlh.nlmsg_len, 0);
    std::memcpy(out.data(), &head, sizeof head);
    if (bc_attr) {
        nlattr a{static_cast<uint16_t>(bc_attr), INET_DIAG_REQ_BYTECODE};
        std::memcpy(out.data() + sizeof head, &a, sizeof a);
        std::memcpy(out.data() + sizeof head + NLA_HDRLEN, req.bytecode.data(), req.bytecode.size());
    }
    return out;
}

ReplyChunk parse_reply(std::span<const uint8_t> buf, uint32_t seq, const SocketCallback& on_socket) {
    ReplyChunk chunk;
    size_t off = 0;
    // Messages are 4-byte aligned (NLMSG_ALIGN); a datagram holds whole messages, never half of one.
    while (off < buf.size()) {
        if (buf.size() - off < sizeof(nlmsghdr))
            throw DiagTruncated("sock_diag reply truncated: " + std::to_string(buf.size() - off) +
                                " bytes left at offset " + std::to_string(off) + ", less than a netlink header");
        nlmsghdr h;
        std::memcpy(&h, buf.data() + off, sizeof h);
        if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > buf.size() - off)
            throw DiagTruncated("sock_diag reply truncated: message at offset " + std::to_string(off) + " says " +
                                std::to_string(h.nlmsg_len) + " bytes, " + std::to_string(buf.size() - off) + " left");
        const uint8_t* payload = buf.data() + off + NLMSG_HDRLEN;
        size_t payload_len = h.nlmsg_len - NLMSG_HDRLEN;
        off += NLMSG_ALIGN(h.nlmsg_len);

        if (h.nlmsg_seq != seq) {
            ++chunk.foreign;
            continue;
        }
        if (h.nlmsg_type == NLMSG_DONE) {
            // Since 4.x the kernel puts the dump's final status in DONE: 0, or -errno when the dump
            // itself failed part-way.
            if (payload_len >= sizeof(int)) {
                int status = static_cast<int>(read_u32(payload));
                if (status < 0) throw DiagError(-status, sys_message("sock_diag dump", "NLMSG_DONE", -status));
            }
            chunk.done = true;
            return chunk;
        }
        if (h.nlmsg_type == NLMSG_ERROR) {
            if (payload_len < sizeof(int)) throw DiagTruncated("sock_diag reply truncated: NLMSG_ERROR without its error code");
            int err = -static_cast<int>(read_u32(payload));
            // error 0 is an ACK (we never ask for one); anything else is the request refused: EINVAL for
            // bytecode the kernel's audit rejects, ENOENT when no TCP diag handler exists.
            if (err == 0) continue;
            throw DiagError(err, sys_message("sock_diag request", "SOCK_DIAG_BY_FAMILY", err));
        }
        if (h.nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;  // NLMSG_NOOP and friends: nothing for us
        if (payload_len < sizeof(inet_diag_msg))
            throw DiagTruncated("sock_diag reply truncated: socket message of " + std::to_string(payload_len) +
                                " bytes, inet_diag_msg needs " + std::to_string(sizeof(inet_diag_msg)));
        inet_diag_msg m;
        std::memcpy(&m, payload, sizeof m);
        DiagMessage msg;
        msg.rec = record_from(m);
        msg.timer = m.idiag_timer;
        msg.retrans = m.idiag_retrans;
        msg.expires_ms = m.idiag_expires;
        size_t attr_off = NLMSG_ALIGN(sizeof(inet_diag_msg));
        if (payload_len > attr_off) msg.attrs = std::span<const uint8_t>(payload + attr_off, payload_len - attr_off);
        ++chunk.sockets;
        on_socket(msg);
    }
    return chunk;
}

bool diag_unavailable(int err) {
    return err == EAFNOSUPPORT || err == EPROTONOSUPPORT || err == ENOENT || err == EOPNOTSUPP;
}

SockDiag::SockDiag() : buf_(kRecvBuffer) {
    // SOCK_DGRAM or SOCK_RAW makes no difference to netlink; CLOEXEC as for every fd we hold. No bind():
    // the first sendto() autobinds us to a port id, and the kernel answers to it.
    fd_ = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd_ < 0) {
        int err = errno;
        throw DiagError(err, sys_message("socket", "AF_NETLINK, NETLINK_SOCK_DIAG", err));
    }
}

SockDiag::~SockDiag() {
    if (fd_ >= 0) ::close(fd_);
}

size_t SockDiag::dump(const DiagRequest& req, const SocketCallback& on_socket) {
    // A new sequence number per dump: a reply left over from a dump we abandoned (an exception in the
    // callback) is recognised and skipped instead of being counted into this one.
    uint32_t seq = ++seq_;
    std::vector<uint8_t> msg = build_request(req, seq);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;  // nl_pid 0: the kernel
    for (;;) {
        ssize_t rc = ::sendto(fd_, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
        int err = errno;
        if (rc >= 0) break;
        if (err == EINTR) continue;
        throw DiagError(err, sys_message("sendto", "NETLINK_SOCK_DIAG, " + family_name(req.family), err));
    }

    size_t total = 0;
    for (;;) {
        sockaddr_nl from{};
        iovec iov{buf_.data(), buf_.size()};
        msghdr mh{};
        mh.msg_name = &from;
        mh.msg_namelen = sizeof from;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        // Blocking on purpose: the kernel builds each datagram when we ask for it (the dump continues
        // inside recvmsg), so there is never a wait on anything but the kernel's own table walk.
        ssize_t n = ::recvmsg(fd_, &mh, 0);
        int err = errno;
        if (n < 0) {
            if (err == EINTR) continue;
            // ENOBUFS would mean the kernel dropped messages for us: the count would be wrong, so fail.
            throw DiagError(err, sys_message("recvmsg", "NETLINK_SOCK_DIAG", err));
        }
        if (mh.msg_flags & MSG_TRUNC)
            throw DiagTruncated("sock_diag datagram larger than the " + std::to_string(buf_.size()) + "-byte buffer (MSG_TRUNC)");
        // Only the kernel (port id 0) answers a sock_diag request; anything else is not our reply.
        if (from.nl_pid != 0) continue;
        std::span<const uint8_t> data(buf_.data(), static_cast<size_t>(n));
        if (tap_) tap_(data);
        ReplyChunk c = parse_reply(data, seq, on_socket);
        total += c.sockets;
        if (c.done) return total;
        if (n == 0) throw DiagTruncated("sock_diag: empty datagram before NLMSG_DONE");
    }
}

}  // namespace churn::probe
