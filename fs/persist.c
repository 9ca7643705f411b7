// SPDX-License-Identifier: MIT
/*
 * Persistence: one JSON file per object, STATE/objects/<id>.json, written
 * atomically (temp file, fsync, rename) so a write never rewrites the
 * whole state and a SIGKILL at any moment leaves either the old or the
 * new file. Loading attaches parents before children; a file whose parent
 * is gone (a delete interrupted half-way) is an orphan and is removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnetfs/model.h"
#include "fs/internal.h"

static int vn_mkdir_p(const char *path)
{
	_cleanup_free_ char *dup = strdup(path);

	if (!dup)
		return -ENOMEM;
	for (char *p = dup + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dup, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dup, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int vn_persist_open(struct vn_ctx *c)
{
	_cleanup_free_ char *objs = NULL;
	int r;

	if (asprintf(&objs, "%s/objects", c->opts.state_dir) < 0)
		return -ENOMEM;
	r = vn_mkdir_p(objs);
	if (r < 0)
		return vn_err(r, "cannot create state directory %s", objs);
	c->state_fd = open(objs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->state_fd < 0)
		return vn_err(-errno, "cannot open state directory %s", objs);
	return 0;
}

static struct json_object *vn_persist_doc(struct vn_obj *o)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "type", json_object_new_string(o->kind->type));
	json_object_object_add(j, "name", json_object_new_string(o->name));
	json_object_object_add(j, "id", json_object_new_string(o->id));
	json_object_object_add(j, "parent",
			       o->parent ? json_object_new_string(o->parent->id) : NULL);
	json_object_object_add(j, "uid", json_object_new_int64(o->uid));
	json_object_object_add(j, "gid", json_object_new_int64(o->gid));
	json_object_object_add(j, "ctime", json_object_new_int64(o->ctime.tv_sec));
	json_object_object_add(j, "ctime_ns", json_object_new_int64(o->ctime.tv_nsec));
	json_object_object_add(j, "props", json_object_get(o->props));
	return j;
}

int vn_obj_save(struct vn_ctx *c, struct vn_obj *o)
{
	_cleanup_json_ struct json_object *doc = NULL;
	char tmp[64], final[64];
	const char *text;
	size_t len, off = 0;
	int fd, r = 0;

	if (c->loading || c->state_fd < 0)
		return 0;
	doc = vn_persist_doc(o);
	if (!doc)
		return -ENOMEM;
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", o->id);
	snprintf(final, sizeof(final), "%s.json", o->id);
	fd = openat(c->state_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return vn_err(-errno, "cannot write state of %s %s", o->kind->type, o->name);
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(c->state_fd, tmp, c->state_fd, final) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(c->state_fd, tmp, 0);
		return vn_err(r, "cannot write state of %s %s", o->kind->type, o->name);
	}
	return 0;
}

int vn_persist_remove(struct vn_ctx *c, struct vn_obj *o)
{
	char final[64];

	if (c->state_fd < 0)
		return 0;
	snprintf(final, sizeof(final), "%s.json", o->id);
	if (unlinkat(c->state_fd, final, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

bool vn_persist_initialized(struct vn_ctx *c)
{
	return faccessat(c->state_fd, ".initialized", F_OK, 0) == 0;
}

int vn_persist_mark_initialized(struct vn_ctx *c)
{
	int fd = openat(c->state_fd, ".initialized", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	fsync(fd);
	close(fd);
	return 0;
}

struct vn_pending {
	struct json_object *doc;
	long long ctime, ctime_ns;
};

static int vn_pending_cmp(const void *a, const void *b)
{
	const struct vn_pending *x = a, *y = b;

	if (x->ctime != y->ctime)
		return x->ctime < y->ctime ? -1 : 1;
	return x->ctime_ns < y->ctime_ns ? -1 : x->ctime_ns > y->ctime_ns;
}

static const char *vn_doc_str(struct json_object *doc, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(doc, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static long long vn_doc_int(struct json_object *doc, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(doc, key, &v))
		return 0;
	return json_object_get_int64(v);
}

/* Attach one loaded object if its parent is in the model. 1: attached,
 * 0: parent not (yet) there, <0: unusable file. */
