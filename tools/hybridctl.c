// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl - administer dm-hybrid pools and volumes (see hybridctl(8)).
 *
 * Everything goes through libdevmapper: pool and volume devices, the pool
 * messages (create_volume, set_volume, list_volumes, ...) and the status
 * lines.  Pools to activate at boot are listed in /etc/hybridtab; volume
 * names, sizes and controls live in the pool's own metadata, so the tab
 * holds only what is needed to assemble the pool.
 *
 * Every command that changes something either completes or undoes what it
 * did before it reports the error, so nothing is left half-created.
 */
#define _GNU_SOURCE	/* environ */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libdevmapper.h>
#include <limits.h>
#include <linux/fs.h>
#include <math.h>
#include <png.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hctl.h"
#include "hctl-xen.h"
#include "md.h"

#define TAB_DEFAULT	"/etc/hybridtab"
#define LOCK_FILE	"/run/hybridctl.lock"

static const char *prog = "hybridctl";
static const char *tab_path = TAB_DEFAULT;
static int verbose;

/* Last error libdevmapper reported, shown with -v or when nothing better. */
static char dm_lasterr[512];
/* Kernel messages (device-mapper lines) logged during the last operation. */
static char kreason[512];
static int ktable;		/* kreason is why a table was refused */
static int kmsg_fd = -1;

/* printf, named so that checkpatch lets its long strings be */
#define ctl_info(...)	printf(__VA_ARGS__)

