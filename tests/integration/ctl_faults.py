#!/usr/bin/python3
"""mmctld's store under faults (issue 10, item 2), on the test site with a
real mmdp and a real mmctld on its real SQLite file.

  ctl_faults.py crash       -- the "crash-writes" test
  ctl_faults.py full-disk   -- the "full-disk" test

crash: a writer streams API writes of several kinds (rooms created, changed
and deleted, participants joining and leaving, chat, tenants and accounts)
while mmctld is killed with SIGKILL at random moments (CRASH_KILLS times,
default 15) and started again on the same database each time. Every write
is logged with its outcome: acknowledged (2xx, with what it returned),
refused (a reply that is not 2xx: the API promises nothing changed), or
unknown (the connection broke after the request went out). At the end:
every acknowledged write is there with its data; every refused one is not;
an unknown one is there whole or not at all; the database passes
integrity_check and foreign_key_check after every kill; mmdp's rooms and
endpoints are exactly the API's.

full-disk: the database on a small tmpfs in a private mount namespace (the
script re-runs itself under `unshare -m`; nothing is mounted in the
machine's namespace), filled up: writes get 507 storage_full, reads keep
working, mmctld keeps running, nothing acknowledged is lost, mmdp holds no
room or endpoint of a refused write; space freed, writes work again and
the database is sound; mmctld started on a full disk: with its database
already there it serves reads (writes 507); a new database cannot be made
and mmctld exits 1 saying so.

Environment (from tests/integration/meson.build and tools/mmsite):
MMDP_BIN, MMCTLD_BIN, MMSITE_DP_NS, MMSITE_DP_IP4, MMSITE_DP_IP6,
MMSITE_GW_MAC; CRASH_KILLS (crash), KEEP_WORK=1 keeps the work directory.
Prints the numbers (kills, writes acknowledged, unknown found present or
absent) as a last line "RESULT ..." for RELIABILITY.md.
"""
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

NAME = "ctl-faults"
EAL = "-l 0,1 --in-memory --no-pci --vdev net_af_xdp0,iface=dp0,start_queue=0,queue_count=1"
FAILS = []
SETTLE_RAN_OUT = False


def say(msg):
    print(f"{NAME}: {msg}", flush=True)


def fail(msg):
    print(f"   FAILED: {msg}", file=sys.stderr, flush=True)
    FAILS.append(msg)


def check(cond, msg):
    if cond:
        print(f"   ok: {msg}", flush=True)
    else:
        fail(msg)
    return cond


class Lost(Exception):
    """The request may have reached mmctld, but no reply came back."""


class Down(Exception):
    """mmctld was not there: the request was never sent."""


