// fuzz_profile.cc: libFuzzer target for `make fuzz`: arbitrary bytes as a sysctl profile, through the
// parser and lint (sysctl/profile.h). A profile comes from whoever wrote the file: the contract is "every
// line is a setting, a comment, a blank or a problem with its line number; never a crash", and a profile
// that lints clean holds only justified net.* settings.
#include <cstdint>
#include <string_view>

#include "sysctl/proc_sys.h"
#include "sysctl/profile.h"

using namespace churn::sysctl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    int lines = 0;
    for (char c : text) lines += c == '\n';
    lines += !text.empty() && text.back() != '\n';
    Profile p = parse_profile(text, "fuzz.conf");
    for (const Problem& pr : p.problems)
        if (pr.line < 1 || pr.line > lines || pr.message.empty()) __builtin_trap();
    for (const Setting& s : p.settings) {
        if (s.line < 1 || s.line > lines || s.key.empty() || s.value.empty()) __builtin_trap();
        // The dotted key and its /proc/sys path name the same file both ways.
        if (proc_path(s.key) != proc_path(proc_path(s.key).substr(10))) __builtin_trap();
        if (p.problems.empty() && (s.rows.empty() || s.key.rfind("net.", 0) != 0)) __builtin_trap();
    }
    return 0;
}