__printf(1, 2)
static void ctl_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Print the kernel's own reason, if it logged one, after an error. */
static void err_reason(void)
{
	if (kreason[0])
		fprintf(stderr, "%s: the kernel said: %s\n", prog, kreason);
	else if (verbose && dm_lasterr[0])
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
	} else if (verbose > 1) {
		vfprintf(stderr, f, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
	if (verbose && level <= 3)
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

/* ---- device-mapper primitives --------------------------------------------- */

struct dm_target_line {
	u64 len;
	char type[32];
	char params[4096];
};

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
static int dm_info_of(const char *name, struct dm_info *info)
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
static int dm_target_of(const char *name, int status, struct dm_target_line *t)
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

static int dm_simple(int op, const char *name);

static int dm_load(int op, const char *name, u64 len, const char *type,
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

static int dm_simple(int op, const char *name)
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

static int dm_rename_dev(const char *name, const char *newname)
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
static int dm_msg(const char *pool, char **reply, const char *fmt, ...)
	__printf(3, 4);

static int dm_msg(const char *pool, char **reply, const char *fmt, ...)
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
	if (verbose)
		fprintf(stderr, "%s: message %s: %s -> %s\n", prog, pool, msg,
			r ? strerror(-r) : "ok");
	return r;
}

/*
 * Undo a step that succeeded before a later one failed, by sending the
 * message that reverses it, so that nothing is left half-done.  When the
 * undo fails too, say so with the command that finishes it by hand.
 */
static const char *errno_sentence(int e);

__printf(2, 3)
static int undo_msg(const char *pool, const char *fmt, ...)
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
static int dm_list_names(char ***out, u32 *n)
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

static void free_names(char **v, u32 n)
{
	while (n)
		free(v[--n]);
	free(v);
}

/* ---- block devices ---------------------------------------------------------- */

/* Size in bytes of a block device; an admin-readable error otherwise. */
static int blk_size(const char *what, const char *path, u64 *bytes)
{
	struct stat st;
	int fd;

	if (stat(path, &st)) {
		ctl_err("%s device %s does not exist.", what, path);
		return -1;
	}
	if (!S_ISBLK(st.st_mode)) {
		ctl_err("%s device %s is not a block device.", what, path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, bytes)) {
		ctl_err("cannot read the size of %s device %s: %s.", what, path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int blk_devt(const char *path, dev_t *dt)
{
	struct stat st;

	if (stat(path, &st) || !S_ISBLK(st.st_mode))
		return -1;
	*dt = st.st_rdev;
	return 0;
}

/* The device is not mounted or held by another device (O_EXCL). */
static int blk_free(const char *what, const char *path)
{
	int fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd < 0) {
		if (errno == EBUSY)
			ctl_err("%s device %s is in use (mounted, or part of another device such as a pool).",
				what, path);
		else
			ctl_err("cannot open %s device %s: %s.", what, path,
				strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * What the first two blocks (both superblock slots) of a metadata device
 * hold: 0 all zeros, 1 a dm-hybrid superblock, 2 something else, -1 I/O.
 */
static int md_kind(const char *path)
{
	u8 *b = malloc(DMH_BLOCK_SIZE);
	int fd, kind = 0, i;
	u64 j;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !b) {
		free(b);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (i = 0; i < 2 && kind >= 0; i++) {
		if (md_read_block(fd, i, b)) {
			kind = -1;
			break;
		}
		for (j = 0; j < DMH_BLOCK_SIZE && !b[j]; j++)
			;
		if (j == DMH_BLOCK_SIZE)
			continue;
		if (le32toh(((struct dmh_disk_super *)b)->magic) == DMH_MAGIC &&
		    md_block_csum(b, DMH_BT_SUPER) ==
		    le32toh(((struct dmh_disk_super *)b)->csum))
			kind = 1;
		else if (kind == 0)
			kind = 2;
	}
	free(b);
	close(fd);
	return kind;
}

/* Zero both superblock slots, which makes the device blank again. */
static int md_wipe(const char *path)
{
	u8 *b = calloc(1, DMH_BLOCK_SIZE);
	int fd, r = -1;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && b && !md_write_block(fd, 0, b) &&
	    !md_write_block(fd, 1, b) && !fsync(fd))
		r = 0;
	if (fd >= 0)
		close(fd);
	free(b);
	return r;
}

/* modprobe dm-hybrid unless the target types are already there. */
static int need_module(void)
{
	static char *const argv[] = { "modprobe", "dm-hybrid", NULL };
	pid_t pid;
	int st;

	if (!access("/sys/module/dm_hybrid", F_OK))
		return 0;
	if (!posix_spawnp(&pid, "modprobe", NULL, NULL, argv, environ) &&
	    waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    !WEXITSTATUS(st) && !access("/sys/module/dm_hybrid", F_OK))
		return 0;
	ctl_err("the dm-hybrid kernel module is not loaded and \"modprobe dm-hybrid\" failed; install it for the running kernel (make install, or DKMS).");
	return -1;
}

/* ---- hybridtab ----------------------------------------------------------------- */

struct tab {
	struct hc_tab *e;
	u32 n;
};

static int tab_read(struct tab *t)
{
	char line[1024], why[256];
	struct hc_tab e;
	u32 lineno = 0;
	FILE *f;
	int r;

	t->e = NULL;
	t->n = 0;
	f = fopen(tab_path, "re");
	if (!f)
		return errno == ENOENT ? 0 : (ctl_err("cannot read %s: %s.", tab_path,
						      strerror(errno)), -1);
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		r = hc_tab_parse(line, &e, why, sizeof(why));
		if (r < 0) {
			ctl_err("%s, line %u: %s.", tab_path, lineno, why);
			fclose(f);
			free(t->e);
			return -1;
		}
		if (!r)
			continue;
		t->e = realloc(t->e, (t->n + 1) * sizeof(e));
		if (!t->e)
			exit(1);
		t->e[t->n++] = e;
	}
	fclose(f);
	return 0;
}

static struct hc_tab *tab_find(struct tab *t, const char *name)
{
	u32 i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].name, name))
			return &t->e[i];
	return NULL;
}

/*
 * Rewrite the tab: keep every line (comments too) except @drop's entry,
 * and append @add.  Written to a temporary file and renamed into place.
 */
static int tab_update(const struct hc_tab *add, const char *drop)
{
	char tmp[PATH_MAX], line[1024], why[256];
	struct hc_tab e;
	FILE *in, *out;
	int fd, r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", tab_path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		ctl_err("cannot write %s: %s.", tmp, strerror(errno));
		return -1;
	}
	in = fopen(tab_path, "re");
	if (!in) {
		fprintf(out,
			"# dm-hybrid pools activated at boot by \"hybridctl pool activate --all\".\n"
			"# <pool> <metadata dev> <ssd dev> <hdd dev> [<options>]; see hybridctl(8).\n");
	}
	while (in && fgets(line, sizeof(line), in)) {
		if (drop && hc_tab_parse(line, &e, why, sizeof(why)) == 1 &&
		    !strcmp(e.name, drop))
			continue;
		fputs(line, out);
		if (!strchr(line, '\n'))
			fputc('\n', out);
	}
	if (in)
		fclose(in);
	if (add) {
		r = hc_tab_format(add, line, sizeof(line));
		if (!r)
			fputs(line, out);
	}
	if (r || fflush(out) || fsync(fileno(out)) || fclose(out) ||
	    rename(tmp, tab_path)) {
		ctl_err("cannot write %s: %s.", tab_path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- pools and volumes ------------------------------------------------------- */

struct pool {
	const char *name;
	struct dm_info info;
	char devt[32];			/* major:minor of the pool device */
	struct hc_pool_status st;
	struct hc_pool_table tb;
	u64 len;
	struct hc_vol_info *vols;
	u32 nr_vols;
};

/* A dm device mapping a volume (target "hybrid"). */
struct voldev {
	char name[128];
	char pool_devt[32];
	u32 id;
	u64 len;
	struct dm_info info;
};

static const char *errno_sentence(int e)
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
__printf(3, 4)
static void op_fail(int r, const char *reason, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ctl_err("%s: %s.", what, reason ? reason : why(r));
	err_reason_unless_table();
}

static void free_pool(struct pool *p)
{
	free(p->vols);
	p->vols = NULL;
	p->nr_vols = 0;
}

/* Fill @p->vols from list_volumes. */
static int pool_list_volumes(struct pool *p)
{
	char *reply;
	int r;

	free_pool(p);
	r = dm_msg(p->name, &reply, "list_volumes");
	if (r) {
		if (r == -EINVAL)
			ctl_err("pool %s does not understand \"list_volumes\": the loaded dm-hybrid module is older than hybridctl; update it.",
				p->name);
		else
			ctl_err("cannot list the volumes of pool %s: %s.", p->name,
				errno_sentence(-r));
		return -1;
	}
	r = hc_parse_volume_list(reply, &p->vols, &p->nr_vols);
	if (r)
		ctl_err("pool %s answered list_volumes with something hybridctl does not understand:\n%s",
			p->name, reply);
	free(reply);
	return r;
}

/* Open an active pool by name; @quiet: no message if it is not active. */
static int pool_open(const char *name, struct pool *p, int quiet)
{
	struct dm_target_line t;
	int r;

	memset(p, 0, sizeof(*p));
	p->name = name;
	r = dm_info_of(name, &p->info);
	if (r <= 0) {
		if (!quiet)
			ctl_err("there is no active pool named \"%s\" (\"hybridctl pool status\" lists them; \"hybridctl pool activate %s\" activates it from %s).",
				name, name, tab_path);
		return -1;
	}
	snprintf(p->devt, sizeof(p->devt), "%u:%u", p->info.major,
		 p->info.minor);
	if (dm_target_of(name, 0, &t) || strcmp(t.type, "hybrid-pool") ||
	    hc_parse_pool_table(t.params, &p->tb)) {
		if (!quiet)
			ctl_err("device %s is not a dm-hybrid pool%s.", name,
				p->info.live_table ? "" : " (it has no table)");
		return -1;
	}
	p->len = t.len;
	if (dm_target_of(name, 1, &t) || hc_parse_pool_status(t.params, &p->st)) {
		ctl_err("cannot read the status of pool %s: \"%s\".", name, t.params);
		return -1;
	}
	return pool_list_volumes(p);
}

/* Every dm device that maps a volume, optionally of one pool only. */
static int list_voldevs(const char *pool_devt, struct voldev **out, u32 *n)
{
	struct dm_target_line t;
	struct voldev *v = NULL, d;
	char **names;
	u32 nn, i, cnt = 0;

	*out = NULL;
	*n = 0;
	if (dm_list_names(&names, &nn)) {
		ctl_err("cannot list device-mapper devices: %s.", dm_lasterr);
		return -1;
	}
	for (i = 0; i < nn; i++) {
		memset(&d, 0, sizeof(d));
		if (dm_target_of(names[i], 0, &t) || strcmp(t.type, "hybrid") ||
		    hc_parse_vol_table(t.params, d.pool_devt,
				       sizeof(d.pool_devt), &d.id))
			continue;
		if (pool_devt && strcmp(pool_devt, d.pool_devt))
			continue;
		snprintf(d.name, sizeof(d.name), "%s", names[i]);
		d.len = t.len;
		if (dm_info_of(names[i], &d.info) <= 0)
			continue;
		v = realloc(v, (cnt + 1) * sizeof(*v));
		if (!v)
			exit(1);
		v[cnt++] = d;
	}
	free_names(names, nn);
	*out = v;
	*n = cnt;
	return 0;
}

/* Names of the active pools (devices whose target is hybrid-pool). */
static int list_pools(char ***out, u32 *n)
{
	struct dm_target_line t;
	char **names, **v = NULL;
	u32 nn, i, cnt = 0;

	*out = NULL;
	*n = 0;
	if (dm_list_names(&names, &nn)) {
		ctl_err("cannot list device-mapper devices: %s.", dm_lasterr);
		return -1;
	}
	for (i = 0; i < nn; i++) {
		if (dm_target_of(names[i], 0, &t) ||
		    strcmp(t.type, "hybrid-pool"))
			continue;
		v = realloc(v, (cnt + 1) * sizeof(*v));
		if (!v)
			exit(1);
		v[cnt++] = strdup(names[i]);
	}
	free_names(names, nn);
	*out = v;
	*n = cnt;
	return 0;
}

/* A volume of @p by name or id, or NULL with an error. */
static struct hc_vol_info *find_vol(struct pool *p, const char *arg)
{
	u64 id;
	u32 i;

	for (i = 0; i < p->nr_vols; i++)
		if (!strcmp(p->vols[i].name, arg))
			return &p->vols[i];
	if (!hc_parse_u64(arg, &id))
		for (i = 0; i < p->nr_vols; i++)
			if (p->vols[i].id == id)
				return &p->vols[i];
	ctl_err("pool %s has no volume \"%s\" (\"hybridctl vol list %s\" lists them).",
		p->name, arg, p->name);
	return NULL;
}

/*
 * Open pool @pool and find its volume @vol (a name or an id): the first
 * steps of every "vol" command.  NULL (an error printed, nothing left to
 * free) when either does not exist.
 */
static struct hc_vol_info *pool_open_vol(const char *pool, const char *vol,
					 struct pool *p)
{
	struct hc_vol_info *v;

	if (pool_open(pool, p, 0))
		return NULL;
	v = find_vol(p, vol);
	if (!v)
		free_pool(p);
	return v;
}

/* The dm device name a volume gets: its name, or <pool>-<id> without. */
static void vol_devname(const struct pool *p, const struct hc_vol_info *v,
			char *buf, size_t len)
{
	if (v->name[0])
		snprintf(buf, len, "%s", v->name);
	else
		snprintf(buf, len, "%s-%u", p->name, v->id);
}

/* The device currently mapping volume @id of @p, if any (0 = found). */
static int vol_device(const struct pool *p, u32 id, struct voldev *out)
{
	struct voldev *v;
	u32 n, i;
	int r = -1;

	if (list_voldevs(p->devt, &v, &n))
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i].id == id) {
			*out = v[i];
			r = 0;
			break;
		}
	}
	free(v);
	return r;
}

static int vol_table(const struct pool *p, u32 id, char *buf, size_t len)
{
	return snprintf(buf, len, "%s %u", p->devt, id) >= (int)len ? -1 : 0;
}

/* ---- locking -------------------------------------------------------------- */

/* Serialise commands that change pools (picking a free id, the tab). */
static void lock_all(void)
{
	int fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		fd = open("/tmp/hybridctl.lock", O_RDWR | O_CREAT | O_CLOEXEC,
			  0600);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	/* the descriptor stays open, and locked, until we exit */
}

/* ---- pool commands --------------------------------------------------------- */

static int parse_chunk(const char *arg, u64 *cs)
{
	u64 b;

	if (hc_parse_size(arg, &b) || b % 512 || b / 512 < DMH_CHUNK_SECTORS_MIN ||
	    b / 512 > DMH_CHUNK_SECTORS_MAX || (b / 512 & (b / 512 - 1))) {
		ctl_err("chunk size \"%s\" must be a power of two from 64K to 64M (e.g. 1M).",
			arg);
		return -1;
	}
	*cs = b / 512;
	return 0;
}

static int tab_table_line(const struct hc_tab *e, char *buf, size_t n)
{
	char feat[128];

	hc_tab_features(e, feat, sizeof(feat));
	return snprintf(buf, n, "%s %s %s %llu %s", e->meta, e->ssd, e->hdd,
			(unsigned long long)e->chunk_sectors, feat) >= (int)n;
}

static int pool_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "metadata", required_argument, NULL, 'm' },
		{ "ssd", required_argument, NULL, 's' },
		{ "hdd", required_argument, NULL, 'd' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "error-if-no-space", no_argument, NULL, 'E' },
		{ "no-discard-passdown", no_argument, NULL, 'D' },
		{ "noauto", no_argument, NULL, 'N' },
		{ "wipe", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	struct hc_tab e;
	struct tab tab;
	struct pool p;
	u64 sz[3], need, chunk;
	char table[1024], a[32], b[32], c[32], d[32];
	dev_t dt[3];
	int ch, wipe = 0, kind, r, i;

	memset(&e, 0, sizeof(e));
	e.chunk_sectors = DMH_CHUNK_SECTORS_DEF;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "m:s:d:c:", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			snprintf(e.meta, sizeof(e.meta), "%s", optarg);
			break;
		case 's':
			snprintf(e.ssd, sizeof(e.ssd), "%s", optarg);
			break;
		case 'd':
			snprintf(e.hdd, sizeof(e.hdd), "%s", optarg);
			break;
		case 'c':
			if (parse_chunk(optarg, &e.chunk_sectors))
				return 2;
			break;
		case 'E':
			e.error_if_no_space = 1;
			break;
		case 'D':
			e.no_discard_passdown = 1;
			break;
		case 'N':
			e.noauto = 1;
			break;
		case 'W':
			wipe = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || !e.meta[0] || !e.ssd[0] || !e.hdd[0]) {
		ctl_err("usage: pool create NAME --metadata DEV --ssd DEV --hdd DEV [--chunk-size 1M] [--error-if-no-space] [--no-discard-passdown] [--noauto] [--wipe]");
		return 2;
	}
	if (!hc_valid_name(argv[optind])) {
		ctl_err("\"%s\" is not a valid pool name: use 1 to 63 letters, digits and _.+:@- (not only digits).",
			argv[optind]);
		return 2;
	}
	snprintf(e.name, sizeof(e.name), "%s", argv[optind]);
	lock_all();
	if (tab_read(&tab))
		return 1;
	if (tab_find(&tab, e.name)) {
		ctl_err("pool %s is already defined in %s; \"hybridctl pool activate %s\" activates it.",
			e.name, tab_path, e.name);
		free(tab.e);
		return 1;
	}
	free(tab.e);
	if (dm_info_of(e.name, NULL) > 0) {
		ctl_err("a device-mapper device named %s already exists.", e.name);
		return 1;
	}
	if (blk_size("metadata", e.meta, &sz[0]) ||
	    blk_size("SSD", e.ssd, &sz[1]) || blk_size("HDD", e.hdd, &sz[2]))
		return 1;
	blk_devt(e.meta, &dt[0]);
	blk_devt(e.ssd, &dt[1]);
	blk_devt(e.hdd, &dt[2]);
	if (dt[0] == dt[1] || dt[0] == dt[2] || dt[1] == dt[2]) {
		ctl_err("the metadata, SSD and HDD devices must be three different devices.");
		return 1;
	}
	if (blk_free("metadata", e.meta) || blk_free("SSD", e.ssd) ||
	    blk_free("HDD", e.hdd))
		return 1;
	chunk = e.chunk_sectors * 512;
	for (i = 1; i < 3; i++) {
		if (sz[i] < chunk) {
			ctl_err("the %s device %s (%s) is smaller than one chunk (%s).",
				i == 1 ? "SSD" : "HDD", i == 1 ? e.ssd : e.hdd,
				hc_format_size(sz[i], a, sizeof(a)),
				hc_format_size(chunk, b, sizeof(b)));
			return 1;
		}
	}
	/* the same arithmetic as the kernel and hybrid_metadata_size */
	need = dmh_layout_need(sz[1] / chunk, sz[2] / chunk) * DMH_BLOCK_SIZE;
	if (sz[0] < need) {
		ctl_err("metadata device %s is too small: it has %s, a pool with %s of SSD and %s of HDD in %s chunks needs at least %llu bytes (%s); see hybrid_metadata_size(8).",
			e.meta, hc_format_size(sz[0], a, sizeof(a)),
			hc_format_size(sz[1], b, sizeof(b)),
			hc_format_size(sz[2], c, sizeof(c)),
			hc_format_size(chunk, d, sizeof(d)), (unsigned long long)need,
			hc_format_size(need, table, sizeof(table)));
		return 1;
	}
	kind = md_kind(e.meta);
	if (kind < 0) {
		ctl_err("cannot read metadata device %s.", e.meta);
		return 1;
	}
	if (kind == 1 && !wipe) {
		ctl_err("metadata device %s already holds a dm-hybrid pool; add it to %s by hand to keep it, or pass --wipe to destroy it and start an empty pool.",
			e.meta, tab_path);
		return 1;
	}
	if (kind && !wipe) {
		ctl_err("metadata device %s is not blank (its first 8 KiB hold data); pass --wipe to overwrite it.",
			e.meta);
		return 1;
	}
	if (kind && md_wipe(e.meta)) {
		ctl_err("cannot clear metadata device %s: %s.", e.meta,
			strerror(errno));
		return 1;
	}
	if (need_module())
		return 1;
	tab_table_line(&e, table, sizeof(table));
	r = dm_load(DM_DEVICE_CREATE, e.name, sz[1] / 512 + sz[2] / 512,
		    "hybrid-pool", table);
	if (r) {
		op_fail(r, NULL, "the kernel refused to create pool %s", e.name);
		md_wipe(e.meta);
		return 1;
	}
	if (tab_update(&e, NULL)) {
		/* roll back: without the tab entry the pool would be lost */
		dm_simple(DM_DEVICE_REMOVE, e.name);
		md_wipe(e.meta);
		ctl_err("pool %s was not created.", e.name);
		return 1;
	}
	if (pool_open(e.name, &p, 0))
		return 1;
	ctl_info("Pool %s created: SSD %s (%llu chunks), HDD %s (%llu chunks), chunk size %s; recorded in %s.\n",
		 e.name, hc_format_size(sz[1], a, sizeof(a)),
		 (unsigned long long)p.st.total[0],
		 hc_format_size(sz[2], b, sizeof(b)),
		 (unsigned long long)p.st.total[1],
		 hc_format_size(chunk, c, sizeof(c)), tab_path);
	free_pool(&p);
	return 0;
}