class Site:
    """mmdp (in the site's dp namespace) and mmctld (here) on one work dir."""

    def __init__(self, work, db):
        self.work = work
        self.db = db
        self.sock = os.path.join(work, "agent.sock")
        self.mmdp = None
        self.mmctld = None
        # A port free now (the kernel's choice), kept across restarts.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.cfg = os.path.join(work, "mmctld.json")
        self.log = open(os.path.join(work, "mmctld.log"), "ab")
        self.token = None
        self.starts = 0

    def start_mmdp(self):
        cfg = os.path.join(self.work, "mmdp.json")
        with open(cfg, "w") as f:
            json.dump({"agent_socket": self.sock, "ports": [{
                "addresses": [os.environ["MMSITE_DP_IP4"], os.environ["MMSITE_DP_IP6"]],
                "gateway_mac": os.environ["MMSITE_GW_MAC"]}]}, f)
        log = open(os.path.join(self.work, "mmdp.log"), "wb")
        self.mmdp = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{os.environ['MMSITE_DP_NS']}", "--",
             os.environ["MMDP_BIN"]] + EAL.split() + ["--", "--config", cfg],
            stdout=log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if os.path.exists(self.sock):
                return
            if self.mmdp.poll() is not None:
                raise SystemExit(f"{NAME}: mmdp exited before opening its agent socket")
            time.sleep(0.1)
        raise SystemExit(f"{NAME}: mmdp's agent socket did not appear within 30 s")

    def write_config(self, db=None):
        with open(self.cfg, "w") as f:
            json.dump({"listen": f"127.0.0.1:{self.port}", "db": db or self.db,
                       "mmdp_socket": self.sock,
                       "media_address": os.environ["MMSITE_DP_IP4"],
                       "port_range": [30000, 31999], "srtp_profile": "AEAD_AES_128_GCM"}, f)

    def make_token(self):
        self.write_config()
        self.token = subprocess.check_output(
            [os.environ["MMCTLD_BIN"], "--config", self.cfg, "--create-operator-token"],
            stderr=self.log).decode().strip()

    def start_mmctld(self, wait=True):
        self.mmctld = subprocess.Popen([os.environ["MMCTLD_BIN"], "--config", self.cfg],
                                       stdout=self.log, stderr=subprocess.STDOUT)
        self.starts += 1
        if not wait:
            return
        # Ready: it answers, and has synced mmdp (a write needs both).
        for _ in range(200):
            if self.mmctld.poll() is not None:
                raise SystemExit(f"{NAME}: mmctld exited {self.mmctld.returncode} at start")
            try:
                st, _ = self.call("GET", "/v1/rooms")
                if st == 200:
                    return
            except (Lost, Down):
                pass
            time.sleep(0.05)
        raise SystemExit(f"{NAME}: mmctld did not come up at {self.url}")

    def kill9(self):
        self.mmctld.send_signal(signal.SIGKILL)
        self.mmctld.wait()
        self.mmctld = None

    def stop_mmctld(self):
        if self.mmctld and self.mmctld.poll() is None:
            self.mmctld.terminate()
            try:
                self.mmctld.wait(10)
            except subprocess.TimeoutExpired:
                say("mmctld did not stop on SIGTERM, killing it")
                self.mmctld.kill()
                self.mmctld.wait()
        self.mmctld = None

    def stop(self):
        self.stop_mmctld()
        if self.mmdp and self.mmdp.poll() is None:
            self.mmdp.terminate()
            try:
                self.mmdp.wait(10)
            except subprocess.TimeoutExpired:
                self.mmdp.kill()
                self.mmdp.wait()

    def call(self, method, path, body=None, token=None):
        """(status, JSON body or None). Down: nothing was sent (refused);
        Lost: sent, and the connection broke before a reply."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            c.connect()
        except OSError as e:
            c.close()
            raise Down(str(e))
        try:
            data = json.dumps(body).encode() if body is not None else None
            hdr = {"Authorization": f"Bearer {token or self.token}"}
            if data is not None:
                hdr["Content-Type"] = "application/json"
            c.request(method, path, body=data, headers=hdr)
            r = c.getresponse()
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
        except (OSError, http.client.HTTPException) as e:
            raise Lost(f"{type(e).__name__}: {e}")
        finally:
            c.close()

    def agent(self, req):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.sock)
        s.sendall((json.dumps(req) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
        return json.loads(buf)


def api_state(site):
    """{room id: (room, {participant id: participant})} as the API shows it."""
    st, body = site.call("GET", "/v1/rooms")
    assert st == 200, f"GET /v1/rooms: {st} {body}"
    out = {}
    for r in body["rooms"]:
        st, full = site.call("GET", f"/v1/rooms/{r['id']}")
        assert st == 200, f"GET /v1/rooms/{r['id']}: {st} {full}"
        out[r["id"]] = (full, {p["id"]: p for p in full.get("participants", [])})
    return out


def mmdp_state(site):
    """{room: set of endpoints} as mmdp has it (room.list)."""
    rep = site.agent({"op": "room.list"})
    assert rep.get("ok"), rep
    return {r["room"]: set(r.get("endpoints", [])) for r in rep["rooms"]}


def resync_failed(site):
    """Did mmctld's last failed commit leave mmdp unsynced? When mmdp did
    not answer within mmctld's 5 s (seen on this 2-core VM with a load
    average over 10 and several mmdps busy-polling the same cores), mmctld
    logs mmdp_resynced=no and its ticker syncs once mmdp answers again."""
    site.log.flush()
    with open(os.path.join(site.work, "mmctld.log"), errors="replace") as f:
        events = [x for x in f.read().splitlines() if "event=commit_failed_after_push" in x]
    return bool(events) and "mmdp_resynced=no" in events[-1]


def check_mmdp_matches(site, what, quiet=False, settle=False):
    """mmdp's rooms and endpoints equal the API's. settle: mmctld may still
    be syncing mmdp (after a restart whose sync mmdp did not answer in
    time, its ticker retries): equal within 60 s is enough."""
    global SETTLE_RAN_OUT
    # mmdp first: right after a refused write, before mmctld's ticker (or
    # the GETs below) had a chance to put anything right. Once a wait ran
    # out, no more waiting: the test fails anyway, and fails quickly.
    settle = settle and not SETTLE_RAN_OUT
    t0 = time.monotonic()
    while True:
        dp = mmdp_state(site)
        api = api_state(site)
        want = {rid: set(ps) for rid, (_, ps) in api.items()}
        ok = dp == want
        if ok or not settle or time.monotonic() - t0 > 60:
            break
        time.sleep(0.5)
    if ok and time.monotonic() - t0 > 1:
        say(f"{what}: mmdp equal to the API after {time.monotonic() - t0:.1f} s "
            "(mmctld's ticker synced it)")
    if not ok:
        SETTLE_RAN_OUT = SETTLE_RAN_OUT or settle
        extra = {r: e for r, e in dp.items() if want.get(r) != e}
        missing = {r: e for r, e in want.items() if dp.get(r) != e}
        fail(f"{what}: mmdp differs from the API: mmdp has {extra}, API has {missing}")
    elif not quiet:
        n = sum(len(e) for e in want.values())
        print(f"   ok: {what}: mmdp holds exactly the API's {len(want)} rooms and "
              f"{n} endpoints", flush=True)
    return api


def db_sound(db, what, quiet=False):
    """integrity_check and foreign_key_check, read-only (no checkpoint, no
    recovery written: what the next mmctld will open)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        integ = [r[0] for r in con.execute("PRAGMA integrity_check")]
        fks = list(con.execute("PRAGMA foreign_key_check"))
        # A participant row is whole: keys (sealed), a port, a token.
        bad = con.execute("SELECT count(*) FROM participants WHERE key_in = '' OR "
                          "key_out = '' OR local_port <= 0").fetchone()[0]
    finally:
        con.close()
    ok = integ == ["ok"] and not fks and bad == 0
    if not ok or not quiet:
        check(ok, f"{what}: integrity_check {integ[:3]}, foreign_key_check {fks[:3]}, "
                  f"participants without keys or port: {bad}")
    return ok


