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
