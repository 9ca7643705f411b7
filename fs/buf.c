// SPDX-License-Identifier: MIT
/* A growable text buffer: what every render and every gathered write uses. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetfs/model.h"

void vn_buf_free(struct vn_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void vn_buf_reset(struct vn_buf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

static int vn_buf_reserve(struct vn_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap;
	char *s;

	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	s = realloc(b->s, cap);
	if (!s)
		return -ENOMEM;
	b->s = s;
	b->cap = cap;
	return 0;
}

int vn_buf_add(struct vn_buf *b, const char *data, size_t len)
{
	int r = vn_buf_reserve(b, len);

	if (r < 0)
		return r;
	if (len)
		memcpy(b->s + b->len, data, len);
	b->len += len;
	b->s[b->len] = '\0';
	return 0;
}

int vn_buf_puts(struct vn_buf *b, const char *s)
{
	return vn_buf_add(b, s, strlen(s));
}

int vn_buf_printf(struct vn_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	r = vn_buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *vn_buf_steal(struct vn_buf *b)
{
	char *s = b->s;

	if (!s)
		s = strdup("");
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

int vn_buf_resize(struct vn_buf *b, size_t len)
{
	int r;

	if (len <= b->len) {
		b->len = len;
		if (b->s)
			b->s[len] = '\0';
		return 0;
	}
	r = vn_buf_reserve(b, len - b->len);
	if (r < 0)
		return r;
	memset(b->s + b->len, 0, len - b->len + 1);
	b->len = len;
	return 0;
}
