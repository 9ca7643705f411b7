// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: security group rule lines (fs/sgrule.c).
 * Properties: what the parser accepts formats to a line it accepts again,
 * which formats to the same line (canonical form is a fixed point); a
 * refusal always carries a sentence; matching an accepted rule against a
 * flow derived from the input does not crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vnetfs/sg.h"

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x)) {                                                                        \
			fprintf(stderr, "fuzz_sgrule: property failed: %s (%s:%d)\n", #x,          \
				__FILE__, __LINE__);                                               \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static bool member(void *arg, const char *gid, const struct vn_addr *a)
{
	(void)arg;
	return gid[0] && (a->v & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[1024], why[200], out[VN_SG_LINE_MAX], again[VN_SG_LINE_MAX];
	struct vn_sgrule r, r2;
	size_t n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;

	memcpy(line, data, n);
	line[n] = '\0';
	why[0] = '\0';
	if (vn_sgrule_parse(line, &r, why, sizeof(why)) != 0) {
		CHECK(why[0] != '\0');
		return 0;
	}
	vn_sgrule_format(&r, out, sizeof(out));
	CHECK(vn_sgrule_parse(out, &r2, why, sizeof(why)) == 0);
	vn_sgrule_format(&r2, again, sizeof(again));
	CHECK(strcmp(out, again) == 0);
	CHECK(r.dir == r2.dir && r.af == r2.af && r.proto == r2.proto && r.pmin == r2.pmin &&
	      r.pmax == r2.pmax && r.remote == r2.remote);

	struct vn_sg_flow f = {0};
	int af = (n & 1) ? AF_INET6 : AF_INET;

	f.src.af = f.dst.af = af;
	for (size_t i = 0; i < n; i++) {
		f.src.v = f.src.v * 31 + (uint8_t)line[i];
		f.dst.v = f.dst.v * 17 + (uint8_t)line[i];
	}
	if (af == AF_INET) {
		f.src.v &= 0xffffffffu;
		f.dst.v &= 0xffffffffu;
	}
	f.proto = n ? (uint8_t)line[0] : 6;
	f.dport = (int)(f.src.v & 0xffff);
	f.itype = (int)(f.dst.v & 0xff);
	strcpy(r.gid, "G");
	(void)vn_sgrule_match(&r, &f, member, NULL);
	return 0;
}
