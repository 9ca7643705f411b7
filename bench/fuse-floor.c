// SPDX-License-Identifier: MIT
/*
 * bench/fuse-floor.c — the best case a FUSE server can do for a walk.
 *
 *   fuse-floor [--no-open | --writable] SRC_DIR MOUNTPOINT
 *
 * Loads SRC_DIR (directories and regular files; anything else is skipped)
 * into memory and serves it read-only from there, in the foreground, with
 * every cache the kernel offers turned on: names and attributes for 1e6 s
 * (names that do not exist too), OPEN answered keep_cache + noflush (pages
 * stay cached, close sends no FLUSH), OPENDIR keep_cache + cache_readdir.
 * A warm `find | xargs cat` over it costs what the FUSE transport costs:
 * one OPEN round trip per file (RELEASE is asynchronous) and nothing the
 * server could do faster. bench/bench-networks.sh runs it over the same
 * tree as vnetfs and a tmpfs copy (see bench/README.md, "FUSE transport
 * floor"). Same libfuse low-level API and the same worker loop config as
 * fs/main.c, so the threading model is vnetfs's. SIGTERM / SIGINT stop it
 * and unmount.
 *
 * --no-open answers OPEN and OPENDIR with ENOSYS: the kernel then opens
 * every file and directory of the connection without a round trip (its
 * no_open / no_opendir mode: no OPEN, no RELEASE, pages and the readdir
 * cache still kept), the floor of a server that needs no handles. Such an
 * open carries no noflush, so close sends a FLUSH; there is no flush
 * handler here, libfuse answers the first ENOSYS and the kernel stops
 * sending them (a server with a flush handler pays ~15 µs a close again:
 * no_open is only cheap without close-time errors).
 *
 * --writable is the floor of making networks (bench/README.md, "the create
 * path's FUSE floor"): the tree in memory takes MKDIR, OPEN for writing,
 * SETATTR (truncate), WRITE, FLUSH, RELEASE, UNLINK and RMDIR, answered
 * as vnetfs answers them, with nothing behind: names and attributes
 * cached for VN_TIMEOUT (3600 s), names that do not exist not cached
 * (LOOKUP answers a bare ENOENT: vnetfs cannot cache them, objects appear
 * from elsewhere), a writer's OPEN direct_io + keep_cache without
 * noflush (vn_op_open: the value is applied at FLUSH), the same
 * capabilities off (ff_init). A new directory gets what vnetfs makes with
 * one where bench-networks.sh's python pass needs it (ff_kinds: a
 * network's subnets/, a subnet's cidr and enable_dhcp). One lock over the
 * tree. Every mode counts the requests it answers and prints them at exit.
 */
#define FUSE_USE_VERSION 312 /* as fs/fuse_ops.h: the fuse_loop_cfg_* API */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FF_TIMEOUT 1e6	  /* seconds: for good */
#define FF_W_TIMEOUT 3600 /* --writable: VN_TIMEOUT, as fs/fuse_ops.c */

/* One file or directory; its inode number is its index + 1 (root: 1). */
struct ff_node {
	struct stat st;
	char *name;
	char *data;	  /* a file's contents (st.st_size bytes) */
	fuse_ino_t *kids; /* a directory's entries, sorted by name */
	size_t nkids, kcap;
};

/* The requests counted (printed at exit). */
enum ff_op {
	FF_LOOKUP,
	FF_FORGET,
	FF_BATCH_FORGET,
	FF_GETATTR,
	FF_SETATTR,
	FF_MKDIR,
	FF_UNLINK,
	FF_RMDIR,
	FF_OPEN,
	FF_READ,
	FF_WRITE,
	FF_FLUSH,
	FF_RELEASE,
	FF_OPENDIR,
	FF_READDIR,
	FF_RELEASEDIR,
	FF_NOPS
};

static const char *const ff_op_names[FF_NOPS] = {
	"LOOKUP",  "FORGET",  "BATCH_FORGET", "GETATTR",   "SETATTR", "MKDIR",
	"UNLINK",  "RMDIR",   "OPEN",	      "READ",	   "WRITE",   "FLUSH",
	"RELEASE", "OPENDIR", "READDIR",      "RELEASEDIR"};

/* The whole server's state: read-only once the tree is loaded, or with
 * --writable changed under mu. */
