// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl's device-mapper calls (see hybridctl.h): every libdevmapper
 * task goes through here, and so does the kernel's explanation of a
 * refusal, which it gives only in its log (/dev/kmsg).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hybridctl.h"

static const char *prog = "hybridctl";

/* Last error libdevmapper reported, shown with -v or when nothing better. */
static char dm_lasterr[512];
/* Kernel messages (device-mapper lines) logged during the last operation. */
static char kreason[512];
static int ktable;		/* kreason is why a table was refused */
static int kmsg_fd = -1;

void ctl_err(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", prog, msg);
	ctl_result_err(msg);
}

/* Print the kernel's own reason, if it logged one, after an error. */
void err_reason(void)
{
	if (kreason[0])
		fprintf(stderr, "%s: the kernel said: %s\n", prog, kreason);
	else if (ctl_verbose && dm_lasterr[0])
		fprintf(stderr, "%s: libdevmapper: %s\n", prog, dm_lasterr);
}

__printf(5, 6)
static void dm_logger(int level, const char *file, int line, int dm_errno,
		      const char *f, ...)
{
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno;
	va_start(ap, f);
	if (level <= 3) {	/* _LOG_ERR and worse */
		vsnprintf(dm_lasterr, sizeof(dm_lasterr), f, ap);
	} else if (ctl_verbose > 1) {
		vfprintf(stderr, f, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
	if (ctl_verbose && level <= 3)
		fprintf(stderr, "%s: libdevmapper: %s\n", prog, dm_lasterr);
}

/*
 * The kernel explains a refused table or message only in its log; read
 * the device-mapper lines logged between kmsg_mark() and kmsg_collect().
 */
static void kmsg_mark(void)
{
	kreason[0] = '\0';
	ktable = 0;
	dm_lasterr[0] = '\0';
	if (kmsg_fd < 0)
		kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

static void kmsg_collect(void)
{
	char rec[2048], *msg, *nl;
	ssize_t n;

	if (kmsg_fd < 0)
		return;
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(msg, "device-mapper: ", 15))
			continue;
		msg += 15;
		/*
		 * "table: 253:3: hybrid: Volume too large (-EINVAL)" says
		 * why a table was refused; "ioctl: error adding target to
		 * table" that follows it says nothing more.  Otherwise keep
		 * the first line: later ones are usually consequences.
		 */
		if (!strncmp(msg, "table: ", 7)) {
			nl = strstr(msg, ": hybrid-pool: ");
			if (!nl)
				nl = strstr(msg, ": hybrid: ");
			if (nl)
				msg = strchr(nl + 2, ' ') + 1;
			snprintf(kreason, sizeof(kreason), "%s", msg);
			/* drop the " (-EINVAL)" the sentence needs no more */
			nl = strstr(kreason, " (-E");
			if (nl && strchr(nl, ')') && !strchr(nl, ')')[1])
				*nl = '\0';
			ktable = 1;
		} else if (!kreason[0]) {
			snprintf(kreason, sizeof(kreason), "%s", msg);
		}
	}
}

void ctl_dm_init(void)
{
	dm_log_with_errno_init(dm_logger);
}

const char *dm_last_error(void)
{
	return dm_lasterr;
}

int dm_refused_table(void)
{
	return ktable;
}

/* ---- device-mapper primitives --------------------------------------------- */

/* Run @dmt, with udev synchronisation for the operations that need it. */
static int dm_go(struct dm_task *dmt, int sync_udev)
{
	u32 cookie = 0;
	int ok, e;

	if (sync_udev && !dm_task_set_cookie(dmt, &cookie, 0))
		sync_udev = 0;
	ok = dm_task_run(dmt);
	e = ok ? 0 : dm_task_get_errno(dmt);
	if (sync_udev)
		dm_udev_wait(cookie);
	kmsg_collect();
	if (ok)
		return 0;
	return e ? -e : -EIO;
}

static struct dm_task *dm_new(int type, const char *name)
{
	struct dm_task *dmt = dm_task_create(type);

	if (!dmt) {
		ctl_err("cannot talk to the kernel's device-mapper (%s); is dm-mod loaded, and are you root?",
			dm_lasterr[0] ? dm_lasterr : "unknown error");
		exit(1);
	}
	if (name && !dm_task_set_name(dmt, name)) {
		dm_task_destroy(dmt);
		ctl_err("out of memory");
		exit(1);
	}
	return dmt;
}

/* 1 if the device exists (its info in @info), 0 if not, -errno. */
int dm_info_of(const char *name, struct dm_info *info)
{
	struct dm_task *dmt = dm_new(DM_DEVICE_INFO, name);
	struct dm_info i;
	int r;

	r = dm_go(dmt, 0);
	if (!r)
		r = dm_task_get_info(dmt, &i) ? i.exists : -EIO;
	dm_task_destroy(dmt);
	if (r > 0 && info)
		*info = i;
	return r;
}

/* The single target of a device's STATUS or TABLE, or -errno. */
int dm_target_of(const char *name, int status, struct dm_target_line *t)
{
	struct dm_task *dmt = dm_new(status ? DM_DEVICE_STATUS : DM_DEVICE_TABLE,
				     name);
	u64 start, len;
	char *type = NULL, *params = NULL;
	int r;

	memset(t, 0, sizeof(*t));
	r = dm_go(dmt, 0);
	if (!r) {
		dm_get_next_target(dmt, NULL, (uint64_t *)&start,
				   (uint64_t *)&len, &type, &params);
		if (!type) {
			r = -ENODATA;
		} else {
			t->len = len;
			snprintf(t->type, sizeof(t->type), "%s", type);
			snprintf(t->params, sizeof(t->params), "%s",
				 params ? params : "");
		}
	}
	dm_task_destroy(dmt);
	return r;
}

int dm_load(int op, const char *name, u64 len, const char *type,
	    const char *params)
{
	struct dm_task *dmt = dm_new(op, name);
	int r;

	if (!dm_task_add_target(dmt, 0, len, type, params)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	kmsg_mark();
	r = dm_go(dmt, op == DM_DEVICE_CREATE);
	dm_task_destroy(dmt);
	if (op != DM_DEVICE_CREATE)
		return r;
	if (!r) {
		dm_mknodes(name);
	} else if (dm_info_of(name, NULL) > 0) {
		/* libdevmapper normally reverts a failed create itself */
		char saved[sizeof(kreason)];

		memcpy(saved, kreason, sizeof(saved));
		dm_simple(DM_DEVICE_REMOVE, name);
		memcpy(kreason, saved, sizeof(saved));
	}
	return r;
}

int dm_simple(int op, const char *name)
{
	struct dm_task *dmt = dm_new(op, name);
	int r;

	if (op == DM_DEVICE_REMOVE)
		dm_task_retry_remove(dmt);
	kmsg_mark();
	r = dm_go(dmt, op == DM_DEVICE_RESUME || op == DM_DEVICE_REMOVE);
	dm_task_destroy(dmt);
	return r;
}

int dm_rename_dev(const char *name, const char *newname)
{
	struct dm_task *dmt = dm_new(DM_DEVICE_RENAME, name);
	int r;

	if (!dm_task_set_newname(dmt, newname)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	kmsg_mark();
	r = dm_go(dmt, 1);
	dm_task_destroy(dmt);
	return r;
}

/* Send a message to a pool; the reply (if any) is malloc'ed into @reply. */
int dm_msg(const char *pool, char **reply, const char *fmt, ...)
{
	struct dm_task *dmt = dm_new(DM_DEVICE_TARGET_MSG, pool);
	const char *resp;
	char msg[512];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (reply)
		*reply = NULL;
	if (!dm_task_set_sector(dmt, 0) || !dm_task_set_message(dmt, msg)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	kmsg_mark();
	r = dm_go(dmt, 0);
	if (!r && reply) {
		resp = dm_task_get_message_response(dmt);
		*reply = strdup(resp ? resp : "");
	}
	dm_task_destroy(dmt);
	if (ctl_verbose)
		fprintf(stderr, "%s: message %s: %s -> %s\n", prog, pool, msg,
			r ? strerror(-r) : "ok");
	return r;
}

/*
 * Undo a step that succeeded before a later one failed, by sending the
 * message that reverses it, so that nothing is left half-done.  When the
 * undo fails too, say so with the command that finishes it by hand.
 */
int undo_msg(const char *pool, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r = dm_msg(pool, NULL, "%s", msg);
	if (r)
		ctl_err("could not undo the change (%s): %s; finish it with \"dmsetup message %s 0 %s\".",
			msg, errno_sentence(-r), pool, msg);
	return r;
}

/* Names of all dm devices (malloc'ed array of malloc'ed strings). */
int dm_list_names(char ***out, u32 *n)
{
	struct dm_task *dmt = dm_new(DM_DEVICE_LIST, NULL);
	struct dm_names *names;
	char **v = NULL;
	u32 cnt = 0, next = 0;
	int r;

	*out = NULL;
	*n = 0;
	r = dm_go(dmt, 0);
	if (r) {
		dm_task_destroy(dmt);
		return r;
	}
	names = dm_task_get_names(dmt);
	if (names && names->dev) {
		do {
			names = (struct dm_names *)((char *)names + next);
			v = realloc(v, (cnt + 1) * sizeof(*v));
			if (!v)
				exit(1);
			v[cnt++] = strdup(names->name);
			next = names->next;
		} while (next);
	}
	dm_task_destroy(dmt);
	*out = v;
	*n = cnt;
	return 0;
}

void free_names(char **v, u32 n)
{
	while (n)
		free(v[--n]);
	free(v);
}

const char *errno_sentence(int e)
{
	switch (e) {
	case EROFS:
		return "the pool is not writable (see \"hybridctl pool status\")";
	case EBUSY:
		return "the device is busy";
	case ENOSPC:
		return "there is no room left for it";
	case EFBIG:
		return "that is larger than a volume can be (2^39 chunks)";
	case EIO:
		return "an I/O error occurred (see dmesg)";
	case ENXIO:
	case ENODEV:
		return "the device does not exist";
	case EPERM:
	case EACCES:
		return "permission denied (run as root)";
	}
	return strerror(e);
}

/* Why a dm operation failed: the kernel's reason for a table, or errno. */
static const char *why(int r)
{
	return ktable ? kreason : errno_sentence(-r);
}

/* Print the kernel's log line unless why() already used it. */
static void err_reason_unless_table(void)
{
	if (!ktable)
		err_reason();
}

/*
 * Report a failed device-mapper operation (a table load, a message, a
 * remove or rename) in one sentence, "<what>: <reason>.", followed by the
 * kernel's own log line unless the reason already is that line.  @reason
 * replaces the errno sentence where the caller knows what an errno means
 * for its operation; NULL uses why(@r).
 */
void op_fail(int r, const char *reason, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ctl_err("%s: %s.", what, reason ? reason : why(r));
	err_reason_unless_table();
}

/* Put @old back as @name's live table, keeping the first failure's reason. */
static void restore_table(const char *name, const struct dm_target_line *old)
{
	char saved[sizeof(kreason)];
	int r;

	memcpy(saved, kreason, sizeof(saved));
	r = dm_load(DM_DEVICE_RELOAD, name, old->len, old->type, old->params);
	if (!r)
		r = dm_simple(DM_DEVICE_RESUME, name);
	if (r)
		ctl_err("could not restore the previous table of %s (%s); it may be left suspended: check \"dmsetup info %s\".",
			name, errno_sentence(-r), name);
	memcpy(kreason, saved, sizeof(saved));
}

int dm_reload(const char *name, u64 len, const char *type,
	      const char *params, const struct dm_target_line *old)
{
	int r;

	r = dm_load(DM_DEVICE_RELOAD, name, len, type, params);
	if (r)
		return r;
	r = dm_simple(DM_DEVICE_SUSPEND, name);
	if (!r)
		r = dm_simple(DM_DEVICE_RESUME, name);
	if (r)
		restore_table(name, old);
	return r;
}
