// tun.h: a TUN device, the kernel's "network interface whose wire is a file descriptor".
//
// Every IP packet the namespace's stack routes out of the device becomes one read() on the fd; every
// write() of an IP packet on the fd is received by the stack as if it had come in on the device. IFF_TUN:
// IP packets, no Ethernet header (so tcpdump on it sees DLT_RAW). IFF_NO_PI: no 4-byte packet-info prefix,
// so what we read is exactly the IP packet and its length is the IP length.
//
// Not persistent (no TUNSETPERSIST): the device exists as long as the fd is open. When churn-link exits,
// however it exits, the kernel closes the fd and deletes the device: nothing to clean up.
#pragma once

#include <string>

namespace churn {

struct Tun {
    int fd = -1;       // O_NONBLOCK: read until EAGAIN from an edge-triggered reactor
    std::string name;  // as the kernel named it (the name we asked for)
};

// Create TUN device `name` inside the network namespace at `netns_path`. Throws std::system_error naming
// the call: open(/dev/net/tun) ENOENT when the module or device node is missing, setns EPERM without
// root, ioctl(TUNSETIFF) EBUSY when `name` is already taken in that namespace.
Tun open_tun_in(const std::string& netns_path, const std::string& name);

}  // namespace churn
