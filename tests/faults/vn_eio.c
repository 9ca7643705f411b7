// SPDX-License-Identifier: MIT
/*
 * A test shim (LD_PRELOAD) that makes the state store fail the way a
 * broken or read-only disk does: while the file named by $VN_EIO_ARM
 * exists, every write and sync on a file under $VN_EIO_DIR fails with
 * EIO. Nothing else changes. Used by tests/system/store.sh to show that a
 * change the store refuses changes nothing: not the tree, not the kernel.
 */
/* pwrite and pwrite64 are both wrapped: no redirection of one to the other */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int vn_eio_hit(int fd)
{
	const char *arm = getenv("VN_EIO_ARM"), *dir = getenv("VN_EIO_DIR");
	char link[64], path[4096];
	ssize_t n;

	if (!arm || !dir || access(arm, F_OK) < 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return !strncmp(path, dir, strlen(dir));
}

#define VN_NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void *buf, size_t len)
{
	if (vn_eio_hit(fd))
		return errno = EIO, -1;
	return VN_NEXT(write)(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	if (vn_eio_hit(fd))
		return errno = EIO, -1;
	return VN_NEXT(pwrite)(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	if (vn_eio_hit(fd))
		return errno = EIO, -1;
	return VN_NEXT(pwrite64)(fd, buf, len, off);
}

int fsync(int fd)
{
	if (vn_eio_hit(fd))
		return errno = EIO, -1;
	return VN_NEXT(fsync)(fd);
}

int fdatasync(int fd)
{
	if (vn_eio_hit(fd))
		return errno = EIO, -1;
	return VN_NEXT(fdatasync)(fd);
}
