#include "loop/buffer.h"

#include <algorithm>

namespace churn {

Buffer::FillResult Buffer::fill_from(int fd, size_t max, bool short_read_drains) {
    size_t total = 0;
    for (;;) {
        if (readable() >= max) return {Fill::Full, total, 0};
        // Read into at least 4 KiB of room; one syscall per 4 KiB is cheap next to a handshake.
        ensure(std::min<size_t>(std::max<size_t>(4096, data_.size() - write_pos_), max - readable()));
        size_t room = std::min(data_.size() - write_pos_, max - readable());
        IoResult r = read_some(fd, data_.data() + write_pos_, room);
        switch (r.status) {
            case Io::Ok:
                write_pos_ += r.bytes;
                total += r.bytes;
                if (short_read_drains && r.bytes < room) return {Fill::Drained, total, 0};
                break;
            case Io::WouldBlock: return {Fill::Drained, total, 0};
            case Io::Eof: return {Fill::Eof, total, 0};
            case Io::Error: return {Fill::Error, total, r.err};
        }
    }
}

IoResult Buffer::flush_to(int fd) {
    size_t total = 0;
    while (readable() > 0) {
        IoResult r = write_some(fd, peek(), readable());
        if (r.status == Io::Ok) {
            consume(r.bytes);
            total += r.bytes;
            continue;
        }
        if (r.status == Io::WouldBlock) return IoResult::would_block();
        return r;
    }
    return IoResult::ok(total);
}

}  // namespace churn
