#!/usr/bin/python3
"""A stand-in for mmctld's REST API, enough to drive the meeting page
(control/www) without mmdp: serves /meet, takes joins by invite with
"webrtc": true, writes offers in the shape docs/api.md "Browsers (WebRTC)"
gives (server offers, mic/cam/scr recvonly, then one sendonly m-line per
stream of every other participant, inactive when it goes), checks and
stores answers (409 stale_offer, 400 invalid_sdp), emits renegotiate, and
implements mute/unmute, hands, chat (private too), invites, resolution,
kick, leave and the SSE event stream. No media flows: its ICE candidate
points at a closed port.

It tests the page's signalling and meeting logic (tests/browser/harness.py
--fake); the real end-to-end run is tests/integration/test_browser.sh.

    fake_mmctld.py --listen 127.0.0.1:8089 --www control/www
prints one JSON line {"url":…, "invite":…, "operator":…} when ready.
"""
import argparse
import hashlib
import json
import os
import re
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

LOCK = threading.Condition()
ROOMS = {}        # room id -> room dict
TOKENS = {}       # token -> ("operator", None) or ("participant", (room, pid))
INVITES = {}      # invite -> (room, role)
MIME = {'.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
        '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml'}
KINDS = ('audio', 'camera', 'screen')
FP = ':'.join('%02X' % b for b in hashlib.sha256(b'fake mmdp').digest())


def new_id(prefix):
    return prefix + secrets.token_hex(6)


def event(room, type_, **fields):
    """Store one event of the room and wake the streams (LOCK held)."""
    room['seq'] += 1
    ev = {'seq': room['seq'], 'type': type_, 'at': int(time.time())}
    ev.update(fields)
    room['events'].append(ev)
    LOCK.notify_all()


def visible(ev, who):
    """Whether a stream of `who` (pid, or None for operator) sees ev."""
    if who is None:
        return True
    if ev['type'] == 'chat' and ev['message'].get('to'):
        return who in (ev['message']['from'], ev['message']['to'])
    if ev['type'] == 'renegotiate':
        return ev['participant'] == who
    return True


def pub(p):
    return {'id': p['id'], 'display_name': p['name'], 'role': p['role'],
            'joined_at': p['joined_at'], 'audio_muted': p['audio_muted'],
            'video_muted': p['video_muted'], 'unmute_requested': p['unmute_requested'],
            'hand_raised': p['hand'], 'hand_raised_at': p['hand_at'],
            'max_resolution': p['max_resolution'],
            'streams': [{'kind': k, 'ssrc': s} for k, s in p['streams'].items()]}


