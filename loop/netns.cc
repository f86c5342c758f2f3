#include "loop/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <system_error>

#include "loop/sys.h"

namespace churn {

namespace {
[[noreturn]] void fail(int err, const std::string& what) { throw_error(err, what); }
}  // namespace

std::string netns_path(const std::string& name_or_path) {
    return name_or_path.find('/') == std::string::npos ? "/run/netns/" + name_or_path : name_or_path;
}

Netns Netns::open(const std::string& name_or_path) {
    if (name_or_path.empty()) fail(EINVAL, "network namespace: empty name");
    std::string path = netns_path(name_or_path);
    // O_RDONLY is enough: setns() needs an fd that refers to the namespace, not write access to it.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT) fail(err, name_or_path + ": no such network namespace: " + sys_message("open", path, err) + "; see ip netns list");
        fail(err, name_or_path + ": " + sys_message("open", path, err));
    }
    return Netns(fd, name_or_path, path);
}

Netns Netns::current() {
    // The way back is setns() on this fd, not a path: our own namespace may have no name in /run/netns.
    int fd = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        fail(err, sys_message("open", "/proc/self/ns/net", err));
    }
    return Netns(fd, "", "/proc/self/ns/net");
}

Netns::~Netns() {
    if (fd_ >= 0) ::close(fd_);
}

void Netns::enter() const {
    // CLONE_NEWNET, not 0: the kernel then checks that the fd really is a network namespace (a path to
    // some other nsfs file, or to a plain file, gives EINVAL instead of switching something else).
    if (::setns(fd_, CLONE_NEWNET) == 0) return;
    int err = errno;
    std::string what = sys_message("setns", path_ + ", CLONE_NEWNET", err);
    if (err == EPERM) what += " (entering a network namespace needs CAP_SYS_ADMIN: run as root)";
    if (err == EINVAL) what += " (not a network namespace)";
    fail(err, name_.empty() ? what : name_ + ": " + what);
}

InNetns::InNetns(const Netns* target) {
    if (target) go(*target);
}

InNetns::InNetns(const std::string& name_or_path) {
    opened_ = new Netns(Netns::open(name_or_path));
    try {
        go(*opened_);
    } catch (...) {
        delete opened_;
        throw;
    }
}

void InNetns::go(const Netns& target) {
    home_ = new Netns(Netns::current());
    try {
        target.enter();
    } catch (...) {
        delete home_;
        home_ = nullptr;
        throw;
    }
}

InNetns::~InNetns() {
    if (home_) {
        // Going home cannot fail for a namespace we were in a moment ago with the same privileges; if
        // it ever did, everything created next would land in the wrong namespace: stop loudly.
        try {
            home_->enter();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "cannot return to the original network namespace: %s\n", e.what());
            std::abort();
        }
        delete home_;
    }
    delete opened_;
}

}  // namespace churn
