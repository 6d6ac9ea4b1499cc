#!/usr/bin/python3
"""Browsers in a meeting: headless Chromium pages (the meeting page,
control/www, through selenium and /usr/bin/chromedriver) and aiortc peers
(aiortc_peer.py) join one room through mmctld and mmdp, and the checks of
issue 8 run against what each page reports (window.mm, pc.getStats()) and
mmdp's stats.get:

 1. two participants decode each other's video and receive audio;
 2. --size in all (6 by default; more join one after the other): every
    page decodes all the others, packetsLost low;
 3. meeting features: group chat, private chat (not seen by a third),
    raised hand, a moderator mutes one (its audio stops reaching the others),
    an unmute request, a self-mute by keyboard, screen share seen by the
    others, mute all, a kick (the kicked page shows "removed", the others
    lose its tile); a screenshot of the meeting (--screenshot);
 4. an aiortc peer joins: it and Chromium decode each other's video;
 5. refusals: a page whose answer's a=fingerprint is altered before it is
    POSTed, an aiortc peer whose answer's fingerprint is altered and one
    whose offer's a=ice-pwd is altered before setRemoteDescription: no media
    flows to or from them, and mmdp's stats.get shows dtls "failed" and bad
    ICE checks.

Run it where mmctld is reachable (the integration test runs it inside a host
namespace of the test site, tests/integration/test_browser.sh):

    harness.py --url http://198.18.255.254:8080 --invite mmi_… --mod-invite mmi_… \
        [--mmagent build/tools/mmagent --agent-socket /tmp/…/agent.sock] \
        [--aiortc-netns mmw-h2] [--screenshot docs/img/meeting.png] [--report out.json]

Exit 0 when every check passed, 1 otherwise; the report (JSON) has each
check and the pages' last stats.
"""
import argparse
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.keys import Keys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = []
T0 = time.time()


def say(*a):
    print('browser [%5.1fs]:' % (time.time() - T0), *a, flush=True)


def check(what, ok, detail=''):
    RESULTS.append({'check': what, 'ok': bool(ok), 'detail': detail})
    if ok:
        print('   ok: %s' % what, flush=True)
    else:
        print('   FAILED: %s%s' % (what, ' (%s)' % detail if detail else ''), flush=True)
    return ok


def wait_until(fn, timeout, step=0.5):
    """fn() until truthy or timeout; returns the last value."""
    end = time.time() + timeout
    while True:
        try:
            v = fn()
        except Exception as e:  # a page mid-navigation, a stats race
            v = None
            last_exc = e
        if v or time.time() >= end:
            return v
        time.sleep(step)


# ---- Chromium -----------------------------------------------------------------

def chromium_binary():
    # Debian's /usr/bin/chromium is a shell wrapper; the binary itself
    # starts faster and takes our flags as they are.
    for b in ('/usr/lib/chromium/chromium', '/usr/bin/chromium'):
        if os.access(b, os.X_OK):
            return b
    return None


def start_browser(a):
    o = Options()
    b = chromium_binary()
    if b:
        o.binary_location = b
    for f in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage',
              '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
              '--autoplay-policy=no-user-gesture-required',
              # getDisplayMedia without a person to pick: the fake UI picks
              # a screen; these make sure a tab or screen is accepted.
              '--auto-accept-this-tab-capture', '--auto-select-desktop-capture-source=Entire screen',
              '--enable-usermedia-screen-capturing',
              # several meeting windows in one browser: none is throttled.
              '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
              '--disable-backgrounding-occluded-windows',
              '--window-size=1280,720', '--mute-audio', '--disable-gpu',
              # six browsers share two cores: nothing they need not do.
              '--disable-extensions', '--disable-component-update', '--disable-sync',
              '--disable-background-networking', '--no-first-run', '--disable-default-apps',
              '--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider'):
        o.add_argument(f)
    # The site's mmctld is plain HTTP on a non-loopback address: without
    # this the page is not a secure context and has no getUserMedia.
    o.add_argument('--unsafely-treat-insecure-origin-as-secure=' + a.url)
    o.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    return webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=o)


