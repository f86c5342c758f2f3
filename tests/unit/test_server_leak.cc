// churn-server --leak-close-wait, in-process on loopback: what the flag promises, not only that it parses.
// The promise (server/connection.cc, Connection::leak): a connection is answered normally, and once the
// peer's FIN arrives the server keeps the fd open, so the socket sits in CLOSE-WAIT, held by this process,
// until the server shuts down. Without the flag the same FIN closes the socket at once.
//
// The client side is plain blocking sockets: on loopback the kernel completes the handshake and queues
// the request without the server's help, so the test can connect, send and half-close before it runs the
// server's reactor, then run the reactor until the server has seen every FIN (bounded by a 5 s timer).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "loop/reactor.h"
#include "server/listener.h"
#include "server/options.h"
#include "server/response.h"
#include "server/stats.h"

namespace {

int port_of(int fd, bool peer) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len)
                  : ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    REQUIRE(rc == 0);
    return ntohs(a.sin_port);
}

int tcp_state(int fd) {
    tcp_info ti{};
    socklen_t len = sizeof ti;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return -1;
    return ti.tcpi_state;
}

// This process's TCP sockets connected to a peer on `peer_port`: each one's peer port -> its TCP state.
// Read from /proc/self/fd, so it sees exactly the fds the server holds, whatever it did with its epoll set.
std::vector<std::pair<int, int>> sockets_to(std::set<int> peer_ports) {
    std::vector<std::pair<int, int>> out;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        std::string target = std::filesystem::read_symlink(e.path(), ec).string();
        if (ec || target.rfind("socket:", 0) != 0) continue;
        int fd = std::stoi(e.path().filename().string());
        sockaddr_in a{};
        socklen_t len = sizeof a;
        if (::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 || a.sin_family != AF_INET) continue;
        if (peer_ports.count(ntohs(a.sin_port))) out.emplace_back(ntohs(a.sin_port), tcp_state(fd));
    }
    return out;
}

struct Outcome {
    churn::ServerStats stats;
    std::vector<std::pair<int, int>> held;         // while the server runs: its sockets to our clients
    std::vector<std::pair<int, int>> after_close;  // after abandon_all (server shutdown)
    std::vector<int> client_states;                // each client socket's state once the server is done
    std::vector<std::string> answers;
};

// N clients each send one request and half-close (FIN); the server runs until it has seen all N FINs.
Outcome run_server(bool leak, int n) {
    churn::ServerOptions opt;
    std::ostringstream out, err;
    std::vector<const char*> argv = {"churn-server", "--listen", "127.0.0.1:18080"};
    if (leak) argv.push_back("--leak-close-wait");
    REQUIRE(churn::parse_cli(static_cast<int>(argv.size()), argv.data(), opt, out, err) == -1);
    REQUIRE(opt.leak_close_wait == leak);
    // Port 0 after parsing (the CLI wants a real port): the kernel picks a free one, so this test cannot
    // collide with a server someone runs on 18080, nor with itself running twice.
    REQUIRE(opt.endpoint.family() == AF_INET);
    reinterpret_cast<sockaddr_in*>(&opt.endpoint.addr)->sin_port = 0;

    Outcome o;
    churn::Responses responses = churn::Responses::build(opt.size);
    churn::Reactor reactor;
    churn::Listener listener(reactor, opt, responses, o.stats);
    std::string local = listener.local();
    int port = std::stoi(local.substr(local.rfind(':') + 1));

    std::vector<int> clients;
    std::set<int> client_ports;
    for (int i = 0; i < n; ++i) {
        int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(c >= 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<uint16_t>(port));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(c, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
        const char req[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
        REQUIRE(::send(c, req, sizeof req - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof req - 1));
        REQUIRE(::shutdown(c, SHUT_WR) == 0);  // our FIN: from here the server's next read() returns 0
        clients.push_back(c);
        client_ports.insert(port_of(c, false));
    }

    // Until every FIN has been handled, one way or the other; 5 s is far beyond loopback's microseconds.
    bool timed_out = false;
    reactor.every(2000, [&] {
        if (o.stats.leaked + o.stats.close_client >= static_cast<uint64_t>(n)) reactor.stop();
    });
    reactor.after(5'000'000, [&] { timed_out = true; reactor.stop(); });
    reactor.run();
    REQUIRE_FALSE(timed_out);

    o.held = sockets_to(client_ports);
    for (int c : clients) {
        o.client_states.push_back(tcp_state(c));
        char buf[4096];
        std::string got;
        // Blocking: the answer is already in our receive queue (the server wrote it before the FIN mattered).
        for (ssize_t r; got.find("\r\n\r\n") == std::string::npos && (r = ::recv(c, buf, sizeof buf, MSG_DONTWAIT)) > 0;)
            got.append(buf, static_cast<size_t>(r));
        o.answers.push_back(got);
    }
    listener.abandon_all();  // server shutdown: every fd it still holds is closed
    o.after_close = sockets_to(client_ports);
    for (int c : clients) ::close(c);
    return o;
}

}  // namespace

TEST_CASE("churn-server cli: --leak-close-wait", "[server]") {
    std::ostringstream out, err;
    churn::ServerOptions a, b;
    const char* plain[] = {"churn-server", "--listen", "127.0.0.1:18080"};
    REQUIRE(churn::parse_cli(3, plain, a, out, err) == -1);
    CHECK_FALSE(a.leak_close_wait);
    const char* leak[] = {"churn-server", "--listen", "127.0.0.1:18080", "--leak-close-wait"};
    REQUIRE(churn::parse_cli(4, leak, b, out, err) == -1);
    CHECK(b.leak_close_wait);
    CHECK(err.str().empty());
}

TEST_CASE("churn-server --leak-close-wait: answered, then held in CLOSE-WAIT until shutdown", "[server]") {
    constexpr int n = 3;
    Outcome o = run_server(true, n);
    CHECK(o.stats.accepted == n);
    CHECK(o.stats.responses == n);
    CHECK(o.stats.leaked == n);
    CHECK(o.stats.close_client == 0);
    for (const auto& a : o.answers) CHECK(a.rfind("HTTP/1.1 200", 0) == 0);
    // The server holds one fd per client, each in CLOSE-WAIT (peer's FIN ACKed, our close() never comes)...
    REQUIRE(o.held.size() == static_cast<size_t>(n));
    for (const auto& [peer, state] : o.held) {
        INFO("server socket to client port " << peer);
        CHECK(state == TCP_CLOSE_WAIT);
    }
    // ... so each client is stuck half-closed, waiting for a FIN that does not come.
    for (int s : o.client_states) CHECK(s == TCP_FIN_WAIT2);
    // Shutdown closes them: the leak lasts as long as the process, no longer.
    CHECK(o.after_close.empty());
}

TEST_CASE("churn-server without --leak-close-wait: the peer's FIN closes the socket at once", "[server]") {
    constexpr int n = 3;
    Outcome o = run_server(false, n);
    CHECK(o.stats.accepted == n);
    CHECK(o.stats.responses == n);
    CHECK(o.stats.leaked == 0);
    CHECK(o.stats.close_client == n);
    for (const auto& a : o.answers) CHECK(a.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(o.held.empty());
    // The server's FIN reached each half-closed client: FIN-WAIT-2 ended, the kernel moved the connection
    // to a TIME-WAIT mini-socket, and the socket our fd still names is left CLOSED.
    for (int s : o.client_states) CHECK(s == TCP_CLOSE);
}
