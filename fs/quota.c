// SPDX-License-Identifier: MIT
/*
 * Per-user limits: how many objects one uid owns, and how many bytes its
 * scratch files (editor temp files, held in memory) take. The daemon runs
 * as root for every user on the host; these bound what one user can make
 * it hold (--max-objects-per-user, --max-scratch-per-user; 0: no limit).
 *
 * Root (uid 0) is never counted. An object counts to its owner (o->uid),
 * including objects the daemon makes for it (a router's leg ports count to
 * the router's owner). A scratch file counts to the uid that created it.
 *
 * The model calls vn_quota_obj_attach/_detach where objects enter and
 * leave its tables; the scratch code (fs/attr.c) calls
 * vn_quota_scratch_change whenever a scratch file's size changes. Every
 * caller holds the model lock exclusive (or runs single-threaded at
 * start-up). Objects loaded from the state at start-up are counted but
 * never refused: they exist already.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vnetfs/model.h"
#include "fs/internal.h"

struct vn_quota_user {
	uid_t uid;
	size_t objects;
	size_t scratch; /* bytes */
};

struct vn_quota {
	struct vn_quota_user *u;
	size_t n, cap;
};

static struct vn_quota_user *vn_quota_find(struct vn_ctx *c, uid_t uid)
{
	struct vn_quota *q = c->quota;

	for (size_t i = 0; q && i < q->n; i++)
		if (q->u[i].uid == uid)
			return &q->u[i];
	return NULL;
}

static struct vn_quota_user *vn_quota_get(struct vn_ctx *c, uid_t uid)
{
	struct vn_quota_user *u = vn_quota_find(c, uid);
	struct vn_quota *q;

	if (u)
		return u;
	if (!c->quota) {
		c->quota = calloc(1, sizeof(*c->quota));
		if (!c->quota)
			return NULL;
	}
	q = c->quota;
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 16;
		struct vn_quota_user *nu = realloc(q->u, cap * sizeof(*nu));

		if (!nu)
			return NULL;
		q->u = nu;
		q->cap = cap;
	}
	u = &q->u[q->n++];
	*u = (struct vn_quota_user){.uid = uid};
	return u;
}

/* A user with nothing counted any more leaves the table. */
static void vn_quota_tidy(struct vn_ctx *c, struct vn_quota_user *u)
{
	struct vn_quota *q = c->quota;

	if (u->objects || u->scratch)
		return;
	*u = q->u[--q->n];
}

int vn_quota_obj_attach(struct vn_ctx *c, uid_t uid)
{
	size_t max = c->opts.max_objects_per_user;
	struct vn_quota_user *u;

	if (uid == 0)
		return 0;
	u = vn_quota_get(c, uid);
	if (!u)
		return -ENOMEM;
	if (max && u->objects >= max && !c->loading) {
		vn_quota_tidy(c, u);
		return -EDQUOT;
	}
	u->objects++;
	return 0;
}

void vn_quota_obj_detach(struct vn_ctx *c, struct vn_obj *o)
{
	struct vn_quota_user *u;

	/* its scratch files go with it */
	for (struct vn_scratch *s = o->scratch; s; s = s->next)
		vn_quota_scratch_change(c, s->uid, s->data.len, 0, NULL);
	if (o->uid == 0 || !(u = vn_quota_find(c, o->uid)))
		return;
	if (u->objects)
		u->objects--;
	vn_quota_tidy(c, u);
}

int vn_quota_obj_move(struct vn_ctx *c, struct vn_obj *o, uid_t uid)
{
	struct vn_quota_user *to = uid ? vn_quota_get(c, uid) : NULL, *from;

	if (uid && !to)
		return -ENOMEM;
	if (o->uid == uid)
		return 0;
	if (to)
		to->objects++;
	from = o->uid ? vn_quota_find(c, o->uid) : NULL;
	if (from) {
		if (from->objects)
			from->objects--;
		vn_quota_tidy(c, from);
	}
	return 0;
}

int vn_quota_obj_fail(struct vn_ctx *c, uid_t uid, struct vn_err *err)
{
	struct vn_quota_user *u = vn_quota_find(c, uid);

	return vn_fail(err, -EDQUOT,
		       "user %u owns %zu objects, the most this daemon allows one user "
		       "(--max-objects-per-user %zu): remove some first",
		       (unsigned)uid, u ? u->objects : c->opts.max_objects_per_user,
		       c->opts.max_objects_per_user);
}

int vn_quota_scratch_change(struct vn_ctx *c, uid_t uid, size_t from, size_t to, struct vn_err *err)
{
	size_t max = c->opts.max_scratch_per_user;
	struct vn_quota_user *u;

	if (uid == 0 || from == to)
		return 0;
	if (to < from) {
		u = vn_quota_find(c, uid);
		if (!u)
			return 0;
		u->scratch -= from - to > u->scratch ? u->scratch : from - to;
		vn_quota_tidy(c, u);
		return 0;
	}
	u = vn_quota_get(c, uid);
	if (!u)
		return vn_fail(err, -ENOMEM, "out of memory");
	if (max && to - from > max - (u->scratch < max ? u->scratch : max)) {
		size_t have = u->scratch;

		vn_quota_tidy(c, u);
		return vn_fail(err, -EDQUOT,
			       "the temporary files of user %u would take %zu bytes, more than "
			       "this daemon allows one user (--max-scratch-per-user %zu): rename "
			       "or remove some first",
			       (unsigned)uid, have + (to - from), max);
	}
	u->scratch += to - from;
	return 0;
}

size_t vn_quota_objects(struct vn_ctx *c, uid_t uid)
{
	struct vn_quota_user *u = vn_quota_find(c, uid);

	return u ? u->objects : 0;
}

size_t vn_quota_scratch(struct vn_ctx *c, uid_t uid)
{
	struct vn_quota_user *u = vn_quota_find(c, uid);

	return u ? u->scratch : 0;
}

void vn_quota_fini(struct vn_ctx *c)
{
	if (!c->quota)
		return;
	free(c->quota->u);
	free(c->quota);
	c->quota = NULL;
}
