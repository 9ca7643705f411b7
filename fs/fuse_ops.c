// SPDX-License-Identifier: MIT
/*
 * The FUSE front: paths to nodes, and the file operations. Generic over
 * kinds: what a directory holds comes from the kind tables.
 *
 * Path shapes:  /                       root
 *               /networks               collection (root)
 *               /networks/N             object
 *               /networks/N/mtu         attribute (or id/status/error/json)
 *               /networks/N/subnets     collection (child)
 *               /networks/N/.tmpXYZ     scratch file (editor temp file)
 *
 * The kernel talks to this file through libfuse's low-level API: inode
 * numbers come from the node table below ("the kernel's inodes"), turned
 * into the paths above for the functions that do the work. A reader of a
 * rendered file reads the value its node was bound to, through the
 * kernel's page cache, so one open sees one whole value (the snapshot of
 * lxcfs's way, shared by every reader of the node); O_RDWR handles read a
 * snapshot rendered at open, direct_io. Writes follow DESIGN.md "How
 * writes behave": a write at offset 0 is applied inside write() so the
 * shell sees the errno; later writes at growing offsets are gathered and
 * applied at flush (close), whose error close() returns; O_APPEND writes
 * add lines.
 *
 * Handles whose target went away: a node whose file or directory (or an
 * ancestor) was removed has no path (NULL below), and a path can name a
 * new object made under the old name since (an object the daemon deleted
 * and made again, a router's leg port). A handle remembers what it was
 * opened on (object id, file name, scratch serial): a write, flush,
 * ftruncate or scratch read through a handle whose object or scratch file
 * is gone -- even if another one has the same name now -- answers ESTALE
 * and changes nothing, as do fstat, fchmod and readdir through it (what
 * libfuse's high-level API answered before); a NULL path anywhere is
 * ESTALE too. A read of a rendered file is served from its node (or the
 * handle's snapshot), whatever happened since; a reader's fstat of it
 * then gives the node's attributes, link count 0.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnetfs/model.h"
#include "fs/fuse_ops.h"
#include "fs/internal.h"

/* VN_N_ERRLOG: the top-level `errors` file (fs/errlog.c) */
enum vn_node_type { VN_N_ROOT, VN_N_COLL, VN_N_OBJ, VN_N_FILE, VN_N_SCRATCH, VN_N_ERRLOG };

#define VN_ERRLOG_FILE "errors"

struct vn_node {
	enum vn_node_type type;
	struct vn_coll *coll;	    /* VN_N_COLL */
	struct vn_obj *obj;	    /* VN_N_OBJ, VN_N_FILE, VN_N_SCRATCH; owner for child COLL */
	const struct vn_attr *attr; /* VN_N_FILE: NULL for a common file */
	const char *name;	    /* VN_N_FILE: file name */
	struct vn_scratch *scratch;
};

/* An open file. */
struct vn_fh {
	struct vn_ctx *ctx;
	struct vn_fh *prev, *next; /* in ctx->open_fhs */
	/* What it was opened on; checked before every use. */
	enum vn_node_type type;	   /* VN_N_FILE or VN_N_SCRATCH */
	char id[37];		   /* the object's id */
	const char *name;	   /* VN_N_FILE: the file (static table text) */
	unsigned long long serial; /* VN_N_SCRATCH */
	struct vn_buf rd;	   /* the snapshot reads come from */
	struct vn_buf wr;	   /* what this handle wrote */
	bool append;		   /* O_APPEND: every write adds lines */
	bool trunc;		   /* opened with O_TRUNC and nothing written yet */
	bool wrote;		   /* a write happened */
	bool pending;		   /* wr holds a value not applied yet */
	bool failed;		   /* a write failed: the rest of the value is void */
	int list_err;		   /* a list value failed: what close() returns */
	uint64_t owner;		   /* lock owner (file table) of the last list write */
	/* The value before this handle's first write, put back if a value
	 * that came in pieces turns out bad (a partial value never stays). */
	struct json_object *saved;
	bool saved_set;
	/* rd's bytes, charged to held_uid (vn_marks_held.hbytes) */
	size_t held;
	uid_t held_uid;
	/* made by create over an attribute (marks): a failed value puts back
	 * the one from before the unlink */
	bool replace;
	/* the node it is open on (it counts in nopen); page: a reader of a
	 * rendered file, served from the node's bound value through the
	 * kernel's page cache */
	struct vn_inode *node;
	bool page;
	/* opened for writing by open_pid, nothing written or truncated yet:
	 * the SETATTR of an O_TRUNC open is its own (see vn_ll_setattr) */
	pid_t open_pid;
	bool fresh;
	/* the notifier's entry pass its writes left (vn_cache_wait): flush
	 * waits for it, so close() returns with the kernel's names fresh */
	unsigned long long inval_seq;
};

/* Who asked, and about what: set from the request by each low-level
 * operation at the end of this file, read by the functions in between (as
 * they read fuse_get_context() under the high-level API). */
struct vn_inode;
struct vn_caller {
	struct vn_ctx *c;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	/* the kernel holds a lock an entry invalidation may need meanwhile:
	 * a directory's (LOOKUP, READDIR, CREATE, MKDIR, UNLINK, RMDIR,
	 * RENAME), or the file's (WRITE, SETATTR: an UNLINK of it holds the
	 * directory and waits for the file) */
	bool locked;
	struct vn_inode *node; /* the node an OPEN or CREATE is on */
};

static __thread struct vn_caller vn_tl_caller;

static const struct vn_caller *vn_caller(void)
{
	return &vn_tl_caller;
}

static struct vn_ctx *vn_fctx(void)
{
	return vn_caller()->c;
}

static bool vn_may_modify(const struct vn_obj *o)
{
	uid_t uid = vn_caller()->uid;

	return uid == 0 || !o || uid == o->uid;
}

/* A refusal with no object's error to hold it: its sentence goes to the
 * top-level `errors` file (the caller's own lines) and the log. */
static int __attribute__((format(printf, 4, 5)))
vn_refused(struct vn_ctx *c, const char *path, int code, const char *fmt, ...)
{
	struct vn_err err = {0};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
	va_end(ap);
	vn_fail(&err, code, "%s", err.msg); /* escaped */
	vn_log(VN_LOG_INFO, code, "%s: %s", path ? path : "?", err.msg);
	vn_errlog_add(c, vn_caller()->uid, path, code, err.msg);
	return code;
}

/* Not the object's owner (nor root): EACCES, told in `errors`. */
static int vn_refused_owner(struct vn_ctx *c, const char *path, const struct vn_obj *o)
{
	return vn_refused(c, path, -EACCES, "only its owner (uid %u) or root may change %s '%s'",
			  (unsigned)o->uid, o->kind->type, o->name);
}

/* ---- the kernel's inodes ----
 *
 * The FUSE low-level API: the kernel names what it looked up by the inode
 * numbers the daemon gave in its replies, and the daemon tells it exactly
 * which inodes and names a change made stale. A node (struct vn_inode) is
 * one name the kernel holds: its parent, its name, the lookups the kernel
 * holds (FORGET drops them) and, for a rendered file (an attribute, id,
 * status, error, json), the content it was bound to when first used.
 *
 * That binding never changes. Its length is the size LOOKUP, GETATTR and
 * SETATTR report, and its bytes are what READ serves, so the kernel keeps
 * the file's pages (keep_cache) and a reader always gets one whole value
 * with its own size, whatever changes meanwhile. A change of the value
 * does not touch the node: the notifier drops the kernel's name for it
 * (an entry invalidation), and the next LOOKUP, finding a value that is
 * not the node's, makes a new node under the name. A handle open on the
 * old node reads the old value to its end, as the per-handle snapshot did
 * before (docs/design-notes.md "Pages").
 *
 * Numbers are never reused (64 bits), so no generation is needed. A node
 * lives while the kernel holds a lookup of it, a child of it, or a handle
 * on it. libfuse's high-level API keeps the same table (by paths); this
 * one is written here because the high-level API gives no way to name an
 * inode in a notification or to keep a size and its pages together.
 */
struct vn_inode {
	fuse_ino_t ino;
	struct vn_inode *parent; /* NULL: the root */
	char *name;		 /* "" for the root */
	uint64_t nlookup;	 /* the kernel's lookups */
	unsigned nchild;	 /* nodes whose parent this is */
	unsigned nopen;		 /* handles on it */
	unsigned char type;	 /* enum vn_node_type when last looked up */
	bool hashed;		 /* (parent, name) finds it */
	bool removed;		 /* unlinked, removed or renamed over: no path */
	bool bound;		 /* content is its value for good */
	bool listed;		 /* a directory whose listing the kernel may cache */
	struct vn_buf content;
	struct stat st;				      /* a bound node's attributes, as last told */
	struct vn_inode *ino_next, *name_next;	      /* hash chains */
	struct vn_inode *child, *sib_prev, *sib_next; /* its children */
};

struct vn_itable {
	pthread_mutex_t mu;
	struct vn_inode **by_ino, **by_name;
	size_t nbuckets, n;
	fuse_ino_t next_ino;
	struct vn_inode root;
};

static size_t vn_ino_bucket(const struct vn_itable *it, fuse_ino_t ino)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ULL) >> 17) & (it->nbuckets - 1);
}

static size_t vn_name_bucket(const struct vn_itable *it, fuse_ino_t parent, const char *name)
{
	uint64_t h = 14695981039346656037ULL ^ (parent * 0x9E3779B97F4A7C15ULL);

	for (; *name; name++) {
		h ^= (unsigned char)*name;
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 31)) & (it->nbuckets - 1);
}

static int vn_it_init(struct vn_itable *it)
{
	memset(it, 0, sizeof(*it));
	pthread_mutex_init(&it->mu, NULL);
	it->nbuckets = 1024;
	it->by_ino = calloc(it->nbuckets, sizeof(*it->by_ino));
	it->by_name = calloc(it->nbuckets, sizeof(*it->by_name));
	if (!it->by_ino || !it->by_name)
		return -ENOMEM;
	it->next_ino = FUSE_ROOT_ID + 1;
	it->root.ino = FUSE_ROOT_ID;
	it->root.name = (char *)"";
	it->root.hashed = true;
	it->root.type = VN_N_ROOT;
	it->by_ino[vn_ino_bucket(it, FUSE_ROOT_ID)] = &it->root;
	it->n = 1;
	return 0;
}

static void vn_it_fini(struct vn_itable *it)
{
	for (size_t i = 0; it->by_ino && i < it->nbuckets; i++)
		for (struct vn_inode *x = it->by_ino[i], *nx; x; x = nx) {
			nx = x->ino_next;
			if (x == &it->root)
				continue;
			vn_buf_free(&x->content);
			free(x->name);
			free(x);
		}
	free(it->by_ino);
	free(it->by_name);
	pthread_mutex_destroy(&it->mu);
}

/* The node of a number the kernel gave back (it->mu held). */
static struct vn_inode *vn_it_get(struct vn_itable *it, fuse_ino_t ino)
{
	for (struct vn_inode *x = it->by_ino[vn_ino_bucket(it, ino)]; x; x = x->ino_next)
		if (x->ino == ino)
			return x;
	return NULL;
}

/* The node the name stands for now (it->mu held). */
static struct vn_inode *vn_it_find(struct vn_itable *it, const struct vn_inode *parent,
				   const char *name)
{
	for (struct vn_inode *x = it->by_name[vn_name_bucket(it, parent->ino, name)]; x;
	     x = x->name_next)
		if (x->parent == parent && !strcmp(x->name, name))
			return x;
	return NULL;
}

static void vn_it_unhash(struct vn_itable *it, struct vn_inode *x)
{
	struct vn_inode **p;

	if (!x->hashed || x == &it->root)
		return;
	for (p = &it->by_name[vn_name_bucket(it, x->parent->ino, x->name)]; *p;
	     p = &(*p)->name_next)
		if (*p == x) {
			*p = x->name_next;
			break;
		}
	x->name_next = NULL;
	x->hashed = false;
}

static void vn_it_hash(struct vn_itable *it, struct vn_inode *x)
{
	size_t b = vn_name_bucket(it, x->parent->ino, x->name);

	x->name_next = it->by_name[b];
	it->by_name[b] = x;
	x->hashed = true;
}

/* Twice the buckets, every node hashed again (it->mu held); without
 * memory the chains only grow longer. */
static void vn_it_grow(struct vn_itable *it)
{
	size_t nb = it->nbuckets * 2, old = it->nbuckets;
	struct vn_inode **bi = calloc(nb, sizeof(*bi)), **bn = calloc(nb, sizeof(*bn));
	struct vn_inode **oi = it->by_ino;

	if (!bi || !bn) {
		free(bi);
		free(bn);
		return;
	}
	free(it->by_name);
	it->by_ino = bi;
	it->by_name = bn;
	it->nbuckets = nb;
	for (size_t i = 0; i < old; i++)
		for (struct vn_inode *x = oi[i], *nx; x; x = nx) {
			size_t b = vn_ino_bucket(it, x->ino);

			nx = x->ino_next;
			x->ino_next = bi[b];
			bi[b] = x;
			if (x->hashed && x != &it->root)
				vn_it_hash(it, x);
		}
	free(oi);
}

/* A new node for parent/name, which it stands for from now on (an older
 * node of the name keeps its number for the kernel's handles). */
static struct vn_inode *vn_it_add(struct vn_itable *it, struct vn_inode *parent, const char *name)
{
	struct vn_inode *x = calloc(1, sizeof(*x)), *old;
	size_t b;

	if (!x || !(x->name = strdup(name))) {
		free(x);
		return NULL;
	}
	if (it->n >= it->nbuckets)
		vn_it_grow(it);
	old = vn_it_find(it, parent, name);
	if (old)
		vn_it_unhash(it, old);
	x->ino = it->next_ino++;
	x->parent = parent;
	parent->nchild++;
	x->sib_next = parent->child;
	if (parent->child)
		parent->child->sib_prev = x;
	parent->child = x;
	b = vn_ino_bucket(it, x->ino);
	x->ino_next = it->by_ino[b];
	it->by_ino[b] = x;
	vn_it_hash(it, x);
	it->n++;
	return x;
}

/* Free x if nothing holds it any more, then its parent the same way. */
static void vn_it_maybe_free(struct vn_itable *it, struct vn_inode *x)
{
	while (x && x != &it->root && !x->nlookup && !x->nchild && !x->nopen) {
		struct vn_inode *p = x->parent, **pp;

		vn_it_unhash(it, x);
		for (pp = &it->by_ino[vn_ino_bucket(it, x->ino)]; *pp; pp = &(*pp)->ino_next)
			if (*pp == x) {
				*pp = x->ino_next;
				break;
			}
		if (x->sib_prev)
			x->sib_prev->sib_next = x->sib_next;
		else
			p->child = x->sib_next;
		if (x->sib_next)
			x->sib_next->sib_prev = x->sib_prev;
		p->nchild--;
		it->n--;
		vn_buf_free(&x->content);
		free(x->name);
		free(x);
		x = p;
	}
}

static void vn_it_forget(struct vn_itable *it, fuse_ino_t ino, uint64_t n)
{
	struct vn_inode *x = vn_it_get(it, ino);

	if (!x || x == &it->root)
		return;
	x->nlookup -= n < x->nlookup ? n : x->nlookup;
	vn_it_maybe_free(it, x);
}

/* The node's path, "/networks/N/mtu" (it->mu held): -ESTALE when it or a
 * directory above it was removed (see "Handles whose target went away"). */
static int vn_it_path(const struct vn_inode *x, char *out, size_t size)
{
	const struct vn_inode *v[64];
	size_t n = 0, len = 0;

	for (; x && x->parent; x = x->parent) {
		if (x->removed || n == 64)
			return -ESTALE;
		v[n++] = x;
	}
	if (size < 2)
		return -ENAMETOOLONG;
	out[0] = '/';
	out[1] = '\0';
	while (n-- > 0) {
		size_t l = strlen(v[n]->name);

		if (len + 1 + l + 1 > size)
			return -ENAMETOOLONG;
		out[len++] = '/';
		memcpy(out + len, v[n]->name, l + 1);
		len += l;
	}
	return 0;
}

