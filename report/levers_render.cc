// levers_render.cc: levers.md, the runbook's one-line quotes and levers.gp; see levers.h.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "report/levers.h"
#include "report/results.h"
#include "report/table.h"

namespace churn::report {
namespace {

std::string s3(double x) { return format_sig(x, 3); }
std::string n(long x) { return std::to_string(x); }
// "3a-tw-reuse-under" -> "3a (tw-reuse-under)": how the docs name a row.
std::string row_name(const std::string& id) {
    size_t dash = id.find('-');
    return dash == std::string::npos ? id : id.substr(0, dash) + " (" + id.substr(dash + 1) + ")";
}

std::string model_cell(const LeverRow& r) {
    if (r.scenario == "pooled") return "— (no churn)";
    if (auto m = r.model_first_s()) return s3(*m);
    if (auto line = r.reuse_line_per_s()) return "never (below " + s3(*line) + "/s)";
    return "—";
}

}  // namespace

std::string render_levers_table(const std::vector<LeverRow>& rows) {
    std::string md =
        "| row | lever | req/s achieved (offered) | latency p50 / p99 (ms) | connect p99 (ms) | EADDRNOTAVAIL | first at (s) | "
        "model: first at (s) | TIME-WAIT peak client / server | TWRecycled | TimeWaitOverflow | RSTs sent client / server | bytes lost |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const LeverRow& r : rows) {
        std::string lever = "`" + r.settings + "`";
        if (!r.ran()) {
            md += "| " + r.id + " | " + lever + " | " + r.status + " | | | | | | | | | | |\n";
            continue;
        }
        md += "| " + r.id + " | " + lever + " | " + s3(r.achieved_rps) + " (" + s3(r.offered_rps) + ") | " + s3(r.p50_ms) + " / " +
              s3(r.p99_ms) + " | " + s3(r.connect_p99_ms) + " | " + n(r.eaddrnotavail) + " | " +
              (r.first_eaddrnotavail_s ? s3(*r.first_eaddrnotavail_s) : "—") + " | " + model_cell(r) + " | " + n(r.tw_peak_client) +
              " / " + n(r.tw_peak_server) + " | " + n(r.tw_recycled) + " | " + n(r.tw_overflow_client + r.tw_overflow_server) + " | " +
              n(r.rst_out_client) + " / " + n(r.rst_out_server) + " | " + (r.loss ? n(r.loss->lost()) : !r.loss_not_run.empty() ? "not run: " + r.loss_not_run : "—") + " |\n";
    }
    const LeverRow* f = nullptr;
    for (const LeverRow& r : rows)
        if (r.ran() && !f) f = &r;
    if (f)
        md += "\nEvery row: " + s3(f->offered_rps) + " requests/s offered for " + s3(f->duration_s) +
              " s in a fresh lab; the naive model's first EADDRNOTAVAIL is ports in range × source addresses ÷ offered rate "
              "(with tcp_tw_reuse=1: never below ports ÷ tcp_tw_reuse_delay per second). TIME-WAIT peaks and counter deltas "
              "are churn-probe's (every 100 ms, both hosts); RSTs are TcpOutRsts; bytes lost is row 6's bulk --linger0 case.\n";
    return md;
}

std::string render_levers_md(const std::vector<LeverRow>& rows) {
    std::string md = "## Kernel levers, one at a time\n\n" + render_levers_table(rows) + "\n### Per row\n\n";
    for (const LeverRow& r : rows) md += "- **" + row_name(r.id) + "**, " + r.what + ": " + r.verdict + ".\n";
    return md;
}

std::string render_lever_quote(const std::vector<LeverRow>& rows, const std::string& rung) {
    for (const LeverRow& r : rows) {
        if (r.id.rfind(rung + "-", 0) != 0) continue;
        std::string q = "> Measured (`make run-levers` row " + row_name(r.id) + ", `" + r.settings + "`): " + r.verdict;
        // A row that fell behind already says how much was answered; every other row gets it here.
        if (r.ran() && r.verdict.find("requests/s answered") == std::string::npos)
            q += "; " + s3(r.achieved_rps) + " of " + s3(r.offered_rps) + " requests/s answered";
        return q + ".\n";
    }
    throw ReportError("no run-levers row '" + rung + "' in the evidence");
}

