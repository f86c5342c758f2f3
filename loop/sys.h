// sys.h: one result type for every syscall the project makes, and error text that names the call.
//
// Lesson from the models: capture errno *right after* the call, never later (any library call in between
// may overwrite it), and never treat EAGAIN as an error: in an edge-triggered reactor it is the normal way
// a drain loop ends. errno == 0 is never EAGAIN.
#pragma once

#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace churn {

enum class Io { Ok, WouldBlock, Eof, Error };

struct IoResult {
    Io status;
    size_t bytes;  // valid when status == Ok
    int err;       // valid when status == Error

    static IoResult ok(size_t n) { return {Io::Ok, n, 0}; }
    static IoResult would_block() { return {Io::WouldBlock, 0, 0}; }
    static IoResult eof() { return {Io::Eof, 0, 0}; }
    static IoResult error(int e) { return {Io::Error, 0, e}; }
};

// Classify a read()/recv() return value. Must be called with the errno saved right after the call.
IoResult classify_read(long rc, int saved_errno);
// Classify a write()/send() return value. A zero-byte write is not EOF; it only happens for n == 0.
IoResult classify_write(long rc, int saved_errno);

// Thin ::read/::write wrappers that return IoResult; EINTR is retried here, once, in one place.
IoResult read_some(int fd, void* buf, size_t n);
IoResult write_some(int fd, const void* buf, size_t n);

// A small file (a /proc or /proc/sys entry, a config file) read to its end into `out`, on a blocking fd.
// Returns 0, the errno of the read() that failed (EISDIR for a directory), or EFBIG once more than `cap`
// bytes came: a file that keeps growing (or is not what the caller thinks) must not grow us forever.
int read_to_end(int fd, std::string& out, size_t cap);

// "EADDRNOTAVAIL" for 99, "ERRNO_1234" for a number libc does not know. Used as JSON keys.
std::string errno_name(int err);

// "epoll_ctl(MOD, fd=12): EBADF (Bad file descriptor)"
std::string sys_message(std::string_view call, std::string_view args, int err);

// For setup paths: throw std::system_error with the message above.
[[noreturn]] void throw_sys(std::string_view call, std::string_view args, int err);
// The same with a message of the caller's own; what() is exactly `message` (std::system_error would add
// ": strerror" to it), code() is err.
[[noreturn]] void throw_error(int err, std::string message);

}  // namespace churn
