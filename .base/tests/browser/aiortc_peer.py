#!/usr/bin/python3
"""A meeting participant made with aiortc (python3-aiortc): joins by invite
with "webrtc": true, answers mmctld's offer sending a generated video (a
moving bar, aiortc VideoStreamTrack subclass) on "cam" and a 440 Hz tone on
"mic", follows renegotiate events, and counts what it decodes per remote
participant (video frames, audio samples). Its report is JSON:

  {"id":"p…","room":"r…","connection":"connected","ice":"completed",
   "negotiations":2,"errors":[],
   "received":{"p…":{"video_frames":120,"audio_samples":240000,"screen_frames":0}}}

written to --status once a second and printed on stdout at the end.

--tamper fingerprint alters the answer's a=fingerprint before it is POSTed
(mmdp must fail the DTLS handshake); --tamper ice-pwd alters the offer's
a=ice-pwd before setRemoteDescription (mmdp must refuse the checks).

    aiortc_peer.py --url http://198.18.255.254:8080 --invite mmi_… --name ai \
        --duration 20 [--status FILE] [--tamper fingerprint|ice-pwd]
"""
import argparse
import asyncio
import fractions
import json
import logging
import math
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request

import av
import numpy
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack, VideoStreamTrack

W, H, FPS = 320, 180, 15


class BarVideo(VideoStreamTrack):
    """A grey frame with a white bar moving across it: cheap to make and
    every frame different, so the encoder has something to send."""

    def __init__(self):
        super().__init__()
        self.n = 0

    async def recv(self):
        pts, base = await self.next_timestamp()
        img = numpy.full((H, W, 3), 64, numpy.uint8)
        x = (self.n * 8) % W
        img[:, x:x + 16, :] = 255
        self.n += 1
        f = av.VideoFrame.from_ndarray(img, format='bgr24')
        f.pts, f.time_base = pts, base
        return f


class Tone(MediaStreamTrack):
    """A 440 Hz tone, 20 ms frames of 48 kHz mono s16, paced in real time."""
    kind = 'audio'

    def __init__(self):
        super().__init__()
        self.t0 = None
        self.samples = 0

    async def recv(self):
        rate, n = 48000, 960
        if self.t0 is None:
            self.t0 = time.time()
        wait = self.t0 + self.samples / rate - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (numpy.arange(n) + self.samples) / rate
        pcm = (numpy.sin(2 * math.pi * 440 * t) * 8000).astype(numpy.int16).reshape(1, -1)
        f = av.AudioFrame.from_ndarray(pcm, format='s16', layout='mono')
        f.sample_rate = rate
        f.pts = self.samples
        f.time_base = fractions.Fraction(1, rate)
        self.samples += n
        return f


def parse_offer(sdp):
    """mid -> (publisher participant id, kind) from the offer's a=msid."""
    mids, cur = {}, None
    for line in sdp.splitlines():
        if line.startswith('m='):
            cur = {'media': line[2:].split()[0], 'msid': None}
        elif cur is not None and line.startswith('a=mid:'):
            mids[line[6:].strip()] = cur
        elif cur is not None and line.startswith('a=msid:'):
            cur['msid'] = line[7:].split()
    out = {}
    for mid, c in mids.items():
        if not c['msid']:
            continue
        pub = c['msid'][0]
        tr = c['msid'][1] if len(c['msid']) > 1 else ''
        kind = tr[len(pub) + 1:] if tr.startswith(pub + '-') else ''
        kind = {'mic': 'audio', 'audio': 'audio', 'scr': 'screen', 'screen': 'screen'}.get(
            kind, 'audio' if c['media'] == 'audio' else 'camera')
        out[mid] = (pub, kind)
    return out


def tamper_ice_pwd(sdp):
    def alt(m):
        pwd = m.group(1)
        return 'a=ice-pwd:' + ''.join('x' if c != 'x' else 'y' for c in pwd)
    return re.sub(r'a=ice-pwd:(\S+)', alt, sdp)


