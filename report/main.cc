// churn-report: tables and documents from lab results. Never measures anything itself: every number it
// prints was written by churn-client, the TIME-WAIT sampler or the lab scripts.
//
//   churn-report table DIR                              DIR/table.md from a compare run, printed
//   churn-report experiments --evidence DIR --out FILE  regenerate FILE's generated blocks
//   churn-report experiments ... --check                exit 1 if FILE differs from what they'd be
//   churn-report bench DIR                              DIR/bench.{json,md} from lab/bench.sh's runs
//   churn-report probe DIR SCENARIO                     DIR/SCENARIO.{tw.csv,probe.json} from churn-probe watch
//   churn-report cc DIR                                 DIR/cc.{json,md,gp} from lab/cc.sh's runs (make run-cc)
//   churn-report levers DIR                             DIR/levers.{json,md,gp} from lab/levers.sh (make run-levers)
//   churn-report synflood DIR                           DIR/synflood.{json,md,gp} from lab/synflood.sh (make run-synflood)
//   churn-report nagle DIR                              DIR/nagle.{json,md,gp} from lab/nagle.sh (make run-nagle)
//
// Exit status: 0 ok, 1 --check found a difference, 2 a missing or malformed input (one line on stderr).
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "report/bench.h"
#include "report/cc.h"
#include "report/evidence.h"
#include "report/levers.h"
#include "report/nagle.h"
#include "report/probe_run.h"
#include "report/results.h"
#include "report/splice.h"
#include "report/synflood.h"
#include "report/table.h"

using namespace churn::report;

namespace {

int cmd_table(const std::string& dir) {
    CompareRun run = load_compare_dir(dir);
    for (auto [name, tw] : {std::pair{"churn.tw.csv", &run.churn_tw}, std::pair{"pooled.tw.csv", &run.pooled_tw}})
        if (tw->malformed > 0)
            std::cerr << "churn-report: " << dir << "/" << name << ": " << tw->malformed << " malformed lines skipped\n";
    std::string md = render_table(run);
    write_text(dir + "/table.md", md);
    std::cout << md;
    return 0;
}

int cmd_experiments(const std::string& evidence_dir, const std::string& out, bool check) {
    std::string text = read_text(out);
    std::vector<std::string> names;
    try {
        for (const Block& b : find_blocks(text)) names.push_back(b.name);
    } catch (const ReportError& e) {
        throw ReportError(out + ": " + e.what());  // "EXPERIMENTS.md: line 12: END GENERATED: x without BEGIN"
    }
    Evidence ev(evidence_dir);
    auto generate = [&](const std::string& name) { return ev.block(name); };

    if (check) {
        for (const std::string& path : ev.stale_tables(names)) {
            std::cerr << "churn-report: " << path << " differs from what its JSON/CSV files render to (run: make experiments)\n";
            return 1;
        }
        if (auto stale = first_stale_block(text, generate)) {
            std::cerr << "churn-report: " << out << ": generated block '" << *stale
                      << "' differs from " << evidence_dir << "/ (edited by hand? run: make experiments)\n";
            return 1;
        }
        std::cout << out << ": " << names.size() << " generated block(s) match " << evidence_dir << "/\n";
        return 0;
    }

    for (const std::string& path : ev.refresh_tables(names)) std::cout << "rewrote " << path << " from its JSON/CSV files\n";
    std::string updated = splice_blocks(text, generate);
    if (updated == text) {
        std::cout << out << ": " << names.size() << " generated block(s) already up to date\n";
        return 0;
    }
    write_text(out, updated);
    std::cout << out << ": regenerated " << names.size() << " block(s) from " << evidence_dir << "/\n";
    return 0;
}

int cmd_probe(const std::string& dir, const std::string& scenario) {
    derive_probe_files(dir, scenario);
    std::cout << dir << "/" << scenario << ".tw.csv, " << dir << "/" << scenario << ".probe.json written from "
              << scenario << ".probe.jsonl\n";
    return 0;
}

int cmd_bench(const std::string& dir) {
    Bench b = load_bench_dir(dir);
    std::string md = render_bench_table(b);
    write_text(dir + "/bench.json", bench_json(b));
    write_text(dir + "/bench.md", md);
    std::cout << md;
    return 0;
}

// The plots are left to gnuplot (lab/cc.sh runs cc.gp in DIR): this program only reads and writes files.
int cmd_cc(const std::string& dir) {
    CcReport rep = load_cc_dir(dir);
    std::string md = render_cc_md(rep);
    write_text(dir + "/cc.json", cc_json(rep));
    write_text(dir + "/cc.md", md);
    write_text(dir + "/cc.gp", cc_gnuplot(rep));
    std::cout << md;
    return 0;
}

// Like cc: gnuplot runs levers.gp in DIR (lab/levers.sh), this program only reads and writes files.
int cmd_levers(const std::string& dir) {
    std::vector<LeverRow> rows = load_levers_dir(dir);
    std::string md = render_levers_md(rows);
    write_text(dir + "/levers.json", levers_json(rows));
    write_text(dir + "/levers.md", md);
    write_text(dir + "/levers.gp", levers_gnuplot(rows));
    std::cout << md;
    return 0;
}

// Like levers: gnuplot runs synflood.gp in DIR (lab/synflood.sh) and writes synrecv.svg.
int cmd_synflood(const std::string& dir) {
    std::vector<SynCase> cases = load_synflood_dir(dir);
    std::string md = render_synflood_md(cases);
    write_text(dir + "/synflood.json", synflood_json(cases));
    write_text(dir + "/synflood.md", md);
    write_text(dir + "/synflood.gp", synflood_gnuplot(cases));
    std::cout << md;
    return 0;
}

// Like synflood: gnuplot runs nagle.gp in DIR (lab/nagle.sh) and writes nagle.svg.
int cmd_nagle(const std::string& dir) {
    NagleReport rep = load_nagle_dir(dir);
    std::string md = render_nagle_md(rep);
    write_text(dir + "/nagle.json", nagle_json(rep));
    write_text(dir + "/nagle.md", md);
    write_text(dir + "/nagle.gp", nagle_gnuplot(rep));
    std::cout << md;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"churn-report: before/after tables and EXPERIMENTS.md blocks from churnlab results"};
    app.require_subcommand(1);

