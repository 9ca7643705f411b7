// SPDX-License-Identifier: MIT
/*
 * Readers and a writer at once on one model, the way the FUSE layer runs
 * them: renders under the lock held shared (getattr, open, read), value
 * changes under it held exclusive, the on_change hook called for each.
 * Every render must be one whole value (issue 7: json_object_get_string
 * wrote into the value's own buffer while two readers rendered it, giving
 * "\n" or "40964096\n"). Run under ThreadSanitizer by tests/run.sh
 * (build-tsan), where a data race is a report and fails the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetfs/model.h"
#include "fs/internal.h"
#include "fs/kinds.h"

#define ROUNDS 20000

static struct vn_ctx ctx;
static struct vn_obj *net;
static int stop;
static unsigned long changes;

static void on_change(void *arg, struct vn_obj *o, const char *name)
{
	changes++; /* called with the lock held exclusive */
}

struct result {
	unsigned long renders, bad;
	char sample[64];
};

static bool valid_mtu(const struct vn_buf *b)
{
	char *end;
	long v;

	if (!b->s || b->len < 2 || b->s[b->len - 1] != '\n')
		return false;
	v = strtol(b->s, &end, 10);
	return end == b->s + b->len - 1 && (v == 1400 || v == 4096 || v == 1500);
}

static void *reader(void *arg)
{
	struct result *res = arg;

	for (int i = 0; i < ROUNDS && !__atomic_load_n(&stop, __ATOMIC_RELAXED); i++) {
		struct vn_buf b = {0}, j = {0};

		pthread_rwlock_rdlock(&ctx.lock);
		vn_obj_render(&ctx, net, "mtu", &b);
		vn_obj_render(&ctx, net, i % 16 ? "status" : "json", &j);
		pthread_rwlock_unlock(&ctx.lock);
		res->renders++;
		if (!valid_mtu(&b) || !j.len) {
			if (!res->bad++)
				snprintf(res->sample, sizeof(res->sample), "%s", b.s ? b.s : "(empty)");
		}
		vn_buf_free(&b);
		vn_buf_free(&j);
	}
	return NULL;
}

static void *writer(void *arg)
{
	static const long vals[] = {1400, 4096};

	for (int i = 0; i < ROUNDS / 4; i++) {
		pthread_rwlock_wrlock(&ctx.lock);
		vn_set(net, "mtu", json_object_new_int64(vals[i % 2]));
		vn_changed(&ctx, net, "mtu");
		pthread_rwlock_unlock(&ctx.lock);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void renders_race_writes(void **state)
{
	struct vn_opts opts = {.state_dir = "/nonexistent", .no_defaults = true};
	struct result res[3] = {{0}};
	pthread_t th[4];

	vn_log_init(true, VN_LOG_ERR);
	assert_int_equal(vn_ctx_init(&ctx, &opts), 0);
	assert_int_equal(vn_obj_attach(&ctx, vn_root_coll(&ctx, &vn_kind_network), "n", NULL, 0, 0,
				       json_tokener_parse("{\"mtu\":4096}"), &net),
			 0);
	ctx.on_change = on_change;
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, &res[i]), 0);
	assert_int_equal(pthread_create(&th[3], NULL, writer, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 3; i++) {
		if (res[i].bad)
			fail_msg("reader %d: %lu of %lu renders were not one value (e.g. '%s')", i,
				 res[i].bad, res[i].renders, res[i].sample);
		assert_true(res[i].renders > 0);
	}
	assert_true(changes >= ROUNDS / 4);
	ctx.on_change = NULL;
	vn_ctx_fini(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(renders_race_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
