// SPDX-License-Identifier: MIT
/* vnetfs: main(), options, the FUSE session. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnetfs/jobs.h"
#include "vnetfs/model.h"
#include "fs/fuse_ops.h"

static void vn_usage(FILE *f)
{
	fputs("usage: vnetfs [options] MOUNTPOINT\n"
	      "  -f                  stay in the foreground (log to stderr)\n"
	      "  --log FILE          append the log to FILE (in the foreground: instead\n"
	      "                      of stderr); `--log syslog`: the system log only;\n"
	      "                      default in the background: STATE/vnetfs.log and syslog\n"
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
	      "  --dhcp-lease-time SECONDS\n"
	      "                      lease time dnsmasq gives (default 86400; 0: infinite)\n"
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
	OPT_LOG,
	OPT_LEASE_TIME,
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
	{"log", required_argument, NULL, OPT_LOG},
	{"dhcp-lease-time", required_argument, NULL, OPT_LEASE_TIME},
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

/*
 * Start-up order (docs/design-notes.md, "Start-up order"): options, then
 * the mount, then the fork into the background, then threads, then the
 * state, then serving:
 *
 *   parse -> fuse_session_new + mount -> fork (unless -f) -> worker and
 *   supervisor threads -> load + reconcile -> ready -> fuse_session_loop_mt
 *
 * fork() copies only the calling thread: every thread (job workers, the
 * supervisor, the namespace helper thread of backend/netns.c) and every
 * child must come after it, or the daemon would lose them. Reconcile needs
 * no mount, but the mount may come first: the kernel holds every request
 * on it until the FUSE loop answers INIT, so nobody sees the tree before
 * it is loaded and reconciled. The parent of the fork waits for a byte on
 * a pipe and exits with the start-up's status: 0 once the tree is loaded
 * and served, 1 if loading failed (the child then unmounts).
 */

/* The child carries on with *ready (write end of the pipe); the parent
 * never returns. */
static int vn_daemonize(int *ready, const char *log_where)
{
	int p[2], nul;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return vn_err(-errno, "cannot daemonize");
	pid = fork();
	if (pid < 0)
		return vn_err(-errno, "cannot daemonize");
	if (pid > 0) {
		char st = 1;

		close(p[1]);
		while (read(p[0], &st, 1) < 0 && errno == EINTR)
			;
		if (st)
			fprintf(stderr, "vnetfs: the daemon did not start; %s says why\n",
				log_where);
		_exit(st); /* EOF (the child died): st stays 1 */
	}
	close(p[0]);
	*ready = p[1];
	if (setsid() < 0)
		return vn_err(-errno, "cannot daemonize");
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0)
		return vn_err(-EIO, "cannot daemonize");
	if (nul > 2)
		close(nul);
	return 0;
}

static void vn_ready(int *ready, int status)
{
	char st = (char)status;

	if (*ready < 0)
		return;
	if (write(*ready, &st, 1) < 0)
		vn_warn(-errno, "cannot tell the parent process it started");
	close(*ready);
	*ready = -1;
}

/* Before mounting: refuse at once when another daemon holds the state
 * directory (fs/persist.c takes the lock for real, after the fork; this
 * only spares a mount that would be undone). Anything odd is left to
 * that check, which says what is wrong. */
static bool vn_state_taken(const char *state_dir)
{
	char path[4096];
	struct stat st;
	bool taken;
	int fd;

	if (snprintf(path, sizeof(path), "%s/lock", state_dir) >= (int)sizeof(path))
		return false;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	taken = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock(fd, LOCK_EX | LOCK_NB) < 0 &&
		errno == EWOULDBLOCK;
	close(fd); /* drops the lock if we got it */
	return taken;
}

/* One daemon serves every user: its descriptors (netlink sockets per
 * namespace, pidfds, the store, handles) are shared by all, so the soft
 * limit (1,024 under systemd's default) is raised to the hard one. The
 * daemon waits with poll/epoll only, never select(); its children
 * (dnsmasq, which polls too) inherit the limit. */
