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

std::vector<Applied> apply_profile(const Profile& profile, const std::string& netns) {
    if (!profile.problems.empty())
        throw SysctlError(profile.problems.front().str() + " (churn-sysctl lint " + profile.path + ")");
    if (netns.empty()) throw SysctlError("apply: --netns NS is required: a profile is written inside a lab namespace, never on the host");

    std::optional<Netns> target;
    std::optional<InNetns> inside;
    try {
        target.emplace(Netns::open(netns));
        // setns(CLONE_NEWNET) for this thread: from here on every open() under /proc/sys/net resolves
        // in the target namespace. InNetns goes home when this function returns or throws.
        inside.emplace(&*target);
    } catch (const std::system_error& e) {
        throw SysctlError(std::string("--netns ") + e.what());
    }
    // thread-self, not self: setns() moved this thread only, and /proc/self/ns/net names the thread
    // group leader's namespace (the same here, single-threaded; exact regardless).
    if (ns_id("/proc/thread-self/ns/net") == ns_id("/proc/1/ns/net"))
        throw SysctlError("--netns " + netns + ": that is the host's network namespace (the one PID 1 is in); "
                          "refusing to write the host's sysctls (an operator applies a profile with sysctl -p FILE)");

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
