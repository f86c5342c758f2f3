// listener.h: the listening socket, its accept loop, and the pool of Connection objects.
//
// Edge-triggered: one EPOLLIN edge may stand for many queued connections, so on_events accepts until
// EAGAIN. accept4() errors fall in three groups (accept(2), "Error handling"):
//   expected     EAGAIN (queue drained), ECONNABORTED (peer reset while queued), EINTR (retried inside
//                accept_one), and the new socket's network errors Linux passes on (EPROTO, ENETDOWN, ...):
//                counted, keep accepting;
//   resources    EMFILE/ENFILE: muduo's spare-fd trick (below); ENOBUFS/ENOMEM: counted, retry in 10 ms;
//   bugs         EBADF, EINVAL, ENOTSOCK, EFAULT: thrown, the run stops loudly.
//
// The spare-fd trick: at EMFILE the connection stays in the accept queue, the listening socket stays
// readable, and (level-triggered) the loop would spin; (edge-triggered) the queue would just sit there
// while clients time out. So one fd (/dev/null) is held in reserve: at EMFILE we close it, accept the
// connection, close that at once (the client sees a clean close instead of a hang), and reopen the spare.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "loop/reactor.h"
#include "server/connection.h"
#include "server/options.h"
#include "server/response.h"
#include "server/stats.h"

namespace churn {

class Listener final : public Reactor::Handler {
public:
    // socket + bind + listen (throws std::system_error naming the call and address), then watch().
    Listener(Reactor& reactor, const ServerOptions& opt, const Responses& responses, ServerStats& stats);
    ~Listener() override;
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    void on_events(uint32_t events) override;  // the accept loop

    std::string local() const;
    // A Connection that closed itself hands itself back here (see connection.h on lifetimes).
    void release(Connection* c);
    // At exit: close every connection still open.
    void abandon_all();

private:
    void admit(int fd);
    int shed_one(int err);
    void retry_later();

    Reactor& reactor_;
    const ServerOptions& opt_;
    const Responses& responses_;
    ServerStats& stats_;
    int fd_ = -1;
    int spare_fd_ = -1;
    bool retry_armed_ = false;
    std::vector<std::unique_ptr<Connection>> pool_;  // every Connection ever made; reused, never freed
    std::vector<Connection*> free_;
};

}  // namespace churn
