// bulk.h: one TCP connection that sends as fast as the kernel lets it, for the congestion-control
// experiment (make run-cc). The receiver is churn-server --discard.
//
// The sender chooses its congestion control per socket (setsockopt TCP_CONGESTION, before connect(),
// so the handshake and the first window already belong to it) and asks the kernel every 100 ms how the
// connection is doing (getsockopt TCP_INFO): cwnd, ssthresh, retransmits, smoothed RTT, delivery and
// pacing rate, bytes acknowledged. Goodput is bytes acknowledged per second: what the receiver really
// got, not what we pushed into the send buffer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "client/options.h"
#include "loop/reactor.h"

struct tcp_info;

namespace churn {

struct TcpSample {
    double t_s = 0;              // since the connection was established
    uint32_t state = 0, cwnd = 0, ssthresh = 0, mss = 0;
    uint32_t retrans = 0, total_retrans = 0, lost = 0;
    uint32_t rtt_us = 0, rttvar_us = 0, rto_us = 0;
    uint64_t delivery_rate = 0, pacing_rate = 0;  // bytes/s, as the kernel reports them
    uint64_t bytes_acked = 0;
    double goodput_mbps = 0;     // bytes acknowledged in this interval, per second
};

TcpSample sample_from(const struct tcp_info& ti, double t_s);
// One line in the style of `ss -tin`: "cubic wscale:7,7 rto:251 rtt:50.4/0.2 mss:1448 cwnd:72 ...".
std::string ss_style_line(const TcpSample& s, const std::string& cc, uint8_t snd_wscale, uint8_t rcv_wscale);

class BulkSender : public Reactor::Handler {
public:
    // Bytes written per wakeup at most before the rest is deferred (bulk.cc, fill(), says why).
    static constexpr size_t kWritePerWakeup = 4 << 20;

    // write_cap: kWritePerWakeup, except in tests, which shrink it to reach the cap with a socket's
    // default buffers.
    BulkSender(Reactor& reactor, const Options& opt, size_t write_cap = kWritePerWakeup);
    ~BulkSender() override;
    void start();
    void stop();  // SIGINT/SIGTERM or the end of the run
    void on_events(uint32_t events) override;

    nlohmann::json json() const;
    std::string summary() const;
    bool failed() const { return !error_.empty(); }
    bool connected() const { return connected_; }
    int fd() const { return fd_; }
    uint64_t bytes_written() const { return bytes_written_; }

private:
    void on_connected();
    void fill();
    void take_sample();
    void close_after_bytes();  // --bytes: the last byte is written; measure the queue, close (FIN or RST)

    Reactor& reactor_;
    const Options& opt_;
    size_t write_cap_;
    int fd_ = -1;
    bool connected_ = false;
    std::string error_;
    std::string buf_;            // what we write, over and over
    uint64_t bytes_written_ = 0;  // accepted by write(): in the kernel's send queue or beyond
    // --bytes: the send queue at the moment of close() (ioctl, bulk.cc says which counts what); -1 until
    // then. `closed_` says the run ended by --bytes, with our own close().
    int64_t unsent_at_close_ = -1, notsent_at_close_ = -1;
    bool closed_ = false;
    uint64_t t_connected_us_ = 0, t_end_us_ = 0;
    uint64_t prev_acked_ = 0;
    double prev_t_s_ = 0;
    std::vector<TcpSample> samples_;
    std::vector<std::string> ss_lines_;  // a few from the middle of the run
    std::string cc_;             // as the kernel confirmed it (getsockopt TCP_CONGESTION)
    uint8_t snd_wscale_ = 0, rcv_wscale_ = 0;
    TimerId sampler_ = 0;
};

}  // namespace churn