/* ---- the kernel's caches and their invalidation ----
 *
 * Entries and attributes are cached by the kernel with long timeouts
 * (VN_TIMEOUT), and rendered files' pages for good (see above). The model
 * reports every file a change alters through c->on_change (vn_changed),
 * called with the model lock held exclusive: vn_cache_note only notes the
 * object's path there. What the kernel holds of it (nothing, for what it
 * never looked up) is then made stale:
 *  - inode invalidations (attributes, kept listings) of the object's
 *    directory, its child collections, its scratch files, and of the
 *    collection holding it when the object comes or goes: these
 *    wait for no lock a request holds (no rendered file is among them, and
 *    a READ of a rendered file takes only the node table's mutex);
 *  - entry invalidations of the object's rendered files (and of the
 *    object's own name once it is gone): one takes the directory's
 *    i_rwsem, which a CREATE, UNLINK, RENAME, MKDIR, RMDIR, LOOKUP or
 *    READDIR in flight holds until it returns.
 * A request that made a change does both itself, after dropping the model
 * lock and before it replies (vn_unlock), so a reader that starts after
 * it returned sees the new value -- except the entry pass of a request
 * for which the kernel holds a lock that pass may need (vn_caller's
 * locked: a directory's, or the file's for a WRITE or SETATTR, since an
 * UNLINK holds the directory and waits for the file): the notifier thread
 * does that one at once instead, and a FLUSH waits for its handle's
 * (vn_cache_wait), so close() returns with the names fresh. Changes made
 * off requests (jobs) go to the notifier thread too.
 */
#define VN_TIMEOUT 3600.0

/* the longest path the daemon builds (PATH_MAX and a name) */
#define VN_PATH_MAX 4352

/* One object (kind set) or one file whose files changed. */
struct vn_inval {
	char *path;		    /* the object's directory (or "/") */
	const struct vn_kind *kind; /* NULL: one path alone */
};

struct vn_batch {
	struct vn_batch *next;
	struct vn_inval *q;
	size_t n;
	unsigned pass;		/* passes done */
	struct timespec due;	/* of the next one */
	unsigned long long seq; /* a first pass the notifier owes: its number */
	bool inodes_done;	/* that first pass: the request did its inode part */
};

struct vn_fuse_cache {
	pthread_mutex_t mu;
	pthread_cond_t more;
	/* changes for the notifier thread */
	struct vn_inval *q;
	size_t n, cap;
	/* batches waiting for their first, second (50 ms on) and third (1 s
	 * on) pass, each in due order */
	struct vn_batch *fifo[3], **tail[3];
	/* first passes owed by the notifier: numbered, and done up to */
	unsigned long long seq, seq_done;
	pthread_cond_t done_cv;
	bool running, stop;
	pthread_t th;
	struct fuse_session *se;
	struct vn_itable it;
	/* what tools that replace or remove files did (see "marks") */
	struct vn_marks *marks;
};

struct vn_marks;
static int vn_marks_init(struct vn_fuse_cache *fc);
static void vn_marks_fini(struct vn_fuse_cache *fc);

/* The functions below name the FUSE layer's state (c->fuse_cache, one per
 * context) vn_cache, through a local pointer fc. */
#define vn_cache (*fc)

static void vn_inval_free(struct vn_inval *q, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(q[i].path);
	free(q);
}

static void vn_batch_free(struct vn_batch *b)
{
	vn_inval_free(b->q, b->n);
	free(b);
}

int vn_fuse_state_init(struct vn_ctx *c)
{
	struct vn_fuse_cache *fc = calloc(1, sizeof(*fc));

	if (!fc)
		return -ENOMEM;
	pthread_mutex_init(&fc->mu, NULL);
	pthread_cond_init(&fc->more, NULL);
	pthread_cond_init(&fc->done_cv, NULL);
	for (int k = 0; k < 3; k++)
		fc->tail[k] = &fc->fifo[k];
	c->fuse_cache = fc;
	if (vn_it_init(&fc->it) < 0)
		return -ENOMEM;
	return vn_marks_init(fc);
}

void vn_fuse_state_fini(struct vn_ctx *c)
{
	struct vn_fuse_cache *fc = c->fuse_cache;

	if (!fc)
		return;
	pthread_mutex_destroy(&fc->mu);
	pthread_cond_destroy(&fc->more);
	pthread_cond_destroy(&fc->done_cv);
	vn_marks_fini(fc);
	vn_it_fini(&fc->it);
	vn_inval_free(fc->q, fc->n);
	for (int k = 0; k < 3; k++)
		while (fc->fifo[k]) {
			struct vn_batch *b = fc->fifo[k];

			fc->fifo[k] = b->next;
			vn_batch_free(b);
		}
	free(fc);
	c->fuse_cache = NULL;
}

/* The changes the request this thread serves made, not invalidated yet
 * (on: the request holds the model lock exclusive); seq: the number of
 * the last first pass it left to the notifier (see vn_cache_wait). */
static __thread struct {
	bool on;
	struct vn_inval *q;
	size_t n, cap;
	unsigned long long seq;
} vn_tl_pend;

/* The directory of o, "/networks/N/subnets/S" (o NULL: "/"). */
static int vn_obj_path(const struct vn_obj *o, struct vn_buf *b)
{
	int r;

	if (!o)
		return 0;
	r = vn_obj_path(o->parent, b);
	if (r == 0)
		r = vn_buf_printf(b, "/%s/%s", o->coll->kind->dir, o->name);
	return r;
}

/* Add a change to a list, once (a change sets several values of one
 * object); path is consumed. */
static void vn_inval_add(struct vn_inval **q, size_t *n, size_t *cap, char *path,
			 const struct vn_kind *kind)
{
	for (size_t i = *n, k = 0; i-- > 0 && k < 64; k++)
		if ((*q)[i].kind == kind && !strcmp((*q)[i].path, path)) {
			free(path);
			return;
		}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct vn_inval *nq = realloc(*q, nc * sizeof(*nq));

		if (!nq) {
			free(path); /* the timeouts bound what stays stale */
			return;
		}
		*q = nq;
		*cap = nc;
	}
	(*q)[*n].path = path;
	(*q)[*n].kind = kind;
	(*n)++;
}

static void vn_cache_push(struct vn_ctx *c, char *path, const struct vn_kind *kind)
{
	struct vn_fuse_cache *fc = c->fuse_cache;

	if (!path)
		return;
	if (vn_tl_pend.on) {
		vn_inval_add(&vn_tl_pend.q, &vn_tl_pend.n, &vn_tl_pend.cap, path, kind);
		return;
	}
	pthread_mutex_lock(&vn_cache.mu);
	vn_inval_add(&vn_cache.q, &vn_cache.n, &vn_cache.cap, path, kind);
	pthread_cond_signal(&vn_cache.more);
	pthread_mutex_unlock(&vn_cache.mu);
}

/* c->on_change: any change of o counts as a change of every file of o
 * and of the listing holding it (name is not used to narrow it: a kind's
 * status and derived values follow more than the file named). */
static void vn_cache_note(void *arg, struct vn_obj *o, const char *name)
{
	struct vn_ctx *c = arg;
	struct vn_fuse_cache *fc = c->fuse_cache;
	struct vn_buf b = {0};

	if (!vn_cache.running)
		return;
	if (vn_obj_path(o, &b) < 0 || (!o && vn_buf_puts(&b, "/") < 0)) {
		vn_buf_free(&b);
		return;
	}
	vn_cache_push(c, vn_buf_steal(&b), o ? o->kind : NULL);
	/* its editor temp files go with it when it goes */
	for (struct vn_scratch *s = o ? o->scratch : NULL; s; s = s->next) {
		struct vn_buf sp = {0};

		if (vn_obj_path(o, &sp) == 0 && vn_buf_printf(&sp, "/%s", s->name) == 0)
			vn_cache_push(c, vn_buf_steal(&sp), NULL);
		vn_buf_free(&sp);
	}
}

/* What one pass notifies: inode numbers, then (parent, name) entries. */
struct vn_pass {
	fuse_ino_t *inos;
	size_t ni, capi;
	struct vn_ent {
		fuse_ino_t parent;
		char *name;
	} * ents;
	size_t ne, cape;
};

static void vn_pass_ino(struct vn_pass *ps, fuse_ino_t ino)
{
	/* a batch names a directory many times (its collection): once */
	for (size_t i = ps->ni, k = 0; i-- > 0 && k < 8; k++)
		if (ps->inos[i] == ino)
			return;
	if (ps->ni == ps->capi) {
		size_t cap = ps->capi ? ps->capi * 2 : 32;
		fuse_ino_t *n = realloc(ps->inos, cap * sizeof(*n));

		if (!n)
			return; /* the timeouts bound what stays stale */
		ps->inos = n;
		ps->capi = cap;
	}
	ps->inos[ps->ni++] = ino;
}

static void vn_pass_entry(struct vn_pass *ps, const struct vn_inode *dir, const char *name)
{
	char *nm;

	if (ps->ne == ps->cape) {
		size_t cap = ps->cape ? ps->cape * 2 : 32;
		struct vn_ent *n = realloc(ps->ents, cap * sizeof(*n));

		if (!n)
			return;
		ps->ents = n;
		ps->cape = cap;
	}
	nm = strdup(name);
	if (!nm)
		return;
	ps->ents[ps->ne].parent = dir->ino;
	ps->ents[ps->ne++].name = nm;
}

/* The next component of *path into comp (advancing *path): 1, or 0 at
 * the end, -ENAMETOOLONG for one over 255 bytes. */
static int vn_path_next(const char **path, char comp[256])
{
	const char *p = *path, *end;
	size_t l;

	while (*p == '/')
		p++;
	if (!*p)
		return 0;
	end = strchrnul(p, '/');
	l = (size_t)(end - p);
	if (l >= 256)
		return -ENAMETOOLONG;
	memcpy(comp, p, l);
	comp[l] = '\0';
	*path = end;
	return 1;
}

/* The node of a path the kernel holds, or NULL (it->mu held). */
static struct vn_inode *vn_it_walk(struct vn_itable *it, const char *path)
{
	struct vn_inode *x = &it->root;
	char comp[256];
	int r = 0;

	while (x && (r = vn_path_next(&path, comp)) > 0)
		x = vn_it_find(it, x, comp);
	return r < 0 ? NULL : x;
}

/* What the kernel holds of one change (it->mu held); gone: the object no
 * longer exists. */
static void vn_pass_collect(struct vn_fuse_cache *fc, const struct vn_inval *e, bool gone,
			    struct vn_pass *ps)
{
	struct vn_inode *d = vn_it_walk(&vn_cache.it, e->path), *p;

	if (!d) {
		/* The kernel never looked it up: nothing of it is cached but the
		 * listing of the collection holding it, if that was listed (an
		 * object a job made or removed). */
		const char *slash = strrchr(e->path, '/');
		char up[VN_PATH_MAX];

		if (!e->kind || !slash || (size_t)(slash - e->path) >= sizeof(up))
			return;
		memcpy(up, e->path, (size_t)(slash - e->path));
		up[slash - e->path] = '\0';
		p = vn_it_walk(&vn_cache.it, up);
		if (p && p->listed)
			vn_pass_ino(ps, p->ino);
		return;
	}
	if (!e->kind) {
		/* one file (a scratch file), or the root */
		vn_pass_ino(ps, d->ino);
		if (d->parent && d->type == VN_N_FILE)
			vn_pass_entry(ps, d->parent, d->name);
		return;
	}
	vn_pass_ino(ps, d->ino);
	for (struct vn_inode *x = d->child; x; x = x->sib_next) {
		if (!x->hashed)
			continue;
		if (x->type == VN_N_FILE)
			vn_pass_entry(ps, d, x->name);
		else
			vn_pass_ino(ps, x->ino); /* child collections, scratch files */
	}
	/* The collection holding it lists it no more. (Its attributes are
	 * its owner's, and an object's own change leaves the listing as it
	 * is: kept listings stay.) */
	p = d->parent;
	if (p && gone) {
		vn_pass_ino(ps, p->ino);
		vn_pass_entry(ps, p, d->name);
	}
}

static void vn_pass_free(struct vn_pass *ps)
{
	for (size_t i = 0; i < ps->ne; i++)
		free(ps->ents[i].name);
	free(ps->ents);
	free(ps->inos);
}

static int vn_resolve(struct vn_ctx *c, const char *path, struct vn_node *n);

/* Which objects of a list are gone (model lock held): their names go. */
static bool *vn_inval_gone(struct vn_ctx *c, const struct vn_inval *q, size_t n)
{
	bool *gone = calloc(n ? n : 1, sizeof(*gone));
	struct vn_node nd;

	for (size_t i = 0; gone && i < n; i++)
		gone[i] = q[i].kind && vn_resolve(c, q[i].path, &nd) < 0;
	return gone;
}

/* One pass over a list: the inode invalidations unless !inodes, then the
 * entries unless !entries (gone: from vn_inval_gone; NULL: none is). */
static void vn_inval_run(struct vn_fuse_cache *fc, const struct vn_inval *q, size_t n,
			 const bool *gone, bool inodes, bool entries)
{
	struct vn_pass ps = {0};

	pthread_mutex_lock(&vn_cache.it.mu);
	for (size_t i = 0; i < n; i++)
		vn_pass_collect(fc, &q[i], gone && gone[i], &ps);
	pthread_mutex_unlock(&vn_cache.it.mu);
	for (size_t i = 0; inodes && i < ps.ni; i++) {
		int r = fuse_lowlevel_notify_inval_inode(vn_cache.se, ps.inos[i], 0, 0);

		if (r < 0 && r != -ENOENT && r != -ENOTCONN && r != -EBADF)
			vn_debug("invalidating inode %llu: %s", (unsigned long long)ps.inos[i],
				 strerror(-r));
	}
	for (size_t i = 0; entries && i < ps.ne; i++) {
		int r = fuse_lowlevel_notify_inval_entry(vn_cache.se, ps.ents[i].parent,
							 ps.ents[i].name, strlen(ps.ents[i].name));

		if (r < 0 && r != -ENOENT && r != -ENOTCONN && r != -EBADF)
			vn_debug("invalidating %s: %s", ps.ents[i].name, strerror(-r));
	}
	vn_pass_free(&ps);
}

/* A LOOKUP that rendered before a change and whose reply lands after the
 * change's invalidation made a kernel inode (or name) that invalidation
 * could not find: every list is invalidated again by the notifier, 50 ms
 * and 1 s later (off the requests' path). */
static const long vn_again_ms[] = {0, 50, 1000};

static void vn_batch_due(struct vn_batch *b)
{
	long ms = vn_again_ms[b->pass];

	clock_gettime(CLOCK_REALTIME, &b->due);
	b->due.tv_sec += ms / 1000;
	b->due.tv_nsec += (ms % 1000) * 1000000L;
	if (b->due.tv_nsec >= 1000000000L) {
		b->due.tv_sec++;
		b->due.tv_nsec -= 1000000000L;
	}
}

/* Queue b for its next pass (vn_cache.mu held); done after the third.
 * A first pass gets a number (vn_cache_wait waits for it). */
static void vn_batch_queue(struct vn_fuse_cache *fc, struct vn_batch *b)
{
	unsigned k = b->pass;

	if (k > 2) {
		vn_batch_free(b);
		return;
	}
	if (k == 0)
		b->seq = ++vn_cache.seq;
	vn_batch_due(b);
	b->next = NULL;
	*vn_cache.tail[k] = b;
	vn_cache.tail[k] = &b->next;
}

