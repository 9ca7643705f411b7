// SPDX-License-Identifier: MIT
/*
 * Slow work off the model lock: the job queue and its workers, the
 * supervisor of child processes, periodic polls. See include/vnetfs/jobs.h
 * for the contract; this header comment is about how it is built.
 *
 * Queue. One list in submission order behind j->mu (pending jobs are few:
 * a merge scans it, O(pending)). A worker picks the first job whose
 * identity (key, ops) is not running in another worker, runs it with no
 * lock, then takes the model lock (write) and publishes. Counters and the
 * `idle` condition let tests wait until everything settled.
 *
 * Supervisor. One thread, one epoll set: every child's pidfd plus an
 * eventfd that wakes it for new requests or stop. It alone spawns (fork +
 * exec, a CLOEXEC pipe reporting exec's errno), so PR_SET_PDEATHSIG is tied
 * to a thread that lives as long as the children, and alone reaps (waitid
 * on the pidfd). It never takes the model lock: a death is recorded in the
 * object's `error` through a publish-only job. Restarts and polls are
 * deadlines; epoll_wait sleeps until the nearest one.
 *
 * Locks: model lock -> j->mu and model lock -> j->pmu -> j->mu.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vnetfs/backend.h"
#include "vnetfs/jobs.h"
#include "vnetfs/model.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

bool vn_proc_no_pidfd;

#define VN_KEY_MAX 64
#define VN_PROC_NAME_MAX 32
#define VN_PROC_STABLE_MS 10000 /* a run this long resets the backoff */
#define VN_PROC_BACKOFF_MS 250	/* the second restart in a row waits this */
#define VN_PROC_BACKOFF_MAX_MS 30000
#define VN_PROC_FALLBACK_MS 100 /* waitpid polling without pidfd */
#define VN_PROC_STOP_MS 1000	/* SIGTERM, then SIGKILL */

struct vn_job {
	struct vn_job *next;
	char key[VN_KEY_MAX];
	bool has_obj;
	const struct vn_job_ops *ops;
	void *snap;
};

struct vn_worker {
	struct vn_jobs *j;
	pthread_t thread;
	struct vn_job *cur; /* running now, NULL when idle (j->mu) */
};

struct vn_proc {
	struct vn_proc *next;
	unsigned long long serial; /* epoll's handle on it */
	char id[37];
	char name[VN_PROC_NAME_MAX];
	char **argv;
	pid_t pid;	 /* 0: not running */
	int pidfd;	 /* -1: none (fallback or not running) */
	bool stopping;	 /* vn_proc_stop owns it now */
	bool start_req;	 /* the supervisor is to spawn it */
	int start_rc;	 /* what that spawn gave */
	pid_t start_pid; /* the pid it made (p->pid may be 0 again by the
			  * time the caller wakes: a child that dies at once) */
	char start_err[256];
	long long started_ms;
	long long restart_at_ms; /* 0: no restart scheduled */
	unsigned deaths;	 /* quick deaths in a row */
	unsigned restarts;
};

struct vn_poll {
	struct vn_poll *next;
	const struct vn_kind *kind;
	unsigned interval_ms;
	long long next_ms;
	void (*tick)(struct vn_ctx *c, struct vn_obj *o);
};

struct vn_jobs {
	struct vn_ctx *c;
	/* queue */
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	struct vn_job *head, *tail;
	size_t npending, nrunning;
	struct vn_worker *workers;
	size_t nworkers;
	bool stopping;
	/* supervisor */
	pthread_mutex_t pmu;
	pthread_cond_t pcond;
	struct vn_proc *procs;
	struct vn_poll *polls;
	unsigned long long next_serial;
	int epfd, evfd;
	pthread_t sup;
	bool sup_running, sup_stopping;
};

static const struct vn_job_ops vn_poll_ops;

static long long vn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void vn_job_free(struct vn_job *job, void *result)
{
	if (!job)
		return;
	if (job->ops->free)
		job->ops->free(job->snap, result);
	else {
		free(job->snap);
		free(result);
	}
	free(job);
}

static bool vn_job_same(const struct vn_job *a, const struct vn_job *b)
{
	return a->ops == b->ops && a->has_obj == b->has_obj && !strcmp(a->key, b->key);
}

/* ---- publishing (model lock held exclusive) ---- */

static void vn_job_publish(struct vn_ctx *c, struct vn_job *job, int rc, void *result,
			   struct vn_err *err)
{
	struct vn_obj *o = NULL;
	uid_t caller = c->caller_uid;
	int s;

