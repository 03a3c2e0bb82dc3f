// SPDX-License-Identifier: GPL-2.0-only
/*
 * A stand-in for the part of libdevmapper that hybridctl calls, so that
 * its reports run on the host against canned devices: the file named by
 * $HCTL_FAKE_DM holds one line per device,
 *
 *   dev NAME MAJOR MINOR OPEN_COUNT TYPE LENGTH|TABLE PARAMS|STATUS PARAMS
 *
 * and one per message reply ("\n" in REPLY stands for a newline):
 *
 *   msg NAME MESSAGE|REPLY
 *
 * (a REPLY of "!busy N" fails the message with EBUSY N times, then
 * succeeds, as the kernel's delete_volume does while chunks migrate).
 * Every other task fails with EPERM, so a command that would change
 * something cannot pass by mistake; but with $HCTL_FAKE_CHANGE_MS set, a
 * device removal or suspension takes that many milliseconds and succeeds,
 * and so do table loads and resumes (the canned devices stay as they are).
 * tools/tests/run.sh links hybridctl's objects with this file instead of
 * -ldevmapper (tests/hybridctl_fake).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libdevmapper.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAKE_MAX	32

struct fake_dev {
	char name[128], type[32], table[512], status[512];
	unsigned int major, minor;
	int open;
	unsigned long long len;
};

struct fake_msg {
	char dev[128], msg[128], reply[1024];
	int busy;		/* "!busy N": EBUSY for the first N times */
};

struct dm_task {
	int type, err;
	char name[128], msg[128];
	const struct fake_dev *dev;
	const char *reply;
	struct dm_names *names;
};

static struct fake_dev devs[FAKE_MAX];
static struct fake_msg msgs[FAKE_MAX];
static int ndevs, nmsgs, loaded;

/* "a\nb" in the file to a newline, in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++, w++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*w = '\n';
			s++;
		} else {
			*w = *s;
		}
	}
	*w = 0;
}

static void parse_line(char *l)
{
	struct fake_dev *d = &devs[ndevs];
	struct fake_msg *m = &msgs[nmsgs];

	l[strcspn(l, "\n")] = 0;
	if (ndevs < FAKE_MAX &&
	    sscanf(l, "dev %127s %u %u %d %31s %llu|%511[^|]|%511[^\n]",
		   d->name, &d->major, &d->minor, &d->open, d->type, &d->len,
		   d->table, d->status) == 8)
		ndevs++;
	else if (nmsgs < FAKE_MAX &&
		 sscanf(l, "msg %127s %127[^|]|%1023[^\n]", m->dev, m->msg,
			m->reply) == 3) {
		if (sscanf(m->reply, "!busy %d", &m->busy) != 1)
			m->busy = 0;
		unescape(msgs[nmsgs++].reply);
	}
}

static void load(void)
{
	const char *path = getenv("HCTL_FAKE_DM");
	char line[2048];
	FILE *f;

	if (loaded++ || !path)
		return;
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		parse_line(line);
	if (f)
		fclose(f);
}

static const struct fake_dev *find_dev(const char *name)
{
	int i;

	for (i = 0; i < ndevs; i++)
		if (!strcmp(devs[i].name, name))
			return &devs[i];
	return NULL;
}

/* The names of every device in struct dm_names' packed layout. */
static struct dm_names *list_names(void)
{
	size_t off = 0, sizes[FAKE_MAX];
	struct dm_names *n, *all;
	int i;

	for (i = 0; i < ndevs; i++) {
		sizes[i] = (sizeof(*n) + strlen(devs[i].name) + 1 + 7) & ~7UL;
		off += sizes[i];
	}
	all = calloc(1, off + sizeof(*n));
	for (i = 0, off = 0; all && i < ndevs; i++) {
		n = (struct dm_names *)((char *)all + off);
		n->dev = ((uint64_t)devs[i].major << 20) | devs[i].minor;
		n->next = i + 1 < ndevs ? sizes[i] : 0;
		memcpy(n->name, devs[i].name, strlen(devs[i].name) + 1);
		off += sizes[i];
	}
	return all;
}

struct dm_task *dm_task_create(int type)
{
	struct dm_task *t = calloc(1, sizeof(*t));

	load();
	if (t)
		t->type = type;
	return t;
}

void dm_task_destroy(struct dm_task *dmt)
{
	if (dmt)
		free(dmt->names);
	free(dmt);
}

