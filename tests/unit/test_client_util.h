// test_client_util.h: churn-client's command line run in-process, for the unit tests of its options
// (test_client_cli.cc, test_client_write.cc): what it printed, its exit code and the options it built.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "client/options.h"

namespace churn::test {

struct Cli {
    int rc;
    std::string out, err;
    churn::Options opt;
};

inline Cli run_cli(std::vector<std::string> args) {
    args.insert(args.begin(), "churn-client");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    Cli c;
    std::ostringstream out, err;
    c.rc = churn::parse_client_cli(static_cast<int>(argv.size()), argv.data(), c.opt, out, err);
    c.out = out.str();
    c.err = err.str();
    return c;
}

// Bad input: one line on stderr naming what is wrong (NAMES), exit 2, nothing on stdout.
inline void check_bad(const std::vector<std::string>& args, const std::string& names) {
    Cli c = run_cli(args);
    INFO("args: " << Catch::Detail::stringify(args) << "\nstderr: " << c.err);
    CHECK(c.rc == 2);
    CHECK(c.err.find(names) != std::string::npos);
    CHECK(std::count(c.err.begin(), c.err.end(), '\n') == 1);
    CHECK(c.out.empty());
}

inline const std::string U = "http://198.18.0.2:8080/";

}  // namespace churn::test