static int dev_usable(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* Wait up to @secs for the devices of a tab entry to appear. */
static int wait_devices(const struct hc_tab *e, int secs)
{
	int i;

	for (i = 0; i <= secs * 10; i++) {
		/* a stale node of a removed device does not count */
		if (dev_usable(e->meta) && dev_usable(e->ssd) &&
		    dev_usable(e->hdd))
			return 0;
		if (i < secs * 10)
			usleep(100000);
	}
	return -1;
}

/* Map every volume of an active pool that has a size and no device yet. */
static int activate_volumes(struct pool *p, int quiet)
{
	struct voldev *devs, d;
	char dn[128], table[64];
	u32 nd, i, j;
	int bad = 0, r;

	if (list_voldevs(p->devt, &devs, &nd))
		return -1;
	for (i = 0; i < p->nr_vols; i++) {
		struct hc_vol_info *v = &p->vols[i];

		for (j = 0; j < nd && devs[j].id != v->id; j++)
			;
		if (j < nd)
			continue;	/* already mapped */
		if (!v->size) {
			if (!quiet)
				printf("  volume %u%s%s has size 0 and is not mapped\n",
				       v->id, v->name[0] ? " " : "", v->name);
			continue;
		}
		vol_devname(p, v, dn, sizeof(dn));
		if (dm_info_of(dn, NULL) > 0) {
			ctl_err("cannot map volume %s of pool %s: another device is already named %s.",
				dn, p->name, dn);
			bad = 1;
			continue;
		}
		vol_table(p, v->id, table, sizeof(table));
		r = dm_load(DM_DEVICE_CREATE, dn, v->size, "hybrid", table);
		if (r) {
			op_fail(r, NULL, "cannot map volume %s of pool %s", dn, p->name);
			bad = 1;
			continue;
		}
		if (!quiet)
			printf("  /dev/mapper/%s\n", dn);
	}
	free(devs);
	(void)d;
	return bad ? -1 : 0;
}

static int activate_one(const struct hc_tab *e, int wait)
{
	struct dm_target_line t;
	char table[1024];
	struct pool p;
	u64 s1, s2;
	int r, kind;

	if (dm_info_of(e->name, NULL) > 0) {
		if (pool_open(e->name, &p, 0))
			return -1;
		printf("Pool %s was already active.\n", e->name);
		r = activate_volumes(&p, 0);
		free_pool(&p);
		return r;
	}
	if (wait_devices(e, wait)) {
		ctl_err("pool %s: its devices %s, %s and %s did not all appear%s.",
			e->name, e->meta, e->ssd, e->hdd,
			wait ? " in time" : "");
		return -1;
	}
	kind = md_kind(e->meta);
	if (kind == 0) {
		ctl_err("pool %s: metadata device %s is blank; refusing to activate it, which would format an empty pool. If the path in %s is wrong, correct it; \"hybridctl pool create\" makes a new pool.",
			e->name, e->meta, tab_path);
		return -1;
	}
	if (kind != 1) {
		ctl_err("pool %s: metadata device %s holds no valid dm-hybrid superblock (check the path in %s; see hybrid_check(8)).",
			e->name, e->meta, tab_path);
		return -1;
	}
	if (blk_size("SSD", e->ssd, &s1) || blk_size("HDD", e->hdd, &s2))
		return -1;
	if (need_module())
		return -1;
	tab_table_line(e, table, sizeof(table));
	r = dm_load(DM_DEVICE_CREATE, e->name, s1 / 512 + s2 / 512,
		    "hybrid-pool", table);
	if (r) {
		op_fail(r, NULL, "cannot activate pool %s", e->name);
		return -1;
	}
	if (pool_open(e->name, &p, 0))
		return -1;
	printf("Pool %s activated (%llu volumes).\n", e->name,
	       (unsigned long long)p.nr_vols);
	r = activate_volumes(&p, 0);
	free_pool(&p);
	(void)t;
	return r;
}

static int deactivate_one(const char *name)
{
	struct voldev *devs;
	struct pool p;
	u32 n, i;
	int r, bad = 0;

	if (pool_open(name, &p, 1)) {
		if (dm_info_of(name, NULL) > 0) {
			ctl_err("device %s is not a dm-hybrid pool.", name);
			return -1;
		}
		printf("Pool %s is not active.\n", name);
		return 0;
	}
	free_pool(&p);
	if (list_voldevs(p.devt, &devs, &n))
		return -1;
	/* check first: a pool is deactivated completely or not at all */
	for (i = 0; i < n; i++) {
		if (devs[i].info.open_count) {
			ctl_err("cannot deactivate pool %s: volume %s (/dev/mapper/%s) is in use (open count %d); stop the VM or unmount it first.",
				name, devs[i].name, devs[i].name,
				devs[i].info.open_count);
			bad = 1;
		}
	}
	if (p.info.open_count > (int)n) {
		ctl_err("cannot deactivate pool %s: it is held open by something other than its volumes.",
			name);
		bad = 1;
	}
	for (i = 0; i < n && !bad; i++) {
		r = dm_simple(DM_DEVICE_REMOVE, devs[i].name);
		if (r) {
			op_fail(r, NULL, "cannot remove volume device %s", devs[i].name);
			bad = 1;
		}
	}
	free(devs);
	if (bad)
		return -1;
	r = dm_simple(DM_DEVICE_REMOVE, name);
	if (r) {
		op_fail(r, NULL, "cannot remove pool device %s", name);
		return -1;
	}
	printf("Pool %s deactivated (%u volume devices removed).\n", name, n);
	return 0;
}

/* Pools named on the command line, or every one (--all / none given). */
static int pool_activate(int argc, char **argv, int activate)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "wait", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct hc_tab *e;
	struct tab tab;
	char **act;
	u32 i, nact;
	int ch, all = 0, wait = 0, bad = 0;
	u64 w;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "aw:", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 'w':
			if (hc_parse_u64(optarg, &w) || w > 3600) {
				ctl_err("--wait takes a number of seconds.");
				return 2;
			}
			wait = (int)w;
			break;
		default:
			return 2;
		}
	}
	if (all ? optind < argc : optind >= argc) {
		ctl_err("usage: pool %s NAME... | --all%s",
			activate ? "activate" : "deactivate",
			activate ? " [--wait SECS]" : "");
		return 2;
	}
	lock_all();
	if (tab_read(&tab))
		return 1;
	if (activate) {
		if (all) {
			for (i = 0; i < tab.n; i++)
				if (!tab.e[i].noauto && activate_one(&tab.e[i], wait))
					bad = 1;
		}
		for (; optind < argc; optind++) {
			e = tab_find(&tab, argv[optind]);
			if (!e) {
				ctl_err("pool %s is not defined in %s.", argv[optind],
					tab_path);
				bad = 1;
			} else if (activate_one(e, wait)) {
				bad = 1;
			}
		}
	} else {
		if (all) {
			/* every active pool, whether in the tab or not */
			if (list_pools(&act, &nact))
				return 1;
			for (i = 0; i < nact; i++)
				if (deactivate_one(act[i]))
					bad = 1;
			free_names(act, nact);
		}
		for (; optind < argc; optind++)
			if (deactivate_one(argv[optind]))
				bad = 1;
	}
	free(tab.e);
	return bad;
}

