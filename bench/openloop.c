// SPDX-License-Identifier: MIT
/*
 * bench/openloop.c — what one open + read + close of a file costs.
 *
 *   openloop FILE [N]      (default N = 20000)
 *
 * Reads FILE to its end N times (open, read until 0, close), after 100
 * untimed rounds, and prints the mean in µs per round and the bytes one
 * round read. bench/bench-networks.sh runs it on one attribute file of
 * vnetfs, the same file on the fuse-floor mount and on the tmpfs copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One open + read to EOF + close; returns the bytes read or -errno. */
static long ol_once(const char *path, char *buf, size_t size)
{
	long total = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((r = read(fd, buf, size)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			close(fd);
			return r;
		}
		total += r;
	}
	if (close(fd) < 0)
		return -errno;
	return total;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	struct timespec a, b;
	long n = 20000, got = 0;
	char *end;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: openloop FILE [N]\n");
		return 2;
	}
	if (argc == 3) {
		errno = 0;
		n = strtol(argv[2], &end, 10);
		if (errno || *end || n <= 0) {
			fprintf(stderr, "openloop: N is a positive number\n");
			return 2;
		}
	}
	for (long i = 0; i < 100 + n; i++) {
		if (i == 100)
			clock_gettime(CLOCK_MONOTONIC, &a);
		got = ol_once(argv[1], buf, sizeof(buf));
		if (got < 0) {
			fprintf(stderr, "openloop: %s: %s\n", argv[1], strerror((int)-got));
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f us/op %ld bytes\n",
	       ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3) /
		       (double)n,
	       got);
	return 0;
}
