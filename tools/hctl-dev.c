// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl's devices (see hybridctl.h): the block devices a pool is made
 * of, and the device-mapper devices of active pools and their volumes.
 */
#define _GNU_SOURCE	/* environ */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hybridctl.h"
#include "md.h"

/* ---- block devices ---------------------------------------------------------- */

/* Size in bytes of a block device; an admin-readable error otherwise. */
int blk_size(const char *what, const char *path, u64 *bytes)
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

int blk_devt(const char *path, dev_t *dt)
{
	struct stat st;

	if (stat(path, &st) || !S_ISBLK(st.st_mode))
		return -1;
	*dt = st.st_rdev;
	return 0;
}

/* The device is not mounted or held by another device (O_EXCL). */
int blk_free(const char *what, const char *path)
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

int md_super_block_ok(const void *b)
{
	const struct dmh_disk_super *s = b;

	return le32toh(s->magic) == DMH_MAGIC &&
	       md_block_csum(b, DMH_BT_SUPER) == le32toh(s->csum);
}

/*
 * What the first two blocks (both superblock slots) of a metadata device
 * hold: 0 all zeros, 1 a dm-hybrid superblock, 2 something else, -1 I/O.
 */
int md_kind(const char *path)
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
		if (md_super_block_ok(b))
			kind = 1;
		else if (kind == 0)
			kind = 2;
	}
	free(b);
	close(fd);
	return kind;
}

/* Zero both superblock slots, which makes the device blank again. */
int md_wipe(const char *path)
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
int need_module(void)
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

