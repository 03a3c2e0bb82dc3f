/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The device-mapper ioctls of the lab's guest tools (dmh-fuzz, dmh-sbforge):
 * one static ioctl buffer, create/load/remove and the status of a device
 * through /dev/mapper/control, with the rules dmsetup applies, so that a
 * tool runs a case in a few milliseconds instead of a dmsetup run's 0.7 s
 * on the debug kernel under TCG.  Each tool is one C file that includes
 * this header (they are built static, one file each, tests/tools/Makefile).
 */
#ifndef DMH_TOOLS_DM_H
#define DMH_TOOLS_DM_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* The data area starts after the header, 8-byte aligned. */
#define HDR_SIZE ((sizeof(struct dm_ioctl) + 7) & ~(size_t)7)

static int ctl = -1;
static uint32_t kver[3];
static struct dm_ioctl *io;	/* the one ioctl buffer */
static size_t io_size;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* --- a growing string --------------------------------------------------- */
struct str {
	char *s;
	size_t len, cap;
};

static void str_add(struct str *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			die("vsnprintf failed");
		if ((size_t)n < room) {
			b->len += n;
			return;
		}
		b->cap = (b->cap + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s)
			die("out of memory");
		if (b->len == 0)
			b->s[0] = '\0';
	}
}

static void str_reset(struct str *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

/* --- the device-mapper ioctls -------------------------------------------- */

/*
 * dm_ioctl(): run CMD on device NAME (may be NULL) with FLAGS and the
 * payload IN of INLEN bytes (COUNT targets, for a table load), leaving
 * room for at least OUT bytes of result.  The kernel says
 * DM_BUFFER_FULL_FLAG when its answer did not fit: then the buffer
 * doubles and the ioctl runs again (a message is sent again too, as
 * dmsetup does; only read-only messages return text).
 * Returns 0, or -1 with errno.  The answer is in io.
 */
static int dm_ioctl_n(unsigned long cmd, const char *name, uint32_t flags,
		      uint32_t count, const void *in, size_t inlen, size_t out)
{
	size_t need = HDR_SIZE + (inlen > out ? inlen : out);

	for (;;) {
		if (need > io_size) {
			free(io);
			io_size = need;
			io = aligned_alloc(8, (io_size + 7) & ~(size_t)7);
			if (!io)
				die("out of memory");
		}
		memset(io, 0, HDR_SIZE);
		memcpy(io->version, kver, sizeof(io->version));
		io->data_size = need;
		io->data_start = HDR_SIZE;
		io->flags = flags;
		io->target_count = count;
		if (name)
			snprintf(io->name, sizeof(io->name), "%s", name);
		if (inlen)
			memcpy((char *)io + HDR_SIZE, in, inlen);
		if (ioctl(ctl, cmd, io) < 0)
			return -1;
		if (!(io->flags & DM_BUFFER_FULL_FLAG))
			return 0;
		if (need > (64u << 20))
			die("the kernel's answer to ioctl %#lx does not fit in 64 MiB", cmd);
		need *= 2;
	}
}

static int dm_ioctl(unsigned long cmd, const char *name, uint32_t flags,
		    const void *in, size_t inlen, size_t out)
{
	return dm_ioctl_n(cmd, name, flags, 0, in, inlen, out);
}

static inline char *io_data(void)
{
	return (char *)io + io->data_start;
}

/* One target line: "<start> <len> <type> <params>", a failure as in dmsetup. */
struct table_line {
	uint64_t start, len;
	char type[DM_MAX_TYPE_NAME];
	const char *params;
};

/* parse_u64(): decimal, as scanf's %llu takes it (a sign, wrap, saturate). */
static int parse_u64(const char **p, uint64_t *v)
{
	const char *s = *p;
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (end == s || (*end && !isspace((unsigned char)*end)))
		return -1;
	*p = end;
	return 0;
}

static int parse_table_line(const char *text, struct table_line *t, char **params_copy)
{
	const char *p = text, *w;
	size_t n;
	char *q;

	if (parse_u64(&p, &t->start) || parse_u64(&p, &t->len))
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	for (w = p; *p && !isspace((unsigned char)*p); p++)
		;
	n = p - w;
	if (n == 0 || n >= sizeof(t->type))
		return -1;
	memcpy(t->type, w, n);
	t->type[n] = '\0';
	while (isspace((unsigned char)*p))
		p++;
	*params_copy = strdup(p);
	if (!*params_copy)
		die("out of memory");
	q = *params_copy + strlen(*params_copy);
	while (q > *params_copy && isspace((unsigned char)q[-1]))
		*--q = '\0';
	t->params = *params_copy;
	return 0;
}

/* load_table(): DM_TABLE_LOAD of one target into NAME. */
static int load_table(const char *name, const struct table_line *t)
{
	size_t plen = strlen(t->params) + 1;
	size_t len = (sizeof(struct dm_target_spec) + plen + 7) & ~(size_t)7;
	struct dm_target_spec *spec = calloc(1, len);
	int r, e;

	if (!spec)
		die("out of memory");
	spec->sector_start = t->start;
	spec->length = t->len;
	spec->next = len;
	memcpy(spec->target_type, t->type, sizeof(spec->target_type));
	memcpy(spec + 1, t->params, plen);
	r = dm_ioctl_n(DM_TABLE_LOAD, name, 0, 1, spec, len, 0);
	e = errno;
	free(spec);
	errno = e;
	return r;
}

/*
 * create_dev(): create NAME with one target, as "dmsetup create" does:
 * create, load, resume; a failed load or resume removes the device again.
 * The line's length goes to *LEN.  Returns 0 or -1 with *why set (a
 * static string).
 */
static int create_dev(const char *name, const char *text, uint64_t *len,
		      const char **why)
{
	struct table_line t;
	char *params = NULL;
	int e;

	if (parse_table_line(text, &t, &params)) {
		*why = "not a table line (refused before any ioctl)";
		return -1;
	}
	*len = t.len;
	if (dm_ioctl(DM_DEV_CREATE, name, 0, NULL, 0, 0)) {
		*why = "DM_DEV_CREATE failed";
		goto out_err;
	}
	if (load_table(name, &t)) {
		*why = "DM_TABLE_LOAD failed";
		goto out_remove;
	}
	if (dm_ioctl(DM_DEV_SUSPEND, name, 0, NULL, 0, 0)) {
		*why = "resume failed";
		goto out_remove;
	}
	free(params);
	return 0;

out_remove:
	e = errno;
	if (dm_ioctl(DM_DEV_REMOVE, name, 0, NULL, 0, 0))
		fprintf(stderr, "%s: cannot remove %s after a refused table: %s\n",
			program_invocation_short_name, name, strerror(errno));
	errno = e;
out_err:
	free(params);
	return -1;
}

/* remove_dev(): DM_DEV_REMOVE; 0 or -1. */
static int remove_dev(const char *name)
{
	return dm_ioctl(DM_DEV_REMOVE, name, 0, NULL, 0, 0);
}

/* dm_open(): /dev/mapper/control, speaking the kernel's interface version. */
static void dm_open(void)
{
	ctl = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		die("/dev/mapper/control: %s", strerror(errno));
	kver[0] = DM_VERSION_MAJOR;
	if (dm_ioctl(DM_VERSION, NULL, 0, NULL, 0, 0))
		die("DM_VERSION: %s", strerror(errno));
	memcpy(kver, io->version, sizeof(kver));
}

#endif /* DMH_TOOLS_DM_H */
