#!/usr/bin/env python3
"""incident_client.py MODE URL: a stock HTTP client used the way naive code uses it (make run-incident).

Nobody in this project wrote these clients: the point is to reproduce a churn incident with code that
real services run. Python's standard library only (a fresh Debian 12 has python3; lab/deps.sh installs it
when missing). Every mode is one sequential, unthrottled loop, bounded by --count attempts and --duration
seconds, whichever comes first:

  oneshot  http.client.HTTPConnection opened, used for one GET, closed. It speaks HTTP/1.1 and sends no
           Connection header, so the server keeps the connection open and this process closes first:
           TIME-WAIT on the client host, one ephemeral port each for 60 s, then EADDRNOTAVAIL.
  urlopen  urllib.request.urlopen(url) per request. urllib adds "Connection: close" to every request
           (AbstractHTTPHandler.do_open), so the server closes first: TIME-WAIT on the server host,
           which costs it memory but no ports, and the client's ports are spared.
  keep     the fix with the same library: one http.client.HTTPConnection kept open for the whole loop
           (http.client reconnects by itself if the server ever closes it).
  curl     a second real client doing the fix: one `curl` process given all the URLs on its command line
           (a [1-N] glob), which it fetches over one kept-alive connection.

A failed request is counted by errno (EADDRNOTAVAIL, ECONNRESET, ...) and the loop goes on, as a naive
retry loop would; the first failure is also announced on stderr at once ("first error ..."), which is
what lab/incident.sh waits for before it runs the triage while the incident is live.

Writes --json FILE: {"mode", "requests", "attempts", "errors": {NAME: n}, "errors_by_errno": {"99": n},
"first_error_s": {NAME: s}, "elapsed_s", "rps", "timeline": [[t, requests, errors], ...], ...}.
"""
import argparse
import errno
import http.client
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def errno_of(exc):
    """(name, number) for a failed request. urllib wraps the socket's OSError in URLError.reason;
    http.client raises the OSError itself. Anything without an errno is named by its class."""
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, OSError):
        exc = exc.reason
    n = getattr(exc, "errno", None)
    if isinstance(n, int) and n > 0:
        return errno.errorcode.get(n, str(n)), n
    return type(exc).__name__, None


class Loop:
    """Counts, the clock and the bound, shared by the Python modes."""

    def __init__(self, args):
        self.args = args
        self.requests = self.attempts = 0
        self.errors, self.by_errno, self.first_error_s = {}, {}, {}
        self.timeline = []
        self.t0 = time.monotonic()
        self.next_tick = 1.0

    def elapsed(self):
        return time.monotonic() - self.t0

    def go_on(self):
        t = self.elapsed()
        if t >= self.next_tick:   # one timeline row per second: [t, requests so far, errors so far]
            self.timeline.append([round(t, 3), self.requests, sum(self.errors.values())])
            self.next_tick += 1.0
        return self.attempts < self.args.count and t < self.args.duration

    def failed(self, exc):
        name, num = errno_of(exc)
        self.errors[name] = self.errors.get(name, 0) + 1
        if num is not None:
            self.by_errno[str(num)] = self.by_errno.get(str(num), 0) + 1
        if name not in self.first_error_s:
            self.first_error_s[name] = round(self.elapsed(), 3)
            # flush: lab/incident.sh polls this log for the first error to start the live triage.
            print(f"incident_client: first error at {self.first_error_s[name]} s: {name}"
                  f"{f' (errno {num})' if num else ''} after {self.requests} requests: {exc}",
                  file=sys.stderr, flush=True)


def run_python(args, url):
    loop = Loop(args)
    host, port = url.hostname, url.port or 80
    path = url.path or "/"
    kept = None
    while loop.go_on():
        loop.attempts += 1
        try:
            if args.mode == "oneshot":
                # The naive pattern: a new connection object per request, closed right after the body.
                c = http.client.HTTPConnection(host, port, timeout=args.timeout)
                try:
                    c.request("GET", path)
                    c.getresponse().read()
                finally:
                    c.close()
            elif args.mode == "urlopen":
                with urllib.request.urlopen(url.geturl(), timeout=args.timeout) as r:
                    r.read()
            else:  # keep
                if kept is None:
                    kept = http.client.HTTPConnection(host, port, timeout=args.timeout)
                kept.request("GET", path)
                # read() to the end: http.client can send the next request on this connection only
                # once the whole response body has been consumed.
                kept.getresponse().read()
            loop.requests += 1
        except (OSError, http.client.HTTPException) as exc:
            loop.failed(exc)
            if kept is not None:
                kept.close()   # a broken connection is dropped; the next request opens a new one
    if kept is not None:
        kept.close()
    return loop


def run_curl(args, url):
    loop = Loop(args)
    # One transfer per URL of the glob; -w prints one line per transfer with the status and how many new
    # connections that transfer had to open (0 when it reused the previous one).
    glob = f"{url.scheme}://{url.netloc}{url.path.rstrip('/')}/r[1-{args.count}]"
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{num_connects} %{exitcode}\\n", glob]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as exc:   # the time bound: curl is killed, what it printed counts
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        rc = "timeout"
    connects = 0
    for line in out.splitlines():
        f = line.split()
        if len(f) < 3:
            continue
        loop.attempts += 1
        connects += int(f[1])
        if f[0] == "200":
            loop.requests += 1
        else:
            name = f"curl exit {f[2]}"
            loop.errors[name] = loop.errors.get(name, 0) + 1
    loop.extra = {"curl_exit": rc, "curl_connects": connects, "curl_command": " ".join(cmd)}
    return loop


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["oneshot", "urlopen", "keep", "curl"])
    ap.add_argument("url")
    ap.add_argument("--count", type=int, default=100000, help="attempts at most (default 100000)")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds at most (default 20)")
    ap.add_argument("--timeout", type=float, default=5.0, help="socket timeout per request, seconds")
    ap.add_argument("--json", help="write the counts as JSON to this file")
    args = ap.parse_args()
    url = urllib.parse.urlsplit(args.url)
    if url.scheme != "http" or not url.hostname:
        print(f"incident_client: URL '{args.url}': want http://HOST:PORT/PATH", file=sys.stderr)
        return 2
    if args.count < 1 or args.duration <= 0:
        print(f"incident_client: --count {args.count} / --duration {args.duration}: want > 0", file=sys.stderr)
        return 2

    loop = run_curl(args, url) if args.mode == "curl" else run_python(args, url)
    elapsed = loop.elapsed()
    out = {
        "mode": args.mode, "url": args.url, "count": args.count, "duration": args.duration,
        "requests": loop.requests, "attempts": loop.attempts, "errors": loop.errors,
        "errors_by_errno": loop.by_errno, "first_error_s": loop.first_error_s,
        "elapsed_s": round(elapsed, 3), "rps": round(loop.requests / elapsed, 1) if elapsed > 0 else 0,
        "timeline": loop.timeline, "python": sys.version.split()[0],
    }
    out.update(getattr(loop, "extra", {}))
    print(f"incident_client {args.mode}: {loop.requests} requests, errors {loop.errors or 'none'}, "
          f"{elapsed:.1f} s", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