    std::string table_dir;
    auto* table = app.add_subcommand("table", "write DIR/table.md from a compare run (churn.json, pooled.json, "
                                              "*.tw.csv, sysctl.json, meta.json) and print it");
    table->add_option("DIR", table_dir, "results directory")->required();

    std::string evidence = "evidence", out = "EXPERIMENTS.md";
    bool check = false;
    auto* exp = app.add_subcommand("experiments", "regenerate the <!-- BEGIN/END GENERATED: name --> blocks of a "
                                                  "Markdown file from evidence/name/");
    exp->add_option("--evidence", evidence, "evidence directory")->capture_default_str();
    exp->add_option("--out", out, "Markdown file to update in place")->capture_default_str();
    exp->add_flag("--check", check, "change nothing; exit 1 if the file (or a table.md) differs from the evidence");

    std::string bench_dir;
    auto* bench = app.add_subcommand("bench", "medians and ratios of lab/bench.sh runs: DIR/bench.json, DIR/bench.md");
    bench->add_option("DIR", bench_dir, "bench results directory (with runs.tsv)")->required();

    std::string probe_dir, probe_scenario;
    auto* probe = app.add_subcommand("probe", "summarize DIR/SCENARIO.probe.jsonl (churn-probe watch) into SCENARIO.tw.csv "
                                              "and SCENARIO.probe.json");
    probe->add_option("DIR", probe_dir, "results directory")->required();
    probe->add_option("SCENARIO", probe_scenario, "churn or pooled")->required();

    std::string cc_dir;
    auto* cc = app.add_subcommand("cc", "the CUBIC vs BBR runs of lab/cc.sh (DIR/runs.tsv): DIR/cc.json, DIR/cc.md, "
                                        "DIR/cc.gp (gnuplot: cwnd.svg, throughput.svg)");
    cc->add_option("DIR", cc_dir, "results directory (with runs.tsv)")->required();

    std::string levers_dir;
    auto* levers = app.add_subcommand("levers", "the rows of lab/levers.sh (DIR/rows.tsv, DIR/ROW/): DIR/levers.json, "
                                                "DIR/levers.md, DIR/levers.gp (gnuplot: levers.svg)");
    levers->add_option("DIR", levers_dir, "results directory (with rows.tsv)")->required();

    std::string synflood_dir;
    auto* synflood = app.add_subcommand("synflood", "the cases of lab/synflood.sh (DIR/cases.tsv, DIR/CASE/): DIR/synflood.json, "
                                                    "DIR/synflood.md, DIR/synflood.gp (gnuplot: synrecv.svg)");
    synflood->add_option("DIR", synflood_dir, "results directory (with cases.tsv)")->required();

    std::string nagle_dir;
    auto* nagle = app.add_subcommand("nagle", "the cases of lab/nagle.sh (DIR/cases.tsv, DIR/CASE/): DIR/nagle.json, "
                                              "DIR/nagle.md, DIR/nagle.gp (gnuplot: nagle.svg)");
    nagle->add_option("DIR", nagle_dir, "results directory (with cases.tsv)")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        // One line, like every other error of every churn binary (CLI11's own exit() adds a second).
        std::cerr << "churn-report: " << e.what() << "\n";
        return 2;
    }

    try {
        if (*table) return cmd_table(table_dir);
        if (*exp) return cmd_experiments(evidence, out, check);
        if (*bench) return cmd_bench(bench_dir);
        if (*probe) return cmd_probe(probe_dir, probe_scenario);
        if (*cc) return cmd_cc(cc_dir);
        if (*levers) return cmd_levers(levers_dir);
        if (*synflood) return cmd_synflood(synflood_dir);
        if (*nagle) return cmd_nagle(nagle_dir);
    } catch (const ReportError& e) {
        std::cerr << "churn-report: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {  // e.g. std::bad_alloc; still one line, still "input problem"
        std::cerr << "churn-report: " << e.what() << "\n";
        return 2;
    }
    return 2;
}