static bool vn_ts_passed(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static bool vn_ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

/* A batch (its first pass to come) of the changes in *q, which is left
 * empty; NULL without memory (the changes are dropped: the timeouts bound
 * what stays stale). */
static struct vn_batch *vn_batch_take(struct vn_inval **q, size_t *n, size_t *cap)
{
	struct vn_batch *b = calloc(1, sizeof(*b));

	if (!b) {
		vn_inval_free(*q, *n);
	} else {
		b->q = *q;
		b->n = *n;
	}
	*q = NULL;
	*n = *cap = 0;
	return b;
}

static void *vn_cache_thread(void *arg)
{
	struct vn_ctx *c = arg;
	struct vn_fuse_cache *fc = c->fuse_cache;

	pthread_mutex_lock(&vn_cache.mu);
	for (;;) {
		struct vn_batch *b;
		bool *gone;
		int k;

		if (vn_cache.n) {
			/* changes made off requests: a first pass now */
			b = vn_batch_take(&vn_cache.q, &vn_cache.n, &vn_cache.cap);
			if (b)
				vn_batch_queue(fc, b);
			continue;
		}
		/* First passes first: they are due when queued, and a FLUSH may
		 * wait for one (a backlog of later passes after a burst of
		 * changes must not hold it up); then the later pass due first. */
		k = vn_cache.fifo[0] ? 0 : -1;
		for (int i = 1; k != 0 && i < 3; i++)
			if (vn_cache.fifo[i] && (k < 0 || !vn_ts_before(&vn_cache.fifo[k]->due,
									&vn_cache.fifo[i]->due)))
				k = i;
		if (k < 0) {
			if (vn_cache.stop)
				break;
			pthread_cond_wait(&vn_cache.more, &vn_cache.mu);
			continue;
		}
		if (!vn_cache.stop && !vn_ts_passed(&vn_cache.fifo[k]->due)) {
			pthread_cond_timedwait(&vn_cache.more, &vn_cache.mu,
					       &vn_cache.fifo[k]->due);
			continue;
		}
		b = vn_cache.fifo[k];
		vn_cache.fifo[k] = b->next;
		if (!vn_cache.fifo[k])
			vn_cache.tail[k] = &vn_cache.fifo[k];
		if (vn_cache.stop) {
			if (b->seq > vn_cache.seq_done)
				vn_cache.seq_done = b->seq;
			vn_batch_free(b);
			continue;
		}
		pthread_mutex_unlock(&vn_cache.mu);
		pthread_rwlock_rdlock(&c->lock);
		gone = vn_inval_gone(c, b->q, b->n);
		pthread_rwlock_unlock(&c->lock);
		vn_inval_run(fc, b->q, b->n, gone, !b->inodes_done, true);
		b->inodes_done = false;
		free(gone);
		pthread_mutex_lock(&vn_cache.mu);
		if (b->seq > vn_cache.seq_done) {
			vn_cache.seq_done = b->seq;
			pthread_cond_broadcast(&vn_cache.done_cv);
		}
		b->seq = 0;
		b->pass++;
		vn_batch_queue(fc, b);
	}
	vn_cache.seq_done = vn_cache.seq;
	pthread_cond_broadcast(&vn_cache.done_cv);
	pthread_mutex_unlock(&vn_cache.mu);
	return NULL;
}

/* Wait until the notifier did the first passes this thread left it (not
 * with the model lock held; bounded: a stuck kernel can't hang a
 * request). A FLUSH waits for its handle's WRITEs' entry passes so. */
static void vn_cache_wait(struct vn_ctx *c, unsigned long long seq, long ms)
{
	struct vn_fuse_cache *fc = c->fuse_cache;
	struct timespec until;

	if (!seq || !fc)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&vn_cache.mu);
	while (vn_cache.seq_done < seq && !vn_cache.stop)
		if (pthread_cond_timedwait(&vn_cache.done_cv, &vn_cache.mu, &until) == ETIMEDOUT) {
			vn_warn(-ETIMEDOUT, "the kernel's cache invalidation is late");
			break;
		}
	pthread_mutex_unlock(&vn_cache.mu);
}

/* The request's changes (model lock still held exclusive: *gone is
 * computed now): invalidated by this thread once the lock is dropped
 * (vn_cache_flush), then handed to the notifier for the later passes. */
static struct vn_batch *vn_cache_take(struct vn_ctx *c, bool **gone)
{
	struct vn_batch *b;

	*gone = NULL;
	vn_tl_pend.on = false;
	if (!vn_tl_pend.n)
		return NULL;
	b = vn_batch_take(&vn_tl_pend.q, &vn_tl_pend.n, &vn_tl_pend.cap);
	if (b)
		*gone = vn_inval_gone(c, b->q, b->n);
	return b;
}

/* now: this thread does the first pass (the inode part only when the
 * kernel holds a lock for the request, see vn_caller: the notifier does
 * the entry part at once, and vn_tl_pend.seq says when it is done); else
 * the notifier does all of it (the request holds a page lock). */
static void vn_cache_flush(struct vn_ctx *c, struct vn_batch *b, bool *gone, bool now)
{
	struct vn_fuse_cache *fc = c->fuse_cache;
	bool locked = vn_caller()->locked;

	if (!b)
		return;
	if (now && vn_cache.running)
		vn_inval_run(fc, b->q, b->n, gone, true, !locked);
	free(gone);
	/* the next pass: 50 ms on, or at once for what this thread left */
	b->pass = now && !locked ? 1 : 0;
	b->inodes_done = now && locked && vn_cache.running;
	pthread_mutex_lock(&vn_cache.mu);
	if (vn_cache.stop) {
		vn_batch_free(b);
	} else {
		vn_batch_queue(fc, b);
		if (b->pass == 0)
			vn_tl_pend.seq = b->seq;
	}
	pthread_cond_signal(&vn_cache.more);
	pthread_mutex_unlock(&vn_cache.mu);
}

static void vn_cache_start(struct vn_ctx *c)
{
	struct vn_fuse_cache *fc = c->fuse_cache;

	if (!fc || !vn_cache.se)
		return; /* no state: nothing is cached (attributes expire) */
	vn_cache.stop = false;
	if (pthread_create(&vn_cache.th, NULL, vn_cache_thread, c) != 0) {
		vn_err(-EAGAIN, "cannot start the cache notifier: caching nothing");
		return;
	}
	vn_cache.running = true;
	c->on_change_arg = c;
	c->on_change = vn_cache_note;
}

static void vn_cache_stop(struct vn_ctx *c)
{
	struct vn_fuse_cache *fc = c->fuse_cache;

	if (!fc || !vn_cache.running)
		return;
	pthread_rwlock_wrlock(&c->lock);
	c->on_change = NULL;
	vn_cache.running = false;
	pthread_rwlock_unlock(&c->lock);
	pthread_mutex_lock(&vn_cache.mu);
	vn_cache.stop = true;
	pthread_cond_signal(&vn_cache.more);
	pthread_mutex_unlock(&vn_cache.mu);
	pthread_join(vn_cache.th, NULL);
}

/* ---- path resolution (model lock held) ---- */

static struct vn_coll *vn_find_root_dir(struct vn_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->nroots; i++)
		if (!strcmp(c->roots[i].kind->dir, name))
			return &c->roots[i];
	return NULL;
}

static int vn_step(struct vn_ctx *c, struct vn_node *n, const char *comp)
{
	struct vn_obj *o;

	switch (n->type) {
	case VN_N_ROOT:
		if (!strcmp(comp, VN_ERRLOG_FILE)) {
			n->type = VN_N_ERRLOG;
			return 0;
		}
		n->coll = vn_find_root_dir(c, comp);
		if (!n->coll)
			return -ENOENT;
		n->type = VN_N_COLL;
		return 0;
	case VN_N_COLL:
		o = vn_coll_find(n->coll, comp);
		if (!o)
			return -ENOENT;
		n->type = VN_N_OBJ;
		n->obj = o;
		return 0;
	case VN_N_OBJ:
		o = n->obj;
		for (size_t i = 0; i < o->ncolls; i++) {
			if (!strcmp(o->colls[i].kind->dir, comp)) {
				n->type = VN_N_COLL;
				n->coll = &o->colls[i];
				return 0;
			}
		}
		/* n->name must outlive comp, which is on the caller's stack */
		n->attr = vn_attr_find(o->kind, comp);
		n->name = n->attr ? n->attr->name : vn_common_file(comp);
		if (n->name) {
			n->type = VN_N_FILE;
			return 0;
		}
		n->scratch = vn_scratch_find(o, comp);
		if (n->scratch) {
			n->type = VN_N_SCRATCH;
			return 0;
		}
		return -ENOENT;
	default:
		return -ENOTDIR;
	}
}

static int vn_resolve(struct vn_ctx *c, const char *path, struct vn_node *n)
{
	char comp[256];
	int r;

	memset(n, 0, sizeof(*n));
	n->type = VN_N_ROOT;
	if (!path)
		return -ESTALE; /* the node was removed (see the top) */
	while ((r = vn_path_next(&path, comp)) > 0) {
		r = vn_step(c, n, comp);
		if (r < 0)
			return r;
	}
	return r;
}

/* Resolve the directory holding path; *last points into path. */
static int vn_resolve_parent(struct vn_ctx *c, const char *path, struct vn_node *n,
			     const char **last)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	size_t l;

	if (!slash || !slash[1])
		return -EINVAL;
	l = (size_t)(slash - path);
	if (l >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, l);
	dir[l] = '\0';
	*last = slash + 1;
	return vn_resolve(c, dir, n);
}

/* ---- marks: what a process did that changes what it sees ----
 *
 * Tools that replace a file (install, mv from another file system,
 * cp --remove-destination, tar -x) unlink it, then create it with
 * O_CREAT|O_EXCL. The kernel answers EEXIST itself when its LOOKUP finds
 * the name, so the create never reaches the daemon: after such an unlink
 * the name must look absent -- to the process that unlinked it (FUSE
 * gives each request the caller's pid), for VN_MARK_MS at most. A mark
 * says so:
 *  - UNLINKED (object, file, pid): the file looks absent to pid until
 *    pid creates it again (a whole-value write of the attribute). A
 *    writable attribute was reset at the unlink (lone `rm attr` keeps
 *    its documented meaning) and the mark keeps its value from before,
 *    put back if what pid then writes fails, or if pid's rmdir of the
 *    object (or of a descendant: rm -r then leaves the object) fails.
 *  - LISTED (object, pid): pid read the directory. Unlinking a file that
 *    cannot be reset (id, status, error, json, read-only attributes, a
 *    managed port's files) is EPERM, except from a process that listed
 *    the directory first (rm -r, find -delete): there it is a step of
 *    removing the directory, and the file only looks absent to it.
 *  - FRESH (object, pid): pid made the object by mkdir. Its writable
 *    attributes look absent to pid until pid creates them (cp -r opens
 *    every file of a directory it made with O_EXCL) -- only while pid
 *    also holds a SOURCE mark for the object's kind: a program that makes
 *    an object and then opens its attributes without O_CREAT (python's
 *    os.open(O_WRONLY), open(p) to read) must find them. Not its child
 *    collections: `mkdir N N/subnets/S` must work.
 *  - SOURCE (kind, pid): pid listed an object of that kind that it did
 *    not just make (cp -r reads the directory it copies from).
 *  - CREATED (object, file, pid): pid created the file so. Its chmod of
 *    it (install and cp set the mode of what they made, through the
 *    descriptor: FUSE does not say which) succeeds, kept nowhere.
 * Marks expire after VN_MARK_MS; a hash finds one, a list in the order
 * they were made drops the expired ones.
 */
#define VN_MARK_MS 10000

enum vn_mark_type {
	VN_MARK_UNLINKED = 'u',
	VN_MARK_LISTED = 'l',
	VN_MARK_FRESH = 'f',
	VN_MARK_CREATED = 'c',
	VN_MARK_SOURCE = 's',
};

/* The id a SOURCE mark is kept under: the kind's type, padded. */
static void vn_source_key(char id[37], const struct vn_kind *k)
{
	memset(id, 0, 37);
	snprintf(id, 37, "kind:%s", k->type);
}

struct vn_mark {
	struct vn_mark *next; /* in the order they were made */
	char key[128];
	enum vn_mark_type type;
	pid_t pid;
	uid_t uid; /* the caller's: a pid is reused, by anyone */
	char id[37];
	const char *name; /* UNLINKED: the file (static table text) */
	struct timespec when;
	struct json_object *saved; /* UNLINKED: the value before its reset */
	size_t held;		   /* saved's bytes, charged to uid (vn_marks_held) */
	bool reset;		   /* UNLINKED: a writable attribute was reset */
	uint64_t made;		   /* FRESH: attributes (bit = index) made since */
};

/* What the values marks keep hold, per uid (root's are not counted):
 * at most --max-scratch-per-user each, beside the scratch files. */
struct vn_marks_held {
	struct vn_marks_held *next;
	uid_t uid;
	size_t bytes;  /* the values its marks keep */
	size_t hbytes; /* the snapshots its open handles read from */
};

struct vn_marks {
	pthread_mutex_t mu;
	struct lh_table *by_key;
	struct vn_mark *head, *tail;
	struct vn_marks_held *held;
};

static int vn_marks_init(struct vn_fuse_cache *fc)
{
	fc->marks = calloc(1, sizeof(*fc->marks));
	if (!fc->marks)
		return -ENOMEM;
	pthread_mutex_init(&fc->marks->mu, NULL);
	fc->marks->by_key = lh_kchar_table_new(64, NULL);
	return fc->marks->by_key ? 0 : -ENOMEM;
}

static struct vn_marks_held *vn_marks_held(struct vn_marks *ms, uid_t uid, bool make)
{
	struct vn_marks_held *h;

	for (h = ms->held; h; h = h->next)
		if (h->uid == uid)
			return h;
	if (!make || !(h = calloc(1, sizeof(*h))))
		return NULL;
	h->uid = uid;
	h->next = ms->held;
	ms->held = h;
	return h;
}

/* The mark no longer keeps its value: its bytes are its uid's again
 * (ms->mu held). */
static void vn_mark_release(struct vn_marks *ms, struct vn_mark *m)
{
	struct vn_marks_held *h = m->held ? vn_marks_held(ms, m->uid, false) : NULL;

	if (h)
		h->bytes -= m->held > h->bytes ? h->bytes : m->held;
	m->held = 0;
}

/* About what a kept value takes in memory (json-c objects included). */
static size_t vn_saved_size(struct json_object *v)
{
	size_t n = 64;

	if (json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++)
			n += vn_saved_size(json_object_array_get_idx(v, i));
	else if (json_object_is_type(v, json_type_string))
		n += (size_t)json_object_get_string_len(v);
	return n;
}

static void vn_mark_free(struct vn_marks *ms, struct vn_mark *m)
{
	vn_mark_release(ms, m);
	json_object_put(m->saved);
	free(m);
}

static void vn_marks_fini(struct vn_fuse_cache *fc)
{
	struct vn_marks *ms = fc->marks;

	if (!ms)
		return;
	while (ms->head) {
		struct vn_mark *m = ms->head;

		ms->head = m->next;
		vn_mark_free(ms, m);
	}
	while (ms->held) {
		struct vn_marks_held *h = ms->held;

		ms->held = h->next;
		free(h);
	}
	if (ms->by_key)
		lh_table_free(ms->by_key);
	pthread_mutex_destroy(&ms->mu);
	free(ms);
	fc->marks = NULL;
}

static struct vn_marks *vn_marks(struct vn_ctx *c)
{
	return c->fuse_cache ? c->fuse_cache->marks : NULL;
}

/* A mark is the caller's: its pid and its uid (pid_max is often 32,768,
 * so another user's process can have the pid of root's rm within 10 s;
 * marks are only made and looked up in requests, where the uid is known). */
static void vn_mark_key(char *key, enum vn_mark_type t, pid_t pid, const char *id, const char *name)
{
	snprintf(key, 128, "%c/%d/%u/%s/%s", (char)t, (int)pid, (unsigned)vn_caller()->uid, id,
		 name ? name : "");
}

static bool vn_mark_expired(const struct vn_mark *m, const struct timespec *now)
{
	long long ms = (now->tv_sec - m->when.tv_sec) * 1000LL +
		       (now->tv_nsec - m->when.tv_nsec) / 1000000;

	return ms > VN_MARK_MS;
}

/* Drop what expired (ms->mu held); a mark taken off the hash (name
 * NULL'd key) is freed here too. */
