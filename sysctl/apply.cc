// apply.cc: setns, prove it is not the host, write, read back; see apply.h.
#include "sysctl/apply.h"

#include <sys/stat.h>

#include <cerrno>
#include <optional>
#include <system_error>

#include "loop/netns.h"
#include "loop/sys.h"
#include "sysctl/proc_sys.h"

namespace churn::sysctl {

NsId ns_id(const std::string& path) {
    struct stat st {};
    // stat(), not lstat(): /proc/PID/ns/net is a magic link to the nsfs inode, and the inode is the
    // namespace's identity. Reading PID 1's needs the right to ptrace it (root): without it we cannot
    // tell the host from a lab namespace, and then we refuse rather than guess.
    if (::stat(path.c_str(), &st) != 0) {
        int err = errno;
        throw SysctlError("cannot tell whether the target is the host's network namespace: " + sys_message("stat", path, err));
    }
    return {st.st_dev, st.st_ino};
}

std::optional<NsId> ns_id_if_allowed(const std::string& path) {
    struct stat st {};
    // The same stat(); EACCES/EPERM (no ptrace access to that process) is an answer, not an error.
    if (::stat(path.c_str(), &st) == 0) return NsId{st.st_dev, st.st_ino};
    if (errno == EACCES || errno == EPERM) return std::nullopt;
    return ns_id(path);  // any other failure: throw, naming it
}

std::vector<Applied> apply_profile(const Profile& profile, const std::string& netns) {
    if (!profile.problems.empty())
        throw SysctlError(profile.problems.front().str() + " (churn-sysctl lint " + profile.path + ")");
    if (netns.empty()) throw SysctlError("apply: --netns NS is required: a profile is written inside a lab namespace, never on the host");

    std::optional<Netns> target;
    try {
        target.emplace(Netns::open(netns));  // an unknown name fails here, with the namespace named
    } catch (const std::system_error& e) {
        throw SysctlError(std::string("--netns ") + e.what());
    }
    // "The host", read before setns(): the namespace this process started in, and PID 1's. The first,
    // because a shell in a container or a session may not be in PID 1's namespace, and what its user
    // calls the host is then their own. PID 1's link may be closed to us even as root (measured on this
    // project's VM: EACCES, its PID 1 is a sandbox's non-dumpable init); then no one here can setns()
    // into it through /proc/1 either, and the namespace we started in is the host as far as we can see.
    NsId home = ns_id("/proc/thread-self/ns/net");
    std::optional<NsId> init = ns_id_if_allowed("/proc/1/ns/net");
    NsId want = ns_id(netns_path(netns));
    if (want == home)
        throw SysctlError("--netns " + netns + ": that is the network namespace churn-sysctl runs in (on a host, the host's); "
                          "refusing to write it: run apply from outside the lab namespace (on a host: sysctl -p FILE)");
    if (init && want == *init)
        throw SysctlError("--netns " + netns + ": that is the host's network namespace (the one PID 1 is in); "
                          "refusing to write the host's sysctls (an operator applies a profile with sysctl -p FILE)");
    std::optional<InNetns> inside;
    try {
        // setns(CLONE_NEWNET) for this thread: from here on every open() under /proc/sys/net resolves
        // in the target namespace. InNetns goes home when this function returns or throws.
        inside.emplace(&*target);
    } catch (const std::system_error& e) {
        throw SysctlError(std::string("--netns ") + e.what());
    }
    // What we entered is what we checked (thread-self: setns() moved this thread only). A bind mount
    // replaced between the stat() and the open() would show here, before anything is written.
    if (!(ns_id("/proc/thread-self/ns/net") == want))
        throw SysctlError("--netns " + netns + ": the namespace entered is not the one checked; nothing written");

    std::vector<Applied> out;
    std::vector<WriteOp> ops;
    for (const Setting& s : profile.settings) {
        out.push_back({s.key, read_value(s.key).value_or(""), s.value, "", false, ""});
        ops.push_back({s.key, s.value, s.ignore_errors});
    }
    std::vector<WriteResult> res = write_values(ops);
    for (size_t i = 0; i < out.size(); ++i) {
        out[i].written = res[i].written;
        out[i].skipped = res[i].skipped;
        // Read back through a fresh open(): what the kernel stored, in the kernel's own spelling.
        out[i].after = read_value(out[i].key).value_or("");
    }
    return out;
}

}  // namespace churn::sysctl
