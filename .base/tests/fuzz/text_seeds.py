#!/usr/bin/python3
"""Writes the seed corpora of the text targets (agent, sdp, rest) into
tests/fuzz/corpus/: the agent protocol's requests (every op, valid and a few
refused, as docs/agent-protocol.md shows them), the SDP of
tests/control/sdp/, and REST bodies (joins, stream changes, tenants, join
tokens). Run by hand from the top of the tree; the output is committed."""
import base64, hashlib, hmac, json, os, shutil

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
corpus = os.path.join(top, 'tests/fuzz/corpus')

def put(target, name, data):
    os.makedirs(os.path.join(corpus, target), exist_ok=True)
    with open(os.path.join(corpus, target, name), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())

ep = {"endpoint": "e1", "room": "r1", "local": {"addr": "198.18.0.1", "port": 40000},
      "remote": {"addr": "198.18.1.2", "port": 5004}, "mac": "02:00:00:00:01:02",
      "audio_muted": False, "video_muted": False,
      "streams": [{"ssrc": 1111, "kind": "audio", "codec": "opus", "audio_level_id": 1},
                  {"ssrc": 2222, "kind": "video", "clock_rate": 90000}]}
sim = {"endpoint": "e2", "room": "r1", "rid_id": 4, "twcc_id": 5,
       "local": {"addr": "2001:2::1", "port": 40002},
       "remote": {"addr": "2001:2::1:9", "port": 5006},
       "streams": [{"ssrc": 10 + i, "kind": "video", "codec": "vp8", "group": "cam",
                    "layer": i, "rtx_ssrc": 20 + i, "rid": "qhf"[i]} for i in range(3)]}
web = {"endpoint": "p1", "room": "r1", "local": {"addr": "198.18.0.1", "port": 40001},
       "ice": {"ufrag": "mmU1", "pwd": "abcdefghijklmnopqrstuv0123"},
       "dtls": {"fingerprint": "sha-256 " + ":".join(["AB"] * 32), "setup": "active"},
       "streams": [{"ssrc": 7001, "kind": "audio"}]}
srtp = dict(ep, endpoint="e3", srtp={"profile": "AES_CM_128_HMAC_SHA1_80",
                                     "in_key": base64.b64encode(bytes(30)).decode(),
                                     "out_key": base64.b64encode(bytes(range(30))).decode()})
blk = {"block": "b1", "remote": {"addr": "198.18.1.2", "port": 5000},
       "local": {"addr": "198.18.0.1", "port": 20000}, "ttl_seconds": 3600}
ban = {"ban": "n1", "prefix": "203.0.113.0/24", "ttl_seconds": 3600}
agent = {
    'room-put': {"op": "room.put", "room": "r2", "capacity": 100},
    'room-del': {"op": "room.del", "room": "r1"},
    'endpoint-put': dict(ep, op="endpoint.put"),
    'endpoint-put-simulcast': dict(sim, op="endpoint.put"),
    'endpoint-put-webrtc': dict(web, op="endpoint.put"),
    'endpoint-put-srtp': dict(srtp, op="endpoint.put"),
    'endpoint-del': {"op": "endpoint.del", "endpoint": "a"},
    'route-all': {"op": "route.put", "room": "r1", "mode": "all"},
    'route-explicit': {"op": "route.put", "room": "r1", "mode": "explicit",
                       "subscriptions": {"a": ["b"], "b": ["a"]}},
    'block-put': dict(blk, op="block.put"),
    'block-del': {"op": "block.del", "block": "b1"},
    'ban-put': dict(ban, op="ban.put"),
    'ban-del': {"op": "ban.del", "ban": "n1"},
    'stats-get': {"op": "stats.get"},
    'stats-get-room': {"op": "stats.get", "room": "r1"},
    'speakers-get': {"op": "speakers.get", "since": 0},
    'batch': {"op": "batch", "generation": 7,
              "ops": [{"op": "endpoint.del", "endpoint": "b"}, dict(blk, op="block.put")]},
    'state-sync': {"op": "state.sync", "generation": 8,
                   "rooms": [{"room": "r1", "capacity": 10, "route": {"mode": "all"}}],
                   "endpoints": [ep, sim], "blocks": [blk], "bans": [ban]},
    'refused-unknown-op': {"op": "nope"},
    'refused-bad-port': {"op": "endpoint.put", "endpoint": "x", "room": "r1",
                         "local": {"addr": "198.18.0.1", "port": 70000}},
}
for name, req in agent.items():
    put('agent', name, json.dumps(req, separators=(',', ':')))
put('agent', 'not-json', '{"op":"room.put",')

for f in os.listdir(os.path.join(top, 'tests/control/sdp')):
    if f.endswith('.sdp'):
        shutil.copy(os.path.join(top, 'tests/control/sdp', f), os.path.join(corpus, 'sdp', f))

# rest: byte 0 picks the checks (fuzz_rest.c): 0 join, 1 streams, 2 tenant,
# 0x80 a join token.
rest = {
    'join': (0, {"display_name": "An", "role": "host",
                 "remote": {"addr": "198.51.100.7", "port": 5004},
                 "streams": [{"kind": "audio", "ssrc": 1111, "codec": "opus", "audio_level_id": 1},
                             {"kind": "camera", "ssrcs": [1, 2, 3], "rtx_ssrcs": [4, 5, 6],
                              "codec": "vp8"},
                             {"kind": "screen", "ssrc": 9, "rtx_ssrc": 10, "codec": "h264"}],
                 "rtx_pt": 97, "max_resolution": "medium"}),
    'join-webrtc': (0, {"display_name": "Browser", "webrtc": True, "account": "acc1"}),
    'streams': (1, {"streams": [{"kind": "camera", "ssrcs": [7, 8], "codec": "vp8"}],
                    "max_resolution": "low"}),
    'streams-dup-ssrc': (1, {"streams": [{"kind": "audio", "ssrc": 7},
                                         {"kind": "camera", "ssrc": 7}]}),
    'tenant': (2, {"name": "Acme", "email": "Ops@Example.COM"}),
}
for name, (sel, body) in rest.items():
    put('rest', name, bytes([sel]) + json.dumps(body).encode())

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=')
key = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
for name, hdr, claims in [
        ('jwt-valid', {"alg": "HS256", "typ": "JWT"},
         {"iss": "t1", "sub": "acc1", "exp": 1800000600, "iat": 1800000000, "room": "r1",
          "name": "An", "role": "host"}),
        ('jwt-kid', {"alg": "HS256", "typ": "JWT", "kid": "k1"},
         {"iss": "t1", "sub": "acc1", "exp": 1800000600}),
        ('jwt-expired', {"alg": "HS256"}, {"iss": "t1", "sub": "a", "exp": 1700000000}),
        ('jwt-alg-none', {"alg": "none"}, {"iss": "t1", "sub": "a", "exp": 1800000600})]:
    si = b64u(json.dumps(hdr).encode()) + b'.' + b64u(json.dumps(claims).encode())
    sig = b64u(hmac.new(key, si, hashlib.sha256).digest())
    put('rest', name, b'\x80' + si + b'.' + sig)