	if (job->has_obj) {
		o = vn_find_id(c, job->key);
		if (!o || o->deleting) {
			vn_debug("%s: object %s is gone, nothing to publish", job->ops->what,
				 job->key);
			return;
		}
	}
	c->caller_uid = 0; /* the daemon's own change */
	vn_txn_begin(c);
	if (job->ops->publish)
		rc = job->ops->publish(c, o, rc, result, err);
	s = vn_txn_end(c, true);
	if (rc >= 0 && s < 0)
		rc = vn_fail(err, s, "could not store the result of %s: %s", job->ops->what,
			     strerror(-s));
	c->caller_uid = caller;
	if (rc < 0 && !err->msg[0])
		vn_fail(err, rc, "%s failed: %s", job->ops->what, strerror(-rc));
	if (!o) {
		if (rc < 0)
			vn_warn(rc, "%s: %s", job->ops->what, err->msg);
		return;
	}
	if (job->ops->flags & VN_JOB_NO_STATUS)
		return;
	if (rc < 0) {
		if (!err->code)
			err->code = rc;
		o->failed = true;
		vn_obj_set_error(o, err);
	} else {
		o->failed = false;
		vn_obj_clear_error(o);
	}
	vn_changed(c, o, "status");
}

/* Run w->cur off the lock, publish it under the lock, free it. */
static void vn_job_execute(struct vn_worker *w)
{
	struct vn_jobs *j = w->j;
	struct vn_job *job = w->cur;
	struct vn_ctx *c = j->c;
	struct vn_err err = {0};
	void *result = NULL;
	bool superseded = false;
	int rc = 0;

	if (job->ops->run)
		rc = job->ops->run(job->snap, &result, &err);
	pthread_rwlock_wrlock(&c->lock);
	pthread_mutex_lock(&j->mu);
	for (struct vn_job *p = j->head; p && !superseded; p = p->next)
		superseded = vn_job_same(p, job);
	pthread_mutex_unlock(&j->mu);
	if (superseded)
		vn_debug("%s for %s: superseded by a newer one", job->ops->what, job->key);
	else
		vn_job_publish(c, job, rc, result, &err);
	/* no longer busy, as of the status just published (and vn_job_busy
	 * must not see the job once it is freed) */
	pthread_mutex_lock(&j->mu);
	w->cur = NULL;
	pthread_mutex_unlock(&j->mu);
	pthread_rwlock_unlock(&c->lock);
	vn_job_free(job, result);
}

/* ---- the queue ---- */

/* The first pending job whose twin is not running (j->mu held). */
static struct vn_job *vn_job_pick(struct vn_jobs *j)
{
	struct vn_job *prev = NULL;

	for (struct vn_job *p = j->head; p; prev = p, p = p->next) {
		bool busy = false;

		for (size_t i = 0; i < j->nworkers && !busy; i++)
			busy = j->workers[i].cur && vn_job_same(j->workers[i].cur, p);
		if (busy)
			continue;
		if (prev)
			prev->next = p->next;
		else
			j->head = p->next;
		if (j->tail == p)
			j->tail = prev;
		p->next = NULL;
		j->npending--;
		return p;
	}
	return NULL;
}