int dm_task_set_name(struct dm_task *dmt, const char *name)
{
	snprintf(dmt->name, sizeof(dmt->name), "%s", name);
	return 1;
}

int dm_task_set_message(struct dm_task *dmt, const char *message)
{
	snprintf(dmt->msg, sizeof(dmt->msg), "%s", message);
	return 1;
}

int dm_task_set_sector(struct dm_task *dmt, uint64_t sector)
{
	(void)dmt;
	(void)sector;
	return 1;
}

static int run_msg(struct dm_task *dmt)
{
	int i;

	for (i = 0; i < nmsgs; i++) {
		if (!strcmp(msgs[i].dev, dmt->name) &&
		    !strcmp(msgs[i].msg, dmt->msg)) {
			if (msgs[i].busy > 0) {
				msgs[i].busy--;
				dmt->err = EBUSY;
				return 0;
			}
			dmt->reply = msgs[i].reply;
			return 1;
		}
	}
	dmt->err = EINVAL;
	return 0;
}

int dm_task_run(struct dm_task *dmt)
{
	switch (dmt->type) {
	case DM_DEVICE_LIST:
		dmt->names = list_names();
		return !!dmt->names;
	case DM_DEVICE_INFO:
		dmt->dev = find_dev(dmt->name);
		return 1;		/* exists = 0 when it is not there */
	case DM_DEVICE_TABLE:
	case DM_DEVICE_STATUS:
		dmt->dev = find_dev(dmt->name);
		dmt->err = dmt->dev ? 0 : ENXIO;
		return !!dmt->dev;
	case DM_DEVICE_TARGET_MSG:
		return run_msg(dmt);
	case DM_DEVICE_REMOVE:
	case DM_DEVICE_SUSPEND:
		if (getenv("HCTL_FAKE_CHANGE_MS")) {
			usleep(atoi(getenv("HCTL_FAKE_CHANGE_MS")) * 1000);
			return 1;
		}
		break;
	case DM_DEVICE_RELOAD:
	case DM_DEVICE_RESUME:
		if (getenv("HCTL_FAKE_CHANGE_MS"))
			return 1;
		break;
	}
	dmt->err = EPERM;
	return 0;
}

int dm_task_get_errno(struct dm_task *dmt)
{
	return dmt->err;
}

int dm_task_get_info(struct dm_task *dmt, struct dm_info *dmi)
{
	memset(dmi, 0, sizeof(*dmi));
	if (dmt->dev) {
		dmi->exists = 1;
		dmi->live_table = 1;
		dmi->major = dmt->dev->major;
		dmi->minor = dmt->dev->minor;
		dmi->open_count = dmt->dev->open;
		dmi->target_count = 1;
	}
	return 1;
}

struct dm_names *dm_task_get_names(struct dm_task *dmt)
{
	return dmt->names;
}

const char *dm_task_get_message_response(struct dm_task *dmt)
{
	return dmt->reply;
}

void *dm_get_next_target(struct dm_task *dmt, void *next, uint64_t *start,
			 uint64_t *length, char **target_type, char **params)
{
	const struct fake_dev *d = dmt->dev;

	(void)next;
	*start = 0;
	*length = d ? d->len : 0;
	*target_type = d ? (char *)d->type : NULL;
	if (d)
		*params = (char *)(dmt->type == DM_DEVICE_STATUS ? d->status :
				   d->table);
	return NULL;		/* one target */
}

/* ---- what only the commands that change something call: refused ---- */

int dm_task_set_newname(struct dm_task *dmt, const char *newname)
{
	(void)dmt;
	(void)newname;
	return 0;
}

int dm_task_set_cookie(struct dm_task *dmt, uint32_t *cookie, uint16_t flags)
{
	(void)dmt;
	(void)cookie;
	(void)flags;
	return 0;
}

int dm_task_retry_remove(struct dm_task *dmt)
{
	(void)dmt;
	return 0;
}

int dm_task_add_target(struct dm_task *dmt, uint64_t start, uint64_t size,
		       const char *ttype, const char *params)
{
	(void)dmt;
	(void)start;
	(void)size;
	(void)ttype;
	(void)params;
	return !!getenv("HCTL_FAKE_CHANGE_MS");
}

int dm_udev_wait(uint32_t cookie)
{
	(void)cookie;
	return 1;
}

int dm_mknodes(const char *name)
{
	(void)name;
	return 0;
}

void dm_log_with_errno_init(dm_log_with_errno_fn fn)
{
	(void)fn;
}
