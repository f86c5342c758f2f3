// facts.cc: what check and show read from a namespace: sysctl values and listening ports. Read-only.
#include <filesystem>
#include <optional>
#include <system_error>

#include "loop/netns.h"
#include "probe/host.h"
#include "probe/tcp_states.h"
#include "sysctl/commands.h"
#include "sysctl/proc_sys.h"

namespace churn::sysctl {

std::vector<std::string> profile_dirs() {
    std::vector<std::string> dirs = {"sysctl"};
    std::error_code ec;
    // /proc/self/exe: where this binary is, so that an installed churn-sysctl finds the profiles
    // `make install` put beside it (PREFIX/share/churnlab/sysctl) and build/bin/churn-sysctl the source tree's.
    std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        dirs.push_back((exe.parent_path().parent_path() / "share/churnlab/sysctl").string());
        dirs.push_back((exe.parent_path().parent_path().parent_path() / "sysctl").string());
    }
    return dirs;
}

std::vector<std::string> default_profiles() {
    for (const std::string& d : profile_dirs()) {
        std::vector<std::string> found;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(d, ec))
            if (e.path().extension() == ".conf") found.push_back(e.path().string());
        if (!found.empty()) {
            std::sort(found.begin(), found.end());
            return found;
        }
    }
    return {};
}

HostFacts read_facts(const std::string& netns, const std::vector<std::string>& keys) {
    HostFacts f;
    {
        std::optional<Netns> target;
        std::optional<InNetns> inside;
        try {
            if (!netns.empty()) target.emplace(Netns::open(netns));
            // setns() only to read: net.* files answer for the namespace of the task that opens them.
            inside.emplace(target ? &*target : nullptr);
        } catch (const std::system_error& e) {
            throw SysctlError(std::string("--netns ") + e.what());
        }
        for (const std::string& k : keys)
            if (std::optional<std::string> v = read_value(k)) f.values[dotted_key(k)] = *v;
    }  // home again
    try {
        // The probe's host: sock_diag (or /proc/net/tcp) opened inside the namespace, LISTEN sockets only.
        probe::Host host(probe::HostSpec{netns.empty() ? "host" : netns, netns}, probe::HostOptions{});
        host.each_socket(probe::state_bit(probe::kListen), probe::Filter{}, 0,
                         [&](const probe::SockRecord& r, const probe::DiagMessage*) { f.listen_ports.insert(r.sport); });
    } catch (const probe::ProbeError& e) {
        throw SysctlError(e.what());
    }
    return f;
}

}  // namespace churn::sysctl
