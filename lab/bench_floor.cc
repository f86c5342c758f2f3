// bench_floor.cc: the least a keep-alive HTTP client, or server, can do per request: `make bench`'s yardstick.
//
// Client (the default): it keeps C connections open and, for each answer, makes exactly the syscalls the
// protocol needs:
// one read() of the answer and one write() of the next request, plus an epoll_wait() shared by however
// many connections are ready. No parsing, no timestamps, no histogram, no timeouts: it is not a load
// generator (a partial answer or a slow server would fool it; it stops with an error instead), only
// the measure of what the kernel alone costs per request on this machine. churn-client's CPU per
// request minus this one is what churn-client itself adds; wrk's minus this one is what wrk adds.
//
// Server (--serve): accepts keep-alive connections and answers every read with one fixed answer of
// --size body bytes: one read() and one write() per request, no parsing, no timeouts. It trusts each
// read to hold exactly one whole request (wrk's, one small write each) and stops with an error when a
// read does not end a request, rather than answer what it did not get.
//
// Usage: bench-floor [-c 50] [-d 5] --json FILE ADDR:PORT             (client: a GET / per request)
//        bench-floor --serve [--size 64] [-d 5] --json FILE ADDR:PORT (server)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "loop/cli.h"
#include "loop/clock.h"

namespace {

// SIGTERM ends the server floor's loop (make bench stops it so), and the JSON is still written.
volatile std::sig_atomic_t stop_requested = 0;
void on_term(int) { stop_requested = 1; }

int fail(const std::string& what) {
    std::fprintf(stderr, "bench-floor: %s\n", what.c_str());
    return 1;
}

// A syscall that returned -1: the name and errno, as the run's one-line error.
int fail_sys(const std::string& call) { return fail(call + ": " + std::strerror(errno)); }

// The result both ends write: make bench reads requests_ok and the epoll counts (json:rps:requests_ok).
int write_json(const std::string& path, uint64_t requests, uint64_t t0, uint64_t now, uint64_t waits, uint64_t ctls) {
    double elapsed = static_cast<double>(now - t0) / 1e9;
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) return fail("--json " + path + ": " + std::strerror(errno));
    std::fprintf(f, "{\"requests_ok\": %llu, \"elapsed_s\": %.6f, \"rps\": %.1f, \"epoll_waits\": %llu, \"epoll_ctls\": %llu}\n",
                 static_cast<unsigned long long>(requests), elapsed, static_cast<double>(requests) / elapsed,
                 static_cast<unsigned long long>(waits), static_cast<unsigned long long>(ctls));
    return std::fclose(f) == 0 ? 0 : fail("--json " + path + ": " + std::strerror(errno));
}

