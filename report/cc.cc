// cc.cc: the CUBIC vs BBR report; see cc.h.
#include "report/cc.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "report/results.h"
#include "report/table.h"

namespace churn::report {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

json parse(const std::string& text, const std::string& name) { return parse_object(text, name); }

const json& need(const json& j, const char* key, const std::string& name) {
    if (!j.is_object() || !j.contains(key)) throw ReportError(name + ": missing '" + key + "'");
    return j.at(key);
}

double num(const json& j, const char* key, const std::string& name) {
    const json& v = need(j, key, name);
    if (!v.is_number()) throw ReportError(name + ": '" + key + "' is not a number");
    return v.get<double>();
}

std::optional<double> num_or_null(const json& j, const char* key, const std::string& name) {
    const json& v = need(j, key, name);
    if (v.is_null()) return std::nullopt;
    if (!v.is_number()) throw ReportError(name + ": '" + key + "' is neither a number nor null");
    return v.get<double>();
}

std::string str(const json& j, const char* key, const std::string& name) {
    const json& v = need(j, key, name);
    if (!v.is_string()) throw ReportError(name + ": '" + key + "' is not a string");
    return v.get<std::string>();
}

std::vector<std::string> strings(const json& j, const char* key, const std::string& name) {
    const json& v = need(j, key, name);
    if (!v.is_array()) throw ReportError(name + ": '" + key + "' is not an array");
    std::vector<std::string> out;
    for (const json& s : v) {
        if (!s.is_string()) throw ReportError(name + ": '" + key + "' holds a non-string");
        out.push_back(s.get<std::string>());
    }
    return out;
}

std::string sig(double x) { return format_sig(x, 3); }
// Configured values as they were typed: 100, 50, 1, 0.5 (not "100.0").
std::string cfg(double x) {
    char b[32];
    snprintf(b, sizeof b, "%g", x);
    return b;
}
std::string pct(double x) { return cfg(x) + " %"; }
std::string mbps(double x) { return sig(x) + " Mbit/s"; }
bool is_bbr(const CcRun& r) { return r.cc.rfind("bbr", 0) == 0; }  // bbr, bbr2, bbr3: model-based

const CcRun* find(const std::vector<CcRun>& runs, const char* cc, double loss) {
    for (const CcRun& r : runs)
        if (r.cc == cc && r.loss_pct == loss) return &r;
    return nullptr;
}

std::vector<double> loss_levels(const std::vector<CcRun>& runs) {
    std::set<double> s;
    for (const CcRun& r : runs) s.insert(r.loss_pct);
    return {s.rbegin(), s.rend()};  // highest first: the lossy runs are the experiment, 0 % the baseline
}

}  // namespace

std::optional<double> mathis_mbps(double mss_bytes, double rtt_ms, double loss_pct) {
    if (loss_pct <= 0 || rtt_ms <= 0) return std::nullopt;
    double p = loss_pct / 100;
    return mss_bytes * 8 / (rtt_ms / 1000) * 1.22 / std::sqrt(p) / 1e6;
}

CcRun parse_bulk_json(const std::string& text, const std::string& name) {
    json j = parse(text, name);
    // A run that failed (connect refused, an unknown algorithm) must not become a row of zeros.
    if (j.contains("error")) throw ReportError(name + ": the run failed: " + j["error"].dump());
    CcRun r;
    r.cc = str(j, "cc", name);
    r.goodput_mbps = num(j, "goodput_mbps", name);
    r.retrans = static_cast<long>(num(j, "retrans", name));
    r.mean_cwnd = num(j, "mean_cwnd", name);
    r.mean_ssthresh = num(j, "mean_ssthresh", name);
    r.mss = static_cast<long>(num(j, "mss", name));
    r.ss_lines = strings(j, "ss_lines", name);
    const json& samples = need(j, "samples", name);
    if (!samples.is_array()) throw ReportError(name + ": 'samples' is not an array");
    double srtt = 0;
    size_t n_srtt = 0;
    for (const json& s : samples) {
        std::string at = name + ": samples[" + std::to_string(r.samples.size()) + "]";
        r.samples.push_back({num(s, "t", at), num(s, "cwnd", at), num(s, "bytes_acked", at), num(s, "goodput_mbps", at)});
        double us = num(s, "srtt_us", at);
        if (us > 0) srtt += us, ++n_srtt;  // 0 before the first RTT sample
    }
    if (r.samples.empty()) throw ReportError(name + ": no tcp_info samples (did the connection ever carry data?)");
    r.mean_srtt_ms = n_srtt ? srtt / n_srtt / 1000 : 0;
    return r;
}

