// SPDX-License-Identifier: MIT
/*
 * Attribute values: the generic parsers per type, the write path
 * (parse -> compare -> check -> apply -> persist), rendering, and the
 * `json` document. Generic over kinds.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vnetfs/model.h"
#include "fs/internal.h"

const struct vn_attr *vn_attr_find(const struct vn_kind *k, const char *name)
{
	for (const struct vn_attr *a = k->attrs; a && a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

const char *vn_common_file(const char *name)
{
	for (size_t i = 0; vn_common_files[i]; i++)
		if (!strcmp(vn_common_files[i], name))
			return vn_common_files[i];
	return NULL;
}

/* ---- typed getters ---- */

static struct json_object *vn_prop(struct vn_obj *o, const char *name)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o->props, name, &v))
		return NULL;
	return v;
}

const char *vn_get_str(struct vn_obj *o, const char *name)
{
	struct json_object *v = vn_prop(o, name);
	const struct vn_attr *a;

	if (v && json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		return *s ? s : NULL;
	}
	a = vn_attr_find(o->kind, name);
	return a && a->dflt && *a->dflt ? a->dflt : NULL;
}

long vn_get_int(struct vn_obj *o, const char *name)
{
	struct json_object *v = vn_prop(o, name);
	const struct vn_attr *a;

	if (v)
		return (long)json_object_get_int64(v);
	a = vn_attr_find(o->kind, name);
	return a && a->dflt ? strtol(a->dflt, NULL, 10) : 0;
}

bool vn_get_bool(struct vn_obj *o, const char *name)
{
	return vn_get_int(o, name) != 0;
}

struct json_object *vn_get_list(struct vn_obj *o, const char *name)
{
	struct json_object *v = vn_prop(o, name);

	if (!v || !json_object_is_type(v, json_type_array) || !json_object_array_length(v))
		return NULL;
	return v;
}

size_t vn_list_len(struct json_object *list)
{
	return list ? json_object_array_length(list) : 0;
}

const char *vn_list_at(struct json_object *list, size_t i)
{
	return json_object_get_string(json_object_array_get_idx(list, i));
}

/* Inside a change, remember what a value was, for a rollback. */
static void vn_undo_record(struct vn_obj *o, const char *name)
{
	struct vn_ctx *c = o->ctx;
	struct vn_undo *u;

	if (!c || c->txn_depth <= 0 || c->persist_off || c->loading)
		return;
	if (c->nundo == c->capundo) {
		size_t cap = c->capundo ? c->capundo * 2 : 16;
		struct vn_undo *nv = realloc(c->undo, cap * sizeof(*nv));

		if (!nv)
			return;
		c->undo = nv;
		c->capundo = cap;
	}
	u = &c->undo[c->nundo];
	u->name = strdup(name);
	if (!u->name)
		return;
	u->o = o;
	u->old = json_object_get(vn_prop(o, name));
	c->nundo++;
}

void vn_undo_forget(struct vn_ctx *c, struct vn_obj *o)
{
	for (size_t i = 0; i < c->nundo; i++)
		if (c->undo[i].o == o)
			c->undo[i].o = NULL;
}

void vn_undo_finish(struct vn_ctx *c, bool replay)
{
	for (size_t i = c->nundo; i-- > 0;) {
		struct vn_undo *u = &c->undo[i];

		if (replay && u->o) {
			if (u->old)
				json_object_object_add(u->o->props, u->name,
						       json_object_get(u->old));
			else
				json_object_object_del(u->o->props, u->name);
			vn_graph_prop(u->o, u->name); /* edges follow the old value */
		}
		json_object_put(u->old);
		free(u->name);
	}
	c->nundo = 0;
	if (!replay && c->capundo > 64) {
		free(c->undo);
		c->undo = NULL;
		c->capundo = 0;
	}
}

void vn_set(struct vn_obj *o, const char *name, struct json_object *v)
{
	vn_undo_record(o, name);
	vn_changed(o->ctx, o, NULL); /* derived values of o may follow */
	if (v)
		json_object_object_add(o->props, name, v);
	else
		json_object_object_del(o->props, name);
	vn_graph_prop(o, name);
}

