#include "link/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "loop/sys.h"

namespace churn {

InNetns::InNetns(const std::string& path) {
    // Keep a handle on where we are now: the way back is setns() on this fd, not a path (our own
    // namespace may have no name under /run/netns).
    home_fd_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home_fd_ < 0) throw_sys("open", "/proc/self/ns/net", errno);
    // O_RDONLY is enough: setns() needs an fd that refers to the namespace, not write access to it.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        ::close(home_fd_);
        throw_sys("open", path, e);
    }
    // CLONE_NEWNET as nstype: the kernel then checks that fd really is a network namespace (EINVAL
    // otherwise), so a wrong path cannot move us into some other kind of namespace. Needs CAP_SYS_ADMIN.
    if (::setns(fd, CLONE_NEWNET) < 0) {
        int e = errno;
        ::close(fd);
        ::close(home_fd_);
        throw_sys("setns", path + ", CLONE_NEWNET", e);
    }
    ::close(fd);
}

InNetns::~InNetns() {
    // Going home cannot reasonably fail (we were there a moment ago and still hold the fd). If it did,
    // everything created next would land in the wrong namespace: stop loudly rather than carry on.
    if (::setns(home_fd_, CLONE_NEWNET) < 0) {
        std::fprintf(stderr, "%s\n", sys_message("setns", "back home, CLONE_NEWNET", errno).c_str());
        std::abort();
    }
    ::close(home_fd_);
}

}  // namespace churn
