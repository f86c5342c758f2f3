#include "server/response.h"

namespace churn {

namespace {

Response make(std::string_view status, std::string_view connection, std::string_view body) {
    Response r;
    r.bytes = "HTTP/1.1 ";
    r.bytes += status;
    r.bytes += "\r\nServer: churn-server\r\nContent-Type: text/plain\r\nContent-Length: ";
    r.bytes += std::to_string(body.size());
    r.bytes += "\r\n";
    if (!connection.empty()) {
        r.bytes += "Connection: ";
        r.bytes += connection;
        r.bytes += "\r\n";
    }
    r.bytes += "\r\n";
    r.head = r.bytes.size();
    r.bytes += body;
    return r;
}

// A body a human can recognise in curl's output: lines of 'x' ending in '\n', exactly `n` bytes.
std::string fixed_body(size_t n) {
    std::string b(n, 'x');
    for (size_t i = 63; i < n; i += 64) b[i] = '\n';
    if (n > 0) b[n - 1] = '\n';
    return b;
}

}  // namespace

Responses Responses::build(size_t body_size) {
    Responses r;
    std::string body = fixed_body(body_size);
    r.keep_alive_11 = make("200 OK", "", body);
    r.keep_alive_10 = make("200 OK", "keep-alive", body);
    r.close = make("200 OK", "close", body);
    r.bad_request = make("400 Bad Request", "close", "Bad Request\n");
    r.header_too_large = make("431 Request Header Fields Too Large", "close", "Request Header Fields Too Large\n");
    r.not_implemented = make("501 Not Implemented", "close", "Not Implemented\n");
    r.continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";
    return r;
}

const Response& Responses::error(int status) const {
    if (status == 431) return header_too_large;
    if (status == 501) return not_implemented;
    return bad_request;
}

}  // namespace churn
