// SPDX-License-Identifier: MIT
/*
 * Unit tests of the job machinery (fs/jobs.c): merging of identical jobs,
 * run off the lock and publish under it, a job whose object is deleted
 * meanwhile, a failed job's ERROR and `error`, readers during a slow job,
 * a writer among steady readers (writer-preferring lock), supervised
 * children (restart after SIGKILL within 1 s, no zombies, backoff, the
 * waitpid fallback), and per-kind polls. No privileges; real threads and
 * real children (/bin/sleep, /bin/false).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vnetfs/backend.h"
#include "vnetfs/jobs.h"
#include "vnetfs/model.h"
#include "fs/internal.h"
#include "fs/kinds.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- a test kind: BUILD while a job is queued or running ---- */
static const char *t_status(struct vn_ctx *c, struct vn_obj *o)
{
	return vn_job_busy(c, o) ? "BUILD" : "ACTIVE";
}

static const struct vn_attr t_attrs[] = {
	{.name = "text", .mode = 0644, .type = VN_T_STR},
	{.name = NULL},
};

static const struct vn_kind t_kind = {
	.dir = "things",
	.type = "flavor", /* a registered type name; nothing is persisted here */
	.attrs = t_attrs,
	.status = t_status,
};

struct fixture {
	struct vn_ctx c;
	struct vn_coll coll;
	struct vn_obj *a, *b;
};

static struct vn_obj *mk(struct fixture *f, const char *name)
{
	struct vn_err err = {0};
	struct vn_obj *o = NULL;

	assert_int_equal(vn_obj_create(&f->c, &f->coll, name, 0, 0, NULL, &o, &err), 0);
	return o;
}

static int setup_n(void **state, unsigned workers)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vn_opts opts = {0};

	assert_int_equal(vn_ctx_init(&f->c, &opts), 0); /* no state dir: nothing saved */
	f->coll.kind = &t_kind;
	f->coll.by_name = lh_kchar_table_new(16, NULL);
	f->a = mk(f, "a");
	f->b = mk(f, "b");
	if (workers)
		assert_int_equal(vn_jobs_start(&f->c, workers), 0);
	*state = f;
	return 0;
}

static int setup1(void **state)
{
	return setup_n(state, 1);
}

static int setup2(void **state)
{
	return setup_n(state, 2);
}

static int setup0(void **state)
{
	return setup_n(state, 0);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};

	vn_jobs_stop(&f->c);
	assert_null(f->c.jobs);
	while (f->coll.by_name->head)
		vn_obj_delete(&f->c, lh_entry_v(f->coll.by_name->head), true, &err);
	lh_table_free(f->coll.by_name);
	vn_ctx_fini(&f->c);
	free(f);
	return 0;
}

static void wrlock(struct fixture *f)
{
	pthread_rwlock_wrlock(&f->c.lock);
}

static void unlock(struct fixture *f)
{
	pthread_rwlock_unlock(&f->c.lock);
}

static char *render(struct fixture *f, struct vn_obj *o, const char *name)
{
	struct vn_buf b = {0};

	pthread_rwlock_rdlock(&f->c.lock);
	assert_int_equal(vn_obj_render(&f->c, o, name, &b), 0);
	pthread_rwlock_unlock(&f->c.lock);
	return b.s ? b.s : strdup("");
}

static void expect_file(struct fixture *f, struct vn_obj *o, const char *name, const char *want)
{
	char *got = render(f, o, name);

	assert_string_equal(got, want);
	free(got);
}

/* ---- a test job: a value to publish, a gate to hold run, counters ---- */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool gate_closed;
	int runs, publishes, frees, in_run, max_in_run;
	int run_saw_lock_free;	   /* run could take the lock shared */
	int publish_saw_lock_held; /* publish ran with the lock held exclusive */
	long last_run_value;
	long sleep_ms;
	int fail;
} J = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

struct tsnap {
	struct vn_ctx *c;
	long value;
};

static void gate(bool closed)
{
	pthread_mutex_lock(&J.mu);
	J.gate_closed = closed;
	pthread_cond_broadcast(&J.cond);
	pthread_mutex_unlock(&J.mu);
}

static int jcount(int *field)
{
	int v;

	pthread_mutex_lock(&J.mu);
	v = *field;
	pthread_mutex_unlock(&J.mu);
	return v;
}