static void *vn_worker_main(void *arg)
{
	struct vn_worker *w = arg;
	struct vn_jobs *j = w->j;

	pthread_mutex_lock(&j->mu);
	for (;;) {
		struct vn_job *job = NULL;

		while (!j->stopping && !(job = vn_job_pick(j)))
			pthread_cond_wait(&j->work, &j->mu);
		if (!job)
			break;
		w->cur = job;
		j->nrunning++;
		pthread_mutex_unlock(&j->mu);
		vn_job_execute(w); /* clears w->cur, frees job */
		pthread_mutex_lock(&j->mu);
		j->nrunning--;
		/* a twin held back by this one may go now */
		pthread_cond_broadcast(&j->work);
		pthread_cond_broadcast(&j->idle);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static int vn_job_enqueue(struct vn_jobs *j, const char *key, bool has_obj,
			  const struct vn_job_ops *ops, void *snap)
{
	struct vn_job *job;

	pthread_mutex_lock(&j->mu);
	for (struct vn_job *p = j->head; p; p = p->next) {
		struct vn_job probe = {.has_obj = has_obj, .ops = ops};

		snprintf(probe.key, sizeof(probe.key), "%s", key);
		if (!vn_job_same(p, &probe))
			continue;
		/* merged: the newest intent, in the older one's place */
		void *old = p->snap;

		p->snap = snap;
		pthread_mutex_unlock(&j->mu);
		if (ops->free)
			ops->free(old, NULL);
		else
			free(old);
		return 1;
	}
	job = calloc(1, sizeof(*job));
	if (!job) {
		pthread_mutex_unlock(&j->mu);
		if (ops->free)
			ops->free(snap, NULL);
		else
			free(snap);
		return -ENOMEM;
	}
	snprintf(job->key, sizeof(job->key), "%s", key);
	job->has_obj = has_obj;
	job->ops = ops;
	job->snap = snap;
	if (j->tail)
		j->tail->next = job;
	else
		j->head = job;
	j->tail = job;
	j->npending++;
	pthread_cond_signal(&j->work);
	pthread_mutex_unlock(&j->mu);
	return 0;
}

int vn_job_submit(struct vn_ctx *c, struct vn_obj *o, const char *key, const struct vn_job_ops *ops,
		  void *snap)
{
	struct vn_jobs *j = c->jobs;
	int r;

	if (!key && !o) {
		if (ops->free)
			ops->free(snap, NULL);
		else
			free(snap);
		return -EINVAL;
	}
	if (!j || !j->nworkers) {
		/* no workers (tools, tests): at once, under the caller's lock */
		struct vn_job *job = calloc(1, sizeof(*job));
		struct vn_err err = {0};
		void *result = NULL;
		int rc = 0;

		if (!job) {
			if (ops->free)
				ops->free(snap, NULL);
			else
				free(snap);
			return -ENOMEM;
		}
		snprintf(job->key, sizeof(job->key), "%s", o ? o->id : key);
		job->has_obj = o != NULL;
		job->ops = ops;
		job->snap = snap;
		if (ops->run)
			rc = ops->run(snap, &result, &err);
		vn_job_publish(c, job, rc, result, &err);
		vn_job_free(job, result);
		return 0;
	}
	r = vn_job_enqueue(j, o ? o->id : key, o != NULL, ops, snap);
	if (r >= 0 && o && !(ops->flags & VN_JOB_NO_STATUS))
		vn_changed(c, o, "status");
	return r;
}

bool vn_job_busy(struct vn_ctx *c, const struct vn_obj *o)
{
	struct vn_jobs *j = c->jobs;
	bool busy = false;

	if (!j)
		return false;
	pthread_mutex_lock(&j->mu);
	for (struct vn_job *p = j->head; p && !busy; p = p->next)
		busy = p->has_obj && !(p->ops->flags & VN_JOB_NO_STATUS) && !strcmp(p->key, o->id);
	for (size_t i = 0; i < j->nworkers && !busy; i++) {
		struct vn_job *p = j->workers[i].cur;

		busy = p && p->has_obj && !(p->ops->flags & VN_JOB_NO_STATUS) &&
		       !strcmp(p->key, o->id);
	}
	pthread_mutex_unlock(&j->mu);
	return busy;
}

void vn_jobs_count(struct vn_ctx *c, size_t *pending, size_t *running)
{
	struct vn_jobs *j = c->jobs;

	*pending = *running = 0;
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	*pending = j->npending;
	*running = j->nrunning;
	pthread_mutex_unlock(&j->mu);
}

int vn_jobs_wait_idle(struct vn_ctx *c, int timeout_ms)
{
	struct vn_jobs *j = c->jobs;
	struct timespec until;
	int r = 0;

	if (!j)
		return 0;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&j->mu);
	while ((j->npending || j->nrunning) && r == 0)
		r = pthread_cond_timedwait(&j->idle, &j->mu, &until);
	if (!j->npending && !j->nrunning)
		r = 0;
	pthread_mutex_unlock(&j->mu);
	return r ? -ETIMEDOUT : 0;
}

/* ---- child processes ---- */

static void vn_strv_free_(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char **vn_strv_dup(char *const argv[])
{
	size_t n = 0;
	char **v;

	while (argv[n])
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(argv[i]))) {
			vn_strv_free_(v);
			return NULL;
		}
	return v;
}

