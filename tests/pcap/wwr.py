#!/usr/bin/env python3
"""wwr.py: a write-write-read client and a server that answers only after the whole message.

Not churnlab's binaries, on purpose: churn-pcap must find the Nagle + delayed-ACK stall in captures of
other programs' traffic. Used by tests/pcap/make-nagle-captures.sh and tests/integration/t_pcap_stall.sh.

  wwr.py server ADDR PORT [--message 48] [--response 20] [--split N]
      accepts connections one after the other; answers each whole message (head + body, --message bytes)
      with --response bytes in one send(), or with --split: N bytes, then the rest, in two send()s (the
      response split: the server is then the writer Nagle holds back). Prints "listening on ADDR:PORT".
  wwr.py client ADDR PORT [--nodelay on|off] [--count 6] [--head 40] [--body 8] [--response 20]
      one connection; per exchange: send(head), send(body) (none with --body 0), then read the whole
      response. Prints each exchange's latency in ms, then p50 and max.

With Nagle on (the default) the body waits in the client's kernel until the head is ACKed, and the server
sends no ACK until its delayed-ACK timer fires (>= 40 ms on Linux): it has nothing to answer with yet.
"""
import argparse
import socket
import sys
import time


def server(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.addr, a.port))
    ls.listen(4)
    print(f"listening on {a.addr}:{a.port}", flush=True)
    answer = b"R" * a.response
    while True:
        c, _ = ls.accept()
        pending = 0
        while True:
            d = c.recv(65536)
            if not d:
                break
            pending += len(d)
            # Only a whole message is answered: the half that came first gets no reply, so no ACK rides
            # back on one.
            while pending >= a.message:
                pending -= a.message
                if a.split:
                    c.sendall(answer[:a.split])  # two writes: the trap, on the server's side
                    c.sendall(answer[a.split:])
                else:
                    c.sendall(answer)
        c.close()


def client(a):
    s = socket.create_connection((a.addr, a.port), timeout=10)
    if a.nodelay == "on":
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head, body = b"H" * a.head, b"B" * a.body
    lat = []
    for _ in range(a.count):
        t0 = time.monotonic()
        s.send(head)  # two writes: the trap
        if body:
            s.send(body)
        got = 0
        while got < a.response:
            d = s.recv(65536)
            if not d:
                sys.exit("server closed early")
            got += len(d)
        lat.append((time.monotonic() - t0) * 1e3)
    s.close()
    srt = sorted(lat)
    print("latency_ms " + " ".join(f"{x:.2f}" for x in lat))
    print(f"p50_ms {srt[len(srt) // 2]:.2f} max_ms {srt[-1]:.2f} nodelay {a.nodelay}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["server", "client"])
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--message", type=int, default=48)
    p.add_argument("--response", type=int, default=20)
    p.add_argument("--split", type=int, default=0)
    p.add_argument("--nodelay", choices=["on", "off"], default="off")
    p.add_argument("--count", type=int, default=6)
    p.add_argument("--head", type=int, default=40)
    p.add_argument("--body", type=int, default=8)
    a = p.parse_args()
    server(a) if a.role == "server" else client(a)


if __name__ == "__main__":
    main()