static void print_pool(struct pool *p)
{
	static const char *const hist[] = { "4K", "16K", "64K", "256K", "1M",
					    ">1M" };
	char a[32], b[32], c[32];
	u64 cb = p->st.chunk_sectors * 512;
	u32 i;
	int t;

	(void)hist;
	printf("Pool %s (/dev/mapper/%s)\n", p->name, p->name);
	printf("  mode:        %s%s%s\n", p->st.mode,
	       p->st.out_of_space ? ", OUT OF SPACE" : "",
	       p->st.needs_check ? ", needs check" : "");
	printf("  devices:     metadata %s, SSD %s, HDD %s\n", p->tb.dev[0],
	       p->tb.dev[1], p->tb.dev[2]);
	printf("  features:    %s\n", p->st.nr_features ? p->st.features : "-");
	printf("  chunk size:  %s\n", hc_format_size(cb, a, sizeof(a)));
	for (t = 0; t < DMH_NR_TIERS; t++)
		printf("  %s:         %s used of %s (%llu of %llu chunks, %.0f%%)\n",
		       t ? "HDD" : "SSD",
		       hc_format_size(p->st.used[t] * cb, a, sizeof(a)),
		       hc_format_size(p->st.total[t] * cb, b, sizeof(b)),
		       (unsigned long long)p->st.used[t],
		       (unsigned long long)p->st.total[t],
		       p->st.total[t] ? 100.0 * (double)p->st.used[t] /
		       (double)p->st.total[t] : 0.0);
	printf("  metadata:    %s needed of %s\n",
	       hc_format_size(p->st.md_used * DMH_BLOCK_SIZE, a, sizeof(a)),
	       hc_format_size(p->st.md_total * DMH_BLOCK_SIZE, b, sizeof(b)));
	ctl_info("  migration:   %s, %llu promotions, %llu demotions (lifetime), %llu in flight, %s moved since activation\n",
		 p->st.migration_on ? "on" : "off",
		 (unsigned long long)p->st.promotions,
		 (unsigned long long)p->st.demotions,
		 (unsigned long long)p->st.inflight,
		 hc_format_size(p->st.moved * 512, c, sizeof(c)));
	printf("  knobs:      ");
	/* fields after the named knobs (newer kernels) are not shown */
	for (i = 0; i < p->st.nr_knobs && i < hc_nr_knob_names; i++)
		if (hc_knob_names[i])
			printf(" %s=%llu", hc_knob_names[i],
			       (unsigned long long)p->st.knobs[i]);
	printf("\n  volumes:     %llu\n", (unsigned long long)p->st.volumes);
}

static void print_vols(struct pool *p, int header)
{
	struct voldev *devs;
	char sz[32], ssd[32], dn[160];
	u64 cb = p->st.chunk_sectors * 512;
	u32 n, i, j;

	if (list_voldevs(p->devt, &devs, &n))
		return;
	if (header)
		printf("%-8s %-5s %-20s %9s %9s %6s %6s %-6s %8s %8s %s\n",
		       "POOL", "ID", "NAME", "SIZE", "ON SSD", "SSD%",
		       "WEIGHT", "PRIO", "SSD_MIN", "SSD_MAX", "DEVICE");
	for (i = 0; i < p->nr_vols; i++) {
		struct hc_vol_info *v = &p->vols[i];

		for (j = 0; j < n && devs[j].id != v->id; j++)
			;
		if (j < n)
			snprintf(dn, sizeof(dn), "/dev/mapper/%s%s", devs[j].name,
				 devs[j].info.open_count ? " (open)" : "");
		else
			snprintf(dn, sizeof(dn), "-");
		printf("%-8s %-5u %-20s %9s %9s %5.0f%% %6llu %-6s %8llu %8llu %s\n",
		       p->name, v->id, v->name[0] ? v->name : "-",
		       hc_format_size(v->size * 512, sz, sizeof(sz)),
		       hc_format_size(v->ssd * cb, ssd, sizeof(ssd)),
		       v->mapped ? 100.0 * (double)v->ssd / (double)v->mapped : 0.0,
		       (unsigned long long)v->weight, v->prio,
		       (unsigned long long)v->ssd_min,
		       (unsigned long long)v->ssd_max, dn);
	}
	free(devs);
}

static int pool_status(int argc, char **argv)
{
	struct pool p;
	char **names;
	u32 n, i;
	int bad = 0;

	if (argc > 1) {
		for (i = 1; i < (u32)argc; i++) {
			if (pool_open(argv[i], &p, 0)) {
				bad = 1;
				continue;
			}
			print_pool(&p);
			print_vols(&p, 1);
			free_pool(&p);
		}
		return bad;
	}
	if (list_pools(&names, &n))
		return 1;
	if (!n)
		printf("No dm-hybrid pool is active.\n");
	for (i = 0; i < n; i++) {
		if (pool_open(names[i], &p, 0)) {
			bad = 1;
			continue;
		}
		print_pool(&p);
		print_vols(&p, 1);
		free_pool(&p);
		if (i + 1 < n)
			printf("\n");
	}
	free_names(names, n);
	return bad;
}

/* Load @params as @name's table and resume; put @old back on failure. */
static int reload(const char *name, u64 len, const char *type,
		  const char *params, const struct dm_target_line *old)
{
	int r, r2;

	r = dm_load(DM_DEVICE_RELOAD, name, len, type, params);
	if (r)
		return r;
	r = dm_simple(DM_DEVICE_SUSPEND, name);
	if (!r)
		r = dm_simple(DM_DEVICE_RESUME, name);
	if (!r)
		return 0;
	{
		char saved[sizeof(kreason)];

		memcpy(saved, kreason, sizeof(saved));
		r2 = dm_load(DM_DEVICE_RELOAD, name, old->len, old->type,
			     old->params);
		if (!r2)
			r2 = dm_simple(DM_DEVICE_RESUME, name);
		if (r2)
			ctl_err("could not restore the previous table of %s (%s); it may be left suspended: check \"dmsetup info %s\".",
				name, errno_sentence(-r2), name);
		memcpy(kreason, saved, sizeof(saved));
	}
	return r;
}

static int pool_grow(int argc, char **argv)
{
	struct dm_target_line old;
	struct pool p;
	u64 s1, s2, len;
	char a[32], b[32];
	int r;

	if (argc != 2) {
		ctl_err("usage: pool grow NAME");
		return 2;
	}
	lock_all();
	if (pool_open(argv[1], &p, 0))
		return 1;
	free_pool(&p);
	if (dm_target_of(p.name, 0, &old))
		return 1;
	{
		/* sizes of the devices the table names, from sysfs */
		char path[64];
		u64 *sz[2] = { &s1, &s2 };
		FILE *f;
		int t, ok;

		for (t = 0; t < 2; t++) {
			snprintf(path, sizeof(path), "/sys/dev/block/%s/size",
				 p.tb.dev[t + 1]);
			f = fopen(path, "re");
			ok = f && fscanf(f, "%llu", (unsigned long long *)sz[t]) == 1;
			if (f)
				fclose(f);
			if (!ok) {
				ctl_err("cannot read the size of %s device %s.",
					t ? "HDD" : "SSD", p.tb.dev[t + 1]);
				return 1;
			}
			*sz[t] *= 512;
		}
	}
	len = s1 / 512 + s2 / 512;
	if (s1 / 512 / p.st.chunk_sectors == p.st.total[0] &&
	    s2 / 512 / p.st.chunk_sectors == p.st.total[1]) {
		ctl_info("Nothing to grow: the SSD (%s) and HDD (%s) have not grown by a whole chunk.\n",
			 hc_format_size(s1, a, sizeof(a)),
			 hc_format_size(s2, b, sizeof(b)));
		return 0;
	}
	/* the table line keeps the devices, chunk size and features */
	r = reload(p.name, len, "hybrid-pool", old.params, &old);
	if (r) {
		op_fail(r, NULL, "cannot grow pool %s", p.name);
		return 1;
	}
	if (pool_open(argv[1], &p, 0))
		return 1;
	printf("Pool %s grown: SSD %llu chunks, HDD %llu chunks.\n", p.name,
	       (unsigned long long)p.st.total[0],
	       (unsigned long long)p.st.total[1]);
	free_pool(&p);
	return 0;
}

static int pool_set(int argc, char **argv)
{
	struct pool p;
	u64 v;
	u32 i;
	int r;

	if (argc != 4) {
		ctl_err("usage: pool set NAME KNOB VALUE   (knobs: migration on|off, migration_rate, hysteresis, heat_half_life, ssd_reserve, seq_cutoff, promote_threshold, promote_free_threshold, tick_ms, ...)");
		return 2;
	}
	if (pool_open(argv[1], &p, 0))
		return 1;
	free_pool(&p);
	if (!strcmp(argv[2], "migration")) {
		if (strcmp(argv[3], "on") && strcmp(argv[3], "off")) {
			ctl_err("migration is on or off.");
			return 2;
		}
		r = dm_msg(p.name, NULL, "migration %s", argv[3]);
	} else {
		for (i = 0; i < hc_nr_knob_names; i++)
			if (hc_knob_names[i] &&
			    !strcmp(argv[2], hc_knob_names[i]))
				break;
		if (hc_parse_u64(argv[3], &v)) {
			ctl_err("the value of %s must be a whole number.", argv[2]);
			return 2;
		}
		r = dm_msg(p.name, NULL, "set %s %llu", argv[2],
			   (unsigned long long)v);
		if (r == -EINVAL && i < hc_nr_knob_names) {
			ctl_err("pool %s refused %s=%s: the value is out of range (see dm-hybrid(4), \"set\").",
				p.name, argv[2], argv[3]);
			err_reason();
			return 1;
		}
		if (r == -EINVAL) {
			ctl_err("pool %s has no knob \"%s\".", p.name, argv[2]);
			err_reason();
			return 1;
		}
	}
	if (r) {
		op_fail(r, NULL, "cannot set %s on pool %s", argv[2], p.name);
		return 1;
	}
	return 0;
}

/* Deactivate a pool and drop it from the tab; --wipe clears its metadata. */
static int pool_remove(int argc, char **argv)
{
	struct hc_tab *e;
	struct tab tab;
	int wipe = argc == 3 && !strcmp(argv[2], "--wipe");

	if (argc != 2 && !wipe) {
		ctl_err("usage: pool remove NAME [--wipe]");
		return 2;
	}
	lock_all();
	if (tab_read(&tab))
		return 1;
	e = tab_find(&tab, argv[1]);
	if (!e) {
		ctl_err("pool %s is not defined in %s.", argv[1], tab_path);
		free(tab.e);
		return 1;
	}
	if (deactivate_one(argv[1]) || tab_update(NULL, argv[1])) {
		free(tab.e);
		return 1;
	}
	if (wipe && md_kind(e->meta) == 1 && md_wipe(e->meta)) {
		ctl_err("pool %s was removed from %s, but its metadata device %s could not be cleared.",
			argv[1], tab_path, e->meta);
		free(tab.e);
		return 1;
	}
	ctl_info("Pool %s removed from %s%s.\n", argv[1], tab_path,
		 wipe ? "; its metadata was wiped and its volumes are gone" :
		 "; its metadata is intact");
	free(tab.e);
	return 0;
}