static void reset_J(void)
{
	pthread_mutex_lock(&J.mu);
	J.gate_closed = false;
	J.runs = J.publishes = J.frees = J.in_run = J.max_in_run = 0;
	J.run_saw_lock_free = J.publish_saw_lock_held = 0;
	J.last_run_value = 0;
	J.sleep_ms = 0;
	J.fail = 0;
	pthread_mutex_unlock(&J.mu);
}

static int t_run(void *snap, void **result, struct vn_err *err)
{
	struct tsnap *s = snap;
	long *res;
	int fail;

	/* The submitter may still be on its way out of the write lock (or
	 * another test thread briefly in it): run must get the lock shared
	 * within a second, which it never could if the queue held it. */
	for (int i = 0; i < 100; i++) {
		if (pthread_rwlock_tryrdlock(&s->c->lock) == 0) {
			pthread_rwlock_unlock(&s->c->lock);
			pthread_mutex_lock(&J.mu);
			J.run_saw_lock_free++;
			pthread_mutex_unlock(&J.mu);
			break;
		}
		sleep_ms(10);
	}
	pthread_mutex_lock(&J.mu);
	J.runs++;
	J.in_run++;
	if (J.in_run > J.max_in_run)
		J.max_in_run = J.in_run;
	J.last_run_value = s->value;
	while (J.gate_closed)
		pthread_cond_wait(&J.cond, &J.mu);
	fail = J.fail;
	pthread_mutex_unlock(&J.mu);
	if (J.sleep_ms)
		sleep_ms(J.sleep_ms);
	pthread_mutex_lock(&J.mu);
	J.in_run--;
	pthread_mutex_unlock(&J.mu);
	if (fail)
		return vn_fail(err, -EIO, "the backend said no to %ld", s->value);
	res = malloc(sizeof(*res));
	*res = s->value;
	*result = res;
	return 0;
}

static int t_publish(struct vn_ctx *c, struct vn_obj *o, int rc, void *result, struct vn_err *err)
{
	char text[32];

	pthread_mutex_lock(&J.mu);
	J.publishes++;
	/* another thread cannot get it shared: we hold it exclusive */
	if (pthread_rwlock_tryrdlock(&c->lock) == EBUSY)
		J.publish_saw_lock_held++;
	else
		pthread_rwlock_unlock(&c->lock);
	pthread_mutex_unlock(&J.mu);
	if (rc < 0)
		return rc;
	snprintf(text, sizeof(text), "v%ld", *(long *)result);
	vn_set(o, "text", json_object_new_string(text));
	return 0;
}

static void t_free(void *snap, void *result)
{
	pthread_mutex_lock(&J.mu);
	J.frees++;
	pthread_mutex_unlock(&J.mu);
	free(snap);
	free(result);
}

static const struct vn_job_ops t_ops = {
	.what = "test work",
	.run = t_run,
	.publish = t_publish,
	.free = t_free,
};

static const struct vn_job_ops t_ops2 = {
	.what = "other test work",
	.run = t_run,
	.publish = t_publish,
	.free = t_free,
};

static int submit(struct fixture *f, struct vn_obj *o, const struct vn_job_ops *ops, long v)
{
	struct tsnap *s = malloc(sizeof(*s));
	int r;

	s->c = &f->c;
	s->value = v;
	wrlock(f);
	r = vn_job_submit(&f->c, o, NULL, ops, s);
	unlock(f);
	return r;
}

/* wait (≤ 5 s) until field reaches want */
static void wait_count(int *field, int want)
{
	for (int i = 0; i < 500 && jcount(field) < want; i++)
		sleep_ms(10);
	assert_int_equal(jcount(field), want);
}

/* ---- the queue ---- */

static void test_publish_under_lock(void **state)
{
	struct fixture *f = *state;

	reset_J();
	expect_file(f, f->a, "text", "");
	assert_int_equal(submit(f, f->a, &t_ops, 41), 0);
	assert_int_equal(vn_jobs_wait_idle(&f->c, 5000), 0);
	assert_int_equal(J.runs, 1);
	assert_int_equal(J.publishes, 1);
	assert_int_equal(J.frees, 1);
	assert_int_equal(J.run_saw_lock_free, 1);
	assert_int_equal(J.publish_saw_lock_held, 1);
	expect_file(f, f->a, "text", "v41\n");
	expect_file(f, f->a, "status", "ACTIVE\n");
	expect_file(f, f->a, "error", "");
}

