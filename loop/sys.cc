#include "loop/sys.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <utility>

namespace churn {

IoResult classify_read(long rc, int saved_errno) {
    if (rc > 0) return IoResult::ok(static_cast<size_t>(rc));
    if (rc == 0) return IoResult::eof();
    // EWOULDBLOCK equals EAGAIN on Linux, but say both so the intent survives a port.
    if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK) return IoResult::would_block();
    return IoResult::error(saved_errno);
}

IoResult classify_write(long rc, int saved_errno) {
    if (rc >= 0) return IoResult::ok(static_cast<size_t>(rc));
    if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK) return IoResult::would_block();
    return IoResult::error(saved_errno);
}

IoResult read_some(int fd, void* buf, size_t n) {
    for (;;) {
        long rc = ::read(fd, buf, n);
        int saved = errno;
        // A signal landing mid-read is not an answer from the peer: ask again.
        if (rc < 0 && saved == EINTR) continue;
        return classify_read(rc, saved);
    }
}

int read_to_end(int fd, std::string& out, size_t cap) {
    char buf[4096];
    for (;;) {
        IoResult r = read_some(fd, buf, sizeof buf);
        if (r.status == Io::Eof) return 0;
        if (r.status != Io::Ok) return r.err;  // a blocking fd never says WouldBlock; an error is final
        out.append(buf, r.bytes);
        if (out.size() > cap) return EFBIG;
    }
}

IoResult write_some(int fd, const void* buf, size_t n) {
    for (;;) {
        // send() with MSG_NOSIGNAL, not write(): a peer that reset the connection must give us EPIPE,
        // not a SIGPIPE that kills a load generator halfway through a run. Fall back to write() for
        // fds that are not sockets (pipes, TUN), where send() says ENOTSOCK.
        long rc = ::send(fd, buf, n, MSG_NOSIGNAL);
        int saved = errno;
        if (rc < 0 && saved == ENOTSOCK) {
            rc = ::write(fd, buf, n);
            saved = errno;
        }
        if (rc < 0 && saved == EINTR) continue;
        return classify_write(rc, saved);
    }
}

std::string errno_name(int err) {
    // glibc >= 2.32 knows the symbolic names; Debian 12 ships 2.36.
    if (const char* name = ::strerrorname_np(err)) return name;
    return "ERRNO_" + std::to_string(err);
}

std::string sys_message(std::string_view call, std::string_view args, int err) {
    std::string m(call);
    m += '(';
    m += args;
    m += "): ";
    m += errno_name(err);
    m += " (";
    m += ::strerror(err);
    m += ')';
    return m;
}

namespace {
// std::system_error(err, cat, msg) makes what() "msg: strerror", which would print the strerror text
// twice; keep the code() for callers that switch on errno, but let what() be exactly sys_message().
class SysError : public std::system_error {
public:
    SysError(int err, std::string msg) : std::system_error(err, std::generic_category()), msg_(std::move(msg)) {}
    const char* what() const noexcept override { return msg_.c_str(); }

private:
    std::string msg_;
};
}  // namespace

void throw_sys(std::string_view call, std::string_view args, int err) {
    throw SysError(err, sys_message(call, args, err));
}

void throw_error(int err, std::string message) { throw SysError(err, std::move(message)); }

}  // namespace churn
