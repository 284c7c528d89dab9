#!/usr/bin/env python3
"""Client side of scripts/idle-connections (standard library only).

    hold.py PID GATEWAY_ADDR ADMIN_ADDR N

Against the gateway process PID listening on GATEWAY_ADDR (host:port):
 1. records its RSS and open file descriptors ("start");
 2. opens N keep-alive connections in batches; each makes one valid request
    (GET /Citrix/Legacy/endpoints/v1, answered by the gateway itself) and then stays idle;
    after every batch a valid request on a new connection must succeed;
 3. with the N connections held: RSS and fds ("held"), the gateway's own
    sessiongate_client_connections gauge, more requests on new connections, and a second
    request on every held connection (none may have been dropped);
 4. closes them all, waits for the gauge to fall back, records RSS and fds ("after").

Prints one `key value` line per figure on stdout (read by the shell script) and
progress on stderr. Exits 0 when it could measure, whatever the figures; 2 on a usage error.
"""

import os
import selectors
import socket
import sys
import time
import urllib.request

PATH = "/Citrix/Legacy/endpoints/v1"
BATCH = 500
TIMEOUT = 30.0


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def gauge(admin):
    """sessiongate_client_connections from the admin listener."""
    with urllib.request.urlopen(f"http://{admin}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("sessiongate_client_connections "):
                return int(float(line.split()[1]))
    return -1


def request_bytes(host):
    return (
        f"GET {PATH} HTTP/1.1\r\nHost: {host}\r\n"
        "Accept: application/vnd.citrix.endpoints+xml\r\n\r\n"
    ).encode()


class Conn:
    """One keep-alive connection and the answer it is reading."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def answer(self):
        """(status, complete) of the answer read so far; status None until the header is in."""
        head, sep, body = self.buf.partition(b"\r\n\r\n")
        if not sep:
            return None, False
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        return status, len(body) >= length


def exchange_all(conns, payload):
    """Send payload on every connection, read one answer on each; return how many were 200."""
    sel = selectors.DefaultSelector()
    for c in conns:
        c.buf = b""
        c.sock.sendall(payload)
        sel.register(c.sock, selectors.EVENT_READ, c)
    ok = 0
    pending = len(conns)
    deadline = time.monotonic() + TIMEOUT
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            c = key.data
            chunk = c.sock.recv(65536)
            done = not chunk
            c.buf += chunk
            status, complete = c.answer()
            if complete:
                ok += status == 200
                done = True
            if done:
                sel.unregister(c.sock)
                pending -= 1
    sel.close()
    return ok


def connect(addr):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    s.setblocking(True)
    return Conn(s)


def probe(addr, payload):
    """One valid request on a new connection; True when it got a 200."""
    try:
        c = connect(addr)
        try:
            return exchange_all([c], payload) == 1
        finally:
            c.sock.close()
    except OSError:
        return False


def wait_gauge(admin, want, seconds=15.0):
    deadline = time.monotonic() + seconds
    g = gauge(admin)
    while g != want and time.monotonic() < deadline:
        time.sleep(0.2)
        g = gauge(admin)
    return g


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    pid, addr, admin, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    payload = request_bytes(addr)
    out = {}
    probes_ok = probes_failed = 0

    def check_new():
        nonlocal probes_ok, probes_failed
        if probe(addr, payload):
            probes_ok += 1
        else:
            probes_failed += 1

    # A few requests first so lazily built state (metrics, allocator pools) is in "start".
    for _ in range(5):
        check_new()
    time.sleep(1.0)
    out["rss_start_kib"], out["fds_start"] = rss_kib(pid), fds(pid)

    held, first_ok = [], 0
    t0 = time.monotonic()
    while len(held) < n:
        batch = []
        for _ in range(min(BATCH, n - len(held))):
            try:
                batch.append(connect(addr))
            except OSError as e:
                print(f"connect failed after {len(held) + len(batch)}: {e}", file=sys.stderr)
                break
        if not batch:
            break
        first_ok += exchange_all(batch, payload)
        held += batch
        check_new()
        print(f"  {len(held)} connections held", file=sys.stderr)
    out["open_seconds"] = round(time.monotonic() - t0, 1)
    out["held"] = len(held)
    out["held_first_ok"] = first_ok

    time.sleep(2.0)
    out["rss_held_kib"], out["fds_held"] = rss_kib(pid), fds(pid)
    out["gauge_held"] = gauge(admin)
    for _ in range(20):
        check_new()
    # Every held connection must still be there and serve a second request.
    out["held_second_ok"] = exchange_all(held, payload)

    for c in held:
        c.sock.close()
    held.clear()
    out["gauge_after"] = wait_gauge(admin, 0)
    time.sleep(2.0)
    check_new()
    out["rss_after_kib"], out["fds_after"] = rss_kib(pid), fds(pid)
    out["probes_ok"], out["probes_failed"] = probes_ok, probes_failed
    for k, v in out.items():
        print(k, v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
