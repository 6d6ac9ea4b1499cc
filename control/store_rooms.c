/* Rooms, participants and their media ports in SQLite. */
#include "control/store_internal.h"
#include "common/log.h"

#include "control/sealed.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void store_row_room(sqlite3_stmt *st, struct ctl_room *r)
{
	store_col_text(st, 0, r->id, sizeof(r->id));
	store_col_text(st, 1, r->tenant, sizeof(r->tenant));
	store_col_text(st, 2, r->name, sizeof(r->name));
	r->capacity = sqlite3_column_int(st, 3);
	store_col_text(st, 4, r->kind, sizeof(r->kind));
	r->created_at = sqlite3_column_int64(st, 5);
	r->meeting = sqlite3_column_int64(st, 6);
	r->last_n = sqlite3_column_int(st, 7);
	r->video_last_n = sqlite3_column_int(st, 8);
	r->started_at = sqlite3_column_int64(st, 9);
}

#define ROOM_COLS "id, tenant, name, capacity, kind, created_at, meeting, last_n, video_last_n, " \
	"started_at"

int ctl_store_room_insert(struct ctl_store *s, const struct ctl_room *r)
{
	return store_do(s, NULL, "INSERT INTO rooms(" ROOM_COLS ") VALUES(?,?,?,?,?,?,?,?,?,?)",
				 "sssisiiiii", r->id, r->tenant, r->name, (int64_t)r->capacity,
				 r->kind, r->created_at, r->meeting > 0 ? r->meeting : (int64_t)1,
				 (int64_t)r->last_n, (int64_t)r->video_last_n, r->started_at);
}

int ctl_store_room_update(struct ctl_store *s, const struct ctl_room *r)
{
	return store_do_one(s, "UPDATE rooms SET capacity=?, last_n=?, video_last_n=? WHERE id=?",
			    "iiis", (int64_t)r->capacity, (int64_t)r->last_n,
			    (int64_t)r->video_last_n, r->id);
}

int ctl_store_room_get(struct ctl_store *s, const char *id, struct ctl_room *out)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " ROOM_COLS " FROM rooms WHERE id=?", "s", id);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_row_room(st, out);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : store_err(rc);
}

int ctl_store_room_list(struct ctl_store *s, const char *tenant, ctl_room_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = tenant ?
		store_prepare(s, &st, "SELECT " ROOM_COLS " FROM rooms WHERE tenant=? "
				      "ORDER BY created_at, id", "s", tenant) :
		store_prepare(s, &st, "SELECT " ROOM_COLS " FROM rooms ORDER BY created_at, id", "");
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_room r;
		store_row_room(st, &r);
		int frc = fn(arg, &r);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return store_err(rc);
}

int ctl_store_room_delete(struct ctl_store *s, const char *id)
{
	sqlite3_stmt *st;
	int changes = 0;
	int rc = store_prepare(s, &st, "DELETE FROM rooms WHERE id=?", "s", id);
	if (rc)
		return rc;
	if ((rc = store_run(st, &changes)))
		return rc;
	if (!changes)
		return -ENOENT;
	rc = store_prepare(s, &st, "DELETE FROM events WHERE room_id=?", "s", id);
	return rc ? rc : store_run(st, NULL);
}

int ctl_store_room_clear(struct ctl_store *s, const char *id)
{
	return store_do(s, NULL, "DELETE FROM participants WHERE room_id=?", "s", id);
}

int ctl_store_room_next_meeting(struct ctl_store *s, const char *id)
{
	return store_do_one(s, "UPDATE rooms SET meeting = meeting + 1 WHERE id=?", "s", id);
}

int ctl_store_room_set_started(struct ctl_store *s, const char *id, int64_t started_at)
{
	return store_do_one(s, "UPDATE rooms SET started_at=? WHERE id=?", "is", started_at, id);
}

#define PART_COLS "id, room_id, display_name, role, remote_addr, remote_port, local_port, " \
	"ssrc_audio, ssrc_video, srtp_profile, key_in, key_out, joined_at, ssrc_screen, " \
	"audio_muted, video_muted, unmute_requested, hand_raised_at, media, max_layer, rtx_pt, " \
	"webrtc, account"

/* The media column: what the ssrc_audio/ssrc_video/ssrc_screen columns (the
 * first SSRC of each kind, -1 for none) cannot say, as JSON text: per kind
 * with more than a plain SSRC, {"ssrcs":[...],"rtx":[...],"codec":..,
 * "level":..}; "" when every source is a plain SSRC (rows of version 2). */
