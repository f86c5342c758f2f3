// test_sys.cc: the one result type (loop/sys.h) and the names in error text.
//
// The rules under test: EAGAIN ends a drain and is never an error; errno == 0 is never EAGAIN; an error
// message names the call, its key argument and the errno *name*.
#include <catch2/catch.hpp>

#include <sys/epoll.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "loop/epoll.h"
#include "loop/sys.h"

using namespace churn;

TEST_CASE("classify_read maps rc and errno to Ok/Eof/WouldBlock/Error", "[sys]") {
    IoResult r = classify_read(17, 0);
    CHECK(r.status == Io::Ok);
    CHECK(r.bytes == 17);

    CHECK(classify_read(0, 0).status == Io::Eof);
    CHECK(classify_read(0, EAGAIN).status == Io::Eof);  // rc decides, a stale errno does not

    CHECK(classify_read(-1, EAGAIN).status == Io::WouldBlock);
    CHECK(classify_read(-1, EWOULDBLOCK).status == Io::WouldBlock);

    r = classify_read(-1, ECONNRESET);
    CHECK(r.status == Io::Error);
    CHECK(r.err == ECONNRESET);

    // rc -1 with errno 0 means someone lost errno; it must not pass for "drained".
    r = classify_read(-1, 0);
    CHECK(r.status == Io::Error);
    CHECK(r.err == 0);
}

TEST_CASE("classify_write: 0 bytes is Ok(0), not EOF", "[sys]") {
    IoResult r = classify_write(4096, 0);
    CHECK(r.status == Io::Ok);
    CHECK(r.bytes == 4096);

    r = classify_write(0, 0);
    CHECK(r.status == Io::Ok);
    CHECK(r.bytes == 0);

    CHECK(classify_write(-1, EAGAIN).status == Io::WouldBlock);
    r = classify_write(-1, EPIPE);
    CHECK(r.status == Io::Error);
    CHECK(r.err == EPIPE);
    r = classify_write(-1, ECONNRESET);
    CHECK(r.status == Io::Error);
    CHECK(r.err == ECONNRESET);
    CHECK(classify_write(-1, 0).status == Io::Error);
}

TEST_CASE("errno_name gives symbolic names, ERRNO_<n> for unknown numbers", "[sys]") {
    CHECK(errno_name(EADDRNOTAVAIL) == "EADDRNOTAVAIL");
    CHECK(errno_name(EMFILE) == "EMFILE");
    CHECK(errno_name(ECONNREFUSED) == "ECONNREFUSED");
    CHECK(errno_name(EAGAIN) == "EAGAIN");
    CHECK(errno_name(4321) == "ERRNO_4321");
    CHECK(errno_name(-5) == "ERRNO_-5");
}

TEST_CASE("sys_message format: call(args): NAME (strerror)", "[sys]") {
    CHECK(sys_message("epoll_ctl", "MOD, fd=12", EBADF) == "epoll_ctl(MOD, fd=12): EBADF (Bad file descriptor)");
    CHECK(sys_message("connect", "198.18.0.2:8080", EADDRNOTAVAIL) ==
          "connect(198.18.0.2:8080): EADDRNOTAVAIL (Cannot assign requested address)");
}

TEST_CASE("throw_sys throws std::system_error carrying the errno and the message", "[sys]") {
    try {
        throw_sys("bind", "127.0.0.1:80", EADDRINUSE);
        FAIL("throw_sys returned");
    } catch (const std::system_error& e) {
        CHECK(e.code().value() == EADDRINUSE);
        CHECK(std::string(e.what()) == "bind(127.0.0.1:80): EADDRINUSE (Address already in use)");
    }
}

TEST_CASE("epoll_ctl on a bad fd throws, naming the call, the op and the fd", "[sys][epoll]") {
    Epoll ep;
    try {
        ep.modify(-1, EPOLLIN, 0);
        FAIL("Epoll::modify(-1) did not throw");
    } catch (const std::system_error& e) {
        CHECK(e.code().value() == EBADF);
        CHECK(std::string(e.what()) == "epoll_ctl(MOD, fd=-1): EBADF (Bad file descriptor)");
    }
    try {
        ep.remove(-1);
        FAIL("Epoll::remove(-1) did not throw");
    } catch (const std::system_error& e) {
        CHECK(std::string(e.what()) == "epoll_ctl(DEL, fd=-1): EBADF (Bad file descriptor)");
    }
}

TEST_CASE("epoll_events_str names the bits", "[sys][epoll]") {
    CHECK(epoll_events_str(EPOLLIN | EPOLLRDHUP) == "EPOLLIN|EPOLLRDHUP");
    CHECK(epoll_events_str(EPOLLOUT) == "EPOLLOUT");
    CHECK(epoll_events_str(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP) == "EPOLLIN|EPOLLOUT|EPOLLERR|EPOLLHUP");
    CHECK(epoll_events_str(0) == "0");
    // A bit we have no name for is printed in hex after the named ones, not dropped.
    CHECK(epoll_events_str(EPOLLIN | 0x00100000u) == "EPOLLIN|0x100000");
}
