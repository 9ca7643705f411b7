/* SPDX-License-Identifier: MIT */
/*
 * Slow work off the model lock (fs/jobs.c): a job queue with worker
 * threads, supervision of child processes, and periodic polling.
 *
 * Jobs. A write that needs slow backend work (a dnsmasq spawn and its first
 * lease, a libvirt domain start, ssh-keygen) does, under the write lock:
 * validate, persist the intent, show `status` BUILD (its kind's status
 * hook returns "BUILD" while vn_job_busy()), copy what the work needs into
 * a snapshot, and vn_job_submit(). The write returns. A worker thread then
 * calls ops->run(snapshot) WITHOUT the model lock (readers and other writers
 * go on), takes the write lock, looks the object up again by its id, and
 * calls ops->publish with the result; the generic layer then sets the
 * object's `status`/`error` (failure: ERROR and the sentence; success: no
 * error) and reports the change (vn_changed). A job whose object was
 * deleted meanwhile publishes nothing (run has already happened: its
 * effects are the kind's to undo in its destroy hook, which runs later or
 * has run: kinds keep their backend objects named by the object's id).
 *
 * Merging, as networkd's request queue: a job is identified by (key, ops),
 * the key being the object's id. Submitting a job identical to a PENDING
 * one replaces that one's snapshot with the newer (the older is freed, the
 * queue keeps its place): one run, with the latest intent. Jobs of one
 * identity never run at the same time; a job submitted while its twin runs
 * is queued, and the running one's result, superseded, is not published.
 *
 * Lock order: model lock, then the queue's and the supervisor's mutexes;
 * nothing here waits for the model lock while holding either. Call
 * vn_jobs_wait_idle and vn_jobs_stop WITHOUT the model lock held.
 *
 * Without vn_jobs_start (tools, fuzzers, other unit tests) a submitted job
 * runs inline, run and publish at once, under the caller's lock.
 */
#ifndef VNETFS_JOBS_H
#define VNETFS_JOBS_H

#include <sys/types.h>

#include "vnetfs/model.h"

/* ops->flags */
/* The generic layer leaves status and error alone: publish does it all
 * (events, polls); vn_job_busy ignores such jobs. */
#define VN_JOB_NO_STATUS 0x1

struct vn_job_ops {
	const char *what; /* for logs and sentences: "dnsmasq start" */
	unsigned flags;
	/* Off the model lock, in a worker: the slow work, using only snap.
	 * *result: anything for publish (freed by free). 0 or -errno with a
	 * sentence in err. NULL: nothing slow (publish only). */
	int (*run)(void *snap, void **result, struct vn_err *err);
	/* Under the write lock: make the result visible (kernel state, values
	 * through vn_set, which persist in one transaction). o: the object,
	 * found again by id; NULL for jobs submitted without one. Returns the
	 * outcome: rc, or its own failure (with a sentence in err). NULL: the
	 * outcome is rc. */
	int (*publish)(struct vn_ctx *c, struct vn_obj *o, int rc, void *result,
		       struct vn_err *err);
	/* Free snap and result (either may be NULL). NULL: free(). */
	void (*free)(void *snap, void *result);
};

/* ---- the closer ----
 * A thread that closes descriptors handed to it (namespace handles'
 * netlink sockets, whose close can wait 8-20 ms: see struct vn_closer in
 * vnetfs/backend.h). vn_closer_init (by vn_ctx_init) makes it; it closes
 * at once until vn_closer_start (after any fork); vn_closer_fini (by
 * vn_ctx_fini, after every handle is closed) closes what is queued and
 * frees it. vn_ctx_closer is what the daemon's handles carry. */
int vn_closer_init(struct vn_ctx *c);
int vn_closer_start(struct vn_ctx *c);
struct vn_closer *vn_ctx_closer(struct vn_ctx *c);
/* Wait until everything handed over so far is closed. */
void vn_closer_drain(struct vn_ctx *c);
void vn_closer_fini(struct vn_ctx *c);

/* Start nworkers worker threads (0: 1) and the supervisor thread. Call
 * once, after any fork (daemonize), before or during loading. */
int vn_jobs_start(struct vn_ctx *c, unsigned nworkers);
/* Stop everything: children (SIGTERM, then SIGKILL after 1 s; reaped),
 * the supervisor, the workers (a running job finishes and publishes;
 * pending ones are dropped). Without the model lock. Idempotent. */
