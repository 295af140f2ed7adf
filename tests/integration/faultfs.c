/*
 * faultfs.c - an LD_PRELOAD shim that makes the disk fail on demand, for
 * tests/integration/test_io_faults.py.
 *
 * While the trigger file exists, the calls that put data on disk fail with
 * EIO (or ENOSPC) instead of reaching the kernel; once the file is removed
 * they work again.  So a test can start the real daemon with this library
 * preloaded, create the trigger in the middle of a load of checks, watch
 * what the daemon answers while its commits fail, remove the trigger and
 * watch it recover, without root, a loop device or a full file system.
 *
 * The calls, in groups named by FAULTFS_OPS (comma-separated):
 *   sync   fsync, fdatasync, msync, sync_file_range, syncfs
 *   write  pwrite, pwrite64, pwritev, pwritev64, writev on descriptors
 *          opened without O_SYNC/O_DSYNC (LMDB's data pages)
 *   meta   the same write calls on descriptors opened with O_SYNC or
 *          O_DSYNC (LMDB writes its meta page through one: a failure
 *          there is the one LMDB calls fatal for the environment)
 *
 * Environment:
 *   FAULTFS_TRIGGER  the trigger file; unset: the shim does nothing
 *   FAULTFS_OPS      groups to fail (default "sync,write")
 *   FAULTFS_ERRNO    EIO (default) or ENOSPC
 *   FAULTFS_PATH     fail only on files whose path contains this text
 *                    (default: any regular file)
 *   FAULTFS_LOG      append one line per injected failure: "op path"
 *
 * It never fails a call on anything but a regular file (the daemon's
 * sockets, pipes and its log on stderr are never touched), never fails a
 * call while the trigger is absent, and never changes what a call does
 * when it lets it through.  Plain write(2) is not wrapped: the log lines
 * it writes use it, and LMDB does not.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum op_group { G_SYNC = 1, G_WRITE = 2, G_META = 4 };

/*
 * The real functions, found on first use (a race only finds the same
 * pointer twice).  A libc without one makes the call fail with ENOSYS
 * rather than jump to NULL.
 */