static void test_merge(void **state)
{
	struct fixture *f = *state;
	size_t pending, running;

	reset_J();
	gate(true);
	assert_int_equal(submit(f, f->a, &t_ops, 1), 0); /* holds the one worker */
	wait_count(&J.runs, 1);
	assert_int_equal(submit(f, f->b, &t_ops, 10), 0);
	assert_int_equal(submit(f, f->b, &t_ops, 11), 1);  /* merged */
	assert_int_equal(submit(f, f->b, &t_ops, 12), 1);  /* merged */
	assert_int_equal(submit(f, f->b, &t_ops2, 20), 0); /* other work: its own */
	vn_jobs_count(&f->c, &pending, &running);
	assert_int_equal(pending, 2);
	assert_int_equal(running, 1);
	/* the merged snapshots were freed at once */
	assert_int_equal(jcount(&J.frees), 2);
	expect_file(f, f->b, "status", "BUILD\n");
	expect_file(f, f->a, "status", "BUILD\n"); /* running */
	assert_int_equal(vn_jobs_wait_idle(&f->c, 100), -ETIMEDOUT);
	gate(false);
	assert_int_equal(vn_jobs_wait_idle(&f->c, 5000), 0);
	vn_jobs_count(&f->c, &pending, &running);
	assert_int_equal(pending + running, 0);
	assert_int_equal(J.runs, 3); /* a, b once (latest), b's other work */
	assert_int_equal(J.publishes, 3);
	assert_int_equal(J.frees, 5);
	expect_file(f, f->a, "text", "v1\n");
	expect_file(f, f->b, "text", "v20\n"); /* t_ops2 came last */
	expect_file(f, f->b, "status", "ACTIVE\n");
}

static void test_merge_latest_wins(void **state)
{
	struct fixture *f = *state;

	reset_J();
	gate(true);
	assert_int_equal(submit(f, f->a, &t_ops, 1), 0);
	wait_count(&J.runs, 1);
	assert_int_equal(submit(f, f->b, &t_ops, 10), 0);
	assert_int_equal(submit(f, f->b, &t_ops, 12), 1);
	gate(false);
	assert_int_equal(vn_jobs_wait_idle(&f->c, 5000), 0);
	assert_int_equal(J.runs, 2);
	assert_int_equal(J.last_run_value, 12);
	expect_file(f, f->b, "text", "v12\n");
}

/* Two workers: a job submitted while its twin runs waits for it (never two
 * runs at once), and the older, superseded result is not published. */
static void test_twin_not_concurrent(void **state)
{
	struct fixture *f = *state;
	size_t pending, running;

	reset_J();
	gate(true);
	assert_int_equal(submit(f, f->a, &t_ops, 1), 0);
	wait_count(&J.runs, 1);
	assert_int_equal(submit(f, f->a, &t_ops, 2), 0); /* not merged: its twin runs */
	sleep_ms(100);					 /* the idle worker must leave it */
	vn_jobs_count(&f->c, &pending, &running);
	assert_int_equal(pending, 1);
	assert_int_equal(running, 1);
	assert_int_equal(jcount(&J.runs), 1);
	gate(false);
	assert_int_equal(vn_jobs_wait_idle(&f->c, 5000), 0);
	assert_int_equal(J.runs, 2);
	assert_int_equal(J.max_in_run, 1);
	assert_int_equal(J.publishes, 1); /* the first was superseded */
	assert_int_equal(J.frees, 2);
	expect_file(f, f->a, "text", "v2\n");
}

static void test_deleted_object(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};

	reset_J();
	gate(true);
	assert_int_equal(submit(f, f->b, &t_ops, 5), 0);
	wait_count(&J.runs, 1);
	wrlock(f);
	assert_int_equal(vn_obj_delete(&f->c, f->b, true, &err), 0);
	unlock(f);
	f->b = NULL;
	gate(false);
	assert_int_equal(vn_jobs_wait_idle(&f->c, 5000), 0);
	assert_int_equal(J.runs, 1);
	assert_int_equal(J.publishes, 0);
	assert_int_equal(J.frees, 1);
	/* and one queued (not yet run) for an object deleted meanwhile */
	reset_J();
	gate(true);
	assert_int_equal(submit(f, f->a, &t_ops, 6), 0);
	wait_count(&J.runs, 1);
	wrlock(f);
	f->b = mk(f, "b2");
	unlock(f);
	assert_int_equal(submit(f, f->b, &t_ops, 7), 0);
	wrlock(f);
	assert_int_equal(vn_obj_delete(&f->c, f->b, true, &err), 0);
	unlock(f);
	f->b = NULL;
	gate(false);
	assert_int_equal(vn_jobs_wait_idle(&f->c, 5000), 0);
	assert_int_equal(J.publishes, 1); /* a's only */
	assert_int_equal(J.frees, 2);
}

