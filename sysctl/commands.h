// commands.h: churn-sysctl's subcommands, parsed by main.cc. Each run_* returns the exit status and
// throws SysctlError for a one-line error (exit 2).
#pragma once

#include <string>
#include <vector>

#include "sysctl/check.h"

namespace churn::sysctl {

struct CheckArgs {
    std::string netns;                  // empty: the namespace we run in
    std::vector<std::string> profiles;  // empty: default_profiles()
    bool json = false;
    bool strict = false;
};
struct ShowArgs {
    std::string netns;
    bool json = false;
};
struct LintArgs {
    std::vector<std::string> files;
    bool keys = false;  // print each setting's key, one a line (lab/netns.sh records them)
};
struct ApplyArgs {
    std::string netns;
    std::string file;
};

int run_check(const CheckArgs& a);
int run_show(const ShowArgs& a);
int run_lint(const LintArgs& a);
int run_apply(const ApplyArgs& a);

// Where check looks when no --profile is given: the first of these directories with a *.conf in it.
std::vector<std::string> profile_dirs();
std::vector<std::string> default_profiles();

// The values of `keys` and the listening ports, read inside `netns` (empty: here). Read-only.
HostFacts read_facts(const std::string& netns, const std::vector<std::string>& keys);

}  // namespace churn::sysctl