static void vn_marks_prune(struct vn_marks *ms)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	while (ms->head && vn_mark_expired(ms->head, &now)) {
		struct vn_mark *m = ms->head;
		void *v = NULL;

		ms->head = m->next;
		if (!ms->head)
			ms->tail = NULL;
		if (lh_table_lookup_ex(ms->by_key, m->key, &v) && v == m)
			lh_table_delete(ms->by_key, m->key);
		vn_mark_free(ms, m);
	}
}

/* The live mark, or NULL (ms->mu held). */
static struct vn_mark *vn_mark_get(struct vn_marks *ms, enum vn_mark_type t, pid_t pid,
				   const char *id, const char *name)
{
	char key[128];
	struct timespec now;
	void *v = NULL;

	vn_mark_key(key, t, pid, id, name);
	if (!lh_table_lookup_ex(ms->by_key, key, &v))
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return vn_mark_expired(v, &now) ? NULL : v;
}

/* Add (or renew) a mark; saved is consumed. Returns it, NULL without
 * memory (ms->mu held). */
static struct vn_mark *vn_mark_put(struct vn_marks *ms, enum vn_mark_type t, pid_t pid,
				   const char *id, const char *name, struct json_object *saved)
{
	struct vn_mark *m = calloc(1, sizeof(*m));
	void *v = NULL;

	vn_marks_prune(ms);
	if (!m) {
		json_object_put(saved);
		return NULL;
	}
	vn_mark_key(m->key, t, pid, id, name);
	m->type = t;
	m->pid = pid;
	m->uid = vn_caller()->uid;
	memcpy(m->id, id, sizeof(m->id));
	m->name = name;
	m->saved = saved;
	clock_gettime(CLOCK_MONOTONIC, &m->when);
	/* an older one of the same key stays in the list until it expires,
	 * out of the hash, and without its value (nothing finds it again) */
	if (lh_table_lookup_ex(ms->by_key, m->key, &v)) {
		struct vn_mark *old = v;

		lh_table_delete(ms->by_key, m->key);
		vn_mark_release(ms, old);
		json_object_put(old->saved);
		old->saved = NULL;
		old->reset = false;
	}
	lh_table_insert(ms->by_key, m->key, m);
	if (ms->tail)
		ms->tail->next = m;
	else
		ms->head = m;
	ms->tail = m;
	return m;
}

/* Take a mark out of the hash (it is freed when it expires). */
static void vn_mark_drop(struct vn_marks *ms, struct vn_mark *m)
{
	lh_table_delete(ms->by_key, m->key);
	vn_mark_release(ms, m);
	json_object_put(m->saved);
	m->saved = NULL;
	m->reset = false;
}

static pid_t vn_caller_pid(void)
{
	return vn_caller()->pid;
}

static bool vn_attr_resettable(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a)
{
	struct vn_err e = {0};

	if (!a || !(a->mode & 0222))
		return false;
	return !o->kind->writable || o->kind->writable(c, o, a, &e) == 0;
}

/* Does the node look absent to the caller (see "marks")? */
static bool vn_node_hidden(struct vn_ctx *c, const struct vn_node *n)
{
	struct vn_marks *ms = vn_marks(c);
	pid_t pid = vn_caller_pid();
	struct vn_mark *m;
	bool hidden = false;

	if (!ms || n->type != VN_N_FILE)
		return false;
	pthread_mutex_lock(&ms->mu);
	if (n->type == VN_N_FILE) {
		hidden = vn_mark_get(ms, VN_MARK_UNLINKED, pid, n->obj->id, n->name) != NULL;
		if (!hidden && n->attr && (n->attr->mode & 0222) &&
		    (m = vn_mark_get(ms, VN_MARK_FRESH, pid, n->obj->id, NULL))) {
			char src[37];

			vn_source_key(src, n->obj->kind);
			hidden = !(m->made & (1ULL << ((n->attr - n->obj->kind->attrs) & 63))) &&
				 vn_mark_get(ms, VN_MARK_SOURCE, pid, src, NULL);
		}
	}
	pthread_mutex_unlock(&ms->mu);
	return hidden;
}

static bool vn_obj_within(const struct vn_obj *o, const struct vn_obj *top)
{
	for (; o; o = o->parent)
		if (o == top)
			return true;
	return false;
}

/* The caller's removal of `at` failed (an rmdir, or an unlink in it): put
 * back every attribute it reset by unlinking on the way, in at's subtree
 * and in at's ancestors, which rm -r then leaves. Newest first. */
static void vn_marks_restore(struct vn_ctx *c, struct vn_obj *at)
{
	struct vn_marks *ms = vn_marks(c);
	pid_t pid = vn_caller_pid();
	struct vn_mark **v = NULL;
	size_t n = 0, cap = 0;

	if (!ms)
		return;
	pthread_mutex_lock(&ms->mu);
	for (struct vn_mark *m = ms->head; m; m = m->next) {
		struct vn_obj *o;
		void *cur = NULL;

		if (m->type != VN_MARK_UNLINKED || m->pid != pid || m->uid != vn_caller()->uid ||
		    !m->reset || !lh_table_lookup_ex(ms->by_key, m->key, &cur) || cur != m)
			continue;
		o = vn_find_id(c, m->id);
		if (!o || !(vn_obj_within(o, at) || vn_obj_within(at, o)))
			continue;
		if (n == cap) {
			struct vn_mark **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*nv));

			if (!nv)
				break;
			v = nv;
		}
		v[n++] = m;
	}
	while (n-- > 0) {
		struct vn_mark *m = v[n];
		struct vn_obj *o = vn_find_id(c, m->id);
		const struct vn_attr *a = o ? vn_attr_find(o->kind, m->name) : NULL;
		struct vn_err err = {0};

		if (a && vn_attr_restore(c, o, a, m->saved, &err) < 0)
			vn_obj_set_error(o, &err);
		vn_mark_drop(ms, m);
	}
	pthread_mutex_unlock(&ms->mu);
	free(v);
}

/* ---- locking helpers ---- */

static void vn_rdlock(struct vn_ctx *c)
{
	pthread_rwlock_rdlock(&c->lock);
}

static void vn_wrlock(struct vn_ctx *c)
{
	pthread_rwlock_wrlock(&c->lock);
	c->caller_uid = vn_caller()->uid;
	vn_tl_pend.on = true; /* what it changes, this thread invalidates */
}

/* Unlock, then invalidate what the change altered in the kernel's caches
 * before the request replies (see "the kernel's caches"). */
static void vn_unlock(struct vn_ctx *c)
{
	bool *gone;
	struct vn_batch *b = vn_cache_take(c, &gone);

	vn_errlog_request_end();
	pthread_rwlock_unlock(&c->lock);
	vn_cache_flush(c, b, gone, true);
}

/* Unlock, the invalidations left to the notifier: the request holds a
 * page lock of a file they may reach (a scratch WRITE, a READ). */
static void vn_unlock_nowait(struct vn_ctx *c)
{
	bool *gone;
	struct vn_batch *b = vn_cache_take(c, &gone);

	vn_errlog_request_end();
	pthread_rwlock_unlock(&c->lock);
	vn_cache_flush(c, b, gone, false);
}

/* ---- attributes of nodes ---- */

/* The mode a file really has: an attribute its kind refuses to let
 * anyone write (a port a router manages) is read-only. */
static mode_t vn_file_mode(struct vn_ctx *c, const struct vn_node *n)
{
	struct vn_err e = {0};

	if (!n->attr)
		return 0444;
	if ((n->attr->mode & 0222) && n->obj->kind->writable &&
	    n->obj->kind->writable(c, n->obj, n->attr, &e) < 0)
		return n->attr->mode & ~0222;
	return n->attr->mode;
}

/* A rendered file's size is *size when given (its node's bound value);
 * else it is rendered, into keep when given (for the caller to bind). */
static int vn_node_stat(struct vn_ctx *c, struct vn_node *n, struct stat *st, const size_t *size,
			struct vn_buf *keep)
{
	struct vn_obj *o = n->obj;

	memset(st, 0, sizeof(*st));
	st->st_atim = st->st_mtim = st->st_ctim = c->start;
	st->st_nlink = 1;
	switch (n->type) {
	case VN_N_ROOT:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2 + c->nroots;
		return 0;
	case VN_N_COLL:
		o = n->coll->owner;
		/* Anyone may mkdir at the top; only the owner removes (sticky,
		 * like /tmp). Below an object, its owner's. */
		st->st_mode = S_IFDIR | (o ? 0755 : 01777);
		st->st_nlink = 2;
		if (o) {
			st->st_uid = o->uid;
			st->st_gid = o->gid;
			st->st_mtim = st->st_ctim = o->mtime;
		}
		return 0;
	case VN_N_OBJ:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2 + o->ncolls;
		break;
	case VN_N_FILE: {
		_cleanup_buf_ struct vn_buf b = {0};
		size_t len;

		if (size) {
			len = *size;
		} else {
			int r = vn_obj_render(c, o, n->name, keep ? keep : &b);

			if (r < 0)
				return r;
			len = keep ? keep->len : b.len;
		}
		st->st_mode = S_IFREG | vn_file_mode(c, n);
		st->st_size = (off_t)len;
		st->st_blocks = (blkcnt_t)((len + 511) / 512); /* du */
		break;
	}
	case VN_N_ERRLOG:
		/* its content depends on who reads it: size 0 (like /proc),
		 * read direct_io to the end */
		st->st_mode = S_IFREG | 0444;
		return 0;
	case VN_N_SCRATCH:
		st->st_mode = S_IFREG | n->scratch->mode;
		st->st_size = (off_t)n->scratch->data.len;
		st->st_blocks = (blkcnt_t)((n->scratch->data.len + 511) / 512);
		st->st_uid = n->scratch->uid;
		st->st_gid = n->scratch->gid;
		st->st_mtim = st->st_ctim = n->scratch->mtime;
		return 0;
	}
	st->st_uid = o->uid;
	st->st_gid = o->gid;
	st->st_mtim = o->mtime;
	st->st_ctim = o->mtime;
	st->st_atim = o->ctime;
	return 0;
}

/* The attributes of what path names: x is the node the kernel holds for
 * it (NULL: a LOOKUP). A rendered file's size is x's bound value; when x
 * has none yet, what is rendered now goes to keep (the caller binds it).
 * fh: an fstat, through a handle (marks hide nothing from it). */
static int vn_getattr(const char *path, bool fh, struct vn_inode *x, struct stat *st,
		      struct vn_buf *keep, unsigned char *type);

/* What a directory lists goes to fill (its name and type). */
typedef int (*vn_fill_t)(void *buf, const char *name, const struct stat *st, off_t off, int flags);

/* The listing of path, as the caller sees it (marks may hide files from
 * it) or, with canon, as everyone without marks does; *hid: how many files
 * the caller's marks hid. */
static int vn_op_readdir(const char *path, void *buf, vn_fill_t fill, bool canon, unsigned *hid)
{
	struct vn_ctx *c = vn_fctx();
	struct vn_node n;
	struct stat dir = {.st_mode = S_IFDIR}, reg = {.st_mode = S_IFREG};
	struct vn_obj *o;
	int r;

	vn_rdlock(c);
	r = vn_resolve(c, path, &n);
	if (r < 0)
		goto out;
	/* The type of each entry (d_type) spares find and ls a stat each. */
	fill(buf, ".", &dir, 0, 0);
	fill(buf, "..", &dir, 0, 0);
	switch (n.type) {
	case VN_N_ROOT:
		for (size_t i = 0; i < c->nroots; i++)
			fill(buf, c->roots[i].kind->dir, &dir, 0, 0);
		fill(buf, VN_ERRLOG_FILE, &reg, 0, 0);
		break;
	case VN_N_COLL:
		vn_coll_foreach(n.coll, o)
		{
			fill(buf, o->name, &dir, 0, 0);
		}
		break;
	case VN_N_OBJ: {
		struct vn_marks *ms = vn_marks(c);
		struct vn_node f = {.type = VN_N_FILE, .obj = n.obj};
		bool hidden;

		o = n.obj;
		if (ms) { /* rm -r may unlink what it listed (marks) */
			pid_t pid = vn_caller_pid();
			char src[37];

			pthread_mutex_lock(&ms->mu);
			vn_mark_put(ms, VN_MARK_LISTED, pid, o->id, NULL, NULL);
			/* cp -r reads what it copies from (not what it made) */
			if (!vn_mark_get(ms, VN_MARK_FRESH, pid, o->id, NULL)) {
				vn_source_key(src, o->kind);
				vn_mark_put(ms, VN_MARK_SOURCE, pid, src, NULL, NULL);
			}
			pthread_mutex_unlock(&ms->mu);
		}
		for (size_t i = 0; vn_common_files[i]; i++) {
			f.attr = NULL;
			f.name = vn_common_files[i];
			hidden = vn_node_hidden(c, &f);
			*hid += hidden;
			if (canon || !hidden)
				fill(buf, vn_common_files[i], &reg, 0, 0);
		}
		for (const struct vn_attr *a = o->kind->attrs; a->name; a++) {
			f.attr = a;
			f.name = a->name;
			hidden = vn_node_hidden(c, &f);
			*hid += hidden;
			if (canon || !hidden)
				fill(buf, a->name, &reg, 0, 0);
		}
		/* Later collections first (ports before subnets): rm -r removes
		 * in this order, and a subnet is busy while a bound port uses
		 * it; the delete itself goes that way too. */
		for (size_t i = o->ncolls; i-- > 0;)
			fill(buf, o->colls[i].kind->dir, &dir, 0, 0);
		for (struct vn_scratch *s = o->scratch; s; s = s->next)
			fill(buf, s->name, &reg, 0, 0);
		break;
	}
	default:
		r = -ENOTDIR;
	}
out:
	vn_unlock(c);
	return r;
}

/* ---- objects: mkdir / rmdir ---- */

static int vn_op_mkdir(const char *path, mode_t mode)
{
	struct vn_ctx *c = vn_fctx();
	const struct vn_caller *fc = vn_caller();
	struct vn_err err = {0};
	struct vn_obj *o = NULL;
	struct vn_node n;
	const char *name;
	int r;

	vn_errlog_request(path, vn_caller()->uid);
	vn_wrlock(c);
	r = vn_resolve_parent(c, path, &n, &name);
	if (r < 0)
		goto out;
	if (n.type == VN_N_OBJ) {
		r = -EPERM;
		goto out;
	}
	if (n.type != VN_N_COLL) {
		r = -ENOTDIR;
		goto out;
	}
	if (!vn_may_modify(n.coll->owner)) {
		r = vn_refused_owner(c, path, n.coll->owner);
		goto out;
	}
	r = vn_obj_create(c, n.coll, name, fc->uid, fc->gid, NULL, &o, &err);
	if (r < 0) {
		if (n.coll->owner)
			vn_obj_set_error(n.coll->owner, &err);
		else
			vn_log(VN_LOG_WARN, r, "mkdir %s: %s", path, err.msg);
		vn_errlog_add(c, fc->uid, path, r, err.msg);
	} else if (vn_marks(c)) {
		struct vn_marks *ms = vn_marks(c);

		pthread_mutex_lock(&ms->mu);
		vn_mark_put(ms, VN_MARK_FRESH, vn_caller_pid(), o->id, NULL, NULL);
		pthread_mutex_unlock(&ms->mu);
	}
out:
	vn_unlock(c);
	return r;
}

static int vn_op_rmdir(const char *path)
{
	struct vn_ctx *c = vn_fctx();
	struct vn_err err = {0};
	struct vn_node n;
	int r;

	vn_errlog_request(path, vn_caller()->uid);
	vn_wrlock(c);
	r = vn_resolve(c, path, &n);
	if (r < 0)
		goto out;
	switch (n.type) {
	case VN_N_ROOT:
	case VN_N_COLL:
		r = 0; /* fixed directories: `rm -r` passes through them */
		break;
	case VN_N_OBJ:
		if (!vn_may_modify(n.obj)) {
			r = -EACCES;
			break;
		}
		r = vn_obj_delete(c, n.obj, false, &err);
		if (r < 0) {
			vn_obj_set_error(n.obj, &err);
			/* what the caller's unlinks reset on the way (rm -r) */
			vn_marks_restore(c, n.obj);
		}
		break;
	default:
		r = -ENOTDIR;
	}
out:
	vn_unlock(c);
	return r;
}

