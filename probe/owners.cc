// owners.cc: socket inode -> pid through /proc/PID/fd; see owners.h.
#include "probe/owners.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace churn::probe {
namespace {

bool all_digits(const char* s) {
    if (!*s) return false;
    for (; *s; ++s)
        if (*s < '0' || *s > '9') return false;
    return true;
}

std::string read_comm(int pid) {
    std::string path = "/proc/" + std::to_string(pid) + "/comm";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "?";
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return "?";
    std::string s(buf, static_cast<size_t>(n));
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

}  // namespace

uint64_t socket_inode_of_link(const char* target, size_t len) {
    static const char prefix[] = "socket:[";
    const size_t plen = sizeof prefix - 1;
    if (len < plen + 2 || std::memcmp(target, prefix, plen) != 0 || target[len - 1] != ']') return 0;
    uint64_t ino = 0;
    auto [p, ec] = std::from_chars(target + plen, target + len - 1, ino);
    return ec == std::errc() && p == target + len - 1 ? ino : 0;
}

OwnerScan find_owners(const std::unordered_set<uint64_t>& inodes) {
    OwnerScan scan;
    if (inodes.empty()) return scan;
    DIR* proc = ::opendir("/proc");
    if (!proc) return scan;
    std::vector<int> pids;
    while (dirent* e = ::readdir(proc))
        if (all_digits(e->d_name)) pids.push_back(std::atoi(e->d_name));
    ::closedir(proc);
    // Lowest pid first, so a socket shared after fork() goes to the parent, deterministically.
    std::sort(pids.begin(), pids.end());

    for (int pid : pids) {
        ++scan.processes;
        std::string dir = "/proc/" + std::to_string(pid) + "/fd";
        // opendir, then readlinkat relative to its fd: one path lookup per process, not one per fd.
        DIR* d = ::opendir(dir.c_str());
        if (!d) {
            // EACCES: another user's process and we are not root. ENOENT: it exited since readdir.
            ++scan.unreadable;
            continue;
        }
        int dfd = ::dirfd(d);
        std::string comm;  // read once per process, and only if it holds one of ours
        while (dirent* e = ::readdir(d)) {
            if (e->d_name[0] == '.') continue;
            char target[64];
            ssize_t n = ::readlinkat(dfd, e->d_name, target, sizeof target);
            if (n <= 0 || static_cast<size_t>(n) >= sizeof target) continue;  // not a socket, or closed meanwhile
            uint64_t ino = socket_inode_of_link(target, static_cast<size_t>(n));
            if (!ino || !inodes.count(ino) || scan.by_inode.count(ino)) continue;
            if (comm.empty()) comm = read_comm(pid);
            scan.by_inode[ino] = Owner{pid, std::atoi(e->d_name), comm};
        }
        ::closedir(d);
        if (scan.by_inode.size() == inodes.size()) break;  // all found: no need to look further
    }
    return scan;
}

}  // namespace churn::probe