void apply_link_json(CcRun& run, const std::string& text, const std::string& name) {
    json j = parse(text, name);
    if (str(j, "mode", name) != "churn-link") return;  // netem keeps its counters to itself
    const json& ab = need(j, "ab", name);
    double in = num(ab, "packets_in", name + ": ab");
    run.link_loss_pct = in > 0 ? 100 * num(ab, "dropped_loss", name + ": ab") / in : 0;
    run.queue_drops = static_cast<long>(num(ab, "dropped_queue", name + ": ab"));
    if (j.contains("host")) run.steal_pct = num(need(j, "host", name), "steal_pct", name + ": host");
}

std::vector<CcCheck> cc_checks(const std::vector<CcRun>& runs) {
    std::vector<CcCheck> out;
    for (double p : loss_levels(runs)) {
        const CcRun* cubic = find(runs, "cubic", p);
        const CcRun* bbr = find(runs, "bbr", p);
        if (p == 0) {
            for (const CcRun& r : runs) {
                if (r.loss_pct != 0) continue;
                double want = 0.8 * r.rate_mbps;
                out.push_back({r.cc + " at 0 % loss fills the link", mbps(r.goodput_mbps),
                               "≥ " + mbps(want) + " (0.8 × link)", r.goodput_mbps >= want});
            }
            continue;
        }
        std::string at = " at " + pct(p) + " loss";
        if (bbr) {
            double want = 0.8 * bbr->rate_mbps * (1 - p / 100);
            out.push_back({"BBR goodput" + at, mbps(bbr->goodput_mbps), "≥ " + mbps(want) + " (0.8 × link × (1 − p))",
                           bbr->goodput_mbps >= want});
        }
        if (cubic && cubic->mathis) {
            double m = *cubic->mathis, g = cubic->goodput_mbps;
            out.push_back({"CUBIC goodput against Mathis" + at, mbps(g) + " = " + sig(g / m) + " × Mathis",
                           mbps(m / 2) + " to " + mbps(2 * m) + " (within 2× of Mathis, " + mbps(m) + ")",
                           g >= m / 2 && g <= 2 * m});
        }
        if (cubic && bbr) {
            double ratio = cubic->goodput_mbps > 0 ? bbr->goodput_mbps / cubic->goodput_mbps : INFINITY;
            out.push_back({"BBR ÷ CUBIC" + at, sig(ratio) + "×", "≥ 5×", ratio >= 5});
        }
    }
    return out;
}

CcReport load_cc_dir(const std::string& dir) {
    std::string manifest = dir + "/runs.tsv";
    CcReport rep;
    for (const auto& [f, where] : read_manifest(manifest, "cc", 7)) {  // its header starts "cc\t"
        CcRun r = parse_bulk_json(read_text(dir + "/" + f[5]), dir + "/" + f[5]);
        // The kernel's answer to getsockopt(TCP_CONGESTION) must be what the run asked for: a fallback
        // to the namespace default would otherwise be reported under the wrong name.
        if (r.cc != f[0]) throw ReportError(dir + "/" + f[5] + ": asked for " + f[0] + ", the kernel says " + r.cc);
        try {
            r.loss_pct = std::stod(f[1]), r.rtt_ms = std::stod(f[2]), r.rate_mbps = std::stod(f[3]);
            r.queue_pkts = std::stol(f[4]);
        } catch (const std::exception&) {
            throw ReportError(where + ": loss, rtt, rate and queue must be numbers");
        }
        apply_link_json(r, read_text(dir + "/" + f[6]), dir + "/" + f[6]);
        r.mathis = mathis_mbps(static_cast<double>(r.mss), r.rtt_ms, r.loss_pct);
        rep.runs.push_back(std::move(r));
    }
    if (rep.runs.empty()) throw ReportError(manifest + ": no runs");
    rep.checks = cc_checks(rep.runs);
    return rep;
}

