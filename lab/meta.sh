# meta.sh: what every results directory's meta.json says about where and when it ran. Sourced.
# shellcheck shell=bash

# json_str S: S as a JSON string literal (backslash, quote, tab and newline escaped).
json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  s=${s//$'\n'/\\n}
  printf '"%s"' "$s"
}

# meta_where STARTED: the closing fields of a meta.json object (no braces): kernel, hostname, nproc,
# date (STARTED, UTC ISO 8601) and git_commit, "-dirty" when tracked files differ from it, so a number
# can always be traced to the code that produced it.
meta_where() {
  local commit
  commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
  if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    commit+="-dirty"
  fi
  printf '  "kernel": %s,\n  "hostname": %s,\n  "nproc": %s,\n  "date": %s,\n  "git_commit": %s\n' \
    "$(json_str "$(uname -r)")" "$(json_str "$(hostname)")" "$(nproc)" "$(json_str "$1")" "$(json_str "$commit")"
}

# The host's steal time (a shared VM: the hypervisor runs other guests on our CPUs; /proc/stat's 8th cpu
# value, in ticks summed over CPUs). Every timing figure of a run is to be read beside it.
# steal_sample: "steal total" ticks now. steal_since SAMPLE: "stolen_ticks of_ticks pct" since SAMPLE.
# meta_steal SAMPLE: the same as a meta.json field (with its trailing comma).
steal_sample() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t; exit }' /proc/stat; }
steal_since() {
  awk -v a="$1" -v b="$(steal_sample)" 'BEGIN { split(a, x, " "); split(b, y, " "); s = y[1] - x[1]; t = y[2] - x[2]
    # The share first: an unparenthesised ">" among printf arguments is a redirection in awk.
    pct = 0; if (t > 0) pct = 100 * s / t
    printf "%d %d %.2f\n", s, t, pct }'
}
meta_steal() {
  local s t pct
  read -r s t pct < <(steal_since "$1")
  printf '  "host_steal": {"ticks": %d, "of_ticks": %d, "pct": %s},\n' "$s" "$t" "$pct"
}

# meta_run_line COMMAND: the line under a table a script renders itself (link-check, link-timing): the
# command, the machine, the kernel, the date and the commit, as the generated blocks of the docs say it.
meta_run_line() {
  local commit
  commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
  [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && commit+="-dirty"
  printf 'Run: `%s` on %s (%s CPUs), kernel %s, %s, commit %s.\n' \
    "$1" "$(hostname)" "$(nproc)" "$(uname -r)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit"
}
