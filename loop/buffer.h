// buffer.h: a byte buffer for non-blocking sockets, after muduo's Buffer.
//
//   +-------------------+------------------+------------------+
//   | consumed (free)   |  readable bytes  |  writable bytes  |
//   |                   |     (CONTENT)    |                  |
//   +-------------------+------------------+------------------+
//   0        <=      read_pos    <=     write_pos    <=     size
//
// Reading from a socket appends at write_pos; a parser consumes from read_pos. When the writable tail is
// too small, the readable bytes slide back to 0 first and the vector only grows if that is not enough.
// Edge-triggered rule: fill_from() reads until EAGAIN, growing as needed up to `max`; if it stops at
// the cap it says so (Fill::Full), and the owner must come back for the rest (Reactor::defer).
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

#include "loop/sys.h"

namespace churn {

class Buffer {
public:
    explicit Buffer(size_t initial = 4096) : data_(initial) {}

    size_t readable() const { return write_pos_ - read_pos_; }
    const char* peek() const { return data_.data() + read_pos_; }
    std::string_view view() const { return {peek(), readable()}; }
    void consume(size_t n) {
        read_pos_ += n;
        if (read_pos_ == write_pos_) read_pos_ = write_pos_ = 0;  // empty: start over at 0 for free
    }
    void clear() { read_pos_ = write_pos_ = 0; }

    void append(std::string_view s) {
        ensure(s.size());
        std::memcpy(data_.data() + write_pos_, s.data(), s.size());
        write_pos_ += s.size();
    }

    enum class Fill { Drained, Full, Eof, Error };
    struct FillResult {
        Fill how;
        size_t bytes;  // read in this call
        int err;
    };
    // Read from fd until EAGAIN (Drained), EOF, an error, or `max` readable bytes (Full).
    //
    // short_read_drains: for a TCP socket, a read that returns less than asked for means the receive
    // queue was empty at that moment; anything arriving later raises a new edge, so the EAGAIN read that
    // would follow is pure cost (a third of a keep-alive server's syscalls). The one thing a short read
    // does NOT tell us is that a FIN is queued behind the data, and the FIN's own edge may already have
    // been consumed with this event. So pass true only while no EPOLLRDHUP/EPOLLHUP/EPOLLERR has been
    // seen on the socket; after that, read to EAGAIN or EOF.
    FillResult fill_from(int fd, size_t max, bool short_read_drains = false);

    // Write readable bytes to fd until EAGAIN or empty. Returns WouldBlock when bytes remain.
    IoResult flush_to(int fd);

private:
    void ensure(size_t n) {
        if (data_.size() - write_pos_ >= n) return;
        if (data_.size() - readable() >= n) {  // enough room if we slide the content back to 0
            std::memmove(data_.data(), peek(), readable());
            write_pos_ = readable();
            read_pos_ = 0;
            return;
        }
        data_.resize(write_pos_ + n + data_.size() / 2);
    }

    std::vector<char> data_;
    size_t read_pos_ = 0;
    size_t write_pos_ = 0;
};

}  // namespace churn