std::vector<std::pair<double, double>> thin_max_per_second(const std::vector<std::pair<double, double>>& series) {
    std::vector<std::pair<double, double>> out;
    double second = 0;
    for (const auto& [t, v] : series) {
        double sec = std::floor(t);
        if (out.empty() || sec != second) {
            out.emplace_back(t, v);
            second = sec;
        } else if (v > out.back().second) {
            out.back() = {t, v};
        }
    }
    return out;
}

std::string levers_gnuplot(const std::vector<LeverRow>& rows) {
    std::vector<const LeverRow*> ran;
    for (const LeverRow& r : rows)
        if (r.ran()) ran.push_back(&r);
    if (ran.empty()) return "";
    double rate = 0, tw = 1, tmax = 1;
    for (const LeverRow* r : ran) {
        rate = std::max({rate, r->offered_rps, r->achieved_rps});
        for (const auto& [t, v] : r->tw_series) tw = std::max(tw, v), tmax = std::max(tmax, t);
        for (const auto& [t, v] : r->rps_series) tmax = std::max(tmax, t);
    }
    // A round tic step giving about `n` tics up to `top` (1, 2, 5 × a power of ten). gnuplot writes ~400
    // bytes of SVG per tic and grid line, per panel: with its automatic tics, that markup, not the data,
    // was most of the file.
    auto step = [](double top, double n) {
        double raw = top / n, mag = std::pow(10.0, std::floor(std::log10(raw)));
        for (double m : {1.0, 2.0, 5.0})
            if (m * mag >= raw) return m * mag;
        return 10 * mag;
    };
    std::ostringstream g;
    for (size_t k = 0; k < ran.size(); ++k) {
        g << "$rps" << k << " << EOD\n";
        for (const auto& [t, v] : ran[k]->rps_series) g << t << ' ' << v << '\n';
        g << "EOD\n$tw" << k << " << EOD\n";
        // Every 100 ms sample of every row made a 300 KB SVG; the largest of each second keeps the peaks
        // (and row 5's cap) while req/s is per second anyway.
        for (const auto& [t, v] : thin_max_per_second(ran[k]->tw_series)) g << t << ' ' << v << '\n';
        g << "EOD\n";
    }
    size_t cols = 3, nrows = (ran.size() + cols - 1) / cols;
    // Small multiples, one per row, with the same scales everywhere so panels compare at a glance:
    // achieved req/s (left, steps) and the client host's TIME-WAIT (right) on the load's time axis (named
    // once, in the title), horizontal grid lines only.
    g << "set terminal svg size 1200," << 260 * nrows + 60 << " dynamic enhanced font 'Helvetica,11' background rgb 'white'\n"
      << "set output 'levers.svg'\nset multiplot layout " << nrows << "," << cols
      << " title 'make run-levers: achieved requests/s (red, left axis) and client-host TIME-WAIT (blue, right axis), "
         "seconds since the load started' font ',13'\n"
      << "set grid noxtics ytics lc rgb '#dddddd'\nset key off\nset xrange [-1:*]\nset yrange [0:" << std::ceil(rate * 1.15) << "]\n"
      << "set y2range [0:" << std::ceil(tw * 1.1) << "]\nset xtics " << step(tmax, 6) << " nomirror\nset ytics " << step(rate * 1.15, 4)
      << " nomirror\nset y2tics " << step(tw * 1.1, 3) << "\n";
    for (size_t k = 0; k < ran.size(); ++k)
        g << "set title \"" << ran[k]->id << ": " << ran[k]->settings << "\" noenhanced\nplot $rps" << k
          << " using 1:2 with steps lw 2 lc rgb '#d62728' axes x1y1, $tw" << k << " using 1:2 with lines lw 2 lc rgb '#1f77b4' axes x1y2\n";
    g << "unset multiplot\n";
    return g.str();
}

}  // namespace churn::report