struct ff_ctx {
	struct ff_node *nodes;
	size_t n, cap;
	int no_open;  /* --no-open */
	int writable; /* --writable */
	double timeout;
	pthread_mutex_t mu;
	atomic_ulong count[FF_NOPS];
};

static void ff_count(struct ff_ctx *c, enum ff_op op)
{
	atomic_fetch_add_explicit(&c->count[op], 1, memory_order_relaxed);
}

/* The tree changes only with --writable: the read-only floor takes no lock. */
static void ff_lock(struct ff_ctx *c)
{
	if (c->writable)
		pthread_mutex_lock(&c->mu);
}

static void ff_unlock(struct ff_ctx *c)
{
	if (c->writable)
		pthread_mutex_unlock(&c->mu);
}

static struct ff_node *ff_node(struct ff_ctx *c, fuse_ino_t ino)
{
	return ino >= 1 && ino <= c->n ? &c->nodes[ino - 1] : NULL;
}

static int ff_read_all(int fd, struct ff_node *nd)
{
	size_t len = (size_t)nd->st.st_size, got = 0;
	ssize_t r;

	nd->data = malloc(len ? len : 1);
	if (!nd->data)
		return -ENOMEM;
	while (got < len) {
		r = read(fd, nd->data + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	nd->st.st_size = (off_t)got; /* what a read returned is what we serve */
	return 0;
}

/* Appends a node named name with attributes st; *ino is its number. */
static int ff_push(struct ff_ctx *c, const char *name, const struct stat *st, fuse_ino_t *ino)
{
	struct ff_node *nd;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		struct ff_node *nodes = realloc(c->nodes, cap * sizeof(*nodes));

		if (!nodes)
			return -ENOMEM;
		c->nodes = nodes;
		c->cap = cap;
	}
	nd = &c->nodes[c->n];
	memset(nd, 0, sizeof(*nd));
	nd->st = *st;
	nd->st.st_ino = *ino = ++c->n;
	nd->name = strdup(name);
	return nd->name ? 0 : -ENOMEM;
}

/* Appends a node for fd (an open file or directory); *ino is its number. */
static int ff_add(struct ff_ctx *c, const char *name, int fd, const struct stat *st,
		  fuse_ino_t *ino)
{
	int r = ff_push(c, name, st, ino);

	return r == 0 && S_ISREG(st->st_mode) ? ff_read_all(fd, &c->nodes[*ino - 1]) : r;
}

static int ff_cmp_kids(const void *a, const void *b, void *ctx)
{
	const struct ff_ctx *c = ctx;

	return strcmp(c->nodes[*(const fuse_ino_t *)a - 1].name,
		      c->nodes[*(const fuse_ino_t *)b - 1].name);
}

/* Loads the directory open on dfd (its node: dir) and, recursively, all
 * below it. Takes dfd. */
static int ff_load_dir(struct ff_ctx *c, int dfd, fuse_ino_t dir)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	fuse_ino_t *kids = NULL;
	size_t nkids = 0, cap = 0;
	int r = 0;

	if (!d) {
		close(dfd);
		return -errno;
	}
	while (r == 0 && (errno = 0, de = readdir(d))) {
		struct stat st;
		fuse_ino_t ino;
		int fd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue; /* a symlink or something unreadable: skip */
		if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
			close(fd);
			continue;
		}
		if (nkids == cap) {
			fuse_ino_t *k = realloc(kids, (cap = cap ? 2 * cap : 16) * sizeof(*k));

			if (!k) {
				close(fd);
				r = -ENOMEM;
				break;
			}
			kids = k;
		}
		r = ff_add(c, de->d_name, fd, &st, &ino);
		if (r == 0)
			kids[nkids++] = ino;
		if (r == 0 && S_ISDIR(st.st_mode))
			r = ff_load_dir(c, fd, ino); /* takes fd */
		else
			close(fd);
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	qsort_r(kids, nkids, sizeof(*kids), ff_cmp_kids, c);
	c->nodes[dir - 1].kids = kids;
	c->nodes[dir - 1].nkids = nkids;
	c->nodes[dir - 1].kcap = cap;
	return r;
}

static int ff_load(struct ff_ctx *c, const char *src)
{
	struct stat st;
	fuse_ino_t root;
	int fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = fstat(fd, &st) < 0 ? -errno : ff_add(c, "/", fd, &st, &root);
	if (r < 0) {
		close(fd);
		return r;
	}
	return ff_load_dir(c, fd, root); /* root is FUSE_ROOT_ID: the first node */
}

