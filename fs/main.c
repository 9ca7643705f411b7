// SPDX-License-Identifier: MIT
/* vnetfs: main(), options, the FUSE session. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "vnetfs/model.h"
#include "fs/fuse_ops.h"

static void vn_usage(FILE *f)
{
	fputs("usage: vnetfs [options] MOUNTPOINT\n"
	      "  -f                  stay in the foreground (log to stderr)\n"
	      "  -d, --debug         log every change (implies -f)\n"
	      "  --state DIR         where the model lives (default /var/lib/vnetfs)\n"
	      "  --netns NAME        build all networking in that namespace (created if\n"
	      "                      missing, visible to `ip netns`); default: the current one\n"
	      "  --no-defaults       don't create the `public` network\n"
	      "  --libvirt URI       libvirt connection (default qemu:///system)\n"
	      "  --virt-type TYPE    kvm or qemu\n"
	      "  -o OPT[,OPT]        FUSE mount options (e.g. allow_other)\n"
	      "  --max-objects-per-user N\n"
	      "                      objects one non-root user may own (default 1000;\n"
	      "                      0: no limit); more is EDQUOT\n"
	      "  --max-scratch-per-user BYTES\n"
	      "                      bytes of temporary files one non-root user may keep\n"
	      "                      in memory (default 16M; K, M, G suffixes; 0: no limit)\n"
	      "  --help, --version\n",
	      f);
}

enum {
	OPT_STATE = 256,
	OPT_NETNS,
	OPT_NO_DEFAULTS,
	OPT_LIBVIRT,
	OPT_VIRT_TYPE,
	OPT_VERSION,
	OPT_MAX_OBJECTS,
	OPT_MAX_SCRATCH,
};

static const struct option vn_longopts[] = {
	{"state", required_argument, NULL, OPT_STATE},
	{"netns", required_argument, NULL, OPT_NETNS},
	{"no-defaults", no_argument, NULL, OPT_NO_DEFAULTS},
	{"libvirt", required_argument, NULL, OPT_LIBVIRT},
	{"virt-type", required_argument, NULL, OPT_VIRT_TYPE},
	{"debug", no_argument, NULL, 'd'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{"max-objects-per-user", required_argument, NULL, OPT_MAX_OBJECTS},
	{"max-scratch-per-user", required_argument, NULL, OPT_MAX_SCRATCH},
	{NULL, 0, NULL, 0},
};

/* A count for an option: decimal, with an optional K, M or G (powers of
 * 1024) when suffixes is set. */
static int vn_parse_size(const char *opt, const char *text, bool suffixes, size_t *out)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (suffixes && *end && !end[1]) {
		switch (*end) {
		case 'k':
		case 'K':
			mul = 1ULL << 10;
			end++;
			break;
		case 'm':
		case 'M':
			mul = 1ULL << 20;
			end++;
			break;
		case 'g':
		case 'G':
			mul = 1ULL << 30;
			end++;
			break;
		}
	}
	if (errno || end == text || *end || *text == '-' || v > SIZE_MAX / mul) {
		fprintf(stderr, "vnetfs: --%s takes a number%s, not '%s'\n", opt,
			suffixes ? " (with an optional K, M or G)" : "", text);
		return -EINVAL;
	}
	*out = (size_t)(v * mul);
	return 0;
}

/* A daemon killed with SIGKILL leaves its mount behind, dead ("Transport
 * endpoint is not connected"): detach it so the restart can mount again. */
static void vn_clear_dead_mount(const char *mnt)
{
	struct stat st;

	if (stat(mnt, &st) < 0 && errno == ENOTCONN) {
		vn_info("detaching the dead mount left on %s", mnt);
		umount2(mnt, MNT_DETACH);
	}
}

