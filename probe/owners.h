// owners.h: which process holds a socket, found the way `ss -p` and lsof find it.
//
// sock_diag and /proc/net/tcp give a socket's inode number (idiag_inode), not its owner. Every open
// socket fd is a symlink /proc/PID/fd/N -> "socket:[INODE]", so we walk every process's fd directory
// and match the inodes we are looking for. Processes of every network namespace share one pid
// namespace here, so a lab host's sockets are found from outside it; socket inodes are unique across
// namespaces (one sockfs), so there is no mix-up.
//
// Reading another user's /proc/PID/fd needs root (ptrace access); those processes are counted as
// unreadable rather than silently skipped, so "no owner found" can be told from "not allowed to look".
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace churn::probe {

struct Owner {
    int pid = 0;
    int fd = -1;
    std::string comm;  // /proc/PID/comm: the name, 15 characters at most
};

struct OwnerScan {
    std::unordered_map<uint64_t, Owner> by_inode;
    size_t processes = 0;   // processes looked at
    size_t unreadable = 0;  // processes whose fd directory we could not read (EACCES, gone meanwhile)
};

// Owners of the given socket inodes. A socket shared by several processes (fork without exec) is
// attributed to the lowest pid that holds it.
OwnerScan find_owners(const std::unordered_set<uint64_t>& inodes);

// "socket:[12345]" -> 12345; 0 for anything else.
uint64_t socket_inode_of_link(const char* target, size_t len);

}  // namespace churn::probe