static void test_failed_job(void **state)
{
	struct fixture *f = *state;
	char *j;

	reset_J();
	J.fail = 1;
	assert_int_equal(submit(f, f->a, &t_ops, 9), 0);
	assert_int_equal(vn_jobs_wait_idle(&f->c, 5000), 0);
	assert_int_equal(J.publishes, 1);
	expect_file(f, f->a, "status", "ERROR\n");
	expect_file(f, f->a, "error", "the backend said no to 9\n");
	expect_file(f, f->a, "text", ""); /* nothing published */
	j = render(f, f->a, "json");
	assert_non_null(strstr(j, "\"status\":\"ERROR\""));
	assert_non_null(strstr(j, "the backend said no to 9"));
	free(j);
	/* the next successful job clears it */
	J.fail = 0;
	assert_int_equal(submit(f, f->a, &t_ops, 10), 0);
	assert_int_equal(vn_jobs_wait_idle(&f->c, 5000), 0);
	expect_file(f, f->a, "status", "ACTIVE\n");
	expect_file(f, f->a, "error", "");
	expect_file(f, f->a, "text", "v10\n");
}

/* Without workers (tools, other tests) a job runs at once, inline. */
static void test_inline(void **state)
{
	struct fixture *f = *state;

	reset_J();
	assert_null(f->c.jobs);
	assert_int_equal(submit(f, f->a, &t_ops, 3), 0);
	assert_int_equal(J.runs, 1);
	assert_int_equal(J.publishes, 1);
	expect_file(f, f->a, "text", "v3\n");
	assert_int_equal(vn_jobs_wait_idle(&f->c, 10), 0);
}

/* ---- readers and writers ---- */

struct readers {
	struct fixture *f;
	atomic_bool stop;
	atomic_long reads, max_us;
	bool hold;    /* hold the lock 2 ms per read */
	bool renders; /* render files */
};

static void *reader(void *arg)
{
	struct readers *r = arg;

	while (!atomic_load(&r->stop)) {
		struct timespec a, b;
		long us;

		clock_gettime(CLOCK_MONOTONIC, &a);
		pthread_rwlock_rdlock(&r->f->c.lock);
		if (r->renders) {
			struct vn_buf buf = {0};

			vn_obj_render(&r->f->c, r->f->a, "text", &buf);
			vn_obj_render(&r->f->c, r->f->a, "status", &buf);
			vn_buf_free(&buf);
		}
		if (r->hold)
			sleep_ms(2);
		pthread_rwlock_unlock(&r->f->c.lock);
		clock_gettime(CLOCK_MONOTONIC, &b);
		us = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
		atomic_fetch_add(&r->reads, 1);
		if (us > atomic_load(&r->max_us))
			atomic_store(&r->max_us, us);
	}
	return NULL;
}

/* A job sleeping 2 s off the lock: every read meanwhile returns fast, and
 * a writer gets in too. */
static void test_slow_job_readers(void **state)
{
	struct fixture *f = *state;
	struct readers r = {.f = f, .renders = true};
	pthread_t t[4];
	long long t0, w0, wmax = 0;

	reset_J();
	J.sleep_ms = 2000;
	t0 = now_ms();
	assert_int_equal(submit(f, f->a, &t_ops, 77), 0);
	wait_count(&J.runs, 1);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, reader, &r);
	for (int i = 0; i < 10; i++) {
		sleep_ms(100);
		w0 = now_ms();
		wrlock(f);
		unlock(f);
		if (now_ms() - w0 > wmax)
			wmax = now_ms() - w0;
	}
	expect_file(f, f->a, "status", "BUILD\n"); /* still running */
	assert_int_equal(vn_jobs_wait_idle(&f->c, 10000), 0);
	atomic_store(&r.stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	print_message("slow job: %ld reads, slowest %ld us, writer waited at most %lld ms, "
		      "job took %lld ms\n",
		      atomic_load(&r.reads), atomic_load(&r.max_us), wmax, now_ms() - t0);
	assert_true(now_ms() - t0 >= 2000);
	assert_true(atomic_load(&r.reads) > 100);
	assert_true(atomic_load(&r.max_us) < 1000000); /* not 2 s: never behind the job */
	assert_true(wmax < 1000);
	expect_file(f, f->a, "text", "v77\n");
	expect_file(f, f->a, "status", "ACTIVE\n");
}

