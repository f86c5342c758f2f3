// churn-server --leak-close-wait: off by default, on when asked (the behaviour itself is checked in the
// lab: tests/integration/t_probe_triage.sh and make run-leak).
#include <sstream>

#include <catch2/catch.hpp>

#include "server/options.h"

TEST_CASE("churn-server cli: --leak-close-wait", "[server]") {
    std::ostringstream out, err;
    churn::ServerOptions a, b;
    const char* plain[] = {"churn-server", "--listen", "127.0.0.1:18080"};
    REQUIRE(churn::parse_cli(3, plain, a, out, err) == -1);
    CHECK_FALSE(a.leak_close_wait);
    const char* leak[] = {"churn-server", "--listen", "127.0.0.1:18080", "--leak-close-wait"};
    REQUIRE(churn::parse_cli(4, leak, b, out, err) == -1);
    CHECK(b.leak_close_wait);
    CHECK(err.str().empty());
}
