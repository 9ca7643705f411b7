// SPDX-License-Identifier: MIT
/*
 * Fuzz target: state-record loading. The input is up to 16 records, one
 * JSON document a line, as the store holds them; they go through the
 * loader (parents first, validation of every value, quarantine of what
 * cannot be read), then every file of every loaded object is rendered.
 * Nothing may crash, leak or read out of bounds, whatever the records say.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vnetfs/model.h"
#include "fs/internal.h"

static int fz_render(struct vn_obj *o, void *arg)
{
	struct vn_ctx *c = arg;

	for (size_t i = 0; vn_common_files[i]; i++) {
		struct vn_buf b = {0};

		vn_obj_render(c, o, vn_common_files[i], &b);
		vn_buf_free(&b);
	}
	for (const struct vn_attr *a = o->kind->attrs; a->name; a++) {
		struct vn_buf b = {0};

		vn_obj_render(c, o, a->name, &b);
		vn_buf_free(&b);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vn_opts opts = {.state_dir = "/nonexistent"};
	const char *texts[16];
	char *buf, *p;
	size_t n = 0;
	struct vn_ctx c;

	static int once;
	if (!once++)
		vn_log_init(true, VN_LOG_ERR + (getenv("VN_FUZZ_LOG") ? 3 : -1));
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (p = buf; p && *p && n < 16;) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		texts[n++] = p;
		p = nl ? nl + 1 : NULL;
	}
	if (vn_ctx_init(&c, &opts) == 0) {
		c.loading = true;
		vn_persist_load_texts(&c, texts, n);
		c.loading = false;
		for (size_t i = 0; vn_all_kinds[i]; i++)
			vn_foreach_kind(&c, vn_all_kinds[i], fz_render, &c);
	}
	vn_ctx_fini(&c);
	free(buf);
	return 0;
}