int main(int argc, char **argv)
{
	struct vn_opts opts = {
		.state_dir = "/var/lib/vnetfs",
		.libvirt_uri = "qemu:///system",
		.max_objects_per_user = 1000,
		.max_scratch_per_user = 16 << 20,
	};
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *loop = NULL;
	struct vn_ctx ctx;
	struct fuse *f = NULL;
	const char *mnt;
	int debug = 0, ch, r = 1;

	while ((ch = getopt_long(argc, argv, "fdho:", vn_longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			opts.foreground = true;
			break;
		case 'd':
			debug = 1;
			opts.foreground = true;
			break;
		case 'o':
			if (fuse_opt_add_arg(&args, "-o") || fuse_opt_add_arg(&args, optarg))
				return 1;
			break;
		case OPT_STATE:
			opts.state_dir = optarg;
			break;
		case OPT_NETNS:
			opts.netns = optarg;
			break;
		case OPT_NO_DEFAULTS:
			opts.no_defaults = true;
			break;
		case OPT_LIBVIRT:
			opts.libvirt_uri = optarg;
			break;
		case OPT_VIRT_TYPE:
			if (strcmp(optarg, "kvm") && strcmp(optarg, "qemu")) {
				fprintf(stderr, "vnetfs: --virt-type is kvm or qemu\n");
				return 2;
			}
			break;
		case OPT_MAX_OBJECTS:
			if (vn_parse_size("max-objects-per-user", optarg, false,
					  &opts.max_objects_per_user) < 0)
				return 2;
			break;
		case OPT_MAX_SCRATCH:
			if (vn_parse_size("max-scratch-per-user", optarg, true,
					  &opts.max_scratch_per_user) < 0)
				return 2;
			break;
		case 'h':
			vn_usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("vnetfs %s\n", VNETFS_VERSION);
			return 0;
		default:
			vn_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		vn_usage(stderr);
		return 2;
	}
	mnt = argv[optind];
	vn_log_init(opts.foreground, debug ? VN_LOG_DEBUG : VN_LOG_INFO);
	signal(SIGPIPE, SIG_IGN);

	if (vn_ctx_init(&ctx, &opts) < 0) {
		vn_err(-ENOMEM, "cannot initialise");
		return 1;
	}
	if (vn_ctx_start(&ctx) < 0)
		goto out;
	if (fuse_opt_insert_arg(&args, 0, argv[0]) ||
	    fuse_opt_add_arg(&args, "-ofsname=vnetfs,subtype=vnetfs"))
		goto out;
	vn_clear_dead_mount(mnt);
	f = fuse_new(&args, &vn_fuse_ops, sizeof(vn_fuse_ops), &ctx);
	if (!f)
		goto out;
	if (fuse_mount(f, mnt) != 0) {
		vn_err(-EIO, "cannot mount on %s", mnt);
		goto out_destroy;
	}
	if (fuse_daemonize(opts.foreground) != 0)
		goto out_unmount;
	if (fuse_set_signal_handlers(fuse_get_session(f)) != 0)
		goto out_unmount;
	vn_info("mounted on %s (state %s%s%s)", mnt, opts.state_dir, opts.netns ? ", netns " : "",
		opts.netns ? opts.netns : "");
	loop = fuse_loop_cfg_create();
	if (!loop)
		goto out_signals;
	fuse_loop_cfg_set_max_threads(loop, 16);
	fuse_loop_cfg_set_idle_threads(loop, 4);
	r = fuse_loop_mt(f, loop);
	vn_fuse_cache_stop(&ctx); /* before fuse_destroy frees the nodes it reads */
	/* The loop reports the signal that ended it: a clean stop. */
	r = r == 0 || r == SIGTERM || r == SIGINT || r == SIGHUP ? 0 : 1;
	fuse_loop_cfg_destroy(loop);
	vn_info("unmounting %s", mnt);
out_signals:
	fuse_remove_signal_handlers(fuse_get_session(f));
out_unmount:
	fuse_unmount(f);
out_destroy:
	fuse_destroy(f);
out:
	fuse_opt_free_args(&args);
	vn_ctx_fini(&ctx);
	return r;
}