class Page:
    """One participant: a browser of its own on the meeting page. Not
    several pages in one browser: a browser keeps at most 6 connections
    per server, and each page holds one for its event stream."""

    def __init__(self, a, name):
        self.drv = start_browser(a)
        self.name = name
        self.me = None

    def focus(self):
        pass

    def quit(self):
        try:
            self.drv.quit()
        except Exception:
            pass

    def js(self, script, *args):
        self.focus()
        return self.drv.execute_script(script, *args)

    def open(self, base, invite, video, answer_hook=None):
        """invite: an invite, or a whole fragment (join_token=…&room=…)."""
        self.focus()
        frag = invite if '=' in invite else 'invite=' + invite
        self.drv.get('%s/meet?name=%s&video=%s&screen=640x360@5#%s' % (base, self.name, video, frag))
        wait_until(lambda: self.js('return !!window.mm'), 10)
        if answer_hook:
            self.js('mm.hooks.answer = new Function("sdp", arguments[0]);', answer_hook)
        self.drv.find_element(By.ID, 'btn-join').click()

    def state(self):
        return self.js('''return {state: mm.state, me: mm.me, role: mm.role, error: mm.error,
            version: mm.version, answered: mm.answered, negotiations: mm.negotiations,
            participants: mm.participants, chat: mm.chat, hands: mm.hands,
            events: mm.events.map(e => e.type)};''')

    def joined(self):
        s = self.state()
        if s['state'] == 'joined' and s['answered']:
            self.me = s['me']
            return s
        return None

    def stats(self):
        self.focus()
        self.drv.set_script_timeout(60)  # getStats is slow on a loaded machine
        return self.drv.execute_async_script(
            'const cb = arguments[arguments.length - 1];'
            'mm.stats().then(cb, (e) => cb({error: String(e)}));')

    def key(self, k):
        self.focus()
        self.drv.find_element(By.TAG_NAME, 'body').send_keys(k)

    def click(self, css):
        """Click css; the page re-renders its lists (once a second and
        on every event), so an element found may be gone at the click:
        find it again."""
        self.focus()
        for attempt in range(5):
            try:
                self.drv.find_element(By.CSS_SELECTOR, css).click()
                return
            except StaleElementReferenceException:
                if attempt == 4:
                    raise
                time.sleep(0.2)

    def console(self):
        self.focus()
        try:
            return [e['message'] for e in self.drv.get_log('browser')]
        except Exception:
            return []


# ---- media checks --------------------------------------------------------------

def media_of(st, pid, kind):
    return (st.get(pid) or {}).get(kind) or {}


def flowing(pages, peers_of, window, min_frames, kinds=('camera', 'audio')):
    """Two stats samples `window` s apart on every page: for each page and
    each publisher peers_of(page) gives, video frames decoded rose by at
    least min_frames and audio bytes rose; loss under 10 %. Returns the
    list of failures (text) and the last samples."""
    s0 = {p.name: p.stats() for p in pages}
    time.sleep(window)
    s1 = {p.name: p.stats() for p in pages}
    bad = []
    for p in pages:
        for pub, pubname in peers_of(p):
            a, b = s0[p.name], s1[p.name]
            if 'camera' in kinds:
                v0, v1 = media_of(a, pub, 'camera'), media_of(b, pub, 'camera')
                d = v1.get('framesDecoded', 0) - v0.get('framesDecoded', 0)
                if d < min_frames:
                    bad.append('%s decoded %d frames of %s' % (p.name, d, pubname))
                rx = v1.get('packetsReceived', 0)
                lost = v1.get('packetsLost', 0)
                # 10 %: six Chromiums on two cores drop some on receive
                if rx and lost > 0.10 * (rx + lost):
                    bad.append('%s lost %d of %d video packets of %s' % (p.name, lost, rx + lost, pubname))
            if 'audio' in kinds:
                u0, u1 = media_of(a, pub, 'audio'), media_of(b, pub, 'audio')
                # bytes, not samples: a receiver counts concealed samples
                # too, so samples rise even when no packet comes.
                d = u1.get('bytesReceived', 0) - u0.get('bytesReceived', 0)
                if d <= 0:
                    bad.append('%s received no audio samples of %s' % (p.name, pubname))
    return bad, s1


def others(pages):
    def f(p):
        return [(q.me, q.name) for q in pages if q is not p]
    return f


def frames_seen(pages):
    """Every page has decoded some video of every other page."""
    for p in pages:
        st = p.stats()
        for q in pages:
            if q is not p and media_of(st, q.me, 'camera').get('framesDecoded', 0) <= 0:
                return False
    return True


