// netns.h: entering a network namespace, to create something that then stays there.
//
// `ip netns add NAME` creates a network namespace and keeps it alive by bind-mounting its nsfs file on
// /run/netns/NAME. Opening that file gives an fd for the namespace; setns(fd, CLONE_NEWNET) moves the
// calling thread into it. A socket, a packet socket or a TUN device belongs to the namespace that was
// current when it was *created* (for TUN: when /dev/net/tun was opened), and keeps it for life. So one
// process can probe, capture on, or join two lab hosts: enter A, create, enter B, create, go home.
// setns(2) switches only the calling thread, which is all of a single-threaded churn tool.
#pragma once

#include <string>

namespace churn {

// NAME -> /run/netns/NAME (what `ip netns list` shows); anything with a '/' (/proc/PID/ns/net) stays.
std::string netns_path(const std::string& name_or_path);

// An open handle on a network namespace. Errors are std::system_error with one-line text: an unknown
// name says "no such network namespace", EPERM says it needs CAP_SYS_ADMIN.
class Netns {
public:
    static Netns open(const std::string& name_or_path);
    static Netns current();  // where this thread is now, to come back to

    Netns(Netns&& o) noexcept : fd_(o.fd_), name_(std::move(o.name_)), path_(std::move(o.path_)) { o.fd_ = -1; }
    Netns& operator=(Netns&&) = delete;
    Netns(const Netns&) = delete;
    ~Netns();

    void enter() const;  // setns(fd, CLONE_NEWNET)
    const std::string& name() const { return name_; }

private:
    Netns(int fd, std::string name, std::string path) : fd_(fd), name_(std::move(name)), path_(std::move(path)) {}
    int fd_;
    std::string name_, path_;
};

// Enter a namespace for the lifetime of this object, then return to where we were (also on an
// exception: a tool left in the wrong namespace would silently report or create on the wrong host).
class InNetns {
public:
    explicit InNetns(const Netns* target);            // nullptr: stay where we are
    explicit InNetns(const std::string& name_or_path);
    ~InNetns();
    InNetns(const InNetns&) = delete;
    InNetns& operator=(const InNetns&) = delete;

private:
    void go(const Netns& target);
    Netns* opened_ = nullptr;  // when constructed from a name
    Netns* home_ = nullptr;
};

}  // namespace churn