static void ff_free(struct ff_ctx *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->nodes[i].name);
		free(c->nodes[i].data);
		free(c->nodes[i].kids);
	}
	free(c->nodes);
}

/* The entry of directory p named name, or NULL; *pos: where it is or
 * would go in p->kids. */
static struct ff_node *ff_find(struct ff_ctx *c, const struct ff_node *p, const char *name,
			       size_t *pos)
{
	size_t lo = 0, hi = p && S_ISDIR(p->st.st_mode) ? p->nkids : 0;

	while (lo < hi) { /* binary search */
		size_t mid = (lo + hi) / 2;
		struct ff_node *k = &c->nodes[p->kids[mid] - 1];
		int d = strcmp(name, k->name);

		if (d == 0) {
			lo = mid;
			if (pos)
				*pos = lo;
			return k;
		}
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (pos)
		*pos = lo;
	return NULL;
}

static void ff_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct ff_ctx *c = fuse_req_userdata(req);
	struct fuse_entry_param e = {.attr_timeout = c->timeout, .entry_timeout = c->timeout};
	struct ff_node *k;

	ff_count(c, FF_LOOKUP);
	ff_lock(c);
	k = ff_find(c, ff_node(c, parent), name, NULL);
	if (k) {
		e.ino = k->st.st_ino;
		e.attr = k->st;
	}
	ff_unlock(c);
	if (!k && c->writable) /* as vnetfs: a name that does not exist is not cached */
		fuse_reply_err(req, ENOENT);
	else
		fuse_reply_entry(req, &e); /* not found: a cached negative entry */
}

static void ff_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	ff_count(fuse_req_userdata(req), FF_FORGET);
	fuse_reply_none(req); /* nodes live as long as the server */
}

static void ff_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	ff_count(fuse_req_userdata(req), FF_BATCH_FORGET);
	fuse_reply_none(req);
}

static void ff_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ff_ctx *c = fuse_req_userdata(req);
	struct ff_node *nd;
	struct stat st;

	ff_count(c, FF_GETATTR);
	ff_lock(c);
	nd = ff_node(c, ino);
	if (nd)
		st = nd->st;
	ff_unlock(c);
	if (nd)
		fuse_reply_attr(req, &st, c->timeout);
	else
		fuse_reply_err(req, ENOENT);
}

static void ff_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ff_ctx *c = fuse_req_userdata(req);

	ff_count(c, FF_OPENDIR);
	if (c->no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->keep_cache = 1;
	fi->cache_readdir = 1;
	fuse_reply_open(req, fi);
}

/* Entry i at offset i + 1: ".", "..", then the sorted entries. */
static void ff_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct ff_ctx *c = fuse_req_userdata(req);
	struct ff_node *nd;
	char *buf = malloc(size ? size : 1);
	size_t used = 0;

	ff_count(c, FF_READDIR);
	ff_lock(c);
	nd = ff_node(c, ino);
	if (!nd || !buf) {
		ff_unlock(c);
		free(buf);
		fuse_reply_err(req, nd ? ENOMEM : ENOENT);
		return;
	}
	for (size_t i = (size_t)off; i < nd->nkids + 2; i++) {
		const struct ff_node *k = i < 2 ? nd : &c->nodes[nd->kids[i - 2] - 1];
		const char *name = i == 0 ? "." : i == 1 ? ".." : k->name;
		size_t len =
			fuse_add_direntry(req, buf + used, size - used, name, &k->st, (off_t)i + 1);

		if (len > size - used)
			break;
		used += len;
	}
	ff_unlock(c);
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void ff_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	ff_count(fuse_req_userdata(req), FF_RELEASEDIR);
	fuse_reply_err(req, 0);
}

static void ff_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	ff_count(fuse_req_userdata(req), FF_RELEASE);
	fuse_reply_err(req, 0);
}

static void ff_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ff_ctx *c = fuse_req_userdata(req);

	ff_count(c, FF_OPEN);
	if (c->no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		if (!c->writable) {
			fuse_reply_err(req, EROFS);
			return;
		}
		/* a writer as vnetfs's (vn_op_open): writes go to the server as
		 * they come, close sends the FLUSH that applies them; O_TRUNC
		 * comes next as a SETATTR (atomic_o_trunc is off) */
		fi->direct_io = 1;
		fi->keep_cache = 1;
		fuse_reply_open(req, fi);
		return;
	}
	fi->keep_cache = 1;
	fi->noflush = 1;
	fuse_reply_open(req, fi);
}