def tamper_fingerprint(sdp):
    def alt(m):
        hexes = m.group(2).split(':')
        hexes[0] = '%02X' % (int(hexes[0], 16) ^ 0xFF)
        return 'a=fingerprint:%s %s' % (m.group(1), ':'.join(hexes))
    return re.sub(r'a=fingerprint:(\S+) (\S+)', alt, sdp)


class Peer:
    def __init__(self, a):
        self.a = a
        self.base = a.url.rstrip('/')
        self.token = None
        self.me = None
        self.room = None
        self.version = 0
        self.mids = {}
        self.received = {}
        self.errors = []
        self.negotiations = 0
        self.pc = RTCPeerConnection()
        self.pc.on('track', self.on_track)
        self.video = BarVideo()
        self.audio = Tone()
        self.loop = None
        self.lock = asyncio.Lock()
        self.done = False
        self.final = None

    def http(self, method, path, body=None, timeout=10):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        req.add_header('Content-Type', 'application/json')
        if self.token:
            req.add_header('Authorization', 'Bearer ' + self.token)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                t = r.read()
                return r.status, json.loads(t) if t else None
        except urllib.error.HTTPError as e:
            t = e.read()
            try:
                return e.code, json.loads(t)
            except ValueError:
                return e.code, {'error': {'code': 'http', 'message': t.decode(errors='replace')}}

    async def ahttp(self, *args, **kw):
        return await asyncio.get_running_loop().run_in_executor(None, lambda: self.http(*args, **kw))

    def on_track(self, track):
        mid = next((t.mid for t in self.pc.getTransceivers() if t.receiver.track is track), None)
        pub, kind = self.mids.get(mid, (None, None))
        if pub is None:
            return
        asyncio.ensure_future(self.consume(track, pub, kind))

    async def consume(self, track, pub, kind):
        r = self.received.setdefault(pub, {'video_frames': 0, 'screen_frames': 0, 'audio_samples': 0})
        key = {'camera': 'video_frames', 'screen': 'screen_frames'}.get(kind)
        while True:
            try:
                f = await track.recv()
            except MediaStreamError:
                return
            if kind == 'audio':
                r['audio_samples'] += f.samples
            else:
                r[key] += 1

    async def answer(self, version, sdp):
        async with self.lock:
            if self.a.tamper == 'ice-pwd':
                sdp = tamper_ice_pwd(sdp)
            self.mids = parse_offer(sdp)
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type='offer'))
            for t in self.pc.getTransceivers():
                if t.mid == 'mic':
                    t.direction = 'sendonly'
                    if t.sender.track is None:
                        t.sender.replaceTrack(self.audio)
                elif t.mid == 'cam':
                    t.direction = 'sendonly'
                    if t.sender.track is None:
                        t.sender.replaceTrack(self.video)
                elif t.mid == 'scr':
                    t.direction = 'inactive'   # no screen to share
            ans = await self.pc.createAnswer()
            await self.pc.setLocalDescription(ans)
            out = self.pc.localDescription.sdp
            if self.a.tamper == 'fingerprint':
                out = tamper_fingerprint(out)
            st, j = await self.ahttp('POST', '/v1/rooms/%s/participants/%s/answer' % (self.room, self.me),
                                     {'version': version, 'sdp': out})
            if st == 409:
                return 'stale'
            if st != 200:
                self.errors.append('answer %d: %s' % (st, json.dumps(j)))
                return 'error'
            self.version = version
            self.negotiations += 1
            return 'ok'

    async def renegotiate(self):
        for _ in range(5):
            st, o = await self.ahttp('GET', '/v1/rooms/%s/participants/%s/offer' % (self.room, self.me))
            if st != 200:
                self.errors.append('offer %d: %s' % (st, json.dumps(o)))
                return
            if o['version'] == self.version and o.get('answered'):
                return
            if await self.answer(o['version'], o['sdp']) != 'stale':
                return

    def events(self):
        """The SSE stream, in a thread: renegotiate events for me."""
        last = None
        while not self.done:
            req = urllib.request.Request('%s/v1/rooms/%s/events' % (self.base, self.room))
            req.add_header('Accept', 'text/event-stream')
            req.add_header('Authorization', 'Bearer ' + self.token)
            if last is not None:
                req.add_header('Last-Event-ID', last)
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    data = []
                    for raw in r:
                        if self.done:
                            return
                        line = raw.decode().rstrip('\r\n')
                        if line.startswith('id:'):
                            last = line[3:].strip()
                        elif line.startswith('data:'):
                            data.append(line[5:].strip())
                        elif line == '' and data:
                            ev = json.loads('\n'.join(data))
                            data = []
                            if ev.get('type') == 'renegotiate' and ev.get('participant') == self.me:
                                asyncio.run_coroutine_threadsafe(self.renegotiate(), self.loop)
                            if ev.get('type') in ('participant.kicked', 'participant.left') and \
                                    ev.get('participant') == self.me:
                                return
            except Exception as e:  # a broken stream: reconnect
                if self.done:
                    return
                time.sleep(1)

    def report(self):
        conn, ice = self.final or (self.pc.connectionState, self.pc.iceConnectionState)
        return {'id': self.me, 'room': self.room, 'connection': conn, 'ice': ice, 'negotiations': self.negotiations,
                'version': self.version, 'errors': self.errors, 'received': self.received}

    async def run(self):
        self.loop = asyncio.get_running_loop()
        st, j = await self.ahttp('POST', '/v1/join', {'invite': self.a.invite,
                                                      'display_name': self.a.name, 'webrtc': True})
        if st != 201:
            self.errors.append('join %d: %s' % (st, json.dumps(j)))
            return
        self.token, self.me, self.room = j['token'], j['id'], j['room']
        r = await self.answer(j['webrtc']['version'], j['webrtc']['offer'])
        if r == 'stale':
            await self.renegotiate()
        threading.Thread(target=self.events, daemon=True).start()
        end = time.time() + self.a.duration
        while time.time() < end:
            await asyncio.sleep(1)
            if self.a.status:
                with open(self.a.status + '.tmp', 'w') as f:
                    json.dump(self.report(), f)
                os.replace(self.a.status + '.tmp', self.a.status)
        self.done = True
        self.final = (self.pc.connectionState, self.pc.iceConnectionState)
        if self.a.leave:
            await self.ahttp('DELETE', '/v1/rooms/%s/participants/%s' % (self.room, self.me))
        await self.pc.close()