/* ---- files ---- */

static struct vn_fh *vn_fh_new(struct vn_ctx *c)
{
	struct vn_fh *fh = calloc(1, sizeof(*fh));

	if (!fh)
		return NULL;
	fh->ctx = c;
	pthread_mutex_lock(&c->fh_mu);
	fh->next = c->open_fhs;
	if (fh->next)
		fh->next->prev = fh;
	c->open_fhs = fh;
	pthread_mutex_unlock(&c->fh_mu);
	return fh;
}

static void vn_fh_free(struct vn_fh *fh)
{
	struct vn_ctx *c;

	if (!fh)
		return;
	c = fh->ctx;
	pthread_mutex_lock(&c->fh_mu);
	if (fh->prev)
		fh->prev->next = fh->next;
	else
		c->open_fhs = fh->next;
	if (fh->next)
		fh->next->prev = fh->prev;
	pthread_mutex_unlock(&c->fh_mu);
	if (fh->held && vn_marks(c)) {
		struct vn_marks *ms = vn_marks(c);
		struct vn_marks_held *h;

		pthread_mutex_lock(&ms->mu);
		h = vn_marks_held(ms, fh->held_uid, false);
		if (h)
			h->hbytes -= fh->held > h->hbytes ? h->hbytes : fh->held;
		pthread_mutex_unlock(&ms->mu);
	}
	if (fh->node && c->fuse_cache) {
		struct vn_itable *it = &c->fuse_cache->it;

		pthread_mutex_lock(&it->mu);
		fh->node->nopen--;
		vn_it_maybe_free(it, fh->node);
		pthread_mutex_unlock(&it->mu);
	}
	vn_buf_free(&fh->rd);
	vn_buf_free(&fh->wr);
	json_object_put(fh->saved);
	free(fh);
}

/* A handle open for reading holds a snapshot of its file (up to a 64 KiB
 * value): counted to its reader, up to --max-scratch-per-user, so that a
 * user's processes holding many handles on a big file cannot hold the
 * daemon's memory without bound (root is not counted). */
static int vn_fh_charge(struct vn_ctx *c, struct vn_fh *fh, const char *path, uid_t uid, size_t len)
{
	struct vn_marks *ms = vn_marks(c);
	size_t max = c->opts.max_scratch_per_user, bytes = len + sizeof(*fh), have;
	struct vn_marks_held *h;

	if (!ms || uid == 0 || !max)
		return 0;
	pthread_mutex_lock(&ms->mu);
	h = vn_marks_held(ms, uid, true);
	have = h ? h->hbytes : 0;
	if (h && bytes <= max - (have < max ? have : max)) {
		h->hbytes += bytes;
		fh->held = bytes;
		fh->held_uid = uid;
	}
	pthread_mutex_unlock(&ms->mu);
	if (h && !fh->held)
		return vn_refused(c, path, -EDQUOT,
				  "uid %u's open handles hold %zu bytes of what they read and this "
				  "one %zu: that passes the %zu bytes this daemon allows one user "
				  "(--max-scratch-per-user); close some",
				  (unsigned)uid, have, bytes, max);
	return 0;
}

/* Remember what the handle is opened on. */
static void vn_fh_bind(struct vn_fh *fh, const struct vn_node *n)
{
	fh->type = n->type;
	memcpy(fh->id, n->obj->id, sizeof(fh->id));
	fh->name = n->type == VN_N_FILE ? n->name : NULL;
	fh->serial = n->type == VN_N_SCRATCH ? n->scratch->serial : 0;
}

/* The node of an open handle: path must still name what it was opened on
 * (a NULL path, a deleted object, a new object of the same name, a scratch
 * file removed or renamed onto an attribute: ESTALE). */
static int vn_fh_node(struct vn_ctx *c, const char *path, const struct vn_fh *fh, struct vn_node *n)
{
	if (vn_resolve(c, path, n) < 0)
		return -ESTALE;
	if (n->type != fh->type || strcmp(n->obj->id, fh->id))
		return -ESTALE;
	if (n->type == VN_N_FILE && strcmp(n->name, fh->name))
		return -ESTALE;
	if (n->type == VN_N_SCRATCH && n->scratch->serial != fh->serial)
		return -ESTALE;
	return 0;
}

/* Bind x to what n renders now unless it has its value already; *len:
 * the value's length (model lock held). */
static int vn_node_bind(struct vn_ctx *c, struct vn_inode *x, struct vn_node *n, size_t *len);

static int vn_op_open(const char *path, struct fuse_file_info *fi)
{
	const struct vn_caller *fc = vn_caller();
	struct vn_ctx *c = vn_fctx();
	int acc = fi->flags & O_ACCMODE;
	struct vn_fh *fh;
	struct vn_node n;
	int r;

	fh = vn_fh_new(c);
	if (!fh)
		return -ENOMEM;
	if (acc == O_RDONLY)
		vn_rdlock(c);
	else {
		vn_errlog_request(path, vn_caller()->uid);
		vn_wrlock(c); /* O_TRUNC empties a scratch file */
	}
	r = vn_resolve(c, path, &n);
	if (r < 0)
		goto out;
	if (n.type == VN_N_ERRLOG) {
		/* the caller's own refusals (root: all), read direct_io */
		r = acc != O_RDONLY ? -EACCES : vn_errlog_render(c, fc->uid, &fh->rd);
		fh->type = VN_N_ERRLOG;
		vn_unlock(c);
		if (r < 0) {
			vn_fh_free(fh);
			return r;
		}
		fi->direct_io = 1;
		fi->noflush = 1;
		fi->fh = (uintptr_t)fh;
		return 0;
	}
	if (n.type != VN_N_FILE && n.type != VN_N_SCRATCH) {
		r = -EISDIR;
		goto out;
	}
	if (acc != O_RDONLY) {
		if (!vn_may_modify(n.obj)) {
			r = vn_refused_owner(c, path, n.obj);
			goto out;
		}
		if (n.type == VN_N_FILE && !(vn_file_mode(c, &n) & 0200)) {
			r = -EACCES;
			vn_refused(c, path, r, "%s is read-only", n.name);
			goto out;
		}
	}
	if (n.type == VN_N_FILE && !(vn_file_mode(c, &n) & 0004) && !vn_may_modify(n.obj)) {
		r = -EACCES; /* owner-only (0600) files */
		goto out;
	}
	if (n.type == VN_N_SCRATCH) {
		/* its own mode, as created under the creator's umask */
		r = vn_scratch_access(n.scratch, fc->uid, fc->gid,
				      (acc != O_WRONLY ? R_OK : 0) | (acc != O_RDONLY ? W_OK : 0));
		if (r < 0)
			goto out;
	}
	vn_fh_bind(fh, &n);
	fh->append = fi->flags & O_APPEND;
	fh->trunc = (fi->flags & O_TRUNC) && acc != O_RDONLY;
	if (n.type == VN_N_FILE && acc == O_RDONLY && fc->node) {
		/* through the page cache, from the node's value (its first use
		 * binds it); counted to the reader as a snapshot would be */
		size_t len;

		r = vn_node_bind(c, fc->node, &n, &len);
		if (r == 0)
			r = vn_fh_charge(c, fh, path, fc->uid, len);
		fh->page = r == 0;
	} else if (n.type == VN_N_FILE && acc != O_WRONLY) {
		r = vn_obj_render(c, n.obj, n.name, &fh->rd);
		if (r == 0)
			r = vn_fh_charge(c, fh, path, fc->uid, fh->rd.len);
	}
	if (n.type == VN_N_SCRATCH && fh->trunc)
		r = vn_scratch_truncate(c, n.scratch, 0, NULL); /* shrinking: never fails */
out:
	vn_unlock(c);
	if (r < 0) {
		vn_fh_free(fh);
		return r;
	}
	/* A reader of a rendered file reads its node's value through the
	 * kernel's page cache (see "the kernel's inodes"); any other handle
	 * reads its own snapshot (a scratch file: what is there now) and
	 * writes go to the daemon as they come: direct_io. No open drops the
	 * pages of a node: its value never changes. */
	fi->direct_io = !fh->page;
	fi->keep_cache = n.type == VN_N_FILE;
	/* A reader has nothing to apply at close: spare it the FLUSH trip. */
	if (acc == O_RDONLY && !fh->trunc)
		fi->noflush = 1;
	fi->fh = (uintptr_t)fh;
	return 0;
}

static struct vn_fh *vn_fh(struct fuse_file_info *fi)
{
	return (struct vn_fh *)(uintptr_t)fi->fh;
}

static int vn_op_read(const char *path, char *buf, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	struct vn_ctx *c = vn_fctx();
	struct vn_fh *fh = vn_fh(fi);
	const struct vn_buf *src = &fh->rd;
	struct vn_node n;
	size_t len = 0;
	int r = 0;

	bool locked = false;

	/* A reader of a rendered file reads its node's value, bound for good
	 * (see "the kernel's inodes"); another handle of one the snapshot
	 * taken at open, even when its object is gone since; a scratch file
	 * reads what is there now. */
	if (fh->page) {
		pthread_mutex_lock(&c->fuse_cache->it.mu);
		src = &fh->node->content;
	} else if (fh->type == VN_N_SCRATCH) {
		vn_rdlock(c);
		locked = true;
		r = vn_fh_node(c, path, fh, &n);
		if (r == 0)
			src = &n.scratch->data;
	}
	if (r == 0 && off >= 0 && (size_t)off < src->len) {
		len = src->len - (size_t)off;
		if (len > size)
			len = size;
		memcpy(buf, src->s + off, len);
	}
	if (fh->page)
		pthread_mutex_unlock(&c->fuse_cache->it.mu);
	if (locked)
		vn_unlock_nowait(c);
	return r < 0 ? r : (int)len;
}

/* The node is an attribute that the caller may change. */
static int vn_node_writable(const struct vn_node *n)
{
	if (n->type != VN_N_FILE)
		return -EISDIR;
	if (!n->attr)
		return -EACCES; /* id/status/error/json */
	if (!vn_may_modify(n->obj))
		return -EACCES;
	return 0;
}

/* The attribute a handle is open on, with the caller allowed to change it. */
static int vn_fh_attr(struct vn_ctx *c, const char *path, const struct vn_fh *fh, struct vn_node *n)
{
	int r = vn_fh_node(c, path, fh, n);

	return r < 0 ? r : vn_node_writable(n);
}

/* Apply a value to a writable attribute node, recording the sentence. */
static int vn_apply(struct vn_ctx *c, struct vn_node *n, const char *val, size_t len, bool append)
{
	struct vn_err err = {0};
	int r = vn_attr_write(c, n->obj, n->attr, val, len, append, &err);

	if (r < 0)
		vn_obj_set_error(n->obj, &err);
	return r;
}

/* A value that came in pieces failed: put back what was there before this
 * handle's first write. */
static void vn_fh_undo(struct vn_ctx *c, struct vn_node *n, struct vn_fh *fh)
{
	struct vn_err err = {0};

	if (fh->saved_set && vn_attr_restore(c, n->obj, n->attr, fh->saved, &err) < 0)
		vn_obj_set_error(n->obj, &err);
}

/* The same for a tool that replaced the file (marks): the value goes
 * back, the sentence saying why the tool failed stays. */
static void vn_fh_undo_keep_error(struct vn_ctx *c, struct vn_node *n, struct vn_fh *fh)
{
	struct vn_err err = {0};

	if (n->obj->error)
		snprintf(err.msg, sizeof(err.msg), "%s", n->obj->error);
	vn_fh_undo(c, n, fh);
	if (err.msg[0] && !n->obj->error) {
		free(n->obj->error);
		n->obj->error = strdup(err.msg);
		vn_changed(c, n->obj, "error");
	}
}

static int vn_buf_put_at(struct vn_buf *b, const char *data, size_t size, off_t off)
{
	size_t end = (size_t)off + size;
	int r;

	if (end > b->len) {
		r = vn_buf_resize(b, end); /* a hole reads as NULs */
		if (r < 0)
			return r;
	}
	if (size)
		memcpy(b->s + off, data, size);
	return 0;
}

static int vn_op_write(const char *path, const char *buf, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct vn_ctx *c = vn_fctx();
	struct vn_fh *fh = vn_fh(fi);
	struct vn_err err = {0};
	struct vn_node n;
	int r;

	vn_errlog_request(path, vn_caller()->uid);
	vn_wrlock(c);
	fh->trunc = false; /* something was written, even if refused */
	fh->wrote = true;
	pthread_mutex_lock(&c->fh_mu);
	fh->fresh = false;
	pthread_mutex_unlock(&c->fh_mu);
	r = vn_fh_node(c, path, fh, &n);
	if (r < 0) {
		fh->pending = false; /* nothing left to apply at close */
		fh->failed = true;
		goto out;
	}
	if (n.type == VN_N_SCRATCH) {
		r = vn_scratch_write(c, n.scratch, buf, size, off, &err);
		if (r == -EDQUOT)
			vn_obj_set_error(n.obj, &err);
		goto out;
	}
	if (fh->failed) {
		r = -EINVAL; /* the value this handle was writing is void */
		goto out;
	}
	/* checked at open already, but the object may have changed since */
	r = vn_node_writable(&n);
	if (r < 0)
		goto fail;
	if ((size_t)off + size > VN_ATTR_MAX) {
		r = -EFBIG;
		vn_fh_undo(c, &n, fh);
	} else if (fh->append) {
		/* `>>`: every write adds lines, whatever the offset. */
		r = vn_apply(c, &n, buf, size, true);
	} else if (n.attr->type == VN_T_LIST) {
		/* A list may go on in the next write (a shell writes a line at
		 * a time): gather it, check its complete lines as they come
		 * (syntax and references, so the write carrying a bad line
		 * fails), apply the whole once at flush. */
		if (off == 0)
			vn_buf_reset(&fh->wr);
		fh->owner = fi->lock_owner;
		r = (size_t)off <= fh->wr.len ? vn_buf_put_at(&fh->wr, buf, size, off) : -EINVAL;
		if (r == 0)
			r = vn_attr_precheck(c, n.obj, n.attr, fh->wr.s, fh->wr.len, &err);
		if (r < 0) {
			if (!err.code)
				vn_fail(&err, r, "%s: the value could not be taken", n.attr->name);
			vn_obj_set_error(n.obj, &err);
			fh->list_err = r;
		}
		fh->pending = r == 0;
	} else if (off == 0) {
		/* The usual case: one whole value in one write(). */
		if (!fh->saved_set) {
			fh->saved = vn_attr_saved(n.obj, n.attr);
			fh->saved_set = true;
		}
		vn_buf_reset(&fh->wr);
		r = vn_buf_add(&fh->wr, buf, size);
		if (r == 0)
			r = vn_apply(c, &n, buf, size, false);
		fh->pending = false;
	} else if ((size_t)off <= fh->wr.len) {
		/* A value in pieces: gather, check what has come, apply the
		 * whole once at close. */
		r = vn_buf_put_at(&fh->wr, buf, size, off);
		if (r == 0)
			r = vn_attr_precheck(c, n.obj, n.attr, fh->wr.s, fh->wr.len, &err);
		if (r < 0) {
			vn_obj_set_error(n.obj, &err);
			vn_fh_undo(c, &n, fh);
		}
		fh->pending = r == 0;
	} else {
		r = -EINVAL;
	}
fail:
	/* `>>` adds a value per write; otherwise the rest of this value is void */
	if (r < 0 && !fh->append)
		fh->failed = true;
	/* a tool replacing the file failed: as it was before its unlink */
	if (r < 0 && fh->replace && n.type == VN_N_FILE && n.attr) {
		vn_fh_undo_keep_error(c, &n, fh);
		fh->replace = false;
	}
out:
	if (fh->type == VN_N_SCRATCH)
		vn_unlock_nowait(c); /* its page is locked by this WRITE */
	else
		vn_unlock(c);
	if (vn_tl_pend.seq > fh->inval_seq)
		fh->inval_seq = vn_tl_pend.seq;
	return r < 0 ? r : (int)size;
}

