// netns.h: probing a lab host from outside it, with setns(2).
//
// `ip netns add NAME` creates a network namespace and keeps it alive by bind-mounting its nsfs file on
// /run/netns/NAME. Opening that file gives an fd for the namespace; setns(fd, CLONE_NEWNET) moves the
// calling thread into it. Everything that is *created* afterwards belongs to it for good: a netlink
// socket dumps that namespace's sockets, an open /proc/net/* file reads its counters. So the probe
// enters a namespace only to create those, and goes home again; sampling never switches.
//
// Errors are one line each (ProbeError): an unknown NAME ("no such network namespace"), and setns
// without CAP_SYS_ADMIN (EPERM: "needs root").
#pragma once

#include <memory>
#include <string>

namespace churn::probe {

class Netns {
public:
    // NAME (looked up as /run/netns/NAME) or a path such as /proc/PID/ns/net. Throws ProbeError.
    static Netns open(const std::string& name);
    // The namespace this process started in, to come back to.
    static Netns current();

    Netns(Netns&& o) noexcept : fd_(o.fd_), name_(std::move(o.name_)), path_(std::move(o.path_)) { o.fd_ = -1; }
    Netns& operator=(Netns&&) = delete;
    Netns(const Netns&) = delete;
    ~Netns();

    // setns(fd, CLONE_NEWNET). Throws ProbeError ("--netns NAME: setns(...): EPERM ... (needs root)").
    void enter() const;

    const std::string& name() const { return name_; }

private:
    Netns(int fd, std::string name, std::string path) : fd_(fd), name_(std::move(name)), path_(std::move(path)) {}
    int fd_;
    std::string name_, path_;
};

// Enter `target` for the lifetime of this object, then return to where we were (also on an exception:
// a probe left in the wrong namespace would silently report the wrong host).
class InNetns {
public:
    explicit InNetns(const Netns* target);  // nullptr: stay where we are
    ~InNetns();
    InNetns(const InNetns&) = delete;
    InNetns& operator=(const InNetns&) = delete;

private:
    const Netns* target_;
    std::unique_ptr<Netns> home_;
};

}  // namespace churn::probe
