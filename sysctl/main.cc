// churn-sysctl: the kernel settings of connection churn, with the measurement behind each.
//
//   churn-sysctl check [--netns NS] [--profile F]... [--json] [--strict]   read-only: values, profiles, dangers
//   churn-sysctl show  [--netns NS] [--json]                                the churn-relevant net.* values
//   churn-sysctl lint  F... [--keys]                                        every setting justified, well formed
//   churn-sysctl apply --netns NS F                                         write F inside NS (never the host)
//
// Exit status: 0 ok; 1 check --strict found a warning, or apply read back another value; 2 bad input or a
// one-line error (missing file, lint problem, unknown namespace, the host's namespace, no permission).
#include <iostream>

#include <CLI/CLI.hpp>

#include "sysctl/commands.h"
#include "sysctl/proc_sys.h"

using namespace churn::sysctl;

int main(int argc, char** argv) {
    CLI::App app{"churn-sysctl: sysctl profiles (sysctl.d syntax) where every setting names the run-levers row that "
                 "justifies it; a read-only check of a host's values against them; apply inside a lab namespace only"};
    app.name("churn-sysctl");
    app.require_subcommand(1);

    std::string dirs;
    for (const std::string& d : profile_dirs()) dirs += (dirs.empty() ? "" : ", ") + d;

    CheckArgs check;
    auto* c = app.add_subcommand("check", "read-only: the host's (or --netns NS's) churn sysctls, each profile beside them, "
                                          "and warnings: tiny tcp_max_tw_buckets, tcp_syncookies=0, a port range over "
                                          "listening ports, tcp_tw_recycle=1, tcp_tw_reuse=1 without timestamps");
    c->add_option("--netns", check.netns, "network namespace to read: NAME (/run/netns/NAME) or a path; default this host")
        ->type_name("NS");
    c->add_option("--profile", check.profiles,
                  "profile to compare (repeatable); default every *.conf in the first of: " + dirs)
        ->type_name("FILE");
    c->add_flag("--json", check.json, "one JSON object: values, listening_ports, findings, profiles[].would_add, warnings");
    c->add_flag("--strict", check.strict, "exit 1 when any warning is printed (notes do not count)");

    ShowArgs show;
    auto* s = app.add_subcommand("show", "the churn-relevant net.* values of this host or --netns NS");
    s->add_option("--netns", show.netns, "network namespace to read: NAME or a path")->type_name("NS");
    s->add_flag("--json", show.json, "one JSON object: {\"values\": {key: value or null}, ...}");

    LintArgs lint;
    auto* l = app.add_subcommand("lint", "parse profiles: sysctl.d syntax, net.* keys only, no duplicates, values of the "
                                         "key's form, and a '# why:' line naming a run-levers row and EXPERIMENTS.md §6 "
                                         "above every setting; problems as FILE:LINE: message, exit 2");
    l->add_option("FILE", lint.files, "profiles to lint")->required();
    l->add_flag("--keys", lint.keys, "print each setting's key (dotted), one a line, instead of the summary");

    ApplyArgs apply;
    auto* a = app.add_subcommand("apply", "write a profile inside a network namespace, read each value back; refuses "
                                          "without --netns and refuses the host's namespace (exit 2). On a real host the "
                                          "operator runs check first, then sysctl -p FILE");
    a->add_option("--netns", apply.netns, "the lab namespace: NAME (/run/netns/NAME) or a path")->type_name("NS");
    a->add_option("FILE", apply.file, "the profile")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        std::cerr << "churn-sysctl: " << e.what() << "\n";
        return 2;
    }
    try {
        if (*c) return run_check(check);
        if (*s) return run_show(show);
        if (*l) return run_lint(lint);
        if (*a) {
            if (apply.netns.empty())
                throw SysctlError("apply: --netns NS is required: a profile is written inside a lab namespace, never on the host "
                                  "(on a real host: churn-sysctl check, then sysctl -p FILE by the operator)");
            return run_apply(apply);
        }
    } catch (const SysctlError& e) {
        std::cerr << "churn-sysctl: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "churn-sysctl: " << e.what() << "\n";
        return 1;
    }
    return 2;
}