static int vn_op_flush(const char *path, struct fuse_file_info *fi)
{
	struct vn_ctx *c = vn_fctx();
	struct vn_fh *fh = vn_fh(fi);
	struct vn_node n = {0};
	int r;

	/* the names the writes changed are dropped before close() returns */
	vn_cache_wait(c, fh->inval_seq, 2000);
	fh->inval_seq = 0;
	if (!fh->pending)
		return fh->list_err; /* a list refused on the way: close() says so */
	/* A close by another file table than the one that wrote -- a child
	 * closing the descriptor it inherited at exec or exit -- does not
	 * end the value: the writer's own close (or the release) does. */
	if (fh->owner && fi->lock_owner != fh->owner)
		return 0;
	vn_errlog_request(path, vn_caller()->uid);
	vn_wrlock(c);
	r = vn_fh_attr(c, path, fh, &n);
	if (r == 0)
		r = vn_apply(c, &n, fh->wr.s, fh->wr.len, false);
	if (r < 0) {
		if (n.type == VN_N_FILE && n.attr && n.attr->type != VN_T_LIST)
			vn_fh_undo(c, &n, fh);
		else if (n.type == VN_N_FILE && n.attr)
			fh->list_err = r;
		if (fh->replace && n.type == VN_N_FILE && n.attr && n.attr->type == VN_T_LIST)
			vn_fh_undo_keep_error(c, &n, fh);
		fh->replace = false;
		fh->failed = true;
	}
	fh->pending = false;
	vn_unlock(c);
	return r;
}

static int vn_op_release(const char *path, struct fuse_file_info *fi)
{
	struct vn_ctx *c = vn_fctx();
	struct vn_fh *fh = vn_fh(fi);

	/* `: > file` opened with O_TRUNC and wrote nothing: the empty value.
	 * Not at flush: the shell closes a dup of the descriptor before
	 * echo writes, and that close flushes too. The error, if any, is
	 * in the object's error file. */
	if (fh->pending) {
		/* a list whose writer never closed it itself: apply it now;
		 * its error, if any, is in the object's error file */
		struct vn_node n;

		vn_errlog_request(path, vn_caller()->uid);
		vn_wrlock(c);
		if (vn_fh_attr(c, path, fh, &n) == 0)
			vn_apply(c, &n, fh->wr.s, fh->wr.len, false);
		vn_unlock(c);
	} else if (fh->trunc && !fh->wrote && fh->type == VN_N_FILE) {
		struct vn_node n;

		vn_errlog_request(path, vn_caller()->uid);
		vn_wrlock(c);
		/* a handle whose object is gone applies nothing */
		if (vn_fh_attr(c, path, fh, &n) == 0)
			vn_apply(c, &n, "", 0, false);
		vn_unlock(c);
	}
	vn_fh_free(fh);
	return 0;
}

static int vn_op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct vn_ctx *c = vn_fctx();
	const struct vn_caller *fc = vn_caller();
	struct vn_err err = {0};
	struct vn_node n;
	int r;

	vn_errlog_request(path, vn_caller()->uid);
	vn_wrlock(c);
	/* ftruncate: on what the handle was opened on (checked at open) */
	r = fi ? vn_fh_node(c, path, vn_fh(fi), &n) : vn_resolve(c, path, &n);
	if (r < 0)
		goto out;
	if (!vn_may_modify(n.obj)) {
		r = -EACCES;
		goto out;
	}
	if (n.type == VN_N_SCRATCH) {
		if (!fi)
			r = vn_scratch_access(n.scratch, fc->uid, fc->gid, W_OK);
		if (r == 0 && size < 0)
			r = -EINVAL;
		if (r == 0)
			r = vn_scratch_truncate(c, n.scratch, (size_t)size, &err);
		if (r == -EDQUOT)
			vn_obj_set_error(n.obj, &err);
		goto out;
	}
	if (n.type == VN_N_ERRLOG) {
		r = -EACCES;
		goto out;
	}
	if (n.type != VN_N_FILE) {
		r = -EISDIR;
		goto out;
	}
	if (size != 0) {
		/* a value is written whole: say so where the user looks */
		r = vn_fail(&err, -EINVAL,
			    "%s: truncate to %lld bytes is not a value (truncate -s 0 empties it; "
			    "write the whole value instead)",
			    n.name, (long long)size);
		vn_obj_set_error(n.obj, &err);
		goto out;
	}
	if (fi) {
		/* ftruncate on an open handle: the value comes with its writes */
		struct vn_fh *fh = vn_fh(fi);

		vn_buf_reset(&fh->wr);
		fh->trunc = !fh->wrote;
		goto out;
	}
	r = vn_node_writable(&n);
	if (r == 0)
		r = vn_apply(c, &n, "", 0, false); /* truncate -s0: empty value */
out:
	vn_unlock(c);
	return r;
}

/* create of an attribute's name: it looks absent to the caller only
 * (marks), who unlinked it (install, mv, cp --remove-destination, tar)
 * or made its object (cp -r). The handle writes the whole value, as an
 * open with O_TRUNC: what it writes is applied as any write; if it fails,
 * the value from before the unlink is put back (the tool failed, nothing
 * changed); if nothing is written, the unlink's reset stands (or, in an
 * object just made, the empty value: an empty file copied). */
static int vn_create_attr(struct vn_ctx *c, struct vn_node *n, struct vn_fh *fh)
{
	struct vn_marks *ms = vn_marks(c);
	pid_t pid = vn_caller_pid();
	struct vn_mark *m = NULL, *fresh = NULL;
	struct vn_err err = {0};
	int r;

	if (!ms || !vn_node_hidden(c, n))
		return -EEXIST; /* the caller sees it: the kernel's EEXIST */
	if (!vn_attr_resettable(c, n->obj, n->attr)) {
		r = vn_fail(&err, -EACCES, "%s is %s: it cannot be written", n->name,
			    n->attr && (n->attr->mode & 0222) ? "managed" : "read-only");
		vn_obj_set_error(n->obj, &err);
		return r;
	}
	pthread_mutex_lock(&ms->mu);
	m = vn_mark_get(ms, VN_MARK_UNLINKED, pid, n->obj->id, n->name);
	if (!m)
		fresh = vn_mark_get(ms, VN_MARK_FRESH, pid, n->obj->id, NULL);
	vn_fh_bind(fh, n);
	fh->replace = true;
	if (m) {
		fh->saved = m->saved; /* the value before the unlink */
		m->saved = NULL;
		vn_mark_release(ms, m); /* the handle holds it now */
		fh->saved_set = m->reset;
		vn_mark_drop(ms, m);
	} else {
		fh->trunc = true; /* nothing written: the empty value */
		if (fresh)
			fresh->made |= 1ULL << ((n->attr - n->obj->kind->attrs) & 63);
	}
	/* last: a put drops what expired, m and fresh included */
	vn_mark_put(ms, VN_MARK_CREATED, pid, n->obj->id, n->name, NULL);
	pthread_mutex_unlock(&ms->mu);
	vn_changed(c, n->obj, n->name); /* it is there again */
	return 0;
}

static int vn_op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct vn_ctx *c = vn_fctx();
	const struct vn_caller *fc = vn_caller();
	struct vn_scratch *s;
	struct vn_node n;
	const char *name;
	struct vn_fh *fh;
	int r;

	fh = vn_fh_new(c);
	if (!fh)
		return -ENOMEM;
	vn_errlog_request(path, vn_caller()->uid);
	vn_wrlock(c);
	r = vn_resolve_parent(c, path, &n, &name);
	if (r < 0)
		goto out;
	if (n.type != VN_N_OBJ) {
		r = n.type == VN_N_COLL || n.type == VN_N_ROOT ? -EPERM : -ENOTDIR;
		goto out;
	}
	if (!vn_may_modify(n.obj)) {
		r = -EACCES;
		goto out;
	}
	if (strlen(name) > 255) {
		r = -ENAMETOOLONG;
		goto out;
	}
	r = vn_step(c, &n, name);
	if (r == 0 && n.type == VN_N_FILE) {
		r = vn_create_attr(c, &n, fh);
		goto out;
	}
	if (r == 0) {
		r = -EEXIST;
		goto out;
	}
	r = vn_scratch_create(n.obj, name, mode, fc->uid, fc->gid, &s);
	if (r == 0) {
		n.type = VN_N_SCRATCH;
		n.scratch = s;
		vn_fh_bind(fh, &n);
	}
out:
	vn_unlock(c);
	if (r < 0) {
		vn_fh_free(fh);
		return r;
	}
	fi->direct_io = 1; /* a scratch file: see vn_op_open */
	fi->fh = (uintptr_t)fh;
	return 0;
}

static int vn_op_unlink(const char *path)
{
	struct vn_ctx *c = vn_fctx();
	struct vn_err err = {0};
	struct vn_node n;
	int r;

	vn_errlog_request(path, vn_caller()->uid);
	vn_wrlock(c);
	r = vn_resolve(c, path, &n);
	if (r < 0)
		goto out;
	if (n.type == VN_N_ERRLOG) {
		r = -EPERM; /* the daemon's own record */
		goto out;
	}
	if (n.type != VN_N_FILE && n.type != VN_N_SCRATCH) {
		r = -EISDIR;
		goto out;
	}
	if (!vn_may_modify(n.obj)) {
		r = -EACCES;
		goto out;
	}
	if (n.type == VN_N_SCRATCH) {
		vn_scratch_remove(c, n.obj, n.scratch);
	} else if (vn_attr_resettable(c, n.obj, n.attr)) {
		/* rm resets an attribute to its default; the caller sees it
		 * gone until it creates it again (install, mv), and its rmdir
		 * failing puts the value back (rm -r; see "marks") */
		struct json_object *saved = vn_attr_saved(n.obj, n.attr);
		size_t bytes = vn_saved_size(saved), max = c->opts.max_scratch_per_user;
		uid_t uid = vn_caller()->uid;
		struct vn_marks *ms = vn_marks(c);
		size_t have = 0;

		/* the mark keeps the value 10 s: counted (see vn_marks_held) */
		if (ms && uid != 0 && max) {
			struct vn_marks_held *h;

			pthread_mutex_lock(&ms->mu);
			vn_marks_prune(ms);
			h = vn_marks_held(ms, uid, false);
			have = h ? h->bytes : 0;
			pthread_mutex_unlock(&ms->mu);
		}
		if (ms && uid != 0 && max && bytes > max - (have < max ? have : max)) {
			json_object_put(saved);
			r = vn_fail(&err, -EDQUOT,
				    "%s cannot be reset now: the values uid %u's removals keep for "
				    "10 s (%zu bytes) and this one (%zu) pass the %zu bytes this "
				    "daemon allows one user (--max-scratch-per-user)",
				    n.name, (unsigned)uid, have, bytes, max);
			vn_obj_set_error(n.obj, &err);
			vn_marks_restore(c, n.obj); /* rm -r stops here */
			goto out;
		}
		r = vn_attr_reset(c, n.obj, n.attr, &err);
		if (r < 0) {
			json_object_put(saved);
			vn_obj_set_error(n.obj, &err);
			vn_marks_restore(c, n.obj);
		} else if (ms) {
			struct vn_mark *m;

			pthread_mutex_lock(&ms->mu);
			m = vn_mark_put(ms, VN_MARK_UNLINKED, vn_caller_pid(), n.obj->id, n.name,
					saved);
			if (m)
				m->reset = true;
			if (m && uid != 0) {
				struct vn_marks_held *h = vn_marks_held(ms, uid, true);

				if (h) {
					m->held = bytes;
					h->bytes += bytes;
				}
			}
			pthread_mutex_unlock(&ms->mu);
		} else {
			json_object_put(saved);
		}
	} else {
		/* Nothing to reset (id, status, read-only or managed values):
		 * only as a step of removing the directory the caller listed
		 * (rm -r); anything else (tar -x making room) fails. */
		struct vn_marks *ms = vn_marks(c);
		pid_t pid = vn_caller_pid();

		r = -EPERM;
		if (ms) {
			pthread_mutex_lock(&ms->mu);
			if (vn_mark_get(ms, VN_MARK_LISTED, pid, n.obj->id, NULL)) {
				vn_mark_put(ms, VN_MARK_UNLINKED, pid, n.obj->id, n.name, NULL);
				r = 0;
			}
			pthread_mutex_unlock(&ms->mu);
		}
		if (r < 0) {
			struct vn_err why = {0};

			/* a managed attribute: the kind says by whom */
			if (n.attr && (n.attr->mode & 0222) && n.obj->kind->writable &&
			    n.obj->kind->writable(c, n.obj, n.attr, &why) < 0 && why.msg[0])
				vn_fail(&err, r, "%s cannot be removed or replaced: %s", n.name,
					why.msg);
			else
				vn_fail(&err, r,
					"%s cannot be removed or replaced: it is read-only; rmdir "
					"removes the %s",
					n.name, n.obj->kind->type);
			vn_obj_set_error(n.obj, &err);
			vn_marks_restore(c, n.obj);
		}
	}
out:
	vn_unlock(c);
	return r;
}

static int vn_op_rename(const char *from, const char *to, unsigned int flags)
{
	struct vn_ctx *c = vn_fctx();
	struct vn_node src, dst, dir;
	struct vn_err err = {0};
	const char *name;
	char *nn;
	int r;

	if (flags & RENAME_EXCHANGE)
		return -EINVAL;
	vn_errlog_request(to, vn_caller()->uid);
	vn_wrlock(c);
	r = vn_resolve(c, from, &src);
	if (r < 0)
		goto out;
	if (src.type != VN_N_SCRATCH) {
		/* Objects are named by their directory and referred to by
		 * name; renaming them is not supported. */
		r = src.type == VN_N_FILE ? -EACCES : -EPERM;
		goto out;
	}
	if (!vn_may_modify(src.obj)) {
		r = -EACCES;
		goto out;
	}
	r = vn_resolve_parent(c, to, &dir, &name);
	if (r < 0)
		goto out;
	if (dir.type != VN_N_OBJ || dir.obj != src.obj) {
		r = -EXDEV;
		goto out;
	}
	dst = dir;
	r = vn_step(c, &dst, name);
	if (r == 0 && (flags & RENAME_NOREPLACE)) {
		r = -EEXIST;
		goto out;
	}
	if (r == 0 && dst.type == VN_N_FILE) {
		/* The editor's way to write: the temp file becomes the value. */
		if (!dst.attr) {
			r = -EACCES;
			goto out;
		}
		/* its content becomes readable to all: the caller must be able
		 * to read it */
		r = vn_scratch_access(src.scratch, vn_caller()->uid, vn_caller()->gid, R_OK);
		if (r < 0)
			goto out;
		r = vn_attr_write(c, src.obj, dst.attr,
				  src.scratch->data.s ? src.scratch->data.s : "",
				  src.scratch->data.len, false, &err);
		if (r < 0) {
			vn_obj_set_error(src.obj, &err);
			goto out;
		}
		vn_scratch_remove(c, src.obj, src.scratch);
		goto out;
	}
	if (r == 0 && dst.type == VN_N_SCRATCH) {
		vn_scratch_remove(c, src.obj, dst.scratch);
	} else if (r == 0) {
		r = -EISDIR;
		goto out;
	}
	nn = strdup(name);
	if (!nn) {
		r = -ENOMEM;
		goto out;
	}
	free(src.scratch->name);
	src.scratch->name = nn;
	r = 0;
out:
	vn_unlock(c);
	return r;
}

/* utimens: accepted from the owner (tools copy metadata after writing);
 * nothing keeps it. */
static int vn_op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	struct vn_ctx *c = vn_fctx();
	struct vn_node n;
	int r;

	vn_rdlock(c);
	r = vn_resolve(c, path, &n);
	if (r == 0 && n.obj && !vn_may_modify(n.obj))
		r = -EPERM;
	vn_unlock(c);
	return r;
}

/* chmod: the modes tell the truth, so only a scratch file's changes (by
 * its owner or root); anything else keeps its mode: chmod to the mode it
 * has succeeds, to another is EPERM. */
