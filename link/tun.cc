#include "link/tun.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "loop/netns.h"
#include "loop/sys.h"

namespace churn {

Tun open_tun_in(const std::string& netns_path, const std::string& name) {
    InNetns in(netns_path);
    // The namespace is fixed at open(), not at TUNSETIFF: the kernel's tun_chr_open() takes the opener's
    // current network namespace for the new tun file, and TUNSETIFF creates the device in that one. So the
    // open must happen here, inside `in`. (The device node itself is found through the mount namespace,
    // which setns(CLONE_NEWNET) does not change.)
    int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw_sys("open", "/dev/net/tun", errno);
    ifreq ifr{};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        ::close(fd);
        throw_sys("ioctl", "TUNSETIFF, " + name + ", IFF_TUN|IFF_NO_PI", e);
    }
    return {fd, ifr.ifr_name};
}

}  // namespace churn