static const char *const MEDIA_KEYS[CTL_KINDS] = { "audio", "camera", "screen" };

static bool source_plain(const struct ctl_source *src)
{
	return src->layers <= 1 && src->rtx_ssrc[0] < 0 && !src->codec[0] &&
	       !src->audio_level_id && !src->rid[0][0] && !src->out_ssrc;
}

/* Text for the media column into out (malloc'd; "" when plain). */
static int media_text(const struct ctl_participant *p, char **out)
{
	json_t *o = json_object();
	for (int k = 0; k < CTL_KINDS; k++) {
		const struct ctl_source *src = &p->src[k];
		if (!src->layers || source_plain(src))
			continue;
		json_t *ss = json_array(), *rtx = json_array();
		for (int l = 0; l < src->layers; l++) {
			json_array_append_new(ss, json_integer(src->ssrc[l]));
			json_array_append_new(rtx, json_integer(src->rtx_ssrc[l]));
		}
		json_t *m = json_pack("{s:o,s:o,s:s,s:i}", "ssrcs", ss, "rtx", rtx, "codec",
				      src->codec, "level", src->audio_level_id);
		if (src->rid[0][0]) {
			json_t *rids = json_array();
			for (int l = 0; l < src->layers; l++)
				json_array_append_new(rids, json_string(src->rid[l]));
			json_object_set_new(m, "rids", rids);
		}
		if (src->out_ssrc)
			json_object_set_new(m, "out", json_integer(src->out_ssrc));
		json_object_set_new(o, MEDIA_KEYS[k], m);
	}
	*out = json_object_size(o) ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : strdup("");
	json_decref(o);
	return *out ? 0 : -ENOMEM;
}

/* Fill p->src from the three SSRC columns and the media column. */
static int media_parse(struct ctl_participant *p, const int64_t first[CTL_KINDS],
		       const char *text)
{
	json_t *o = text[0] ? json_loads(text, 0, NULL) : NULL;
	if (text[0] && !json_is_object(o)) {
		json_decref(o);
		return -EIO;
	}
	for (int k = 0; k < CTL_KINDS; k++) {
		struct ctl_source *src = &p->src[k];
		memset(src, 0, sizeof(*src));
		for (int l = 0; l < CTL_LAYERS_MAX; l++)
			src->ssrc[l] = src->rtx_ssrc[l] = -1;
		src->ssrc[0] = first[k];
		src->layers = first[k] >= 0;
		json_t *m = json_object_get(o, MEDIA_KEYS[k]);
		if (!m)
			continue;   /* (a source known by RID has ssrc column -1) */
		json_t *ss = json_object_get(m, "ssrcs"), *rtx = json_object_get(m, "rtx");
		size_t n = json_array_size(ss);
		if (n < 1 || n > CTL_LAYERS_MAX || json_array_size(rtx) != n) {
			json_decref(o);
			return -EIO;
		}
		src->layers = (int)n;
		for (size_t l = 0; l < n; l++) {
			src->ssrc[l] = json_integer_value(json_array_get(ss, l));
			src->rtx_ssrc[l] = json_integer_value(json_array_get(rtx, l));
		}
		snprintf(src->codec, sizeof(src->codec), "%s",
			 json_string_value(json_object_get(m, "codec")) ?: "");
		src->audio_level_id = (int)json_integer_value(json_object_get(m, "level"));
		json_t *rids = json_object_get(m, "rids");
		for (size_t l = 0; l < n && l < json_array_size(rids); l++)
			snprintf(src->rid[l], sizeof(src->rid[l]), "%s",
				 json_string_value(json_array_get(rids, l)) ?: "");
		src->out_ssrc = json_integer_value(json_object_get(m, "out"));
	}
	json_decref(o);
	return 0;
}

/* The webrtc column: a browser participant's transport as JSON text, ""
 * for the others. */
static int webrtc_text(const struct ctl_participant *p, char **out)
{
	const struct ctl_webrtc *w = &p->webrtc;
	if (!w->on) {
		*out = strdup("");
		return *out ? 0 : -ENOMEM;
	}
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:i}", "ufrag", w->ice_ufrag, "pwd",
			      w->ice_pwd, "rufrag", w->remote_ufrag, "fp", w->dtls_fingerprint,
			      "setup", w->dtls_setup, "twcc", w->twcc_id, "rid", w->rid_id);
	*out = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return *out ? 0 : -ENOMEM;
}