static int vn_op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct vn_ctx *c = vn_fctx();
	uid_t uid = vn_caller()->uid;
	struct stat st;
	struct vn_node n;
	int r;

	vn_errlog_request(path, vn_caller()->uid);
	vn_wrlock(c);
	r = vn_resolve(c, path, &n);
	if (r == 0 && n.obj && !vn_may_modify(n.obj) &&
	    !(n.type == VN_N_SCRATCH && uid == n.scratch->uid))
		r = -EPERM;
	else if (r == 0 && n.type == VN_N_SCRATCH) {
		/* like chmod(2): its owner or root */
		if (uid != 0 && uid != n.scratch->uid)
			r = -EPERM;
		else
			n.scratch->mode = mode & 0777;
	} else if (r == 0) {
		struct vn_marks *ms = vn_marks(c);
		bool made = false;

		/* a tool setting the mode of the file it just created (install,
		 * cp): the attribute keeps its own */
		if (ms && n.type == VN_N_FILE) {
			pthread_mutex_lock(&ms->mu);
			made = vn_mark_get(ms, VN_MARK_CREATED, vn_caller_pid(), n.obj->id, n.name);
			pthread_mutex_unlock(&ms->mu);
		}
		r = vn_node_stat(c, &n, &st, &(size_t){0}, NULL);
		if (r == 0 && !made && (st.st_mode & 07777) != (mode & 07777))
			r = -EPERM;
	}
	vn_unlock(c);
	return r;
}

/* Give o and the implicit objects it owns (ownership edges) to uid/gid,
 * counts moved, in one store transaction; on failure all goes back. */
static void vn_chown_set(struct vn_ctx *c, struct vn_obj *o, uid_t uid, gid_t gid)
{
	vn_quota_obj_move(c, o, uid); /* only fails without memory for a new uid */
	o->uid = uid;
	o->gid = gid;
	vn_changed(c, o, NULL);
}

static int vn_chown_tree(struct vn_ctx *c, struct vn_obj *o, uid_t uid, gid_t gid, uid_t ouid,
			 gid_t ogid)
{
	int r;

	vn_txn_begin(c);
	vn_chown_set(c, o, uid, gid);
	r = vn_obj_save(c, o);
	vn_refs_in_foreach(o, e)
	{
		if (r == 0 && !e->attr && e->from) {
			vn_chown_set(c, e->from, uid, gid);
			r = vn_obj_save(c, e->from);
		}
	}
	r = vn_txn_end(c, r == 0) ?: r;
	if (r < 0) {
		vn_refs_in_foreach(o, e)
		{
			if (!e->attr && e->from && e->from->uid == uid)
				vn_chown_set(c, e->from, ouid, ogid);
		}
		vn_chown_set(c, o, ouid, ogid);
	}
	return r;
}

/* chown: an object's directory, by root, gives the object to another
 * user (persisted; its count in the per-user limits moves with it). An
 * implicit object goes with its owner. A chown that changes nothing
 * succeeds for whoever may change the object; anything else is EPERM. */
static int vn_op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	struct vn_ctx *c = vn_fctx();
	uid_t caller = vn_caller()->uid;
	struct vn_err err = {0};
	struct stat st;
	struct vn_node n;
	struct vn_obj *o;
	uid_t ouid;
	gid_t ogid;
	int r;

	vn_wrlock(c);
	r = vn_resolve(c, path, &n);
	if (r == 0)
		r = vn_node_stat(c, &n, &st, &(size_t){0}, NULL);
	if (r < 0)
		goto out;
	if ((uid == (uid_t)-1 || uid == st.st_uid) && (gid == (gid_t)-1 || gid == st.st_gid)) {
		r = n.obj && !vn_may_modify(n.obj) ? -EPERM : 0; /* no change */
		goto out;
	}
	o = n.obj;
	if (n.type != VN_N_OBJ || caller != 0) {
		r = -EPERM;
		goto out;
	}
	if (vn_owner_of(o, NULL)) {
		r = vn_fail(&err, -EPERM, "%s '%s' belongs to %s '%s': chown that one",
			    o->kind->type, o->name, vn_owner_of(o, NULL)->kind->type,
			    vn_owner_of(o, NULL)->name);
		vn_obj_set_error(o, &err);
		goto out;
	}
	ouid = o->uid;
	ogid = o->gid;
	if (uid == (uid_t)-1)
		uid = ouid;
	if (gid == (gid_t)-1)
		gid = ogid;
	/* the object and what the daemon made for it (a router's legs):
	 * they count to its owner */
	r = vn_chown_tree(c, o, uid, gid, ouid, ogid);
	if (r < 0) {
		r = vn_fail(&err, -EIO, "could not persist the owner of %s '%s': %s", o->kind->type,
			    o->name, strerror(-r));
		vn_obj_set_error(o, &err);
		goto out;
	}
	vn_info("%s %s now belongs to uid %u gid %u", o->kind->type, o->name, (unsigned)uid,
		(unsigned)gid);
	vn_changed(c, o, NULL);
out:
	vn_unlock(c);
	return r;
}

static int vn_op_statfs(const char *path, struct statvfs *st)
{
	memset(st, 0, sizeof(*st));
	st->f_bsize = 4096;
	st->f_frsize = 4096;
	st->f_namemax = 255;
	return 0;
}

/* ---- the low-level operations ----
 *
 * Each one sets who asks (vn_caller), turns the inode numbers into the
 * paths the functions above take, and replies. Names the kernel holds go
 * in and out of the node table here: LOOKUP, MKDIR and CREATE add a
 * lookup, FORGET drops lookups, UNLINK, RMDIR and RENAME move or remove
 * names.
 */
/* a listing's inode numbers are not the ones stat gives (libfuse's way) */
#define VN_UNKNOWN_INO 0xffffffffu

static void vn_req_begin(fuse_req_t req, bool locked)
{
	const struct fuse_ctx *x = fuse_req_ctx(req);

	vn_tl_caller.c = fuse_req_userdata(req);
	vn_tl_caller.uid = x->uid;
	vn_tl_caller.gid = x->gid;
	vn_tl_caller.pid = x->pid;
	vn_tl_caller.locked = locked;
	vn_tl_caller.node = NULL;
	vn_tl_pend.seq = 0;
}

static struct vn_itable *vn_itab(struct vn_ctx *c)
{
	return &c->fuse_cache->it;
}

/* The path of ino, and of its child name when given; *xp: ino's node. */
static int vn_ll_path(struct vn_ctx *c, fuse_ino_t ino, const char *name, char *out, size_t size,
		      struct vn_inode **xp)
{
	struct vn_itable *it = vn_itab(c);
	struct vn_inode *x;
	int r;

	pthread_mutex_lock(&it->mu);
	x = vn_it_get(it, ino);
	r = x ? vn_it_path(x, out, size) : -ESTALE;
	if (r == 0 && name) {
		size_t l = strlen(out), nl = strlen(name);

		if (nl > 255 || l + 1 + nl + 1 > size)
			r = -ENAMETOOLONG;
		else if (l == 1)
			memcpy(out + 1, name, nl + 1);
		else {
			out[l] = '/';
			memcpy(out + l + 1, name, nl + 1);
		}
	}
	if (xp)
		*xp = x;
	pthread_mutex_unlock(&it->mu);
	return r;
}

static int vn_getattr(const char *path, bool fh, struct vn_inode *x, struct stat *st,
		      struct vn_buf *keep, unsigned char *type)
{
	struct vn_ctx *c = vn_fctx();
	struct vn_itable *it = vn_itab(c);
	struct vn_node n;
	size_t size = 0;
	bool known = false;
	int r;

	if (x) {
		pthread_mutex_lock(&it->mu);
		known = x->bound;
		size = x->content.len;
		pthread_mutex_unlock(&it->mu);
	}
	vn_rdlock(c);
	r = vn_resolve(c, path, &n);
	if (r == 0 && !fh && vn_node_hidden(c, &n))
		r = -ENOENT; /* unlinked by the caller, or not made yet (marks) */
	if (r == 0)
		r = vn_node_stat(c, &n, st, known ? &size : NULL, keep);
	if (r == 0 && type)
		*type = (unsigned char)n.type;
	vn_unlock(c);
	return r;
}

/* Bind x to the value in keep (taken) unless it has its own already
 * (it->mu held). */
static void vn_it_bind(struct vn_inode *x, struct vn_buf *keep)
{
	if (x->bound)
		return;
	vn_buf_free(&x->content);
	x->content = *keep;
	memset(keep, 0, sizeof(*keep));
	x->bound = true;
	x->type = VN_N_FILE;
}

static int vn_node_bind(struct vn_ctx *c, struct vn_inode *x, struct vn_node *n, size_t *len)
{
	struct vn_itable *it = vn_itab(c);
	_cleanup_buf_ struct vn_buf b = {0};
	int r;

	pthread_mutex_lock(&it->mu);
	*len = x->content.len;
	r = x->bound;
	pthread_mutex_unlock(&it->mu);
	if (r)
		return 0;
	r = vn_obj_render(c, n->obj, n->name, &b);
	if (r < 0)
		return r;
	pthread_mutex_lock(&it->mu);
	vn_it_bind(x, &b);
	*len = x->content.len;
	pthread_mutex_unlock(&it->mu);
	return 0;
}

/* A stat of x for the kernel: its number, and a rendered file's size from
 * its bound value (bound now to keep when it had none: it->mu held). */
static void vn_node_attr(struct vn_inode *x, unsigned char type, struct vn_buf *keep,
			 struct stat *st)
{
	if (type == VN_N_FILE) {
		vn_it_bind(x, keep);
		st->st_size = (off_t)x->content.len;
		st->st_blocks = (blkcnt_t)((x->content.len + 511) / 512);
	}
	x->type = type;
	st->st_ino = x->ino;
	if (x->bound)
		x->st = *st;
}

/* Does x show what its name shows now (of type, rendered to keep)? A
 * bound node only the same value; another node only the same type. */
static bool vn_it_shows(const struct vn_inode *x, unsigned char type, const struct vn_buf *keep)
{
	if (!x->bound)
		return type != VN_N_FILE && x->type == type;
	return type == VN_N_FILE && x->content.len == keep->len &&
	       (!keep->len || !memcmp(x->content.s, keep->s, keep->len));
}

/* A LOOKUP's (or MKDIR's, CREATE's) answer: the node parent/name stands
 * for, one more lookup of it. The node the kernel may hold already is
 * kept when it shows what the name shows now; otherwise the name gets a
 * new node (see "the kernel's inodes"). */
static int vn_ll_enter(struct vn_ctx *c, fuse_ino_t parent, const char *name, unsigned char type,
		       struct vn_buf *keep, struct fuse_entry_param *e, struct vn_inode **xp)
{
	struct vn_itable *it = vn_itab(c);
	struct vn_inode *p, *x;
	int r = 0;

	pthread_mutex_lock(&it->mu);
	p = vn_it_get(it, parent);
	x = p ? vn_it_find(it, p, name) : NULL;
	if (x && !vn_it_shows(x, type, keep))
		x = NULL;
	if (!p)
		r = -ESTALE;
	else if (!x && !(x = vn_it_add(it, p, name)))
		r = -ENOMEM;
	if (r == 0) {
		vn_node_attr(x, type, keep, &e->attr);
		x->nlookup++;
		e->ino = x->ino;
		e->generation = 0;
		e->attr_timeout = VN_TIMEOUT;
		e->entry_timeout = VN_TIMEOUT;
		if (xp)
			*xp = x;
	}
	pthread_mutex_unlock(&it->mu);
	return r;
}

static void vn_ll_unenter(struct vn_ctx *c, fuse_ino_t ino)
{
	struct vn_itable *it = vn_itab(c);

	pthread_mutex_lock(&it->mu);
	vn_it_forget(it, ino, 1);
	pthread_mutex_unlock(&it->mu);
}

/* parent/name is gone (unlinked, removed, renamed over): handles on its
 * node have no path any more. */
static void vn_ll_removed(struct vn_ctx *c, fuse_ino_t parent, const char *name)
{
	struct vn_itable *it = vn_itab(c);
	struct vn_inode *p, *x;

	pthread_mutex_lock(&it->mu);
	p = vn_it_get(it, parent);
	x = p ? vn_it_find(it, p, name) : NULL;
	if (x) {
		vn_it_unhash(it, x);
		x->removed = true;
	}
	pthread_mutex_unlock(&it->mu);
}

/* A name's answer (LOOKUP, MKDIR, CREATE): what it is now. made: the
 * caller just made it (marks hide nothing from it). */
static int vn_ll_entry(struct vn_ctx *c, fuse_ino_t parent, const char *name, const char *path,
		       bool made, struct fuse_entry_param *e, struct vn_inode **xp)
{
	_cleanup_buf_ struct vn_buf keep = {0};
	unsigned char type = 0;
	int r;

	memset(e, 0, sizeof(*e));
	r = vn_getattr(path, made, NULL, &e->attr, &keep, &type);
	return r < 0 ? r : vn_ll_enter(c, parent, name, type, &keep, e, xp);
}

static void vn_ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	char path[VN_PATH_MAX];
	struct vn_ctx *c;
	int r;

	vn_req_begin(req, true); /* the kernel holds the directory (shared) */
	c = vn_caller()->c;
	r = vn_ll_path(c, parent, name, path, sizeof(path), NULL);
	if (r == 0)
		r = vn_ll_entry(c, parent, name, path, false, &e, NULL);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (fuse_reply_entry(req, &e) == -ENOENT)
		vn_ll_unenter(c, e.ino); /* interrupted: the kernel took none */
}

static void vn_ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct vn_ctx *c = fuse_req_userdata(req);
	struct vn_itable *it = vn_itab(c);

	pthread_mutex_lock(&it->mu);
	vn_it_forget(it, ino, nlookup);
	pthread_mutex_unlock(&it->mu);
	fuse_reply_none(req);
}

static void vn_ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct vn_ctx *c = fuse_req_userdata(req);
	struct vn_itable *it = vn_itab(c);

	pthread_mutex_lock(&it->mu);
	for (size_t i = 0; i < count; i++)
		vn_it_forget(it, forgets[i].ino, forgets[i].nlookup);
	pthread_mutex_unlock(&it->mu);
	fuse_reply_none(req);
}

/* The attributes of x at path for the kernel (vn_getattr, then x's
 * binding: see vn_node_attr). */
static int vn_ll_stat(struct vn_ctx *c, const char *path, bool fh, struct vn_inode *x,
		      struct stat *st)
{
	_cleanup_buf_ struct vn_buf keep = {0};
	unsigned char type = 0;
	int r = vn_getattr(path, fh, x, st, &keep, &type);

	if (r < 0)
		return r;
	pthread_mutex_lock(&vn_itab(c)->mu);
	vn_node_attr(x, type, &keep, st);
	pthread_mutex_unlock(&vn_itab(c)->mu);
	return 0;
}

static void vn_ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	char path[VN_PATH_MAX];
	struct vn_inode *x = NULL;
	struct vn_ctx *c;
	struct stat st;
	int r;

	vn_req_begin(req, false);
	c = vn_caller()->c;
	r = vn_ll_path(c, ino, NULL, path, sizeof(path), &x);
	if (r == 0)
		r = vn_ll_stat(c, path, fi != NULL, x, &st);
	if (r == 0) {
		fuse_reply_attr(req, &st, VN_TIMEOUT);
		return;
	}
	if (fi && vn_fh(fi)->page && (r == -ESTALE || r == -ENOENT)) {
		/* A reader's handle on a value whose file is gone (its object
		 * removed): it reads the node's value to the end, as a file
		 * unlinked while open; the kernel asks for the size as it
		 * reads (any other handle's fstat is ESTALE, see the top). */
		struct vn_inode *n = vn_fh(fi)->node;

		pthread_mutex_lock(&vn_itab(c)->mu);
		st = n->st;
		if (!st.st_mode) { /* bound at an OPEN (a scratch file renamed onto it) */
			memset(&st, 0, sizeof(st));
			st.st_mode = S_IFREG | 0444;
			st.st_ino = n->ino;
		}
		vn_node_attr(n, VN_N_FILE, &(struct vn_buf){0}, &st); /* bound: keeps its value */
		pthread_mutex_unlock(&vn_itab(c)->mu);
		st.st_nlink = 0;
		fuse_reply_attr(req, &st, 1.0);
		return;
	}
	fuse_reply_err(req, -r);
}

