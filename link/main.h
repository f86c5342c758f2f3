// main.h: churn-link's subcommands, each in its own file (run.cc, measure.cc).
#pragma once

namespace churn {

int link_main(int argc, const char* const* argv);     // the link (default subcommand)
int measure_main(int argc, const char* const* argv);  // traffic through it, for link/check.sh

}  // namespace churn