std::string cc_json(const CcReport& rep) {
    auto opt = [](const auto& o) { return o ? ojson(*o) : ojson(nullptr); };
    ojson runs = ojson::array(), checks = ojson::array();
    for (const CcRun& r : rep.runs)
        runs.push_back({{"cc", r.cc}, {"loss_pct", r.loss_pct}, {"rtt_ms", r.rtt_ms}, {"rate_mbps", r.rate_mbps},
                        {"queue_pkts", r.queue_pkts}, {"goodput_mbps", r.goodput_mbps}, {"retrans", r.retrans},
                        {"mathis_mbps", opt(r.mathis)}, {"mean_cwnd", r.mean_cwnd}, {"mean_ssthresh", r.mean_ssthresh},
                        {"mean_srtt_ms", r.mean_srtt_ms}, {"mss", r.mss}, {"link_loss_measured_pct", opt(r.link_loss_pct)},
                        {"queue_drops", opt(r.queue_drops)}, {"host_steal_pct", opt(r.steal_pct)},
                        {"ss_lines", r.ss_lines}});
    for (const CcCheck& c : rep.checks)
        checks.push_back({{"what", c.what}, {"measured", c.measured}, {"expected", c.expected}, {"met", c.met}});
    return ojson{{"runs", runs}, {"checks", checks}}.dump(2) + "\n";
}

CcReport parse_cc_json(const std::string& text, const std::string& name) {
    json j = parse(text, name);
    const json& runs = need(j, "runs", name);
    if (!runs.is_array() || runs.empty()) throw ReportError(name + ": 'runs' is not a non-empty array");
    CcReport rep;
    for (const json& x : runs) {
        std::string at = name + ": runs[" + std::to_string(rep.runs.size()) + "]";
        CcRun r;
        r.cc = str(x, "cc", at);
        r.loss_pct = num(x, "loss_pct", at), r.rtt_ms = num(x, "rtt_ms", at), r.rate_mbps = num(x, "rate_mbps", at);
        r.queue_pkts = static_cast<long>(num(x, "queue_pkts", at));
        r.goodput_mbps = num(x, "goodput_mbps", at), r.retrans = static_cast<long>(num(x, "retrans", at));
        r.mathis = num_or_null(x, "mathis_mbps", at);
        r.mean_cwnd = num(x, "mean_cwnd", at), r.mean_ssthresh = num(x, "mean_ssthresh", at);
        r.mean_srtt_ms = num(x, "mean_srtt_ms", at), r.mss = static_cast<long>(num(x, "mss", at));
        r.link_loss_pct = num_or_null(x, "link_loss_measured_pct", at);
        if (auto q = num_or_null(x, "queue_drops", at)) r.queue_drops = static_cast<long>(*q);
        if (x.contains("host_steal_pct")) r.steal_pct = num_or_null(x, "host_steal_pct", at);  // absent before steal was reported
        r.ss_lines = strings(x, "ss_lines", at);
        rep.runs.push_back(std::move(r));
    }
    rep.checks = cc_checks(rep.runs);  // derived: recomputed, so a hand-edited verdict cannot survive
    return rep;
}