static void ff_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct ff_ctx *c = fuse_req_userdata(req);
	struct ff_node *nd;
	size_t len;

	ff_count(c, FF_READ);
	ff_lock(c);
	nd = ff_node(c, ino);
	if (!nd || !S_ISREG(nd->st.st_mode)) {
		ff_unlock(c);
		fuse_reply_err(req, nd ? EISDIR : ENOENT);
		return;
	}
	len = (size_t)nd->st.st_size;
	if ((size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, nd->data + off,
			       len - (size_t)off < size ? len - (size_t)off : size);
	ff_unlock(c);
}

/* --writable from here on. */

/* Sets file nd's size to len (new bytes zero). */
static int ff_resize(struct ff_node *nd, size_t len)
{
	size_t old = (size_t)nd->st.st_size;
	char *d = realloc(nd->data, len ? len : 1);

	if (!d)
		return -ENOMEM;
	if (len > old)
		memset(d + old, 0, len - old);
	nd->data = d;
	nd->st.st_size = (off_t)len;
	nd->st.st_blocks = (blkcnt_t)((len + 511) / 512);
	return 0;
}

/* A new node name (mode: type and permissions) in directory dir, owned by
 * the caller; *ino is its number. */
static int ff_new(struct ff_ctx *c, fuse_req_t req, fuse_ino_t dir, const char *name, mode_t mode,
		  fuse_ino_t *ino)
{
	const struct fuse_ctx *fc = fuse_req_ctx(req);
	struct stat st = {.st_mode = mode,
			  .st_nlink = S_ISDIR(mode) ? 2 : 1,
			  .st_uid = fc->uid,
			  .st_gid = fc->gid,
			  .st_blksize = 4096};
	struct ff_node *p;
	size_t pos;
	int r;

	if (ff_find(c, ff_node(c, dir), name, &pos))
		return -EEXIST;
	clock_gettime(CLOCK_REALTIME, &st.st_mtim);
	st.st_atim = st.st_ctim = st.st_mtim;
	r = ff_push(c, name, &st, ino); /* moves c->nodes */
	if (r < 0)
		return r;
	p = ff_node(c, dir);
	if (p->nkids == p->kcap) {
		size_t cap = p->kcap ? 2 * p->kcap : 16;
		fuse_ino_t *k = realloc(p->kids, cap * sizeof(*k));

		if (!k)
			return -ENOMEM; /* the node stays, unnamed */
		p->kids = k;
		p->kcap = cap;
	}
	memmove(p->kids + pos + 1, p->kids + pos, (p->nkids - pos) * sizeof(*p->kids));
	p->kids[pos] = *ino;
	p->nkids++;
	if (S_ISDIR(mode))
		p->st.st_nlink++;
	p->st.st_mtim = p->st.st_ctim = st.st_mtim;
	return 0;
}

/* What vnetfs makes with a new directory, where the python pass of
 * bench-networks.sh needs it: a network (a directory in networks/) has
 * its subnets/, a subnet its cidr and enable_dhcp (among others that pass
 * never names). */
static const struct {
	const char *parent, *kid;
	mode_t mode;
} ff_kinds[] = {
	{"networks", "subnets", S_IFDIR | 0755},
	{"subnets", "cidr", S_IFREG | 0644},
	{"subnets", "enable_dhcp", S_IFREG | 0644},
};

static void ff_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct ff_ctx *c = fuse_req_userdata(req);
	struct fuse_entry_param e = {.attr_timeout = c->timeout, .entry_timeout = c->timeout};
	struct ff_node *p;
	char *pname = NULL;
	int r = 0;

	ff_count(c, FF_MKDIR);
	ff_lock(c);
	p = ff_node(c, parent);
	if (!p || !S_ISDIR(p->st.st_mode))
		r = p ? -ENOTDIR : -ENOENT;
	else if (!(pname = strdup(p->name)))
		r = -ENOMEM;
	else
		r = ff_new(c, req, parent, name, S_IFDIR | (mode & 07777), &e.ino);
	for (size_t i = 0; r == 0 && i < sizeof(ff_kinds) / sizeof(ff_kinds[0]); i++) {
		fuse_ino_t kid;

		if (!strcmp(pname, ff_kinds[i].parent))
			r = ff_new(c, req, e.ino, ff_kinds[i].kid, ff_kinds[i].mode, &kid);
	}
	if (r == 0)
		e.attr = ff_node(c, e.ino)->st;
	ff_unlock(c);
	free(pname);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

