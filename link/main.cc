// churn-link: an emulated WAN link (delay, seeded loss, rate, drop-tail queue) between two network
// namespaces through TUN devices, for kernels without sch_netem. See link/relay.h and link/path.h.
//
//   churn-link [run] --ns-a NS --ns-b NS [--delay MS] [--loss PCT] [--rate MBIT] [--queue-pkts N] ...
//   churn-link measure --ns-a NS --ns-b NS [--pings N] [--stream-count N --stream-mbit R] --json F
#include <cstring>

#include "link/main.h"

int main(int argc, char** argv) {
    const char* const* args = argv;
    if (argc > 1 && std::strcmp(argv[1], "measure") == 0) return churn::measure_main(argc - 1, args + 1);
    if (argc > 1 && std::strcmp(argv[1], "run") == 0) return churn::link_main(argc - 1, args + 1);
    return churn::link_main(argc, args);
}
