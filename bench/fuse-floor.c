// SPDX-License-Identifier: MIT
/*
 * bench/fuse-floor.c — the best case a FUSE server can do for a walk.
 *
 *   fuse-floor [--no-open] SRC_DIR MOUNTPOINT
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
 */
#define FUSE_USE_VERSION 312 /* as fs/fuse_ops.h: the fuse_loop_cfg_* API */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FF_TIMEOUT 1e6 /* seconds: for good */

/* One file or directory; its inode number is its index + 1 (root: 1). */
struct ff_node {
	struct stat st;
	char *name;
	char *data;	  /* a file's contents (st.st_size bytes) */
	fuse_ino_t *kids; /* a directory's entries, sorted by name */
	size_t nkids;
};

/* The whole server's state, read-only once the tree is loaded. */
struct ff_ctx {
	struct ff_node *nodes;
	size_t n, cap;
	int no_open; /* --no-open */
};

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

/* Appends a node for fd (an open file or directory); *ino is its number. */
static int ff_add(struct ff_ctx *c, const char *name, int fd, const struct stat *st,
		  fuse_ino_t *ino)
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
	if (!nd->name)
		return -ENOMEM;
	return S_ISREG(st->st_mode) ? ff_read_all(fd, nd) : 0;
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

static void ff_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct ff_ctx *c = fuse_req_userdata(req);
	struct ff_node *p = ff_node(c, parent);
	struct fuse_entry_param e = {.attr_timeout = FF_TIMEOUT, .entry_timeout = FF_TIMEOUT};
	size_t lo = 0, hi = p ? p->nkids : 0;

	while (lo < hi) { /* binary search; not found: a cached negative entry */
		size_t mid = (lo + hi) / 2;
		struct ff_node *k = &c->nodes[p->kids[mid] - 1];
		int d = strcmp(name, k->name);

		if (d == 0) {
			e.ino = k->st.st_ino;
			e.attr = k->st;
			break;
		}
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	fuse_reply_entry(req, &e);
}

static void ff_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fuse_reply_none(req); /* nodes live as long as the server */
}

static void ff_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ff_node *nd = ff_node(fuse_req_userdata(req), ino);

	if (nd)
		fuse_reply_attr(req, &nd->st, FF_TIMEOUT);
	else
		fuse_reply_err(req, ENOENT);
}

static void ff_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ff_ctx *c = fuse_req_userdata(req);

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
	struct ff_node *nd = ff_node(c, ino);
	char *buf = malloc(size ? size : 1);
	size_t used = 0;

	if (!nd || !buf) {
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
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void ff_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

static void ff_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ff_ctx *c = fuse_req_userdata(req);

	if (c->no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fi->keep_cache = 1;
	fi->noflush = 1;
	fuse_reply_open(req, fi);
}

static void ff_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct ff_node *nd = ff_node(fuse_req_userdata(req), ino);
	size_t len;

	if (!nd || !nd->data) {
		fuse_reply_err(req, nd ? EISDIR : ENOENT);
		return;
	}
	len = (size_t)nd->st.st_size;
	if ((size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, nd->data + off,
			       len - (size_t)off < size ? len - (size_t)off : size);
}

static void ff_init(void *userdata, struct fuse_conn_info *conn)
{
	/* the capabilities vnetfs turns off (fs/fuse_ops.c, vn_ll_init) */
	conn->want &= ~(unsigned)(FUSE_CAP_AUTO_INVAL_DATA | FUSE_CAP_ATOMIC_O_TRUNC |
				  FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
}

static const struct fuse_lowlevel_ops ff_ops = {
	.init = ff_init,
	.lookup = ff_lookup,
	.forget = ff_forget,
	.getattr = ff_getattr,
	.opendir = ff_opendir,
	.readdir = ff_readdir,
	.releasedir = ff_release,
	.open = ff_open,
	.read = ff_read,
	.release = ff_release,
};

int main(int argc, char **argv)
{
	struct ff_ctx ctx = {0};
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *loop = NULL;
	struct fuse_session *se = NULL;
	const char *src, *mnt;
	int r = 1, e;

	ctx.no_open = argc == 4 && !strcmp(argv[1], "--no-open");
	if (argc != 3 + ctx.no_open) {
		fprintf(stderr, "usage: fuse-floor [--no-open] SRC_DIR MOUNTPOINT\n");
		return 2;
	}
	src = argv[1 + ctx.no_open];
	mnt = argv[2 + ctx.no_open];
	e = ff_load(&ctx, src);
	if (e < 0) {
		fprintf(stderr, "fuse-floor: cannot load %s: %s\n", src, strerror(-e));
		goto out;
	}
	fprintf(stderr, "fuse-floor: %zu nodes from %s%s\n", ctx.n, src,
		ctx.no_open ? " (no OPEN)" : "");
	if (fuse_opt_add_arg(&args, argv[0]) ||
	    fuse_opt_add_arg(&args, "-ofsname=fuse-floor,subtype=fuse-floor"))
		goto out;
	se = fuse_session_new(&args, &ff_ops, sizeof(ff_ops), &ctx);
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
out:
	fuse_opt_free_args(&args);
	ff_free(&ctx);
	return r;
}
