#include "server/options.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <ostream>

namespace churn {

namespace {

// Every check below reports "--name: what is wrong"; parse_cli adds the program name and exits 2.
struct BadValue {
    std::string message;
};

long long to_integer(const char* name, const std::string& text, long long min, long long max) {
    long long v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc::result_out_of_range)
        throw BadValue{std::string(name) + ": '" + text + "' is out of range"};
    if (ec != std::errc() || ptr != text.data() + text.size() || text.empty())
        throw BadValue{std::string(name) + ": '" + text + "' is not an integer"};
    if (v < min) throw BadValue{std::string(name) + ": must be >= " + std::to_string(min)};
    if (v > max) throw BadValue{std::string(name) + ": must be <= " + std::to_string(max)};
    return v;
}

double to_seconds(const char* name, const std::string& text) {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(v))
        throw BadValue{std::string(name) + ": '" + text + "' is not a number of seconds"};
    if (v < 0) throw BadValue{std::string(name) + ": must be >= 0"};
    // An upper bound as well: the run's end becomes an integer count of microseconds, and 1e300 s does not
    // fit one (the conversion would be undefined behaviour). A week is more than any lab run needs.
    if (v > 7 * 86400) throw BadValue{std::string(name) + ": must be <= 604800 (a week)"};
    return v;
}

// "10s", "500ms", or a bare number of seconds ("2.5"), as microseconds; 0 turns the clock off.
uint64_t to_timeout_us(const char* name, const std::string& text, const char* zero = "0 = off") {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    std::string unit = end ? std::string(end) : "";
    double scale = unit == "ms" ? 1e3 : (unit == "s" || unit.empty()) ? 1e6 : 0;
    if (text.empty() || end == text.c_str() || scale == 0 || !std::isfinite(v))
        throw BadValue{std::string(name) + ": '" + text + "' is not a duration (e.g. 10s, 500ms, " + zero + ")"};
    if (v < 0) throw BadValue{std::string(name) + ": must be >= 0"};
    if (v * scale > 86400e6) throw BadValue{std::string(name) + ": must be <= 86400s"};
    double us = std::ceil(v * scale);  // round up: a timeout never fires early
    return static_cast<uint64_t>(us);
}

std::string one_of(const char* name, const std::string& text, const char* a, const char* b) {
    if (text == a || text == b) return text;
    throw BadValue{std::string(name) + ": must be '" + a + "' or '" + b + "', got '" + text + "'"};
}

ServerOptions::Pattern to_pattern(const std::string& text) {
    for (auto p : {ServerOptions::Pattern::Single, ServerOptions::Pattern::Split})
        if (text == pattern_name(p)) return p;
    throw BadValue{"--response-pattern: must be 'single' or 'split', got '" + text + "'"};
}

ServerOptions::Write to_write(const std::string& text) {
    using W = ServerOptions::Write;
    for (auto w : {W::Single, W::Each, W::Gather, W::Cork})
        if (text == write_name(w)) return w;
    throw BadValue{"--write: must be 'single', 'each', 'gather' or 'cork', got '" + text + "'"};
}

}  // namespace

const char* pattern_name(ServerOptions::Pattern p) {
    switch (p) {
        case ServerOptions::Pattern::Single: return "single";
        case ServerOptions::Pattern::Split: return "split";
    }
    return "?";
}

const char* write_name(ServerOptions::Write w) {
    switch (w) {
        case ServerOptions::Write::Single: return "single";
        case ServerOptions::Write::Each: return "each";
        case ServerOptions::Write::Gather: return "gather";
        case ServerOptions::Write::Cork: return "cork";
    }
    return "?";
}