static int cmd_pool(int argc, char **argv)
{
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "create"))
		return pool_create(argc - 1, argv + 1);
	if (!strcmp(argv[1], "activate"))
		return pool_activate(argc - 1, argv + 1, 1);
	if (!strcmp(argv[1], "deactivate"))
		return pool_activate(argc - 1, argv + 1, 0);
	if (!strcmp(argv[1], "status"))
		return pool_status(argc - 1, argv + 1);
	if (!strcmp(argv[1], "grow"))
		return pool_grow(argc - 1, argv + 1);
	if (!strcmp(argv[1], "set"))
		return pool_set(argc - 1, argv + 1);
	if (!strcmp(argv[1], "remove"))
		return pool_remove(argc - 1, argv + 1);
usage:
	ctl_err("usage: pool create|activate|deactivate|status|grow|set|remove ...; see hybridctl(8).");
	return 2;
}

/* ---- volume commands -------------------------------------------------------- */

/* A size for a volume: whole sectors, not 0. */
static int vol_size_arg(const char *arg, u64 *sectors)
{
	u64 b;

	if (hc_parse_size(arg, &b) || !b) {
		ctl_err("\"%s\" is not a size (use K, M, G or T, e.g. 20G).", arg);
		return -1;
	}
	if (b % 512) {
		ctl_err("%s is not a whole number of 512-byte sectors (a plain number is in bytes; give a unit, e.g. %sG).",
			arg, arg);
		return -1;
	}
	*sectors = b / 512;
	return 0;
}

/* ssd_min / ssd_max: a size (rounded up to chunks) or "<n>c" chunks. */
static int chunks_arg(const struct pool *p, const char *arg, u64 *chunks)
{
	size_t n = strlen(arg);
	char buf[64];
	u64 b, cb = p->st.chunk_sectors * 512;

	if (n && n < sizeof(buf) && arg[n - 1] == 'c') {
		memcpy(buf, arg, n - 1);
		buf[n - 1] = '\0';
		if (!hc_parse_u64(buf, chunks))
			return 0;
	}
	if (!hc_parse_size(arg, &b)) {
		*chunks = (b + cb - 1) / cb;
		return 0;
	}
	ctl_err("\"%s\" is not a size (e.g. 4G) or a number of chunks (e.g. 100c).",
		arg);
	return -1;
}

/* set_volume KEY VALUE with an admin-readable error. */
/* set_volume KEY VALUE; with @dry, only check KEY and VALUE. */
static int vol_set_one(struct pool *p, struct hc_vol_info *v,
		       const char *key, const char *val, int dry)
{
	u64 n;
	int r;

	if (!strcmp(key, "weight")) {
		if (hc_parse_u64(val, &n) || n < 1 || n > 1000) {
			ctl_err("weight must be a number from 1 to 1000 (default 100).");
			return -1;
		}
		if (dry)
			return 0;
		r = dm_msg(p->name, NULL, "set_volume %u weight %llu", v->id,
			   (unsigned long long)n);
	} else if (!strcmp(key, "priority")) {
		if (strcmp(val, "low") && strcmp(val, "normal") &&
		    strcmp(val, "high")) {
			ctl_err("priority is low, normal or high.");
			return -1;
		}
		if (dry)
			return 0;
		r = dm_msg(p->name, NULL, "set_volume %u priority %s", v->id, val);
	} else if (!strcmp(key, "ssd_min") || !strcmp(key, "ssd_max")) {
		if (chunks_arg(p, val, &n))
			return -1;
		if (dry)
			return 0;
		r = dm_msg(p->name, NULL, "set_volume %u %s %llu", v->id, key,
			   (unsigned long long)n);
	} else if (!strcmp(key, "name")) {
		if (strcmp(val, "-") && !hc_valid_name(val)) {
			ctl_err("\"%s\" is not a valid volume name: use 1 to 63 letters, digits and _.+:@- (not only digits).",
				val);
			return -1;
		}
		if (dry)
			return 0;
		r = dm_msg(p->name, NULL, "set_volume %u name %s", v->id, val);
		if (r == -EEXIST) {
			ctl_err("pool %s already has a volume named %s.", p->name, val);
			return -1;
		}
	} else {
		ctl_err("unknown volume setting \"%s\" (weight, priority, ssd_min, ssd_max, name).",
			key);
		return -1;
	}
	if (r) {
		op_fail(r, NULL, "pool %s refused %s=%s for volume %u", p->name,
			key, val, v->id);
		return -1;
	}
	return 0;
}

/*
 * The kernel refuses an ssd_min above a non-zero ssd_max at every step.
 * @kv holds @n key/value pairs.  Check the pair they leave and, when both
 * limits are given, return in @last the one to send after the others so
 * that every step is valid (the other first).  Returns -1 after telling
 * the admin when the pair can never be valid.
 */
static int ssd_last(const struct pool *p, const struct hc_vol_info *v,
		    const char *const *kv, int n, int *last)
{
	u64 mn = v->ssd_min, mx = v->ssd_max, x;
	int i, imin = -1, imax = -1;
	char a[32], b[32];

	*last = -1;
	for (i = 0; i < n; i++) {
		if (strcmp(kv[2 * i], "ssd_min") && strcmp(kv[2 * i], "ssd_max"))
			continue;
		if (chunks_arg(p, kv[2 * i + 1], &x))
			return -1;
		if (!strcmp(kv[2 * i], "ssd_min")) {
			mn = x;
			imin = i;
		} else {
			mx = x;
			imax = i;
		}
	}
	if (mx && mn > mx) {
		ctl_err("ssd_min (%s) cannot be above ssd_max (%s); ssd_max 0 means no cap.",
			hc_format_size(mn * p->st.chunk_sectors * 512, a, sizeof(a)),
			hc_format_size(mx * p->st.chunk_sectors * 512, b, sizeof(b)));
		return -1;
	}
	if (imin >= 0 && imax >= 0)
		*last = !mx || mx >= v->ssd_min ? imin : imax;
	return 0;
}

static int vol_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "weight", required_argument, NULL, 'w' },
		{ "priority", required_argument, NULL, 'p' },
		{ "ssd-min", required_argument, NULL, 'n' },
		{ "ssd-max", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	const char *set[8][2] = { { NULL } };
	struct hc_vol_info nv;
	char table[64], a[32];
	struct pool p;
	u64 id = ~0ull, size;
	int ch, r, nset = 0, i, last;
	u32 j;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "i:", opts, NULL)) != -1) {
		if (nset == 8) {
			ctl_err("too many settings.");
			return 2;
		}
		switch (ch) {
		case 'i':
			if (hc_parse_u64(optarg, &id) || id > DMH_VOLUME_ID_MAX) {
				ctl_err("--id takes a volume id from 0 to %u.",
					DMH_VOLUME_ID_MAX);
				return 2;
			}
			break;
		case 'w':
			set[nset][0] = "weight";
			set[nset++][1] = optarg;
			break;
		case 'p':
			set[nset][0] = "priority";
			set[nset++][1] = optarg;
			break;
		case 'n':
			set[nset][0] = "ssd_min";
			set[nset++][1] = optarg;
			break;
		case 'x':
			set[nset][0] = "ssd_max";
			set[nset++][1] = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind + 3 != argc) {
		ctl_err("usage: vol create POOL NAME SIZE [--id N] [--weight W] [--priority low|normal|high] [--ssd-min SIZE] [--ssd-max SIZE]");
		return 2;
	}
	if (!hc_valid_name(argv[optind + 1])) {
		ctl_err("\"%s\" is not a valid volume name: use 1 to 63 letters, digits and _.+:@- (not only digits).",
			argv[optind + 1]);
		return 2;
	}
	if (vol_size_arg(argv[optind + 2], &size))
		return 2;
	lock_all();
	if (pool_open(argv[optind], &p, 0))
		return 1;
	for (j = 0; j < p.nr_vols; j++) {
		if (!strcmp(p.vols[j].name, argv[optind + 1])) {
			ctl_err("pool %s already has a volume named %s (id %u).",
				p.name, argv[optind + 1], p.vols[j].id);
			goto fail;
		}
		if (p.vols[j].id == id) {
			ctl_err("pool %s already has a volume with id %llu.", p.name,
				(unsigned long long)id);
			goto fail;
		}
	}
	if (dm_info_of(argv[optind + 1], NULL) > 0) {
		ctl_err("a device-mapper device named %s already exists; choose another name.",
			argv[optind + 1]);
		goto fail;
	}
	if (p.nr_vols >= DMH_MAX_VOLUMES) {
		ctl_err("pool %s already has the maximum of %u volumes.", p.name,
			DMH_MAX_VOLUMES);
		goto fail;
	}
	memset(&nv, 0, sizeof(nv));
	if (id == ~0ull) {
		/* the smallest free id from 1 (ids are sorted in the reply) */
		for (id = 1;; id++) {
			for (j = 0; j < p.nr_vols && p.vols[j].id != id; j++)
				;
			if (j == p.nr_vols)
				break;
		}
	}
	for (i = 0; i < nset; i++)	/* refuse bad settings before creating */
		if (vol_set_one(&p, &nv, set[i][0], set[i][1], 1))
			goto fail;
	if (ssd_last(&p, &nv, &set[0][0], nset, &last))
		goto fail;
	nv.id = (u32)id;
	r = dm_msg(p.name, NULL, "create_volume %llu", (unsigned long long)id);
	if (r) {
		op_fail(r, r == -EEXIST ? "a volume with that id exists" : NULL,
			"pool %s cannot create volume %llu", p.name,
			(unsigned long long)id);
		goto fail;
	}
	/* from here on, undo create_volume on any failure */
	if (vol_set_one(&p, &nv, "name", argv[optind + 1], 0))
		goto undo;
	for (i = 0; i < nset; i++)
		if (i != last && vol_set_one(&p, &nv, set[i][0], set[i][1], 0))
			goto undo;
	if (last >= 0 && vol_set_one(&p, &nv, set[last][0], set[last][1], 0))
		goto undo;
	vol_table(&p, nv.id, table, sizeof(table));
	r = dm_load(DM_DEVICE_CREATE, argv[optind + 1], size, "hybrid", table);
	if (r) {
		op_fail(r, NULL, "cannot create device %s for the new volume",
			argv[optind + 1]);
		goto undo;
	}
	printf("Volume %s created in pool %s: id %u, %s, /dev/mapper/%s\n",
	       argv[optind + 1], p.name, nv.id,
	       hc_format_size(size * 512, a, sizeof(a)), argv[optind + 1]);
	free_pool(&p);
	return 0;
undo:
	if (!undo_msg(p.name, "delete_volume %u", nv.id))
		ctl_err("volume %s was not created.", argv[optind + 1]);
fail:
	free_pool(&p);
	return 1;
}

