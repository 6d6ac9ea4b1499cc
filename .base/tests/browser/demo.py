#!/usr/bin/python3
"""The demo's browser meeting: two headless Chromium participants (the
meeting page, through selenium) and an aiortc participant join one room
through mmctld and mmdp; once a second a table shows, for every receiver,
the video frames it decoded ("fr") and the milliseconds of audio it
received ("ms") from every other participant in that second. Exit 0 when, at the end, every
participant has decoded video and received audio from every other one.

With --meet the bots stay (an aiortc participant only) and the meeting
stays open for --duration seconds, for a person to join from a browser on
this machine with the invite link the caller printed.

    demo.py --url http://198.18.255.254:8080 --invite mmi_… --mod-invite mmi_… \
        [--aiortc-netns NS] [--work DIR] [--duration S] [--meet]
"""
import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (Page, start_aiortc, read_json, wait_until)


def say(*a):
    print('demo-browser:', *a, flush=True)


def table(names, rows):
    w = max(len(n) for n in names) + 2
    first = len('receiver \\ sender') + 2
    print('%-*s' % (first, 'receiver \\ sender') + ''.join('%-*s' % (w + 10, n) for n in names))
    for r in names:
        cells = []
        for s in names:
            if s == r:
                cells.append('-')
            else:
                v, au = rows.get(r, {}).get(s, (0, 0))
                cells.append('%d fr %d ms' % (v, au))
        print('%-*s' % (first, r) + ''.join('%-*s' % (w + 10, c) for c in cells), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--url', required=True)
    ap.add_argument('--invite', required=True)
    ap.add_argument('--mod-invite', required=True)
    ap.add_argument('--aiortc-netns')
    ap.add_argument('--work', default='/tmp')
    ap.add_argument('--duration', type=int, default=20)
    ap.add_argument('--meet', action='store_true')
    ap.add_argument('--video', default='320x180@15')
    a = ap.parse_args()
    a.mmagent = a.agent_socket = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    pages, bot = [], None
    status = os.path.join(a.work, 'demo-aiortc.json')
    try:
        if not a.meet:
            for name, inv in (('Ann', a.mod_invite), ('Bao', a.invite)):
                p = harness.Page(a, name)
                pages.append(p)
                p.open(a.url, inv, a.video)
                if not harness.wait_until(p.joined, 30):
                    say('%s could not join: %s' % (name, p.state()))
                    return 1
                say('%s joined in Chromium as %s' % (name, p.me))
        bot = harness.start_aiortc(a, 'Cam', a.invite, a.duration + 30, status)
        ai = harness.wait_until(lambda: (harness.read_json(status) or {}).get('id'), 30)
        if not ai:
            say('the aiortc participant could not join (%s.log)' % status)
            return 1
        say('Cam joined with aiortc as %s' % ai)
        if a.meet:
            say('the meeting is open for %d s; join it with the link above (Ctrl-C ends it)' % a.duration)
            time.sleep(a.duration)
            return 0

        ids = {p.me: p.name for p in pages}
        ids[ai] = 'Cam'
        names = [p.name for p in pages] + ['Cam']
        prev, totals = {}, {}
        end = time.time() + a.duration
        while time.time() < end:
            time.sleep(1)
            now = {}
            for p in pages:
                st = p.stats()
                now[p.name] = {ids[k]: (v.get('camera', {}).get('framesDecoded', 0),
                                        v.get('audio', {}).get('totalSamplesReceived', 0) / 48)
                               for k, v in st.items() if k in ids}
            rep = harness.read_json(status) or {}
            now['Cam'] = {ids[k]: (v.get('video_frames', 0), v.get('audio_samples', 0) / 48)
                          for k, v in (rep.get('received') or {}).items() if k in ids}
            delta = {r: {s: (v - prev.get(r, {}).get(s, (0, 0))[0], au - prev.get(r, {}).get(s, (0, 0))[1])
                         for s, (v, au) in row.items()} for r, row in now.items()}
            prev, totals = now, now
            print()
            table(names, delta)
        missing = ['%s got nothing from %s' % (r, s) for r in names for s in names
                   if r != s and min(totals.get(r, {}).get(s, (0, 0))) <= 0]
        if missing:
            say('FAILED: ' + '; '.join(missing))
            return 1
        say('every participant decoded video and received audio from every other one')
        return 0
    finally:
        for p in pages:
            p.quit()
        if bot:
            bot.terminate()
            bot.wait()


if __name__ == '__main__':
    sys.exit(main())