def offer_sdp(room, p):
    """The current offer of participant p (docs/api.md shape)."""
    port = room['port']
    L = ['v=0', 'o=- %d %d IN IP4 127.0.0.1' % (p['sess'], p['version']), 's=-', 't=0 0',
         'a=ice-lite', 'a=group:BUNDLE ' + ' '.join(['mic', 'cam', 'scr'] + [m['mid'] for m in p['mlines']]),
         'a=ice-ufrag:' + p['ufrag'], 'a=ice-pwd:' + p['pwd'], 'a=fingerprint:sha-256 ' + FP,
         'a=setup:actpass', 'a=msid-semantic: WMS *']

    def common(mid, dirn):
        L.extend(['c=IN IP4 127.0.0.1',
                  'a=candidate:1 1 udp 2130706431 127.0.0.1 %d typ host' % port,
                  'a=end-of-candidates', 'a=mid:' + mid, 'a=' + dirn, 'a=rtcp-mux', 'a=rtcp-rsize'])

    def audio(mid, dirn):
        L.append('m=audio 9 UDP/TLS/RTP/SAVPF 111')
        common(mid, dirn)
        L.extend(['a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc',
                  'a=fmtp:111 minptime=10;useinbandfec=1',
                  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
                  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'])

    def video(mid, dirn, simulcast):
        L.append('m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103')
        common(mid, dirn)
        for pt, name, fmtp in ((96, 'VP8', None),
                               (102, 'H264', 'level-asymmetry-allowed=1;packetization-mode=1;'
                                             'profile-level-id=42e01f')):
            L.append('a=rtpmap:%d %s/90000' % (pt, name))
            for fb in ('goog-remb', 'transport-cc', 'ccm fir', 'nack', 'nack pli'):
                L.append('a=rtcp-fb:%d %s' % (pt, fb))
            if fmtp:
                L.append('a=fmtp:%d %s' % (pt, fmtp))
            L.extend(['a=rtpmap:%d rtx/90000' % (pt + 1), 'a=fmtp:%d apt=%d' % (pt + 1, pt)])
        L.append('a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01')
        if simulcast:
            L.extend(['a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
                      'a=rid:l recv', 'a=rid:m recv', 'a=rid:h recv', 'a=simulcast:recv l;m;h'])

    audio('mic', 'recvonly')
    video('cam', 'recvonly', True)
    video('scr', 'recvonly', False)
    for m in p['mlines']:
        dirn = 'sendonly' if m['active'] else 'inactive'
        if m['kind'] == 'audio':
            audio(m['mid'], dirn)
        else:
            video(m['mid'], dirn, False)
        if m['active']:
            k = {'audio': 'mic', 'camera': 'cam', 'screen': 'scr'}[m['kind']]
            L.append('a=msid:%s %s-%s' % (m['pub'], m['pub'], k))
            if m['kind'] != 'audio':
                L.append('a=ssrc-group:FID %d %d' % (m['ssrc'], m['ssrc'] + 1))
            L.append('a=ssrc:%d cname:%s' % (m['ssrc'], m['pub']))
            if m['kind'] != 'audio':
                L.append('a=ssrc:%d cname:%s' % (m['ssrc'] + 1, m['pub']))
    return '\r\n'.join(L) + '\r\n'


def sync_offers(room, changed_pub=None):
    """Bring every participant's m-lines in line with the others' streams;
    a changed offer gets version+1 and a renegotiate event (LOCK held)."""
    for p in room['participants'].values():
        want = {(q['id'], k): s for q in room['participants'].values() if q['id'] != p['id']
                for k, s in q['streams'].items()}
        changed = False
        have = set()
        for m in p['mlines']:
            key = (m['pub'], m['kind'])
            if m['active'] and key not in want:
                m['active'] = False
                changed = True
            elif m['active']:
                have.add(key)
        for key, ssrc in sorted(want.items()):
            if key not in have:
                p['nmid'] += 1
                p['mlines'].append({'mid': 's%d' % p['nmid'], 'pub': key[0], 'kind': key[1],
                                    'ssrc': ssrc, 'active': True})
                changed = True
        if changed and p['answered_once']:
            p['version'] += 1
            p['answered'] = False
            event(room, 'renegotiate', participant=p['id'], version=p['version'])
        elif changed:
            p['version'] += 1


def check_answer(sdp):
    """The answer checks of docs/api.md, short: an error message or None."""
    if not re.search(r'^a=ice-ufrag:\S+', sdp, re.M) or not re.search(r'^a=ice-pwd:\S+', sdp, re.M):
        return 'no ice-ufrag/ice-pwd'
    m = re.search(r'^a=fingerprint:(\S+) (\S+)', sdp, re.M)
    if not m or m.group(1).lower() != 'sha-256':
        return 'fingerprint missing or not sha-256'
    s = re.search(r'^a=setup:(\S+)', sdp, re.M)
    if not s or s.group(1) not in ('active', 'passive'):
        return 'setup not active/passive'
    return None


class H(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    www = None

    def log_message(self, fmt, *a):
        if os.environ.get('FAKE_VERBOSE'):
            sys.stderr.write('fake: ' + (fmt % a) + '\n')

    def reply(self, code, obj=None, ctype='application/json'):
        body = b'' if obj is None else (obj if isinstance(obj, bytes) else json.dumps(obj).encode())
        self.send_response(code)
        if body:
            self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def err(self, code, ecode, msg):
        self.reply(code, {'error': {'code': ecode, 'message': msg}})

    def body(self):
        n = int(self.headers.get('Content-Length') or 0)
        try:
            b = json.loads(self.rfile.read(n) or b'{}')
        except ValueError:
            return None
        return b if isinstance(b, dict) else None

    def auth(self):
        h = self.headers.get('Authorization', '')
        return TOKENS.get(h[7:]) if h.startswith('Bearer ') else None

    def do_GET(self):
        self.route('GET')

    def do_POST(self):
        self.route('POST')

    def do_DELETE(self):
        self.route('DELETE')

    def static(self, path):
        rel = 'index.html' if path in ('/meet', '/meet/') else path[len('/meet/'):]
        full = os.path.realpath(os.path.join(self.www, rel))
        if not full.startswith(os.path.realpath(self.www) + os.sep) or not os.path.isfile(full):
            return self.err(404, 'not_found', 'no such file')
        with open(full, 'rb') as f:
            self.reply(200, f.read(), MIME.get(os.path.splitext(full)[1], 'application/octet-stream'))

    def route(self, method):
        u = urlparse(self.path)
        path = u.path
        if method == 'GET' and (path == '/meet' or path.startswith('/meet/')):
            return self.static(path)
        if method == 'POST' and path == '/v1/join':
            return self.join()
        who = self.auth()
        if not who:
            return self.err(401, 'unauthorized', 'no token')
        m = re.fullmatch(r'/v1/rooms/([^/]+)(/.*)?', path)
        if not m or m.group(1) not in ROOMS:
            return self.err(404, 'not_found', 'no such room')
        room = ROOMS[m.group(1)]
        rest = m.group(2) or ''
        me = who[1][1] if who[0] == 'participant' else None
        if who[0] == 'participant' and who[1][0] != room['id']:
            return self.err(403, 'forbidden', 'other room')
        mod = me is None or room['participants'].get(me, {}).get('role') in ('host', 'moderator')
        if method == 'GET' and rest == '':
            with LOCK:
                return self.reply(200, {'id': room['id'], 'name': room['name'], 'capacity': 100,
                                        'participants': [pub(p) for p in room['participants'].values()]})
        if method == 'GET' and rest == '/events':
            return self.events(room, me, u)
        if method == 'POST' and rest == '/chat':
            b = self.body() or {}
            with LOCK:
                msg = {'id': room['seq'] + 1, 'from': me or b.get('from'), 'text': b.get('text', ''),
                       'sent_at': int(time.time())}
                if b.get('to'):
                    msg['to'] = b['to']
                event(room, 'chat', message=msg)
            return self.reply(201, msg)
        if method == 'POST' and rest == '/invites':
            if not mod:
                return self.err(403, 'forbidden', 'moderators only')
            inv = 'mmi_' + secrets.token_urlsafe(24)
            INVITES[inv] = (room['id'], (self.body() or {}).get('role', 'attendee'))
            return self.reply(201, {'invite': inv, 'room': room['id'], 'role': 'attendee',
                                    'expires_at': int(time.time()) + 86400})
        if method == 'POST' and rest == '/mute':
            if not mod:
                return self.err(403, 'forbidden', 'moderators only')
            b = self.body() or {}
            exc = set(b.get('except', []))
            muted = []
            with LOCK:
                for p in room['participants'].values():
                    if p['id'] in exc or (b.get('except_moderators', True) and p['role'] != 'attendee'):
                        continue
                    if not p['audio_muted']:
                        p['audio_muted'] = True
                        muted.append(p['id'])
                        event(room, 'mute', participant=p['id'], audio_muted=True,
                              video_muted=p['video_muted'], by=me or 'operator')
            return self.reply(200, {'muted': muted})
        pm = re.fullmatch(r'/participants/([^/]+)(/[a-z]+)?', rest)
        if not pm or pm.group(1) not in room['participants']:
            return self.err(404, 'not_found', 'no such participant')
        p = room['participants'][pm.group(1)]
        op = pm.group(2) or ''
        self_ = me == p['id']
        by = me or 'operator'
        with LOCK:
            if method == 'DELETE' and op == '':
                if not (self_ or mod):
                    return self.err(403, 'forbidden', 'not yours')
                self.remove(room, p)
                event(room, 'participant.left', participant=p['id'])
                sync_offers(room)
                return self.reply(204)
            if method == 'GET' and op == '/offer':
                if not (self_ or me is None):
                    return self.err(403, 'forbidden', 'not yours')
                return self.reply(200, {'version': p['version'], 'sdp': offer_sdp(room, p),
                                        'answered': p['answered']})
            if method == 'POST' and op == '/answer':
                if not (self_ or me is None):
                    return self.err(403, 'forbidden', 'not yours')
                b = self.body() or {}
                if b.get('version') != p['version']:
                    return self.err(409, 'stale_offer', 'offer %d is current' % p['version'])
                why = check_answer(b.get('sdp', ''))
                if why:
                    return self.err(400, 'invalid_sdp', why)
                p['answer'] = b['sdp']
                p['answered'] = True
                first = not p['answered_once']
                p['answered_once'] = True
                if first:
                    base = 1000 * (len(room['participants']) + room['seq'] + 1)
                    p['streams'] = {'audio': base + 1, 'camera': base + 10, 'screen': base + 20}
                    sync_offers(room)
                return self.reply(200, {'version': p['version'], 'participant': pub(p)})
            if method == 'POST' and op in ('/mute', '/unmute'):
                b = self.body() or {}
                a = b.get('audio', 'video' not in b)
                v = b.get('video', False)
                if op == '/unmute' and not self_:
                    if not mod:
                        return self.err(403, 'forbidden', 'moderators only')
                    p['unmute_requested'] = True
                    event(room, 'unmute_requested', participant=p['id'], audio=a, video=v, by=by)
                    return self.reply(202, {'requested': True})
                if not (self_ or mod):
                    return self.err(403, 'forbidden', 'moderators only')
                if a:
                    p['audio_muted'] = op == '/mute'
                if v:
                    p['video_muted'] = op == '/mute'
                if op == '/unmute':
                    p['unmute_requested'] = False
                event(room, 'mute', participant=p['id'], audio_muted=p['audio_muted'],
                      video_muted=p['video_muted'], by=by)
                return self.reply(200, pub(p))
            if method == 'POST' and op == '/hand':
                raised = bool((self.body() or {}).get('raised'))
                if raised and not self_:
                    return self.err(403, 'forbidden', 'only the participant raises its hand')
                if not raised and not (self_ or mod):
                    return self.err(403, 'forbidden', 'moderators only')
                p['hand'] = raised
                p['hand_at'] = int(time.time()) if raised else 0
                event(room, 'hand', participant=p['id'], raised=raised, by=by)
                return self.reply(200, pub(p))
            if method == 'POST' and op == '/resolution':
                r = (self.body() or {}).get('max_resolution')
                if r not in ('low', 'medium', 'high'):
                    return self.err(400, 'invalid_field', 'max_resolution')
                p['max_resolution'] = r
                return self.reply(200, pub(p))
            if method == 'POST' and op == '/kick':
                if not mod:
                    return self.err(403, 'forbidden', 'moderators only')
                self.remove(room, p)
                event(room, 'participant.kicked', participant=p['id'], by=by,
                      reason=(self.body() or {}).get('reason', ''))
                sync_offers(room)
                return self.reply(204)
        return self.err(404, 'not_found', 'no such path')

    def remove(self, room, p):
        del room['participants'][p['id']]
        for t, w in list(TOKENS.items()):
            if w[0] == 'participant' and w[1] == (room['id'], p['id']):
                del TOKENS[t]

    def join(self):
        b = self.body()
        if b is None:
            return self.err(400, 'invalid_json', 'not a JSON object')
        inv = INVITES.get(b.get('invite'))
        if not inv:
            return self.err(401, 'invite_invalid', 'unknown invite')
        if b.get('webrtc') is not True:
            return self.err(400, 'invalid_field', 'the fake knows webrtc joins only')
        with LOCK:
            room = ROOMS[inv[0]]
            pid = new_id('p')
            role = inv[1]
            if role == 'attendee' and not room['participants']:
                role = 'host'   # the first one moderates (tests need one)
            p = {'id': pid, 'name': b.get('display_name', '?'), 'role': role,
                 'joined_at': int(time.time()), 'audio_muted': False, 'video_muted': False,
                 'unmute_requested': False, 'hand': False, 'hand_at': 0, 'max_resolution': 'high',
                 'streams': {}, 'mlines': [], 'nmid': 0, 'version': 0, 'answered': False,
                 'answered_once': False, 'sess': secrets.randbits(48),
                 'ufrag': secrets.token_hex(4), 'pwd': secrets.token_hex(12)}
            room['participants'][pid] = p
            tok = 'mmt_' + secrets.token_hex(16)
            TOKENS[tok] = ('participant', (room['id'], pid))
            event(room, 'participant.joined', participant=pid, display_name=p['name'], role=role)
            sync_offers(room)
            r = pub(p)
            r.update({'room': room['id'], 'token': tok,
                      'transport': {'server': {'addr': '127.0.0.1', 'port': room['port']}},
                      'webrtc': {'version': p['version'], 'offer': offer_sdp(room, p)}})
        return self.reply(201, r)

    def events(self, room, me, u):
        since = int(self.headers.get('Last-Event-ID') or parse_qs(u.query).get('since', ['0'])[0])
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream')
        self.send_header('Cache-Control', 'no-store')
        self.send_header('Connection', 'close')
        self.end_headers()
        self.close_connection = True
        tok = self.headers.get('Authorization', '')[7:]
        try:
            while True:
                with LOCK:
                    evs = [e for e in room['events'] if e['seq'] > since]
                    if not evs:
                        LOCK.wait(15)
                        evs = [e for e in room['events'] if e['seq'] > since]
                    gone = tok not in TOKENS
                out = b''
                for e in evs:
                    since = e['seq']
                    if visible(e, me):
                        out += ('id: %d\nevent: %s\ndata: %s\n\n' % (e['seq'], e['type'],
                                                                    json.dumps(e))).encode()
                if not evs:
                    out = b': keepalive\n\n'
                self.wfile.write(out)
                self.wfile.flush()
                if gone:
                    return
        except (BrokenPipeError, ConnectionResetError):
            return


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--listen', default='127.0.0.1:8089')
    ap.add_argument('--www', default=os.path.join(os.path.dirname(__file__), '..', '..', 'control', 'www'))
    a = ap.parse_args()
    host, port = a.listen.rsplit(':', 1)
    H.www = os.path.realpath(a.www)
    rid = new_id('r')
    ROOMS[rid] = {'id': rid, 'name': 'fake room', 'participants': {}, 'events': [], 'seq': 0,
                  'port': 9}
    inv = 'mmi_' + secrets.token_urlsafe(24)
    INVITES[inv] = (rid, 'attendee')
    op = 'mmt_op' + secrets.token_hex(8)
    TOKENS[op] = ('operator', None)
    srv = ThreadingHTTPServer((host, int(port)), H)
    srv.daemon_threads = True
    print(json.dumps({'url': 'http://%s:%d' % (host, srv.server_address[1]), 'invite': inv,
                      'operator': op, 'room': rid}), flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()
