// proc_sys.cc: /proc/sys read and written by hand; see proc_sys.h.
#include "sysctl/proc_sys.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "loop/sys.h"

namespace churn::sysctl {

std::string dotted_key(std::string_view key) {
    size_t sep = key.find_first_of("./");
    std::string out(key);
    if (sep == std::string::npos || key[sep] == '.') return out;
    // Slashed form: the path as it stands. Swap so that a dot inside a path component (a VLAN device
    // eth0.100) survives the trip back through proc_path().
    for (char& c : out) c = c == '/' ? '.' : c == '.' ? '/' : c;
    return out;
}

std::string proc_path(std::string_view key) {
    std::string d = dotted_key(key);
    for (char& c : d) c = c == '.' ? '/' : c == '/' ? '.' : c;
    return "/proc/sys/" + d;
}

std::string squeeze(std::string_view text) {
    std::string out;
    bool space = false;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

std::optional<std::string> read_value(std::string_view key) {
    std::string path = proc_path(key);
    // Opened now, in the namespace this thread is in now: that is the namespace whose value we get.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string text;
    // No sysctl is 1 MiB long; past that, stop rather than grow forever. A failed read is EIO or EPERM,
    // e.g. net.ipv6.conf.*.stable_secret before it is set: no value, like a missing file.
    int err = read_to_end(fd, text, 1 << 20);
    ::close(fd);
    if (err && err != EFBIG) return std::nullopt;
    return squeeze(text);
}

std::vector<long> read_longs(std::string_view key) {
    std::optional<std::string> v = read_value(key);
    std::vector<long> out;
    if (!v || v->empty()) return out;
    const char* p = v->c_str();
    while (*p) {
        char* end = nullptr;
        errno = 0;
        long x = std::strtol(p, &end, 10);
        if (end == p || errno == ERANGE) return {};
        out.push_back(x);
        p = end;
        while (*p == ' ') ++p;
    }
    return out;
}

std::vector<WriteResult> write_values(const std::vector<WriteOp>& ops) {
    std::vector<WriteResult> res(ops.size());
    std::vector<int> fds(ops.size(), -1);
    auto close_all = [&] {
        for (int& fd : fds)
            if (fd >= 0) ::close(fd), fd = -1;
    };
    // Pass 1: open every file. Opening for writing is where the kernel says ENOENT (no such sysctl in
    // this namespace: net.core.rmem_max exists only in the initial one) or EACCES (not root), so a
    // profile with such a key fails here, before the first value has changed.
    for (size_t i = 0; i < ops.size(); ++i) {
        res[i].key = ops[i].key;
        std::string path = proc_path(ops[i].key);
        fds[i] = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fds[i] >= 0) continue;
        int err = errno;
        std::string msg = ops[i].key + ": " + sys_message("open", path + ", O_WRONLY", err);
        if (err == ENOENT) msg += " (no such sysctl in this network namespace)";
        if (err == EACCES || err == EPERM) msg += " (writing sysctls needs root)";
        if (ops[i].optional) {
            res[i].skipped = msg;
            continue;
        }
        close_all();
        throw SysctlError(msg);
    }
    // Pass 2: one write() per value, with the newline sysctl(8) sends too.
    for (size_t i = 0; i < ops.size(); ++i) {
        if (fds[i] < 0) continue;
        std::string text = ops[i].value + "\n";
        ssize_t n = ::write(fds[i], text.data(), text.size());
        int err = errno;
        ::close(fds[i]);
        fds[i] = -1;
        if (n == static_cast<ssize_t>(text.size())) {
            res[i].written = true;
            continue;
        }
        std::string msg = ops[i].key + ": " +
                          (n < 0 ? sys_message("write", proc_path(ops[i].key) + ", \"" + ops[i].value + "\"", err)
                                 : "write(" + proc_path(ops[i].key) + "): short write, " + std::to_string(n) + " of " +
                                       std::to_string(text.size()) + " bytes");
        if (n < 0 && err == EINVAL) msg += " (the kernel refused the value)";
        if (ops[i].optional) {
            res[i].skipped = msg;
            continue;
        }
        close_all();
        throw SysctlError(msg);
    }
    return res;
}

}  // namespace churn::sysctl
