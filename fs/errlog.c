// SPDX-License-Identifier: MIT
/*
 * The top-level `errors` file: the last refusals (VN_ERRLOG_MAX, all users
 * together, at most VN_ERRLOG_PER_UID of one uid, so nobody's flood pushes
 * out another's), each with its time, the caller's uid, the path and the
 * sentence. A reader sees only its own uid's lines; root sees all. Paths
 * and sentences are escaped (vn_escape): one refusal is one line.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnetfs/model.h"
#include "fs/internal.h"

#define VN_ERRLOG_MAX 256
#define VN_ERRLOG_PER_UID 64

struct vn_refusal {
	struct timespec t;
	uid_t uid;
	char *line; /* "PATH: SENTENCE (strerror)", escaped */
};

struct vn_errlog {
	pthread_mutex_t mu;
	struct vn_refusal r[VN_ERRLOG_MAX]; /* oldest first */
	size_t n;
};

/* Drop entry i, keeping the order. */
static void vn_errlog_drop(struct vn_errlog *l, size_t i)
{
	free(l->r[i].line);
	memmove(&l->r[i], &l->r[i + 1], (l->n - i - 1) * sizeof(l->r[0]));
	l->n--;
}

/* The request a FUSE thread is serving (set by fs/fuse_ops.c): whose
 * refusal it is, and the path it named. */
static __thread struct {
	bool set;
	uid_t uid;
	const char *path;
} vn_errlog_req;

void vn_errlog_request(const char *path, uid_t uid)
{
	vn_errlog_req.set = true;
	vn_errlog_req.uid = uid;
	vn_errlog_req.path = path;
}

void vn_errlog_request_end(void)
{
	vn_errlog_req.set = false;
	vn_errlog_req.path = NULL;
}

static struct vn_errlog *vn_errlog_get(struct vn_ctx *c)
{
	struct vn_errlog *l = c->errlog;

	if (l)
		return l;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	pthread_mutex_init(&l->mu, NULL);
	c->errlog = l;
	return l;
}

void vn_errlog_add(struct vn_ctx *c, uid_t uid, const char *path, int code, const char *msg)
{
	struct vn_errlog *l = vn_errlog_get(c);
	char epath[1024], emsg[1024];
	struct vn_refusal *r;
	struct vn_buf b = {0};

	if (!l)
		return;
	vn_escape(path ? path : "?", epath, sizeof(epath));
	vn_escape(msg && *msg ? msg : strerror(-code), emsg, sizeof(emsg));
	if (vn_buf_printf(&b, "%s: %s (%s)", epath, emsg, strerror(-code)) < 0) {
		vn_buf_free(&b);
		return;
	}
	pthread_mutex_lock(&l->mu);
	{
		size_t mine = 0, oldest = l->n;

		for (size_t i = 0; i < l->n; i++) {
			if (l->r[i].uid != uid)
				continue;
			if (!mine++)
				oldest = i;
		}
		if (mine >= VN_ERRLOG_PER_UID)
			vn_errlog_drop(l, oldest);
		else if (l->n == VN_ERRLOG_MAX)
			vn_errlog_drop(l, 0);
	}
	r = &l->r[l->n++];
	r->line = b.s; /* taken over */
	r->uid = uid;
	clock_gettime(CLOCK_REALTIME, &r->t);
	pthread_mutex_unlock(&l->mu);
}

static int vn_errlog_objpath(const struct vn_obj *o, struct vn_buf *b)
{
	int r;

	if (!o)
		return 0;
	r = vn_errlog_objpath(o->parent, b);
	if (r == 0)
		r = vn_buf_printf(b, "/%s/%s", o->coll ? o->coll->kind->dir : o->kind->dir,
				  o->name);
	return r;
}

void vn_errlog_note(struct vn_ctx *c, struct vn_obj *o, int code, const char *msg)
{
	_cleanup_buf_ struct vn_buf b = {0};

	if (!c)
		return;
	if (vn_errlog_req.set) {
		vn_errlog_add(c, vn_errlog_req.uid, vn_errlog_req.path, code, msg);
		return;
	}
	/* not a user's request (start-up, a job): the object's owner's */
	if (vn_errlog_objpath(o, &b) == 0 && b.s)
		vn_errlog_add(c, o->uid, b.s, code, msg);
}

int vn_errlog_render(struct vn_ctx *c, uid_t uid, struct vn_buf *out)
{
	struct vn_errlog *l = c->errlog;
	int r = 0;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < l->n && r == 0; i++) {
		const struct vn_refusal *e = &l->r[i];
		struct tm tm;
		char when[32];

		if (uid != 0 && e->uid != uid)
			continue;
		gmtime_r(&e->t.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		r = vn_buf_printf(out, "%s.%03ldZ uid=%u %s\n", when, e->t.tv_nsec / 1000000,
				  (unsigned)e->uid, e->line);
	}
	pthread_mutex_unlock(&l->mu);
	return r;
}

void vn_errlog_free(struct vn_ctx *c)
{
	struct vn_errlog *l = c->errlog;

	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->r[i].line);
	pthread_mutex_destroy(&l->mu);
	free(l);
	c->errlog = NULL;
}