static int webrtc_parse(struct ctl_webrtc *w, const char *text)
{
	memset(w, 0, sizeof(*w));
	if (!text[0])
		return 0;
	json_t *o = json_loads(text, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return -EIO;
	}
	w->on = true;
	snprintf(w->ice_ufrag, sizeof(w->ice_ufrag), "%s",
		 json_string_value(json_object_get(o, "ufrag")) ?: "");
	snprintf(w->ice_pwd, sizeof(w->ice_pwd), "%s",
		 json_string_value(json_object_get(o, "pwd")) ?: "");
	snprintf(w->remote_ufrag, sizeof(w->remote_ufrag), "%s",
		 json_string_value(json_object_get(o, "rufrag")) ?: "");
	snprintf(w->dtls_fingerprint, sizeof(w->dtls_fingerprint), "%s",
		 json_string_value(json_object_get(o, "fp")) ?: "");
	snprintf(w->dtls_setup, sizeof(w->dtls_setup), "%s",
		 json_string_value(json_object_get(o, "setup")) ?: "");
	w->twcc_id = (int)json_integer_value(json_object_get(o, "twcc"));
	w->rid_id = (int)json_integer_value(json_object_get(o, "rid"));
	json_decref(o);
	return 0;
}

/* The first SSRC of kind k (the ssrc_* columns), -1 when not published. */
#define FIRST_SSRC(p, k) ((p)->src[k].layers ? (p)->src[k].ssrc[0] : (int64_t)-1)

/* The associated data a participant's key is sealed with: whose and which
 * direction (a sealed key moved to another row or column does not open). */
static void key_aad(const char *pid, const char *dir, char *aad, size_t cap)
{
	snprintf(aad, cap, "participant:%s/%s", pid, dir);
}

static int open_key(const struct ctl_store *s, const char *pid, const char *dir,
		    sqlite3_stmt *st, int col, char *out, size_t cap)
{
	char sealed[CTL_SEALED_MAX], aad[CTL_ID_MAX + 32];
	store_col_text(st, col, sealed, sizeof(sealed));
	if (!s->have_seal_key || !ctl_is_sealed(sealed)) {
		/* before store_seal_keys upgraded it: as it was stored */
		size_t n = strlen(sealed);
		if (n >= cap)
			return -EIO;
		memcpy(out, sealed, n + 1);
		return 0;
	}
	key_aad(pid, dir, aad, sizeof(aad));
	int rc = ctl_unseal(s->seal_key, aad, sealed, out, cap);
	if (rc) {
		mm_err("participant_key_unsealed", "participant=%s key=%s error=%s", mm_q(pid), dir,
		       mm_q("does not open with the key file"));
		out[0] = '\0';
	}
	return rc ? -EIO : 0;
}

static int store_row_participant(const struct ctl_store *s, sqlite3_stmt *st,
				 struct ctl_participant *p)
{
	store_col_text(st, 0, p->id, sizeof(p->id));
	store_col_text(st, 1, p->room_id, sizeof(p->room_id));
	store_col_text(st, 2, p->display_name, sizeof(p->display_name));
	store_col_text(st, 3, p->role, sizeof(p->role));
	store_col_text(st, 4, p->remote_addr, sizeof(p->remote_addr));
	p->remote_port = sqlite3_column_int(st, 5);
	p->local_port = sqlite3_column_int(st, 6);
	const int64_t first[CTL_KINDS] = { sqlite3_column_int64(st, 7),
					   sqlite3_column_int64(st, 8),
					   sqlite3_column_int64(st, 13) };
	store_col_text(st, 9, p->srtp_profile, sizeof(p->srtp_profile));
	int rc = open_key(s, p->id, "in", st, 10, p->key_in, sizeof(p->key_in));
	if (!rc)
		rc = open_key(s, p->id, "out", st, 11, p->key_out, sizeof(p->key_out));
	p->joined_at = sqlite3_column_int64(st, 12);
	p->audio_muted = sqlite3_column_int(st, 14) != 0;
	p->video_muted = sqlite3_column_int(st, 15) != 0;
	p->unmute_requested = sqlite3_column_int(st, 16) != 0;
	p->hand_raised_at = sqlite3_column_int64(st, 17);
	const unsigned char *media = sqlite3_column_text(st, 18);
	if (!rc && media_parse(p, first, media ? (const char *)media : "")) {
		mm_err("participant_unreadable", "participant=%s column=media", mm_q(p->id));
		rc = -EIO;
	}
	p->max_layer = sqlite3_column_int(st, 19);
	p->rtx_pt = sqlite3_column_int(st, 20);
	store_col_text(st, 22, p->account, sizeof(p->account));
	const unsigned char *w = sqlite3_column_text(st, 21);
	if (!rc && webrtc_parse(&p->webrtc, w ? (const char *)w : "")) {
		mm_err("participant_unreadable", "participant=%s column=webrtc", mm_q(p->id));
		rc = -EIO;
	}
	return rc;
}