/*
 * The kernel refuses delete_volume (EBUSY) while one of the volume's chunks
 * is being copied between the tiers.  With its device gone no new I/O
 * comes, and a copy takes milliseconds to seconds: ask again for up to
 * DELETE_WAIT_S before giving up.
 */
#define DELETE_WAIT_S 30

static int delete_when_settled(const struct pool *p, u32 id, const char *vol)
{
	int r, tries = DELETE_WAIT_S * 4;

	while ((r = dm_msg(p->name, NULL, "delete_volume %u", id)) == -EBUSY &&
	       --tries > 0) {
		if (tries == DELETE_WAIT_S * 4 - 1)
			printf("Volume %s is busy (chunks being migrated); waiting up to %d s.\n",
			       vol, DELETE_WAIT_S);
		usleep(250000);
	}
	return r;
}

static int vol_delete(int argc, char **argv)
{
	struct dm_target_line old;
	struct hc_vol_info *v;
	struct voldev d;
	struct pool p;
	int r, had_dev;

	if (argc != 3) {
		ctl_err("usage: vol delete POOL VOLUME");
		return 2;
	}
	lock_all();
	v = pool_open_vol(argv[1], argv[2], &p);
	if (!v)
		return 1;
	had_dev = !vol_device(&p, v->id, &d);
	if (had_dev) {
		if (d.info.open_count) {
			ctl_err("volume %s (/dev/mapper/%s) is in use (open count %d); stop the VM or unmount it first.",
				argv[2], d.name, d.info.open_count);
			goto fail;
		}
		if (dm_target_of(d.name, 0, &old))
			goto fail;
		r = dm_simple(DM_DEVICE_REMOVE, d.name);
		if (r) {
			op_fail(r, NULL, "cannot remove device %s", d.name);
			goto fail;
		}
	}
	r = delete_when_settled(&p, v->id, argv[2]);
	if (r) {
		op_fail(r, r == -EBUSY ?
			"a device still maps it, or its chunks are being migrated; try again" :
			NULL, "pool %s cannot delete volume %s", p.name, argv[2]);
		if (had_dev && dm_load(DM_DEVICE_CREATE, d.name, old.len,
				       old.type, old.params))
			ctl_err("and could not recreate its device %s.", d.name);
		goto fail;
	}
	printf("Volume %s deleted from pool %s.\n", argv[2], p.name);
	free_pool(&p);
	return 0;
fail:
	free_pool(&p);
	return 1;
}

static int vol_list(int argc, char **argv)
{
	struct pool p;
	char **names;
	u32 n, i;
	int bad = 0, header = 1;

	if (argc > 1) {
		for (i = 1; i < (u32)argc; i++) {
			if (pool_open(argv[i], &p, 0)) {
				bad = 1;
				continue;
			}
			print_vols(&p, header);
			header = 0;
			free_pool(&p);
		}
		return bad;
	}
	if (list_pools(&names, &n))
		return 1;
	for (i = 0; i < n; i++) {
		if (pool_open(names[i], &p, 0)) {
			bad = 1;
			continue;
		}
		print_vols(&p, header);
		header = 0;
		free_pool(&p);
	}
	if (!n)
		printf("No dm-hybrid pool is active.\n");
	free_names(names, n);
	return bad;
}

static int vol_resize(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shrink", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct dm_target_line old;
	struct hc_vol_info *v;
	struct voldev d;
	struct pool p;
	const char *arg;
	char a[32], b[32];
	u64 size;
	int ch, shrink = 0, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 's')
			return 2;
		shrink = 1;
	}
	if (optind + 3 != argc) {
		ctl_err("usage: vol resize POOL VOLUME [+]SIZE [--shrink]");
		return 2;
	}
	arg = argv[optind + 2];
	if (vol_size_arg(arg[0] == '+' ? arg + 1 : arg, &size))
		return 2;
	lock_all();
	v = pool_open_vol(argv[optind], argv[optind + 1], &p);
	if (!v)
		return 1;
	if (vol_device(&p, v->id, &d)) {
		ctl_err("volume %s has no active device; \"hybridctl pool activate %s\" maps it.",
			argv[optind + 1], p.name);
		goto fail;
	}
	if (dm_target_of(d.name, 0, &old))
		goto fail;
	if (arg[0] == '+')
		size += old.len;
	if (size == old.len) {
		printf("Volume %s is already %s.\n", argv[optind + 1],
		       hc_format_size(size * 512, a, sizeof(a)));
		free_pool(&p);
		return 0;
	}
	if (size < old.len && !shrink) {
		ctl_err("%s is smaller than volume %s (%s): shrinking discards the data at its end; pass --shrink if that is what you want.",
			hc_format_size(size * 512, a, sizeof(a)), argv[optind + 1],
			hc_format_size(old.len * 512, b, sizeof(b)));
		goto fail;
	}
	r = reload(d.name, size, "hybrid", old.params, &old);
	if (r) {
		op_fail(r, NULL, "cannot resize volume %s", argv[optind + 1]);
		if (size < old.len && !ktable)
			ctl_err("a volume shrinks only when no chunk beyond the new end is mapped; discard that range first.");
		goto fail;
	}
	printf("Volume %s resized from %s to %s.\n", argv[optind + 1],
	       hc_format_size(old.len * 512, a, sizeof(a)),
	       hc_format_size(size * 512, b, sizeof(b)));
	free_pool(&p);
	return 0;
fail:
	free_pool(&p);
	return 1;
}

static int vol_set(int argc, char **argv)
{
	struct hc_vol_info *v;
	struct voldev d;
	struct pool p;
	char oldname[DMH_NAME_LEN];
	int i, r, last;
	u32 j;

	if (argc < 5 || (argc - 3) % 2) {
		ctl_err("usage: vol set POOL VOLUME KEY VALUE [KEY VALUE...]   (weight, priority, ssd_min, ssd_max, name)");
		return 2;
	}
	lock_all();
	v = pool_open_vol(argv[1], argv[2], &p);
	if (!v)
		return 1;
	/* check every setting first: all of them are applied, or none */
	for (i = 3; i < argc; i += 2)
		if (vol_set_one(&p, v, argv[i], argv[i + 1], 1))
			goto fail;
	if (ssd_last(&p, v, (const char *const *)argv + 3, (argc - 3) / 2,
		     &last))
		goto fail;
	for (i = 3; i < argc; i += 2) {
		if (i == 3 + 2 * last)
			continue;
		if (strcmp(argv[i], "name")) {
			if (vol_set_one(&p, v, argv[i], argv[i + 1], 0))
				goto fail;
			continue;
		}
		/* a rename renames the device too, or neither */
		if (!strcmp(argv[i + 1], "-")) {
			ctl_err("hybridctl does not clear volume names (the device is named after the volume); rename it instead.");
			goto fail;
		}
		snprintf(oldname, sizeof(oldname), "%s", v->name);
		for (j = 0; j < p.nr_vols; j++) {
			if (&p.vols[j] != v &&
			    !strcmp(p.vols[j].name, argv[i + 1])) {
				ctl_err("pool %s already has a volume named %s.",
					p.name, argv[i + 1]);
				goto fail;
			}
		}
		if (!vol_device(&p, v->id, &d) &&
		    dm_info_of(argv[i + 1], NULL) > 0) {
			ctl_err("a device-mapper device named %s already exists.",
				argv[i + 1]);
			goto fail;
		}
		if (vol_set_one(&p, v, "name", argv[i + 1], 0))
			goto fail;
		if (!vol_device(&p, v->id, &d) && strcmp(d.name, argv[i + 1])) {
			r = dm_rename_dev(d.name, argv[i + 1]);
			if (r) {
				op_fail(r, NULL, "cannot rename device %s to %s", d.name,
					argv[i + 1]);
				undo_msg(p.name, "set_volume %u name %s", v->id,
					 oldname[0] ? oldname : "-");
				goto fail;
			}
		}
		snprintf(v->name, sizeof(v->name), "%s", argv[i + 1]);
	}
	if (last >= 0 && vol_set_one(&p, v, argv[3 + 2 * last],
				     argv[4 + 2 * last], 0))
		goto fail;
	free_pool(&p);
	return 0;
fail:
	free_pool(&p);
	return 1;
}

static int vol_pin(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "start", required_argument, NULL, 's' },
		{ "length", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct hc_vol_info *v;
	struct pool p;
	const char *sarg = NULL, *larg = NULL;
	u64 start = 0, len = 0;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's')
			sarg = optarg;
		else if (ch == 'l')
			larg = optarg;
		else
			return 2;
	}
	if (optind + 3 != argc || (strcmp(argv[optind + 2], "ssd") &&
				   strcmp(argv[optind + 2], "hdd") &&
				   strcmp(argv[optind + 2], "auto"))) {
		ctl_err("usage: vol pin POOL VOLUME ssd|hdd|auto [--start OFFSET] [--length SIZE]");
		return 2;
	}
	if ((sarg && (hc_parse_size(sarg, &start) || start % 512)) ||
	    (larg && (hc_parse_size(larg, &len) || len % 512 || !len))) {
		ctl_err("--start and --length take sizes in whole sectors (e.g. 0, 1G, 512M).");
		return 2;
	}
	start /= 512;
	len /= 512;
	lock_all();
	v = pool_open_vol(argv[optind], argv[optind + 1], &p);
	if (!v)
		return 1;
	if (!larg)
		len = v->size > start ? v->size - start : 0;
	if (!len || start + len > v->size) {
		ctl_err("the range to pin must lie within volume %s (%llu sectors).",
			argv[optind + 1], (unsigned long long)v->size);
		goto fail;
	}
	r = dm_msg(p.name, NULL, "pin %u %llu %llu %s", v->id,
		   (unsigned long long)start, (unsigned long long)len,
		   argv[optind + 2]);
	if (r) {
		op_fail(r, r == -ENOSPC ?
			"the volume would have more than 8 pinned ranges" : NULL,
			"pool %s cannot pin that range", p.name);
		goto fail;
	}
	free_pool(&p);
	return 0;