/* ---- the final newline ----
 * A file reads back as it was last written: a whole write whose last byte
 * is not a newline (Ansible's copy and template, printf without \n) makes
 * the file render without its final newline until a write that ends in
 * one, or a reset (unlink, an empty write). Kept as the private props key
 * "_nonl_<attr>" (true), absent otherwise; persisted with the object. The
 * value itself, the comparison (idempotence) and `json` ignore it. */
#define VN_NONL_PREFIX "_nonl_"

static void vn_nonl_key(const struct vn_attr *a, char *key, size_t size)
{
	snprintf(key, size, VN_NONL_PREFIX "%s", a->name);
}

static bool vn_nonl_get(struct vn_obj *o, const struct vn_attr *a)
{
	char key[96];
	struct json_object *v = NULL;

	vn_nonl_key(a, key, sizeof(key));
	return json_object_object_get_ex(o->props, key, &v) && json_object_get_boolean(v);
}

/* Set the flag; true when it changed. */
static bool vn_nonl_set(struct vn_obj *o, const struct vn_attr *a, bool nonl)
{
	char key[96];

	if (vn_nonl_get(o, a) == nonl)
		return false;
	vn_nonl_key(a, key, sizeof(key));
	vn_set(o, key, nonl ? json_object_new_boolean(1) : NULL);
	return true;
}

/* ---- parsing ---- */

static bool vn_is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Copy [s, s+len) without surrounding blanks into a new string. */
static char *vn_strip(const char *s, size_t len)
{
	while (len && vn_is_blank(*s))
		s++, len--;
	while (len && vn_is_blank(s[len - 1]))
		len--;
	return strndup(s, len);
}