/* Seal both keys of p (when the store has a key) into in/out. */
static int seal_keys(const struct ctl_store *s, const char *pid, const char *kin,
		     const char *kout, char in[CTL_SEALED_MAX], char out[CTL_SEALED_MAX])
{
	char aad[CTL_ID_MAX + 32];
	if (!s->have_seal_key) {
		snprintf(in, CTL_SEALED_MAX, "%s", kin);
		snprintf(out, CTL_SEALED_MAX, "%s", kout);
		return 0;
	}
	key_aad(pid, "in", aad, sizeof(aad));
	int rc = ctl_seal(s->seal_key, aad, kin, in, CTL_SEALED_MAX);
	key_aad(pid, "out", aad, sizeof(aad));
	return rc ? rc : ctl_seal(s->seal_key, aad, kout, out, CTL_SEALED_MAX);
}

/* Seal one stored key in place unless it is sealed already (then it must
 * open). */
static int seal_column(const struct ctl_store *s, const char *pid, const char *dir,
		       char text[CTL_SEALED_MAX])
{
	char aad[CTL_ID_MAX + 32], plain[CTL_KEY_B64_MAX];
	key_aad(pid, dir, aad, sizeof(aad));
	if (ctl_is_sealed(text))
		return ctl_unseal(s->seal_key, aad, text, plain, sizeof(plain)) ? -EKEYREJECTED : 0;
	size_t n = strlen(text);
	if (n >= sizeof(plain))
		return -EIO;
	memcpy(plain, text, n + 1);
	int rc = ctl_seal(s->seal_key, aad, plain, text, CTL_SEALED_MAX);
	explicit_bzero(plain, sizeof(plain));
	return rc;
}

struct seal_row {
	char id[CTL_ID_MAX];
	char in[CTL_SEALED_MAX], out[CTL_SEALED_MAX];
};

int ctl_store_seal_keys(struct ctl_store *s, const uint8_t key[CTL_SEAL_KEY_LEN])
{
	sqlite3_stmt *st = NULL;
	memcpy(s->seal_key, key, CTL_SEAL_KEY_LEN);
	s->have_seal_key = true;
	int rc = store_exec(s, "BEGIN IMMEDIATE");
	if (rc)
		return rc;
	/* Every row must open with this key; rows stored before keys were
	 * sealed are sealed now. */
	rc = store_prepare(s, &st, "SELECT id, key_in, key_out FROM participants", "");
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		struct seal_row r;
		store_col_text(st, 0, r.id, sizeof(r.id));
		store_col_text(st, 1, r.in, sizeof(r.in));
		store_col_text(st, 2, r.out, sizeof(r.out));
		if (ctl_is_sealed(r.in) && ctl_is_sealed(r.out)) {
			char k[CTL_KEY_B64_MAX];
			rc = open_key(s, r.id, "in", st, 1, k, sizeof(k));
			if (!rc)
				rc = open_key(s, r.id, "out", st, 2, k, sizeof(k));
			explicit_bzero(k, sizeof(k));
			if (rc)
				rc = -EKEYREJECTED;
			continue;
		}
		rc = seal_column(s, r.id, "in", r.in);
		if (!rc)
			rc = seal_column(s, r.id, "out", r.out);
		if (!rc)
			rc = store_do(s, NULL, "UPDATE participants SET key_in=?, key_out=? WHERE id=?",
				      "sss", r.in, r.out, r.id);
	}
	if (st)
		sqlite3_finalize(st);
	if (!rc)
		rc = store_exec(s, "COMMIT");
	if (rc)
		ctl_store_rollback(s);
	return rc;
}