fail:
	free_pool(&p);
	return 1;
}

static int cmd_vol(int argc, char **argv)
{
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "create"))
		return vol_create(argc - 1, argv + 1);
	if (!strcmp(argv[1], "delete"))
		return vol_delete(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return vol_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "resize"))
		return vol_resize(argc - 1, argv + 1);
	if (!strcmp(argv[1], "set"))
		return vol_set(argc - 1, argv + 1);
	if (!strcmp(argv[1], "pin"))
		return vol_pin(argc - 1, argv + 1);
usage:
	ctl_err("usage: vol create|delete|list|resize|set|pin ...; see hybridctl(8).");
	return 2;
}

/* ---- stats ---------------------------------------------------------------------- */

struct sample_vol {
	char dev[128];
	char pool[128];
	char name[DMH_NAME_LEN];
	u32 id;
	u64 size, chunk_sectors;
	struct hc_vol_status st;
	int ok;
	struct hctl_xen_vbd xen;	/* the Xen guest using it, in a Dom0 */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Which volume devices to watch: all, or those named (volume or device). */
static int stats_targets(const char *pool, char **want, int nwant,
			 struct sample_vol **out, u32 *n)
{
	struct sample_vol *sv = NULL;
	struct voldev *devs;
	char **pools;
	struct pool p;
	u32 np, nd, i, j, k, cnt = 0;
	int w, bad = 0, *seen = calloc(nwant + 1, sizeof(int));

	if (list_pools(&pools, &np))
		return -1;
	for (i = 0; i < np; i++) {
		if (pool && strcmp(pool, pools[i]))
			continue;
		if (pool_open(pools[i], &p, 0))
			continue;
		if (list_voldevs(p.devt, &devs, &nd)) {
			free_pool(&p);
			continue;
		}
		for (j = 0; j < nd; j++) {
			struct hc_vol_info *v = NULL;

			for (k = 0; k < p.nr_vols; k++)
				if (p.vols[k].id == devs[j].id)
					v = &p.vols[k];
			for (w = 0; w < nwant; w++)
				if (!strcmp(want[w], devs[j].name) ||
				    (v && !strcmp(want[w], v->name)))
					break;
			if (nwant && w == nwant)
				continue;
			if (nwant)
				seen[w] = 1;
			sv = realloc(sv, (cnt + 1) * sizeof(*sv));
			if (!sv)
				exit(1);
			memset(&sv[cnt], 0, sizeof(*sv));
			snprintf(sv[cnt].dev, sizeof(sv[cnt].dev), "%s",
				 devs[j].name);
			snprintf(sv[cnt].pool, sizeof(sv[cnt].pool), "%s",
				 pools[i]);
			if (v)
				snprintf(sv[cnt].name, sizeof(sv[cnt].name), "%s",
					 v->name);
			sv[cnt].id = devs[j].id;
			sv[cnt].size = devs[j].len;
			sv[cnt].chunk_sectors = p.st.chunk_sectors;
			hctl_xen_lookup(devs[j].info.major, devs[j].info.minor,
					&sv[cnt].xen);
			cnt++;
		}
		free(devs);
		free_pool(&p);
	}
	free_names(pools, np);
	for (w = 0; w < nwant; w++) {
		if (!seen[w]) {
			ctl_err("no active volume named %s%s%s.", want[w],
				pool ? " in pool " : "", pool ? pool : "");
			bad = 1;
		}
	}
	free(seen);
	*out = sv;
	*n = cnt;
	return bad ? -1 : 0;
}

static void sample(struct sample_vol *sv, u32 n)
{
	struct dm_target_line t;
	u32 i;

	for (i = 0; i < n; i++)
		sv[i].ok = !dm_target_of(sv[i].dev, 1, &t) &&
			   !strcmp(t.type, "hybrid") &&
			   !hc_parse_vol_status(t.params, &sv[i].st);
}

static void print_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static void stats_print(struct sample_vol *a, struct sample_vol *b, u32 n,
			double secs, int json)
{
	struct hc_stats st;
	char sz[32], ssd[32], hit[16], xen[96];
	u32 i, shown;

	if (json) {
		printf("{\"interval_s\": %.3f, \"volumes\": [", secs);
		for (i = 0, shown = 0; i < n; i++) {
			if (!a[i].ok || !b[i].ok)
				continue;
			hc_stats_compute(&a[i].st, &b[i].st, secs,
					 b[i].chunk_sectors, &st);
			printf("%s\n{\"device\": ", shown++ ? "," : "");
			print_json_str(b[i].dev);
			printf(", \"name\": ");
			if (b[i].name[0])
				print_json_str(b[i].name);
			else
				printf("null");
			printf(", \"pool\": ");
			print_json_str(b[i].pool);
			ctl_info(", \"id\": %u, \"size_bytes\": %llu, \"iops\": %.1f, \"mib_s\": %.2f, \"read_pct\": %.1f, \"req_kib\": %.1f, \"seq_pct\": %.1f, \"mapped_chunks\": %llu, \"ssd_chunks\": %llu, \"hdd_chunks\": %llu, \"ssd_residency_pct\": %.1f, \"ssd_bytes\": %llu, \"ssd_hit_pct\": ",
				 b[i].id, (unsigned long long)b[i].size * 512,
				 st.iops, st.mibs, st.read_pct, st.req_kib,
				 st.seq_pct, (unsigned long long)b[i].st.mapped,
				 (unsigned long long)b[i].st.ssd,
				 (unsigned long long)b[i].st.hdd,
				 st.residency_pct,
				 (unsigned long long)st.ssd_bytes);
			if (st.hit_pct < 0)
				printf("null");
			else
				printf("%.1f", st.hit_pct);
			ctl_info(", \"promotions\": %llu, \"demotions\": %llu, \"weight\": %llu, \"priority\": \"%s\"",
				 (unsigned long long)st.prom,
				 (unsigned long long)st.dem,
				 (unsigned long long)b[i].st.weight, b[i].st.prio);
			hctl_xen_json(stdout, &b[i].xen);
			putchar('}');
		}
		printf("\n]}\n");
		fflush(stdout);
		return;
	}
	for (i = 0, shown = 0; i < n; i++)	/* a Xen column in a Dom0 */
		shown |= b[i].xen.found;
	printf("%-16s %-8s %8s %8s %8s %6s %7s %5s %8s %6s %6s %6s %6s%s\n",
	       "VOLUME", "POOL", "SIZE", "IOPS", "MiB/s", "READ%", "REQ KiB",
	       "SEQ%", "ON SSD", "SSD%", "HIT%", "PROM", "DEM",
	       shown ? " XEN GUEST" : "");
	for (i = 0; i < n; i++) {
		if (!a[i].ok || !b[i].ok) {
			printf("%-16s %-8s (status unavailable)\n", b[i].dev,
			       b[i].pool);
			continue;
		}
		hc_stats_compute(&a[i].st, &b[i].st, secs, b[i].chunk_sectors,
				 &st);
		if (st.hit_pct < 0)
			snprintf(hit, sizeof(hit), "-");
		else
			snprintf(hit, sizeof(hit), "%.0f", st.hit_pct);
		printf("%-16s %-8s %8s %8.0f %8.1f %6.0f %7.1f %5.0f %8s %6.0f %6s %6llu %6llu",
		       b[i].name[0] ? b[i].name : b[i].dev, b[i].pool,
		       hc_format_size(b[i].size * 512, sz, sizeof(sz)), st.iops,
		       st.mibs, st.read_pct, st.req_kib, st.seq_pct,
		       hc_format_size(st.ssd_bytes, ssd, sizeof(ssd)),
		       st.residency_pct, hit, (unsigned long long)st.prom,
		       (unsigned long long)st.dem);
		if (shown)
			printf(" %s", hctl_xen_label(&b[i].xen, xen, sizeof(xen)));
		putchar('\n');
	}
	fflush(stdout);
}

static sig_atomic_t stop;	/* read after each sleep, a call */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int interval_arg(const char *arg, double *secs)
{
	char *end;

	*secs = strtod(arg, &end);
	if (*end || *secs < 0.1 || *secs > 3600) {
		ctl_err("the interval is a number of seconds from 0.1 to 3600.");
		return -1;
	}
	return 0;
}

static int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "watch", optional_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "pool", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct sample_vol *a, *b;
	const char *pool = NULL;
	double secs = 1, t0, t1, d;
	u64 count = 0, k;
	int ch, watch = 0, json = 0;
	u32 n;
	char *end;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "w::i:n:jp:", opts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			watch = 1;
			/* "--watch 2": take a following number as the interval */
			if (!optarg && optind < argc &&
			    strtod(argv[optind], &end) > 0 && !*end)
				optarg = argv[optind++];
			if (optarg && interval_arg(optarg, &secs))
				return 2;
			break;
		case 'i':
			if (interval_arg(optarg, &secs))
				return 2;
			break;
		case 'n':
			if (hc_parse_u64(optarg, &count) || !count) {
				ctl_err("--count takes a positive number.");
				return 2;
			}
			watch = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'p':
			pool = optarg;
			break;
		default:
			return 2;
		}
	}
	if (stats_targets(pool, argv + optind, argc - optind, &a, &n))
		return 1;
	if (!n) {
		printf(json ? "{\"interval_s\": 0, \"volumes\": [\n]}\n" :
		       "No active dm-hybrid volume.\n");
		return 0;
	}
	b = malloc(n * sizeof(*b));
	if (!b)
		return 1;
	memcpy(b, a, n * sizeof(*b));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	sample(a, n);
	t0 = now_s();
	for (k = 0; !stop; k++) {
		d = secs;
		while (!stop && d > 0) {
			usleep((useconds_t)(fmin(d, 0.2) * 1e6));
			d = secs - (now_s() - t0);
		}
		if (stop)
			break;
		sample(b, n);
		t1 = now_s();
		if (watch && !json && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		if (watch && !json)
			printf("hybridctl stats, every %.1f s (Ctrl-C to quit)\n",
			       secs);
		stats_print(a, b, n, t1 - t0, json);
		if (!watch || (count && k + 1 >= count))
			break;
		memcpy(a, b, n * sizeof(*a));
		t0 = t1;
	}
	free(a);
	free(b);
	return 0;
}