def main():
    if os.environ.get('MM_AIORTC_DEBUG'):  # aiortc's own log, for debugging
        logging.basicConfig(level=logging.DEBUG)
        from aiortc.codecs import vpx
        real = vpx.Vp8Decoder.decode

        def traced(self, frame):
            out = real(self, frame)
            logging.debug('vp8 decode: %d bytes, key=%s -> %d frames', len(frame.data),
                          bool(frame.data and not frame.data[0] & 1), len(out))
            return out
        vpx.Vp8Decoder.decode = traced
    ap = argparse.ArgumentParser(description='an aiortc meeting participant')
    ap.add_argument('--url', required=True, help="mmctld's base URL")
    ap.add_argument('--invite', required=True)
    ap.add_argument('--name', default='aiortc')
    ap.add_argument('--duration', type=float, default=20)
    ap.add_argument('--status', help='write the report here once a second')
    ap.add_argument('--tamper', choices=['fingerprint', 'ice-pwd'])
    ap.add_argument('--leave', action='store_true', help='leave the meeting at the end')
    a = ap.parse_args()
    p = Peer(a)
    try:
        asyncio.run(p.run())
    except Exception as e:
        p.errors.append('%s: %s' % (type(e).__name__, e))
    rep = p.report()
    if a.status:
        with open(a.status, 'w') as f:
            json.dump(rep, f)
    print(json.dumps(rep), flush=True)
    return 0 if not p.errors else 1


if __name__ == '__main__':
    sys.exit(main())
