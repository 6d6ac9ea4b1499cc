/* MobiFone Meeting: the meeting page (served by mmctld at /meet).
 *
 * One RTCPeerConnection per participant, to mmdp (ICE-lite, DTLS-SRTP,
 * BUNDLE, rtcp-mux). mmctld always makes the offer; this page only
 * answers: it sends on the m-lines "mic", "cam" and "scr" and receives one
 * m-line per stream of every other participant (docs/api.md, "Browsers
 * (WebRTC)"). Meeting state (who is here, mute, hands, chat) comes from
 * the room's event stream, read with fetch() because EventSource cannot
 * send the bearer token.
 *
 * window.mm is the test hook (tests/browser/): state, participants, chat,
 * hands, stats(), and hooks.offer / hooks.answer to alter SDP in tests.
 */
'use strict';

(function () {

const $ = (id) => document.getElementById(id);

/* The test hook and the page's state in one place. */
const mm = window.mm = {
	state: 'lobby',        /* lobby, joining, joined, left, kicked, ended, error */
	error: null,           /* the last error shown, for tests */
	me: null,              /* my participant id */
	role: null,
	room: null,            /* room id */
	roomName: null,
	invite: null,
	joinToken: null,   /* or a join token and its room (#join_token=…&room=…) */
	joinRoom: null,
	version: 0,            /* offer version answered */
	answered: false,
	participants: {},      /* id -> {id, name, role, audioMuted, videoMuted, hand, handAt} */
	chat: [],              /* messages as the API gives them, oldest first */
	hands: {},             /* id -> true while raised */
	events: [],            /* the notices shown, {type, text} */
	negotiations: 0,       /* answers POSTed */
	hooks: { offer: null, answer: null },
	stats: null,           /* async () => per-publisher receive stats (below) */
	act: {},               /* the page's actions, for tests */
};

let token = null;
let pc = null;
let localStream = null;    /* mic + camera */
let micTrack = null, camTrack = null, screenTrack = null;
let offerMids = {};        /* mid -> {kind, dir, stream, track, media} from the last offer */
let negoChain = Promise.resolve();
let lastEventId = null;
let eventsAbort = null;
let live = false;          /* my own join event seen: later events are news */
const tiles = {};          /* "pid" or "pid:screen" -> tile elements */
const remote = {};         /* pid -> {audio, camera, screen} MediaStreamTracks */
const audioEls = {};       /* pid -> <audio> */

/* ---- REST ---------------------------------------------------------------- */

class ApiError extends Error {
	constructor(status, code, message) {
		super(message || code);
		this.status = status;
		this.code = code;
	}
}

async function api(method, path, body) {
	const headers = { 'Accept': 'application/json' };
	if (token)
		headers['Authorization'] = 'Bearer ' + token;
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	const r = await fetch(path, {
		method, headers, body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await r.text();
	let j = null;
	try { j = text ? JSON.parse(text) : null; } catch (e) { j = null; }
	if (!r.ok) {
		const e = (j && j.error) || {};
		throw new ApiError(r.status, e.code || ('http_' + r.status), e.message || text);
	}
	return j;
}

const roomPath = () => '/v1/rooms/' + encodeURIComponent(mm.room);
const pPath = (pid) => roomPath() + '/participants/' + encodeURIComponent(pid);

/* ---- small UI helpers ------------------------------------------------------ */

function el(tag, cls, text) {
	const e = document.createElement(tag);
	if (cls)
		e.className = cls;
	if (text !== undefined)
		e.textContent = text;
	return e;
}

function nameOf(pid) {
	if (pid === 'operator' || pid === 'tenant')
		return 'the ' + pid;
	if (pid === mm.me)
		return 'you';
	const p = mm.participants[pid];
	return p ? p.name : pid;
}

/* A notice in the corner for a few seconds (or until its button is used). */
function notice(type, text, button) {
	mm.events.push({ type, text });
	if (!live && type !== 'error')
		return;
	const n = el('div', 'notice' + (type === 'error' || button ? ' warn' : ''), text);
	n.dataset.type = type;
	if (button) {
		const b = el('button', '', button.label);
		b.onclick = () => { n.remove(); button.onclick(); };
		n.appendChild(b);
	}
	$('notices').appendChild(n);
	setTimeout(() => n.remove(), button ? 20000 : 6000);
}

function fail(text, err) {
	mm.error = text + (err ? ': ' + (err.message || err) : '');
	console.error(mm.error, err);
	notice('error', mm.error);
}

/* End of the meeting for me: close everything, show why. */
function finish(state, title, msg) {
	if (['left', 'kicked', 'ended'].includes(mm.state))
		return;
	mm.state = state;
	if (eventsAbort)
		eventsAbort.abort();
	if (pc)
		pc.close();
	for (const t of [micTrack, camTrack, screenTrack])
		if (t)
			t.stop();
	$('meeting').hidden = true;
	$('gone').hidden = false;
	$('gone-title').textContent = title;
	$('gone-msg').textContent = msg || '';
	document.title = title + ' - MobiFone Meeting';
}

/* ---- SDP --------------------------------------------------------------- */

/* What this page needs of an offer: per mid its media, direction and msid
 * (stream = the publisher's participant id, track = "<publisher>-<kind>"). */
function parseOffer(sdp) {
	const mids = {};
	let cur = null;
	for (const line of sdp.split(/\r?\n/)) {
		if (line.startsWith('m=')) {
			cur = { media: line.slice(2).split(' ')[0], dir: 'sendrecv', stream: null, track: null };
			continue;
		}
		if (!cur)
			continue;
		let m;
		if ((m = /^a=mid:(\S+)/.exec(line)))
			mids[m[1]] = cur;
		else if ((m = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(line)))
			cur.dir = m[1];
		else if ((m = /^a=msid:(\S+)(?: (\S+))?/.exec(line))) {
			cur.stream = m[1];
			cur.track = m[2] || null;
		}
	}
	for (const mid of Object.keys(mids)) {
		const c = mids[mid];
		let k = c.track && c.stream && c.track.startsWith(c.stream + '-') ?
			c.track.slice(c.stream.length + 1) : '';
		if (k === 'mic' || k === 'audio')
			k = 'audio';
		else if (k === 'scr' || k === 'screen')
			k = 'screen';
		else
			k = c.media === 'audio' ? 'audio' : 'camera';
		c.kind = k;
	}
	return mids;
}

/* ---- media ------------------------------------------------------------- */

/* A screen share: at most 15 fps at the screen's size; ?screen=WxH@FPS
 * caps it (tests with many participants on one machine). */
function screenConstraints() {
	const c = { frameRate: { ideal: 15, max: 15 } };
	const m = /^(\d+)x(\d+)(?:@(\d+))?$/.exec(new URLSearchParams(location.search).get('screen') || '');
	if (m) {
		c.width = { max: +m[1] };
		c.height = { max: +m[2] };
		c.frameRate = { ideal: Math.min(15, +(m[3] || 15)), max: Math.min(15, +(m[3] || 15)) };
	}
	return c;
}

/* The camera: at most 640x360 at 15 fps; ?video=WxH@FPS asks for less
 * (tests with many participants on one machine). */
function cameraConstraints() {
	let w = 640, h = 360, fps = 15;
	const m = /^(\d+)x(\d+)(?:@(\d+))?$/.exec(new URLSearchParams(location.search).get('video') || '');
	if (m) {
		w = Math.min(640, +m[1]);
		h = Math.min(360, +m[2]);
		fps = Math.min(15, +(m[3] || 15));
	}
	return { width: { ideal: w, max: w }, height: { ideal: h, max: h },
		frameRate: { ideal: fps, max: fps } };
}

async function getMedia() {
	try {
		localStream = await navigator.mediaDevices.getUserMedia({
			audio: true, video: cameraConstraints(),
		});
	} catch (e) {
		/* No camera, or refused: try the microphone alone, else receive only. */
		fail('camera not available', e);
		try {
			localStream = await navigator.mediaDevices.getUserMedia({ audio: true });
		} catch (e2) {
			fail('microphone not available', e2);
			localStream = new MediaStream();
		}
	}
	micTrack = localStream.getAudioTracks()[0] || null;
	camTrack = localStream.getVideoTracks()[0] || null;
}

/* The sending side of my m-lines: mic, camera, screen (null until shared). */
async function setupSenders() {
	for (const t of pc.getTransceivers()) {
		let track;
		if (t.mid === 'mic')
			track = micTrack;
		else if (t.mid === 'cam')
			track = camTrack;
		else if (t.mid === 'scr')
			track = screenTrack;
		else
			continue;
		t.direction = 'sendonly';
		if (t.sender.track !== track)
			await t.sender.replaceTrack(track);
		if (t.sender.setStreams && localStream)
			t.sender.setStreams(localStream);
	}
}

function senderOf(mid) {
	if (!pc)
		return null;
	const t = pc.getTransceivers().find((x) => x.mid === mid);
	return t ? t.sender : null;
}

/* Answer an offer: the whole renegotiation, one at a time (negoChain). */
async function answerOffer(version, sdp) {
	if (mm.hooks.offer)
		sdp = mm.hooks.offer(sdp);
	/* Before setRemoteDescription: its ontrack events come while it runs,
	 * and each needs its m-line's publisher and kind (with the old map a
	 * new screen m-line passed for a camera and took its tile). */
	offerMids = parseOffer(sdp);
	await pc.setRemoteDescription({ type: 'offer', sdp });
	await setupSenders();
	const ans = await pc.createAnswer();
	await pc.setLocalDescription(ans);
	let out = pc.localDescription.sdp;
	if (mm.hooks.answer)
		out = mm.hooks.answer(out);
	try {
		await api('POST', pPath(mm.me) + '/answer', { version, sdp: out });
	} catch (e) {
		if (e.code === 'stale_offer') {
			/* A newer offer exists: answer that one. */
			negotiate();
			return;
		}
		throw e;
	}
	mm.version = version;
	mm.answered = true;
	mm.negotiations++;
	dropInactive();
}

/* Fetch the current offer and answer it unless it is already answered. */
/* The peer connection. No ICE servers: mmdp is ICE-lite and reachable
 * directly. */
function makePc() {
	pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
	pc.ontrack = onTrack;
	pc.onconnectionstatechange = () => {
		const s = pc.connectionState;
		const e = $('conn-state');
		e.textContent = s;
		e.className = 'pill' + (s === 'connected' ? ' ok' : s === 'failed' ? ' bad' : '');
	};
}

let negoBusySince = 0; /* when the running negotiation started (0: none) */
function negotiate() {
	const mine = negoChain = negoChain.then(async () => {
		if (!pc || mm.state !== 'joined')
			return;
		negoBusySince = Date.now();
		const o = await api('GET', pPath(mm.me) + '/offer');
		if (o.version === mm.version && mm.answered)
			return;
		await answerOffer(o.version, o.sdp);
	}).catch((e) => fail('renegotiation failed', e)).finally(() => {
		if (negoChain === mine)
			negoBusySince = 0;
	});
	return negoChain;
}

/* Once a second: a negotiation stuck for 15 s (a request or a browser
 * step that never ended) is abandoned and the current offer answered
 * afresh; an offer never answered is fetched again. */
function negotiationWatchdog() {
	if (mm.state !== 'joined' || !pc)
		return;
	if (negoBusySince && Date.now() - negoBusySince > 15000) {
		/* The browser's own steps queue behind the stuck one: only a new
		 * peer connection (new DTLS certificate: mmdp starts over) gets
		 * out of it. Remote tracks come again through ontrack. */
		console.warn('negotiation stuck for 15 s: a new peer connection');
		negoBusySince = 0;
		pc.close();
		for (const r of Object.values(remote))
			r.audio = r.camera = r.screen = null;
		makePc();
		mm.answered = false;
		mm.version = 0;
		negoChain = Promise.resolve();
		negotiate();
	} else if (!mm.answered && !negoBusySince) {
		negotiate();
	}
}

/* m-lines the offer made inactive: their publisher stopped the stream. */
function dropInactive() {
	for (const [mid, c] of Object.entries(offerMids)) {
		if (c.dir !== 'inactive' || !c.stream)
			continue;
		const r = remote[c.stream];
		const t = pc.getTransceivers().find((x) => x.mid === mid);
		if (r && t && r[c.kind] === t.receiver.track) {
			r[c.kind] = null;
			renderMedia(c.stream);
		}
	}
}

function onTrack(e) {
	const mid = e.transceiver && e.transceiver.mid;
	const c = offerMids[mid] || {};
	const pid = (e.streams[0] && e.streams[0].id) || c.stream;
	if (!pid)
		return;
	const kind = c.kind || (e.track.kind === 'audio' ? 'audio' : 'camera');
	const r = remote[pid] || (remote[pid] = { audio: null, camera: null, screen: null });
	r[kind] = e.track;
	e.track.addEventListener('unmute', () => renderMedia(pid));
	renderMedia(pid);
}

/* ---- tiles ------------------------------------------------------------- */

function makeTile(key, pid, screen) {
	const t = { el: el('div', 'tile novideo' + (screen ? ' screen' : '') + (pid === mm.me ? ' me' : '')) };
	t.el.dataset.pid = pid;
	t.el.dataset.kind = screen ? 'screen' : 'camera';
	t.video = el('video');
	t.video.autoplay = true;
	t.video.playsInline = true;
	t.video.muted = true; /* sound plays from the participant's <audio> */
	t.avatar = el('div', 'avatar');
	const label = el('div', 'label');
	t.name = el('span', 'name');
	t.mic = el('span', 'mic-off', 'muted');
	t.hand = el('span', 'hand', 'hand raised');
	label.append(t.name, t.mic, t.hand);
	t.el.append(t.video, t.avatar, label);
	$('tiles').appendChild(t.el);
	tiles[key] = t;
	return t;
}

function setVideo(t, track) {
	const cur = t.video.srcObject && t.video.srcObject.getVideoTracks()[0];
	if (cur !== (track || undefined)) {
		t.video.srcObject = track ? new MediaStream([track]) : null;
		if (track)
			t.video.play().catch(() => {});
	}
	t.el.classList.toggle('novideo', !track);
}

/* Tiles and audio of one participant from its state and tracks. */
function renderMedia(pid) {
	const p = mm.participants[pid];
	const r = remote[pid] || {};
	const mine = pid === mm.me;
	if (!p) {
		for (const key of [pid, pid + ':screen'])
			if (tiles[key]) {
				tiles[key].el.remove();
				delete tiles[key];
			}
		if (audioEls[pid]) {
			audioEls[pid].remove();
			delete audioEls[pid];
		}
		return;
	}
	const t = tiles[pid] || makeTile(pid, pid, false);
	t.name.textContent = p.name + (mine ? ' (you)' : '');
	t.avatar.textContent = (p.name || '?').slice(0, 1).toUpperCase();
	t.mic.hidden = !p.audioMuted;
	t.hand.hidden = !p.hand;
	const cam = mine ? (camTrack && !p.videoMuted ? camTrack : null) :
		(r.camera && !r.camera.muted && !p.videoMuted ? r.camera : null);
	setVideo(t, cam);

	const scr = mine ? screenTrack : r.screen && !r.screen.muted ? r.screen : null;
	if (scr) {
		const s = tiles[pid + ':screen'] || makeTile(pid + ':screen', pid, true);
		s.name.textContent = (mine ? 'Your' : p.name + "'s") + ' screen';
		s.mic.hidden = true;
		s.hand.hidden = true;
		setVideo(s, scr);
	} else if (tiles[pid + ':screen']) {
		tiles[pid + ':screen'].el.remove();
		delete tiles[pid + ':screen'];
	}

	if (!mine && r.audio) {
		let a = audioEls[pid];
		if (!a) {
			a = audioEls[pid] = el('audio');
			a.autoplay = true;
			a.dataset.pid = pid;
			document.body.appendChild(a);
		}
		if (!a.srcObject || a.srcObject.getAudioTracks()[0] !== r.audio) {
			a.srcObject = new MediaStream([r.audio]);
			a.play().catch(() => {});
		}
	}
}

function renderAll() {
	for (const pid of new Set([...Object.keys(mm.participants), ...Object.keys(remote)]))
		renderMedia(pid);
	for (const key of Object.keys(tiles)) {
		const pid = key.split(':')[0];
		if (!mm.participants[pid])
			renderMedia(pid);
	}
	renderControls();
	renderInfo();
	renderChatTargets();
}

function isMod() {
	return mm.role === 'host' || mm.role === 'moderator';
}

function renderControls() {
	const me = mm.participants[mm.me] || {};
	const mic = $('btn-mic'), cam = $('btn-cam');
	mic.classList.toggle('off', !!me.audioMuted || !micTrack);
	mic.textContent = me.audioMuted || !micTrack ? 'Mic off' : 'Mic on';
	cam.classList.toggle('off', !!me.videoMuted || !camTrack);
	cam.textContent = me.videoMuted || !camTrack ? 'Camera off' : 'Camera on';
	$('btn-share').classList.toggle('on', !!screenTrack);
	$('btn-share').textContent = screenTrack ? 'Stop sharing' : 'Share';
	$('btn-hand').classList.toggle('on', !!me.hand);
	$('btn-hand').textContent = me.hand ? 'Lower hand' : 'Raise hand';
	for (const e of document.querySelectorAll('.mod-only'))
		e.hidden = !isMod();
}

function renderInfo() {
	$('info-room').textContent = (mm.roomName || '') + ' (' + mm.room + ')';
	const ids = Object.keys(mm.participants);
	$('info-count').textContent = ids.length;
	const ul = $('info-people');
	ul.textContent = '';
	for (const pid of ids) {
		const p = mm.participants[pid];
		const li = el('li');
		li.dataset.pid = pid;
		const who = el('span', 'who', p.name + (pid === mm.me ? ' (you)' : '') +
			(p.role !== 'attendee' ? ' \u00b7 ' + p.role : '') +
			(p.audioMuted ? ' \u00b7 muted' : '') + (p.hand ? ' \u00b7 hand raised' : ''));
		li.appendChild(who);
		if (isMod() && pid !== mm.me) {
			const btn = (label, act, fn) => {
				const b = el('button', '', label);
				b.dataset.act = act;
				b.onclick = fn;
				li.appendChild(b);
			};
			btn('Mute', 'mute', () => mm.act.mute(pid));
			btn('Ask to unmute', 'ask-unmute', () => mm.act.askUnmute(pid));
			btn('Mute all but', 'mute-all-but', () => mm.act.muteAllBut(pid));
			if (p.hand)
				btn('Lower hand', 'lower-hand', () => mm.act.lowerHand(pid));
			btn('Remove', 'kick', () => mm.act.kick(pid));
		}
		ul.appendChild(li);
	}
}

function renderChatTargets() {
	const sel = $('chat-to');
	const cur = sel.value;
	sel.textContent = '';
	sel.appendChild(new Option('Everyone', ''));
	for (const [pid, p] of Object.entries(mm.participants))
		if (pid !== mm.me)
			sel.appendChild(new Option(p.name, pid));
	sel.value = mm.participants[cur] ? cur : '';
}

function renderChat() {
	const ul = $('chat-list');
	ul.textContent = '';
	for (const m of mm.chat) {
		const li = el('li', m.to ? 'private' : '');
		li.dataset.id = m.id;
		const who = m.from === mm.me ? 'You' : nameOf(m.from);
		const head = m.to ? who + ' \u2192 ' + (m.to === mm.me ? 'you' : nameOf(m.to)) + ' (private)' : who;
		li.append(el('div', 'from', head), el('div', 'text', m.text));
		ul.appendChild(li);
	}
	ul.scrollTop = ul.scrollHeight;
}

let panel = null;
function showPanel(name) {
	panel = panel === name ? null : name;
	$('panel').hidden = !panel;
	for (const n of ['chat', 'info', 'settings'])
		$('panel-' + n).hidden = panel !== n;
	$('panel-title').textContent = { chat: 'Chat', info: 'Meeting info', settings: 'Settings' }[panel] || '';
	if (panel === 'chat')
		$('chat-text').focus();
}

/* ---- participants and events ------------------------------------------- */

function fromApi(p) {
	return {
		id: p.id, name: p.display_name, role: p.role,
		audioMuted: !!p.audio_muted, videoMuted: !!p.video_muted,
		hand: !!p.hand_raised, handAt: p.hand_raised_at || 0,
		unmuteRequested: !!p.unmute_requested,
	};
}

/* The meeting info from mmctld: names, roles, mute states, hands. */
async function refreshRoom() {
	const r = await api('GET', roomPath());
	mm.roomName = r.name;
	$('room-name').textContent = r.name;
	const next = {};
	for (const p of r.participants || [])
		next[p.id] = fromApi(p);
	mm.participants = next;
	mm.hands = {};
	for (const p of Object.values(next))
		if (p.hand)
			mm.hands[p.id] = true;
	const me = next[mm.me];
	if (me)
		mm.role = me.role;
	renderAll();
}

let refreshTimer = null;
function refreshSoon() {
	clearTimeout(refreshTimer);
	refreshTimer = setTimeout(() => refreshRoom().catch((e) => fail('meeting info', e)), 150);
}

/* Apply one mute state to my own tracks (a moderator may have muted me). */
function applyMyMute() {
	const me = mm.participants[mm.me];
	if (!me)
		return;
	if (micTrack)
		micTrack.enabled = !me.audioMuted;
	if (camTrack)
		camTrack.enabled = !me.videoMuted;
}

function onEvent(type, ev) {
	const pid = ev.participant;
	const p = pid && mm.participants[pid];
	switch (type) {
	case 'participant.joined':
		if (!p)
			mm.participants[pid] = { id: pid, name: ev.display_name, role: ev.role,
				audioMuted: false, videoMuted: false, hand: false, handAt: 0 };
		if (pid === mm.me)
			live = true;
		else
			notice('joined', ev.display_name + ' joined');
		refreshSoon();
		break;
	case 'participant.left':
		if (pid === mm.me) {
			finish('left', 'You left the meeting');
			return;
		}
		notice('left', nameOf(pid) + ' left');
		delete mm.participants[pid];
		delete mm.hands[pid];
		delete remote[pid];
		break;
	case 'participant.kicked':
		if (pid === mm.me) {
			finish('kicked', 'You were removed from the meeting',
				'A moderator removed you' + (ev.reason ? ': ' + ev.reason : '') + '.');
			return;
		}
		notice('kicked', nameOf(pid) + ' was removed by ' + nameOf(ev.by));
		delete mm.participants[pid];
		delete mm.hands[pid];
		delete remote[pid];
		break;
	case 'role':
		if (p)
			p.role = ev.role;
		if (pid === mm.me) {
			mm.role = ev.role;
			notice('role', 'You are now ' + ev.role);
		}
		break;
	case 'mute':
		if (p) {
			const was = { a: p.audioMuted, v: p.videoMuted };
			p.audioMuted = !!ev.audio_muted;
			p.videoMuted = !!ev.video_muted;
			if (!p.audioMuted && !p.videoMuted)
				p.unmuteRequested = false;
			if (pid === mm.me) {
				applyMyMute();
				if (ev.by !== mm.me && ((p.audioMuted && !was.a) || (p.videoMuted && !was.v)))
					notice('muted', 'You were muted by ' + nameOf(ev.by));
			}
		}
		break;
	case 'unmute_requested':
		if (pid === mm.me) {
			if (p)
				p.unmuteRequested = true;
			notice('unmute_requested', nameOf(ev.by) + ' asks you to unmute',
				{ label: 'Unmute', onclick: () => {
					if (ev.audio)
						mm.act.setMic(true);
					if (ev.video)
						mm.act.setCam(true);
				} });
		}
		break;
	case 'hand':
		if (p) {
			p.hand = !!ev.raised;
			p.handAt = ev.at || 0;
		}
		if (ev.raised) {
			mm.hands[pid] = true;
			if (pid !== mm.me)
				notice('hand', nameOf(pid) + ' raised a hand');
		} else {
			delete mm.hands[pid];
		}
		break;
	case 'chat': {
		const m = ev.message;
		if (!m || mm.chat.some((x) => x.id === m.id))
			break;
		mm.chat.push(m);
		renderChat();
		if (m.from !== mm.me && panel !== 'chat')
			notice('chat', nameOf(m.from) + (m.to ? ' (private)' : '') + ': ' + m.text);
		break;
	}
	case 'speaker':
		for (const [key, t] of Object.entries(tiles))
			t.el.classList.toggle('speaking', key === ev.participant);
		break;
	case 'renegotiate':
		if (pid === mm.me)
			negotiate();
		break;
	case 'room.ended':
		finish('ended', 'The meeting has ended');
		return;
	default:
		break;
	}
	renderAll();
}

/* The room's events: Server-Sent Events over fetch() with the bearer token,
 * resumed with Last-Event-ID after a break. */
async function readEvents() {
	while (mm.state === 'joined') {
		eventsAbort = new AbortController();
		try {
			const headers = { 'Accept': 'text/event-stream', 'Authorization': 'Bearer ' + token };
			if (lastEventId !== null)
				headers['Last-Event-ID'] = String(lastEventId);
			const r = await fetch(roomPath() + '/events', { headers, signal: eventsAbort.signal });
			if (r.status === 401 || r.status === 403 || r.status === 404) {
				/* My token is gone: kicked, left or the meeting ended. */
				if (mm.state === 'joined')
					finish('ended', 'You are no longer in the meeting');
				return;
			}
			if (!r.ok || !r.body)
				throw new Error('events: HTTP ' + r.status);
			await parseSse(r.body.getReader());
		} catch (e) {
			if (mm.state !== 'joined')
				return;
			console.warn('event stream broke, reconnecting', e);
		}
		await new Promise((res) => setTimeout(res, 1000));
	}
}

async function parseSse(reader) {
	const dec = new TextDecoder();
	let buf = '';
	let id = null, type = 'message', data = [];
	for (;;) {
		const { value, done } = await reader.read();
		if (done)
			return;
		buf += dec.decode(value, { stream: true });
		let nl;
		while ((nl = buf.indexOf('\n')) >= 0) {
			let line = buf.slice(0, nl);
			buf = buf.slice(nl + 1);
			if (line.endsWith('\r'))
				line = line.slice(0, -1);
			if (line === '') {
				if (data.length) {
					if (id !== null)
						lastEventId = id;
					let ev = null;
					try { ev = JSON.parse(data.join('\n')); } catch (e) { ev = null; }
					if (ev) {
						try {
							onEvent(ev.type || type, ev);
						} catch (e) {
							console.error('event', type, e);
						}
					}
				}
				id = null;
				type = 'message';
				data = [];
				if (mm.state !== 'joined')
					return;
				continue;
			}
			if (line.startsWith(':'))
				continue;
			const c = line.indexOf(':');
			const field = c < 0 ? line : line.slice(0, c);
			let val = c < 0 ? '' : line.slice(c + 1);
			if (val.startsWith(' '))
				val = val.slice(1);
			if (field === 'id')
				id = val;
			else if (field === 'event')
				type = val;
			else if (field === 'data')
				data.push(val);
		}
	}
}

/* ---- actions ----------------------------------------------------------- */

async function setMic(on) {
	const me = mm.participants[mm.me];
	try {
		if (on) {
			await api('POST', pPath(mm.me) + '/unmute', { audio: true });
			if (micTrack)
				micTrack.enabled = true;
		} else {
			if (micTrack)
				micTrack.enabled = false;
			await api('POST', pPath(mm.me) + '/mute', { audio: true });
		}
		if (me)
			me.audioMuted = !on;
	} catch (e) {
		fail(on ? 'unmute failed' : 'mute failed', e);
	}
	renderAll();
}

async function setCam(on) {
	const me = mm.participants[mm.me];
	try {
		if (on) {
			await api('POST', pPath(mm.me) + '/unmute', { video: true });
			if (camTrack)
				camTrack.enabled = true;
		} else {
			if (camTrack)
				camTrack.enabled = false;
			await api('POST', pPath(mm.me) + '/mute', { video: true });
		}
		if (me)
			me.videoMuted = !on;
	} catch (e) {
		fail(on ? 'camera on failed' : 'camera off failed', e);
	}
	renderAll();
}

/* Screen or window sharing on the "scr" m-line. */
async function startShare() {
	if (screenTrack)
		return;
	let s;
	try {
		s = await navigator.mediaDevices.getDisplayMedia({ video: screenConstraints(), audio: false });
	} catch (e) {
		fail('screen sharing not started', e);
		return;
	}
	screenTrack = s.getVideoTracks()[0];
	screenTrack.addEventListener('ended', () => stopShare());
	const snd = senderOf('scr');
	if (snd)
		await snd.replaceTrack(screenTrack);
	renderAll();
}

async function stopShare() {
	if (!screenTrack)
		return;
	const t = screenTrack;
	screenTrack = null;
	const snd = senderOf('scr');
	if (snd)
		await snd.replaceTrack(null).catch(() => {});
	t.stop();
	renderAll();
}

async function setHand(raised, pid) {
	try {
		await api('POST', pPath(pid || mm.me) + '/hand', { raised });
	} catch (e) {
		fail('hand', e);
	}
}

async function sendChat(text, to) {
	const body = { text };
	if (to)
		body.to = to;
	const m = await api('POST', roomPath() + '/chat', body);
	if (!mm.chat.some((x) => x.id === m.id)) {
		mm.chat.push(m);
		renderChat();
	}
	return m;
}

function showInvite(invite) {
	mm.invite = invite;
	const url = location.origin + '/meet#invite=' + invite;
	$('info-invite').textContent = url;
	$('info-invite').href = url;
}

async function leave() {
	try {
		await api('DELETE', pPath(mm.me));
	} catch (e) {
		console.warn('leave', e);
	}
	finish('left', 'You left the meeting');
}

async function modCall(what, fn) {
	try {
		return await fn();
	} catch (e) {
		fail(what + ' failed', e);
		return null;
	}
}

Object.assign(mm.act, {
	setMic, setCam, startShare, stopShare, sendChat, leave,
	toggleMic: () => setMic(!!(mm.participants[mm.me] || {}).audioMuted),
	toggleCam: () => setCam(!!(mm.participants[mm.me] || {}).videoMuted),
	toggleShare: () => (screenTrack ? stopShare() : startShare()),
	toggleHand: () => setHand(!(mm.participants[mm.me] || {}).hand),
	raiseHand: () => setHand(true),
	lowerHand: (pid) => setHand(false, pid),
	setResolution: (r) => modCall('resolution', () =>
		api('POST', pPath(mm.me) + '/resolution', { max_resolution: r })),
	mute: (pid) => modCall('mute', () => api('POST', pPath(pid) + '/mute', { audio: true })),
	askUnmute: (pid) => modCall('unmute request', () =>
		api('POST', pPath(pid) + '/unmute', { audio: true })),
	muteAll: () => modCall('mute all', () => api('POST', roomPath() + '/mute', {})),
	muteAllBut: (pid) => modCall('mute all but one', () =>
		api('POST', roomPath() + '/mute', { except: [pid, mm.me], except_moderators: false })),
	kick: (pid) => modCall('remove', () => api('POST', pPath(pid) + '/kick', {})),
	newInvite: () => modCall('new invite', async () => {
		const r = await api('POST', roomPath() + '/invites', {});
		showInvite(r.invite);
		return r;
	}),
	negotiate,
});

/* Per publisher, what I receive (pc.getStats()), keyed by participant id:
 * {name, audio: {totalSamplesReceived, bytesReceived, packetsReceived,
 * packetsLost}, camera / screen: {framesDecoded, packetsReceived,
 * packetsLost, frameWidth, frameHeight}}; "_pc" has the connection state. */
mm.stats = async function () {
	const out = {};
	if (!pc)
		return out;
	out._pc = { connectionState: pc.connectionState, iceConnectionState: pc.iceConnectionState };
	const byTrack = {};
	for (const t of pc.getTransceivers())
		if (t.mid && t.receiver.track)
			byTrack[t.receiver.track.id] = t.mid;
	const rep = await pc.getStats();
	rep.forEach((s) => {
		if (s.type === 'transport')
			out._pc.dtlsState = s.dtlsState;
		if (s.type === 'outbound-rtp') {
			const o = out._out || (out._out = {});
			const k = s.kind + (s.rid ? ':' + s.rid : '') + ':' + s.ssrc;
			o[k] = { packetsSent: s.packetsSent || 0, bytesSent: s.bytesSent || 0,
				framesEncoded: s.framesEncoded };
		}
		if (s.type !== 'inbound-rtp')
			return;
		const mid = s.mid || byTrack[s.trackIdentifier];
		const c = offerMids[mid];
		if (!c || !c.stream || c.dir === 'inactive')
			return;
		const pid = c.stream;
		const p = out[pid] || (out[pid] = { name: nameOf(pid) });
		if (c.kind === 'audio')
			p.audio = { totalSamplesReceived: s.totalSamplesReceived || 0,
				bytesReceived: s.bytesReceived || 0, packetsReceived: s.packetsReceived || 0,
				packetsLost: s.packetsLost || 0 };
		else
			p[c.kind] = { framesDecoded: s.framesDecoded || 0,
				packetsReceived: s.packetsReceived || 0, packetsLost: s.packetsLost || 0,
				bytesReceived: s.bytesReceived || 0,
				frameWidth: s.frameWidth || 0, frameHeight: s.frameHeight || 0 };
	});
	return out;
};

/* ---- joining ----------------------------------------------------------- */

async function join(name) {
	mm.state = 'joining';
	$('btn-join').disabled = true;
	$('lobby-error').hidden = true;
	let j;
	try {
		/* An invite link, or the meeting app's link with a join token it
		 * signed for one of the tenant's accounts (docs/api.md). */
		j = await api('POST', '/v1/join', mm.joinToken ?
			{ join_token: mm.joinToken, room: mm.joinRoom, display_name: name, webrtc: true } :
			{ invite: mm.invite, display_name: name, webrtc: true });
	} catch (e) {
		mm.state = 'lobby';
		mm.error = e.code + ': ' + e.message;
		$('lobby-error').textContent = {
			invite_invalid: 'This invite link is not valid.',
			invite_expired: 'This invite link has expired.',
			join_token_invalid: 'This meeting link is not valid.',
			join_token_expired: 'This meeting link has expired: ask the meeting app for a new one.',
			join_token_required: 'This room admits only its members: join from the meeting app.',
			not_allowed: 'Your account may not join this room.',
			quota_exceeded: 'Your organisation has all its meeting rooms in use.',
			contract_inactive: 'Your organisation\'s subscription is not active.',
			room_full: 'The meeting is full.',
			not_found: 'This meeting no longer exists.',
		}[e.code] || 'Could not join: ' + e.message;
		$('lobby-error').hidden = false;
		$('btn-join').disabled = false;
		return;
	}
	token = j.token;
	mm.me = j.id;
	mm.room = j.room;
	mm.role = j.role;
	mm.participants[mm.me] = { id: mm.me, name: j.display_name || name, role: j.role,
		audioMuted: !!j.audio_muted, videoMuted: !!j.video_muted, hand: false, handAt: 0 };
	$('lobby').hidden = true;
	$('meeting').hidden = false;
	if (mm.invite)
		showInvite(mm.invite);

	await getMedia();
	makePc();
	mm.state = 'joined';
	renderAll();
	/* Tracks start and stop without always telling (a receiver's track
	 * unmutes when packets come): look again once a second. */
	setInterval(() => {
		if (mm.state === 'joined') /* tiles only: lists stay as they are under the pointer */
			for (const pid of Object.keys(remote))
				renderMedia(pid);
		negotiationWatchdog();
	}, 1000);
	/* The first answer; the events start at once (renegotiations queue
	 * behind it), and the watchdog starts over should it hang. */
	negoBusySince = Date.now();
	const first = negoChain = answerOffer(j.webrtc.version, j.webrtc.offer)
		.catch((e) => fail('could not answer the offer', e))
		.finally(() => {
			if (negoChain === first)
				negoBusySince = 0;
		});
	readEvents();
	refreshRoom().catch((e) => fail('meeting info', e));
}

/* ---- wiring ------------------------------------------------------------ */

function init() {
	const frag = new URLSearchParams(location.hash.replace(/^#/, ''));
	const q = new URLSearchParams(location.search);
	mm.invite = frag.get('invite');
	mm.joinToken = frag.get('join_token');
	mm.joinRoom = frag.get('room');
	if (q.get('name'))
		$('name').value = q.get('name');
	if (!mm.invite && !(mm.joinToken && mm.joinRoom)) {
		$('lobby-msg').textContent = 'Open the invite link you were given to join a meeting.';
		$('btn-join').disabled = true;
	}
	$('join-form').onsubmit = (e) => {
		e.preventDefault();
		const n = $('name').value.trim();
		if (n && (mm.invite || mm.joinToken) && mm.state === 'lobby')
			join(n);
	};
	$('btn-mic').onclick = () => mm.act.toggleMic();
	$('btn-cam').onclick = () => mm.act.toggleCam();
	$('btn-share').onclick = () => mm.act.toggleShare();
	$('btn-hand').onclick = () => mm.act.toggleHand();
	$('btn-chat').onclick = () => showPanel('chat');
	$('btn-info').onclick = () => showPanel('info');
	$('btn-settings').onclick = () => showPanel('settings');
	$('panel-close').onclick = () => showPanel(panel);
	$('btn-leave').onclick = () => mm.act.leave();
	$('btn-new-invite').onclick = () => mm.act.newInvite();
	$('btn-mute-all').onclick = () => mm.act.muteAll();
	$('set-resolution').onchange = (e) => mm.act.setResolution(e.target.value);
	$('chat-form').onsubmit = (e) => {
		e.preventDefault();
		const text = $('chat-text').value;
		if (!text.trim())
			return;
		sendChat(text, $('chat-to').value || null).then(() => { $('chat-text').value = ''; },
			(err) => fail('message not sent', err));
	};
	document.addEventListener('keydown', (e) => {
		if (mm.state !== 'joined' || e.ctrlKey || e.metaKey || e.altKey)
			return;
		const tag = (e.target && e.target.tagName) || '';
		if (['INPUT', 'TEXTAREA', 'SELECT'].includes(tag))
			return;
		const f = { m: mm.act.toggleMic, v: mm.act.toggleCam, s: mm.act.toggleShare,
			h: mm.act.toggleHand, c: () => showPanel('chat') }[e.key.toLowerCase()];
		if (f) {
			e.preventDefault();
			f();
		}
	});
}

init();

})();
