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

const char* pattern_name(Options::Pattern p) {
    switch (p) {
        case Options::Pattern::Single: return "single";
        case Options::Pattern::Split: return "split";
        case Options::Pattern::Pipeline: return "pipeline";
    }
    return "?";
}

const char* write_name(Options::Write w) {
    switch (w) {
        case Options::Write::Single: return "single";
        case Options::Write::Each: return "each";
        case Options::Write::Gather: return "gather";
        case Options::Write::Cork: return "cork";
    }
    return "?";
}

// Requests per send at most with --pattern pipeline: gather sends them all in one writev(), one iovec
// each, and writev() takes at most IOV_MAX (1024 on Linux, UIO_MAXIOV) iovecs.
constexpr uint32_t kMaxPipeline = 1024;

int parse_client_cli(int argc, const char* const* argv, Options& opt, std::ostream& out, std::ostream& err) {
    std::string mode = "pool", url, sources, pattern = "single", write = "single", nodelay = "on", smart_connect = "on";
    std::string head_range, body_range;
    bool no_nodelay = false;
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
    cli::add_number(app, "-d,--duration", opt.duration_s, "seconds to measure (--trace: default, its length + 30 s; it ends at the last answer)",
                    0.001, 86400);
    cli::add_number(app, "-R,--rate", opt.rate,
                    "requests/s offered (open loop); 0 = closed loop. --make-trace: the trace's mean rate (default 50)",
                    0, 1e8);
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
    app.add_option("--nodelay", nodelay,
                   "TCP_NODELAY on every connection (default on); off leaves Nagle on, so a small write waits "
                   "while an earlier small segment is unacknowledged")
        ->type_name("on|off");
    app.add_option("--smart-connect", smart_connect,
                   "churn, pool: TCP_QUICKACK 0 before connect(), so the handshake's last ACK waits for the "
                   "request and rides on it: SYN, SYN-ACK, request (default on); off sends the bare ACK first")
        ->type_name("on|off");
    app.add_flag("--no-nodelay", no_nodelay, "the same as --nodelay off (kept for old scripts)");
    app.add_flag("--quickack", opt.quickack,
                 "churn, pool: TCP_QUICKACK after every read of a response, so the client ACKs at once instead "
                 "of after its delayed-ACK timer (the fix on the receiving side for a server's split response)");
    app.add_option("--pattern", pattern,
                   "churn, pool: single = each request one piece; split = head, then body (--body, default 16) "
                   "as two pieces; pipeline = --pipeline K requests back to back, each one piece")
        ->check(CLI::IsMember({"single", "split", "pipeline"}));
    app.add_option("--write", write,
                   "churn, pool: how the pieces reach the kernel: single = one write() per request (default); "
                   "each = one write() per piece; gather = one writev() of every piece due; cork = TCP_CORK "
                   "around one write() per piece")
        ->check(CLI::IsMember({"single", "each", "gather", "cork"}));
    bool cork = false;
    app.add_flag("--cork", cork, "churn, pool: the same as --write cork (TCP_CORK around each request's pieces)");
    cli::add_number(app, "--body", opt.body, "request body bytes (POST with Content-Length); 0 = GET",
                    0, kMaxTraceBody);
    cli::add_number(app, "--head", opt.head,
                    "pad each request head to this many bytes with an X-Pad header (default: as small as it comes)",
                    0, kMaxTraceHead);
    cli::add_number(app, "--pipeline", opt.pipeline, "--pattern pipeline: requests per send (default 4)", 1,
                    kMaxPipeline);
    app.add_option("--trace", opt.trace.path,
                   "churn, pool: replay FILE (lines 't_us head_bytes body_bytes'), open loop: each request's "
                   "latency counts from its time in the file. Make one with --make-trace")
        ->type_name("FILE");
    app.add_option("--make-trace", opt.make_trace_path,
                   "write a seeded trace to FILE ('-': stdout) and exit: --seed, --count, -R, --head-range, "
                   "--body-range")
        ->type_name("FILE");
    cli::add_number(app, "--seed", opt.trace_spec.seed, "--make-trace: the seed (default 1)");
    cli::add_number(app, "--count", opt.trace_spec.count, "--make-trace: requests (default 400)", 1, kMaxTraceLines);
    app.add_option("--head-range", head_range, "--make-trace: head bytes, uniform in A-B (default 100-200)")
        ->type_name("A-B");
    app.add_option("--body-range", body_range, "--make-trace: body bytes, uniform in A-B (default 8-64)")
        ->type_name("A-B");
    app.add_option("--source", sources,
                   "churn, pool: local IPv4 addresses A[,B...] of this host; each new connection binds to the "
                   "next in turn (IP_BIND_ADDRESS_NO_PORT: the port is chosen per 4-tuple at connect())")
        ->type_name("A[,B...]");
    std::string close_first = "client";
    app.add_option("--close", close_first,
                   "churn: who closes first. client (default): we close after the answer, and TIME-WAIT lands "
                   "here, on our ports. server: every request says \"Connection: close\", the server closes "
                   "first and keeps the TIME-WAIT, we read its FIN and close (what ab and HTTP/1.0 do)")
        ->type_name("client|server");
    app.add_flag("--linger0", opt.linger0,
                 "SO_LINGER {1,0} before every close(): the close sends RST, this host keeps no TIME-WAIT, and "
                 "whatever was still queued is lost (the server reads ECONNRESET). churn, pool; bulk with --bytes");
    app.add_option("--json", opt.json_path, "write the results as JSON to this file");
    app.add_flag("-q,--quiet", opt.quiet, "no progress line");
    app.add_flag("--allow-default-route", opt.allow_default_route,
                 "send load to a non-loopback address even though this network namespace has a default route");
    // Not ->required(): --make-trace runs without one (checked below, with the same words CLI11 uses).
    app.add_option("URL", url, "http://ADDR:PORT/PATH (numeric address)");
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
    std::string why;

    // ---- --make-trace: a file, not a run ----
    bool making = app.count("--make-trace") > 0;
    for (const char* name : {"--seed", "--count", "--head-range", "--body-range"})
        if (app.count(name) && !making) return bad(std::string(name) + ": only with --make-trace");
    if (making) {
        if (opt.make_trace_path.empty()) return bad("--make-trace: needs a file name ('-' for stdout)");
        if (!url.empty()) return bad("--make-trace writes a trace and exits: no URL (got '" + url + "')");
        if (app.count("--rate")) {
            if (opt.rate <= 0) return bad("--rate: --make-trace needs a rate above 0, got " + cli::show(opt.rate));
            opt.trace_spec.rate = opt.rate;
        }
        TraceSpec& t = opt.trace_spec;
        // The trace lasts count / rate seconds on average; past a day --trace would refuse its own output
        // (kMaxTraceTimeUs), and a tiny rate (1e-300) would push the times past what a uint64 holds.
        if (double(t.count) / t.rate > double(kMaxTraceTimeUs) / 1e6)
            return bad("--count/--rate: " + std::to_string(t.count) + " requests at " + cli::show(t.rate) +
                       "/s would last " + cli::show(double(t.count) / t.rate) + " s, over a day (the most --trace replays)");
        if (app.count("--head-range") && !parse_range(head_range, kMaxTraceHead, t.head_lo, t.head_hi, why))
            return bad("--head-range: " + why);
        if (app.count("--body-range") && !parse_range(body_range, kMaxTraceBody, t.body_lo, t.body_hi, why))
            return bad("--body-range: " + why);
        return -1;
    }
    if (url.empty()) return bad("URL is required (see --help)");

    opt.mode = mode == "churn" ? Options::Mode::Churn : mode == "bulk" ? Options::Mode::Bulk : Options::Mode::Pool;
    bool bulk = opt.mode == Options::Mode::Bulk;
    if (!opt.cc.empty() && !bulk) return bad("--cc: only with --mode bulk");
    if (app.count("--bytes") && !bulk) return bad("--bytes: only with --mode bulk");
    if (app.count("--source") && bulk) return bad("--source: only with --mode churn or pool");
    if (close_first != "client" && close_first != "server")
        return bad("--close: must be 'client' or 'server', got '" + close_first + "'");
    opt.close_server = close_first == "server";
    if (opt.close_server && opt.mode != Options::Mode::Churn) return bad("--close server: only with --mode churn");
    // Without --bytes a bulk run ends by the clock, and its close is an RST whatever --linger0 says
    // (BulkSender's destructor says why): the flag would change nothing, so it is refused, not ignored.
    if (opt.linger0 && bulk && !opt.bytes) return bad("--linger0: with --mode bulk, only together with --bytes");

    // ---- Nagle and the shape of the writes ----
    if (smart_connect != "on" && smart_connect != "off")
        return bad("--smart-connect: must be 'on' or 'off', got '" + smart_connect + "'");
    opt.smart_connect = smart_connect == "on";
    if (nodelay != "on" && nodelay != "off") return bad("--nodelay: must be 'on' or 'off', got '" + nodelay + "'");
    // --no-nodelay is --nodelay off; with "--nodelay on" beside it one of them would be silently ignored.
    if (no_nodelay && app.count("--nodelay") && nodelay == "on") return bad("--no-nodelay: contradicts --nodelay on");
    opt.nodelay = nodelay == "on" && !no_nodelay;
    // The request shapes are HTTP's: a bulk sender has no requests to shape, no responses to ACK.
    for (const char* name : {"--pattern", "--write", "--cork", "--body", "--head", "--pipeline", "--trace", "--quickack",
                             "--smart-connect"})
        if (app.count(name) && bulk) return bad(std::string(name) + ": only with --mode churn or pool");
    opt.pattern = pattern == "split" ? Options::Pattern::Split
                  : pattern == "pipeline" ? Options::Pattern::Pipeline : Options::Pattern::Single;
    // --cork is a name for --write cork; beside another --write, one of them would be silently ignored.
    if (cork && app.count("--write") && write != "cork") return bad("--cork: contradicts --write " + write);
    if (cork) write = "cork";
    opt.write = write == "each" ? Options::Write::Each
                : write == "gather" ? Options::Write::Gather
                : write == "cork" ? Options::Write::Cork : Options::Write::Single;
    bool tracing = app.count("--trace") > 0;
    if (app.count("--pipeline") && opt.pattern != Options::Pattern::Pipeline)
        return bad("--pipeline: only with --pattern pipeline");
    if (opt.pattern == Options::Pattern::Pipeline) opt.pipeline = app.count("--pipeline") ? opt.pipeline : 4;
    // The server closes after the first answer of a "Connection: close" request: the rest of a pipeline
    // would never be answered.
    if (opt.close_server && opt.pattern == Options::Pattern::Pipeline)
        return bad("--close server: the server closes after the first answer, so --pattern pipeline cannot work");
    // split's second piece is the body: 16 bytes unless told, and never none (there would be no split).
    if (opt.pattern == Options::Pattern::Split && !app.count("--body") && !tracing) opt.body = 16;
    if (opt.pattern == Options::Pattern::Split && app.count("--body") && opt.body == 0)
        return bad("--body: --pattern split needs a body of at least 1 byte (the second piece), got 0");
    if (tracing) {
        if (opt.trace.path.empty()) return bad("--trace: needs a file name");
        // The trace is the schedule and gives every request its sizes: a second source for either would
        // leave the reader guessing which one the run used.
        if (app.count("--rate")) return bad("--rate: the --trace file is the schedule; drop one of them");
        if (app.count("--body")) return bad("--body: the --trace file gives each request's body; drop one of them");
        if (app.count("--head")) return bad("--head: the --trace file gives each request's head; drop one of them");
    }
    opt.duration_given = app.count("--duration") > 0;
    // The one send of a run without --trace is built before it starts (main.cc checks a trace's sends).
    if (uint64_t send = (uint64_t(opt.head) + opt.body) * opt.pipeline; !tracing && send > kMaxBuiltBytes)
        return bad("--pipeline: " + std::to_string(opt.pipeline) + " requests of --body " + std::to_string(opt.body) +
                   " bytes is " + std::to_string(send) + " bytes a send, over " + std::to_string(kMaxBuiltBytes));

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
