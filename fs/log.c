// SPDX-License-Identifier: MIT
/* The one log helper: stderr in the foreground, syslog otherwise. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "vnetfs/model.h"

/* Set once at start-up before any thread exists; read-only afterwards. */
static struct {
	bool to_stderr;
	int level;
} vn_logcfg = {true, VN_LOG_INFO};

void vn_log_init(bool to_stderr, int level)
{
	vn_logcfg.to_stderr = to_stderr;
	vn_logcfg.level = level;
	if (!to_stderr)
		openlog("vnetfs", LOG_PID, LOG_DAEMON);
}

int vn_log(int level, int code, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char msg[1024];
	va_list ap;

	if (level > vn_logcfg.level)
		return code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
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
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}
