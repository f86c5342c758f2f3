#include "client/options.h"

namespace churn {

bool parse_url(const std::string& text, Url& out, std::string& error) {
    const std::string scheme = "http://";
    if (text.rfind("https://", 0) == 0) {
        error = "URL '" + text + "': https is not supported (churn measures TCP; TLS would add its own round trips)";
        return false;
    }
    if (text.rfind(scheme, 0) != 0) {
        error = "URL must start with http://, got '" + text + "'";
        return false;
    }
    std::string rest = text.substr(scheme.size());
    size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    out.path = slash == std::string::npos ? "/" : rest.substr(slash);
    if (authority.empty()) {
        error = "URL has no host: '" + text + "'";
        return false;
    }
    out.host_header = authority;
    // Endpoint::parse wants HOST:PORT; an http URL may leave the port out. In a URL an IPv6 host is
    // always bracketed, so a ':' outside brackets can only start the port.
    bool has_port = authority.front() == '[' ? authority.find("]:") != std::string::npos
                                             : authority.find(':') != std::string::npos;
    std::string with_port = has_port ? authority : authority + ":80";
    std::string why;
    if (!Endpoint::parse(with_port, out.endpoint, why)) {
        error = "bad URL '" + text + "': " + why;
        return false;
    }
    return true;
}

const char* mode_name(Options::Mode m) {
    switch (m) {
        case Options::Mode::Churn: return "churn";
        case Options::Mode::Pool: return "pool";
        case Options::Mode::Bulk: return "bulk";
    }
    return "?";
}

}  // namespace churn
