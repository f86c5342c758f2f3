// pieces.cc: request heads and bodies, cut into pieces (pieces.h has the picture).
#include "client/pieces.h"

#include <algorithm>

namespace churn {

std::string_view Pieces::piece(size_t i) const {
    size_t start = i == 0 ? 0 : piece_end[i - 1];
    return std::string_view(bytes).substr(start, piece_end[i] - start);
}

std::string request_head(const Url& url, Shape s) {
    // A body needs POST and Content-Length: the server reads exactly that many bytes after the head, and
    // answers only then (so a held-back body is a held-back response).
    std::string method = s.body ? "POST " : "GET ";
    std::string length = s.body ? "Content-Length: " + std::to_string(s.body) + "\r\n" : "";
    std::string first = method + url.path + " HTTP/1.1\r\nHost: " + url.host_header + "\r\nUser-Agent:";
    // "Connection: close" asks the server to close after its answer (RFC 9112 §9.6): the side that
    // closes first is the side that keeps TIME-WAIT, so --close server moves it off our ports.
    std::string rest = " churn-client\r\n" + length + (s.close ? "Connection: close\r\n" : "");
    size_t natural = first.size() + rest.size() + 2;  // + the blank line
    size_t pad = s.head > natural ? s.head - natural : 0;
    // Padding to the exact size asked: an "X-Pad: xxx" header when there is room for one (9 bytes with
    // an empty value), else extra spaces before the User-Agent value. Both are legal HTTP/1.1: a header
    // the server does not know is ignored, and optional whitespace after the colon is trimmed (RFC 9112
    // §5.1), so the request means the same whatever the padding.
    std::string xpad;
    if (pad >= 9) xpad = "X-Pad: " + std::string(pad - 9, 'x') + "\r\n";
    else first += std::string(pad, ' ');
    return first + rest + xpad + "\r\n";
}

Pieces build_pieces(Options::Pattern pattern, const Url& url, Shape s, uint32_t pipeline) {
    Pieces p;
    std::string head = request_head(url, s), body(s.body, 'b');
    auto cut = [&p] { p.piece_end.push_back(p.bytes.size()); };
    switch (pattern) {
        case Options::Pattern::Single:
            p.bytes = head + body;
            cut();
            break;
        case Options::Pattern::Split:
            // Two pieces, as an application that writes the headers it has built, then the body it was
            // given, would hand them over. (Without a body there is only the head: one piece.)
            p.bytes = head;
            cut();
            if (s.body) {
                p.bytes += body;
                cut();
            }
            break;
        case Options::Pattern::Pipeline:
            // K whole requests back to back before any response is read (RFC 9112 §9.3.2); each one piece.
            for (uint32_t k = 0; k < std::max<uint32_t>(pipeline, 1); ++k) {
                p.bytes += head + body;
                cut();
                p.message_end.push_back(p.bytes.size());
            }
            return p;
    }
    p.message_end.push_back(p.bytes.size());
    return p;
}

size_t write_stop(const Pieces& p, Options::Write how, size_t written) {
    if (how == Options::Write::Gather) return p.bytes.size();
    const std::vector<size_t>& ends = how == Options::Write::Single ? p.message_end : p.piece_end;
    auto it = std::upper_bound(ends.begin(), ends.end(), written);
    return it == ends.end() ? p.bytes.size() : *it;
}

int gather_iov(const Pieces& p, size_t written, iovec* iov, int max) {
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i < p.pieces() && n < max; start = p.piece_end[i++]) {
        size_t end = p.piece_end[i];
        if (end <= written) continue;  // already in the kernel
        size_t from = std::max(start, written);
        // writev() takes non-const bases for the sake of readv(); it only reads them.
        iov[n].iov_base = const_cast<char*>(p.bytes.data() + from);
        iov[n].iov_len = end - from;
        ++n;
    }
    return n;
}

}  // namespace churn