/* 4 threads read in a loop, each holding the lock 2 ms, always someone
 * inside: with a reader-preferring lock the writer never gets in. */
static void test_writer_not_starved(void **state)
{
	struct fixture *f = *state;
	struct readers r = {.f = f, .hold = true};
	pthread_t t[4];
	long long wmax = 0;

	if (getenv("VN_TEST_READER_PREFERRING")) {
		/* to see this test fail: the lock glibc gives by default */
		pthread_rwlock_destroy(&f->c.lock);
		pthread_rwlock_init(&f->c.lock, NULL);
	}
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, reader, &r);
	sleep_ms(50);
	for (int i = 0; i < 20; i++) {
		long long w0 = now_ms();
		struct timespec until;
		int e;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 3;
		e = pthread_rwlock_timedwrlock(&f->c.lock, &until);
		if (e == 0)
			unlock(f);
		if (e)
			wmax = 3000;
		else if (now_ms() - w0 > wmax)
			wmax = now_ms() - w0;
		if (e)
			break;
		sleep_ms(5);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	print_message("writer among 4 readers: waited at most %lld ms (%ld reads)\n", wmax,
		      atomic_load(&r.reads));
	assert_true(atomic_load(&r.reads) > 100);
	assert_true(wmax < 200);
}

/* ---- supervision ---- */

static bool reaped(pid_t pid)
{
	/* not our child any more (reaped), and no such process */
	return waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD && kill(pid, 0) < 0 &&
	       errno == ESRCH;
}

static bool no_children(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static char *error_of(struct fixture *f, struct vn_obj *o)
{
	return render(f, o, "error");
}

static void restart_after_kill(struct fixture *f)
{
	char *const argv[] = {"/bin/sleep", "1000", NULL};
	struct vn_err err = {0};
	unsigned restarts = 9;
	pid_t pid, npid = 0;
	long long t0;
	char want[128], *e;

	pid = vn_proc_start(&f->c, f->a, "sleeper", argv, &err);
	assert_true(pid > 0);
	assert_int_equal(vn_proc_pid(&f->c, f->a, "sleeper", &restarts), pid);
	assert_int_equal(restarts, 0);
	sleep_ms(50);
	assert_int_equal(kill(pid, SIGKILL), 0);
	t0 = now_ms();
	while (now_ms() - t0 < 2000) {
		npid = vn_proc_pid(&f->c, f->a, "sleeper", &restarts);
		if (npid > 0 && npid != pid)
			break;
		sleep_ms(5);
	}
	print_message("restarted %lld ms after SIGKILL\n", now_ms() - t0);
	assert_true(npid > 0 && npid != pid);
	assert_true(now_ms() - t0 < 1000);
	assert_int_equal(restarts, 1);
	assert_true(reaped(pid)); /* no zombie */
	assert_int_equal(kill(npid, 0), 0);
	assert_int_equal(vn_jobs_wait_idle(&f->c, 5000), 0);
	snprintf(want, sizeof(want),
		 "sleeper (pid %d) was killed by signal 9 (Killed); restarting it\n", (int)pid);
	e = error_of(f, f->a);
	assert_string_equal(e, want);
	free(e);
	expect_file(f, f->a, "status", "ACTIVE\n"); /* running again */
	assert_int_equal(vn_proc_stop(&f->c, f->a, "sleeper"), 0);
	assert_true(reaped(npid));
	assert_int_equal(vn_proc_pid(&f->c, f->a, "sleeper", NULL), -ENOENT);
	assert_int_equal(vn_proc_stop(&f->c, f->a, "sleeper"), -ENOENT);
	assert_true(no_children());
}

static void test_proc_restart(void **state)
{
	restart_after_kill(*state);
}

static void test_proc_restart_fallback(void **state)
{
	vn_proc_no_pidfd = true;
	restart_after_kill(*state);
	vn_proc_no_pidfd = false;
}

static void test_proc_backoff(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {"/bin/false", NULL};
	struct vn_err err = {0};
	unsigned restarts = 0;
	char *e;

	assert_true(vn_proc_start(&f->c, f->b, "crasher", argv, &err) > 0);
	sleep_ms(3000);
	vn_proc_pid(&f->c, f->b, "crasher", &restarts);
	print_message("a child that dies at once: %u restarts in 3 s\n", restarts);
	/* at 0, 0.25, 0.75, 1.75 s (then 3.75): not hundreds */
	assert_true(restarts >= 3 && restarts <= 5);
	assert_int_equal(vn_jobs_wait_idle(&f->c, 5000), 0);
	e = error_of(f, f->b);
	assert_non_null(strstr(e, "crasher (pid "));
	assert_non_null(strstr(e, "exited with status 1; it keeps dying"));
	assert_non_null(strstr(e, "restarting it in "));
	free(e);
	assert_int_equal(vn_proc_stop(&f->c, f->b, "crasher"), 0);
	assert_true(no_children());
}

static void test_proc_bad_program(void **state)
{
	struct fixture *f = *state;
	char *const missing[] = {"/nonexistent/vn-no-such-program", NULL};
	char *const relative[] = {"sleep", "1", NULL};
	struct vn_err err = {0};

	assert_int_equal(vn_proc_start(&f->c, f->a, "ghost", missing, &err), -ENOENT);
	assert_string_equal(err.msg, "cannot run ghost (/nonexistent/vn-no-such-program): No "
				     "such file or directory");
	assert_int_equal(vn_proc_pid(&f->c, f->a, "ghost", NULL), -ENOENT);
	assert_int_equal(vn_proc_start(&f->c, f->a, "rel", relative, &err), -EINVAL);
	assert_true(no_children());
}

/* A SIGHUP (the daemon's "read your files again") that reaches a child
 * before it sets a handler of its own does not kill it: it starts with
 * SIGHUP ignored (sleep sets none: with the default action it dies). */
static void test_proc_sighup_at_start(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {"/bin/sleep", "30", NULL};
	struct vn_err err = {0};
	unsigned restarts = 99;
	pid_t pid;

	pid = vn_proc_start(&f->c, f->a, "hup", argv, &err);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, SIGHUP), 0);
	usleep(300 * 1000);
	assert_int_equal(vn_proc_pid(&f->c, f->a, "hup", &restarts), pid);
	assert_int_equal(restarts, 0);
	assert_int_equal(kill(pid, 0), 0); /* the same process, alive */
	assert_int_equal(vn_proc_stop(&f->c, f->a, "hup"), 0);
}