static void vn_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		vn_warn(-errno, "could not raise the open file limit");
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
	struct fuse_session *se = NULL;
	const char *mnt;
	char *state_abs = NULL, *log_default = NULL;
	const char *log_path = NULL, *log_where = "the system log";
	int debug = 0, ch, r = 1, ready = -1;

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
		case OPT_LOG:
			log_path = optarg;
			break;
		case OPT_LEASE_TIME: {
			size_t v;

			if (vn_parse_size("dhcp-lease-time", optarg, false, &v) < 0)
				return 2;
			/* dnsmasq's shortest lease is 2 minutes */
			if (v != 0 && (v < 120 || v > 0x7fffffff)) {
				fprintf(stderr, "vnetfs: --dhcp-lease-time is 0 or 120 to "
						"2147483647 seconds\n");
				return 2;
			}
			opts.dhcp_lease_time = v ? (unsigned)v : (unsigned)-1;
			break;
		}
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
	/* stderr until the fork; then syslog unless -f */
	vn_log_init(true, debug ? VN_LOG_DEBUG : VN_LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	vn_raise_nofile();
	/* the state is loaded after the chdir("/") below */
	if (opts.state_dir[0] != '/') {
		char *cwd = getcwd(NULL, 0);

		if (!cwd || asprintf(&state_abs, "%s/%s", cwd, opts.state_dir) < 0) {
			free(cwd);
			vn_err(-ENOMEM, "cannot initialise");
			return 1;
		}
		free(cwd);
		opts.state_dir = state_abs;
	}

	if (vn_ctx_init(&ctx, &opts) < 0 || vn_fuse_state_init(&ctx) < 0) {
		vn_err(-ENOMEM, "cannot initialise");
		vn_ctx_fini(&ctx);
		free(state_abs);
		return 1;
	}
	if (vn_state_taken(opts.state_dir)) {
		vn_err(-EBUSY, "another vnetfs daemon uses the state directory %s", opts.state_dir);
		goto out;
	}
	/* Where the log goes (see --help): a file when asked, and in the
	 * background by default, so that a host without syslog keeps it. */
	if (log_path && strcmp(log_path, "syslog")) {
		int e = vn_log_open_file(log_path, opts.foreground);

		if (e < 0) {
			vn_err(e, "cannot open the log file %s", log_path);
			goto out;
		}
		log_where = log_path;
	} else if (!log_path && !opts.foreground) {
		int e = 0;

		if (asprintf(&log_default, "%s/vnetfs.log", opts.state_dir) < 0) {
			log_default = NULL;
			e = -ENOMEM;
		} else if (mkdir(opts.state_dir, 0700) < 0 && errno != EEXIST) {
			e = -errno;
		}
		if (e == 0)
			e = vn_log_open_file(log_default, false);
		if (e < 0)
			vn_warn(e, "cannot open the log file %s; logging to syslog only",
				log_default ? log_default : "STATE/vnetfs.log");
		else
			log_where = log_default;
	}
	if (fuse_opt_insert_arg(&args, 0, argv[0]) ||
	    fuse_opt_add_arg(&args, "-ofsname=vnetfs,subtype=vnetfs"))
		goto out;
	vn_clear_dead_mount(mnt);
	se = fuse_session_new(&args, &vn_fuse_ops, sizeof(vn_fuse_ops), &ctx);
	if (!se)
		goto out;
	vn_fuse_set_session(&ctx, se);
	if (fuse_session_mount(se, mnt) != 0) {
		vn_err(-EIO, "cannot mount on %s", mnt);
		goto out_destroy;
	}
	if (!opts.foreground) {
		if (vn_daemonize(&ready, log_where) < 0)
			goto out_unmount;
		vn_log_init(false, debug ? VN_LOG_DEBUG : VN_LOG_INFO);
	}
	if (chdir("/") < 0)
		vn_warn(-errno, "cannot change to /");
	if (fuse_set_signal_handlers(se) != 0)
		goto out_unmount;
	/* threads only now, after the fork; then the state (requests to the
	 * mount wait in the kernel until the loop runs) */
	if (vn_closer_start(&ctx) < 0 || vn_jobs_start(&ctx, 2) < 0)
		goto out_signals;
	if (vn_ctx_start(&ctx) < 0)
		goto out_jobs;
	vn_info("mounted on %s (state %s%s%s)", mnt, opts.state_dir, opts.netns ? ", netns " : "",
		opts.netns ? opts.netns : "");
	vn_ready(&ready, 0);
	loop = fuse_loop_cfg_create();
	if (!loop)
		goto out_jobs;
	/* As many idle workers as workers: libfuse detaches a worker it
	 * retires, and one still exiting when the session is destroyed leaks
	 * what libfuse keeps per thread (LeakSanitizer saw it once in
	 * racing.sh); with no retiring, the loop joins every worker before it
	 * returns. */
	fuse_loop_cfg_set_max_threads(loop, 16);
	fuse_loop_cfg_set_idle_threads(loop, 16);
	r = fuse_session_loop_mt(se, loop);
	vn_fuse_cache_stop(&ctx); /* before the session it notifies goes */
	/* The loop reports the signal that ended it: a clean stop. */
	r = r == 0 || r == SIGTERM || r == SIGINT || r == SIGHUP ? 0 : 1;
	fuse_loop_cfg_destroy(loop);
	vn_info("unmounting %s", mnt);
out_jobs:
	vn_jobs_stop(&ctx);
out_signals:
	fuse_remove_signal_handlers(se);
out_unmount:
	fuse_session_unmount(se);
out_destroy:
	fuse_session_destroy(se);
out:
	vn_ready(&ready, r);
	fuse_opt_free_args(&args);
	vn_ctx_fini(&ctx);
	vn_fuse_state_fini(&ctx);
	free(state_abs);
	free(log_default);
	return r;
}