std::string render_cc_table(const CcReport& rep) {
    // The steal column only when churn-link measured it (results from before it did render as they were).
    bool steal = std::any_of(rep.runs.begin(), rep.runs.end(), [](const CcRun& r) { return r.steal_pct.has_value(); });
    std::string md = "| cc | loss set | loss on the link | queue drops | goodput (Mbit/s) | of link rate | retransmits | "
                     "mean cwnd (pkts) | mean ssthresh (pkts) | mean srtt (ms) | Mathis (Mbit/s) |" +
                     std::string(steal ? " host steal |" : "") + "\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" +
                     (steal ? "---:|" : "") + "\n";
    for (const CcRun& r : rep.runs) {
        // Mathis models a loss-based sender; for BBR the column would be a prediction of nothing.
        std::string mathis = !r.mathis ? "— (no loss)" : is_bbr(r) ? "n/a (not loss-based)" : sig(*r.mathis);
        md += "| " + r.cc + " | " + pct(r.loss_pct) + " | " + (r.link_loss_pct ? format_sig(*r.link_loss_pct, 3) + " %" : "n/a") +
              " | " + (r.queue_drops ? std::to_string(*r.queue_drops) : "n/a") + " | " + sig(r.goodput_mbps) + " | " +
              format_sig(100 * r.goodput_mbps / r.rate_mbps, 3) + " %" + " | " + std::to_string(r.retrans) + " | " + sig(r.mean_cwnd) +
              " | " + (r.mean_ssthresh > 0 ? sig(r.mean_ssthresh) : "— (never set)") + " | " + sig(r.mean_srtt_ms) +
              " | " + mathis + " |" + (!steal ? "" : r.steal_pct ? " " + format_sig(*r.steal_pct, 2) + " % |" : " n/a |") + "\n";
    }
    const CcRun& f = rep.runs.front();
    md += "\nPath: " + cfg(f.rate_mbps) + " Mbit/s, " + cfg(f.rtt_ms) + " ms RTT, a drop-tail queue of " +
          std::to_string(f.queue_pkts) + " packets, i.i.d. loss on the data direction (client → server) with the "
          "same seed for every run; MSS " + std::to_string(f.mss) + " bytes. Goodput is bytes acknowledged per second "
          "over the whole run; \"loss on the link\" and \"queue drops\" are the emulator's own counters" +
          (steal ? "; \"host steal\" is the share of CPU time the hypervisor took during the run (/proc/stat), when the "
                   "link and both stacks stood still" : "") + ".\n";
    return md;
}

std::string render_cc_checks(const CcReport& rep) {
    std::string md = "| expectation | measured | expected | |\n|---|---|---|---|\n";
    for (const CcCheck& c : rep.checks)
        md += "| " + c.what + " | " + c.measured + " | " + c.expected + " | " + (c.met ? "met" : "NOT met") + " |\n";
    return md;
}

std::string render_cc_ss(const CcReport& rep) {
    std::string md;
    for (const CcRun& r : rep.runs) {
        md += "**" + r.cc + ", " + pct(r.loss_pct) + " loss** (at 40, 50 and 60 % of the run):\n\n```text\n";
        for (const std::string& l : r.ss_lines) md += l + "\n";
        md += "```\n\n";
    }
    if (!md.empty()) md.pop_back();  // one newline at the end, not two
    return md;
}

std::string render_cc_md(const CcReport& rep) {
    return "## CUBIC vs BBR\n\n" + render_cc_table(rep) + "\n### Expected vs measured\n\n" + render_cc_checks(rep) +
           "\n### From the middle of each run (ss -tin style)\n\n" + render_cc_ss(rep);
}

namespace {

// 1 s of goodput ending at each sample, from bytes_acked: the 100 ms figure swings with every ACK
// clump, the 1 s one shows the trend. Before 1 s have passed the window starts at the connection.
double goodput_1s(const std::vector<CcSample>& s, size_t i) {
    double t0 = 0, a0 = 0;
    for (size_t j = i; j-- > 0;)
        if (s[j].t_s <= s[i].t_s - 1.0) {
            t0 = s[j].t_s, a0 = s[j].bytes_acked;
            break;
        }
    return s[i].t_s > t0 ? (s[i].bytes_acked - a0) * 8 / (s[i].t_s - t0) / 1e6 : 0;
}

std::string colour(const CcRun& r) { return r.cc == "cubic" ? "#d62728" : is_bbr(r) ? "#1f77b4" : "#2ca02c"; }
// The same colour, mostly transparent (gnuplot's #AARRGGBB: AA = 0 is opaque), for the 100 ms samples.
std::string faint(const CcRun& r) { return "#a0" + colour(r).substr(1); }

}  // namespace