# ---- mmdp ----------------------------------------------------------------------

def mmdp_endpoint(a, pid):
    """The endpoint `pid` in mmdp's stats.get (via mmagent), or None."""
    if not a.mmagent or not a.agent_socket:
        return None
    try:
        out = subprocess.run([a.mmagent, '--socket', a.agent_socket, '{"op":"stats.get"}'],
                             capture_output=True, text=True, timeout=10).stdout
        j = json.loads(out)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    for r in j.get('rooms', []):
        for e in r.get('endpoints', []):
            if e.get('endpoint') == pid:
                return e
    return None


# ---- aiortc --------------------------------------------------------------------

def start_aiortc(a, name, invite, duration, status, tamper=None):
    cmd = [sys.executable, os.path.join(HERE, 'aiortc_peer.py'), '--url', a.url, '--invite', invite,
           '--name', name, '--duration', str(duration), '--status', status]
    if tamper:
        cmd += ['--tamper', tamper]
    if a.aiortc_netns:
        cmd = ['nsenter', '--net=/run/netns/' + a.aiortc_netns, '--'] + cmd
    log = open(status + '.log', 'w')
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# ---- the scenario ----------------------------------------------------------------

def run(a, pages):
    media = True  # always against the real mmctld and mmdp
    inv, mod_inv = a.invite, a.mod_invite or a.invite

    def join(name, invite, hook=None, reuse=None):
        p = reuse or Page(a, name)
        p.name = name
        p.open(a.url, invite, a.video, hook)
        return p

    # 1: two participants ---------------------------------------------------------
    say('1. two participants')
    A = join('anh', mod_inv)
    pages.append(A)
    check('anh joined (answer accepted)', wait_until(A.joined, 30), A.state())
    B = join('binh', inv)
    pages.append(B)
    check('binh joined', wait_until(B.joined, 30), B.state())
    check('anh renegotiated when binh published',
          wait_until(lambda: A.state()['negotiations'] >= 2, 20), A.state()['negotiations'])
    check('each page has a tile for the other',
          wait_until(lambda: A.js('return !!document.querySelector(".tile[data-pid=\'%s\']")' % B.me) and
                     B.js('return !!document.querySelector(".tile[data-pid=\'%s\']")' % A.me), 10))
    check('anh is the moderator', A.state()['role'] in ('host', 'moderator'), A.state()['role'])
    if media:
        wait_until(lambda: frames_seen(pages), 30)
        bad, _ = flowing(pages, others(pages), 4, 10)
        check('two: each decodes the other\'s video and receives its audio', not bad, '; '.join(bad))

    # 2: the others join (six in all by default) ---------------------------------
    n = a.size
    if n > 2:
        say('2. %d participants' % n)
        names = ('chi', 'dung', 'em', 'phuong', 'giang', 'hoa', 'khanh', 'lan')[:n - 2]
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            more = list(ex.map(lambda nm: Page(a, nm), names))
        pages.extend(more)
        say('   browsers started')
        # One after the other, each once the one before has answered: six
        # browsers answering at once on two cores made stale answers and a
        # Chromium peer connection that stopped negotiating (the page starts
        # over after 15 s, docs/api.md); this test is about the meeting.
        for i, p in enumerate(more):
            # The first one joins as the tenant's account, with a join
            # token the meeting app signed (--join-frag), the rest by invite.
            join(p.name, a.join_frag if i == 0 and a.join_frag else inv, reuse=p)
            wait_until(p.joined, 60)
        say('   pages opened')
        if a.join_frag:
            check('%s joined with a join token' % more[0].name, wait_until(more[0].joined, 5),
                  more[0].state())
        check('%d more joined' % len(more), all(wait_until(p.joined, 60) for p in more),
              [(p.name, {k: p.state()[k] for k in ('state', 'answered', 'version', 'error')})
               for p in more])
        check('everyone sees %d participants' % n,
              wait_until(lambda: all(len(p.state()['participants']) == n for p in pages), 20),
              [len(p.state()['participants']) for p in pages])
        check('everyone has a tile for each of the others',
              wait_until(lambda: all(p.js('return document.querySelectorAll(".tile:not(.screen)").length') == n
                                     for p in pages), 20))
        if media:
            wait_until(lambda: frames_seen(pages), 40)
            bad, last = flowing(pages, others(pages), 5, 8)
            check('%d: every page decodes the other %d and receives their audio' % (n, n - 1),
                  not bad, '; '.join(bad))

    # Who does what in part 3, for any size from 3 up: binh chats to all
    # and is muted by the moderator; chi raises its hand and sends a
    # private message (to dung, or to binh in a meeting of three); the
    # fourth mutes itself by key, the fifth shares its screen, the last is
    # kicked (each falls back to chi in a smaller meeting).
    C = pages[2]
    D = pages[3] if n > 3 else B
    selfmute = pages[3] if n > 3 else C
    E = pages[4] if n > 4 else C
    F = pages[-1]
    # 3: meeting features -----------------------------------------------------------
    say('3. chat, hand, mute, screen share, kick')
    B.click('#btn-chat')
    B.js('document.getElementById("chat-text").value = arguments[0];', 'hello everyone')
    B.click('#chat-send')
    check('group chat reaches everyone',
          wait_until(lambda: all(any(m['text'] == 'hello everyone' for m in p.state()['chat'])
                                 for p in pages), 10))
    C.js('return mm.act.sendChat(arguments[0], arguments[1]);', 'just for dung', D.me)
    got = wait_until(lambda: any(m['text'] == 'just for dung' and m.get('to') == D.me
                                 for m in D.state()['chat']), 10)
    check('private chat reaches its recipient (%s)' % D.name, got)
    time.sleep(1)
    leaked = [p.name for p in pages if p not in (C, D) and any(m['text'] == 'just for dung' for m in p.state()['chat'])]
    check('private chat is not seen by a third', not leaked, leaked)

    C.key('h')
    check('raised hand (key h) seen by the others',
          wait_until(lambda: all(C.me in p.state()['hands'] for p in pages), 10))
    check('the hand shows on chi\'s tile at anh',
          A.js('const t = document.querySelector(".tile[data-pid=\'%s\'] .hand"); return t && !t.hidden;' % C.me))

    A.click('#btn-info')
    A.click('#info-people li[data-pid="%s"] button[data-act="mute"]' % B.me)
    check('moderator mutes binh: binh knows, and turned its microphone off',
          wait_until(lambda: B.state()['participants'][B.me]['audioMuted'] and 'muted' in B.state()['events'], 10))
    check('the others see binh muted',
          wait_until(lambda: all(p.state()['participants'][B.me]['audioMuted'] for p in pages), 10))
    if media:
        time.sleep(1.5)
        s0 = A.stats()
        time.sleep(3)
        s1 = A.stats()
        d = media_of(s1, B.me, 'audio').get('bytesReceived', 0) - media_of(s0, B.me, 'audio').get('bytesReceived', 0)
        check('binh\'s audio no longer reaches anh', d == 0, '%d bytes in 3 s' % d)
    A.js('return mm.act.askUnmute(arguments[0]);', B.me)
    check('binh gets the unmute request', wait_until(lambda: 'unmute_requested' in B.state()['events'], 10))
    selfmute.key('m')
    check('%s mutes itself (key m), the others see it' % selfmute.name,
          wait_until(lambda: all(p.state()['participants'][selfmute.me]['audioMuted'] for p in pages), 10))

    E.click('#btn-share')
    check('%s shares its screen' % E.name, wait_until(lambda: E.js('return !!document.querySelector(".tile.screen")'), 15),
          E.state()['error'])
    if media:
        def screen_seen():
            return all(media_of(p.stats(), E.me, 'screen').get('framesDecoded', 0) > 0
                       for p in pages if p is not E)
        check('the others decode %s\'s screen' % E.name, wait_until(screen_seen, 20))
        # Each page shows the tile while the share's packets come (a
        # track that gets none for a while is muted, and mmdp may pause a
        # stream for a receiver's bandwidth estimate, which is low on a
        # loaded 2-core machine): each must show it within 20 s.
        shown = set()

        def tiles_shown():
            for p in pages:
                if p is not E and p.js('return !!document.querySelector(".tile.screen[data-pid=\'%s\']")' % E.me):
                    shown.add(p.name)
            return len(shown) == len(pages) - 1
        check('and show it in a screen tile', wait_until(tiles_shown, 20, 0.3),
              'shown at %s' % sorted(shown))

    if a.screenshot:
        A.js('document.getElementById("panel").hidden || document.getElementById("panel-close").click();')
        A.click('#btn-chat')
        # a moment when most tiles have their video (cameras paused for
        # the bandwidth estimate show their avatar letter)
        wait_until(lambda: A.js('return document.querySelectorAll(".tile:not(.novideo)").length') >= n, 15)
        A.focus()
        os.makedirs(os.path.dirname(os.path.abspath(a.screenshot)), exist_ok=True)
        check('screenshot of the %d-person meeting saved' % n, A.drv.save_screenshot(a.screenshot), a.screenshot)

    A.js('return mm.act.muteAll();')
    check('mute all: every attendee muted',
          wait_until(lambda: all(A.state()['participants'][p.me]['audioMuted'] for p in pages[1:]), 10))

    A.js('document.getElementById("panel").hidden && document.getElementById("btn-info").click();')
    A.js('mm.act.kick(arguments[0]);', F.me)
    check('kicked page shows "removed" and closed its connection',
          wait_until(lambda: F.state()['state'] == 'kicked' and
                     F.js('return !document.getElementById("gone").hidden && '
                          'document.getElementById("gone-title").textContent.includes("removed")'), 10),
          F.state()['state'])
    rest = [p for p in pages if p is not F]
    check('the others drop the kicked participant and its tile',
          wait_until(lambda: all(F.me not in p.state()['participants'] and
                                 not p.js('return !!document.querySelector(".tile[data-pid=\'%s\']")' % F.me)
                                 for p in rest), 15))
    check('the others saw a "removed" event', all('kicked' in p.state()['events'] for p in rest))

    # 4: aiortc with Chromium -------------------------------------------------------
    if not a.no_aiortc:
        say('4. an aiortc peer joins')
        st = os.path.join(a.work, 'aiortc.json')
        proc = start_aiortc(a, 'aiortc', inv, 25 if media else 8, st)
        ok = wait_until(lambda: (read_json(st) or {}).get('negotiations', 0) >= 1, 20)
        check('aiortc joined and its answer was accepted', ok, read_json(st))
        ai = (read_json(st) or {}).get('id')
        if media and ai:
            def both():
                r = read_json(st) or {}
                mine = media_of(A.stats(), ai, 'camera').get('framesDecoded', 0)
                theirs = ((r.get('received') or {}).get(A.me) or {}).get('video_frames', 0)
                return mine > 10 and theirs > 10
            check('aiortc and Chromium decode each other\'s video', wait_until(both, 25),
                  {'chromium_from_aiortc': media_of(A.stats(), ai, 'camera'),
                   'aiortc_from_chromium': ((read_json(st) or {}).get('received') or {}).get(A.me)})
            r = read_json(st) or {}
            check('aiortc receives audio from Chromium',
                  ((r.get('received') or {}).get(A.me) or {}).get('audio_samples', 0) > 0, r.get('received'))
        elif ai:
            check('the pages got a tile for aiortc',
                  wait_until(lambda: A.js('return !!document.querySelector(".tile[data-pid=\'%s\']")' % ai), 20),
                  {'aiortc': ai, 'anh sees': sorted(p['name'] for p in A.state()['participants'].values())})
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

    # 5: refusals ------------------------------------------------------------------
    if media:
        say('5. a wrong DTLS fingerprint and a wrong ICE password are refused')
        G = join('gia', inv, hook='return sdp.replace(/a=fingerprint:(\\S+) ([0-9A-F]{2})/ig, '
                                   '(m, h, b) => "a=fingerprint:" + h + " " + (b === "00" ? "11" : "00"));',
                 reuse=F)
        check('the page with the altered fingerprint joined (its answer was stored)', wait_until(G.joined, 30),
              G.state())
        procs = []
        if not a.no_aiortc:
            fp = os.path.join(a.work, 'aiortc-fp.json')
            pw = os.path.join(a.work, 'aiortc-pwd.json')
            procs = [start_aiortc(a, 'badfp', inv, 14, fp, 'fingerprint'),
                     start_aiortc(a, 'badpwd', inv, 14, pw, 'ice-pwd')]
        time.sleep(12)
        gs = G.stats()
        got = {k: v for k, v in gs.items() if not k.startswith('_') and
               (media_of(gs, k, 'camera').get('framesDecoded', 0) or media_of(gs, k, 'audio').get('bytesReceived', 0))}
        check('no media reaches the page with the wrong fingerprint', not got, got)
        sa = A.stats()
        check('none from it reaches the others',
              media_of(sa, G.me, 'camera').get('framesDecoded', 0) == 0, media_of(sa, G.me, 'camera'))
        e = mmdp_endpoint(a, G.me)
        if a.mmagent:
            check('mmdp: dtls failed, "fingerprint mismatch"',
                  e and (e.get('dtls') or {}).get('state') == 'failed', (e or {}).get('dtls'))
        for pr in procs:
            try:
                pr.wait(20)
            except subprocess.TimeoutExpired:
                pr.kill()
        if procs:
            rf, rp = read_json(fp) or {}, read_json(pw) or {}
            for r, what in ((rf, 'the altered fingerprint'), (rp, 'the wrong ICE password')):
                n = sum(v.get('video_frames', 0) + v.get('audio_samples', 0)
                        for v in (r.get('received') or {}).values())
                check('aiortc with %s received no media' % what, r.get('id') and n == 0,
                      {'id': r.get('id'), 'received': r.get('received'), 'errors': r.get('errors')})
            if a.mmagent:
                e = mmdp_endpoint(a, rf.get('id'))
                check('mmdp: aiortc\'s DTLS failed (fingerprint)',
                      e and (e.get('dtls') or {}).get('state') == 'failed', (e or {}).get('dtls'))
                e = mmdp_endpoint(a, rp.get('id'))
                ice = (e or {}).get('ice') or {}
                check('mmdp: bad ICE checks counted, the endpoint never bound',
                      ice.get('bad_checks', 0) > 0 and ice.get('state') != 'bound', ice)



