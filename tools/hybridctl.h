/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hybridctl's private interface: what each of its files offers the others.
 *
 *   hybridctl.c    options, the command table, dispatch and usage
 *   hctl-dm.c      libdevmapper calls and the kernel's reasons (/dev/kmsg)
 *   hctl-dev.c     block devices, and the dm devices of pools and volumes
 *   hctl-tab.c     /etc/hybridtab and the lock that serialises changes
 *   hctl-pool.c    the "pool" commands
 *   hctl-replace.c the command pool replace-ssd
 *   hctl-vol.c     the "vol" commands
 *   hctl-report.c  the reports pool status, vol list and stats
 *   hctl-map.c     the report map, with its PNG chart
 *   hctl-metrics.c the report metrics (Prometheus), rendered by hctl-prom.c,
 *                  guests named by hctl-xen.c and hctl-libvirt.c
 *
 * The pure helpers (sizes, names, status and reply formats, the JSON
 * writer) are in hctl.h, where the host tests reach them.  Every command
 * returns its exit status: 0 done, 1 failed (an error printed, nothing
 * left half-done), 2 bad usage.
 */
#ifndef DMH_TOOLS_HYBRIDCTL_H
#define DMH_TOOLS_HYBRIDCTL_H

#include <libdevmapper.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "hctl.h"
#include "hctl-xen.h"
#include "md.h"		/* __printf */

#define CTL_EXIT_FAIL	1
#define CTL_EXIT_USAGE	2

/* ---- hybridctl.c ---------------------------------------------------------- */

extern const char *ctl_tab;	/* the hybridtab: --tab, $HYBRIDTAB or default */
extern int ctl_verbose;		/* -v given this many times */

/*
 * A command of the table: "<noun> <verb>" (verb NULL for a noun that is a
 * command by itself, such as "stats").  @fn gets the arguments from the
 * verb on (argv[0] is the verb, or the noun when there is none) and
 * returns the exit status.
 */
struct ctl_cmd {
	const char *noun;
	const char *verb;
	int (*fn)(int argc, char **argv);
	const char *synopsis;
};

/* Print "usage: <noun> <verb> <synopsis>" of the running command; 2. */
int ctl_usage(void);

/* ---- hctl-result.c: --json of the commands without a report ------------- */

extern int ctl_json;		/* --json: results go in one JSON object */

/*
 * Command @c begins; with @capture, its stdout is captured (its sentences
 * become the object's "messages"), else left alone (--progress=json lines
 * come before the object).  0, or -1 with an error printed.
 */
int ctl_json_begin(const struct ctl_cmd *c, int capture);
/* Write the object of the command begun, which returned @status; its exit status. */
int ctl_json_end(int status);
/* A result field of the object; nothing without --json. */
void ctl_result_str(const char *key, const char *s);
void ctl_result_u64(const char *key, u64 v);
/* One more string of the array @key. */
void ctl_result_item(const char *key, const char *s);
/* An error sentence for "errors" (ctl_err() passes each). */
void ctl_result_err(const char *msg);

/* ---- hctl-dm.c: device-mapper ---------------------------------------------- */

/* printf, named so that checkpatch lets its long strings be */
#define ctl_info(...)	printf(__VA_ARGS__)

/* "hybridctl: <sentence>\n" on stderr. */
__printf(1, 2) void ctl_err(const char *fmt, ...);

/* Route libdevmapper's log through hybridctl's; once, before any dm call. */
void ctl_dm_init(void);

/* The last error libdevmapper logged ("" if none). */
const char *dm_last_error(void);

/* The single target of a device's table or status line. */
struct dm_target_line {
	u64 len;
	char type[32];
	char params[4096];
};

/* 1 if device @name exists (its info in @info, which may be NULL), 0 if not, -errno. */
int dm_info_of(const char *name, struct dm_info *info);
/* @name's TABLE (@status 0) or STATUS (1) line: 0 or -errno (-ENODATA: no table). */
int dm_target_of(const char *name, int status, struct dm_target_line *t);
/*
 * Create (@op DM_DEVICE_CREATE) device @name with one target, or load it
 * as @name's inactive table (DM_DEVICE_RELOAD).  A failed create leaves no
 * device behind.  0 or -errno, the kernel's reason kept for why().
 */
int dm_load(int op, const char *name, u64 len, const char *type,
	    const char *params);
/* DM_DEVICE_SUSPEND, _RESUME or _REMOVE of @name: 0 or -errno. */
int dm_simple(int op, const char *name);
/* Rename device @name to @newname: 0 or -errno. */
int dm_rename_dev(const char *name, const char *newname);
/*
 * Load @params as @name's table, suspend and resume; when that fails, put
 * @old back (saying so if even that fails).  0 or the first -errno.
 */
int dm_reload(const char *name, u64 len, const char *type,
	      const char *params, const struct dm_target_line *old);