int ctl_store_participant_insert(struct ctl_store *s, const struct ctl_participant *p)
{
	char kin[CTL_SEALED_MAX], kout[CTL_SEALED_MAX], *media, *webrtc;
	int rc = seal_keys(s, p->id, p->key_in, p->key_out, kin, kout);
	if (rc || (rc = media_text(p, &media)))
		return rc;
	if ((rc = webrtc_text(p, &webrtc))) {
		free(media);
		return rc;
	}
	rc = store_do(s, NULL, "INSERT INTO participants(" PART_COLS ") "
			       "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       "sssssiiiisssiiiiiisiiss",
			       p->id, p->room_id, p->display_name, p->role, p->remote_addr,
			       (int64_t)p->remote_port, (int64_t)p->local_port,
			       FIRST_SSRC(p, CTL_KIND_AUDIO), FIRST_SSRC(p, CTL_KIND_CAMERA),
			       p->srtp_profile, kin, kout, p->joined_at,
			       FIRST_SSRC(p, CTL_KIND_SCREEN), (int64_t)p->audio_muted,
			       (int64_t)p->video_muted, (int64_t)p->unmute_requested,
			       p->hand_raised_at, media, (int64_t)p->max_layer, (int64_t)p->rtx_pt,
			       webrtc, p->account);
	free(media);
	free(webrtc);
	return rc;
}

int ctl_store_participant_update(struct ctl_store *s, const struct ctl_participant *p)
{
	char *media, *webrtc;
	int rc = media_text(p, &media);
	if (rc)
		return rc;
	if ((rc = webrtc_text(p, &webrtc))) {
		free(media);
		return rc;
	}
	rc = store_do_one(s, "UPDATE participants SET role=?, ssrc_audio=?, ssrc_video=?, "
			     "ssrc_screen=?, audio_muted=?, video_muted=?, "
			     "unmute_requested=?, hand_raised_at=?, media=?, max_layer=?, "
			     "rtx_pt=?, webrtc=? WHERE id=?",
			     "siiiiiiisiiss", p->role, FIRST_SSRC(p, CTL_KIND_AUDIO),
			     FIRST_SSRC(p, CTL_KIND_CAMERA), FIRST_SSRC(p, CTL_KIND_SCREEN),
			     (int64_t)p->audio_muted, (int64_t)p->video_muted,
			     (int64_t)p->unmute_requested, p->hand_raised_at, media,
			     (int64_t)p->max_layer, (int64_t)p->rtx_pt, webrtc, p->id);
	free(media);
	free(webrtc);
	return rc;
}

int ctl_store_participant_get(struct ctl_store *s, const char *id, struct ctl_participant *out)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT " PART_COLS " FROM participants WHERE id=?", "s", id);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	int rrc = rc == SQLITE_ROW ? store_row_participant(s, st, out) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? rrc : rc == SQLITE_DONE ? -ENOENT : store_err(rc);
}

int ctl_store_participant_delete(struct ctl_store *s, const char *id)
{
	return store_do_one(s, "DELETE FROM participants WHERE id=?", "s", id);
}

int ctl_store_participant_count(struct ctl_store *s, const char *room_id, int *n)
{
	sqlite3_stmt *st;
	int rc = store_prepare(s, &st, "SELECT count(*) FROM participants WHERE room_id=?",
			       "s", room_id);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_err(rc);
}

int ctl_store_participant_list(struct ctl_store *s, const char *room_id,
			       ctl_participant_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc = room_id ?
		store_prepare(s, &st, "SELECT " PART_COLS " FROM participants WHERE room_id=? "
				      "ORDER BY joined_at, id", "s", room_id) :
		store_prepare(s, &st, "SELECT " PART_COLS " FROM participants "
				      "ORDER BY room_id, joined_at, id", "");
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_participant p;
		int frc = store_row_participant(s, st, &p);
		if (!frc)
			frc = fn(arg, &p);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return store_err(rc);
}

int ctl_store_port_free(struct ctl_store *s, int lo, int hi, int64_t now, int *port)
{
	sqlite3_stmt *st;
	/* Walk the held ports in order; the first gap is the answer. */
	int rc = store_prepare(s, &st, "SELECT local_port FROM participants WHERE local_port "
				       "BETWEEN ?1 AND ?2 UNION SELECT local_port FROM blocks "
				       "WHERE local_port BETWEEN ?1 AND ?2 AND expires_at > ?3 "
				       "ORDER BY local_port", "iii",
			       (int64_t)lo, (int64_t)hi, now);
	if (rc)
		return rc;
	int next = lo;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int used = sqlite3_column_int(st, 0);
		if (used > next)
			break;
		next = used + 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_err(rc);
	if (next > hi)
		return -ENOSPC;
	*port = next;
	return 0;
}