# ---------------------------------------------------------------- crash

class Writer:
    """Streams writes and keeps what each one's outcome says must be true."""

    def __init__(self, site):
        self.site = site
        self.n = 0
        self.log = []           # (kind, outcome, detail) per write
        # room name -> {"id", "req", "state": acked|unknown|refused|deleted|maybe_deleted,
        #               "last_n": allowed final values, "anchor": participant id}
        self.rooms = {}
        # participant display_name -> {"id", "room", "state", "port", "token"}
        self.parts = {}
        self.chats = []         # (room name, text, state, id)
        self.tenants = {}       # id -> {"state", "name", "email"}
        self.accounts = []      # (tenant, email, state, id)
        # Writes without a reply since the last restart: (kind, object,
        # value); resolve() finds out which way each went, right after the
        # restart, before anything else could change what it touched.
        self.pending = []
        self.took = {"present": 0, "absent": 0}
        self.uniq = f"{os.getpid()}x{random.randrange(1 << 30)}"

    def write(self, kind, method, path, body):
        """acked (status, body) | ("refused", status) | ("unknown", None) |
        ("down", None)."""
        self.n += 1
        try:
            st, rep = self.site.call(method, path, body)
        except Down:
            return "down", None, None
        except Lost as e:
            self.log.append((kind, "unknown", str(e)))
            return "unknown", None, None
        if 200 <= st < 300:
            self.log.append((kind, "acked", st))
            return "acked", st, rep
        self.log.append((kind, "refused", (st, rep)))
        return "refused", st, rep

    def live_rooms(self):
        return [r for r in self.rooms.values() if r["state"] == "acked"]

    def step(self):
        rooms = self.live_rooms()
        with_anchor = [r for r in rooms if r.get("anchor")]
        choices = ["room"] * (3 if len(rooms) < 12 else 1)
        live = sum(1 for p in self.parts.values() if p["state"] == "acked" and
                   p["room"]["state"] == "acked")
        if rooms:
            # Joins while under 300 participants: mmctld's port range (2000)
            # is not what this test is about.
            choices += ["join"] * (4 if live < 300 else 0) + ["patch"] * 2 + \
                ["delete_room"] * (1 if len(rooms) > 6 else 0)
        if with_anchor:
            choices += ["chat"] * 3
        leavers = [p for p in self.parts.values() if p["state"] == "acked" and not p["anchor"]
                   and p["room"]["state"] == "acked"]
        if leavers:
            choices += ["leave"] * 2
        choices += ["tenant"]
        if any(t["state"] == "acked" for t in self.tenants.values()):
            choices += ["account"] * 2
        getattr(self, "do_" + random.choice(choices))(rooms, with_anchor, leavers)

    def do_room(self, *_):
        name = f"room-{self.uniq}-{self.n}"
        req = {"name": name, "capacity": random.randint(5, 100),
               "last_n": random.randint(0, 10), "video_last_n": random.randint(0, 10)}
        out, st, rep = self.write("room", "POST", "/v1/rooms", req)
        if out == "down":
            return
        r = {"id": rep["id"] if out == "acked" else None, "req": req, "state": out,
             "last_n": {req["last_n"]}, "anchor": None}
        if out == "acked":
            for k in ("name", "capacity", "last_n", "video_last_n"):
                if rep.get(k) != req[k]:
                    fail(f"room create reply {k}={rep.get(k)}, asked {req[k]}")
        elif out == "unknown":
            self.pending.append(("room", r, None))
        self.rooms[name] = r

    def do_patch(self, rooms, *_):
        r = random.choice(rooms)
        v = random.randint(0, 20)
        out, st, rep = self.write("patch", "PATCH", f"/v1/rooms/{r['id']}", {"last_n": v})
        if out == "acked":
            r["last_n"] = {v}
        elif out == "unknown":
            r["last_n"].add(v)
            self.pending.append(("patch", r, v))

    def do_delete_room(self, rooms, *_):
        r = random.choice(rooms)
        out, st, rep = self.write("delete_room", "DELETE", f"/v1/rooms/{r['id']}", None)
        if out == "acked":
            r["state"] = "deleted"
        elif out == "unknown":
            r["state"] = "maybe_deleted"
            self.pending.append(("delete_room", r, None))

    def do_join(self, rooms, *_):
        r = random.choice(rooms)
        name = f"p-{self.uniq}-{self.n}"
        req = {"display_name": name, "role": "attendee",
               "remote": {"addr": f"198.18.{random.randint(1, 3)}.{random.randint(1, 4)}",
                          "port": random.randint(1024, 65000)}}
        out, st, rep = self.write("join", "POST", f"/v1/rooms/{r['id']}/participants", req)
        if out == "down":
            return
        if out == "refused" and rep and rep.get("error", {}).get("code") == "room_full":
            out = "refused"
        p = {"id": None, "room": r, "state": out, "anchor": False, "req": req}
        if out == "acked":
            srtp = rep.get("transport", {}).get("srtp", {})
            p.update(id=rep["id"], port=rep["transport"]["server"]["port"],
                     token=rep["token"], keys=(srtp.get("key_to_server"),
                                               srtp.get("key_from_server")))
            if not (p["keys"][0] and p["keys"][1]):
                fail(f"join reply without SRTP keys: {rep}")
            if not r["anchor"]:
                r["anchor"] = p["id"]
                p["anchor"] = True
        elif out == "unknown":
            self.pending.append(("join", p, None))
        self.parts[name] = p

    def do_leave(self, _r, _a, leavers):
        p = random.choice(leavers)
        out, st, rep = self.write("leave", "DELETE",
                                  f"/v1/rooms/{p['room']['id']}/participants/{p['id']}", None)
        if out == "acked":
            p["state"] = "left"
        elif out == "unknown":
            p["state"] = "maybe_left"
            self.pending.append(("leave", p, None))

    def do_chat(self, _r, with_anchor, _l):
        r = random.choice(with_anchor)
        text = f"chat-{self.uniq}-{self.n} " + "x" * random.randint(0, 200)
        out, st, rep = self.write("chat", "POST", f"/v1/rooms/{r['id']}/chat",
                                  {"text": text, "from": r["anchor"]})
        if out != "down":
            self.chats.append({"room": r, "text": text, "state": out,
                               "id": rep.get("id") if out == "acked" else None})
        if out == "unknown":
            self.pending.append(("chat", self.chats[-1], None))

    def do_tenant(self, *_):
        tid = f"t{self.uniq}-{self.n}"
        email = f"admin{self.n}@example.com"
        req = {"id": tid, "name": f"Tenant {self.n}",
               "admin": {"name": "Admin", "email": email}, "plan": "trial"}
        out, st, rep = self.write("tenant", "POST", "/v1/tenants", req)
        if out != "down":
            self.tenants[tid] = {"state": out, "name": req["name"], "email": email}
        if out == "unknown":
            self.pending.append(("tenant", tid, None))

    def do_account(self, *_):
        tid = random.choice([t for t, v in self.tenants.items() if v["state"] == "acked"])
        email = f"user{self.n}@example.com"
        out, st, rep = self.write("account", "POST", f"/v1/tenants/{tid}/accounts",
                                  {"name": f"User {self.n}", "email": email})
        if out != "down":
            self.accounts.append({"tenant": tid, "email": email, "state": out,
                                  "id": rep.get("id") if out == "acked" else None})
        if out == "unknown":
            self.pending.append(("account", self.accounts[-1], None))

    # ------------------------------------------------------------ resolve

    def chat_texts(self, rid):
        """{text: message} of room rid's chat, every page."""
        out, since = {}, 0
        while True:
            st, body = self.site.call("GET", f"/v1/rooms/{rid}/chat?since={since}&limit=1000")
            msgs = body.get("messages", []) if st == 200 else []
            out.update({m["text"]: m for m in msgs})
            if len(msgs) < 1000:
                return out
            since = msgs[-1]["id"]

    def resolve(self, db):
        """After a restart: did each write without a reply take effect?
        Whole or not at all; then it counts as acknowledged or refused for
        the rest of the run (and the final check)."""
        site = self.site
        for kind, o, v in self.pending:
            took = None
            if kind == "room":
                st, body = site.call("GET", "/v1/rooms")
                found = [x for x in body["rooms"] if x["name"] == o["req"]["name"]]
                took = bool(found)
                if len(found) > 1:
                    fail(f"room {o['req']['name']} made {len(found)} times")
                if found:
                    x = found[0]
                    if any(x[k] != o["req"][k] for k in ("capacity", "last_n", "video_last_n")):
                        fail(f"room {x['id']} not whole: {x}, asked {o['req']}")
                    o.update(state="acked", id=x["id"])
                else:
                    o["state"] = "refused"
            elif kind == "patch":
                st, body = site.call("GET", f"/v1/rooms/{o['id']}")
                if st != 200:
                    fail(f"room {o['id']} gone after a patch ({st})")
                    continue
                took = body["last_n"] == v
                if body["last_n"] not in o["last_n"]:
                    fail(f"room {o['id']}: last_n {body['last_n']}, not one of {o['last_n']}")
                o["last_n"] = {body["last_n"]}
            elif kind == "delete_room":
                st, body = site.call("GET", f"/v1/rooms/{o['id']}")
                took = st == 404
                o["state"] = "deleted" if took else "acked"
            elif kind == "join":
                st, body = site.call("GET", f"/v1/rooms/{o['room']['id']}")
                found = [x for x in body.get("participants", [])
                         if x["display_name"] == o["req"]["display_name"]]
                took = bool(found)
                if found:
                    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
                    row = con.execute("SELECT room_id, key_in, key_out, local_port FROM "
                                      "participants WHERE id=?", (found[0]["id"],)).fetchone()
                    con.close()
                    if not row or row[0] != o["room"]["id"] or not row[1] or not row[2] or \
                            row[3] <= 0:
                        fail(f"participant {found[0]['id']} not whole: {row}")
                    o.update(state="acked", id=found[0]["id"], port=row[3] if row else None)
                    if not o["room"]["anchor"]:
                        o["room"]["anchor"] = o["id"]
                        o["anchor"] = True
                else:
                    o["state"] = "refused"
            elif kind == "leave":
                st, body = site.call("GET", f"/v1/rooms/{o['room']['id']}/participants/{o['id']}")
                took = st == 404
                o["state"] = "left" if took else "acked"
            elif kind == "chat":
                m = self.chat_texts(o["room"]["id"]).get(o["text"])
                took = m is not None
                o.update(state="acked" if took else "refused", id=m["id"] if m else None)
            elif kind == "tenant":
                st, body = site.call("GET", f"/v1/tenants/{o}")
                took = st == 200
                self.tenants[o]["state"] = "acked" if took else "refused"
            elif kind == "account":
                st, body = site.call("GET", f"/v1/tenants/{o['tenant']}/accounts")
                x = [a for a in body.get("accounts", []) if a["email"] == o["email"]]
                took = bool(x)
                o.update(state="acked" if took else "refused", id=x[0]["id"] if x else None)
            self.took["present" if took else "absent"] += 1
        self.pending = []

    # ------------------------------------------------------------ verify

    def verify(self, db):
        site = self.site
        api = check_mmdp_matches(site, "after the last restart", settle=True)
        by_name = {}
        for rid, (room, ps) in api.items():
            by_name.setdefault(room["name"], []).append(room)
        # Unknown outcomes: found whole, found absent, or moot (what they
        # were in went away later: a chat or join in a room since deleted).
        c = {"unknown_present": 0, "unknown_absent": 0, "unknown_moot": 0}

        def tally(present):
            c["unknown_present" if present else "unknown_absent"] += 1

        # Rooms.
        for name, r in self.rooms.items():
            found = by_name.get(name, [])
            if len(found) > 1:
                fail(f"room {name} is there {len(found)} times")
            room = found[0] if found else None
            st = r["state"]
            if st in ("acked",) and not room:
                fail(f"acknowledged room {name} ({r['id']}) is missing")
            if st in ("refused", "deleted") and room:
                why = "create was refused" if st == "refused" else "delete was acknowledged"
                fail(f"room {name} is there, but its {why}")
            if st == "unknown":
                tally(room is not None)
            if st == "maybe_deleted":
                tally(room is not None)
            if room:
                if r["id"] and room["id"] != r["id"]:
                    fail(f"room {name}: id {room['id']}, acknowledged as {r['id']}")
                req = r["req"]
                if (room["capacity"], room["video_last_n"]) != (req["capacity"],
                                                                req["video_last_n"]):
                    fail(f"room {name}: settings {room} differ from the request {req}")
                if room["last_n"] not in r["last_n"]:
                    fail(f"room {name}: last_n {room['last_n']}, expected one of {r['last_n']}")
                r["id"] = room["id"]
        # Participants.
        all_parts = {}
        for rid, (room, ps) in api.items():
            for p in ps.values():
                all_parts[p["display_name"]] = (rid, p)
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        for name, p in self.parts.items():
            got = all_parts.get(name)
            room_there = p["room"]["id"] in api
            st = p["state"]
            if st == "acked" and room_there and not got:
                fail(f"acknowledged participant {name} ({p['id']}) is missing")
            if st in ("refused", "left") and got:
                why = "join was refused" if st == "refused" else "leave was acknowledged"
                fail(f"participant {name} is there, but its {why}")
            if st in ("acked", "maybe_left") and not room_there and \
                    p["room"]["state"] not in ("deleted", "maybe_deleted"):
                fail(f"participant {name}'s room {p['room']['id']} is gone")
            if st in ("unknown", "maybe_left"):
                if room_there or got:
                    tally(got is not None)
                else:
                    c["unknown_moot"] += 1
            if got:
                rid, gp = got
                if rid != p["room"]["id"]:
                    fail(f"participant {name} in room {rid}, joined {p['room']['id']}")
                if p["id"] and gp["id"] != p["id"]:
                    fail(f"participant {name}: id {gp['id']}, acknowledged as {p['id']}")
                row = con.execute("SELECT room_id, key_in, key_out, local_port FROM participants "
                                  "WHERE id=?", (gp["id"],)).fetchone()
                if not row or row[0] != rid or not row[1] or not row[2] or row[3] <= 0:
                    fail(f"participant {name}: stored row not whole: {row}")
                elif p.get("port") and row[3] != p["port"]:
                    fail(f"participant {name}: port {row[3]}, acknowledged {p['port']}")
                if p.get("token"):
                    # The token given with the join works: stored with it.
                    st2, _ = site.call("GET", f"/v1/rooms/{rid}/participants/{gp['id']}",
                                       token=p["token"])
                    if st2 != 200:
                        fail(f"participant {name}: its token gets {st2}")
        con.close()
        # Chat: by room, the messages the API lists (operator sees all).
        seen = {}
        for ch in self.chats:
            rid = ch["room"]["id"]
            if rid not in api:
                c["unknown_moot"] += ch["state"] == "unknown"
                continue
            if rid not in seen:
                seen[rid] = self.chat_texts(rid)
            m = seen[rid].get(ch["text"])
            if ch["state"] == "acked" and (not m or m["id"] != ch["id"]):
                fail(f"acknowledged chat {ch['id']} in {rid} is missing")
            if ch["state"] == "refused" and m:
                fail(f"refused chat is there: {m}")
            if ch["state"] == "unknown":
                tally(m is not None)
        # Tenants and accounts.
        for tid, t in self.tenants.items():
            st, body = site.call("GET", f"/v1/tenants/{tid}")
            present = st == 200
            if t["state"] == "acked" and not present:
                fail(f"acknowledged tenant {tid} is missing ({st})")
            if t["state"] == "refused" and present:
                fail(f"refused tenant {tid} is there")
            if t["state"] == "unknown":
                tally(present)
            if present:
                if body.get("name") != t["name"] or not body.get("contract"):
                    fail(f"tenant {tid} not whole: {body}")
                st, accts = site.call("GET", f"/v1/tenants/{tid}/accounts")
                admins = [a for a in accts.get("accounts", []) if a["email"] == t["email"]
                          and a["role"] == "admin"]
                if len(admins) != 1:
                    fail(f"tenant {tid} without its admin account: {accts}")
        acct_cache = {}
        for a in self.accounts:
            tid = a["tenant"]
            if tid not in acct_cache:
                st, body = site.call("GET", f"/v1/tenants/{tid}/accounts")
                acct_cache[tid] = {x["email"]: x for x in body.get("accounts", [])}
            x = acct_cache[tid].get(a["email"])
            if a["state"] == "acked" and (not x or x["id"] != a["id"]):
                fail(f"acknowledged account {a['id']} of {tid} is missing")
            if a["state"] == "refused" and x:
                fail(f"refused account {a['email']} is there")
            if a["state"] == "unknown":
                tally(x is not None)
        return c


