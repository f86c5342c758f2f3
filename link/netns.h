// netns.h: entering a network namespace for a moment, to create something that then stays there.
//
// A socket or a TUN device belongs to the network namespace that was current when it was *created*, and
// keeps it for life, whatever namespace the process moves to afterwards. So one process can hold a TUN
// device in namespace A, another in namespace B, and sockets in both: enter A, create, enter B, create,
// come back. setns(2) switches only the calling thread, which is all of a single-threaded churn-link.
#pragma once

#include <string>

namespace churn {

// RAII: setns() into `path` (e.g. /run/netns/churnlab-x-cli) on construction, back to the namespace we
// started in on destruction. Throws std::system_error naming the call; ENOENT means "no such namespace".
class InNetns {
public:
    explicit InNetns(const std::string& path);
    ~InNetns();
    InNetns(const InNetns&) = delete;
    InNetns& operator=(const InNetns&) = delete;

private:
    int home_fd_ = -1;
};

}  // namespace churn