/* Send a message to @pool; the reply, if @reply, is malloc'ed there. */
__printf(3, 4)
int dm_msg(const char *pool, char **reply, const char *fmt, ...);
/*
 * Send the message that reverses a step done before a later one failed;
 * when that fails too, print the dmsetup command that finishes it.
 */
__printf(2, 3) int undo_msg(const char *pool, const char *fmt, ...);
/* Names of all dm devices: a malloc'ed array for free_names(). */
int dm_list_names(char ***out, u32 *n);
void free_names(char **v, u32 n);

/* A sentence for errno @e in a device-mapper context. */
const char *errno_sentence(int e);
/* Whether the kernel logged why it refused the last table loaded. */
int dm_refused_table(void);
/* Print the kernel's log line of the last operation, if it logged one. */
void err_reason(void);
/*
 * Report a failed dm operation as "<what>: <reason>." and the kernel's
 * log line; @reason NULL: the kernel's reason for a table, else errno @r.
 */
__printf(3, 4)
void op_fail(int r, const char *reason, const char *fmt, ...);

/* ---- hctl-dev.c: block devices, pools and volume devices ----------------- */

/* Size of block device @path in bytes; an error naming it as @what. */
int blk_size(const char *what, const char *path, u64 *bytes);
/* The device number of block device @path: 0, or -1 if it is none. */
int blk_devt(const char *path, dev_t *dt);
/* 0 if nothing holds @path (not mounted, not part of another device). */
int blk_free(const char *what, const char *path);
/* Both superblock slots of @path: 0 zero, 1 dm-hybrid, 2 other, -1 I/O. */
int md_kind(const char *path);
/* 1 if the block at @b is a dm-hybrid superblock with a valid checksum. */
int md_super_block_ok(const void *b);
/* Zero both superblock slots of @path: 0 or -1 (errno set). */
int md_wipe(const char *path);
/* Load dm-hybrid unless it is there: 0, or -1 with an error printed. */
int need_module(void);
/* Wait up to @secs for the three devices of @e to open: 0 or -1. */
int wait_devices(const struct hc_tab *e, int secs);
/*
 * On a terminal, "<what>: waited W s of S s" on stderr, rewritten in place;
 * @end (NULL while waiting) ends the line with what came of it.
 */
void wait_line(const char *what, double waited, int secs, const char *end);
/* Seconds from @t to now, on CLOCK_MONOTONIC. */
double secs_since(const struct timespec *t);

/*
 * Removing a volume device (suspending it) writes its staged blocks back
 * to the HDD first, for as long as the HDD needs.  Between wb_begin() and
 * wb_end(), on a terminal and while pool @pool has staged data, a child
 * process shows on stderr how much is left, 4 times a second; wb_end()
 * ends the line with done, or failed when @r is not 0.
 */
struct wb_progress {
	const char *pool;
	u64 was;		/* staged bytes at wb_begin() */
	pid_t pid;		/* the child, 0 if none */
};

void wb_begin(struct wb_progress *w, const char *pool);
void wb_end(struct wb_progress *w, int r);

/*
 * A pool's activation reads its whole metadata layout before the create
 * ioctl returns (hctl-activate.c).  Between act_begin() and act_end(), on
 * a terminal or with @always (--progress), a child process shows on
 * stderr how much of it has been read, 4 times a second on a terminal,
 * else a line each second; act_end() ends with done, or failed when @r
 * is not 0.  Nothing is shown if @meta's superblock cannot be read.
 */
struct act_progress {
	const char *pool;
	dev_t dev;		/* the metadata device */
	u64 base;		/* its sectors read at act_begin() */
	u64 total;		/* bytes activation reads */
	struct timespec start;
	int tty;
	pid_t pid;		/* the child, 0 if none */
};

void act_begin(struct act_progress *a, const char *pool, const char *meta,
	       int always);
void act_end(struct act_progress *a, int r);