static int vn_parse_scalar(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			   const char *text, struct json_object **out, struct vn_err *err)
{
	char *end;
	long v;

	for (const char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return vn_fail(err, -EINVAL, "%s takes a single line", a->name);
	if (a->parse)
		return a->parse(c, o, text, out, err);
	switch (a->type) {
	case VN_T_INT:
		errno = 0;
		v = strtol(text, &end, 10);
		if (errno || end == text || *end || v < a->min || v > a->max)
			return vn_fail(err, -EINVAL,
				       "%s must be an integer from %ld to %ld, not '%s'", a->name,
				       a->min, a->max, text);
		*out = json_object_new_int64(v);
		return 0;
	case VN_T_BOOL:
		if (!strcmp(text, "1") || !strcasecmp(text, "true") || !strcasecmp(text, "yes"))
			*out = json_object_new_int(1);
		else if (!strcmp(text, "0") || !strcasecmp(text, "false") ||
			 !strcasecmp(text, "no"))
			*out = json_object_new_int(0);
		else
			return vn_fail(err, -EINVAL, "%s must be 0 or 1, not '%s'", a->name, text);
		return 0;
	case VN_T_ENUM:
		for (size_t i = 0; a->choices[i]; i++) {
			if (!strcasecmp(text, a->choices[i])) {
				*out = json_object_new_string(a->choices[i]);
				return 0;
			}
		}
		return vn_fail(err, -EINVAL, "%s must be one of %s%s%s, not '%s'", a->name,
			       a->choices[0], a->choices[1] ? " or " : "",
			       a->choices[1] ? a->choices[1] : "", text);
	default:
		*out = json_object_new_string(text);
		return 0;
	}
}

/* The lines of a list value so far, to find one written twice in O(1)
 * (a group's 10,000 rules): items that are strings by their text, kept
 * pointing into the items (json_object_get_string of a string renders
 * nothing, so the ones shared with the model are only read); others, rare,
 * are compared one by one. */
struct vn_lineset {
	struct lh_table *text;
	struct json_object *arr;
};

static bool vn_lineset_has(const struct vn_lineset *ls, struct json_object *item)
{
	if (json_object_is_type(item, json_type_string))
		return lh_table_lookup_entry(ls->text, json_object_get_string(item)) != NULL;
	for (size_t i = 0; i < json_object_array_length(ls->arr); i++) {
		struct json_object *it = json_object_array_get_idx(ls->arr, i);

		if (!json_object_is_type(it, json_type_string) && json_object_equal(item, it))
			return true;
	}
	return false;
}

static int vn_lineset_add(struct vn_lineset *ls, struct json_object *item)
{
	if (!json_object_is_type(item, json_type_string))
		return 0;
	return lh_table_insert(ls->text, json_object_get_string(item), item) < 0 ? -ENOMEM : 0;
}

/* The lines of val into ls->arr (see vn_parse_lines). */
static int vn_parse_lines_in(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			     const char *val, size_t len, bool append, struct vn_lineset *ls,
			     size_t lineno, struct vn_err *err)
{
	const char *p = val, *end = val + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		_cleanup_free_ char *line = vn_strip(p, l);
		struct json_object *item = NULL;
		int r;

		if (!line)
			return -ENOMEM;
		p += l + (nl ? 1 : 0);
		lineno++;
		if (!*line)
			continue;
		for (const char *q = line; *q; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t')
				return vn_fail(err, -EINVAL,
					       "%s: line '%s' has a control character", a->name,
					       line);
		if (a->parse)
			r = a->parse(c, o, line, &item, err);
		else {
			item = json_object_new_string(line);
			r = item ? 0 : -ENOMEM;
		}
		if (r < 0 && (a->flags & VN_ATTR_RULES)) {
			char why[sizeof(err->msg)];

			snprintf(why, sizeof(why), "%s", err->msg);
			return vn_fail(err, r, "%s line %zu: %s", a->name, lineno, why);
		}
		if (r < 0)
			return r;
		if (vn_lineset_has(ls, item)) {
			json_object_put(item);
			if (append ||
			    (a->flags & VN_ATTR_RULES)) /* `>>` of a line already there, or a rule
							   again: nothing to add */
				continue;
			return vn_fail(err, -EINVAL, "%s: line '%s' appears twice", a->name, line);
		}
		if (json_object_array_add(ls->arr, item) < 0) {
			json_object_put(item);
			return -ENOMEM;
		}
		r = vn_lineset_add(ls, item);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Split into lines, strip each, drop blank ones, parse each into arr. */
static int vn_parse_lines(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			  const char *val, size_t len, bool append, struct json_object *arr,
			  size_t lineno, struct vn_err *err)
{
	struct vn_lineset ls = {.text = lh_kchar_table_new(64, NULL), .arr = arr};
	int r = ls.text ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < json_object_array_length(arr); i++)
		r = vn_lineset_add(&ls, json_object_array_get_idx(arr, i));
	if (r == 0)
		r = vn_parse_lines_in(c, o, a, val, len, append, &ls, lineno, err);
	if (ls.text)
		lh_table_free(ls.text);
	return r;
}

/* Parse a written value into its explicit JSON form; *out NULL means
 * "no explicit value" (back to the default / cleared). */
static int vn_parse_value(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			  const char *val, size_t len, bool append, struct json_object **out,
			  struct vn_err *err)
{
	_cleanup_json_ struct json_object *arr = NULL;
	_cleanup_free_ char *text = NULL;
	int r;

	*out = NULL;
	if (memchr(val, '\0', len))
		return vn_fail(err, -EINVAL, "%s: the value contains a NUL byte", a->name);
	if (a->type != VN_T_LIST) {
		text = vn_strip(val, len);
		if (!text)
			return -ENOMEM;
		if (!*text)
			return 0;
		return vn_parse_scalar(c, o, a, text, out, err);
	}
	arr = json_object_new_array();
	if (!arr)
		return -ENOMEM;
	if (append) {
		struct json_object *cur = vn_get_list(o, a->name);

		for (size_t i = 0; i < vn_list_len(cur); i++)
			json_object_array_add(arr,
					      json_object_get(json_object_array_get_idx(cur, i)));
	}
	r = vn_parse_lines(c, o, a, val, len, append, arr, 0, err);
	if (r < 0)
		return r;
	if (json_object_array_length(arr))
		*out = TAKE_PTR(arr);
	return 0;
}

/* A value loaded from the store, checked as a write of it would be: its
 * JSON type, range or choices, and the attribute's own syntax check. */
int vn_attr_validate(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
		     struct json_object *v, struct vn_err *err)
{
	_cleanup_json_ struct json_object *out = NULL;
	struct vn_err e = {0};
	int r;

	switch (a->type) {
	case VN_T_INT:
	case VN_T_BOOL:
		if (!json_object_is_type(v, json_type_int) &&
		    !json_object_is_type(v, json_type_boolean))
			return vn_fail(err, -EINVAL, "%s is not a number", a->name);
		if (a->type == VN_T_BOOL) {
			int64_t b = json_object_get_int64(v);

			if (b != 0 && b != 1)
				return vn_fail(err, -EINVAL, "%s %lld is not 0 or 1", a->name,
					       (long long)b);
			return 0;
		}
		if (json_object_get_int64(v) < a->min || json_object_get_int64(v) > a->max)
			return vn_fail(err, -EINVAL, "%s %lld is out of range (%ld to %ld)",
				       a->name, (long long)json_object_get_int64(v), a->min,
				       a->max);
		if (!a->parse)
			return 0;
		{
			char num[32];

			snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
			r = vn_parse_scalar(c, o, a, num, &out, &e);
		}
		break;
	case VN_T_LIST:
		if (!json_object_is_type(v, json_type_array))
			return vn_fail(err, -EINVAL, "%s is not a list", a->name);
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *item = json_object_array_get_idx(v, i);
			const char *s = json_object_get_string(item);

			if (!json_object_is_type(item, json_type_string) || !*s)
				return vn_fail(err, -EINVAL, "%s has a line that is not text",
					       a->name);
			for (const char *q = s; *q; q++)
				if ((unsigned char)*q < 0x20 && *q != '\t')
					return vn_fail(err, -EINVAL, "%s has a control character",
						       a->name);
			if (a->parse) {
				struct json_object *one = NULL;

				r = a->parse(c, o, s, &one, &e);
				json_object_put(one);
				if (r < 0)
					return vn_fail(err, -EINVAL, "%s line '%.64s': %s", a->name,
						       s, e.msg);
			}
		}
		return 0;
	default:
		if (!json_object_is_type(v, json_type_string))
			return vn_fail(err, -EINVAL, "%s is not text", a->name);
		if (!*json_object_get_string(v))
			return 0;
		if ((a->mode & 0222) == 0 && !a->parse)
			return 0; /* a value the daemon itself wrote (device_owner) */
		r = vn_parse_scalar(c, o, a, json_object_get_string(v), &out, &e);
		break;
	}
	if (r < 0)
		return vn_fail(err, -EINVAL, "%s: %s", a->name, e.msg[0] ? e.msg : "invalid");
	return 0;
}

int vn_attr_parse(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, const char *val,
		  size_t len, bool append, struct json_object **out, struct vn_err *err)
{
	return vn_parse_value(c, o, a, val, len, append && a->type == VN_T_LIST, out, err);
}

/* ---- rendering ---- */

static int vn_json_text(struct json_object *v, struct vn_buf *out)
{
	switch (json_object_get_type(v)) {
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			int r = vn_buf_printf(
				out, "%s\n",
				json_object_get_string(json_object_array_get_idx(v, i)));
			if (r < 0)
				return r;
		}
		return 0;
	case json_type_boolean:
		return vn_buf_puts(out, json_object_get_boolean(v) ? "1\n" : "0\n");
	case json_type_int:
		/* not json_object_get_string: it prints into the object's own
		 * buffer, and readers render under a shared lock */
		return vn_buf_printf(out, "%lld\n", (long long)json_object_get_int64(v));
	case json_type_double:
		return vn_buf_printf(out, "%g\n", json_object_get_double(v));
	case json_type_null:
		return 0;
	default: {
		const char *s = json_object_get_string(v);

		return *s ? vn_buf_printf(out, "%s\n", s) : 0;
	}
	}
}

