// options.h: churn-server's command line, parsed and checked in one place (unit-testable: no sockets).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "loop/socket.h"

namespace churn {

struct ServerOptions {
    std::string listen;      // as given, e.g. "127.0.0.1:18080"
    Endpoint endpoint;       // parsed from `listen`
    size_t size = 64;        // response body bytes
    bool close_server = false;  // --close server: the server closes first, after every response
    bool linger0 = false;    // SO_LINGER {1, 0} on accepted sockets: our close() sends RST
    bool leak_close_wait = false;  // --leak-close-wait: never close after the peer's FIN (a CLOSE-WAIT leak, on purpose)
    bool discard = false;    // --discard: no HTTP; read and drop every byte (the receiver of churn-client --mode bulk)
    bool nodelay = true;     // TCP_NODELAY on accepted sockets
    int backlog = 4096;
    bool reuseport = false;
    uint64_t max_conns = 0;  // 0 = unlimited
    double duration_s = 0;   // 0 = until SIGINT/SIGTERM
    std::string json_path;   // empty = no JSON
    bool quiet = false;      // no summary line on exit
};

inline constexpr size_t kMaxBodySize = 64u << 20;  // the body is precomputed in three copies

// Parse argv into `opt`. Returns -1 when the server should run; otherwise the exit code, with the text
// already written: 0 after --help (to `out`), 2 after a bad or missing value (one line to `err`,
// "churn-server: --size: must be >= 0").
int parse_cli(int argc, const char* const* argv, ServerOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace churn
