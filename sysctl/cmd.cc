// cmd.cc: churn-sysctl check, show, lint and apply: gather, decide (check.cc), print.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "sysctl/apply.h"
#include "sysctl/commands.h"
#include "sysctl/known.h"
#include "sysctl/proc_sys.h"

namespace churn::sysctl {
namespace {

using J = nlohmann::ordered_json;

std::string where(const std::string& netns) { return netns.empty() ? "this host" : "netns " + netns; }

// Every profile read and linted up front: a missing file or a lint problem is bad input (exit 2), said
// before anything is read from the host.
std::vector<Profile> load_clean(const std::vector<std::string>& paths) {
    std::vector<Profile> out;
    for (const std::string& p : paths) {
        Profile prof = load_profile(p);
        if (!prof.problems.empty()) {
            for (size_t i = 1; i < prof.problems.size(); ++i) std::cerr << prof.problems[i].str() << "\n";
            throw SysctlError(prof.problems.front().str());
        }
        out.push_back(std::move(prof));
    }
    return out;
}

J finding_json(const Finding& f) {
    return {{"level", level_name(f.level)}, {"key", f.key}, {"text", f.text}, {"fix", f.fix}};
}

void print_finding(const Finding& f, const char* indent) {
    std::cout << indent << level_name(f.level) << ": " << f.text << "\n";
    if (!f.fix.empty()) std::cout << indent << "  fix: " << f.fix << "\n";
}

std::string ports_text(const std::set<uint16_t>& ports) {
    std::string s;
    for (uint16_t p : ports) s += (s.empty() ? "" : " ") + std::to_string(p);
    return s.empty() ? "(none)" : s;
}

}  // namespace

int run_check(const CheckArgs& a) {
    std::vector<std::string> paths = a.profiles.empty() ? default_profiles() : a.profiles;
    std::vector<Profile> profiles = load_clean(paths);
    std::vector<std::string> keys = churn_keys();
    for (const Profile& p : profiles)
        for (const Setting& s : p.settings)
            if (std::find(keys.begin(), keys.end(), s.key) == keys.end()) keys.push_back(s.key);
    HostFacts facts = read_facts(a.netns, keys);
    std::vector<Finding> findings = check_host(facts);
    size_t warnings = std::count_if(findings.begin(), findings.end(), [](const Finding& f) { return f.level == Level::Warning; });

    std::vector<std::vector<Finding>> added;
    for (const Profile& p : profiles) {
        added.push_back(added_by(facts, p));
        warnings += std::count_if(added.back().begin(), added.back().end(), [](const Finding& f) { return f.level == Level::Warning; });
    }

    if (a.json) {
        J j = {{"where", where(a.netns)}, {"netns", a.netns}};
        J values = J::object();
        for (const std::string& k : keys) {
            auto it = facts.values.find(k);
            values[k] = it == facts.values.end() ? J(nullptr) : J(it->second);
        }
        j["values"] = values;
        j["listening_ports"] = facts.listen_ports;
        J fs = J::array();
        for (const Finding& f : findings) fs.push_back(finding_json(f));
        j["findings"] = fs;
        J ps = J::array();
        for (size_t i = 0; i < profiles.size(); ++i) {
            J rows = J::array();
            for (const Beside& b : beside(facts.values, profiles[i]))
                rows.push_back({{"key", b.key}, {"profile", b.profile}, {"current", b.present ? J(b.current) : J(nullptr)}, {"same", b.same}});
            J add = J::array();
            for (const Finding& f : added[i]) add.push_back(finding_json(f));
            ps.push_back({{"path", profiles[i].path}, {"settings", rows}, {"would_add", add}});
        }
        j["profiles"] = ps;
        j["warnings"] = warnings;
        std::cout << j.dump() << "\n";
    } else {
        std::cout << "churn-sysctl check: " << where(a.netns) << " (read-only)\n";
        std::cout << "  listening TCP ports: " << ports_text(facts.listen_ports) << "\n";
        for (const std::string& k : churn_keys()) {
            auto it = facts.values.find(k);
            std::printf("  %-34s %s\n", k.c_str(), it == facts.values.end() ? "(absent on this kernel)" : it->second.empty() ? "(empty)" : it->second.c_str());
        }
        for (const Finding& f : findings) print_finding(f, "");
        if (profiles.empty())
            std::cout << "no profiles given and none found (looked in ./sysctl, then beside the binary); use --profile FILE\n";
        for (size_t i = 0; i < profiles.size(); ++i) {
            std::cout << "\nprofile " << profiles[i].path << ":\n";
            std::printf("  %-34s %-16s %-16s\n", "key", "here", "profile");
            for (const Beside& b : beside(facts.values, profiles[i]))
                std::printf("  %-34s %-16s %-16s %s\n", b.key.c_str(), b.present ? b.current.c_str() : "(absent)", b.profile.c_str(),
                            b.same ? "same" : b.present ? "differs" : "absent here: cannot be applied");
            if (added[i].empty()) std::cout << "  applied here, it would add no warning\n";
            for (const Finding& f : added[i]) print_finding(f, "  applied here: ");
        }
        std::cout << "\n" << warnings << " warning(s)" << (a.strict && warnings ? " (--strict: exit 1)" : "") << "\n";
    }
    return a.strict && warnings ? 1 : 0;
}

int run_show(const ShowArgs& a) {
    HostFacts facts = read_facts(a.netns, churn_keys());
    if (a.json) {
        J values = J::object();
        for (const std::string& k : churn_keys()) {
            auto it = facts.values.find(k);
            values[k] = it == facts.values.end() ? J(nullptr) : J(it->second);
        }
        std::cout << J{{"where", where(a.netns)}, {"netns", a.netns}, {"values", values}, {"listening_ports", facts.listen_ports}}.dump() << "\n";
        return 0;
    }
    for (const std::string& k : churn_keys()) {
        auto it = facts.values.find(k);
        if (it != facts.values.end()) std::printf("%s = %s\n", k.c_str(), it->second.c_str());
    }
    return 0;
}

int run_lint(const LintArgs& a) {
    int bad = 0;
    for (const std::string& path : a.files) {
        Profile p = load_profile(path);
        for (const Problem& pr : p.problems) std::cerr << pr.str() << "\n";
        if (!p.problems.empty()) {
            bad = 2;
            continue;
        }
        if (a.keys) {
            for (const Setting& s : p.settings) std::cout << s.key << "\n";
            continue;
        }
        std::string rows;
        for (const Setting& s : p.settings)
            for (const std::string& r : s.rows) rows += (rows.empty() ? "" : ", ") + r;
        std::cout << path << ": " << p.settings.size() << " setting(s), each justified (run-levers rows " << (rows.empty() ? "-" : rows) << ")\n";
    }
    return bad;
}

int run_apply(const ApplyArgs& a) {
    Profile p = load_profile(a.file);
    if (!p.problems.empty()) {
        for (size_t i = 1; i < p.problems.size(); ++i) std::cerr << p.problems[i].str() << "\n";
        throw SysctlError(p.problems.front().str());
    }
    std::vector<Applied> done = apply_profile(p, a.netns);
    int rc = 0;
    for (const Applied& x : done) {
        if (!x.skipped.empty()) {
            std::cout << "netns " << a.netns << ": " << x.key << " skipped ('-' in the profile): " << x.skipped << "\n";
            continue;
        }
        std::cout << "netns " << a.netns << ": " << x.key << " " << (x.before.empty() ? "?" : x.before) << " -> " << x.value
                  << " (read back: " << x.after << ")\n";
        if (!x.matches()) {
            std::cerr << "churn-sysctl: netns " << a.netns << ": " << x.key << " reads back '" << x.after << "', not '" << x.value << "'\n";
            rc = 1;
        }
    }
    return rc;
}

}  // namespace churn::sysctl
