// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the write path's value and list parser (fs/attr.c)
 * driving a real subnet's attributes on an in-memory model, without a
 * kernel: the network is put in the model without its create hook and is
 * not external (so no hook reaches the backend), and the context has no
 * state directory (nothing is persisted).
 *
 * Input: byte 0 sets the subnet's cidr before the first write (bits 0-1:
 * none, 10.0.0.0/24, fd00::/64, 10.0.0.0/30); then up to 8 writes, each
 * [op][len][len bytes of value] (len 0: the rest of the input). op picks
 * the attribute (low 3 bits), `>>` (bit 3), a non-root caller (bit 6) and
 * where a first, partial write ends for vn_attr_precheck (bits 4-5, 7).
 * The writes see each other's effects (cidr, then pools, then gateway...).
 * Properties checked besides "no crash, no sanitizer report":
 *   - every refusal carries its errno and a sentence;
 *   - a value whose complete lines precheck refuses is refused by the write;
 *   - a refused write leaves the attribute's text as it was;
 *   - what an attribute reads back can be written back unchanged (0, same
 *     text): the canonical forms parse;
 *   - the json document renders.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetfs/model.h"
#include "fs/internal.h"
#include "fs/kinds.h"

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x)) {                                                                        \
			fprintf(stderr, "fuzz_list: property failed: %s (%s:%d)\n", #x, __FILE__,  \
				__LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static const char *const attrs[] = {
	"dns_nameservers", "host_routes", "allocation_pools", "cidr",
	"gateway_ip",	   "enable_dhcp", "dns_nameservers",  "allocation_pools",
};
static const char *const cidrs[] = {NULL, "10.0.0.0/24", "fd00::/64", "10.0.0.0/30"};

static struct vn_ctx ctx;
static struct vn_obj *net, *sub;

static void setup(void)
{
	struct vn_opts opts = {.state_dir = "/nonexistent", .no_defaults = true};
	struct vn_obj *other;

	vn_log_init(true, VN_LOG_ERR - 1); /* quiet: errors are the point here */
	CHECK(vn_ctx_init(&ctx, &opts) == 0);
	CHECK(vn_obj_attach(&ctx, vn_root_coll(&ctx, &vn_kind_network), "net", NULL, 0, 0, NULL,
			    &net) == 0);
	CHECK(vn_obj_attach(&ctx, vn_child_coll(net, &vn_kind_subnet), "other", NULL, 0, 0,
			    json_tokener_parse("{\"cidr\":\"10.1.0.0/16\"}"), &other) == 0);
	CHECK(vn_obj_attach(&ctx, vn_child_coll(net, &vn_kind_subnet), "sub", NULL, 1000, 1000,
			    NULL, &sub) == 0);
}

static char *render(const struct vn_attr *a, size_t *len)
{
	struct vn_buf b = {0};

	CHECK(vn_obj_render(&ctx, sub, a->name, &b) == 0);
	*len = b.len;
	return b.s ? vn_buf_steal(&b) : strdup("");
}

static void one_write(uint8_t op, const char *val, size_t len)
{
	const struct vn_attr *a = vn_attr_find(&vn_kind_subnet, attrs[op & 7]);
	bool append = op & 8;
	struct json_object *parsed = NULL;
	struct vn_err err = {0};
	size_t cut, l0, l1, l2;
	char *t0, *t1, *t2;
	int r, pre;

	CHECK(a);
	ctx.caller_uid = (op & 64) ? 1000 : 0;
	cut = len * (((op >> 4) & 3) | ((op >> 5) & 4)) / 7;
	t0 = render(a, &l0);

	/* a value arriving in two writes: the first part is prechecked */
	(void)vn_attr_precheck(&ctx, sub, a, val, cut, &err);
	err = (struct vn_err){0};
	pre = vn_attr_precheck(&ctx, sub, a, val, len, &err);
	err = (struct vn_err){0};
	r = vn_attr_parse(&ctx, sub, a, val, len, append, &parsed, &err);
	json_object_put(parsed);
	err = (struct vn_err){0};
	r = vn_attr_write(&ctx, sub, a, val, len, append, &err);
	CHECK(r <= 0);
	if (r < 0) {
		CHECK(err.code == r && err.msg[0]); /* every refusal has a sentence */
		t1 = render(a, &l1);
		CHECK(l0 == l1 && !memcmp(t0, t1, l0)); /* and changed nothing */
		free(t1);
	}
	if (pre < 0 && !append)
		CHECK(r < 0);
	free(t0);

	/* what reads back writes back, unchanged */
	t1 = render(a, &l1);
	err = (struct vn_err){0};
	r = vn_attr_write(&ctx, sub, a, t1, l1, false, &err);
	if (r != 0) {
		fprintf(stderr, "fuzz_list: %s: writing back '%s' failed: %s\n", a->name, t1,
			err.msg);
		abort();
	}
	t2 = render(a, &l2);
	CHECK(l1 == l2 && !memcmp(t1, t2, l1));
	free(t1);
	free(t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *j;
	size_t off = 1;

	if (!net)
		setup();
	if (size < 1)
		return 0;
	json_object_put(sub->props);
	sub->props = json_object_new_object();
	if (cidrs[data[0] & 3])
		json_object_object_add(sub->props, "cidr",
				       json_object_new_string(cidrs[data[0] & 3]));
	vn_obj_clear_error(sub);
	for (int i = 0; i < 8 && off + 2 <= size; i++) {
		uint8_t op = data[off];
		size_t len = data[off + 1];

		off += 2;
		if (len == 0 || len > size - off)
			len = size - off;
		one_write(op, (const char *)data + off, len);
		off += len;
	}
	j = vn_obj_json(&ctx, sub);
	CHECK(j);
	json_object_put(j);
	return 0;
}
