/* SPDX-License-Identifier: MIT */
/*
 * The model: objects, the kinds that describe them, and the one context
 * struct that holds all mutable state of the daemon.
 *
 * Every object kind (network, subnet, flavor, router, port, ...) is one
 * `struct vn_kind` declared as data in its own file fs/kind_*.c: its
 * directory name, its attribute table and its hooks. The FUSE layer
 * (fs/fuse_ops.c), persistence (fs/persist.c) and the write path
 * (fs/attr.c) are generic over kinds and never look at a kind's name.
 *
 * Attribute values that the user set are kept in o->props (a json-c
 * object, exactly what is persisted). An attribute absent from props has
 * its default: the table's `dflt` text, or what its `show` hook derives
 * (a subnet's gateway_ip follows its cidr until one is written).
 *
 * Locking: ctx->lock is a rwlock. FUSE reads take it shared; anything that
 * changes the model (and so calls kind hooks and the backend) takes it
 * exclusive. Kind hooks always run with the lock held exclusive. Slow
 * work runs off the lock as jobs (vnetfs/jobs.h). The lock prefers
 * writers: never take it shared while holding it shared.
 */
#ifndef VNETFS_MODEL_H
#define VNETFS_MODEL_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct vn_ctx;
struct vn_obj;
struct vn_kind;
struct vn_ns;
struct vn_fuse_cache;
struct vn_quota;
struct vn_jobs;
struct vn_fd_closer;
struct vn_dhcp;
struct vn_uhold;
struct vn_graph;