std::string cc_gnuplot(const CcReport& rep) {
    double p = loss_levels(rep.runs).front();
    std::vector<const CcRun*> runs;
    for (const CcRun& r : rep.runs)
        if (r.loss_pct == p && !r.samples.empty()) runs.push_back(&r);
    if (runs.empty()) return "";
    const CcRun& f = *runs.front();
    double bdp = f.rate_mbps * 1e6 / 8 * f.rtt_ms / 1000 / 1500;
    std::string path = cfg(f.rate_mbps) + " Mbit/s, " + cfg(f.rtt_ms) + " ms RTT, " + pct(p) + " random loss";
    double t_end = 0;
    for (const CcRun* r : runs) t_end = std::max(t_end, r->samples.back().t_s);
    std::ostringstream g;
    // Data inline (gnuplot 5 datablocks): the script is the whole plot, re-runnable from the results dir.
    for (size_t k = 0; k < runs.size(); ++k) {
        g << "$d" << k << " << EOD\n";
        const auto& s = runs[k]->samples;
        for (size_t i = 0; i < s.size(); ++i)
            g << s[i].t_s << ' ' << s[i].cwnd << ' ' << s[i].goodput_mbps << ' ' << goodput_1s(s, i) << '\n';
        g << "EOD\n";
    }
    g << "set terminal svg size 960,600 dynamic enhanced font 'Helvetica,13' background rgb 'white'\n"
         "set grid lc rgb '#dddddd'\nset key below center horizontal Left reverse width 2 maxrows 3 spacing 1.2\n"
         "set xlabel 'seconds since the connection was established'\nset xrange [0:"
      << std::ceil(t_end - 0.05) << "]\n";  // 30.0001 s is a 30 s run, not 31
    // cwnd: log scale, or CUBIC's few packets would be a flat line under BBR's hundreds.
    // noenhanced titles: "tcp_info" must not turn into a subscript.
    g << "set output 'cwnd.svg'\nset title \"Congestion window, " << path
      << " (sender's tcp_info, every 100 ms)\" noenhanced\nset ylabel 'cwnd (packets, log scale)'\nset logscale y\n"
      << "set yrange [1:" << std::max(4 * bdp, 10.0) << "]\nplot " << bdp << " with lines dt 2 lw 1.5 lc rgb '#555555' title '1 BDP = "
      << sig(bdp) << " packets', " << bdp + f.queue_pkts << " with lines dt 4 lw 1.5 lc rgb '#999999' title 'BDP + queue = "
      << sig(bdp + f.queue_pkts) << " packets (more in flight overflows the queue)'";
    for (size_t k = 0; k < runs.size(); ++k)
        g << ", $d" << k << " using 1:2 with steps lw 2 lc rgb '" << colour(*runs[k]) << "' title '" << runs[k]->cc
          << " (mean " << sig(runs[k]->mean_cwnd) << ")'";
    g << "\nunset logscale y\n";
    // Throughput: 100 ms samples faint, 1 s windows bold; the link rate and the expectations as lines.
    g << "set output 'throughput.svg'\nset title \"Goodput (bytes acknowledged), " << path
      << "\" noenhanced\nset ylabel 'goodput (Mbit/s)'\nset yrange [0:" << f.rate_mbps * 1.25 << "]\nplot " << f.rate_mbps
      << " with lines dt 2 lw 1.5 lc rgb '#555555' title 'link rate " << cfg(f.rate_mbps) << " Mbit/s', "
      << 0.8 * f.rate_mbps * (1 - p / 100) << " with lines dt 3 lw 1.5 lc rgb '#1f77b4' title 'BBR expected ≥ 0.8 × link × (1 − p)'";
    if (f.mathis) g << ", " << *f.mathis << " with lines dt 3 lw 1.5 lc rgb '#d62728' title 'Mathis: " << sig(*f.mathis) << " Mbit/s'";
    for (size_t k = 0; k < runs.size(); ++k) {
        const CcRun& r = *runs[k];
        g << ", $d" << k << " using 1:3 with lines lw 1 lc rgb '" << faint(r) << "' notitle"
          << ", $d" << k << " using 1:4 with lines lw 2.5 lc rgb '" << colour(r) << "' title '" << r.cc
          << " (1 s windows; faint: 100 ms), mean " << sig(r.goodput_mbps) << " Mbit/s'";
    }
    g << "\n";
    return g.str();
}

}  // namespace churn::report