static int vn_persist_attach(struct vn_ctx *c, struct vn_pending *p)
{
	const char *type = vn_doc_str(p->doc, "type"), *name = vn_doc_str(p->doc, "name");
	const char *id = vn_doc_str(p->doc, "id"), *parent_id = vn_doc_str(p->doc, "parent");
	const struct vn_kind *k = type ? vn_kind_by_type(type) : NULL;
	struct json_object *props = NULL;
	struct vn_coll *coll;
	struct vn_obj *o;
	int r;

	if (!k || !name || !id || strlen(id) != 36)
		return -EINVAL;
	if (parent_id) {
		struct vn_obj *parent = vn_find_id(c, parent_id);

		if (!parent)
			return 0;
		coll = vn_child_coll(parent, k);
	} else {
		coll = vn_root_coll(c, k);
	}
	if (!coll || vn_coll_find(coll, name) || vn_find_id(c, id))
		return -EINVAL;
	if (!json_object_object_get_ex(p->doc, "props", &props) ||
	    !json_object_is_type(props, json_type_object))
		props = NULL;
	r = vn_obj_attach(c, coll, name, id, (uid_t)vn_doc_int(p->doc, "uid"),
			  (gid_t)vn_doc_int(p->doc, "gid"), props ? json_object_get(props) : NULL,
			  &o);
	if (r < 0)
		return r;
	o->ctime.tv_sec = (time_t)p->ctime;
	o->ctime.tv_nsec = (long)p->ctime_ns;
	o->mtime = o->ctime;
	return 1;
}

int vn_persist_load(struct vn_ctx *c)
{
	struct vn_pending *pend = NULL;
	size_t n = 0, cap = 0, left;
	struct dirent *de;
	DIR *d;
	int dfd, r = 0;
	bool progress;

	dfd = openat(c->state_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		struct json_object *doc = NULL;
		int fd;

		if (de->d_name[0] == '.') {
			if (l > 4 && !strcmp(de->d_name + l - 4, ".tmp"))
				unlinkat(c->state_fd, de->d_name, 0); /* torn write */
			continue;
		}
		if (l < 6 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		fd = openat(c->state_fd, de->d_name, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			doc = json_object_from_fd(fd);
			close(fd);
		}
		if (!doc) {
			vn_warn(-EINVAL, "ignoring unreadable state file %s", de->d_name);
			continue;
		}
		if (n == cap) {
			struct vn_pending *np;

			cap = cap ? cap * 2 : 64;
			np = realloc(pend, cap * sizeof(*pend));
			if (!np) {
				json_object_put(doc);
				r = -ENOMEM;
				goto out;
			}
			pend = np;
		}
		pend[n].doc = doc;
		pend[n].ctime = vn_doc_int(doc, "ctime");
		pend[n].ctime_ns = vn_doc_int(doc, "ctime_ns");
		n++;
	}
	if (n)
		qsort(pend, n, sizeof(*pend), vn_pending_cmp);
	/* Parents first: repeat until a pass attaches nothing. */
	left = n;
	do {
		progress = false;
		for (size_t i = 0; i < n; i++) {
			if (!pend[i].doc)
				continue;
			r = vn_persist_attach(c, &pend[i]);
			if (r == 0)
				continue;
			if (r < 0)
				vn_warn(r, "ignoring bad state file for %s",
					vn_doc_str(pend[i].doc, "id") ?: "?");
			json_object_put(pend[i].doc);
			pend[i].doc = NULL;
			left--;
			progress = true;
		}
	} while (progress && left);
	r = 0;
	/* What is left lost its parent: an interrupted delete. Finish it. */
	for (size_t i = 0; i < n; i++) {
		const char *id;
		char file[64];

		if (!pend[i].doc)
			continue;
		id = vn_doc_str(pend[i].doc, "id");
		vn_info("removing orphan state %s (%s)", id ?: "?",
			vn_doc_str(pend[i].doc, "name") ?: "?");
		if (id && strlen(id) == 36) {
			snprintf(file, sizeof(file), "%s.json", id);
			unlinkat(c->state_fd, file, 0);
		}
		json_object_put(pend[i].doc);
	}
out:
	if (r < 0)
		for (size_t i = 0; i < n; i++)
			json_object_put(pend[i].doc);
	free(pend);
	closedir(d);
	return r;
}