/* An active pool: its device, table, status and volumes. */
struct pool {
	const char *name;
	struct dm_info info;
	char devt[32];			/* major:minor of the pool device */
	struct hc_pool_status st;
	struct hc_pool_table tb;
	u64 len;
	struct hc_vol_info *vols;	/* list_volumes, sorted by id */
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

/*
 * Open active pool @name into @p (free_pool() it): 0, or -1 with an error
 * printed unless @quiet and the pool is simply not there.
 */
int pool_open(const char *name, struct pool *p, int quiet);
void free_pool(struct pool *p);
/* Names of the active pools (free_names()). */
int list_pools(char ***out, u32 *n);
/* 1 if @name is an active pool; for commands that take it positionally. */
int is_pool(const char *name);
/* The volume devices, of the pool @pool_devt or (NULL) of all; free(). */
int list_voldevs(const char *pool_devt, struct voldev **out, u32 *n);
/* Volume @arg (name or id) of @p, or NULL with an error printed. */
struct hc_vol_info *find_vol(struct pool *p, const char *arg);
/* pool_open() then find_vol(); on NULL nothing is left to free. */
struct hc_vol_info *pool_open_vol(const char *pool, const char *vol,
				  struct pool *p);
/* The device mapping volume @id of @p, if any: 0 found, -1 not. */
int vol_device(const struct pool *p, u32 id, struct voldev *out);
/*
 * The block tier counters of volume @id of @p from its device's status:
 * 0, or -1 when it has no device or its kernel reports no write staging.
 */
int vol_block_stats(const struct pool *p, u32 id, struct hc_vol_status *st);
/* The dm name a volume's device gets: its name, or <pool>-<id>. */
void vol_devname(const struct pool *p, const struct hc_vol_info *v,
		 char *buf, size_t len);
/*
 * Create device @dev mapping volume @id of @p with @sectors: 0, or -1
 * after reporting the failure as "<what>: <reason>".
 */
int vol_map(const struct pool *p, u32 id, const char *dev, u64 sectors,
	    const char *what);
/* 0 if no dm device is called @name, else -1 with an error printed. */
int dm_name_free(const char *name, const char *hint);
/* 0 if @name is a valid pool or volume name (@what), else -1 with an error. */
int name_arg(const char *what, const char *name);
/*
 * name_arg() for a name an admin gives a volume (vol create, vol set
 * name): also refuses one ending in HC_IMPORT_SUFFIX, which "vol import"
 * would take for its own interrupted copy and overwrite.
 */
int user_vol_name(const char *name);

/* ---- hctl-tab.c: the hybridtab ---------------------------------------------- */

struct tab {
	struct hc_tab *e;
	u32 n;
};

/* Read ctl_tab (missing: empty) into @t, free(t->e) after: 0 or -1. */
int tab_read(struct tab *t);
struct hc_tab *tab_find(struct tab *t, const char *name);
/*
 * Rewrite the tab without @drop's entry and with @add (in the dropped
 * entry's place when it has @drop's name, else at the end): 0 or -1.
 */
int tab_update(const struct hc_tab *add, const char *drop);
/* The pool's table line (devices, chunk size, features) for @e. */
int tab_table_line(const struct hc_tab *e, char *buf, size_t n);
/* Serialise the commands that change pools, until the process exits. */
void lock_all(void);

/* ---- hctl-pool.c, hctl-vol.c, hctl-report.c: the commands ---------------- */

int pool_create(int argc, char **argv);
int pool_activate(int argc, char **argv);
int pool_deactivate(int argc, char **argv);
int pool_grow(int argc, char **argv);
int pool_set(int argc, char **argv);
int pool_evacuate(int argc, char **argv);
int pool_replace_ssd(int argc, char **argv);
/* Pool @name's status, which must have the evacuation fields: 0, or -1 told. */
int evac_status(const char *name, struct hc_pool_status *st);
/*
 * Poll pool @name (evacuating) until nothing of the volumes' data is left
 * on its SSD, @secs at most (< 0: no limit), the count shown on a
 * terminal; *@left is what is left.  0, or -1 told why.
 */
int evac_wait(const char *name, int secs, u64 *left);
int pool_remove(int argc, char **argv);

int vol_create(int argc, char **argv);
int vol_delete(int argc, char **argv);
int vol_resize(int argc, char **argv);
int vol_set(int argc, char **argv);
int vol_pin(int argc, char **argv);
int vol_import(int argc, char **argv);
int vol_export(int argc, char **argv);
/*
 * For import: create and map volume @name (a valid one) of @sectors in @p with the
 * smallest free id (*@id), or nothing: 0, or -1 with the error printed.
 */
int vol_add(struct pool *p, const char *name, u64 sectors, u32 *id);
/* Remove device @dev and delete volume @id of @p: 0, or -1 told. */
int vol_drop(const struct pool *p, u32 id, const char *dev);

int pool_status(int argc, char **argv);
int vol_list(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_metrics(int argc, char **argv);

/* ---- hctl-report.c: the volumes that stats and metrics sample ------------ */

struct sample_vol {
	char dev[128];
	char pool[128];
	char name[DMH_NAME_LEN];
	u32 id;
	u64 size, chunk_sectors;
	struct hc_vol_status st;
	int ok;				/* st is this sample's status line */
	int ssd_failed;			/* its pool's SSD is dead */
	int persistent;			/* its pool has persistent_staging */
	struct hctl_xen_vbd xen;	/* the Xen guest using it, in a Dom0 */
};

/*
 * The volume devices of pool @pool (NULL: of every active pool), all or
 * those @want names (volume or device name): a malloc'ed array in @out.
 * 0, or -1 with an error printed when a named one is not active.
 */
int stats_targets(const char *pool, char **want, int nwant,
		  struct sample_vol **out, u32 *n);
/* Read the status line of each of @n volumes (sv[i].ok says if it could). */
void stats_sample(struct sample_vol *sv, u32 n);

#endif /* DMH_TOOLS_HYBRIDCTL_H */