/* UNLINK (dir false) and RMDIR (an empty directory): the name goes, the
 * node stays (the kernel may hold it) with no links. */
static void ff_remove(fuse_req_t req, fuse_ino_t parent, const char *name, bool dir)
{
	struct ff_ctx *c = fuse_req_userdata(req);
	struct ff_node *p, *k;
	size_t pos;
	int r = 0;

	ff_count(c, dir ? FF_RMDIR : FF_UNLINK);
	ff_lock(c);
	p = ff_node(c, parent);
	k = ff_find(c, p, name, &pos);
	if (!k)
		r = -ENOENT;
	else if (dir != !!S_ISDIR(k->st.st_mode))
		r = dir ? -ENOTDIR : -EISDIR;
	else if (dir && k->nkids)
		r = -ENOTEMPTY;
	if (r == 0) {
		memmove(p->kids + pos, p->kids + pos + 1, (p->nkids - pos - 1) * sizeof(*p->kids));
		p->nkids--;
		if (dir)
			p->st.st_nlink--;
		k->st.st_nlink = 0;
		clock_gettime(CLOCK_REALTIME, &p->st.st_mtim);
		p->st.st_ctim = k->st.st_ctim = p->st.st_mtim;
	}
	ff_unlock(c);
	fuse_reply_err(req, -r);
}

static void ff_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	ff_remove(req, parent, name, false);
}

static void ff_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	ff_remove(req, parent, name, true);
}

static void ff_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct ff_ctx *c = fuse_req_userdata(req);
	struct ff_node *nd;
	struct timespec now;
	struct stat st;
	int r = 0;

	ff_count(c, FF_SETATTR);
	clock_gettime(CLOCK_REALTIME, &now);
	ff_lock(c);
	nd = ff_node(c, ino);
	if (!nd)
		r = -ENOENT;
	else if ((to_set & FUSE_SET_ATTR_SIZE) && !S_ISREG(nd->st.st_mode))
		r = S_ISDIR(nd->st.st_mode) ? -EISDIR : -EINVAL;
	else if (to_set & FUSE_SET_ATTR_SIZE)
		r = ff_resize(nd, (size_t)attr->st_size);
	if (r == 0) {
		if (to_set & FUSE_SET_ATTR_MODE)
			nd->st.st_mode = (nd->st.st_mode & S_IFMT) | (attr->st_mode & 07777);
		if (to_set & FUSE_SET_ATTR_UID)
			nd->st.st_uid = attr->st_uid;
		if (to_set & FUSE_SET_ATTR_GID)
			nd->st.st_gid = attr->st_gid;
		if (to_set & FUSE_SET_ATTR_ATIME)
			nd->st.st_atim = (to_set & FUSE_SET_ATTR_ATIME_NOW) ? now : attr->st_atim;
		if (to_set & FUSE_SET_ATTR_MTIME)
			nd->st.st_mtim = (to_set & FUSE_SET_ATTR_MTIME_NOW) ? now : attr->st_mtim;
		if (to_set & FUSE_SET_ATTR_SIZE)
			nd->st.st_mtim = now;
		nd->st.st_ctim = now;
		st = nd->st;
	}
	ff_unlock(c);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, c->timeout);
}

static void ff_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct ff_ctx *c = fuse_req_userdata(req);
	struct ff_node *nd;
	int r = 0;

	ff_count(c, FF_WRITE);
	ff_lock(c);
	nd = ff_node(c, ino);
	if (!nd || !S_ISREG(nd->st.st_mode))
		r = nd ? -EISDIR : -ENOENT;
	else if ((size_t)off + size > (size_t)nd->st.st_size)
		r = ff_resize(nd, (size_t)off + size);
	if (r == 0 && size)
		memcpy(nd->data + off, buf, size);
	if (r == 0) {
		clock_gettime(CLOCK_REALTIME, &nd->st.st_mtim);
		nd->st.st_ctim = nd->st.st_mtim;
	}
	ff_unlock(c);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, size);
}