def main():
    ap = argparse.ArgumentParser(description='Chromium and aiortc in a meeting through mmctld and mmdp')
    ap.add_argument('--url', help="mmctld's base URL (http://198.18.255.254:8080)")
    ap.add_argument('--invite', help='an attendee invite of the room')
    ap.add_argument('--mod-invite', help='a moderator invite (the first page joins with it)')
    ap.add_argument('--mmagent', help='mmagent binary, for mmdp\'s stats.get')
    ap.add_argument('--agent-socket', help="mmdp's agent socket")
    ap.add_argument('--aiortc-netns', help='run the aiortc peers in this network namespace')
    ap.add_argument('--no-aiortc', action='store_true')
    ap.add_argument('--video', default='256x144@10', help='camera size asked by the pages (WxH@FPS)')
    ap.add_argument('--join-frag', help='the meeting page fragment (join_token=…&room=…) the '
                    'third participant joins with, instead of the invite')
    ap.add_argument('--size', type=int, default=6,
                    help='participants in part 2 (3 to 10; the CI test uses 3, the on-demand one 6)')
    ap.add_argument('--screenshot', help='save a screenshot of the meeting (part 3) here')
    ap.add_argument('--report', help='write the checks and the last stats here (JSON)')
    ap.add_argument('--work', default='/tmp', help='directory for the aiortc peers\' reports')
    a = ap.parse_args()
    # SIGTERM (the test's cleanup) ends like an error: browsers quit below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    if not a.url or not a.invite:
        ap.error('--url and --invite are required')
    if not 3 <= a.size <= 10:
        ap.error('--size must be 3 to 10')

    pages = []
    try:
        run(a, pages)
    except Exception as e:
        import traceback
        traceback.print_exc()
        check('the scenario ran to the end', False, '%s: %s' % (type(e).__name__, e))
    finally:
        logs = {}
        for p in pages:
            try:
                logs[p.name] = {'state': p.state(), 'console': p.console()[-20:]}
            except Exception:
                pass
        for p in pages:
            p.quit()
    failed = [r for r in RESULTS if not r['ok']]
    if a.report:
        with open(a.report, 'w') as f:
            json.dump({'checks': RESULTS, 'pages': logs}, f, indent=1)
    if failed:
        for n, l in logs.items():
            errs = [m for m in l.get('console', []) if 'SEVERE' in m or 'rror' in m]
            if errs:
                print('   console of %s: %s' % (n, errs[-5:]), flush=True)
    say('%d checks, %d failed' % (len(RESULTS), len(failed)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