static int dev_usable(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

double secs_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	       (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

void wait_line(const char *what, double waited, int secs, const char *end)
{
	if (!isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\r%s: waited %.2f s of %d s%s%s\033[K%s", what, waited,
		secs, end ? ": " : "", end ? end : "", end ? "\n" : "");
}

/* Pool @pool's staged bytes not yet on the HDD, or -1 if unknown. */
static long long staged_bytes(const char *pool)
{
	struct dm_target_line t;
	struct hc_pool_status st;

	if (dm_target_of(pool, 1, &t) || hc_parse_pool_status(t.params, &st) ||
	    !st.blk_staging)
		return -1;
	return (long long)(st.blk_dirty * HC_BLOCK_BYTES);
}

/* "pool P: staged data not yet on the HDD: X (was Y)[: @end]". */
static void staged_line(const struct wb_progress *w, const char *end)
{
	long long now = staged_bytes(w->pool);
	char a[32], b[32];

	if (now < 0)
		return;
	fprintf(stderr, "\rpool %s: staged data not yet on the HDD: %s (was %s)%s%s\033[K%s",
		w->pool, hc_format_size((u64)now, a, sizeof(a)),
		hc_format_size(w->was, b, sizeof(b)), end ? ": " : "",
		end ? end : "", end ? "\n" : "");
}

void wb_begin(struct wb_progress *w, const char *pool)
{
	long long was;

	w->pid = 0;
	w->pool = pool;
	if (!isatty(STDERR_FILENO))
		return;
	was = staged_bytes(pool);
	if (was <= 0)
		return;
	w->was = (u64)was;
	fflush(NULL);
	w->pid = fork();
	if (w->pid < 0)
		w->pid = 0;
	if (w->pid)
		return;
	/* the child: until wb_end() ends it (SIGTERM, no atexit handler) */
	signal(SIGTERM, SIG_DFL);
	for (;;) {
		staged_line(w, NULL);
		usleep(250000);
	}
}

void wb_end(struct wb_progress *w, int r)
{
	if (!w->pid)
		return;
	kill(w->pid, SIGTERM);
	waitpid(w->pid, NULL, 0);
	staged_line(w, r ? "failed" : "done");
	w->pid = 0;
}

/* Wait up to @secs for the devices of a tab entry to appear. */
int wait_devices(const struct hc_tab *e, int secs)
{
	char what[160];
	int i;

	snprintf(what, sizeof(what), "pool %s: its devices", e->name);
	for (i = 0; i <= secs * 10; i++) {
		/* a stale node of a removed device does not count */
		if (dev_usable(e->meta) && dev_usable(e->ssd) &&
		    dev_usable(e->hdd)) {
			if (i)
				wait_line(what, i / 10.0, secs, "there");
			return 0;
		}
		if (i < secs * 10) {
			if (i % 10 == 0 && i)
				wait_line(what, i / 10.0, secs, NULL);
			usleep(100000);
		}
	}
	if (secs)
		wait_line(what, secs, secs, "not there");
	return -1;
}

/* ---- pools and volumes ------------------------------------------------------- */

void free_pool(struct pool *p)
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
int pool_open(const char *name, struct pool *p, int quiet)
{
	struct dm_target_line t;
	int r;

	memset(p, 0, sizeof(*p));
	p->name = name;
	r = dm_info_of(name, &p->info);
	if (r <= 0) {
		if (!quiet)
			ctl_err("there is no active pool named \"%s\" (\"hybridctl pool status\" lists them; \"hybridctl pool activate %s\" activates it from %s).",
				name, name, ctl_tab);
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

/*
 * Call @fn for every dm device whose (single) target is @type, with its
 * table line, until @fn returns non-zero.
 */
static int scan_targets(const char *type,
			int (*fn)(const char *name,
				  const struct dm_target_line *t, void *ctx),
			void *ctx)
{
	struct dm_target_line t;
	char **names;
	u32 nn, i;

	if (dm_list_names(&names, &nn)) {
		ctl_err("cannot list device-mapper devices: %s.", dm_last_error());
		return -1;
	}
	for (i = 0; i < nn; i++)
		if (!dm_target_of(names[i], 0, &t) && !strcmp(t.type, type) &&
		    fn(names[i], &t, ctx))
			break;
	free_names(names, nn);
	return 0;
}

/* Grow a malloc'ed array by one element; exit when memory runs out. */
static void *grow(void *v, u32 n, size_t size)
{
	v = realloc(v, (n + 1) * size);
	if (!v) {
		ctl_err("out of memory");
		exit(CTL_EXIT_FAIL);
	}
	return v;
}

struct voldev_list {
	const char *pool_devt;
	struct voldev *v;
	u32 n;
};

static int add_voldev(const char *name, const struct dm_target_line *t,
		      void *ctx)
{
	struct voldev_list *l = ctx;
	struct voldev d;

	memset(&d, 0, sizeof(d));
	if (hc_parse_vol_table(t->params, d.pool_devt, sizeof(d.pool_devt),
			       &d.id) ||
	    (l->pool_devt && strcmp(l->pool_devt, d.pool_devt)) ||
	    dm_info_of(name, &d.info) <= 0)
		return 0;
	snprintf(d.name, sizeof(d.name), "%s", name);
	d.len = t->len;
	l->v = grow(l->v, l->n, sizeof(d));
	l->v[l->n++] = d;
	return 0;
}

int list_voldevs(const char *pool_devt, struct voldev **out, u32 *n)
{
	struct voldev_list l = { .pool_devt = pool_devt };
	int r = scan_targets("hybrid", add_voldev, &l);

	*out = l.v;
	*n = l.n;
	return r;
}

struct name_list {
	char **v;
	u32 n;
};

static int add_name(const char *name, const struct dm_target_line *t,
		    void *ctx)
{
	struct name_list *l = ctx;

	(void)t;
	l->v = grow(l->v, l->n, sizeof(*l->v));
	l->v[l->n++] = strdup(name);
	return 0;
}

int list_pools(char ***out, u32 *n)
{
	struct name_list l = { NULL, 0 };
	int r = scan_targets("hybrid-pool", add_name, &l);

	*out = l.v;
	*n = l.n;
	return r;
}

int is_pool(const char *name)
{
	struct dm_target_line t;

	return !dm_target_of(name, 0, &t) && !strcmp(t.type, "hybrid-pool");
}

/* A volume of @p by name or id, or NULL with an error. */
struct hc_vol_info *find_vol(struct pool *p, const char *arg)
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
struct hc_vol_info *pool_open_vol(const char *pool, const char *vol,
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
void vol_devname(const struct pool *p, const struct hc_vol_info *v,
		 char *buf, size_t len)
{
	if (v->name[0])
		snprintf(buf, len, "%s", v->name);
	else
		snprintf(buf, len, "%s-%u", p->name, v->id);
}

/* The device currently mapping volume @id of @p, if any (0 = found). */
int vol_device(const struct pool *p, u32 id, struct voldev *out)
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

int vol_map(const struct pool *p, u32 id, const char *dev, u64 sectors,
	    const char *what)
{
	char table[64];
	int r;

	snprintf(table, sizeof(table), "%s %u", p->devt, id);
	r = dm_load(DM_DEVICE_CREATE, dev, sectors, "hybrid", table);
	if (r)
		op_fail(r, NULL, "%s", what);
	return r ? -1 : 0;
}

int dm_name_free(const char *name, const char *hint)
{
	if (dm_info_of(name, NULL) <= 0)
		return 0;
	ctl_err("a device-mapper device named %s already exists%s.", name, hint);
	return -1;
}

int name_arg(const char *what, const char *name)
{
	if (hc_valid_name(name))
		return 0;
	ctl_err("\"%s\" is not a valid %s name: use 1 to 63 letters, digits and _.+:@- (not only digits).",
		name, what);
	return -1;
}

int user_vol_name(const char *name)
{
	if (name_arg("volume", name))
		return -1;
	if (!hc_import_is_tmpname(name))
		return 0;
	ctl_err("\"%s\": names ending in \"%s\" are kept for interrupted imports (vol import resumes into them).",
		name, HC_IMPORT_SUFFIX);
	return -1;
}
