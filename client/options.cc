// options.cc: churn-client's command line, parsed and checked without touching the network, so that
// tests/unit/test_client_cli.cc can run every bad input through it.
#include "client/options.h"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <ostream>

#include "loop/cli.h"

namespace churn {

bool parse_sources(const std::string& text, std::vector<Endpoint>& out, std::string& error) {
    out.clear();
    auto fail = [&](std::string why) {
        out.clear();  // nothing half-filled for a caller that goes on anyway
        error = std::move(why);
        return false;
    };
    if (text.empty()) return fail("needs at least one address, e.g. 198.18.0.1,198.18.0.3");
    size_t start = 0;
    for (;;) {
        size_t comma = text.find(',', start);
        std::string addr = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (addr.empty()) return fail("empty address in '" + text + "'");
        Endpoint ep;
        auto* v4 = reinterpret_cast<sockaddr_in*>(&ep.addr);
        // inet_pton(AF_INET) takes dotted-decimal a.b.c.d only (no "1", no hex, no "1.2.3"), unlike
        // inet_aton: what the user typed is the address that will show in ss.
        if (::inet_pton(AF_INET, addr.c_str(), &v4->sin_addr) != 1)
            return fail("'" + addr + "' is not a numeric IPv4 address");
        v4->sin_family = AF_INET;
        v4->sin_port = 0;  // the kernel picks it at connect() time (IP_BIND_ADDRESS_NO_PORT: loop/socket.cc, bind_source)
        ep.len = sizeof(sockaddr_in);
        for (const Endpoint& seen : out)
            if (reinterpret_cast<const sockaddr_in*>(&seen.addr)->sin_addr.s_addr == v4->sin_addr.s_addr)
                return fail("'" + addr + "' is given twice");
        out.push_back(ep);
        if (comma == std::string::npos) return true;
        start = comma + 1;
    }
}

int parse_client_cli(int argc, const char* const* argv, Options& opt, std::ostream& out, std::ostream& err) {
    std::string mode = "pool", url, sources;
    CLI::App app{"churn-client: HTTP/1.1 load generator, connection per request (churn) or keep-alive pool"};
    app.name("churn-client");
    app.add_option("--mode", mode,
                   "churn: a new TCP connection per request; pool: keep-alive connections; "
                   "bulk: one connection sending as fast as TCP allows (receiver: churn-server --discard)")
        ->check(CLI::IsMember({"churn", "pool", "bulk"}));
    app.add_option("--cc", opt.cc, "bulk: congestion control for the socket (TCP_CONGESTION), e.g. cubic, bbr");
    // Every number goes through loop/cli.h: finite, of the option's type, within these bounds.
    cli::add_number(app, "--sample-ms", opt.sample_ms, "bulk: tcp_info sampling interval in ms", 1, 60000);
    cli::add_number(app, "--bytes", opt.bytes,
                    "bulk: send exactly N bytes, then close (a FIN, or with --linger0 an RST that loses what "
                    "the kernel still held); the run still ends at --duration. Default: send for --duration",
                    1, uint64_t(1) << 40);
    cli::add_number(app, "-c,--connections", opt.connections,
                    "pool: connections kept open; churn: connections in flight at most", 1, 100000);
    cli::add_number(app, "-d,--duration", opt.duration_s, "seconds to measure", 0.001, 86400);
    cli::add_number(app, "-R,--rate", opt.rate, "requests/s offered (open loop); 0 = closed loop", 0, 1e8);
    cli::add_number(app, "--warmup", opt.warmup_s, "seconds to run before measuring", 0, 3600);
    cli::add_number(app, "--timeout", opt.timeout_ms, "ms allowed for a connect, and for a response", 1, 3'600'000);
    cli::add_number(app, "--retry-delay", opt.retry_delay_ms, "ms before a failed connect is tried again", 1, 60'000);
    cli::add_number(app, "-n,--requests", opt.max_requests, "stop after this many requests: the run ends once they are answered or given up (0 = duration only)", 0,
                    1'000'000'000'000);
    // 88..32767: what the kernel's TCP_MAXSEG takes (TCP_MIN_MSS .. MAX_TCP_WINDOW); a larger value would
    // fail every setsockopt with EINVAL, counted per connection instead of refused once here.
    cli::add_number(app, "--mss", opt.mss,
                    "TCP_MAXSEG on every socket before connect(), so the SYN advertises MSS N (e.g. 1400; a SYN "
                    "cookie rounds it down to 1300). Default: not set (the route's MTU - 40)",
                    88, 32767);
    app.add_flag("!--no-nodelay", opt.nodelay, "leave Nagle on (default: TCP_NODELAY)");
    app.add_flag("--linger0", opt.linger0,
                 "SO_LINGER {1,0} before every close(): the close sends RST, this host keeps no TIME-WAIT, and "
                 "whatever was still queued is lost (the server reads ECONNRESET). churn, pool; bulk with --bytes");
    app.add_option("--source", sources,
                   "churn, pool: local IPv4 addresses A[,B...] of this host; each new connection binds to the "
                   "next in turn (IP_BIND_ADDRESS_NO_PORT: the port is chosen per 4-tuple at connect())")
        ->type_name("A[,B...]");
    app.add_option("--json", opt.json_path, "write the results as JSON to this file");
    app.add_flag("-q,--quiet", opt.quiet, "no progress line");
    app.add_flag("--allow-default-route", opt.allow_default_route,
                 "send load to a non-loopback address even though this network namespace has a default route");
    app.add_option("URL", url, "http://ADDR:PORT/PATH (numeric address)")->required();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e, out, err);  // --help
        err << "churn-client: " << e.what() << " (see --help)\n";
        return 2;
    }
    auto bad = [&err](const std::string& why) {
        err << "churn-client: " << why << "\n";
        return 2;
    };
    opt.mode = mode == "churn" ? Options::Mode::Churn : mode == "bulk" ? Options::Mode::Bulk : Options::Mode::Pool;
    bool bulk = opt.mode == Options::Mode::Bulk;
    if (!opt.cc.empty() && !bulk) return bad("--cc: only with --mode bulk");
    if (app.count("--bytes") && !bulk) return bad("--bytes: only with --mode bulk");
    if (app.count("--source") && bulk) return bad("--source: only with --mode churn or pool");
    // Without --bytes a bulk run ends by the clock, and its close is an RST whatever --linger0 says
    // (BulkSender's destructor says why): the flag would change nothing, so it is refused, not ignored.
    if (opt.linger0 && bulk && !opt.bytes) return bad("--linger0: with --mode bulk, only together with --bytes");
    std::string why;
    if (!parse_url(url, opt.url, why)) return bad(why);
    if (app.count("--source")) {
        if (!parse_sources(sources, opt.sources, why)) return bad("--source: " + why);
        if (opt.url.endpoint.family() != AF_INET)
            return bad("--source: IPv4 addresses, but the URL's address " + opt.url.endpoint.str() + " is IPv6");
    }
    if (app.count("--json") && opt.json_path.empty()) return bad("--json: needs a file name");
    return -1;
}

}  // namespace churn
