// apply.h: a profile written into a named network namespace, never into the host's.
//
// Order: open /run/netns/NS; prove it is not the host's namespace: its nsfs inode differs from the one
// churn-sysctl started in and from PID 1's (when PID 1's can be read at all); setns() into it; check
// that the namespace entered is the one checked; open every file, write every value, read each back.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "sysctl/profile.h"

namespace churn::sysctl {

// A namespace's identity: the device and inode of its nsfs file (what `ls -iL /proc/PID/ns/net` shows).
struct NsId {
    dev_t dev = 0;
    ino_t ino = 0;
    bool operator==(const NsId&) const = default;
};
// stat(path): /proc/1/ns/net, /proc/thread-self/ns/net, /run/netns/NAME. Throws SysctlError.
NsId ns_id(const std::string& path);
// The same, but nullopt when the kernel denies access (EACCES/EPERM: another process's ns link).
std::optional<NsId> ns_id_if_allowed(const std::string& path);

struct Applied {
    std::string key, before, value, after;  // before/after as read from /proc/sys in the namespace
    bool written = false;
    std::string skipped;                    // a '-' setting that failed, and why
    bool matches() const { return !written || after == value; }
};

// Throws SysctlError (one line) for: a profile with lint problems, an unknown namespace, the host's
// namespace, a key the namespace lacks, a value the kernel refuses.
std::vector<Applied> apply_profile(const Profile& profile, const std::string& netns);

}  // namespace churn::sysctl
