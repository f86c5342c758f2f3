// proc_tcp.cc: parse /proc/net/tcp{,6}; see proc_tcp.h.
#include "probe/proc_tcp.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "loop/sys.h"
#include "probe/tcp_states.h"

namespace churn::probe {
namespace {

// Whitespace-separated fields of one line, without allocating.
size_t split_fields(std::string_view line, std::string_view* out, size_t max) {
    size_t n = 0, i = 0;
    while (i < line.size() && n < max) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        if (i == line.size()) break;
        size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        out[n++] = line.substr(start, i - start);
    }
    return n;
}

template <typename T>
bool parse_hex(std::string_view s, T& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

template <typename T>
bool parse_dec(std::string_view s, T& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 10);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

// "0100007F:1F90" (tcp) or 32 hex digits + ":PORT" (tcp6). Each 8-digit group is one __be32 printed as
// a host-order integer, so storing the parsed integer back into memory restores the network-order bytes
// on any host (this is what the kernel printed: the in-memory word).
bool parse_endpoint(std::string_view s, int family, std::array<uint8_t, 16>& addr, uint16_t& port) {
    size_t colon = s.find(':');
    size_t words = family == AF_INET6 ? 4 : 1;
    if (colon != words * 8 || s.size() - colon - 1 != 4) return false;
    addr.fill(0);
    for (size_t w = 0; w < words; ++w) {
        uint32_t v = 0;
        if (!parse_hex(s.substr(w * 8, 8), v)) return false;
        std::memcpy(addr.data() + 4 * w, &v, 4);
    }
    return parse_hex(s.substr(colon + 1), port);
}

}  // namespace

bool parse_proc_tcp_line(std::string_view line, int family, SockRecord& r) {
    // sl: local rem st tx:rx tr:when retrnsmt uid timeout inode [more for full sockets]
    std::string_view f[10];
    if (split_fields(line, f, 10) < 10) return false;
    if (f[0].empty() || f[0].back() != ':') return false;
    unsigned sl = 0;
    if (!parse_dec(f[0].substr(0, f[0].size() - 1), sl)) return false;
    r = SockRecord{};
    r.family = static_cast<uint8_t>(family);
    if (!parse_endpoint(f[1], family, r.src, r.sport) || !parse_endpoint(f[2], family, r.dst, r.dport)) return false;
    unsigned st = 0;
    if (!parse_hex(f[3], st) || st < kEstablished || st > kMaxState) return false;
    r.state = static_cast<uint8_t>(reported_state(static_cast<int>(st)));
    size_t colon = f[4].find(':');
    if (colon == std::string_view::npos || !parse_hex(f[4].substr(0, colon), r.wqueue) ||
        !parse_hex(f[4].substr(colon + 1), r.rqueue))
        return false;
    // TIME-WAIT lines print uid and inode as 0 with %5d/%8d; full sockets with %5u and %lu.
    if (!parse_dec(f[7], r.uid) || !parse_dec(f[9], r.inode)) return false;
    return true;
}

ProcTcpStats parse_proc_tcp(std::string_view text, int family, const std::function<void(const SockRecord&)>& on_socket) {
    ProcTcpStats st;
    size_t lineno = 0, pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        size_t first = line.find_first_not_of(" \t\r");
        if (first == std::string_view::npos) continue;
        if (lineno == 1 && line.substr(first, 3) == "sl ") continue;  // the header
        SockRecord r;
        if (parse_proc_tcp_line(line, family, r)) {
            ++st.sockets;
            on_socket(r);
        } else if (st.malformed++ == 0) {
            st.first_malformed = lineno;
        }
    }
    return st;
}

std::string read_proc_fd(int fd, const std::string& what) {
    // lseek back to 0 regenerates the file: seq_file starts its walk again. One read() returns at most a
    // page or so of lines for these files, so loop until read() says 0.
    if (::lseek(fd, 0, SEEK_SET) < 0) {
        int err = errno;
        throw ProbeError(sys_message("lseek", what, err));
    }
    std::string out;
    char buf[64 * 1024];
    for (;;) {
        IoResult r = read_some(fd, buf, sizeof buf);
        if (r.status == Io::Eof) return out;
        if (r.status == Io::Error) throw ProbeError(sys_message("read", what, r.err));
        if (r.status == Io::WouldBlock) return out;  // not for /proc files; be safe anyway
        out.append(buf, r.bytes);
    }
}

}  // namespace churn::probe
