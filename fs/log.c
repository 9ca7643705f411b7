// SPDX-License-Identifier: MIT
/* The one log helper: stderr in the foreground, syslog otherwise; and a
 * log file (--log FILE; in the background STATE/vnetfs.log by default)
 * when one is open: then the foreground writes there instead of stderr. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "vnetfs/model.h"

/* Set once at start-up before any thread exists; read-only afterwards. */
static struct {
	bool to_stderr;
	int level;
	int fd;		/* the log file, or -1 */
	bool file_only; /* the file instead of stderr */
} vn_logcfg = {true, VN_LOG_INFO, -1, false};

int vn_log_open_file(const char *path, bool instead_of_stderr)
{
	int fd =
		open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);

	if (fd < 0)
		return -errno;
	if (vn_logcfg.fd >= 0)
		close(vn_logcfg.fd);
	vn_logcfg.fd = fd;
	vn_logcfg.file_only = instead_of_stderr;
	return 0;
}

/* One line, one write(): lines of several threads never mix. */
static void vn_log_file(const char *level, const char *msg, int code)
{
	char line[1400], when[32];
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (code)
		n = snprintf(line, sizeof(line), "%s.%03ldZ vnetfs[%d] %s: %s (%s)\n", when,
			     ts.tv_nsec / 1000000, (int)getpid(), level, msg, strerror(-code));
	else
		n = snprintf(line, sizeof(line), "%s.%03ldZ vnetfs[%d] %s: %s\n", when,
			     ts.tv_nsec / 1000000, (int)getpid(), level, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (write(vn_logcfg.fd, line, (size_t)n) < 0) {
		/* nowhere left to say so */
	}
}

void vn_log_init(bool to_stderr, int level)
{
	vn_logcfg.to_stderr = to_stderr;
	vn_logcfg.level = level;
	if (!to_stderr)
		openlog("vnetfs", LOG_PID, LOG_DAEMON);
}

/* Is code point u one that shows nothing, or moves the text (controls,
 * C1, soft hyphen, zero-width and direction marks, BOM, tags)? */
static bool vn_invisible(uint32_t u)
{
	return u < 0x20 || u == 0x7f || (u >= 0x80 && u <= 0x9f) || u == 0xad ||
	       (u >= 0x200b && u <= 0x200f) || (u >= 0x2028 && u <= 0x202e) ||
	       (u >= 0x2060 && u <= 0x206f) || u == 0xfeff || (u >= 0xfff9 && u <= 0xfffb) ||
	       (u >= 0xe0000 && u <= 0xe007f);
}

/* Length of the valid UTF-8 sequence at p (n bytes left), its code point
 * in *u; 0 if it is not one (overlong, surrogate, cut, stray byte). */
static size_t vn_utf8(const unsigned char *p, size_t n, uint32_t *u)
{
	size_t len;
	uint32_t v, min;

	if (p[0] < 0x80) {
		*u = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, v = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, v = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, v = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*u = v;
	return len;
}

void vn_escape(const char *in, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = strlen(in), o = 0;

	if (!size)
		return;
	while (n) {
		uint32_t u = 0;
		size_t l = vn_utf8(p, n, &u);
		char esc[5 * 4 + 1];
		size_t el = 0;

		if (l && !vn_invisible(u)) {
			if (o + l >= size)
				break;
			memcpy(out + o, p, l);
			o += l;
		} else {
			if (!l)
				l = 1; /* a byte that is not UTF-8 */
			if (u == '\t' || u == '\n' || u == '\r')
				el = (size_t)snprintf(esc, sizeof(esc), "\\%c",
						      u == '\t'	  ? 't'
						      : u == '\n' ? 'n'
								  : 'r');
			else
				for (size_t i = 0; i < l; i++)
					el += (size_t)snprintf(esc + el, sizeof(esc) - el,
							       "\\x%02x", p[i]);
			if (o + el >= size)
				break;
			memcpy(out + o, esc, el);
			o += el;
		}
		p += l;
		n -= l;
	}
	out[o] = '\0';
}

int vn_log(int level, int code, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char raw[1024], msg[1024];
	va_list ap;

	if (level > vn_logcfg.level)
		return code;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	vn_escape(raw, msg, sizeof(msg)); /* one line, every byte visible */
	if (vn_logcfg.fd >= 0) {
		vn_log_file(names[level], msg, code);
		if (vn_logcfg.to_stderr && vn_logcfg.file_only)
			return code; /* the file instead of stderr */
	}
	if (vn_logcfg.to_stderr) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		if (code)
			fprintf(stderr, "vnetfs %ld.%03ld %s: %s (%s)\n", (long)ts.tv_sec,
				ts.tv_nsec / 1000000, names[level], msg, strerror(-code));
		else
			fprintf(stderr, "vnetfs %ld.%03ld %s: %s\n", (long)ts.tv_sec,
				ts.tv_nsec / 1000000, names[level], msg);
	} else if (code) {
		syslog(prio[level], "%s (%s)", msg, strerror(-code));
	} else {
		syslog(prio[level], "%s", msg);
	}
	return code;
}

int vn_fail(struct vn_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	char raw[sizeof(err->msg)];

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* the one place values are quoted into sentences: what cannot be
	 * seen is shown as C escapes (a BOM reads \xef\xbb\xbf); printable
	 * text, backslashes included, is kept, so escaping twice changes
	 * nothing */
	vn_escape(raw, err->msg, sizeof(err->msg));
	return code;
}
