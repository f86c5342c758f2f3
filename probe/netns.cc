// netns.cc: setns into /run/netns/NAME and back; see netns.h.
#include "probe/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "loop/sys.h"
#include "probe/socket_record.h"

namespace churn::probe {

Netns Netns::open(const std::string& name) {
    if (name.empty()) throw ProbeError("--netns: empty name");
    // A bare name is what `ip netns list` shows; a path lets you name any process's namespace
    // (/proc/PID/ns/net) without `ip netns` having named it.
    std::string path = name.find('/') == std::string::npos ? "/run/netns/" + name : name;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT) throw ProbeError("--netns " + name + ": no such network namespace (" + path + ": ENOENT; see ip netns list)");
        throw ProbeError("--netns " + name + ": " + sys_message("open", path, err));
    }
    return Netns(fd, name, path);
}

Netns Netns::current() {
    int fd = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        throw ProbeError(sys_message("open", "/proc/self/ns/net", err));
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
    throw ProbeError(name_.empty() ? what : "--netns " + name_ + ": " + what);
}

InNetns::InNetns(const Netns* target) : target_(target) {
    if (!target_) return;
    home_ = std::make_unique<Netns>(Netns::current());
    target_->enter();
}

InNetns::~InNetns() {
    if (!home_) return;
    // Going home cannot fail for a namespace we were in a moment ago with the same privileges; if it
    // ever does, every later answer would be about the wrong host, so stop rather than carry on.
    try {
        home_->enter();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "churn-probe: cannot return to the original network namespace: %s\n", e.what());
        std::abort();
    }
}

}  // namespace churn::probe