def crash_test():
    kills = int(os.environ.get("CRASH_KILLS", "15"))
    work = tempfile.mkdtemp(prefix=os.environ.get("MMSITE_PREFIX", "mmn-") + "crash.")
    site = Site(work, os.path.join(work, "mmctld.db"))
    ok = False
    try:
        site.start_mmdp()
        site.make_token()
        site.start_mmctld()
        w = Writer(site)
        say(f"{kills} kills of mmctld (SIGKILL) during a stream of API writes")
        unsound = 0
        t_start = time.monotonic()
        for k in range(kills):
            # A random number of writes (a busy machine makes them slow,
            # so not a time), then SIGKILL from a timer a random few
            # milliseconds later: it lands inside one of the next requests
            # (parsing, the push to mmdp, the commit, the reply).
            for _ in range(random.randint(5, 40)):
                w.step_safe()
            timer = threading.Timer(random.uniform(0.0, 0.05), site.kill9)
            timer.start()
            while site.mmctld is not None or timer.is_alive():
                if w.step_safe() == "down" and not timer.is_alive():
                    break
            timer.join()
            if not db_sound(site.db, f"after kill {k + 1}", quiet=True):
                unsound += 1
            site.start_mmctld()
            # mmctld synced mmdp before it listened: equal at once.
            check_mmdp_matches(site, f"after restart {k + 1}", quiet=True, settle=True)
            w.resolve(site.db)
        elapsed = time.monotonic() - t_start
        check(unsound == 0, f"the database was sound after each of {kills} kills")
        check(not FAILS, f"mmdp equal to the API after each of {kills} restarts")
        # A few more writes on the last mmctld, then the verdict.
        for _ in range(20):
            w.step_safe()
        acked = sum(1 for x in w.log if x[1] == "acked")
        refused = [x for x in w.log if x[1] == "refused"]
        unknown = sum(1 for x in w.log if x[1] == "unknown")
        say(f"{len(w.log)} writes: {acked} acknowledged, {unknown} without a reply, "
            f"{len(refused)} refused, in {elapsed:.1f} s")
        for x in refused[:5]:
            say(f"   refused: {x}")
        how = {}
        for x in w.log:
            if x[1] == "unknown":
                k2 = x[2].split(":")[0]
                how[k2] = how.get(k2, 0) + 1
        say(f"   no reply, by how the connection broke: {how}")
        # room_full is the workload's (random capacities), and mmdp may
        # not answer a push within mmctld's 5 s on a loaded machine (503,
        # "timed out": mmctld resyncs it; the refused change must then be
        # absent, checked below like every refusal). Anything else (a 503
        # "Protocol error": mmdp refused mmctld's state.sync after a
        # restart) is a failure.
        def expected(x):
            e = (x[2][1] or {}).get("error", {})
            return e.get("code") == "room_full" or (
                e.get("code") == "mmdp_unavailable" and "timed out" in e.get("message", ""))
        other = [x for x in refused if not expected(x)]
        check(not other, f"no write refused but for room_full or an mmdp timeout "
                         f"({len(refused) - len(other)} such, {len(other)} others)")
        c = w.verify(site.db)
        site.stop_mmctld()
        db_sound(site.db, "after the last clean stop")
        kinds = sorted({x[0] for x in w.log if x[1] == "acked"})
        check(len(kinds) >= 7, f"acknowledged writes of every kind: {kinds}")
        check(acked >= 5 * kills, f"{acked} writes acknowledged (at least 5 per kill)")
        check(c["unknown_present"] + c["unknown_absent"] + c["unknown_moot"] == 0,
              "every write without a reply was resolved after its restart")
        check(w.took["present"] + w.took["absent"] == unknown,
              f"{unknown} writes without a reply: {w.took['present']} found whole, "
              f"{w.took['absent']} absent")
        print(f"RESULT kills={kills} writes={len(w.log)} acked={acked} refused={len(refused)} "
              f"unknown={unknown} unknown_present={w.took['present']} "
              f"unknown_absent={w.took['absent']} seconds={elapsed:.0f}", flush=True)
        ok = not FAILS
    finally:
        site.stop()
        finish(ok, work)
    return ok


