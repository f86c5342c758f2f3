// evidence.h: what the generated blocks of EXPERIMENTS.md contain, computed from committed evidence/.
//
// Block NAME comes from evidence/NAME/:
//   table.md   the table, as `churn-report table` wrote it
//   meta.json  command, kernel, machine and date of the run, for the line under the table
// When the raw files of a compare run are there too (churn.json, pooled.json, *.tw.csv, sysctl.json),
// the table is rendered again from them: table.md is derived, so a number typed into it by hand shows up
// as a difference (stale_tables), and `experiments` rewrites it.
// A directory holding cc.json (make run-cc) renders from it instead: blocks NAME (the table and the
// meta line), NAME.checks and NAME.ss (report/cc.h). One holding levers.json (make run-levers): NAME (table,
// verdicts, meta line) and NAME.rung.ROW (one line quoting a row, for RUNBOOK.md; report/levers.h). One
// holding synflood.json (make run-synflood): NAME and its views (report/synflood.h, evidence.cc).
#pragma once

#include <string>
#include <vector>

namespace churn::report {

class Evidence {
public:
    explicit Evidence(std::string dir) : dir_(std::move(dir)) {}

    // The content of block `name`, ending with a newline. Throws ReportError when evidence/NAME/ has
    // neither the raw files nor table.md.
    std::string block(const std::string& name) const;

    // table.md files (paths) that differ from what their raw files render to.
    std::vector<std::string> stale_tables(const std::vector<std::string>& names) const;
    // Rewrite those table.md files; returns the paths rewritten.
    std::vector<std::string> refresh_tables(const std::vector<std::string>& names) const;

private:
    std::string table(const std::string& name) const;
    bool has_raw(const std::string& name) const;
    std::string dir_;
};

// "Run: `make compare ...` on HOST (2 CPUs), kernel K, DATE, commit C." from a meta.json's text.
std::string meta_line(const std::string& meta_json_text, const std::string& name);

}  // namespace churn::report
