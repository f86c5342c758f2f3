#!/usr/bin/env python3
"""incident_report.py DIR: the results of lab/incident.sh, put together (standard library only).

Reads DIR/runs.tsv (what ran), per run RUN.client.json (lab/incident_client.py), RUN.probe.json
(churn-report probe: the peaks of churn-probe watch on both hosts, counter deltas) and RUN.nstat.txt
(nstat and ss at the end, a cross-check), plus meta.json. Writes:
  RUN.json        one object per run: requests, errors by errno, time to the first error, TIME-WAIT peak
                  on each host, TcpActiveOpens, requests per connection, the checklist's verdicts
  incident.json   every run, the triage timings, the bound and the port range
  summary.md      the table RUNBOOK.md §7 shows (generated block incident.summary.md)
  checklist.txt   the verification checklist measured on every run (generated block incident.checklist.txt)
"""
import json
import os
import sys

# The verification checklist of RUNBOOK.md §7: what "fixed" looks like in numbers. A pooled client makes
# a handful of connections however many requests it sends; 10 leaves room for a small pool and a
# reconnect, and is still orders of magnitude under what churn leaves (one TIME-WAIT per request).
CHECKS = [
    # (key, what, threshold text, test)
    ("eaddrnotavail", "EADDRNOTAVAIL (errno 99)", "= 0", lambda v: v == 0),
    ("other_errors", "other errors", "= 0", lambda v: v == 0),
    ("tw_client", "TIME-WAIT peak, client host", "<= 10", lambda v: v <= 10),
    ("tw_server", "TIME-WAIT peak, server host", "<= 10", lambda v: v <= 10),
    ("active_opens", "TcpActiveOpens (client host)", "<= 10", lambda v: v <= 10),
    ("req_per_open", "requests per TcpActiveOpen", ">= 100", lambda v: v >= 100),
]

CLIENTS = {
    "oneshot": "http.client.HTTPConnection, new per request",
    "urlopen": "urllib.request.urlopen per request",
    "keep": "http.client.HTTPConnection kept open",
    "curl": "curl, all URLs on one command line",
}


def load(path):
    with open(path) as f:
        return json.load(f)


def nstat_txt(path):
    """{"client": {"TcpActiveOpens": n, ..., "ss_tw": n}, "server": {...}} from RUN.nstat.txt."""
    out, host = {}, None
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0].startswith("["):
                host = w[0].strip("[]")
                out[host] = {}
            elif w[:2] == ["ss", "TIME-WAIT"]:
                out[host]["ss_tw"] = int(w[2])
            elif host and len(w) >= 2 and w[1].isdigit():
                out[host][w[0]] = int(w[1])
    return out


def one_run(d, run, mode, peer, url):
    c = load(os.path.join(d, run + ".client.json"))
    p = load(os.path.join(d, run + ".probe.json"))["hosts"]
    n = nstat_txt(os.path.join(d, run + ".nstat.txt"))
    opens = p["client"]["nstat_delta"].get("TcpActiveOpens", 0)
    errs = c.get("errors", {})
    firsts = c.get("first_error_s", {})
    r = {
        "run": run, "mode": mode, "client": CLIENTS.get(mode, mode), "peer": peer, "url": url,
        "requests": c["requests"], "attempts": c["attempts"], "elapsed_s": c["elapsed_s"], "rps": c["rps"],
        "errors": errs, "errors_by_errno": c.get("errors_by_errno", {}),
        "first_error_s": firsts,
        "time_to_first_error_s": min(firsts.values()) if firsts else None,
        "time_wait_peak": {h: p[h]["states_peak"].get("TIME-WAIT", 0) for h in ("client", "server")},
        "time_wait_end": {h: n.get(h, {}).get("ss_tw") for h in ("client", "server")},
        # Where the TIME-WAIT landed, per connection: TcpExtTW counts every socket that entered it. The
        # peak can be lower on a server, whose TIME-WAIT socket a new SYN on the same 4-tuple takes over.
        "time_wait_entered": {h: p[h]["nstat_delta"].get("TcpExtTW", 0) for h in ("client", "server")},
        "tcp_active_opens": opens,
        "tcp_passive_opens_server": p["server"]["nstat_delta"].get("TcpPassiveOpens", 0),
        "tcp_active_opens_nstat": n.get("client", {}).get("TcpActiveOpens"),
        # Whole numbers once they are large: 1.0 (churn) is worth its decimal, 100000.0 is not.
        "requests_per_open": (lambda x: round(x) if x >= 10 else round(x, 1))(c["requests"] / opens) if opens else None,
    }
    for k in ("curl_exit", "curl_connects", "curl_command", "python"):
        if k in c:
            r[k] = c[k]
    values = {
        "eaddrnotavail": errs.get("EADDRNOTAVAIL", 0),
        "other_errors": sum(v for k, v in errs.items() if k != "EADDRNOTAVAIL"),
        "tw_client": r["time_wait_peak"]["client"],
        "tw_server": r["time_wait_peak"]["server"],
        "active_opens": opens,
        "req_per_open": r["requests_per_open"] or 0,
    }
    r["checklist"] = [{"item": what, "threshold": thr, "measured": values[key], "pass": bool(test(values[key]))}
                      for key, what, thr, test in CHECKS]
    r["fixed"] = all(i["pass"] for i in r["checklist"])
    return r