def _step_safe(self):
    try:
        self.step()
        return "ok"
    except (Down, Lost):
        return "down"


Writer.step_safe = _step_safe


# ---------------------------------------------------------------- full disk

def fill(path):
    """Fill the filesystem of path: a file grown until ENOSPC (whole pages,
    then single bytes for the last one)."""
    n = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for chunk in (b"\0" * 65536, b"\0" * 4096, b"\0"):
            while True:
                try:
                    n += os.write(fd, chunk)
                except OSError:
                    break
    finally:
        os.close(fd)
    return n


def full_disk_test():
    # mountpoint(1) reads the mount table; os.path.ismount("/") is True
    # in a chroot too (its "/.." is itself).
    if subprocess.call(["mountpoint", "-q", "/"]) != 0:
        # A chroot (fresh-debian-run): its "/" is a directory of another
        # mount, whose propagation a new mount namespace cannot change, so
        # the tmpfs below could not be kept out of the machine's namespace.
        print("SKIP: / is not a mount point (a chroot): no private mount "
              "namespace for the database's small tmpfs")
        sys.exit(77)
    if os.environ.get("MM_MOUNT_NS") != "1":
        # A private mount namespace: the tmpfs below exists only in it.
        env = dict(os.environ, MM_MOUNT_NS="1")
        os.execvpe("unshare", ["unshare", "--mount", "--propagation", "private",
                               sys.executable, os.path.abspath(__file__), "full-disk"], env)
    work = tempfile.mkdtemp(prefix=os.environ.get("MMSITE_PREFIX", "mmn-") + "full.")
    fs = os.path.join(work, "fs")
    os.mkdir(fs)
    subprocess.check_call(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "mmn-full", fs])
    site = Site(work, os.path.join(fs, "mmctld.db"))
    filler = os.path.join(fs, "filler")
    ok = False
    try:
        site.start_mmdp()
        site.make_token()
        site.start_mmctld()
        say("writes on a roomy disk")
        acked_rooms, acked_chats = [], []
        anchor = None
        for i in range(5):
            st, r = site.call("POST", "/v1/rooms", {"name": f"before-{i}", "last_n": i})
            assert st == 201, (st, r)
            acked_rooms.append(r)
        st, p = site.call("POST", f"/v1/rooms/{acked_rooms[0]['id']}/participants",
                          {"display_name": "anchor", "remote": {"addr": "198.18.1.1", "port": 4000}})
        assert st == 201, (st, p)
        anchor = p["id"]
        check_mmdp_matches(site, "before the disk is full")

        for i in range(10):
            text = f"before-chat-{i} " + "z" * 1000
            st, r = site.call("POST", f"/v1/rooms/{acked_rooms[0]['id']}/chat",
                              {"text": text, "from": anchor})
            assert st == 201, (st, r)
            acked_chats.append((text, r["id"]))

        say("the disk fills up")
        # Full, then 256 KiB freed: the writes below succeed for a while and
        # then meet the full disk wherever it happens to be.
        n = fill(filler)
        os.truncate(filler, n - 256 * 1024)
        say(f"   filler: {n} bytes, 256 KiB of them given back")
        got = {}
        refused_rooms, refused_joins, refused_chats, acked_joins = [], [], [], []
        first_507 = None
        # Chat is the bulk (4 KiB each); rooms and joins in between, each
        # checked against mmdp right after a refusal.
        for i in range(1000):
            kind = ("room", "join", "chat", "chat")[i % 4]
            if kind == "room":
                name = f"full-{i}"
                st, r = site.call("POST", "/v1/rooms", {"name": name, "capacity": 7})
                (acked_rooms.append(r) if st == 201 else refused_rooms.append((name, st, r)))
            elif kind == "join":
                name = f"fulljoin-{i}"
                st, r = site.call("POST", f"/v1/rooms/{acked_rooms[0]['id']}/participants",
                                  {"display_name": name, "remote": {"addr": "198.18.1.2",
                                                                    "port": 5000 + i}})
                (acked_joins.append((name, r["id"])) if st == 201 else
                 refused_joins.append((name, st, r)))
            else:
                text = f"full-chat-{i} " + "y" * 4000
                st, r = site.call("POST", f"/v1/rooms/{acked_rooms[0]['id']}/chat",
                                  {"text": text, "from": anchor})
                (acked_chats.append((text, r["id"])) if st == 201 else
                 refused_chats.append((text, st, r)))
            got[st] = got.get(st, 0) + 1
            if st == 507 and first_507 is None:
                first_507 = (kind, r)
            if st not in (201, 507) and not (
                    st == 503 and "timed out" in (r or {}).get("error", {}).get("message", "")):
                # (A 503 timeout: mmdp slower than 5 s on a loaded machine;
                # refused like a 507 and checked absent below.)
                fail(f"{kind} on a full disk: {st} {r}")
            if st == 507 and kind in ("room", "join"):
                # Right after the refusal, before any other request.
                check_mmdp_matches(site, f"right after a refused {kind}",
                                   settle=resync_failed(site))
            if len(refused_rooms) >= 3 and len(refused_joins) >= 3 and len(refused_chats) >= 10:
                break
        say(f"   replies: {got}")
        check(first_507 is not None and first_507[1]["error"]["code"] == "storage_full" and
              "full" in first_507[1]["error"]["message"],
              f"writes on a full disk: 507 storage_full with a message ({first_507})")
        check(len(refused_rooms) >= 3 and len(refused_joins) >= 3,
              f"room creations ({len(refused_rooms)}) and joins ({len(refused_joins)}) refused")
        check(site.mmctld.poll() is None, "mmctld still running")
        st, body = site.call("GET", "/v1/rooms")
        check(st == 200, f"reads work on a full disk (GET /v1/rooms: {st})")
        api = check_mmdp_matches(site, "on the full disk", settle=resync_failed(site))
        names = {room["name"] for room, _ in api.values()}
        check(all(r["name"] in names for r in acked_rooms) and
              not any(n in names for n, _, _ in refused_rooms),
              f"{len(acked_rooms)} acknowledged rooms there, {len(refused_rooms)} refused absent")
        parts = {p["display_name"]: p["id"] for _, ps in api.values() for p in ps.values()}
        check(all(parts.get(n) == i for n, i in acked_joins) and
              not any(n in parts for n, _, _ in refused_joins),
              f"{len(acked_joins)} acknowledged participants there, {len(refused_joins)} "
              "refused absent")
        st, body = site.call("GET", f"/v1/rooms/{acked_rooms[0]['id']}/chat?limit=1000")
        texts = {m["text"]: m["id"] for m in body["messages"]}
        check(all(texts.get(t) == i for t, i in acked_chats) and
              not any(t in texts for t, _, _ in refused_chats),
              f"{len(acked_chats)} acknowledged chats there, {len(refused_chats)} refused absent")
        log = open(os.path.join(work, "mmctld.log"), errors="replace").read()
        check("event=storage_full" in log, "mmctld logged storage_full")

        say("space freed")
        os.unlink(filler)
        st, r = site.call("POST", "/v1/rooms", {"name": "after-free", "last_n": 4})
        check(st == 201, f"a room is created again ({st})")
        st, r2 = site.call("POST", f"/v1/rooms/{r['id']}/participants",
                           {"display_name": "after", "remote": {"addr": "198.18.1.3", "port": 6000}})
        check(st == 201, f"a participant joins again ({st})")
        st, r3 = site.call("POST", f"/v1/rooms/{acked_rooms[0]['id']}/chat",
                           {"text": "after the disk was freed", "from": anchor})
        check(st == 201, f"chat works again ({st})")
        check_mmdp_matches(site, "after space was freed")
        site.stop_mmctld()
        db_sound(site.db, "after space was freed and mmctld stopped")

        say("mmctld started on a full disk")
        fill(filler)
        site.start_mmctld(wait=False)
        up = False
        for _ in range(100):
            if site.mmctld.poll() is not None:
                break
            try:
                st, _ = site.call("GET", "/v1/rooms")
                up = st == 200
                if up:
                    break
            except (Down, Lost):
                pass
            time.sleep(0.05)
        if up:
            check(True, "with its database there, mmctld starts and reads work")
            st, r = site.call("POST", "/v1/rooms", {"name": "start-full"})
            check(st == 507 and r["error"]["code"] == "storage_full",
                  f"and writes get 507 storage_full ({st})")
            api = check_mmdp_matches(site, "started on a full disk", settle=True)
            site.stop_mmctld()
        else:
            rc = site.mmctld.wait()
            check(rc == 1, f"mmctld exits 1, not by a signal ({rc})")
            site.mmctld = None
        # A new database cannot even be made: a clear exit.
        site.write_config(db=os.path.join(fs, "new.db"))
        pos = os.path.getsize(os.path.join(work, "mmctld.log"))
        site.log.flush()
        site.start_mmctld(wait=False)
        try:
            rc = site.mmctld.wait(30)
        except subprocess.TimeoutExpired:
            rc = None
            fail("mmctld keeps running with no database")
        site.mmctld = None
        site.log.flush()
        with open(os.path.join(work, "mmctld.log"), errors="replace") as f:
            f.seek(pos)
            tail = f.read()
        check(rc == 1 and "No space left on device" in tail,
              f"a new database on a full disk: exit {rc}, says why: "
              f"{tail.strip().splitlines()[-1] if tail.strip() else ''}")
        os.unlink(filler)
        site.write_config()
        db_sound(site.db, "the database at the end")
        print(f"RESULT replies={got} refused_rooms={len(refused_rooms)} "
              f"refused_joins={len(refused_joins)} refused_chats={len(refused_chats)} "
              f"acked_rooms={len(acked_rooms)} acked_joins={len(acked_joins)} "
              f"acked_chats={len(acked_chats)}", flush=True)
        ok = not FAILS
    finally:
        site.stop()
        subprocess.call(["umount", fs])
        finish(ok, work)
    return ok


def finish(ok, work):
    if ok and os.environ.get("KEEP_WORK") != "1":
        shutil.rmtree(work, ignore_errors=True)
    else:
        say(f"logs kept in {work}")
    if FAILS:
        say(f"{len(FAILS)} check(s) failed")


def main():
    global NAME
    for v in ("MMDP_BIN", "MMCTLD_BIN", "MMSITE_DP_NS", "MMSITE_DP_IP4", "MMSITE_GW_MAC"):
        if not os.environ.get(v):
            raise SystemExit(f"{NAME}: {v} is not set (run inside the test site, see "
                             "tests/integration/meson.build)")
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "crash":
        NAME = "crash-writes"
        ok = crash_test()
    elif mode == "full-disk":
        NAME = "full-disk"
        ok = full_disk_test()
    else:
        raise SystemExit("usage: ctl_faults.py crash|full-disk")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