int vn_attr_render(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, struct vn_buf *out)
{
	struct json_object *v;

	if (a->show)
		return a->show(c, o, out);
	v = vn_prop(o, a->name);
	if (v)
		return vn_json_text(v, out);
	if (a->dflt && *a->dflt)
		return vn_buf_printf(out, "%s\n", a->dflt);
	return 0;
}

int vn_obj_render(struct vn_ctx *c, struct vn_obj *o, const char *name, struct vn_buf *out)
{
	const struct vn_attr *a;

	if (!strcmp(name, "id"))
		return vn_buf_printf(out, "%s\n", o->id);
	if (!strcmp(name, "status"))
		return vn_buf_printf(out, "%s\n", vn_obj_status(c, o));
	if (!strcmp(name, "error"))
		return o->error ? vn_buf_printf(out, "%s\n", o->error) : 0;
	if (!strcmp(name, "json")) {
		_cleanup_json_ struct json_object *j = vn_obj_json(c, o);

		if (!j)
			return -ENOMEM;
		return vn_buf_printf(
			out, "%s\n",
			json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	a = vn_attr_find(o->kind, name);
	if (!a)
		return -ENOENT;
	{
		size_t start = out->len;
		int r = vn_attr_render(c, o, a, out);

		/* the last write ended without a newline: so does the file */
		if (r == 0 && out->len > start && out->s[out->len - 1] == '\n' && vn_nonl_get(o, a))
			out->s[--out->len] = '\0';
		return r;
	}
}

/* Typed JSON of an attribute's effective value, from its rendered text. */
static struct json_object *vn_attr_json(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a)
{
	_cleanup_buf_ struct vn_buf b = {0};
	struct json_object *arr;
	char *p, *nl;

	if (vn_attr_render(c, o, a, &b) < 0 || !b.s)
		return a->type == VN_T_LIST ? json_object_new_array() : NULL;
	if (a->type == VN_T_LIST) {
		arr = json_object_new_array();
		for (p = b.s; *p;) {
			size_t l;

			nl = strchr(p, '\n');
			l = nl ? (size_t)(nl - p) : strlen(p);
			json_object_array_add(arr, json_object_new_string_len(p, (int)l));
			p += l + (nl ? 1 : 0);
		}
		return arr;
	}
	if (b.len && b.s[b.len - 1] == '\n')
		b.s[--b.len] = '\0';
	if (!b.len)
		return NULL;
	if (a->type == VN_T_INT)
		return json_object_new_int64(strtol(b.s, NULL, 10));
	if (a->type == VN_T_BOOL)
		return json_object_new_boolean(!strcmp(b.s, "1"));
	return json_object_new_string(b.s);
}

struct json_object *vn_obj_json(struct vn_ctx *c, struct vn_obj *o)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	json_object_object_add(j, "id", json_object_new_string(o->id));
	json_object_object_add(j, "name", json_object_new_string(o->name));
	json_object_object_add(j, "type", json_object_new_string(o->kind->type));
	if (o->parent)
		json_object_object_add(j, o->parent->kind->type,
				       json_object_new_string(o->parent->name));
	json_object_object_add(j, "status", json_object_new_string(vn_obj_status(c, o)));
	json_object_object_add(j, "error", o->error ? json_object_new_string(o->error) : NULL);
	json_object_object_add(j, "uid", json_object_new_int64(o->uid));
	json_object_object_add(j, "gid", json_object_new_int64(o->gid));
	for (const struct vn_attr *a = o->kind->attrs; a->name; a++) {
		if (a->flags & (VN_ATTR_SECRET | VN_ATTR_NOJSON))
			continue;
		json_object_object_add(j, a->name, vn_attr_json(c, o, a));
	}
	for (size_t i = 0; i < o->ncolls; i++) {
		struct json_object *names = json_object_new_array();
		struct vn_obj *child;

		vn_coll_foreach(&o->colls[i], child)
		{
			json_object_array_add(names, json_object_new_string(child->name));
		}
		json_object_object_add(j, o->colls[i].kind->dir, names);
	}
	return j;
}

/* ---- the write path ---- */

/* Put the old value back and make the backend match it again; nothing is
 * stored (the change's transaction rolls back). */
static void vn_attr_undo(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			 struct json_object *old)
{
	_cleanup_json_ struct json_object *now = json_object_get(vn_prop(o, a->name));
	struct vn_err undo = {0};

	vn_set(o, a->name, json_object_get(old));
	c->persist_off++;
	vn_graph_push(c, o);
	if (o->kind->apply && o->kind->apply(c, o, a, now, &undo) < 0) {
		o->failed = true;
		vn_changed(c, o, "status");
	}
	vn_graph_pop(c);
	/* dependents synced with the new value follow the old one again */
	vn_propagate(c, o, a->name, true, &undo);
	c->persist_off--;
}

/* nonl: the final-newline flag this write leaves (1: none, 0: a newline,
 * -1: keep it as it is). */
static int vn_attr_change(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			  struct json_object *nv, int nonl, struct vn_err *err)
{
	_cleanup_json_ struct json_object *old = json_object_get(vn_prop(o, a->name));
	const bool old_nonl = vn_nonl_get(o, a);
	_cleanup_buf_ struct vn_buf before = {0};
	_cleanup_buf_ struct vn_buf after = {0};
	const struct vn_kind *k = o->kind;
	int r;

	r = vn_attr_render(c, o, a, &before);
	if (r < 0) {
		json_object_put(nv);
		return vn_fail(err, r, "could not read %s", a->name);
	}
	vn_set(o, a->name, nv);
	r = vn_attr_render(c, o, a, &after);
	if (r < 0)
		goto restore;
	if (before.len == after.len && (!before.len || !memcmp(before.s, after.s, before.len))) {
		/* The value it already has: nothing to do (and an explicit
		 * value equal to a derived default stays derived). */
		vn_set(o, a->name, json_object_get(old));
		if (nonl >= 0 && vn_nonl_set(o, a, nonl)) {
			/* same value, another final newline: only the file's
			 * bytes change (stored; no backend call) */
			vn_txn_begin(c);
			r = vn_obj_save_end(c, o);
			if (r < 0) {
				vn_nonl_set(o, a, old_nonl);
				return vn_fail(err, -EIO, "could not persist %s: %s", a->name,
					       strerror(-r));
			}
			clock_gettime(CLOCK_REALTIME, &o->mtime); /* its bytes changed */
		}
		vn_obj_clear_error(o);
		return 0;
	}
	if (k->check) {
		r = k->check(c, o, a, err);
		if (r < 0)
			goto restore;
	}
	vn_txn_begin(c);
	if (nonl >= 0)
		vn_nonl_set(o, a, nonl);
	if (k->apply) {
		vn_graph_push(c, o);
		r = k->apply(c, o, a, old, err);
		vn_graph_pop(c);
		if (r < 0) {
			/* Values changed on the way go back first, then the
			 * old model is asserted again, undoing partial work. */
			vn_txn_end(c, false);
			vn_attr_undo(c, o, a, old);
			goto restore;
		}
	}
	/* Dependents follow, in the same transaction; a failure undoes
	 * the whole write (theirs too). */
	r = vn_propagate(c, o, a->name, false, err);
	if (r < 0) {
		vn_txn_end(c, false);
		vn_attr_undo(c, o, a, old);
		goto restore;
	}
	r = vn_obj_save_end(c, o);
	if (r < 0) {
		vn_fail(err, -EIO, "could not persist %s: %s", a->name, strerror(-r));
		vn_attr_undo(c, o, a, old);
		vn_nonl_set(o, a, old_nonl);
		return -EIO;
	}
	clock_gettime(CLOCK_REALTIME, &o->mtime);
	vn_obj_clear_error(o);
	o->damaged = false;
	vn_debug("%s %s: %s changed", k->type, o->name, a->name);
	return 0;

restore:
	vn_set(o, a->name, json_object_get(old));
	vn_nonl_set(o, a, old_nonl);
	if (!err || !err->code)
		vn_fail(err, r, "%s could not be changed", a->name);
	return r;
}

int vn_attr_set(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, struct json_object *nv,
		struct vn_err *err)
{
	return vn_attr_change(c, o, a, nv, -1, err);
}

int vn_attr_write(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, const char *val,
		  size_t len, bool append, struct vn_err *err)
{
	struct json_object *nv = NULL;
	int r;

	if ((a->mode & 0222) == 0)
		return vn_fail(err, -EACCES, "%s is read-only", a->name);
	if (len > VN_ATTR_MAX)
		return vn_fail(err, -EFBIG, "%s: a value is at most %d bytes", a->name,
			       VN_ATTR_MAX);
	if (o->kind->writable) {
		r = o->kind->writable(c, o, a, err);
		if (r < 0)
			return r;
	}
	r = vn_parse_value(c, o, a, val, len, append && a->type == VN_T_LIST, &nv, err);
	if (r < 0)
		return r;
	/* a value back to its default renders with a newline */
	return vn_attr_change(c, o, a, nv, nv && len && val[len - 1] != '\n', err);
}

int vn_attr_reset(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, struct vn_err *err)
{
	int r;

	if ((a->mode & 0222) == 0 || (a->flags & VN_ATTR_NO_DEFAULT))
		return 0; /* no default to go back to */
	if (o->kind->writable) {
		r = o->kind->writable(c, o, a, err);
		if (r < 0)
			return r;
	}
	return vn_attr_change(c, o, a, NULL, 0, err);
}

struct json_object *vn_attr_saved(struct vn_obj *o, const struct vn_attr *a)
{
	return json_object_get(vn_prop(o, a->name));
}

int vn_attr_restore(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
		    struct json_object *saved, struct vn_err *err)
{
	return vn_attr_change(c, o, a, json_object_get(saved), -1, err);
}

/* Check the complete lines of a list as the write path would, against the
 * rest of the model too (kind->check), with the list in place for the
 * check only: nothing is applied, nothing is reported as changed. On a
 * refusal the sentence names the first line that makes it fail. */
static int vn_precheck_refs(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			    struct json_object *arr, struct vn_err *err)
{
	_cleanup_json_ struct json_object *old = json_object_get(vn_prop(o, a->name));
	size_t n = json_object_array_length(arr), k;
	struct vn_err e = {0};
	int r;

	if (!o->kind->check || !n)
		return 0;
	json_object_object_add(o->props, a->name, json_object_get(arr));
	r = o->kind->check(c, o, a, &e);
	if (r < 0) {
		/* the first prefix that fails names the line */
		struct json_object *pre = json_object_new_array();

		for (k = 0; pre && k < n; k++) {
			struct vn_err e2 = {0};

			json_object_array_add(pre,
					      json_object_get(json_object_array_get_idx(arr, k)));
			json_object_object_add(o->props, a->name, json_object_get(pre));
			if (o->kind->check(c, o, a, &e2) < 0)
				break;
		}
		json_object_put(pre);
		if (k >= n)
			k = n - 1;
		vn_fail(err, r, "%s line '%.128s': %s", a->name,
			json_object_get_string(json_object_array_get_idx(arr, k)),
			e.msg[0] ? e.msg : strerror(-r));
	}
	if (old)
		json_object_object_add(o->props, a->name, json_object_get(old));
	else
		json_object_object_del(o->props, a->name);
	return r;
}

int vn_attr_precheck(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, const char *val,
		     size_t len, struct vn_err *err)
{
	_cleanup_json_ struct json_object *arr = NULL;
	const char *nl, *p, *end;
	size_t i = 0;
	int r;

	if (len > VN_ATTR_MAX)
		return vn_fail(err, -EFBIG, "%s: a value is at most %d bytes", a->name,
			       VN_ATTR_MAX);
	if (memchr(val, '\0', len))
		return vn_fail(err, -EINVAL, "%s: the value contains a NUL byte", a->name);
	if (a->type != VN_T_LIST) {
		/* one value: a second non-blank line can never become valid */
		while (i < len && vn_is_blank(val[i]))
			i++;
		nl = memchr(val + i, '\n', len - i);
		for (; nl && nl < val + len; nl++)
			if (!vn_is_blank(*nl))
				return vn_fail(err, -EINVAL, "%s takes a single line", a->name);
		return 0;
	}
	if ((a->mode & 0222) == 0)
		return vn_fail(err, -EACCES, "%s is read-only", a->name);
	if (o->kind->writable) {
		r = o->kind->writable(c, o, a, err);
		if (r < 0)
			return r;
	}
	/* a list: the complete lines so far must each be valid, alone (its
	 * syntax; the sentence names the line) and together (references) */
	nl = memrchr(val, '\n', len);
	if (!nl)
		return 0;
	arr = json_object_new_array();
	if (!arr)
		return -ENOMEM;
	end = nl;
	size_t lineno = 0;
	struct vn_lineset ls = {.text = lh_kchar_table_new(64, NULL), .arr = arr};

	if (!ls.text)
		return -ENOMEM;
	for (p = val; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t l = eol ? (size_t)(eol - p) : (size_t)(end - p);
		struct vn_err e = {0};

		r = vn_parse_lines_in(c, o, a, p, l, false, &ls, lineno++, &e);
		if (r < 0) {
			_cleanup_free_ char *line = vn_strip(p, l);

			/* the sentences of vn_parse_lines name the line already */
			if (line && e.msg[0] && !strstr(e.msg, line)) {
				r = vn_fail(err, r, "%s line '%.128s': %s", a->name, line, e.msg);
			} else {
				*err = e;
				if (!err->code)
					err->code = r;
			}
			goto out;
		}
		p += l + 1;
	}
	r = vn_precheck_refs(c, o, a, arr, err);
out:
	lh_table_free(ls.text);
	return r;
}

/* ---- scratch files ----
 * An editor's temp file, in memory until renamed onto an attribute. It has
 * the mode it was created with (after the caller's umask) and belongs to
 * the uid that created it: open() checks the mode against the caller like
 * a disk file system would (root bypasses), and its bytes count to its
 * owner's --max-scratch-per-user. */

struct vn_scratch *vn_scratch_find(struct vn_obj *o, const char *name)
{
	for (struct vn_scratch *s = o->scratch; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

/* Bounds so a runaway editor can't grow the daemon without limit. */
#define VN_SCRATCH_MAX 32

int vn_scratch_create(struct vn_obj *o, const char *name, mode_t mode, uid_t uid, gid_t gid,
		      struct vn_scratch **out)
{
	static unsigned long long serial;
	struct vn_scratch *s;
	size_t n = 0;

	for (s = o->scratch; s; s = s->next)
		n++;
	if (n >= VN_SCRATCH_MAX)
		return -ENOSPC;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->name = strdup(name);
	if (!s->name) {
		free(s);
		return -ENOMEM;
	}
	s->mode = mode & 0777;
	s->uid = uid;
	s->gid = gid;
	s->serial = __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_REALTIME, &s->mtime);
	s->next = o->scratch;
	o->scratch = s;
	*out = s;
	return 0;
}

int vn_scratch_access(const struct vn_scratch *s, uid_t uid, gid_t gid, int want)
{
	mode_t bits;

	if (uid == 0)
		return 0;
	if (uid == s->uid)
		bits = (s->mode >> 6) & 7;
	else if (gid == s->gid)
		bits = (s->mode >> 3) & 7;
	else
		bits = s->mode & 7;
	return ((mode_t)want & ~bits & 7) ? -EACCES : 0;
}

/* Grow or shrink s to len bytes, charged to its owner. */
static int vn_scratch_size(struct vn_ctx *c, struct vn_scratch *s, size_t len, struct vn_err *err)
{
	int r;

	if (len > VN_ATTR_MAX)
		return vn_fail(err, -EFBIG, "a temporary file is at most %d bytes", VN_ATTR_MAX);
	r = vn_quota_scratch_change(c, s->uid, s->data.len, len, err);
	if (r < 0)
		return r;
	r = vn_buf_resize(&s->data, len); /* a hole reads as NULs; shrinking can't fail */
	if (r < 0) {
		vn_quota_scratch_change(c, s->uid, len, s->data.len, NULL);
		return vn_fail(err, r, "out of memory");
	}
	return 0;
}

int vn_scratch_write(struct vn_ctx *c, struct vn_scratch *s, const char *data, size_t size,
		     off_t off, struct vn_err *err)
{
	size_t end = (size_t)off + size;
	int r;

	if (off < 0 || end > VN_ATTR_MAX)
		return vn_fail(err, -EFBIG, "a temporary file is at most %d bytes", VN_ATTR_MAX);
	if (end > s->data.len) {
		r = vn_scratch_size(c, s, end, err);
		if (r < 0)
			return r;
	}
	if (size)
		memcpy(s->data.s + off, data, size);
	clock_gettime(CLOCK_REALTIME, &s->mtime);
	return 0;
}

int vn_scratch_truncate(struct vn_ctx *c, struct vn_scratch *s, size_t size, struct vn_err *err)
{
	int r = vn_scratch_size(c, s, size, err);

	if (r == 0)
		clock_gettime(CLOCK_REALTIME, &s->mtime);
	return r;
}

static void vn_scratch_unlink(struct vn_obj *o, struct vn_scratch *s)
{
	for (struct vn_scratch **pp = &o->scratch; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	free(s->name);
	vn_buf_free(&s->data);
	free(s);
}

void vn_scratch_remove(struct vn_ctx *c, struct vn_obj *o, struct vn_scratch *s)
{
	vn_quota_scratch_change(c, s->uid, s->data.len, 0, NULL);
	vn_scratch_unlink(o, s);
}

void vn_scratch_free_all(struct vn_obj *o)
{
	while (o->scratch)
		vn_scratch_unlink(o, o->scratch);
}