/* vn_proc_signal reaches the supervised child itself (its pidfd), and
 * nothing once it is no longer supervised. */
static void test_proc_signal(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {"/bin/sleep", "30", NULL};
	struct vn_err err = {0};
	unsigned restarts = 99;
	pid_t pid, npid = 0;
	long long t0;

	assert_int_equal(vn_proc_signal(&f->c, f->a, "sig", 0), -ENOENT);
	pid = vn_proc_start(&f->c, f->a, "sig", argv, &err);
	assert_true(pid > 0);
	assert_int_equal(vn_proc_signal(&f->c, f->a, "sig", 0), 0);
	assert_int_equal(vn_proc_signal(&f->c, f->a, "sig", SIGKILL), 0);
	t0 = now_ms();
	while (now_ms() - t0 < 2000) {
		npid = vn_proc_pid(&f->c, f->a, "sig", &restarts);
		if (npid > 0 && npid != pid)
			break;
		sleep_ms(5);
	}
	assert_true(npid > 0 && npid != pid); /* it died of it: restarted */
	assert_int_equal(restarts, 1);
	assert_true(reaped(pid));
	assert_int_equal(vn_proc_stop(&f->c, f->a, "sig"), 0);
	assert_int_equal(vn_proc_signal(&f->c, f->a, "sig", SIGTERM), -ENOENT);
	assert_true(reaped(npid));
}

/* Deleting the owner (vn_proc_stop_all) and stopping the machinery end
 * every child. */
