// measure_cli.cc: `churn-link measure`'s command line (see measure.h for what it sends).
#include <CLI/CLI.hpp>
#include <ostream>

#include "link/measure.h"
#include "loop/cli.h"

namespace churn {

int parse_measure_cli(int argc, const char* const* argv, MeasureOptions& o, std::ostream& out, std::ostream& err) {
    CLI::App app{"churn-link measure: UDP pings and a paced UDP stream through the link, from one process that "
                 "holds a socket in each namespace."};
    app.name("churn-link measure");
    app.add_option("--ns-a", o.ns_a, "namespace of end A (sender)")->required();
    app.add_option("--ns-b", o.ns_b, "namespace of end B (echo and sink)")->required();
    app.add_option("--addr-a", o.addr_a, "A's address (default 198.18.0.1)");
    app.add_option("--addr-b", o.addr_b, "B's address (default 198.18.0.2)");
    // Every number goes through loop/cli.h: finite, of the option's type, within these bounds.
    cli::add_number(app, "--port", o.port, "echo port in B; the sink is PORT+1 (default 9000)", 1, 65534);
    cli::add_number(app, "--pings", o.pings, "RTT probes to send (default 0)");
    cli::add_number(app, "--ping-interval", o.ping_interval_ms, "ms between probes (default 5)", 0.01, 10000);
    cli::add_number(app, "--ping-size", o.ping_size, "probe UDP payload bytes (default 64)", 32, 1472);
    cli::add_number(app, "--stream-count", o.stream_count, "datagrams A->B (default 0)");
    cli::add_number(app, "--stream-mbit", o.stream_mbit, "paced rate, IP bytes (default 10)", 0.001, 100000);
    cli::add_number(app, "--stream-size", o.stream_size, "UDP payload bytes (default 1472)", 32, 1472);
    cli::add_number(app, "--settle", o.settle_ms, "ms to wait after the last send (default 1000)", 0, 60000);
    cli::add_number(app, "--rt-priority", o.rt_priority, "SCHED_FIFO priority (default 5, below the link's 10; 0 = normal)",
                    0, 99);
    app.add_option("--json", o.json_path, "results as JSON");
    app.add_option("--drops", o.drops_path, "lost stream sequence numbers, one a line");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e, out, err);
        err << "churn-link measure: " << e.what() << "\n";
        return 2;
    }
    return -1;
}

}  // namespace churn