/* ---- growable text buffer ---- */
struct vn_buf {
	char *s; /* NUL-terminated when non-NULL */
	size_t len, cap;
};
void vn_buf_free(struct vn_buf *b);
void vn_buf_reset(struct vn_buf *b);
int vn_buf_add(struct vn_buf *b, const char *data, size_t len);
int vn_buf_puts(struct vn_buf *b, const char *s);
int vn_buf_printf(struct vn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Grow (with NULs) or shrink to len bytes. */
int vn_buf_resize(struct vn_buf *b, size_t len);
/* Steal the text (caller frees); buffer is left empty. */
char *vn_buf_steal(struct vn_buf *b);

/* ---- errors: a negative errno plus one English sentence ---- */
struct vn_err {
	int code;
	char msg[512];
};
/* in, with every byte that shows nothing (controls, invalid UTF-8, BOM,
 * zero-width and direction marks) as a C escape (\t \n \r \xHH), into
 * out (cut at size). Printable text is kept as is, so it is idempotent. */
void vn_escape(const char *in, char *out, size_t size);
/* Record code and sentence; returns code (negative errno), so
 * `return vn_fail(err, -EINVAL, "mtu %ld is out of range", v);` */
int vn_fail(struct vn_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- logging: one helper; returns `code` so it can be returned ---- */
enum vn_log_level { VN_LOG_ERR, VN_LOG_WARN, VN_LOG_INFO, VN_LOG_DEBUG };
void vn_log_init(bool to_stderr, int level);
/* Also append every line to the file at path (instead_of_stderr: and no
 * longer to stderr). */
int vn_log_open_file(const char *path, bool instead_of_stderr);
int vn_log(int level, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define vn_err(code, ...) vn_log(VN_LOG_ERR, (code), __VA_ARGS__)
#define vn_warn(code, ...) vn_log(VN_LOG_WARN, (code), __VA_ARGS__)
#define vn_info(...) vn_log(VN_LOG_INFO, 0, __VA_ARGS__)
#define vn_debug(...) vn_log(VN_LOG_DEBUG, 0, __VA_ARGS__)

/* cleanup helpers */
static inline void vn_freep(void *p)
{
	extern void free(void *);
	free(*(void **)p);
}
static inline void vn_json_putp(struct json_object **p)
{
	if (*p)
		json_object_put(*p);
}
#define _cleanup_free_ __attribute__((cleanup(vn_freep)))
#define _cleanup_json_ __attribute__((cleanup(vn_json_putp)))
#define _cleanup_buf_ __attribute__((cleanup(vn_buf_free)))
static inline void *vn_take_ptr_(void **p)
{
	void *v = *p;
	*p = NULL;
	return v;
}
#define TAKE_PTR(p) vn_take_ptr_((void **)&(p))

/* ---- attributes ---- */
enum vn_type {
	VN_T_STR,  /* one line of text */
	VN_T_INT,  /* decimal integer in [min, max] */
	VN_T_BOOL, /* "0"/"1" (also accepts true/false, yes/no, up/down? no: only 0/1) */
	VN_T_ENUM, /* one of choices[] */
	VN_T_LIST, /* lines; `>>` (O_APPEND) adds lines */
};

#define VN_ATTR_SECRET 0x1	  /* left out of `json` */
#define VN_ATTR_NOJSON 0x2	  /* left out of `json` (e.g. large blobs) */
#define VN_ATTR_APPEND_EEXIST 0x4 /* unused since issue 8: `>>` of a line there is a no-op */
#define VN_ATTR_NO_DEFAULT 0x8	  /* required or generated: unlink is a no-op */
/* A list of rules: a line written twice collapses into one (not EINVAL),
 * and a bad line's sentence starts with its line number. */
#define VN_ATTR_RULES 0x10

/* Where a reference's name is looked up (struct vn_attr.ref). */
enum vn_ref_scope {
	VN_REF_GLOBAL, /* the kind's tree-wide names (global_names kinds: subnets) */
	VN_REF_ROOT,   /* the kind's top-level collection (networks) */
	VN_REF_PARENT, /* the kind's collection under the referrer's parent */
};

struct vn_attr {
	const char *name;
	mode_t mode; /* 0444 read-only, 0644 writable, 0600 owner-only */
	enum vn_type type;
	unsigned flags;
	long min, max;		    /* VN_T_INT */
	const char *const *choices; /* VN_T_ENUM, NULL-terminated */
	const char *dflt;	    /* default as text; NULL: none (empty) */
	/* Optional: syntax check + canonical form of one value (for lists, of
	 * one line). *out gets a new json string (or other type). -EINVAL with
	 * a sentence on bad input. Without it the type's generic parser runs. */
	int (*parse)(struct vn_ctx *c, struct vn_obj *o, const char *text, struct json_object **out,
		     struct vn_err *err);
	/* Optional: render the effective value (read-only/derived attributes,
	 * or defaults computed from other attributes). Lines end with '\n'. */
	int (*show)(struct vn_ctx *c, struct vn_obj *o, struct vn_buf *out);
	/* References as data (fs/graph.c): the value, or each line's first
	 * word, names an object of kind `ref`, looked up in ref_scope. The
	 * rest of the line (an address) is the value the referrer holds on
	 * its target, indexed (vn_ref_holder). pins: the target is busy
	 * (rmdir EBUSY) while referred to from outside its own subtree. role:
	 * how the referrer uses it, in sentences (default: the name). */
	const struct vn_kind *ref;
	enum vn_ref_scope ref_scope;
	bool pins;
	const char *role;
	/* Optional: the name a line refers to, when it is not the line's
	 * first word (a security group rule's `group NAME`). Writes it into
	 * name (64 bytes) and returns true, or false: the line names none. */
	bool (*ref_name)(const char *line, char *name);
	/* The value is unique among the objects of one collection, and
	 * indexed (vn_unique_holder): a port's mac_address on its network. */
	bool unique;
};

/* A kind follows other objects (change propagation, fs/graph.c): when an
 * object it depends on changes, the generic layer calls its `sync` hook
 * (once per write, in dependency order, inside the same transaction). */
enum vn_dep_via {
	VN_DEP_END,
	VN_DEP_PARENT,	 /* its parent (a port follows its network) */
	VN_DEP_CHILDREN, /* its children of `kind` (a network follows its subnets) */
	VN_DEP_REFS,	 /* the objects its attribute `attr` names */
	VN_DEP_OWNED,	 /* the objects it owns (a router's legs) */
};
struct vn_dep {
	enum vn_dep_via via;
	const struct vn_kind *kind; /* of the object depended on */
	const char *attr;	    /* VN_DEP_REFS: the referring attribute */
	const char *const *on;	    /* its attributes that matter (NULL-terminated);
				     * NULL: any change. Creates and deletes always. */
};

/* One reference (an edge of the object graph), kept in both directions by
 * the generic layer: from->refs_out lists what an object names, to->refs_in
 * who names it. attr NULL: ownership (from is an implicit object of to). */
struct vn_hold;
struct vn_bucket;
struct vn_hold {
	struct vn_hold *next, **pprev;
	struct vn_bucket *b;
	void *who;
};
struct vn_edge {
	struct vn_obj *from, *to; /* to NULL: names nothing (yet) */
	const struct vn_attr *attr;
	bool pins;
	char role[24];
	char *value; /* the rest of the line, NULL if none */
	char *key;   /* what the name resolves by (while dangling) */
	struct vn_edge *out_next;
	struct vn_edge *in_next, **in_pprev;
	struct vn_hold dang; /* while dangling: in the index under key */
	struct vn_hold val;  /* value held on `to`: in the index */
};
/* The first edge naming o / named by o (the graph is built first if a
 * load left it to be built). */
struct vn_edge *vn_refs_in(struct vn_obj *o);
struct vn_edge *vn_refs_out(struct vn_obj *o);
#define vn_refs_in_foreach(o, e) for (struct vn_edge *e = vn_refs_in(o); e; e = e->in_next)
#define vn_refs_out_foreach(o, e) for (struct vn_edge *e = vn_refs_out(o); e; e = e->out_next)

/* ---- kinds ----
 * Hooks run with the model lock held exclusive and always get a non-NULL
 * err to fill in. */
struct vn_kind {
	const char *dir;		       /* directory name of its collection: "networks" */
	const char *type;		       /* singular, in json, logs and the state files */
	const struct vn_attr *attrs;	       /* terminated by {.name = NULL} */
	const struct vn_kind *const *children; /* child collections; NULL-terminated */
	bool global_names;		       /* names unique across the tree (subnets) */
	size_t priv_size;		       /* runtime-only data, zeroed, at o->priv */

	/* mkdir (or implicit creation): the object is in the model with its
	 * initial props; make it real. On failure it is removed again. */
	int (*create)(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err);
	/* May attribute a be written (or reset) now at all? -EBUSY etc.
	 * with a sentence; runs before parsing. */
	int (*writable)(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			struct vn_err *err);
	/* A value passed its syntax check and is already set in o->props;
	 * check it against the rest of the model. Nothing applied yet. */
	int (*check)(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
		     struct vn_err *err);
	/* Apply a changed attribute to the backend. old is the previous
	 * explicit value (NULL: it had its default). On failure undo own
	 * partial work and return -EIO (or the errno) with a sentence. */
	int (*apply)(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
		     struct json_object *old, struct vn_err *err);
	/* rmdir: -EBUSY with a sentence while something outside it uses it. */
	int (*busy)(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err);
	/* Tear down backend state (children are already gone). */
	int (*destroy)(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err);
	/* Make the backend match the model (start-up, after restart). */
	int (*reconcile)(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err);
	/* After every object is reconciled: remove backend objects bearing
	 * this kind's prefix that the model lacks. */
	int (*sweep)(struct vn_ctx *c);
	/* Status text (ACTIVE, DOWN, BUILD...); NULL hook: ACTIVE. ERROR is
	 * shown by the generic layer while o->failed is set. */
	const char *(*status)(struct vn_ctx *c, struct vn_obj *o);
	/* Free what the kind keeps at o->priv (not the block itself). */
	void (*free_priv)(struct vn_obj *o);
	/* What it follows, and how (see struct vn_dep); NULL: nothing. */
	const struct vn_dep *deps;
	int (*sync)(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err);
	/* A referrer let go of a value it held on o (e.g. an address). */
	void (*released)(struct vn_obj *o, const struct vn_edge *e);
	/* Stores of earlier versions: the owner of an implicit object that
	 * has no "_owner" yet (parsed once on load from what it has). */
	struct vn_obj *(*legacy_owner)(struct vn_ctx *c, struct vn_obj *o, const char **role);
	/* An implicit object its owner keeps (a network's DHCP port): a
	 * user's rmdir of it succeeds without effect. NULL: none. */
	bool (*kept)(struct vn_ctx *c, struct vn_obj *o);
};

/* A collection: the objects of one kind under one parent (or the root). */
struct vn_coll {
	const struct vn_kind *kind;
	struct vn_obj *owner;	  /* NULL at the root */
	struct lh_table *by_name; /* name -> struct vn_obj *, insertion order */
};

struct vn_scratch; /* an editor's temp file, in memory until renamed */

struct vn_obj {
	struct vn_ctx *ctx; /* the model it belongs to */
	const struct vn_kind *kind;
	struct vn_obj *parent; /* NULL for top-level objects */
	struct vn_coll *coll;  /* the collection holding it */
	char name[64];
	char id[37];
	uid_t uid;
	gid_t gid;
	struct timespec ctime, mtime;
	struct json_object *props; /* explicit attribute values */
	char *error;		   /* last failure sentence, NULL when fine */
	bool failed;		   /* backend is not as the model says */
	bool damaged;		   /* stored values were set aside on load */
	bool deleting;		   /* its removal is staged: never saved again */
	struct vn_coll *colls;	   /* one per kind->children entry */
	size_t ncolls;
	struct vn_scratch *scratch;
	void *priv;
	struct vn_edge *refs_out, *refs_in; /* the object graph (fs/graph.c) */
	struct vn_uhold *uniq;		    /* its indexed unique values */
};

struct vn_undo {
	struct vn_obj *o; /* NULL once the object is gone */
	char *name;
	struct json_object *old; /* NULL: it had no explicit value */
};

/* ---- the context: all mutable daemon state ---- */
struct vn_opts {
	const char *state_dir;
	const char *netns; /* NULL: the current namespace */
	const char *libvirt_uri;
	bool no_defaults;
	bool foreground;
	/* Per-uid limits (fs/quota.c); 0: none. Root is never limited. */
	size_t max_objects_per_user;
	size_t max_scratch_per_user; /* bytes of scratch (temp) files */
	/* DHCP lease time in seconds (fs/dhcp.c); 0: one day; UINT_MAX:
	 * infinite. */
	unsigned dhcp_lease_time;
};

struct vn_ctx {
	pthread_rwlock_t lock;
	struct vn_opts opts;
	struct vn_coll *roots; /* one per vn_root_kinds entry */
	size_t nroots;
	struct lh_table *by_id;	  /* id -> obj */
	struct lh_table *globals; /* "type/name" -> obj, for global_names kinds */
	int state_fd;		  /* the state directory */
	struct vn_store *store;	  /* the transactional store (fs/persist.c) */
	int txn_depth;		  /* nesting of the change being made */
	bool txn_open;		  /* its transaction has staged rows */
	bool txn_failed;	  /* a staged row failed: it will roll back */
	int persist_off;	  /* undoing after a rollback: nothing to store */
	/* Values changed in memory during the open change (vn_set), put back
	 * if its transaction rolls back. */
	struct vn_undo *undo;
	size_t nundo, capundo;
	bool loading;	  /* while loading: no persisting, no create hooks */
	struct vn_ns *ns; /* where bridges live (--netns) */
	/* Who asks for the change being made (set by the FUSE layer with the
	 * lock held exclusive), for checks that depend on the caller. */
	uid_t caller_uid;
	struct timespec start;
	/* Told of every file whose content, size or listing a change altered
	 * (see vn_changed); set by the FUSE layer to drop the kernel's caches.
	 * Called with the model lock held exclusive: it must only queue. */
	void (*on_change)(void *arg, struct vn_obj *o, const char *name);
	void *on_change_arg;
	/* The FUSE layer's open handles (fs/fuse_ops.c), so that the ones no
	 * RELEASE reached (the daemon stopped first) are freed at unmount. */
	void *open_fhs;
	pthread_mutex_t fh_mu;
	/* The FUSE layer's invalidation queue and shared contents
	 * (fs/fuse_ops.c: vn_fuse_state_init). */
	struct vn_fuse_cache *fuse_cache;
	struct vn_quota *quota;	     /* per-uid counts (fs/quota.c) */
	struct vn_jobs *jobs;	     /* slow work off the lock (fs/jobs.c); NULL: inline */
	struct vn_fd_closer *closer; /* closes handles' sockets off the lock (fs/jobs.c) */
	struct vn_graph *graph;	     /* edges' indexes, propagation state (fs/graph.c) */

	/* the last refusals: the `errors` file (fs/errlog.c) */
	struct vn_errlog *errlog;
	/* security groups' enforcement state (fs/kind_secgroup.c) */
	struct vn_sg *sg;
	struct vn_dhcp *dhcp; /* the DHCP services' state (fs/dhcp.c) */
	/* ids of the networks that are or were external, built on first use
	 * (fs/kind_network.c: vn_external_networks_foreach); NULL until then */
	struct lh_table *external_nets;
};

/* The kind registry (fs/kinds.c): top-level kinds in `ls` order, and every
 * kind (for loading state files by type). */
extern const struct vn_kind *const vn_root_kinds[];
extern const struct vn_kind *const vn_all_kinds[];
const struct vn_kind *vn_kind_by_type(const char *type);

/* ---- context ---- */
int vn_ctx_init(struct vn_ctx *c, const struct vn_opts *opts);
void vn_ctx_fini(struct vn_ctx *c);
/* Load the state directory, create defaults on first start, reconcile. */
int vn_ctx_start(struct vn_ctx *c);

/* ---- objects ---- */
struct vn_coll *vn_root_coll(struct vn_ctx *c, const struct vn_kind *k);
struct vn_coll *vn_child_coll(struct vn_obj *o, const struct vn_kind *k);
struct vn_obj *vn_coll_find(struct vn_coll *coll, const char *name);
size_t vn_coll_count(const struct vn_coll *coll);
struct vn_obj *vn_find_global(struct vn_ctx *c, const struct vn_kind *k, const char *name);
struct vn_obj *vn_find_id(struct vn_ctx *c, const char *id);
/* Iterate a collection in creation order:
 *   struct vn_obj *it; vn_coll_foreach(coll, it) { ... } */
#define vn_coll_foreach(coll, it)                                                                  \
	for (struct lh_entry *vn__e = (coll)->by_name->head;                                       \
	     vn__e && ((it) = (struct vn_obj *)lh_entry_v(vn__e), 1); vn__e = vn__e->next)
/* Every object of kind k in the whole tree. cb returns non-zero to stop. */
int vn_foreach_kind(struct vn_ctx *c, const struct vn_kind *k,
		    int (*cb)(struct vn_obj *o, void *arg), void *arg);

/* Create an object (mkdir or implicit). props: initial explicit values
 * (reference taken; NULL for none). Runs the create hook and persists.
 * *out may be NULL. */
int vn_obj_create(struct vn_ctx *c, struct vn_coll *coll, const char *name, uid_t uid, gid_t gid,
		  struct json_object *props, struct vn_obj **out, struct vn_err *err);
/* Delete an object with everything it owns: busy check (unless force),
 * children, destroy hook, state file. */
int vn_obj_delete(struct vn_ctx *c, struct vn_obj *o, bool force, struct vn_err *err);
/* Stage o's record in the change's transaction (or commit it alone when
 * no change is open). */
int vn_obj_save(struct vn_ctx *c, struct vn_obj *o);
/* One change = one transaction: the generic entry points nest these; the
 * outermost end commits (ok) or rolls back. Returns the commit's error. */
void vn_txn_begin(struct vn_ctx *c);
int vn_txn_end(struct vn_ctx *c, bool ok);
/* Stage o's record and end the change: committed (0) if staging and the
 * commit worked, else rolled back (the error). */
int vn_obj_save_end(struct vn_ctx *c, struct vn_obj *o);
/* Kernel objects outside the daemon's namespace that it made (router
 * namespaces): recorded durably before they are made, so the start-up
 * sweep removes only its own. kind: "netns". */
int vn_own_add(struct vn_ctx *c, const char *kind, const char *name);
void vn_own_del(struct vn_ctx *c, const char *kind, const char *name);
bool vn_own_has(struct vn_ctx *c, const char *kind, const char *name);
/* NULL-terminated names (free with vn_strv_free); *out NULL when none. */
int vn_own_list(struct vn_ctx *c, const char *kind, char ***out);
/* A change altered the file `name` of o (NULL: any file of o, and the
 * listing of its directory; o NULL: the root). The generic layer calls it
 * for values it sets, errors, creates and deletes; a kind calls it for
 * files of other objects whose rendering depends on what it changed. */
void vn_changed(struct vn_ctx *c, struct vn_obj *o, const char *name);
/* Record / clear the object's error sentence (also logs). */
void vn_obj_set_error(struct vn_obj *o, const struct vn_err *err);
void vn_obj_clear_error(struct vn_obj *o);
const char *vn_obj_status(struct vn_ctx *c, struct vn_obj *o);
/* Generate a random v4 UUID. */
void vn_uuid(char out[37]);

/* ---- attribute values ---- */
const struct vn_attr *vn_attr_find(const struct vn_kind *k, const char *name);
/* Effective values (explicit, else default). */
const char *vn_get_str(struct vn_obj *o, const char *name); /* NULL when empty */
long vn_get_int(struct vn_obj *o, const char *name);
bool vn_get_bool(struct vn_obj *o, const char *name);
/* The explicit list (json array of strings) or NULL when empty/unset. */
struct json_object *vn_get_list(struct vn_obj *o, const char *name);
size_t vn_list_len(struct json_object *list);
const char *vn_list_at(struct json_object *list, size_t i);
/* Set an explicit value without running hooks (for kinds filling in
 * values they own, e.g. a port's allocated fixed_ips). Takes the ref. */
void vn_set(struct vn_obj *o, const char *name, struct json_object *v);

/* ---- the object graph (fs/graph.c) ---- */
/* The typed owner of an implicit object (persisted as "_owner": {"id",
 * "role"}), NULL if none; *role (may be NULL) gets its role. */
struct vn_obj *vn_owner_of(struct vn_obj *o, const char **role);
/* props for an implicit object created for owner (adds "_owner"). */
void vn_owner_props(struct json_object *props, struct vn_obj *owner, const char *role);
/* The first object other than except holding `value` on target through
 * attribute attr of its kind (a port holding an address on a subnet). */
struct vn_obj *vn_ref_holder(struct vn_obj *target, const char *attr, const char *value,
			     struct vn_obj *except);
/* The object of coll other than except whose unique attribute attr has
 * value. */
struct vn_obj *vn_unique_holder(struct vn_coll *coll, const char *attr, const char *value,
				struct vn_obj *except);
/* The first edge of target's referrers of kind k (NULL: any) through
 * attribute attr (NULL: any; "" ownership only), or NULL. Costs the
 * edges of target. */
struct vn_edge *vn_referrer(struct vn_obj *target, const struct vn_kind *k, const char *attr);
/* The write path with a value already parsed (nv: the explicit JSON
 * value, reference taken; NULL: back to the default), for cascades: check,
 * apply, propagation and persistence as a user's write. */
int vn_attr_set(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, struct json_object *nv,
		struct vn_err *err);

/* Render the file `name` of o (attribute or common file) into out. */
int vn_obj_render(struct vn_ctx *c, struct vn_obj *o, const char *name, struct vn_buf *out);
/* The write path: parse, compare (idempotent), check, apply, persist.
 * append: add lines to a list. Returns 0 or -errno; err says why. */
int vn_attr_write(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, const char *val,
		  size_t len, bool append, struct vn_err *err);
/* unlink: back to the default (through check/apply/persist). */
int vn_attr_reset(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, struct vn_err *err);
/* A value arriving in several writes: syntax-check what has come so far
 * (complete lines), applying nothing. */
int vn_attr_precheck(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, const char *val,
		     size_t len, struct vn_err *err);
/* The explicit value (a new reference, NULL: default), to put back with
 * vn_attr_restore when a value that came in pieces turns out bad. */
struct json_object *vn_attr_saved(struct vn_obj *o, const struct vn_attr *a);
int vn_attr_restore(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
		    struct json_object *saved, struct vn_err *err);
/* The whole object as JSON (the `json` file). */
struct json_object *vn_obj_json(struct vn_ctx *c, struct vn_obj *o);

/* Files common to every object directory. */
extern const char *const vn_common_files[]; /* id status error json */

/* Largest value one attribute takes. */
#define VN_ATTR_MAX (64 * 1024)

#endif