void vn_jobs_stop(struct vn_ctx *c);

/* Queue a job for o (NULL: not about one object; key then names it for
 * merging, e.g. "poll:network"; with o, key is ignored). snap is owned by
 * the queue from here on (freed by ops->free), also on failure. With the
 * write lock held. Returns 0 (queued), 1 (merged into a pending twin), or
 * -ENOMEM. */
int vn_job_submit(struct vn_ctx *c, struct vn_obj *o, const char *key, const struct vn_job_ops *ops,
		  void *snap);
/* A job (other than VN_JOB_NO_STATUS ones) for o is pending or running:
 * the kind shows BUILD. With the lock held (either way). */
bool vn_job_busy(struct vn_ctx *c, const struct vn_obj *o);
/* Jobs queued and running now. */
void vn_jobs_count(struct vn_ctx *c, size_t *pending, size_t *running);
/* Wait until no job is pending or running: 0, or -ETIMEDOUT. Without
 * the model lock. */
int vn_jobs_wait_idle(struct vn_ctx *c, int timeout_ms);

/* ---- supervised child processes ----
 * A child belongs to an object and has a name there ("dnsmasq"). It is
 * spawned by the supervisor thread (stdin /dev/null, stdout and stderr the
 * daemon's, no other descriptor, default signals but SIGHUP ignored until
 * the program sets its own: a reload asked during its start-up must not
 * kill it; its own process group, SIGTERM when the daemon dies), watched
 * through a pidfd (polled with waitpid every 100 ms where pidfd_open is
 * missing), reaped, and restarted when it dies: at once the first time,
 * then after 250 ms, 500 ms, 1 s ... up to 30 s while it keeps dying (a
 * run of 10 s or more resets that). Each death is logged and recorded in
 * the object's `error`. No shell: argv[0] is an absolute path, executed
 * as is. */
/* Start (or, if already supervised under that name, restart with the new
 * argv). Returns the pid, or -errno with a sentence (-ENOENT: no such
 * program). Any lock state. */
pid_t vn_proc_start(struct vn_ctx *c, struct vn_obj *o, const char *name, char *const argv[],
		    struct vn_err *err);
/* The same by the owner's id: from a job's run, which has no object. */
pid_t vn_proc_start_id(struct vn_ctx *c, const char *id, const char *name, char *const argv[],
		       struct vn_err *err);
/* Stop and forget it: SIGTERM, SIGKILL after 1 s, reaped before return.
 * 0, or -ENOENT if not supervised. */
int vn_proc_stop(struct vn_ctx *c, const struct vn_obj *o, const char *name);
/* The same by the owner's id (a job's run). */
int vn_proc_stop_id(struct vn_ctx *c, const char *id, const char *name);
/* Every child of o: its kind's destroy hook calls it (the generic delete
 * does not yet; a child outliving its owner is stopped at its next death). */
void vn_proc_stop_all(struct vn_ctx *c, const struct vn_obj *o);
/* Current pid (0: not running now, e.g. waiting to restart; -ENOENT: not
 * supervised) and how many times it was restarted. */
pid_t vn_proc_pid(struct vn_ctx *c, const struct vn_obj *o, const char *name, unsigned *restarts);
/* Send sig to it, through its pidfd where it has one: never to another
 * process, even one that got the pid once the child died and was reaped
 * (kill() on the pid vn_proc_pid gave could). 0; -ENOENT: not supervised
 * or not running now; -ESRCH: it just died. */
int vn_proc_signal(struct vn_ctx *c, const struct vn_obj *o, const char *name, int sig);
int vn_proc_signal_id(struct vn_ctx *c, const char *id, const char *name, int sig);

/* ---- periodic polling, for backends without events ----
 * Every interval_ms, tick(c, o) runs for each object of kind k, in a
 * worker under the write lock: it compares cheaply and submits a job for
 * anything slow. A tick not yet run when the next is due merges with it. */
int vn_poll_every(struct vn_ctx *c, const struct vn_kind *k, unsigned interval_ms,
		  void (*tick)(struct vn_ctx *c, struct vn_obj *o));

/* For tests: watch children by waitpid polling as if pidfd_open failed. */
extern bool vn_proc_no_pidfd;

#endif