static void test_proc_stop_all(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {"/bin/sleep", "1000", NULL};
	struct vn_err err = {0};
	pid_t p1, p2, p3;

	p1 = vn_proc_start(&f->c, f->a, "one", argv, &err);
	p2 = vn_proc_start(&f->c, f->a, "two", argv, &err);
	p3 = vn_proc_start(&f->c, f->b, "three", argv, &err);
	assert_true(p1 > 0 && p2 > 0 && p3 > 0);
	/* starting it again under its name replaces it */
	pid_t p1b = vn_proc_start(&f->c, f->a, "one", argv, &err);
	assert_true(p1b > 0 && p1b != p1);
	assert_true(reaped(p1));
	vn_proc_stop_all(&f->c, f->a);
	assert_true(reaped(p1b));
	assert_true(reaped(p2));
	assert_int_equal(kill(p3, 0), 0);
	vn_jobs_stop(&f->c); /* teardown would do it: check it here */
	assert_true(reaped(p3));
	assert_true(no_children());
}

/* A job's run starts a child (off the lock, by the owner's id); the child
 * has only stdin (/dev/null), stdout and stderr, its own process group. */
struct psnap {
	struct vn_ctx *c;
	char id[37];
};

static int p_run(void *snap, void **result, struct vn_err *err)
{
	struct psnap *s = snap;
	char *const argv[] = {"/bin/sleep", "1000", NULL};
	pid_t *pid = malloc(sizeof(*pid));

	*pid = vn_proc_start_id(s->c, s->id, "worker-child", argv, err);
	*result = pid;
	return *pid < 0 ? *pid : 0;
}

static int p_publish(struct vn_ctx *c, struct vn_obj *o, int rc, void *result, struct vn_err *err)
{
	char text[32];

	if (rc < 0)
		return rc;
	snprintf(text, sizeof(text), "pid %d", (int)*(pid_t *)result);
	vn_set(o, "text", json_object_new_string(text));
	return 0;
}

static const struct vn_job_ops p_ops = {
	.what = "child start",
	.run = p_run,
	.publish = p_publish,
};

