#include "synflood/options.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <ostream>

#include "loop/cli.h"

namespace churn::synflood {

int parse_cli(int argc, const char* const* argv, Options& opt, std::ostream& out, std::ostream& err) {
    CLI::App app{"churn-synflood: spoofed TCP SYNs from a raw socket, at a paced rate, against a listener in the "
                 "lab.\nOnly inside a lab network namespace (no default route), only to and from 198.18.0.0/15. "
                 "Stops after --count SYNs or --duration seconds, whichever comes first, or on SIGINT/SIGTERM."};
    app.name("churn-synflood");
    std::string syn_options = "mss";
    app.add_option("--target", opt.target_text, "the listener, A.B.C.D:PORT inside 198.18.0.0/15")
        ->required()->type_name("ADDR:PORT");
    app.add_option("--spoof", opt.spoof_text,
                   "source addresses, drawn at random from this prefix (/16 to /30, inside 198.18.0.0/15, "
                   "not containing the target), e.g. 198.19.0.0/16")
        ->required()->type_name("PREFIX");
    // Every number goes through loop/cli.h: finite, of the option's type, within these bounds.
    cli::add_number(app, "--rate", opt.rate, "SYNs per second (default 1000)", 1.0, kMaxRate)->type_name("PER_S");
    cli::add_number(app, "--count", opt.count, "SYNs to send at most (default: rate x duration)", uint64_t(1),
                    uint64_t(kMaxRate * kMaxDuration))->type_name("N");
    cli::add_number(app, "--duration", opt.duration_s, "seconds to run at most (default 10)", 0.001, kMaxDuration)
        ->type_name("S");
    cli::add_number(app, "--seed", opt.seed, "seed for source addresses, ports and ISNs (default 1): the same seed "
                                             "sends the same packets")->type_name("N");
    app.add_option("--syn-options", syn_options,
                   "TCP options in each SYN: mss (MSS 1460 only, default), none, or linux (MSS, SACK-permitted, "
                   "timestamps, NOP, wscale 7)")
        ->check(CLI::IsMember({"mss", "none", "linux"}))->type_name("mss|none|linux");
    app.add_option("--json", opt.json_path, "write the run's figures as JSON to FILE at exit")->type_name("FILE");
    app.add_flag("-q,--quiet", opt.quiet, "no progress line, no summary line");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e, out, err);  // --help
        err << "churn-synflood: " << e.what() << " (see --help)\n";
        return 2;
    }
    auto bad = [&err](const std::string& why) {
        err << "churn-synflood: " << why << "\n";
        return 2;
    };
    if (std::string why = parse_target(opt.target_text, opt.target, opt.port); !why.empty()) return bad("--target: " + why);
    if (std::string why = parse_prefix(opt.spoof_text, opt.spoof); !why.empty()) return bad("--spoof: " + why);
    if (std::string why = check_target(opt.target); !why.empty()) return bad("--target: " + why);
    if (std::string why = check_spoof(opt.spoof, opt.target); !why.empty()) return bad("--spoof: " + why);
    parse_syn_options(syn_options, opt.syn_options);  // IsMember above already refused anything else
    // No --count: whatever the rate fills the duration with, at least one SYN.
    if (!app.count("--count")) opt.count = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(opt.rate * opt.duration_s)));
    if (app.count("--json") && opt.json_path.empty()) return bad("--json: needs a file name");
    return -1;
}

}  // namespace churn::synflood
