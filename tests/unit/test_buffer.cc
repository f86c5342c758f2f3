// test_buffer.cc: loop/buffer.h against real sockets (socketpair), not mocks.
#include <catch2/catch.hpp>

#include "tests/unit/fixtures.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <string_view>

#include "loop/buffer.h"

using namespace churn;

namespace {
using churn::test::Pair;
using churn::test::pattern;
using churn::test::diff_at;



// Read everything currently queued on fd (non-blocking) into a string.
std::string read_all_now(int fd) {
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}
}  // namespace

TEST_CASE("Buffer: append, consume, and slide back instead of growing", "[buffer]") {
    Buffer b(16);
    const char* base = b.peek();  // read_pos == 0: the start of the storage
    b.append("0123456789");
    CHECK(b.readable() == 10);
    CHECK(b.view() == "0123456789");

    b.consume(8);
    CHECK(b.view() == "89");
    CHECK(b.peek() == base + 8);

    // 6 bytes of tail, 8 wanted, 14 free in total: the content slides back to 0, no reallocation.
    b.append("abcdefgh");
    CHECK(b.view() == "89abcdefgh");
    CHECK(b.peek() == base);

    // Consuming everything starts over at 0 for free.
    b.consume(b.readable());
    CHECK(b.readable() == 0);
    CHECK(b.peek() == base);

    // More than the storage holds: it grows, content intact.
    std::string big = pattern(1000);
    b.append("x");
    b.append(big);
    CHECK(b.readable() == 1001);
    CHECK(diff_at(b.view(), "x" + big) == -1);
}

TEST_CASE("Buffer::fill_from stops at max with Fill::Full, then drains the rest", "[buffer]") {
    Pair p;
    std::string sent = pattern(10000);
    REQUIRE(::write(p.b, sent.data(), sent.size()) == 10000);

    Buffer b;
    Buffer::FillResult r = b.fill_from(p.a, 4096);
    CHECK(r.how == Buffer::Fill::Full);
    CHECK(r.bytes == 4096);
    CHECK(b.readable() == 4096);

    // Already at max: Full again without a syscall, 0 bytes read.
    r = b.fill_from(p.a, 4096);
    CHECK(r.how == Buffer::Fill::Full);
    CHECK(r.bytes == 0);

    r = b.fill_from(p.a, 1 << 20);
    CHECK(r.how == Buffer::Fill::Drained);
    CHECK(r.bytes == 10000 - 4096);
    CHECK(diff_at(b.view(), sent) == -1);
}

TEST_CASE("Buffer::fill_from reports Eof after the data, Error with errno", "[buffer]") {
    Pair p;
    REQUIRE(::write(p.b, "hello", 5) == 5);
    ::close(p.b);
    p.b = -1;

    Buffer b;
    Buffer::FillResult r = b.fill_from(p.a, 1 << 20);
    CHECK(r.how == Buffer::Fill::Eof);
    CHECK(r.bytes == 5);
    CHECK(b.view() == "hello");

    r = b.fill_from(-1, 100);
    CHECK(r.how == Buffer::Fill::Error);
    CHECK(r.err == EBADF);
}

TEST_CASE("Buffer::flush_to a peer that does not read: WouldBlock with bytes left", "[buffer]") {
    Pair p;
    int small = 64 * 1024;  // make "full" come early and not depend on wmem_default
    REQUIRE(::setsockopt(p.a, SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);

    const std::string sent = pattern(1 << 20);
    Buffer b;
    b.append(sent);
    IoResult r = b.flush_to(p.a);
    CHECK(r.status == Io::WouldBlock);
    size_t left = b.readable();
    CHECK(left > 0);
    CHECK(left < sent.size());  // something went out before the socket filled

    // What the peer can read now is exactly what left the buffer, in order.
    std::string got = read_all_now(p.b);
    CHECK(got.size() == sent.size() - left);
    CHECK(diff_at(got, sent.substr(0, got.size())) == -1);

    // Keep flushing while the peer reads: everything arrives, the buffer ends empty with Ok.
    for (int round = 0; round < 1000 && b.readable() > 0; ++round) {
        r = b.flush_to(p.a);
        got += read_all_now(p.b);
    }
    CHECK(r.status == Io::Ok);
    CHECK(b.readable() == 0);
    got += read_all_now(p.b);
    CHECK(got.size() == sent.size());
    CHECK(diff_at(got, sent) == -1);
}

TEST_CASE("Buffer::flush_to a closed peer is Error(EPIPE), not SIGPIPE", "[buffer]") {
    Pair p;
    ::close(p.b);
    p.b = -1;
    Buffer b;
    b.append("lost");
    IoResult r = b.flush_to(p.a);
    CHECK(r.status == Io::Error);
    CHECK(r.err == EPIPE);
    CHECK(b.readable() == 4);
}