def fmt_errors(e):
    return ", ".join(f"{k} {v}" for k, v in sorted(e.items())) or "none"


def summary_md(runs, meta):
    lo, hi = (int(x) for x in meta["port_range"].split())
    b = meta["bound"]
    rows = ["| run | client | server | requests | errors | first error (s) | TIME-WAIT peak client | TIME-WAIT peak server"
            " | TcpExtTW client / server | TcpActiveOpens | requests per open |",
            "|---|---|---|--:|---|--:|--:|--:|--:|--:|--:|"]
    for r in runs:
        tfe = r["time_to_first_error_s"]
        rows.append(f"| {r['run']} | {r['client']} | {r['peer']} | {r['requests']} | {fmt_errors(r['errors'])} | "
                    f"{'-' if tfe is None else tfe} | {r['time_wait_peak']['client']} | {r['time_wait_peak']['server']} | "
                    f"{r['time_wait_entered']['client']} / {r['time_wait_entered']['server']} | "
                    f"{r['tcp_active_opens']} | {'-' if r['requests_per_open'] is None else r['requests_per_open']} |")
    steal = meta.get("host_steal", {}).get("pct")
    rows += ["",
             f"Port range {lo}-{hi} ({hi - lo + 1} ports) on both lab hosts; each run one sequential loop in a fresh lab, "
             f"bounded by {b['attempts']} attempts or {b['seconds']} s. TIME-WAIT peaks from churn-probe watch "
             f"(every 500 ms, both hosts); TcpExtTW counts the sockets that entered TIME-WAIT on each host over the run, "
             f"TcpActiveOpens the connections the client host opened.",
             "",
             f"Run: `{meta['command']}` on {meta['hostname']} ({meta['nproc']} CPUs), kernel {meta['kernel']}, "
             f"{meta['date']}, commit {meta['git_commit'][:12]}{'-dirty' if meta['git_commit'].endswith('-dirty') else ''}"
             + (f", host steal {steal} %" if steal is not None else "") + "."]
    return "\n".join(rows) + "\n"


def checklist_txt(runs):
    out = ["Verification checklist: what fixed looks like, measured on every run (pass/FAIL each).", ""]
    for i, (key, what, thr, _) in enumerate(CHECKS, 1):
        out.append(f"  {i}. {what:<30} {thr}")
    out.append("")
    w = max(len(r["run"]) for r in runs)
    head = f"{'run':<{w}}" + "".join(f"  {str(i) + '.':>12}" for i in range(1, len(CHECKS) + 1)) + "  verdict"
    out.append(head)
    for r in runs:
        cells = "".join(f"  {str(c['measured']) + (' pass' if c['pass'] else ' FAIL'):>12}" for c in r["checklist"])
        out.append(f"{r['run']:<{w}}{cells}  {'fixed' if r['fixed'] else 'not fixed'}")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 2:
        print("usage: incident_report.py DIR", file=sys.stderr)
        return 2
    d = sys.argv[1]
    meta = load(os.path.join(d, "meta.json"))
    runs, triage = [], []
    with open(os.path.join(d, "runs.tsv")) as f:
        for line in f:
            w = line.rstrip("\n").split("\t")
            if w[0] == "triage":
                triage.append({"during": w[1], "with": w[2], "seconds": float(w[3])})
            elif len(w) == 4:
                runs.append(one_run(d, *w))
    for r in runs:
        with open(os.path.join(d, r["run"] + ".json"), "w") as f:
            json.dump(r, f, indent=1)
            f.write("\n")
    with open(os.path.join(d, "incident.json"), "w") as f:
        json.dump({"port_range": meta["port_range"], "bound": meta["bound"], "triage": triage, "runs": runs}, f, indent=1)
        f.write("\n")
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write(summary_md(runs, meta))
    with open(os.path.join(d, "checklist.txt"), "w") as f:
        f.write(checklist_txt(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
