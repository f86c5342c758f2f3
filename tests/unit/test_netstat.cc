// /proc/net/{snmp,netstat,snmp6} under nstat's names: group + name, header and values paired.
#include <string>

#include <catch2/catch.hpp>

#include "probe/netstat.h"

using namespace churn::probe;

TEST_CASE("nstat names: TcpExt + TW = TcpExtTW, Tcp + ActiveOpens = TcpActiveOpens", "[probe]") {
    Counters c;
    parse_snmp_pairs("TcpExt: SyncookiesSent SyncookiesRecv TW TWRecycled ListenOverflows\n"
                     "TcpExt: 15903 0 155459 7938 2\n"
                     "IpExt: InNoRoutes InOctets\n"
                     "IpExt: 0 3433485270\n",
                     c);
    parse_snmp_pairs("Ip: Forwarding DefaultTTL InReceives\n"
                     "Ip: 2 64 11985880\n"
                     "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens CurrEstab\n"
                     "Tcp: 1 200 120000 -1 1751853 211841 4\n"
                     "IcmpMsg: InType3\n"
                     "IcmpMsg: 1\n",
                     c);
    parse_snmp6("Ip6InReceives                   \t3\nIcmp6InMsgs 0\n", c);
    CHECK(c.malformed == 0);
    CHECK(c.get("TcpExtTW") == 155459);
    CHECK(c.get("TcpExtTWRecycled") == 7938);
    CHECK(c.get("TcpExtSyncookiesSent") == 15903);
    CHECK(c.get("TcpExtListenOverflows") == 2);
    CHECK(c.get("IpExtInOctets") == 3433485270LL);
    CHECK(c.get("TcpActiveOpens") == 1751853);
    CHECK(c.get("TcpMaxConn") == -1);
    CHECK(c.get("IcmpMsgInType3") == 1);
    CHECK(c.get("Ip6InReceives") == 3);
    CHECK_FALSE(c.get("TW"));
    CHECK(c.list.front().name == "TcpExtSyncookiesSent");  // file order kept
    CHECK(c.list.size() == 7 + 3 + 7 + 1 + 2);
}

TEST_CASE("nstat: a header without matching values is skipped whole, the rest still parses", "[probe]") {
    Counters c;
    parse_snmp_pairs("TcpExt: A B C\n"
                     "TcpExt: 1 2\n"         // one value short: both lines skipped
                     "Tcp: ActiveOpens\n"
                     "Udp: 5\n"              // values of another group
                     "Udp: InDatagrams\n"
                     "Udp: 26\n"
                     "IpExt: X Y\n"
                     "IpExt: 1 nope\n"       // not a number
                     "Lonely: Header\n",     // no values line at all
                     c);
    CHECK(c.get("UdpInDatagrams") == 26);
    CHECK_FALSE(c.get("TcpExtA"));
    CHECK_FALSE(c.get("IpExtX"));
    CHECK(c.list.size() == 1);
    CHECK(c.malformed >= 3);
    Counters six;
    parse_snmp6("Ip6InReceives 3\nbroken\nIp6X 1 2\n", six);
    CHECK(six.list.size() == 1);
    CHECK(six.malformed == 2);
}

TEST_CASE("nstat: gauges and the churn set", "[probe]") {
    CHECK(is_gauge("TcpCurrEstab"));
    CHECK(is_gauge("TcpMaxConn"));
    CHECK(is_gauge("IpForwarding"));
    CHECK_FALSE(is_gauge("TcpActiveOpens"));
    const auto& names = churn_counters();
    CHECK(names.front() == "TcpActiveOpens");
    for (const char* n : {"TcpExtTW", "TcpExtTWRecycled", "TcpExtSyncookiesSent", "TcpExtListenOverflows"})
        CHECK(std::find(names.begin(), names.end(), n) != names.end());
}