#define REAL(ret, name, ...)                                                       \
	static ret (*real_##name)(__VA_ARGS__);                                    \
	static ret (*find_##name(void))(__VA_ARGS__)                               \
	{                                                                          \
		if (real_##name == NULL)                                           \
			*(void **)&real_##name = dlsym(RTLD_NEXT, #name);          \
		return real_##name;                                                \
	}

#define PASS(name, ...)                                                            \
	do {                                                                       \
		if (find_##name() == NULL) {                                       \
			errno = ENOSYS;                                            \
			return -1;                                                 \
		}                                                                  \
		return real_##name(__VA_ARGS__);                                   \
	} while (0)

REAL(int, fsync, int)
REAL(int, fdatasync, int)
REAL(int, msync, void *, size_t, int)
REAL(int, sync_file_range, int, off64_t, off64_t, unsigned int)
REAL(int, syncfs, int)
REAL(ssize_t, pwrite, int, const void *, size_t, off_t)
REAL(ssize_t, pwrite64, int, const void *, size_t, off64_t)
REAL(ssize_t, pwritev, int, const struct iovec *, int, off_t)
REAL(ssize_t, pwritev64, int, const struct iovec *, int, off64_t)
REAL(ssize_t, writev, int, const struct iovec *, int)

static int groups(void)
{
	const char *ops = getenv("FAULTFS_OPS"), *p;
	int g = 0;

	if (ops == NULL || *ops == '\0')
		return G_SYNC | G_WRITE;
	for (p = ops; *p != '\0'; p += strcspn(p, ",")) {
		size_t n;

		p += strspn(p, ", ");
		n = strcspn(p, ", ");
		if (n == 4 && strncmp(p, "sync", n) == 0)
			g |= G_SYNC;
		else if (n == 5 && strncmp(p, "write", n) == 0)
			g |= G_WRITE;
		else if (n == 4 && strncmp(p, "meta", n) == 0)
			g |= G_META;
	}
	return g;
}

static int fault_errno(void)
{
	const char *e = getenv("FAULTFS_ERRNO");

	return e != NULL && strcmp(e, "ENOSPC") == 0 ? ENOSPC : EIO;
}

static bool armed(void)
{
	const char *trigger = getenv("FAULTFS_TRIGGER");

	return trigger != NULL && *trigger != '\0' && access(trigger, F_OK) == 0;
}

/* The path of fd if it is a regular file, else false. */
static bool fd_path(int fd, char *buf, size_t size)
{
	char link[64];
	struct stat st;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return true;
}

static void note(const char *op, const char *path)
{
	const char *log = getenv("FAULTFS_LOG");
	char line[4200];
	int fd, n;

	if (log == NULL || *log == '\0')
		return;
	fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s %s\n", op, path);
	if (n > 0 && (size_t)n < sizeof(line) && write(fd, line, (size_t)n) < 0) {
		/* A test counts these lines; a lost one only undercounts. */
	}
	close(fd);
}

/*
 * True if the call op on fd is to fail now.  The group of a write call
 * depends on how the file was opened: LMDB's meta page goes through an
 * O_DSYNC descriptor.
 */
static bool fail_now(const char *op, int fd, bool is_write)
{
	const char *only = getenv("FAULTFS_PATH");
	char path[4096];
	int g = groups(), want, fl;

	if (!armed() || !fd_path(fd, path, sizeof(path)))
		return false;
	if (only != NULL && *only != '\0' && strstr(path, only) == NULL)
		return false;
	if (is_write) {
		fl = fcntl(fd, F_GETFL);
		want = fl >= 0 && (fl & (O_SYNC | O_DSYNC)) != 0 ? G_META : G_WRITE;
	} else {
		want = G_SYNC;
	}
	if ((g & want) == 0)
		return false;
	note(op, path);
	return true;
}

/* msync names memory, not a file: find the file that maps addr. */
static int fd_of_mapping(void *addr, char *path, size_t size)
{
	FILE *maps = fopen("/proc/self/maps", "re");
	unsigned long a = (unsigned long)addr, lo, hi;
	char line[4352];
	int found = 0;

	if (maps == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), maps) != NULL) {
		char *slash;

		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || a < lo || a >= hi)
			continue;
		slash = strchr(line, '/');
		if (slash != NULL) {
			slash[strcspn(slash, "\n")] = '\0';
			snprintf(path, size, "%s", slash);
			found = 1;
		}
	}
	fclose(maps);
	return found;
}

int fsync(int fd)
{
	if (fail_now("fsync", fd, false)) {
		errno = fault_errno();
		return -1;
	}
	PASS(fsync, fd);
}

int fdatasync(int fd)
{
	if (fail_now("fdatasync", fd, false)) {
		errno = fault_errno();
		return -1;
	}
	PASS(fdatasync, fd);
}

int syncfs(int fd)
{
	if (fail_now("syncfs", fd, false)) {
		errno = fault_errno();
		return -1;
	}
	PASS(syncfs, fd);
}

int sync_file_range(int fd, off64_t off, off64_t n, unsigned int flags)
{
	if (fail_now("sync_file_range", fd, false)) {
		errno = fault_errno();
		return -1;
	}
	PASS(sync_file_range, fd, off, n, flags);
}

int msync(void *addr, size_t len, int flags)
{
	const char *only = getenv("FAULTFS_PATH");
	char path[4096];

	if (armed() && (groups() & G_SYNC) && fd_of_mapping(addr, path, sizeof(path)) &&
	    (only == NULL || *only == '\0' || strstr(path, only) != NULL)) {
		note("msync", path);
		errno = fault_errno();
		return -1;
	}
	PASS(msync, addr, len, flags);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (fail_now("pwrite", fd, true)) {
		errno = fault_errno();
		return -1;
	}
	PASS(pwrite, fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	if (fail_now("pwrite64", fd, true)) {
		errno = fault_errno();
		return -1;
	}
	PASS(pwrite64, fd, buf, n, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (fail_now("pwritev", fd, true)) {
		errno = fault_errno();
		return -1;
	}
	PASS(pwritev, fd, iov, cnt, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	if (fail_now("pwritev64", fd, true)) {
		errno = fault_errno();
		return -1;
	}
	PASS(pwritev64, fd, iov, cnt, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	if (fail_now("writev", fd, true)) {
		errno = fault_errno();
		return -1;
	}
	PASS(writev, fd, iov, cnt);
}