// The server floor: listen, accept, and per readable connection one read() and one write().
int serve(const sockaddr_in& sa, const std::string& target, size_t size, double duration_s, const std::string& json_path) {
    std::string body(size, 'x');
    const std::string answer = "HTTP/1.1 200 OK\r\nServer: bench-floor\r\nContent-Type: text/plain\r\nContent-Length: " +
                               std::to_string(size) + "\r\n\r\n" + body;
    int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) return fail(std::string("socket: ") + std::strerror(errno));
    int one = 1;
    // SO_REUSEADDR: make bench starts a server on this port right after the last one's TIME-WAITs.
    if (::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) return fail_sys("setsockopt(SO_REUSEADDR)");
    // Accepted sockets inherit TCP_NODELAY from the listener on Linux: no setsockopt per connection.
    if (::setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) return fail_sys("setsockopt(TCP_NODELAY)");
    if (::bind(lfd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0 || ::listen(lfd, 1024) < 0)
        return fail("bind/listen(" + target + "): " + std::strerror(errno));
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return fail(std::string("epoll_create1: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.fd = lfd;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) return fail_sys("epoll_ctl(ADD, listener)");
    // No SA_RESTART: the signal must interrupt epoll_wait (EINTR) so the loop sees the flag at once.
    struct sigaction sact {};
    sact.sa_handler = on_term;
    ::sigaction(SIGTERM, &sact, nullptr);
    std::printf("listening on %s\n", target.c_str());
    std::fflush(stdout);

    uint64_t requests = 0, waits = 0, ctls = 1;
    char buf[65536];
    epoll_event events[256];
    const uint64_t t0 = churn::mono_ns(), end = t0 + static_cast<uint64_t>(duration_s * 1e9);
    uint64_t now = t0;
    while (now < end && !stop_requested) {
        int n = ::epoll_wait(ep, events, 256, 1000);
        ++waits;
        if (n < 0 && errno != EINTR) return fail(std::string("epoll_wait: ") + std::strerror(errno));
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                // Edge-triggered: accept until EAGAIN, or a connection that came with this edge is lost.
                for (;;) {
                    int c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) {
                        if (errno == EAGAIN) break;                            // the queue is empty
                        if (errno == ECONNABORTED || errno == EINTR) continue;  // that one is gone; the next
                        return fail_sys("accept4");                            // EMFILE and worse: stop
                    }
                    epoll_event cev{};
                    cev.events = EPOLLIN | EPOLLET;
                    cev.data.fd = c;
                    if (::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) < 0) return fail_sys("epoll_ctl(ADD, fd=" + std::to_string(c) + ")");
                    ++ctls;
                }
                continue;
            }
            ssize_t r = ::read(fd, buf, sizeof buf);
            if (r == 0 || (r < 0 && errno != EAGAIN)) {  // the client went away: close() drops it from epoll
                ::close(fd);
                continue;
            }
            if (r < 0) continue;
            if (r < 4 || std::memcmp(buf + r - 4, "\r\n\r\n", 4) != 0)
                return fail("a read of " + std::to_string(r) + " bytes that does not end a request: this floor "
                            "answers one whole request per read and cannot serve this client");
            ++requests;
            if (::write(fd, answer.data(), answer.size()) != static_cast<ssize_t>(answer.size()))
                return fail("write: short or failed");
        }
        now = churn::mono_ns();
    }
    return write_json(json_path, requests, t0, now, waits, ctls);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"bench-floor: a keep-alive client that does nothing but epoll_wait, read and write (make bench's floor)"};
    unsigned conns = 50;
    double duration_s = 5;
    std::string target, json_path;
    bool server = false;
    size_t size = 64;
    churn::cli::add_number(app, "-c,--connections", conns, "keep-alive connections (default 50)", 1u, 1000u);
    churn::cli::add_number(app, "-d,--duration", duration_s, "seconds to run (default 5)", 0.1, 3600.0);
    app.add_flag("--serve", server, "be the server floor: listen on ADDR:PORT, one read and one write per request");
    churn::cli::add_number(app, "--size", size, "--serve: body bytes of the answer (default 64)", size_t{0}, size_t{65536});
    app.add_option("--json", json_path, "write {requests_ok, elapsed_s, rps, epoll_waits} here")->required();
    app.add_option("ADDR:PORT", target, "numeric IPv4 address and port of an HTTP server")->required();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        std::fprintf(stderr, "bench-floor: %s\n", e.what());
        return 2;
    }
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    size_t colon = target.rfind(':');
    int port = colon == std::string::npos ? 0 : std::atoi(target.c_str() + colon + 1);
    if (colon == std::string::npos || port <= 0 || port > 65535 ||
        ::inet_pton(AF_INET, target.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
        std::fprintf(stderr, "bench-floor: want ADDR:PORT with a numeric IPv4 address, got '%s'\n", target.c_str());
        return 2;
    }
    sa.sin_port = htons(static_cast<uint16_t>(port));
    if (server) return serve(sa, target, size, duration_s, json_path);
    const std::string req = "GET / HTTP/1.1\r\nHost: " + target + "\r\n\r\n";

    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return fail(std::string("epoll_create1: ") + std::strerror(errno));
    for (unsigned i = 0; i < conns; ++i) {
        // A blocking connect: the handshakes are not what is measured, and this keeps the setup obvious.
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return fail(std::string("socket: ") + std::strerror(errno));
        if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
            return fail("connect(" + target + "): " + std::strerror(errno));
        // As wrk and churn-client do: a request is one small write, never held back by Nagle.
        int one = 1;
        if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) return fail_sys("setsockopt(TCP_NODELAY)");
        // Edge-triggered, registered once: no epoll_ctl per request, like churn-client.
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLET;
        ev.data.fd = fd;
        if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) return fail(std::string("epoll_ctl(ADD): ") + std::strerror(errno));
        if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return fail("write: short or failed");
    }

    // One read per answer is only right while every answer arrives whole in one read. nginx's answer to
    // the same GET has the same size every time (its Date header is fixed-width), so the first one sets
    // the size and any other size stops the run: the floor must never count what it did not get.
    long answer_size = -1;
    uint64_t requests = 0, waits = 0;
    char buf[65536];
    epoll_event events[256];
    const uint64_t t0 = churn::mono_ns(), end = t0 + static_cast<uint64_t>(duration_s * 1e9);
    uint64_t now = t0;
    while (now < end) {
        int n = ::epoll_wait(ep, events, 256, 1000);
        ++waits;
        if (n < 0 && errno != EINTR) return fail(std::string("epoll_wait: ") + std::strerror(errno));
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            ssize_t r = ::read(fd, buf, sizeof buf);
            if (r <= 0) return fail(r == 0 ? "the server closed a connection" : std::string("read: ") + std::strerror(errno));
            if (answer_size < 0) {
                if (r < 12 || std::memcmp(buf, "HTTP/1.1 200", 12) != 0) return fail("the first answer is not HTTP/1.1 200");
                answer_size = r;
            } else if (r != answer_size) {
                return fail("an answer of " + std::to_string(r) + " bytes after " + std::to_string(answer_size) +
                            ": not one fixed-size answer per read, so this floor cannot count it");
            }
            ++requests;
            if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return fail("write: short or failed");
        }
        now = churn::mono_ns();
    }
    return write_json(json_path, requests, t0, now, waits, conns);
}
