// options.h: what a churn-client run is asked to do, after validation.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "client/trace.h"
#include "loop/socket.h"

namespace churn {

struct Url {
    Endpoint endpoint;
    std::string host_header;  // "198.18.0.2:8080", as sent in Host:
    std::string path;         // "/", or what the URL names
};

// "http://198.18.0.2:8080/x" → Url. Numeric hosts only: the lab has no resolver, and a DNS lookup would
// add its own latency to the first connect.
bool parse_url(const std::string& text, Url& out, std::string& error);

struct Options {
    enum class Mode { Churn, Pool, Bulk };
    // How a request is cut into pieces, and how the pieces reach the kernel: client/pieces.h.
    enum class Pattern { Single, Split, Pipeline };
    enum class Write { Single, Each, Gather, Cork };
    Mode mode = Mode::Pool;
    int connections = 32;         // pool: keep-alive connections; churn: connections in flight at most
    double duration_s = 10;       // measured part of the run
    double rate = 0;              // requests/s offered (open loop); 0 = closed loop
    double warmup_s = 0;          // run, but do not record, before the measured part
    uint64_t timeout_ms = 2000;   // per phase: connect, then request → response
    uint64_t retry_delay_ms = 10; // a failed connect is retried after this long
    uint64_t max_requests = 0;    // 0 = bounded by duration only
    std::string cc;               // bulk: TCP_CONGESTION for the socket (empty = the namespace default)
    double sample_ms = 100;       // bulk: tcp_info sampling interval
    bool nodelay = true;          // --nodelay on|off (--no-nodelay = off): TCP_NODELAY on every connection
    bool smart_connect = true;    // --smart-connect: the handshake's last ACK rides on the request (delay_handshake_ack)
    bool quickack = false;        // --quickack: TCP_QUICKACK set again after every read (conn.cc says why)
    Pattern pattern = Pattern::Single;
    Write write = Write::Single;
    uint32_t head = 0;            // --head: pad each request head to this many bytes (0 = as small as it comes)
    uint32_t body = 0;            // --body: request body bytes (0 = GET; --pattern split: 16 unless given)
    uint32_t pipeline = 1;        // requests per send (--pattern pipeline: --pipeline K, default 4)
    bool duration_given = false;  // -d was on the command line (--trace: otherwise the trace sets it)
    Trace trace;                  // --trace FILE: trace.path is set by the parser, the lines by main.cc
    std::string make_trace_path;  // --make-trace FILE: write a trace (trace_spec) and exit; "-" = stdout
    TraceSpec trace_spec;
    int mss = 0;                  // --mss: TCP_MAXSEG before every connect(), the MSS the SYN advertises; 0 = not set
    bool close_server = false;    // --close server: "Connection: close" in every request, the server closes first
    bool linger0 = false;         // SO_LINGER {1, 0} before every close(): RST, no TIME-WAIT (bulk: with --bytes)
    std::vector<Endpoint> sources;  // --source: local IPv4 addresses (port 0), used in turn; empty = the kernel's choice
    uint64_t bytes = 0;           // bulk: send exactly this many bytes, then close (0 = for --duration)
    bool allow_default_route = false;
    bool quiet = false;
    std::string json_path;
    Url url;
};

const char* mode_name(Options::Mode m);
const char* pattern_name(Options::Pattern p);
const char* write_name(Options::Write w);

// "198.18.0.1,198.18.0.3" → one Endpoint per address, port 0. Numeric IPv4 only, no empty element, no
// address twice (a duplicate would silently weight the rotation towards it). False with a one-line reason.
bool parse_sources(const std::string& text, std::vector<Endpoint>& out, std::string& error);

// churn-client's command line into `opt`, checked as far as it can be without the host: numbers, the
// URL, the mode's own options, --source's syntax. Returns -1 when the client should run; otherwise the
// exit code with the text written: 0 after --help (to `out`), 2 after bad input (one line to `err`,
// "churn-client: --source: ..."). What depends on the host (routes, the --json path, whether a --source
// address is configured) is main.cc's to check.
int parse_client_cli(int argc, const char* const* argv, Options& opt, std::ostream& out, std::ostream& err);

}  // namespace churn