int parse_cli(int argc, const char* const* argv, ServerOptions& opt, std::ostream& out, std::ostream& err) {
    CLI::App app{"churn-server: a tiny HTTP/1.1 server for TCP connection-churn experiments.\n"
                 "Answers every request with the same --size byte body; counts who closed each connection."};
    app.name("churn-server");
    std::string size = "64", close = "client", nodelay = "on", backlog = "4096", max_conns = "0", duration = "0";
    std::string response_pattern = "single", write = "single";
    std::string accept_for, evict = "on", header_timeout = "10s", body_timeout = "10s", idle_timeout = "75s", send_timeout = "10s";
    app.add_option("--listen", opt.listen, "address to listen on: IPv4:PORT, [IPv6]:PORT or PORT")
        ->required()
        ->type_name("ADDR:PORT");
    app.add_option("--size", size, "response body bytes (default 64)")->type_name("BYTES");
    app.add_option("--close", close,
                   "who closes first: client (default; the server waits for the peer's FIN) or server "
                   "(Connection: close after each response, TIME-WAIT on the server host)")
        ->type_name("client|server");
    app.add_flag("--linger0", opt.linger0, "SO_LINGER {1,0} on accepted sockets: close() sends RST, no TIME-WAIT");
    app.add_flag("--leak-close-wait", opt.leak_close_wait,
                 "a bug on purpose: after the peer's FIN, keep the fd and never close it, so the socket stays in "
                 "CLOSE-WAIT (for churn-probe triage and make run-leak)");
    app.add_flag("--discard", opt.discard,
                 "no HTTP: read every byte each connection sends and drop it, counting bytes_discarded (the "
                 "receiver of churn-client --mode bulk, make run-cc)");
    app.add_option("--nodelay", nodelay, "TCP_NODELAY on accepted sockets (default on)")->type_name("on|off");
    app.add_option("--response-pattern", response_pattern,
                   "how each answer is cut before it reaches the kernel: single (one piece, default) or split "
                   "(the head, then the body, as two pieces)")
        ->type_name("single|split");
    app.add_option("--write", write,
                   "how the pieces due in one step reach the kernel: single (copied into one buffer, one send(); "
                   "default), each (one send() per piece: with --nodelay off the second small piece waits for "
                   "the peer's delayed ACK), gather (one sendmsg() with an iovec per piece), cork (TCP_CORK on, "
                   "one send() per piece, TCP_CORK off)")
        ->type_name("single|each|gather|cork");
    bool cork = false;
    app.add_flag("--cork", cork, "the same as --write cork (TCP_CORK around each step's pieces)");
    app.add_flag("--quickack", opt.quickack,
                 "TCP_QUICKACK after every read: ACK a request's first piece at once instead of delaying the ACK "
                 "(>= 40 ms), so a client whose Nagle holds the second piece is not kept waiting");
    app.add_option("--backlog", backlog, "listen() backlog (default 4096; the kernel caps it at somaxconn)")
        ->type_name("N");
    app.add_flag("--reuseport", opt.reuseport, "SO_REUSEPORT on the listening socket");
    app.add_option("--accept-for", accept_for,
                   "stop calling accept() this long after start (2s, 500ms; 0 = never accept): the listener stays "
                   "open, so the accept queue fills to --backlog and the kernel counts TcpExtListenOverflows for "
                   "each handshake after that (default: accept for the whole run)")
        ->type_name("DURATION");
    app.add_option("--max-conns", max_conns, "open connections allowed (0 = unlimited); at the limit a new "
                                             "connection evicts an old one (--evict), or is closed at once")
        ->type_name("N");
    app.add_option("--evict", evict,
                   "at --max-conns, close the connection that has gone longest without a request head (then "
                   "the longest idle) to admit the new one (default on); off: refuse the new one")
        ->type_name("on|off");
    app.add_option("--header-timeout", header_timeout,
                   "a request head must be complete this long after its first byte, or after the accept on a new connection (default 10s; 500ms, 2s, 0 = off)")
        ->type_name("DURATION");
    app.add_option("--body-timeout", body_timeout,
                   "at most this long between two reads of a declared request body (default 10s; 0 = off)")
        ->type_name("DURATION");
    app.add_option("--idle-timeout", idle_timeout,
                   "close a keep-alive connection idle this long (default 75s; 0 = off)")
        ->type_name("DURATION");
    app.add_option("--send-timeout", send_timeout,
                   "close a connection whose peer takes none of its pending answers for this long (default 10s; "
                   "0 = off)")
        ->type_name("DURATION");
    app.add_option("--duration", duration, "stop after this many seconds (0 = until SIGINT/SIGTERM)")
        ->type_name("SECONDS");
    app.add_option("--json", opt.json_path, "write the counters as a JSON object to FILE on exit")->type_name("FILE");
    app.add_flag("--quiet", opt.quiet, "no summary line on stderr at exit");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e, out, err);  // --help
        err << "churn-server: " << e.what() << "\n";
        return 2;
    }
    try {
        std::string why;
        if (!Endpoint::parse(opt.listen, opt.endpoint, why)) throw BadValue{"--listen: " + why};
        opt.size = static_cast<size_t>(to_integer("--size", size, 0, static_cast<long long>(kMaxBodySize)));
        opt.close_server = one_of("--close", close, "client", "server") == "server";
        opt.nodelay = one_of("--nodelay", nodelay, "on", "off") == "on";
        opt.response_pattern = to_pattern(response_pattern);
        // --cork is a name for --write cork; beside another --write, one of them would be silently ignored.
        if (cork && app.count("--write") && write != "cork") throw BadValue{"--cork: contradicts --write " + write};
        opt.write = to_write(cork ? std::string("cork") : write);
        opt.backlog = static_cast<int>(to_integer("--backlog", backlog, 1, std::numeric_limits<int>::max()));
        opt.max_conns = static_cast<uint64_t>(
            to_integer("--max-conns", max_conns, 0, std::numeric_limits<long long>::max()));
        // The same DURATION syntax as the timeouts, but 0 means "from the start", not "off".
        if (app.count("--accept-for")) opt.accept_for_us = to_timeout_us("--accept-for", accept_for, "0 = never");
        opt.evict = one_of("--evict", evict, "on", "off") == "on";
        opt.header_timeout_us = to_timeout_us("--header-timeout", header_timeout);
        opt.body_timeout_us = to_timeout_us("--body-timeout", body_timeout);
        opt.idle_timeout_us = to_timeout_us("--idle-timeout", idle_timeout);
        opt.send_timeout_us = to_timeout_us("--send-timeout", send_timeout);
        opt.duration_s = to_seconds("--duration", duration);
        if (app.count("--json") && opt.json_path.empty()) throw BadValue{"--json: needs a file name"};
    } catch (const BadValue& e) {
        err << "churn-server: " << e.message << "\n";
        return 2;
    }
    return -1;
}

}  // namespace churn