static void vn_sup_wake(struct vn_jobs *j)
{
	uint64_t one = 1;

	if (j->evfd >= 0 && write(j->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		vn_warn(-errno, "cannot wake the supervisor");
}

/* In the child, between fork and exec: system calls only. */
static void __attribute__((noreturn)) vn_child_exec(char **argv, int report, pid_t parent)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;
	int e, nul;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127); /* the daemon died before the line above */
	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	/* SIGHUP is how the daemon says "read your files again": one sent
	 * while the program starts (before it sets its handler; while `ip
	 * netns exec` still runs) must not kill it. Ignored is inherited
	 * through exec; the program's own handler replaces it. */
	struct sigaction ign = {.sa_handler = SIG_IGN};

	sigaction(SIGHUP, &ign, NULL);
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0 || dup2(nul, 0) < 0)
		goto fail;
	/* nothing of the daemon's but stdin/out/err and the report pipe
	 * (CLOEXEC: it closes on a successful exec) */
	if (report > 3) {
		if (dup2(report, 3) < 0)
			goto fail;
		report = 3;
	}
	if (fcntl(report, F_SETFD, FD_CLOEXEC) < 0)
		goto fail;
	syscall(SYS_close_range, 4U, ~0U, 0U);
	/* nothing of the daemon's environment either (LD_PRELOAD, ...) */
	execve(argv[0], argv, (char *[]){"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL});
fail:
	e = errno;
	if (write(report, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

/* Spawn p (j->pmu held). 0 or -errno with a sentence in err. */
static int vn_proc_spawn(struct vn_jobs *j, struct vn_proc *p, char *errbuf, size_t errlen)
{
	int pipefd[2], e = 0;
	pid_t pid, self = getpid();
	ssize_t n;

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		e = -errno;
		snprintf(errbuf, errlen, "cannot start %s: %s", p->name, strerror(-e));
		return e;
	}
	pid = fork();
	if (pid < 0) {
		e = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		snprintf(errbuf, errlen, "cannot start %s: %s", p->name, strerror(-e));
		return e;
	}
	if (pid == 0)
		vn_child_exec(p->argv, pipefd[1], self);
	close(pipefd[1]);
	do
		n = read(pipefd[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == (ssize_t)sizeof(e)) {
		/* exec failed: the child is exiting; reap it here */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		snprintf(errbuf, errlen, "cannot run %s (%s): %s", p->name, p->argv[0],
			 strerror(e));
		return -e;
	}
	p->pid = pid;
	p->started_ms = vn_now_ms();
	p->pidfd = vn_proc_no_pidfd ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);
	if (p->pidfd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = p->serial};

		fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
		if (j->epfd >= 0 && epoll_ctl(j->epfd, EPOLL_CTL_ADD, p->pidfd, &ev) < 0) {
			close(p->pidfd);
			p->pidfd = -1;
		}
	}
	vn_debug("started %s (pid %d) for %s", p->name, (int)pid, p->id);
	return 0;
}

/* A death, for the owner's `error`. Not tied to the object by the queue
 * (key "event:ID"): publish looks the owner up itself, so that a child
 * whose owner was deleted without vn_proc_stop_all is stopped at its
 * first death instead of being restarted for ever. */
struct vn_event_snap {
	char id[37];
	struct vn_err err;
};

static void vn_proc_stop_all_id(struct vn_ctx *c, const char *id);

static int vn_event_run(void *snap, void **result, struct vn_err *err)
{
	*result = snap; /* publish needs it; free knows */
	return 0;
}

static int vn_event_record(struct vn_ctx *c, struct vn_obj *o, int rc, void *result,
			   struct vn_err *err)
{
	struct vn_event_snap *s = result;

	o = vn_find_id(c, s->id);
	if (!o || o->deleting) {
		vn_info("the owner %s of a supervised process is gone: stopping it", s->id);
		vn_proc_stop_all_id(c, s->id);
		return 0;
	}
	free(o->error);
	o->error = strdup(s->err.msg);
	vn_changed(c, o, "error");
	return 0;
}

static void vn_event_free(void *snap, void *result)
{
	free(snap); /* result, if set, is snap */
}

static const struct vn_job_ops vn_event_ops = {
	.what = "supervision event",
	.flags = VN_JOB_NO_STATUS,
	.run = vn_event_run,
	.publish = vn_event_record,
	.free = vn_event_free,
};

/* Log it now, record it in the object's error through a job (pmu held). */
static void vn_proc_event(struct vn_jobs *j, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void vn_proc_event(struct vn_jobs *j, const char *id, const char *fmt, ...)
{
	struct vn_event_snap *s = calloc(1, sizeof(*s));
	char key[VN_KEY_MAX];
	va_list ap;

	if (!s)
		return;
	snprintf(s->id, sizeof(s->id), "%s", id);
	va_start(ap, fmt);
	vsnprintf(s->err.msg, sizeof(s->err.msg), fmt, ap);
	va_end(ap);
	vn_warn(0, "%s", s->err.msg);
	snprintf(key, sizeof(key), "event:%s", id);
	vn_job_enqueue(j, key, false, &vn_event_ops, s);
}

static void vn_proc_describe(const siginfo_t *si, char *buf, size_t len)
{
	if (si->si_code == CLD_EXITED)
		snprintf(buf, len, "exited with status %d", si->si_status);
	else
		snprintf(buf, len, "was killed by signal %d (%s)", si->si_status,
			 strsignal(si->si_status));
}

/* The next start of p after a death or a failed start (pmu held):
 * at once the first time, then a doubling wait. Returns the wait. */
static long long vn_proc_schedule(struct vn_proc *p, long long now)
{
	long long delay = 0;

	if (now - p->started_ms >= VN_PROC_STABLE_MS)
		p->deaths = 0;
	p->deaths++;
	if (p->deaths > 1) {
		unsigned shift = p->deaths - 2 > 16 ? 16 : p->deaths - 2;

		delay = (long long)VN_PROC_BACKOFF_MS << shift;
	}
	if (delay > VN_PROC_BACKOFF_MAX_MS)
		delay = VN_PROC_BACKOFF_MAX_MS;
	p->restart_at_ms = now + delay;
	return delay;
}

/* p's process is gone (reaped): schedule its restart (pmu held). */
static void vn_proc_died(struct vn_jobs *j, struct vn_proc *p, const siginfo_t *si)
{
	long long delay;
	char how[96];
	pid_t pid = p->pid;

	if (p->pidfd >= 0)
		close(p->pidfd); /* leaves the epoll set with it */
	p->pidfd = -1;
	p->pid = 0;
	delay = vn_proc_schedule(p, vn_now_ms());
	vn_proc_describe(si, how, sizeof(how));
	if (delay == 0)
		vn_proc_event(j, p->id, "%s (pid %d) %s; restarting it", p->name, (int)pid, how);
	else
		vn_proc_event(j, p->id,
			      "%s (pid %d) %s; it keeps dying (%u times in a row): restarting it "
			      "in %lld ms",
			      p->name, (int)pid, how, p->deaths, delay);
}

static struct vn_proc *vn_proc_by_serial(struct vn_jobs *j, unsigned long long serial)
{
	for (struct vn_proc *p = j->procs; p; p = p->next)
		if (p->serial == serial)
			return p;
	return NULL;
}

/* Reap p if it is gone (pmu held): true when it was. */
static bool vn_proc_reap(struct vn_jobs *j, struct vn_proc *p)
{
	siginfo_t si = {0};
	int r;

	if (!p->pid || p->stopping)
		return false;
	if (p->pidfd >= 0)
		r = waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG);
	else
		r = waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG);
	if (r < 0 || si.si_pid == 0)
		return false;
	vn_proc_died(j, p, &si);
	return true;
}

static void vn_sup_due(struct vn_jobs *j, long long now, long long *next)
{
	for (struct vn_proc *p = j->procs; p; p = p->next) {
		if (p->stopping)
			continue;
		if (p->start_req) {
			p->start_rc = vn_proc_spawn(j, p, p->start_err, sizeof(p->start_err));
			p->start_pid = p->pid;
			p->start_req = false;
			pthread_cond_broadcast(&j->pcond);
		} else if (!p->pid && p->restart_at_ms && p->restart_at_ms <= now) {
			char e[256];

			p->restart_at_ms = 0;
			if (vn_proc_spawn(j, p, e, sizeof(e)) == 0) {
				p->restarts++;
				pthread_cond_broadcast(&j->pcond);
			} else {
				long long delay;

				p->started_ms = now;
				delay = vn_proc_schedule(p, now);
				vn_proc_event(j, p->id, "%s; trying again in %lld ms", e,
					      delay ? delay : VN_PROC_BACKOFF_MS);
				if (!delay)
					p->restart_at_ms = now + VN_PROC_BACKOFF_MS;
			}
		}
		if (p->pid && p->pidfd < 0 && *next > now + VN_PROC_FALLBACK_MS)
			*next = now + VN_PROC_FALLBACK_MS;
		if (!p->pid && p->restart_at_ms && p->restart_at_ms < *next)
			*next = p->restart_at_ms;
	}
	for (struct vn_poll *q = j->polls; q; q = q->next) {
		if (q->next_ms <= now) {
			char key[VN_KEY_MAX];
			struct vn_poll **s = malloc(sizeof(*s));

			/* one per poll: two polls of a kind are not twins */
			snprintf(key, sizeof(key), "poll:%s:%p", q->kind->type, (void *)q);
			if (s) {
				*s = q;
				vn_job_enqueue(j, key, false, &vn_poll_ops, s);
			}
			q->next_ms = now + q->interval_ms;
		}
		if (q->next_ms < *next)
			*next = q->next_ms;
	}
}

static void *vn_sup_main(void *arg)
{
	struct vn_jobs *j = arg;
	struct epoll_event evs[16];

	pthread_mutex_lock(&j->pmu);
	while (!j->sup_stopping) {
		long long now = vn_now_ms(), next = now + 60000;
		int n, timeout;

		vn_sup_due(j, now, &next);
		/* fallback children: polled */
		for (struct vn_proc *p = j->procs; p; p = p->next)
			if (p->pidfd < 0)
				vn_proc_reap(j, p);
		timeout = next > now ? (int)(next - now) : 0;
		pthread_mutex_unlock(&j->pmu);
		n = epoll_wait(j->epfd, evs, 16, timeout);
		pthread_mutex_lock(&j->pmu);
		for (int i = 0; i < n; i++) {
			struct vn_proc *p;

			if (evs[i].data.u64 == 0) {
				uint64_t v;

				if (read(j->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					vn_warn(-errno, "supervisor: reading its eventfd");
				continue;
			}
			p = vn_proc_by_serial(j, evs[i].data.u64);
			if (p)
				vn_proc_reap(j, p);
		}
	}
	pthread_mutex_unlock(&j->pmu);
	return NULL;
}

static struct vn_proc *vn_proc_find(struct vn_jobs *j, const char *id, const char *name)
{
	for (struct vn_proc *p = j->procs; p; p = p->next)
		if (!p->stopping && !strcmp(p->id, id) && !strcmp(p->name, name))
			return p;
	return NULL;
}

/* Signal, wait, SIGKILL, reap; p is marked stopping (nobody else touches
 * its process). Called without pmu. */
static void vn_proc_kill(struct vn_proc *p)
{
	int fd = p->pidfd;

	if (!p->pid)
		return;
	if (fd < 0)
		fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	kill(p->pid, SIGTERM);
	if (fd >= 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		if (poll(&pfd, 1, VN_PROC_STOP_MS) == 0)
			kill(p->pid, SIGKILL);
		if (fd != p->pidfd)
			close(fd);
	} else {
		long long until = vn_now_ms() + VN_PROC_STOP_MS;

		while (waitpid(p->pid, NULL, WNOHANG) == 0) {
			if (vn_now_ms() >= until) {
				kill(p->pid, SIGKILL);
				break;
			}
			usleep(10000);
		}
	}
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
	p->pid = 0;
}

static void vn_proc_free(struct vn_proc *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	vn_strv_free_(p->argv);
	free(p);
}

/* Unlink p (pmu held). */
static void vn_proc_unlink(struct vn_jobs *j, struct vn_proc *p)
{
	for (struct vn_proc **pp = &j->procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

/* Take p out of the supervisor's hands and end its process. */
static void vn_proc_end(struct vn_jobs *j, struct vn_proc *p)
{
	p->stopping = true;
	if (p->pidfd >= 0 && j->epfd >= 0)
		epoll_ctl(j->epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
	vn_proc_unlink(j, p);
	pthread_mutex_unlock(&j->pmu);
	vn_proc_kill(p);
	vn_proc_free(p);
	pthread_mutex_lock(&j->pmu);
}

pid_t vn_proc_start(struct vn_ctx *c, struct vn_obj *o, const char *name, char *const argv[],
		    struct vn_err *err)
{
	return vn_proc_start_id(c, o->id, name, argv, err);
}

pid_t vn_proc_start_id(struct vn_ctx *c, const char *id, const char *name, char *const argv[],
		       struct vn_err *err)
{
	struct vn_jobs *j = c->jobs;
	struct vn_proc *p, *old;
	pid_t pid;
	int r;

	if (!j)
		return vn_fail(err, -ECANCELED, "cannot start %s: no supervisor", name);
	if (!argv || !argv[0] || argv[0][0] != '/')
		return vn_fail(err, -EINVAL, "cannot start %s: not an absolute path", name);
	if (strlen(name) >= VN_PROC_NAME_MAX)
		return vn_fail(err, -ENAMETOOLONG, "process name '%s' is too long", name);
	p = calloc(1, sizeof(*p));
	if (!p || !(p->argv = vn_strv_dup(argv))) {
		free(p);
		return vn_fail(err, -ENOMEM, "out of memory");
	}
	snprintf(p->id, sizeof(p->id), "%s", id);
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->pidfd = -1;
	pthread_mutex_lock(&j->pmu);
	if (j->sup_stopping) {
		pthread_mutex_unlock(&j->pmu);
		vn_proc_free(p);
		return vn_fail(err, -ECANCELED, "cannot start %s: the daemon is stopping", name);
	}
	old = vn_proc_find(j, p->id, name);
	if (old)
		vn_proc_end(j, old);
	p->serial = ++j->next_serial;
	p->next = j->procs;
	j->procs = p;
	if (j->sup_running) {
		p->start_req = true;
		vn_sup_wake(j);
		while (p->start_req)
			pthread_cond_wait(&j->pcond, &j->pmu);
		r = p->start_rc;
		pid = p->start_pid;
		if (r < 0)
			vn_fail(err, r, "%s", p->start_err);
	} else {
		char e[256];

		r = vn_proc_spawn(j, p, e, sizeof(e));
		pid = p->pid;
		if (r < 0)
			vn_fail(err, r, "%s", e);
	}
	if (r < 0) {
		vn_proc_unlink(j, p);
		vn_proc_free(p);
	}
	pthread_mutex_unlock(&j->pmu);
	return r < 0 ? r : pid;
}

int vn_proc_stop(struct vn_ctx *c, const struct vn_obj *o, const char *name)
{
	return vn_proc_stop_id(c, o->id, name);
}

int vn_proc_stop_id(struct vn_ctx *c, const char *id, const char *name)
{
	struct vn_jobs *j = c->jobs;
	struct vn_proc *p;

	if (!j)
		return -ENOENT;
	pthread_mutex_lock(&j->pmu);
	p = vn_proc_find(j, id, name);
	if (p)
		vn_proc_end(j, p);
	pthread_mutex_unlock(&j->pmu);
	return p ? 0 : -ENOENT;
}

static void vn_proc_stop_all_id(struct vn_ctx *c, const char *id)
{
	struct vn_jobs *j = c->jobs;
	struct vn_proc *p;

	if (!j)
		return;
	pthread_mutex_lock(&j->pmu);
	while ((p = j->procs)) {
		while (p && (p->stopping || strcmp(p->id, id)))
			p = p->next;
		if (!p)
			break;
		vn_proc_end(j, p);
	}
	pthread_mutex_unlock(&j->pmu);
}

void vn_proc_stop_all(struct vn_ctx *c, const struct vn_obj *o)
{
	vn_proc_stop_all_id(c, o->id);
}

pid_t vn_proc_pid(struct vn_ctx *c, const struct vn_obj *o, const char *name, unsigned *restarts)
{
	struct vn_jobs *j = c->jobs;
	struct vn_proc *p;
	pid_t pid = -ENOENT;

	if (restarts)
		*restarts = 0;
	if (!j)
		return pid;
	pthread_mutex_lock(&j->pmu);
	p = vn_proc_find(j, o->id, name);
	if (p) {
		pid = p->pid;
		if (restarts)
			*restarts = p->restarts;
	}
	pthread_mutex_unlock(&j->pmu);
	return pid;
}

int vn_proc_signal(struct vn_ctx *c, const struct vn_obj *o, const char *name, int sig)
{
	return vn_proc_signal_id(c, o->id, name, sig);
}

int vn_proc_signal_id(struct vn_ctx *c, const char *id, const char *name, int sig)
{
	struct vn_jobs *j = c->jobs;
	struct vn_proc *p;
	int r = -ENOENT;

	if (!j)
		return r;
	pthread_mutex_lock(&j->pmu);
	p = vn_proc_find(j, id, name);
	if (p && p->pid > 0) {
		if (p->pidfd >= 0)
			r = syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0) < 0 ? -errno : 0;
		else /* no pidfd: the pid is ours until reaped, which takes pmu */
			r = kill(p->pid, sig) < 0 ? -errno : 0;
	}
	pthread_mutex_unlock(&j->pmu);
	return r;
}

/* ---- polls ---- */

struct vn_poll_walk {
	struct vn_ctx *c;
	struct vn_poll *q;
};

static int vn_poll_one(struct vn_obj *o, void *arg)
{
	struct vn_poll_walk *w = arg;

	if (!o->deleting)
		w->q->tick(w->c, o);
	return 0;
}

static int vn_poll_publish(struct vn_ctx *c, struct vn_obj *o, int rc, void *result,
			   struct vn_err *err)
{
	/* snap is the poll; the queue hands it over through run's result */
	struct vn_poll_walk w = {c, *(struct vn_poll **)result};

	vn_foreach_kind(c, w.q->kind, vn_poll_one, &w);
	return 0;
}

static int vn_poll_run(void *snap, void **result, struct vn_err *err)
{
	struct vn_poll **s = snap;

	*result = s;
	return 0;
}

static void vn_poll_free(void *snap, void *result)
{
	free(snap); /* result is snap */
}

static const struct vn_job_ops vn_poll_ops = {
	.what = "poll",
	.flags = VN_JOB_NO_STATUS,
	.run = vn_poll_run,
	.publish = vn_poll_publish,
	.free = vn_poll_free,
};

int vn_poll_every(struct vn_ctx *c, const struct vn_kind *k, unsigned interval_ms,
		  void (*tick)(struct vn_ctx *c, struct vn_obj *o))
{
	struct vn_jobs *j = c->jobs;
	struct vn_poll *q;

	if (!j)
		return -ECANCELED;
	if (!interval_ms || !tick)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->kind = k;
	q->interval_ms = interval_ms;
	q->tick = tick;
	pthread_mutex_lock(&j->pmu);
	q->next_ms = vn_now_ms() + interval_ms;
	q->next = j->polls;
	j->polls = q;
	vn_sup_wake(j);
	pthread_mutex_unlock(&j->pmu);
	return 0;
}

/* ---- start, stop ---- */

int vn_jobs_start(struct vn_ctx *c, unsigned nworkers)
{
	struct vn_jobs *j;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
	int e;

	if (c->jobs)
		return -EALREADY;
	if (!nworkers)
		nworkers = 1;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->c = c;
	j->epfd = j->evfd = -1;
	pthread_mutex_init(&j->mu, NULL);
	pthread_mutex_init(&j->pmu, NULL);
	pthread_cond_init(&j->work, NULL);
	pthread_cond_init(&j->idle, NULL);
	pthread_cond_init(&j->pcond, NULL);
	j->workers = calloc(nworkers, sizeof(*j->workers));
	j->epfd = epoll_create1(EPOLL_CLOEXEC);
	j->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!j->workers || j->epfd < 0 || j->evfd < 0 ||
	    epoll_ctl(j->epfd, EPOLL_CTL_ADD, j->evfd, &ev) < 0) {
		e = j->workers ? -errno : -ENOMEM;
		goto fail;
	}
	c->jobs = j;
	for (size_t i = 0; i < nworkers; i++) {
		j->workers[i].j = j;
		e = -pthread_create(&j->workers[i].thread, NULL, vn_worker_main, &j->workers[i]);
		if (e < 0) {
			vn_jobs_stop(c);
			return vn_err(e, "cannot start the job workers");
		}
		pthread_mutex_lock(&j->mu);
		j->nworkers++;
		pthread_mutex_unlock(&j->mu);
	}
	e = -pthread_create(&j->sup, NULL, vn_sup_main, j);
	if (e < 0) {
		vn_jobs_stop(c);
		return vn_err(e, "cannot start the supervisor");
	}
	pthread_mutex_lock(&j->pmu);
	j->sup_running = true;
	pthread_mutex_unlock(&j->pmu);
	return 0;
fail:
	free(j->workers);
	if (j->epfd >= 0)
		close(j->epfd);
	if (j->evfd >= 0)
		close(j->evfd);
	free(j);
	return vn_err(e, "cannot set up the job queue");
}

void vn_jobs_stop(struct vn_ctx *c)
{
	struct vn_jobs *j = c->jobs;
	struct vn_job *job;
	struct vn_poll *q;
	bool sup;

	if (!j)
		return;
	pthread_mutex_lock(&j->pmu);
	j->sup_stopping = true;
	sup = j->sup_running;
	j->sup_running = false;
	vn_sup_wake(j);
	pthread_mutex_unlock(&j->pmu);
	if (sup)
		pthread_join(j->sup, NULL);
	pthread_mutex_lock(&j->pmu);
	while (j->procs)
		vn_proc_end(j, j->procs);
	pthread_mutex_unlock(&j->pmu);

	pthread_mutex_lock(&j->mu);
	j->stopping = true;
	pthread_cond_broadcast(&j->work);
	pthread_mutex_unlock(&j->mu);
	for (size_t i = 0; i < j->nworkers; i++)
		pthread_join(j->workers[i].thread, NULL);
	while ((job = j->head)) {
		j->head = job->next;
		vn_job_free(job, NULL);
	}
	while ((q = j->polls)) {
		j->polls = q->next;
		free(q);
	}
	c->jobs = NULL;
	free(j->workers);
	close(j->epfd);
	close(j->evfd);
	pthread_cond_destroy(&j->work);
	pthread_cond_destroy(&j->idle);
	pthread_cond_destroy(&j->pcond);
	pthread_mutex_destroy(&j->mu);
	pthread_mutex_destroy(&j->pmu);
	free(j);
}

/* ---- the closer ----------------------------------------------------------
 * Namespace handles are closed under the model lock, and the close of a
 * netlink socket's last fd can wait for an RCU grace period (8-20 ms for
 * NETLINK_NETFILTER). Handles made by the daemon carry this closer
 * (vn_ns_set_closer): one thread that closes what it is handed. Before
 * vn_closer_start (the daemon forks into the background first) and after
 * vn_closer_fini, fds are closed at once. */

struct vn_fd_closer {
	struct vn_closer ops; /* first: the handles' pointer */
	pthread_mutex_t mu;
	pthread_cond_t more, idle;
	int *fds;
	size_t n, cap;
	bool busy; /* an fd taken off the queue, not closed yet */
	bool running, stopping;
	pthread_t th;
};

static void *vn_closer_main(void *arg)
{
	struct vn_fd_closer *k = arg;

	pthread_mutex_lock(&k->mu);
	for (;;) {
		while (!k->n && !k->stopping) {
			k->busy = false;
			pthread_cond_broadcast(&k->idle);
			pthread_cond_wait(&k->more, &k->mu);
		}
		if (!k->n)
			break; /* stopping, and all closed */
		int fd = k->fds[--k->n];

		k->busy = true;
		pthread_mutex_unlock(&k->mu);
		close(fd);
		pthread_mutex_lock(&k->mu);
	}
	k->busy = false;
	pthread_cond_broadcast(&k->idle);
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

static void vn_closer_close(struct vn_closer *self, int fd)
{
	struct vn_fd_closer *k = (struct vn_fd_closer *)self;

	pthread_mutex_lock(&k->mu);
	if (k->running && k->n == k->cap) {
		size_t ncap = k->cap ? 2 * k->cap : 64;
		int *nfds = realloc(k->fds, ncap * sizeof(*nfds));

		if (nfds) {
			k->fds = nfds;
			k->cap = ncap;
		}
	}
	if (!k->running || k->n == k->cap) {
		pthread_mutex_unlock(&k->mu);
		close(fd); /* no thread, or no memory: the slow way */
		return;
	}
	k->fds[k->n++] = fd;
	pthread_cond_signal(&k->more);
	pthread_mutex_unlock(&k->mu);
}

int vn_closer_init(struct vn_ctx *c)
{
	struct vn_fd_closer *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	k->ops.close = vn_closer_close;
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->more, NULL);
	pthread_cond_init(&k->idle, NULL);
	c->closer = k;
	return 0;
}

struct vn_closer *vn_ctx_closer(struct vn_ctx *c)
{
	return c->closer ? &c->closer->ops : NULL;
}

int vn_closer_start(struct vn_ctx *c)
{
	struct vn_fd_closer *k = c->closer;
	sigset_t all, old;
	int e;

	if (!k)
		return -EINVAL;
	pthread_mutex_lock(&k->mu);
	if (k->running) {
		pthread_mutex_unlock(&k->mu);
		return 0;
	}
	/* The thread takes no signal meant for the daemon's others. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = -pthread_create(&k->th, NULL, vn_closer_main, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	k->running = e == 0;
	pthread_mutex_unlock(&k->mu);
	return e < 0 ? vn_err(e, "cannot start the closer thread") : 0;
}

void vn_closer_drain(struct vn_ctx *c)
{
	struct vn_fd_closer *k = c->closer;

	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	while (k->running && (k->n || k->busy))
		pthread_cond_wait(&k->idle, &k->mu);
	pthread_mutex_unlock(&k->mu);
}

void vn_closer_fini(struct vn_ctx *c)
{
	struct vn_fd_closer *k = c->closer;
	bool running;

	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	running = k->running;
	k->stopping = true;
	pthread_cond_signal(&k->more);
	pthread_mutex_unlock(&k->mu);
	if (running)
		pthread_join(k->th, NULL); /* it closes what is queued first */
	for (size_t i = 0; i < k->n; i++)
		close(k->fds[i]);
	c->closer = NULL;
	free(k->fds);
	pthread_cond_destroy(&k->more);
	pthread_cond_destroy(&k->idle);
	pthread_mutex_destroy(&k->mu);
	free(k);
}