static void test_proc_from_job(void **state)
{
	struct fixture *f = *state;
	struct psnap *s = calloc(1, sizeof(*s));
	char want[64], path[64], link[256], fds[64] = "";
	pid_t pid;
	ssize_t n;

	s->c = &f->c;
	memcpy(s->id, f->a->id, sizeof(s->id));
	wrlock(f);
	assert_int_equal(vn_job_submit(&f->c, f->a, NULL, &p_ops, s), 0);
	unlock(f);
	assert_int_equal(vn_jobs_wait_idle(&f->c, 5000), 0);
	pid = vn_proc_pid(&f->c, f->a, "worker-child", NULL);
	assert_true(pid > 0);
	snprintf(want, sizeof(want), "pid %d\n", (int)pid);
	expect_file(f, f->a, "text", want);
	expect_file(f, f->a, "status", "ACTIVE\n");
	assert_int_equal(getpgid(pid), pid);
	snprintf(path, sizeof(path), "/proc/%d/fd/0", (int)pid);
	n = readlink(path, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_string_equal(link, "/dev/null");
	/* once the child has exec'd (its CLOEXEC report pipe is gone then;
	 * under load that can take a moment after the fork) */
	for (int tries = 0; tries < 200; tries++) {
		fds[0] = '\0';
		for (int fd = 0; fd < 64; fd++) {
			struct stat st;

			snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
			if (lstat(path, &st) == 0)
				snprintf(fds + strlen(fds), sizeof(fds) - strlen(fds), "%d ", fd);
		}
		if (!strcmp(fds, "0 1 2 "))
			break;
		usleep(10000);
	}
	assert_string_equal(fds, "0 1 2 ");
	assert_int_equal(vn_proc_stop(&f->c, f->a, "worker-child"), 0);
	assert_true(reaped(pid));
	assert_true(no_children());
}

/* A child whose owner was deleted without vn_proc_stop_all: stopped at
 * its next death, not restarted. */
static void test_proc_orphan(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {"/bin/sleep", "1000", NULL};
	struct vn_err err = {0};
	struct vn_obj ghost = {0};
	pid_t pid, npid = 0;

	pid = vn_proc_start(&f->c, f->b, "sleeper", argv, &err);
	assert_true(pid > 0);
	memcpy(ghost.id, f->b->id, sizeof(ghost.id));
	wrlock(f);
	assert_int_equal(vn_obj_delete(&f->c, f->b, true, &err), 0);
	unlock(f);
	f->b = NULL;
	assert_int_equal(vn_proc_pid(&f->c, &ghost, "sleeper", NULL), pid); /* still there */
	assert_int_equal(kill(pid, SIGKILL), 0);
	for (int i = 0; i < 200; i++) {
		npid = vn_proc_pid(&f->c, &ghost, "sleeper", NULL);
		if (npid == -ENOENT)
			break;
		sleep_ms(10);
	}
	assert_int_equal(vn_jobs_wait_idle(&f->c, 5000), 0);
	assert_int_equal(vn_proc_pid(&f->c, &ghost, "sleeper", NULL), -ENOENT);
	assert_true(reaped(pid));
	assert_true(no_children());
}

/* ---- polls ---- */
static struct {
	pthread_mutex_t mu;
	int ticks_a, ticks_b, locked;
	struct vn_obj *a, *b;
} P = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void t_tick(struct vn_ctx *c, struct vn_obj *o)
{
	pthread_mutex_lock(&P.mu);
	if (o == P.a)
		P.ticks_a++;
	else if (o == P.b)
		P.ticks_b++;
	if (pthread_rwlock_tryrdlock(&c->lock) == EBUSY)
		P.locked++;
	else
		pthread_rwlock_unlock(&c->lock);
	pthread_mutex_unlock(&P.mu);
}

static void test_poll(void **state)
{
	struct fixture *f = *state;
	struct vn_coll *fl = vn_root_coll(&f->c, &vn_kind_flavor);
	struct vn_err err = {0};
	int a, b, locked;

	wrlock(f);
	assert_int_equal(vn_obj_create(&f->c, fl, "fa", 0, 0, NULL, &P.a, &err), 0);
	assert_int_equal(vn_obj_create(&f->c, fl, "fb", 0, 0, NULL, &P.b, &err), 0);
	unlock(f);
	assert_int_equal(vn_poll_every(&f->c, &vn_kind_flavor, 50, t_tick), 0);
	sleep_ms(520);
	pthread_mutex_lock(&P.mu);
	a = P.ticks_a;
	b = P.ticks_b;
	locked = P.locked;
	pthread_mutex_unlock(&P.mu);
	print_message("polls every 50 ms: %d and %d ticks in 520 ms\n", a, b);
	assert_true(a >= 5 && a <= 11);
	assert_int_equal(a, b);
	assert_int_equal(locked, a + b); /* always under the write lock */
	vn_jobs_stop(&f->c);
	wrlock(f);
	assert_int_equal(vn_obj_delete(&f->c, P.a, true, &err), 0);
	assert_int_equal(vn_obj_delete(&f->c, P.b, true, &err), 0);
	unlock(f);
}

/* The read end of a pipe is closed: its write end gets EPIPE. */
static bool pipe_reader_closed(int wfd)
{
	return write(wfd, "x", 1) < 0 && errno == EPIPE;
}

/* The closer closes at once before it is started, later on its thread
 * (the caller does not wait), everything by the drain, and what is left
 * at fini. */
static void test_closer(void **state)
{
	struct fixture *f = *state;
	struct vn_closer *cl = vn_ctx_closer(&f->c);
	int p[4][2];

	signal(SIGPIPE, SIG_IGN);
	assert_non_null(cl);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pipe(p[i]), 0);
	cl->close(cl, p[0][0]); /* not started: closed inside the call */
	assert_true(pipe_reader_closed(p[0][1]));
	assert_int_equal(vn_closer_start(&f->c), 0);
	assert_int_equal(vn_closer_start(&f->c), 0); /* once */
	cl->close(cl, p[1][0]);
	cl->close(cl, p[2][0]);
	vn_closer_drain(&f->c);
	assert_true(pipe_reader_closed(p[1][1]));
	assert_true(pipe_reader_closed(p[2][1]));
	assert_false(pipe_reader_closed(p[3][1])); /* a control that is open */
	cl->close(cl, p[3][0]);
	vn_closer_fini(&f->c); /* joins the thread after it closed the queue */
	assert_null(f->c.closer);
	assert_true(pipe_reader_closed(p[3][1]));
	for (int i = 0; i < 4; i++)
		close(p[i][1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_publish_under_lock, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_merge, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_merge_latest_wins, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_twin_not_concurrent, setup2, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_object, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_failed_job, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_inline, setup0, teardown),
		cmocka_unit_test_setup_teardown(test_slow_job_readers, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_writer_not_starved, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_proc_restart, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_proc_restart_fallback, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_proc_backoff, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_proc_bad_program, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_proc_sighup_at_start, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_proc_signal, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_proc_stop_all, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_proc_from_job, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_proc_orphan, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_poll, setup1, teardown),
		cmocka_unit_test_setup_teardown(test_closer, setup0, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