/* chmod, chown, truncate, utimens: in libfuse's order; then the stat. */
static void vn_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	char path[VN_PATH_MAX];
	struct vn_inode *x = NULL;
	struct vn_ctx *c;
	struct stat st;
	int r;

	vn_req_begin(req, true); /* the kernel holds the file's (or directory's) lock */
	c = vn_caller()->c;
	r = vn_ll_path(c, ino, NULL, path, sizeof(path), &x);
	if (r == 0 && (to_set & FUSE_SET_ATTR_MODE))
		r = vn_op_chmod(path, attr->st_mode, fi);
	if (r == 0 && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		r = vn_op_chown(path, (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1,
				(to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1, fi);
	if (r == 0 && (to_set & FUSE_SET_ATTR_SIZE)) {
		/* The kernel sends an O_TRUNC open's truncation as a SETATTR
		 * without the handle, right after the OPEN, from the thread
		 * that opened (atomic_o_trunc is off, see vn_ll_init): that
		 * handle's, when the caller has one on x fresh from its open
		 * -- the value then comes with its writes, as an ftruncate's
		 * would; a truncate of the path applies the empty value. */
		struct fuse_file_info own = {0};

		if (!fi && attr->st_size == 0) {
			struct vn_fh *mine = NULL;

			pthread_mutex_lock(&c->fh_mu);
			for (struct vn_fh *h = c->open_fhs; h; h = h->next)
				if (h->node == x && h->fresh && h->open_pid == vn_caller()->pid) {
					mine = h; /* the newest first */
					break;
				}
			if (mine) {
				mine->fresh = false;
				own.fh = (uintptr_t)mine;
				fi = &own;
			}
			pthread_mutex_unlock(&c->fh_mu);
		}
		r = vn_op_truncate(path, attr->st_size, fi);
	}
	if (r == 0 && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		struct timespec tv[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};

		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			tv[0].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_ATIME)
			tv[0] = attr->st_atim;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			tv[1].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_MTIME)
			tv[1] = attr->st_mtim;
		r = vn_op_utimens(path, tv, fi);
	}
	/* a truncated value's size is still its node's (see "the kernel's
	 * inodes"): the kernel's pages stay whole for its readers */
	if (r == 0)
		r = vn_ll_stat(c, path, true, x, &st);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, VN_TIMEOUT);
}

/* A listing, made whole at offset 0 and served from the handle after. */
struct vn_dh {
	struct vn_dent {
		char *name;
		mode_t mode;
	} * e;
	size_t n, cap;
	bool filled;
	bool canon; /* the kernel caches what it reads: no mark hides a file */
};

static void vn_dh_clear(struct vn_dh *dh)
{
	for (size_t i = 0; i < dh->n; i++)
		free(dh->e[i].name);
	dh->n = 0;
	dh->filled = false;
}

static int vn_dh_fill(void *buf, const char *name, const struct stat *st, off_t off, int flags)
{
	struct vn_dh *dh = buf;

	(void)off;
	(void)flags;
	if (dh->n == dh->cap) {
		size_t cap = dh->cap ? dh->cap * 2 : 32;
		struct vn_dent *ne = realloc(dh->e, cap * sizeof(*ne));

		if (!ne)
			return 1;
		dh->e = ne;
		dh->cap = cap;
	}
	dh->e[dh->n].name = strdup(name);
	if (!dh->e[dh->n].name)
		return 1;
	dh->e[dh->n++].mode = st->st_mode;
	return 0;
}

static void vn_dh_free(struct vn_dh *dh)
{
	vn_dh_clear(dh);
	free(dh->e);
	free(dh);
}

/* What OPENDIR asks of a listing: the marks reading it sets, and how
 * many files the caller's marks hide; its entries go nowhere. */
static int vn_dh_count(void *buf, const char *name, const struct stat *st, off_t off, int flags)
{
	return 0;
}

/* OPENDIR sets the marks that reading a directory sets (see "marks": with
 * the kernel caching listings, OPENDIR is what reaches the daemon; the
 * listing itself is made at READDIR, which a kept listing spares). The
 * kernel may keep it (cache_readdir) when it is what every reader without
 * marks sees: what changes it invalidates the directory's inode, which
 * drops the kept listing (vn_pass_collect). A caller whose marks hide
 * files reads its own listing, uncached. */
static void vn_ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vn_dh *dh = calloc(1, sizeof(*dh));
	char path[VN_PATH_MAX];
	struct vn_fuse_cache *fc;
	struct vn_itable *it;
	struct vn_inode *x;
	struct vn_ctx *c;
	unsigned hid = 0;
	int r;

	vn_req_begin(req, true);
	c = vn_caller()->c;
	fc = c->fuse_cache;
	it = vn_itab(c);
	if (!dh) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	r = vn_ll_path(c, ino, NULL, path, sizeof(path), NULL);
	if (r == 0)
		r = vn_op_readdir(path, NULL, vn_dh_count, false, &hid);
	if (r < 0) {
		vn_dh_free(dh);
		fuse_reply_err(req, -r);
		return;
	}
	if (hid == 0 && vn_cache.running) {
		pthread_mutex_lock(&it->mu);
		x = vn_it_get(it, ino);
		if (x) {
			x->listed = true;
			dh->canon = true;
			fi->cache_readdir = 1;
			fi->keep_cache = 1;
		}
		pthread_mutex_unlock(&it->mu);
	}
	fi->fh = (uintptr_t)dh;
	if (fuse_reply_open(req, fi) == -ENOENT)
		vn_dh_free(dh);
}

static void vn_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	struct vn_dh *dh = (struct vn_dh *)(uintptr_t)fi->fh;
	char path[VN_PATH_MAX];
	_cleanup_free_ char *b = NULL;
	size_t used = 0;
	struct vn_ctx *c;
	int r = 0;

	vn_req_begin(req, true);
	c = vn_caller()->c;
	if (off == 0 || !dh->filled) {
		unsigned hid = 0;

		vn_dh_clear(dh);
		r = vn_ll_path(c, ino, NULL, path, sizeof(path), NULL);
		if (r == 0)
			r = vn_op_readdir(path, dh, vn_dh_fill, dh->canon, &hid);
		dh->filled = r == 0;
	}
	if (r == 0 && !(b = malloc(size ? size : 1)))
		r = -ENOMEM;
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	for (size_t i = off > 0 ? (size_t)off : 0; i < dh->n; i++) {
		struct stat st = {.st_ino = VN_UNKNOWN_INO, .st_mode = dh->e[i].mode};
		size_t l = fuse_add_direntry(req, b + used, size - used, dh->e[i].name, &st,
					     (off_t)(i + 1));

		if (l > size - used)
			break;
		used += l;
	}
	fuse_reply_buf(req, b, used);
}

static void vn_ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vn_dh *dh = (struct vn_dh *)(uintptr_t)fi->fh;

	(void)ino;
	vn_dh_free(dh);
	fuse_reply_err(req, 0);
}

static void vn_ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fuse_entry_param e;
	char path[VN_PATH_MAX];
	struct vn_ctx *c;
	int r;

	vn_req_begin(req, true);
	c = vn_caller()->c;
	r = vn_ll_path(c, parent, name, path, sizeof(path), NULL);
	if (r == 0)
		r = vn_op_mkdir(path, mode);
	if (r == 0)
		r = vn_ll_entry(c, parent, name, path, true, &e, NULL);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (fuse_reply_entry(req, &e) == -ENOENT)
		vn_ll_unenter(c, e.ino);
}

/* RMDIR and UNLINK: op removes the path; the name's node has none then. */
static void vn_ll_remove(fuse_req_t req, fuse_ino_t parent, const char *name,
			 int (*op)(const char *path))
{
	char path[VN_PATH_MAX];
	struct vn_ctx *c;
	int r;

	vn_req_begin(req, true);
	c = vn_caller()->c;
	r = vn_ll_path(c, parent, name, path, sizeof(path), NULL);
	if (r == 0)
		r = op(path);
	if (r == 0)
		vn_ll_removed(c, parent, name);
	fuse_reply_err(req, -r);
}

static void vn_ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	vn_ll_remove(req, parent, name, vn_op_rmdir);
}

static void vn_ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	vn_ll_remove(req, parent, name, vn_op_unlink);
}

static void vn_ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
			 const char *newname, unsigned int flags)
{
	char from[VN_PATH_MAX], to[VN_PATH_MAX];
	struct vn_itable *it;
	fuse_ino_t moved = 0;
	struct vn_ctx *c;
	int r;

	vn_req_begin(req, true);
	c = vn_caller()->c;
	it = vn_itab(c);
	r = vn_ll_path(c, parent, name, from, sizeof(from), NULL);
	if (r == 0)
		r = vn_ll_path(c, newparent, newname, to, sizeof(to), NULL);
	if (r == 0)
		r = vn_op_rename(from, to, flags);
	if (r == 0) {
		struct vn_inode *p, *np, *x, *d;
		char *nn = strdup(newname);

		pthread_mutex_lock(&it->mu);
		p = vn_it_get(it, parent);
		np = vn_it_get(it, newparent);
		x = p ? vn_it_find(it, p, name) : NULL;
		d = np ? vn_it_find(it, np, newname) : NULL;
		if (d && d != x) {
			vn_it_unhash(it, d);
			d->removed = true;
		}
		if (x && nn && np == p) { /* the daemon renames within a directory only */
			vn_it_unhash(it, x);
			free(x->name);
			x->name = nn;
			nn = NULL;
			vn_it_hash(it, x);
			moved = x->ino;
		} else if (x) {
			vn_it_unhash(it, x);
			x->removed = true;
		}
		pthread_mutex_unlock(&it->mu);
		free(nn);
	}
	/* what the kernel knows of the moved node (a scratch file that became
	 * an attribute's value, say) is stale: its attributes only, it has no
	 * pages; no lock the kernel holds for the rename is taken */
	if (moved)
		fuse_lowlevel_notify_inval_inode(c->fuse_cache->se, moved, -1, 0);
	fuse_reply_err(req, -r);
}

/* The handle is on x (counted in its nopen); fresh: opened for writing
 * by the caller, whose O_TRUNC SETATTR may follow (see vn_ll_setattr). */
static void vn_fh_attach(struct vn_ctx *c, struct vn_fh *fh, struct vn_inode *x, bool fresh)
{
	pthread_mutex_lock(&vn_itab(c)->mu);
	x->nopen++;
	pthread_mutex_unlock(&vn_itab(c)->mu);
	pthread_mutex_lock(&c->fh_mu);
	fh->node = x;
	fh->open_pid = vn_caller()->pid;
	fh->fresh = fresh;
	pthread_mutex_unlock(&c->fh_mu);
}

static void vn_ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	char path[VN_PATH_MAX];
	struct vn_inode *x = NULL;
	struct vn_ctx *c;
	struct vn_fh *fh;
	int r;

	vn_req_begin(req, false);
	c = vn_caller()->c;
	r = vn_ll_path(c, ino, NULL, path, sizeof(path), &x);
	vn_tl_caller.node = x;
	if (r == 0)
		r = vn_op_open(path, fi);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fh = vn_fh(fi);
	vn_fh_attach(c, fh, x, (fi->flags & O_ACCMODE) != O_RDONLY);
	if (fuse_reply_open(req, fi) == -ENOENT)
		vn_fh_free(fh); /* interrupted: no RELEASE will come */
}

static void vn_ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			 struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	char path[VN_PATH_MAX];
	struct vn_inode *x = NULL;
	struct vn_ctx *c;
	struct vn_fh *fh;
	int r;

	vn_req_begin(req, true);
	c = vn_caller()->c;
	r = vn_ll_path(c, parent, name, path, sizeof(path), NULL);
	if (r == 0)
		r = vn_op_create(path, mode, fi);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fh = vn_fh(fi);
	r = vn_ll_entry(c, parent, name, path, true, &e, &x);
	if (r < 0) {
		vn_fh_free(fh);
		fuse_reply_err(req, -r);
		return;
	}
	vn_fh_attach(c, fh, x, false);
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		vn_fh_free(fh);
		vn_ll_unenter(c, e.ino);
	}
}

/* The path of a handle's node, NULL once it has none (removed). */
static const char *vn_ll_fh_path(struct vn_ctx *c, fuse_ino_t ino, char *path)
{
	return vn_ll_path(c, ino, NULL, path, VN_PATH_MAX, NULL) == 0 ? path : NULL;
}

static void vn_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	char path[VN_PATH_MAX];
	const char *p = NULL;
	_cleanup_free_ char *buf = malloc(size ? size : 1);
	struct vn_ctx *c;
	int r;

	vn_req_begin(req, false);
	c = vn_caller()->c;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (vn_fh(fi)->type == VN_N_SCRATCH)
		p = vn_ll_fh_path(c, ino, path);
	r = vn_op_read(p, buf, size, off, fi);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
}

static void vn_ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	char path[VN_PATH_MAX];
	struct vn_ctx *c;
	int r;

	vn_req_begin(req, true); /* the kernel holds the file's lock */
	c = vn_caller()->c;
	r = vn_op_write(vn_ll_fh_path(c, ino, path), buf, size, off, fi);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, (size_t)r);
}

static void vn_ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	char path[VN_PATH_MAX];
	struct vn_ctx *c;

	vn_req_begin(req, false);
	c = vn_caller()->c;
	fuse_reply_err(req, -vn_op_flush(vn_ll_fh_path(c, ino, path), fi));
}

static void vn_ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	char path[VN_PATH_MAX];
	struct vn_ctx *c;

	vn_req_begin(req, false);
	c = vn_caller()->c;
	vn_op_release(vn_ll_fh_path(c, ino, path), fi);
	fuse_reply_err(req, 0);
}

static void vn_ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st;

	(void)ino;
	vn_op_statfs("/", &st);
	fuse_reply_statfs(req, &st);
}

static void vn_ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct vn_ctx *c = userdata;

	/* Names and attributes are cached long, rendered files' pages for
	 * good: every change invalidates what it alters (see "the kernel's
	 * caches"). A node's value never changes, so pages need no checks
	 * against the attributes (auto_inval_data). O_TRUNC comes as a
	 * SETATTR, whose answer keeps the node's size (atomic_o_trunc would
	 * have the kernel empty the pages its readers read). Names that do
	 * not exist are not cached (LOOKUP answers a bare ENOENT). */
	conn->want &= ~(unsigned)(FUSE_CAP_AUTO_INVAL_DATA | FUSE_CAP_ATOMIC_O_TRUNC |
				  FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
	vn_cache_start(c);
}

static void vn_ll_destroy(void *userdata)
{
	struct vn_ctx *c = userdata;

	vn_cache_stop(c);
	/* handles whose RELEASE never came: the daemon is stopping */
	while (c->open_fhs)
		vn_fh_free(c->open_fhs);
}

void vn_fuse_cache_stop(struct vn_ctx *c)
{
	vn_cache_stop(c);
}

void vn_fuse_set_session(struct vn_ctx *c, struct fuse_session *se)
{
	if (c->fuse_cache)
		c->fuse_cache->se = se;
}

const struct fuse_lowlevel_ops vn_fuse_ops = {
	.init = vn_ll_init,
	.destroy = vn_ll_destroy,
	.lookup = vn_ll_lookup,
	.forget = vn_ll_forget,
	.forget_multi = vn_ll_forget_multi,
	.getattr = vn_ll_getattr,
	.setattr = vn_ll_setattr,
	.mkdir = vn_ll_mkdir,
	.unlink = vn_ll_unlink,
	.rmdir = vn_ll_rmdir,
	.rename = vn_ll_rename,
	.open = vn_ll_open,
	.read = vn_ll_read,
	.write = vn_ll_write,
	.flush = vn_ll_flush,
	.release = vn_ll_release,
	.opendir = vn_ll_opendir,
	.readdir = vn_ll_readdir,
	.releasedir = vn_ll_releasedir,
	.statfs = vn_ll_statfs,
	.create = vn_ll_create,
};