/* vnetfs applies a written value here; there is nothing to apply. */
static void ff_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	ff_count(fuse_req_userdata(req), FF_FLUSH);
	fuse_reply_err(req, 0);
}

static void ff_init(void *userdata, struct fuse_conn_info *conn)
{
	/* the capabilities vnetfs turns off (fs/fuse_ops.c, vn_ll_init) */
	conn->want &= ~(unsigned)(FUSE_CAP_AUTO_INVAL_DATA | FUSE_CAP_ATOMIC_O_TRUNC |
				  FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
}

/* The read-only floor's; main adds the writable ones with --writable
 * (without them libfuse answers ENOSYS: no FLUSH handler, see the top). */
static const struct fuse_lowlevel_ops ff_ops = {
	.init = ff_init,
	.lookup = ff_lookup,
	.forget = ff_forget,
	.forget_multi = ff_forget_multi,
	.getattr = ff_getattr,
	.opendir = ff_opendir,
	.readdir = ff_readdir,
	.releasedir = ff_releasedir,
	.open = ff_open,
	.read = ff_read,
	.release = ff_release,
};

/* One line on stderr: the requests answered, by kind. */
static void ff_print_counts(struct ff_ctx *c)
{
	fprintf(stderr, "fuse-floor: requests:");
	for (int i = 0; i < FF_NOPS; i++)
		fprintf(stderr, " %s=%lu", ff_op_names[i], atomic_load(&c->count[i]));
	fprintf(stderr, "\n");
}

int main(int argc, char **argv)
{
	struct ff_ctx ctx = {0};
	struct fuse_lowlevel_ops ops = ff_ops;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *loop = NULL;
	struct fuse_session *se = NULL;
	const char *src, *mnt;
	int r = 1, e, opt = argc == 4;

	ctx.no_open = opt && !strcmp(argv[1], "--no-open");
	ctx.writable = opt && !strcmp(argv[1], "--writable");
	if (argc != 3 + opt || (opt && !ctx.no_open && !ctx.writable)) {
		fprintf(stderr, "usage: fuse-floor [--no-open | --writable] SRC_DIR MOUNTPOINT\n");
		return 2;
	}
	src = argv[1 + opt];
	mnt = argv[2 + opt];
	ctx.timeout = ctx.writable ? FF_W_TIMEOUT : FF_TIMEOUT;
	pthread_mutex_init(&ctx.mu, NULL);
	if (ctx.writable) {
		ops.mkdir = ff_mkdir;
		ops.unlink = ff_unlink;
		ops.rmdir = ff_rmdir;
		ops.setattr = ff_setattr;
		ops.write = ff_write;
		ops.flush = ff_flush;
	}
	e = ff_load(&ctx, src);
	if (e < 0) {
		fprintf(stderr, "fuse-floor: cannot load %s: %s\n", src, strerror(-e));
		goto out;
	}
	fprintf(stderr, "fuse-floor: %zu nodes from %s%s\n", ctx.n, src,
		ctx.no_open    ? " (no OPEN)"
		: ctx.writable ? " (writable)"
			       : "");
	if (fuse_opt_add_arg(&args, argv[0]) ||
	    fuse_opt_add_arg(&args, "-ofsname=fuse-floor,subtype=fuse-floor"))
		goto out;
	se = fuse_session_new(&args, &ops, sizeof(ops), &ctx);
	if (!se)
		goto out;
	if (fuse_session_mount(se, mnt) != 0)
		goto out_destroy;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_unmount;
	loop = fuse_loop_cfg_create();
	if (loop) { /* as fs/main.c */
		fuse_loop_cfg_set_max_threads(loop, 16);
		fuse_loop_cfg_set_idle_threads(loop, 16);
		r = fuse_session_loop_mt(se, loop);
		r = r == 0 || r == SIGTERM || r == SIGINT || r == SIGHUP ? 0 : 1;
		fuse_loop_cfg_destroy(loop);
	}
	fuse_remove_signal_handlers(se);
out_unmount:
	fuse_session_unmount(se);
out_destroy:
	fuse_session_destroy(se);
	ff_print_counts(&ctx);
out:
	fuse_opt_free_args(&args);
	ff_free(&ctx);
	pthread_mutex_destroy(&ctx.mu);
	return r;
}
