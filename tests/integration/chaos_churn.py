#!/usr/bin/python3
"""Route churn through mmctld's REST API, for the chaos test (test_chaos.sh).

    chaos_churn.py --url URL --token T --duration S [--rate OPS] [--prefix P]
                   [--report FILE]

Until --duration runs out, cycle after cycle: create a room, join four
participants (audio + camera streams, a remote that sends nothing), mute
one, change the room's last_n, kick one (a block of 2 s), let one leave,
then delete the room (even cycles) or end its meeting (odd cycles: an
ad-hoc room is then deleted too). Each cycle also makes requests that must
fail, and fail with the documented error: the participant who left leaves
again (404), a join with an empty display_name (400 invalid_field), the
deleted room deleted again (404) and read (404).

SIGTERM ends the run after the cycle under way. Every request's status is checked against the one it must get; anything
else is an "unexpected" entry (method, path, status, body). --rate paces
the requests (operations per second, 0: as fast as mmctld answers). The
report (JSON, stdout or --report): operations by kind and status, the
unexpected ones, the rooms created and whether each was gone at the end,
the ops/s achieved and the API's latency (p50, p99, max, milliseconds).
Exit 0 when nothing was unexpected, 1 otherwise, 2 on usage errors.
Standard library only (http.client, one keep-alive connection)."""

import argparse
import http.client
import json
import signal
import sys
import time
import urllib.parse


class Api:
    def __init__(self, url, token, rate):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.token = token
        self.gap = 1.0 / rate if rate > 0 else 0.0
        self.next = time.monotonic()
        self.conn = None
        self.ops = {}          # "METHOD kind" -> {status: count}
        self.unexpected = []
        self.lat_ms = []

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def call(self, kind, method, path, body, want):
        """One request; want is the status it must get. Returns (status, JSON or None)."""
        if self.gap:
            now = time.monotonic()
            if now < self.next:
                time.sleep(self.next - now)
            self.next = max(self.next + self.gap, time.monotonic() - 1.0)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": "Bearer " + self.token}
        if data is not None:
            headers["Content-Type"] = "application/json"
        t0 = time.monotonic()
        status, text = 0, ""
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self._connect()
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                status, text = r.status, r.read().decode(errors="replace")
                break
            except (http.client.HTTPException, OSError) as e:
                # mmctld may close an idle keep-alive connection: once more
                # on a new one; a second failure is counted as status 0.
                self.conn.close()
                self.conn = None
                status, text = 0, "%s: %s" % (type(e).__name__, e)
        self.lat_ms.append((time.monotonic() - t0) * 1000.0)
        key = "%s %s" % (method, kind)
        per = self.ops.setdefault(key, {})
        per[str(status)] = per.get(str(status), 0) + 1
        if status != want:
            self.unexpected.append({"op": key, "path": path, "want": want, "status": status,
                                    "body": text[:300]})
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, None

    def close(self):
        if self.conn:
            self.conn.close()


def pct(sorted_vals, p):
    if not sorted_vals:
        return 0.0
    i = min(len(sorted_vals) - 1, int(p / 100.0 * len(sorted_vals)))
    return round(sorted_vals[i], 3)


def cycle(api, i, prefix, rooms):
    st, room = api.call("room", "POST", "/v1/rooms",
                        {"name": "%s-%d" % (prefix, i), "capacity": 8, "last_n": 3}, 201)
    if st != 201 or not room or "id" not in room:
        return
    rid = room["id"]
    rooms.append(rid)
    base = "/v1/rooms/" + rid
    parts = []
    for k in range(4):
        n = i * 4 + k
        # A remote on the test site's range (198.18.0.0/15) that no host
        # holds and no flood class uses, sending nothing: mmdp holds its
        # endpoint and routes and forwards nothing to it.
        body = {"display_name": "%s-%d-%d" % (prefix, i, k),
                "role": "host" if k == 0 else "attendee",
                "remote": {"addr": "198.18.100.%d" % (n % 250 + 1), "port": 10000 + n % 50000},
                "streams": [{"kind": "audio", "ssrc": 0x5c000000 + n * 4, "audio_level_id": 1},
                            {"kind": "camera", "ssrc": 0x5c000000 + n * 4 + 1}]}
        st, p = api.call("join", "POST", base + "/participants", body, 201)
        if st == 201 and p and "id" in p:
            parts.append(p["id"])
    api.call("join_invalid", "POST", base + "/participants",
             {"display_name": "", "remote": {"addr": "198.18.100.1", "port": 9}}, 400)
    if len(parts) == 4:
        api.call("mute", "POST", "%s/participants/%s/mute" % (base, parts[1]), {"audio": True}, 200)
        api.call("last_n", "PATCH", base, {"last_n": 5}, 200)
        api.call("kick", "POST", "%s/participants/%s/kick" % (base, parts[2]),
                 {"reason": "chaos", "block_seconds": 2}, 204)
        api.call("leave", "DELETE", "%s/participants/%s" % (base, parts[3]), None, 204)
        api.call("leave_again", "DELETE", "%s/participants/%s" % (base, parts[3]), None, 404)
    if i % 2 == 0:
        api.call("room_delete", "DELETE", base, None, 204)
    else:
        api.call("room_end", "POST", base + "/end", None, 204)
    api.call("room_delete_again", "DELETE", base, None, 404)
    api.call("room_get_gone", "GET", base, None, 404)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--rate", type=float, default=40.0)
    ap.add_argument("--prefix", default="churn")
    ap.add_argument("--report")
    a = ap.parse_args()
    if a.duration <= 0 or a.rate < 0:
        ap.error("--duration must be > 0 and --rate >= 0")
    api = Api(a.url, a.token, a.rate)
    rooms = []
    # SIGTERM or SIGINT: stop after the cycle under way (it cleans up).
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))
    t0 = time.monotonic()
    cycles = 0
    while not stop and time.monotonic() - t0 < a.duration:
        cycle(api, cycles, a.prefix, rooms)
        cycles += 1
    elapsed = time.monotonic() - t0
    # Every room this loop created must be gone from the API.
    left = []
    st, lst = api.call("rooms_list", "GET", "/v1/rooms", None, 200)
    if st == 200 and lst:
        ids = {r.get("id") for r in lst.get("rooms", [])}
        left = [r for r in rooms if r in ids]
    api.close()
    lat = sorted(api.lat_ms)
    n = len(lat)
    rep = {"cycles": cycles, "operations": n, "seconds": round(elapsed, 3),
           "ops_per_s": round(n / elapsed, 2) if elapsed > 0 else 0,
           "ops": api.ops, "unexpected": api.unexpected[:50],
           "unexpected_count": len(api.unexpected),
           "rooms_created": len(rooms), "rooms_left": left,
           "latency_ms": {"p50": pct(lat, 50), "p99": pct(lat, 99),
                          "max": round(lat[-1], 3) if lat else 0}}
    text = json.dumps(rep, indent=1, sort_keys=True)
    if a.report:
        with open(a.report, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0 if not api.unexpected and not left else 1


if __name__ == "__main__":
    sys.exit(main())