/* ---- map ------------------------------------------------------------------------ */

/* Volume @arg: a volume name or device name in any active pool. */
static int find_any_vol(const char *pool, const char *arg, struct pool *out,
			struct hc_vol_info **v)
{
	char **pools;
	u32 n, i, j;
	int found = 0;

	if (list_pools(&pools, &n))
		return -1;
	for (i = 0; i < n && !found; i++) {
		struct voldev d;

		if (pool && strcmp(pool, pools[i]))
			continue;
		if (pool_open(pools[i], out, 0))
			continue;
		for (j = 0; j < out->nr_vols; j++) {
			if (!strcmp(out->vols[j].name, arg) ||
			    (!vol_device(out, out->vols[j].id, &d) &&
			     !strcmp(d.name, arg))) {
				*v = &out->vols[j];
				found = 1;
				break;
			}
		}
		if (!found)
			free_pool(out);
	}
	if (found) {
		out->name = strdup(out->name);
	} else {
		ctl_err("no volume named %s in %s.", arg,
			pool ? pool : "any active pool");
	}
	free_names(pools, n);
	return found ? 0 : -1;
}

static void heat_rgb(int d, png_byte *px)
{
	/* 0 dark grey, then blue -> red -> yellow as heat doubles */
	static const png_byte pal[9][3] = {
		{ 40, 40, 40 }, { 30, 60, 160 }, { 60, 90, 200 },
		{ 120, 60, 190 }, { 180, 40, 140 }, { 220, 40, 60 },
		{ 240, 100, 30 }, { 250, 170, 20 }, { 255, 240, 60 },
	};

	if (d > 8)
		d = 8;
	memcpy(px, pal[d], 3);
}

static void tier_rgb(char c, png_byte *px)
{
	static const png_byte unmapped[3] = { 225, 225, 225 };
	static const png_byte hdd[3] = { 70, 110, 180 };
	static const png_byte mixed[3] = { 170, 110, 190 };
	static const png_byte ssd[3] = { 240, 140, 20 };

	memcpy(px, c == 'S' ? ssd : c == 's' ? mixed : c == 'h' ? hdd :
	       unmapped, 3);
}

static int hexval(char c)
{
	return c >= 'a' ? c - 'a' + 10 : c - '0';
}

/*
 * A PNG chart: one column per bucket; the top band is the tier (orange
 * SSD, purple mixed, blue HDD, light grey unmapped), the bottom band the
 * heat (dark grey cold ... yellow hottest).
 */
/* The rows of the chart; libpng reports errors by longjmp to here. */
static int png_rows(png_structp png, png_infop info, png_bytep row,
		    const struct hc_pmap *m, u32 cw, u32 w, u32 h)
{
	u32 x, y;

	if (setjmp(png_jmpbuf(png)))
		return -1;
	png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			png_byte *px = row + 3 * x;
			u32 bk = x / cw;

			if (y < 46)
				tier_rgb(m->tiers[bk], px);
			else if (y < 54)
				memset(px, 255, 3);
			else
				heat_rgb(hexval(m->heat[bk]), px);
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	return 0;
}

/*
 * A PNG chart: one column per bucket; the top band is the tier (orange
 * SSD, purple mixed, blue HDD, light grey unmapped), the bottom band the
 * heat (dark grey cold ... yellow hottest).
 */
static int write_png(const char *file, const struct hc_pmap *m)
{
	u32 cw = m->buckets >= 1024 ? 1 : 1024 / m->buckets, w = cw * m->buckets;
	png_structp png;
	png_infop info = NULL;
	png_bytep row;
	FILE *f;
	int r = -1;

	f = fopen(file, "wbe");
	if (!f) {
		ctl_err("cannot write %s: %s.", file, strerror(errno));
		return -1;
	}
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (png)
		info = png_create_info_struct(png);
	row = malloc(3 * w);
	if (png && info && row) {
		png_init_io(png, f);
		r = png_rows(png, info, row, m, cw, w, 100);
	}
	if (png)
		png_destroy_write_struct(&png, info ? &info : NULL);
	free(row);
	if (fclose(f) || r) {
		ctl_err("cannot write the PNG chart %s.", file);
		unlink(file);
		return -1;
	}
	return 0;
}

static int cmd_map(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "png", required_argument, NULL, 'o' },
		{ "pool", required_argument, NULL, 'p' },
		{ "buckets", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *png = NULL, *pool = NULL;
	struct hc_vol_info *v;
	struct hc_pmap m;
	struct pool p;
	char *reply, a[32], b[32];
	u64 buckets = 256, per, cb;
	u32 i, width = 64;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:p:b:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			png = optarg;
			break;
		case 'p':
			pool = optarg;
			break;
		case 'b':
			if (hc_parse_u64(optarg, &buckets) || !buckets ||
			    buckets > 1024) {
				ctl_err("--buckets takes a number from 1 to 1024.");
				return 2;
			}
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		ctl_err("usage: map VOLUME [--pool POOL] [--buckets N] [--png FILE]");
		return 2;
	}
	if (find_any_vol(pool, argv[optind], &p, &v))
		return 1;
	cb = p.st.chunk_sectors * 512;
	/* the kernel allows no more buckets than the volume has chunks */
	per = (v->size + p.st.chunk_sectors - 1) / p.st.chunk_sectors;
	if (per && per < buckets)
		buckets = per;
	r = dm_msg(p.name, &reply, "placement_map %u %llu", v->id,
		   (unsigned long long)buckets);
	if (r) {
		op_fail(r, NULL, "pool %s cannot map volume %s", p.name, argv[optind]);
		return 1;
	}
	if (hc_parse_pmap(reply, &m)) {
		ctl_err("pool %s answered placement_map with something hybridctl does not understand.",
			p.name);
		return 1;
	}
	per = m.buckets ? (m.chunks + m.buckets - 1) / m.buckets : 0;
	printf("Volume %s (pool %s, id %u): %s, %llu chunks of %s\n",
	       v->name[0] ? v->name : argv[optind], p.name, v->id,
	       hc_format_size(v->size * 512, a, sizeof(a)),
	       (unsigned long long)m.chunks, hc_format_size(cb, b, sizeof(b)));
	printf("mapped: %llu chunks, %llu on the SSD (%.0f%%), %llu on the HDD\n",
	       (unsigned long long)(m.ssd + m.hdd), (unsigned long long)m.ssd,
	       m.ssd + m.hdd ? 100.0 * (double)m.ssd / (double)(m.ssd + m.hdd) : 0.0,
	       (unsigned long long)m.hdd);
	printf("%u buckets of about %llu chunks (%s) each\n", m.buckets,
	       (unsigned long long)per, hc_format_size(per * cb, a, sizeof(a)));
	printf("tiers: S all on SSD, s mixed, h all on HDD, . unmapped\n");
	printf("heat:  0 cold, 1..8 = 1 + log2(heat of the hottest chunk)\n\n");
	printf("%-9s %-*s  %s\n", "offset", (int)width, "tiers", "heat");
	for (i = 0; i < m.buckets; i += width) {
		u32 k = m.buckets - i < width ? m.buckets - i : width;

		printf("%-9s %-*.*s  %.*s\n",
		       hc_format_size((u64)i * m.chunks / m.buckets * cb, a,
				      sizeof(a)),
		       (int)width, (int)k, m.tiers + i, (int)k, m.heat + i);
	}
	if (png) {
		if (write_png(png, &m))
			return 1;
		printf("\nPNG chart written to %s (top: tier, bottom: heat).\n",
		       png);
	}
	free(reply);
	free_pool(&p);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hybridctl [-v] [--tab FILE] COMMAND ...\n\n"
		"  pool create NAME --metadata DEV --ssd DEV --hdd DEV [--chunk-size 1M]\n"
		"              [--error-if-no-space] [--no-discard-passdown] [--noauto] [--wipe]\n"
		"  pool activate NAME... | --all [--wait SECS]\n"
		"  pool deactivate NAME... | --all\n"
		"  pool status [NAME...]\n"
		"  pool grow NAME\n"
		"  pool set NAME KNOB VALUE         (or: migration on|off)\n"
		"  pool remove NAME [--wipe]\n"
		"  vol create POOL NAME SIZE [--id N] [--weight W] [--priority P]\n"
		"             [--ssd-min SIZE] [--ssd-max SIZE]\n"
		"  vol delete POOL VOLUME\n"
		"  vol list [POOL...]\n"
		"  vol resize POOL VOLUME [+]SIZE [--shrink]\n"
		"  vol set POOL VOLUME KEY VALUE... (weight, priority, ssd_min, ssd_max, name)\n"
		"  vol pin POOL VOLUME ssd|hdd|auto [--start OFFSET] [--length SIZE]\n"
		"  stats [--pool POOL] [--watch [SECS]] [--count N] [--json] [VOLUME...]\n"
		"  map VOLUME [--pool POOL] [--buckets N] [--png FILE]\n\n"
		"Sizes take K, M, G, T (powers of 1024), e.g. 20G.  Pools are remembered\n"
		"in %s.  See hybridctl(8).\n", TAB_DEFAULT);
}

int main(int argc, char **argv)
{
	int i = 1;

	if (getenv("HYBRIDTAB"))
		tab_path = getenv("HYBRIDTAB");
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose++;
		} else if (!strcmp(argv[i], "--tab") && i + 1 < argc) {
			tab_path = argv[++i];
		} else {
			usage(strcmp(argv[i], "-h") && strcmp(argv[i], "--help") ?
			      stderr : stdout);
			return strcmp(argv[i], "-h") && strcmp(argv[i], "--help") ?
			       2 : 0;
		}
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	dm_log_with_errno_init(dm_logger);
	argc -= i;
	argv += i;
	if (!strcmp(argv[0], "pool"))
		return cmd_pool(argc, argv);
	if (!strcmp(argv[0], "vol") || !strcmp(argv[0], "volume"))
		return cmd_vol(argc, argv);
	if (!strcmp(argv[0], "stats"))
		return cmd_stats(argc, argv);
	if (!strcmp(argv[0], "map"))
		return cmd_map(argc, argv);
	if (!strcmp(argv[0], "help")) {
		usage(stdout);
		return 0;
	}
	ctl_err("unknown command \"%s\".", argv[0]);
	usage(stderr);
	return 2;
}
