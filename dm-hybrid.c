// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid: tiering of virtual machine disks between an SSD and an HDD.
 *
 * Two targets, as with thin-pool and thin: "hybrid-pool" binds a metadata
 * device, an SSD and an HDD into a pool object shared by many "hybrid"
 * volumes (one per VM disk).  Every chunk of every volume has exactly one
 * home on one of the two tiers (dm-hybrid-map.c).
 *
 * This file holds the targets' constructors and lifecycle, messages and
 * status; the pool objects (their registry, creation and last put) are in
 * dm-hybrid-pool.c, the bio path and the pool worker in dm-hybrid-io.c,
 * and dm-hybrid.h draws the map of the rooms below.
 */
#include <linux/blkdev.h>
#include <linux/ctype.h>
#include <linux/module.h>
#include <linux/rcupdate.h>

#include "dm-hybrid.h"

/* ---------------------------------------------------------- pool target */

static int parse_features(struct dm_arg_set *as, struct pool_c *pc,
			  struct dm_target *ti)
{
	static const struct dm_arg _args[] = {
		{0, 7, "Invalid number of pool feature arguments"},
	};
	unsigned int argc;
	const char *name;
	int r;

	if (!as->argc)
		return 0;
	r = dm_read_arg_group(_args, as, &argc, &ti->error);
	if (r)
		return -EINVAL;
	while (argc--) {
		name = dm_shift_arg(as);
		if (!strcasecmp(name, "no_discard_passdown")) {
			pc->features |= DMH_F_NO_DISCARD_PASSDOWN;
		} else if (!strcasecmp(name, "read_only")) {
			pc->features |= DMH_F_READ_ONLY;
		} else if (!strcasecmp(name, "error_if_no_space")) {
			pc->features |= DMH_F_ERROR_IF_NO_SPACE;
		} else if (!strcasecmp(name, "block_tier")) {
			if (!argc ||
			    kstrtou32(dm_shift_arg(as), 10, &pc->block_mib) ||
			    pc->block_mib > DMH_BLOCK_TIER_MAX_MIB) {
				ti->error = "block_tier takes a size in MiB, 0 to 16384";
				return -EINVAL;
			}
			argc--;
		} else if (!strcasecmp(name, "write_staging")) {
			pc->features |= DMH_F_WRITE_STAGING;
		} else if (!strcasecmp(name, "persistent_staging")) {
			pc->features |= DMH_F_PERSISTENT_STAGING;
		} else {
			ti->error = "Unrecognised pool feature requested";
			return -EINVAL;
		}
	}
	if ((pc->features & DMH_F_WRITE_STAGING) && !pc->block_mib) {
		ti->error = "write_staging needs block_tier";
		return -EINVAL;
	}
	if ((pc->features & DMH_F_PERSISTENT_STAGING) && !pc->block_mib) {
		ti->error = "persistent_staging needs block_tier";
		return -EINVAL;
	}
	return 0;
}

static int parse_chunk_sectors(const char *arg, struct pool_c *pc,
			       struct dm_target *ti)
{
	u32 v;

	if (kstrtou32(arg, 10, &v) || !is_power_of_2(v) ||
	    v < DMH_CHUNK_SECTORS_MIN || v > DMH_CHUNK_SECTORS_MAX) {
		ti->error = "Chunk size must be a power of two from 128 to 131072 sectors";
		return -EINVAL;
	}
	pc->chunk_sectors = v;
	return 0;
}

static int get_pool_devices(struct dm_target *ti, struct pool_c *pc,
			    char **argv)
{
	blk_mode_t mode = dm_table_get_mode(ti->table);
	int t, r;

	r = dm_get_device(ti, argv[0], mode, &pc->meta_dev);
	if (r) {
		ti->error = "Error opening metadata device";
		return r;
	}
	for (t = 0; t < DMH_NR_TIERS; t++) {
		r = dm_get_device(ti, argv[1 + t], mode, &pc->data_dev[t]);
		if (r) {
			ti->error = t ? "Error opening HDD device" :
					"Error opening SSD device";
			return r;
		}
		if (bdev_nr_sectors(pc->data_dev[t]->bdev) < pc->chunk_sectors) {
			ti->error = "A data device is smaller than one chunk";
			return -EINVAL;
		}
	}
	if (pc->meta_dev->bdev == pc->data_dev[0]->bdev ||
	    pc->meta_dev->bdev == pc->data_dev[1]->bdev ||
	    pc->data_dev[0]->bdev == pc->data_dev[1]->bdev) {
		ti->error = "Metadata, SSD and HDD devices must be distinct";
		return -EINVAL;
	}
	return 0;
}

static void put_pool_devices(struct dm_target *ti, struct pool_c *pc)
{
	int t;

	for (t = 0; t < DMH_NR_TIERS; t++)
		if (pc->data_dev[t])
			dm_put_device(ti, pc->data_dev[t]);
	if (pc->meta_dev)
		dm_put_device(ti, pc->meta_dev);
}

/* md_lock held: SSD chunks and block slots holding data. */
static u64 ssd_data_left(struct dmh_pool *pool)
{
	struct dmh_blk_stats bs;
	struct dmh_volume *v;
	unsigned long id = 0;
	u64 n = 0;

	while ((v = dmh_md_next_volume(pool->md, &id)))
		n += v->nr_chunks[DMH_TIER_SSD];
	dmh_blk_get_stats(pool->blk, &bs);
	return n + bs.valid;	/* dirty slots are valid ones */
}

/*
 * md_lock held: why the SSD of @pool may not be replaced by @pc's, or
 * NULL.  Only an evacuated pool (no chunk, no slot, no migration and no
 * staging log record on the SSD) changes its SSD, for one as large or
 * larger (dmh_md_resize() takes the growth in).
 */
static char *ssd_change_fault(struct dmh_pool *pool, struct pool_c *pc)
{
	sector_t len = bdev_nr_sectors(pc->data_dev[DMH_TIER_SSD]->bdev);
	struct dmh_mig_stats st;
	struct dmh_md_usage u;

	if (!dmh_policy_knobs(pool->policy)->evacuate)
		return "Only an evacuated pool can change its SSD (message evacuate on)";
	dmh_mig_get_stats(pool->mig, &st);
	dmh_md_usage(pool->md, &u);
	if (ssd_data_left(pool) || st.inflight || u.slog_used)
		return "Data still lives on the SSD: wait until the evacuation ends";
	if (len < u.total[DMH_TIER_SSD] * pool->chunk_sectors)
		return "The new SSD is smaller than the pool's SSD";
	return NULL;
}

/*
 * Refuse a reload that changes the SSD of a pool not yet evacuated.  One
 * accepted is noted in pool->ssd_next until it resumes or goes, and keeps
 * the pool evacuating meanwhile (msg_evacuate()), so nothing comes to the
 * old SSD before the table takes the new one.
 */
static int check_ssd_change(struct dmh_pool *pool, struct pool_c *pc,
			    char **error)
{
	char *why;

	if (pool->bdev[DMH_TIER_SSD] == pc->data_dev[DMH_TIER_SSD]->bdev)
		return 0;
	mutex_lock(&pool->md_lock);
	why = ssd_change_fault(pool, pc);
	if (!why)
		pool->ssd_next = pc;
	mutex_unlock(&pool->md_lock);
	if (!why)
		return 0;
	*error = why;
	return -EBUSY;
}

/*
 * hybrid-pool <metadata dev> <ssd dev> <hdd dev> <chunk sectors>
 *             [<#feature args> [<feature arg>]*]
 */
static int pool_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as = { .argc = argc, .argv = argv };
	struct dmh_pool *pool;
	struct pool_c *pc;
	int r;

	if (argc < 4) {
		ti->error = "Expected: <metadata> <ssd> <hdd> <chunk sectors> [<#features> <arg>*]";
		return -EINVAL;
	}
	pc = kzalloc(sizeof(*pc), GFP_KERNEL);
	if (!pc) {
		ti->error = "Cannot allocate pool context";
		return -ENOMEM;
	}
	pc->ti = ti;
	dm_consume_args(&as, 4);
	r = parse_chunk_sectors(argv[3], pc, ti);
	if (!r)
		r = parse_features(&as, pc, ti);
	if (!r)
		r = get_pool_devices(ti, pc, argv);
	if (r)
		goto bad;
	pool = dmh_pool_get(pc, &ti->error);
	if (IS_ERR(pool)) {
		r = PTR_ERR(pool);
		goto bad;
	}
	r = check_ssd_change(pool, pc, &ti->error);
	if (r) {
		dmh_pool_put(pool);
		goto bad;
	}
	pc->pool = pool;
	ti->private = pc;
	ti->num_flush_bios = 1;
	ti->flush_supported = true;
	return 0;
bad:
	put_pool_devices(ti, pc);
	kfree(pc);
	return r;
}

static void pool_dtr(struct dm_target *ti)
{
	struct pool_c *pc = ti->private;
	struct dmh_pool *pool = pc->pool;

	mutex_lock(&pool->md_lock);
	if (pool->pc == pc) {
		pool->pc = NULL;
		pool->ti = NULL;
	}
	if (pool->ssd_next == pc)
		pool->ssd_next = NULL;
	mutex_unlock(&pool->md_lock);
	dmh_pool_put(pool);
	put_pool_devices(ti, pc);
	kfree(pc);
}

/* The pool device holds no data: reads see zeros, writes fail. */
static int pool_map(struct dm_target *ti, struct bio *bio)
{
	if (bio_op(bio) == REQ_OP_READ) {
		zero_fill_bio(bio);
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}
	if (!bio_sectors(bio)) {
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}
	return DM_MAPIO_KILL;
}

static bool can_passdown(struct pool_c *pc, unsigned int tier)
{
	return !(pc->features & DMH_F_NO_DISCARD_PASSDOWN) &&
	       bdev_max_discard_sectors(pc->data_dev[tier]->bdev);
}

/*
 * md_lock held, the migrations and the block tier suspended: move an
 * evacuated pool to the SSD of @pc, checked again since the table was
 * loaded (the pool stayed evacuating: check_ssd_change()).  The volumes
 * keep running: with nothing on the SSD, none of their bios goes there.
 * Once the checks pass, the pool follows the bound table's SSD even if
 * taking in its growth fails: the old SSD goes with the old table.
 */
static int change_ssd(struct dmh_pool *pool, struct pool_c *pc)
{
	struct block_device *bdev = pc->data_dev[DMH_TIER_SSD]->bdev;
	char *why;

	if (pool->bdev[DMH_TIER_SSD] == bdev)
		return 0;
	why = ssd_change_fault(pool, pc);
	if (why) {
		DMERR("pool %s: %s", dm_device_name(pool->pool_md), why);
		return -EBUSY;
	}
	DMINFO("pool %s: SSD %pg replaced by %pg", dm_device_name(pool->pool_md),
	       pool->bdev[DMH_TIER_SSD], bdev);
	WRITE_ONCE(pool->bdev[DMH_TIER_SSD], bdev);
	dmh_mig_set_ssd(pool->mig, bdev);
	dmh_blk_set_ssd(pool->blk, bdev);
	pool->ssd_next = NULL;
	return 0;
}

/*
 * Bind this table to the pool, take in a replaced SSD (change_ssd()) and
 * grown data devices.
 */
static int pool_preresume(struct dm_target *ti)
{
	struct pool_c *pc = ti->private;
	struct dmh_pool *pool = pc->pool;
	char *err = NULL;
	int t, r;

	mutex_lock(&pool->md_lock);
	r = change_ssd(pool, pc);
	if (r) {
		mutex_unlock(&pool->md_lock);
		return r;
	}
	pool->pc = pc;
	pool->ti = ti;
	pool->features = pc->features;
	for (t = 0; t < DMH_NR_TIERS; t++)
		pool->passdown[t] = can_passdown(pc, t);
	if ((pc->features & DMH_F_READ_ONLY) && pool->mode == DMH_MODE_RW)
		dmh_pool_set_mode(pool, DMH_MODE_RO);
	r = dmh_md_resize(pool->md,
			  bdev_nr_sectors(pc->data_dev[DMH_TIER_SSD]->bdev),
			  bdev_nr_sectors(pc->data_dev[DMH_TIER_HDD]->bdev),
			  &err);
	if (r < 0) {
		DMERR("pool %s: %s", dm_device_name(pool->pool_md), err);
	} else if (r > 0) {
		/* The pool grew: make it durable, then retry queued writes. */
		r = dmh_pool_commit(pool);
		dmh_requeue_no_space(pool);
	}
	mutex_unlock(&pool->md_lock);
	return r;
}

static void pool_resume(struct dm_target *ti)
{
	struct dmh_pool *pool = ((struct pool_c *)ti->private)->pool;

	mod_delayed_work(pool->wq, &pool->waker, DMH_COMMIT_PERIOD);
	dmh_mig_resume(pool->mig);
	dmh_blk_resume(pool->blk);
}

static void pool_postsuspend(struct dm_target *ti)
{
	struct dmh_pool *pool = ((struct pool_c *)ti->private)->pool;

	dmh_mig_suspend(pool->mig);
	dmh_blk_suspend(pool->blk);
	cancel_delayed_work_sync(&pool->waker);
	flush_workqueue(pool->wq);
	mutex_lock(&pool->md_lock);
	if (pool->mode == DMH_MODE_RW)
		dmh_pool_commit(pool);
	mutex_unlock(&pool->md_lock);
	dmh_md_flush_heat(pool->md);
}

static int parse_volume_id(const char *arg, u32 *id)
{
	return kstrtou32(arg, 10, id) || *id > DMH_VOLUME_ID_MAX ? -EINVAL : 0;
}

/* A message's volume, or NULL with the reason logged. */
static struct dmh_volume *msg_volume(struct dmh_pool *pool, const char *msg,
				     const char *arg)
{
	struct dmh_volume *v;
	u32 id;

	if (parse_volume_id(arg, &id)) {
		DMERR("%s: '%s' is not a volume id (0..%u)", msg, arg,
		      DMH_VOLUME_ID_MAX);
		return NULL;
	}
	v = dmh_md_volume(pool->md, id);
	if (!v)
		DMERR("%s: volume %u does not exist", msg, id);
	return v;
}

static int msg_create_delete(struct dmh_pool *pool, char **argv)
{
	bool create = !strcasecmp(argv[0], "create_volume");
	struct dmh_volume *v;
	u32 id;
	int r;

	if (parse_volume_id(argv[1], &id)) {
		DMERR("message: expected '%s <volume id 0..%u>'", argv[0],
		      DMH_VOLUME_ID_MAX);
		return -EINVAL;
	}
	/* No slot or noted miss may outlive the volume it points to. */
	v = create ? NULL : dmh_md_volume(pool->md, id);
	if (v)
		dmh_blk_drop_volume(pool->blk, v);
	r = create ? dmh_md_create_volume(pool->md, id) :
		     dmh_md_delete_volume(pool->md, id);
	if (!r && !create)
		dmh_policy_volume_removed(pool->policy);
	if (r == -EEXIST)
		DMERR("create_volume: volume %u already exists", id);
	else if (r == -ENOENT)
		DMERR("delete_volume: volume %u does not exist", id);
	else if (r == -EBUSY)
		DMERR("delete_volume: volume %u is active or migrating", id);
	else if (r == -ENOSPC)
		DMERR("create_volume: the pool has %u volumes, its maximum",
		      DMH_MAX_VOLUMES);
	else if (r)
		DMERR("%s %u failed: %d", argv[0], id, r);
	return r;
}

static const char *prio_name(u32 p)
{
	return p == DMH_PRIO_LOW ? "low" : p == DMH_PRIO_HIGH ? "high" : "normal";
}

static int parse_priority(const char *s)
{
	if (!strcasecmp(s, "low"))
		return DMH_PRIO_LOW;
	if (!strcasecmp(s, "normal"))
		return DMH_PRIO_NORMAL;
	if (!strcasecmp(s, "high"))
		return DMH_PRIO_HIGH;
	return -EINVAL;
}

/*
 * A volume name: 1 to DMH_NAME_LEN - 1 characters of [A-Za-z0-9_.+:@-],
 * not all digits (tools accept a name or an id in the same place).
 */
static bool valid_name(const char *s)
{
	size_t i, n = strlen(s);
	bool digits = true;

	if (!n || n >= DMH_NAME_LEN)
		return false;
	for (i = 0; i < n; i++) {
		if (!isalnum(s[i]) && !strchr("_.+:@-", s[i]))
			return false;
		digits &= !!isdigit(s[i]);
	}
	return !digits;
}

static void get_controls(struct dmh_volume *v, struct dmh_vol_controls *c)
{
	c->weight = v->weight;
	c->priority = v->priority;
	c->ssd_min = v->ssd_min;
	c->ssd_max = v->ssd_max;
	memcpy(c->name, v->name, DMH_NAME_LEN);
}

/* Parse "<control> <value>" of set_volume into @c; -EINVAL logged. */
static int parse_control(const char *what, const char *val,
			 struct dmh_vol_controls *c)
{
	u64 x = 0;
	int prio = 0;

	if (!strcasecmp(what, "name")) {
		memset(c->name, 0, DMH_NAME_LEN);
		if (strcmp(val, "-") && !valid_name(val)) {
			DMERR("set_volume: bad name: 1-%u of A-Za-z0-9_.+:@-, not only digits",
			      DMH_NAME_LEN - 1);
			return -EINVAL;
		}
		if (strcmp(val, "-"))
			strscpy(c->name, val, DMH_NAME_LEN);
		return 0;
	}
	if (!strcasecmp(what, "priority"))
		prio = parse_priority(val);
	else if (kstrtou64(val, 10, &x))
		prio = -EINVAL;
	if (prio < 0) {
		DMERR("set_volume: bad value '%s'", val);
		return -EINVAL;
	}
	if (!strcasecmp(what, "weight") && x >= 1 && x <= 1000)
		c->weight = x;
	else if (!strcasecmp(what, "ssd_min"))
		c->ssd_min = x;
	else if (!strcasecmp(what, "ssd_max"))
		c->ssd_max = x;
	else if (!strcasecmp(what, "priority"))
		c->priority = prio;
	else
		goto bad;
	return 0;
bad:
	DMERR("set_volume: expected weight|ssd_min|ssd_max|priority|name <value>");
	return -EINVAL;
}

/*
 * set_volume <id> weight|ssd_min|ssd_max|priority|name <value>.  A
 * reservation above the cap could never be honoured, and hybrid_check
 * calls such metadata broken: refuse the pair and change nothing.  Names
 * are unique within a pool.
 */
static int msg_set_volume(struct dmh_pool *pool, char **argv)
{
	struct dmh_volume *v = msg_volume(pool, argv[0], argv[1]);
	struct dmh_vol_controls c;
	int r;

	if (!v)
		return -EINVAL;
	get_controls(v, &c);
	if (parse_control(argv[2], argv[3], &c))
		return -EINVAL;
	r = dmh_md_set_controls(pool->md, v, &c);
	if (r == -EINVAL)
		DMERR("set_volume: ssd_min %llu would exceed ssd_max %llu (0 = no cap)",
		      c.ssd_min, c.ssd_max);
	else if (r == -EEXIST)
		DMERR("set_volume: another volume is already named '%s'",
		      c.name);
	return r;
}

/* pin <id> <start sector> <length> ssd|hdd|auto */
static int msg_pin(struct dmh_pool *pool, char **argv)
{
	struct dmh_volume *v = msg_volume(pool, argv[0], argv[1]);
	u64 start, len, cs = pool->chunk_sectors;
	int tier, r;

	if (!v)
		return -EINVAL;
	tier = !strcasecmp(argv[4], "ssd") ? DMH_PIN_SSD :
	       !strcasecmp(argv[4], "hdd") ? DMH_PIN_HDD :
	       !strcasecmp(argv[4], "auto") ? -1 : -2;
	if (kstrtou64(argv[2], 10, &start) || kstrtou64(argv[3], 10, &len) ||
	    !len || tier == -2 || len > v->size || start > v->size - len) {
		DMERR("pin: expected <volume id> <start> <length> ssd|hdd|auto");
		return -EINVAL;
	}
	/* Pins cover whole chunks: every chunk the range touches. */
	r = dmh_md_set_pin(pool->md, v, div64_u64(start, cs),
			   div64_u64(start + len + cs - 1, cs), tier);
	if (r)
		DMERR("pin: at most %u ranges per volume, %u per pool",
		      DMH_VOL_MAX_PINS, DMH_MAX_PINS);
	return r;
}

static int msg_migration(struct dmh_pool *pool, char **argv)
{
	if (strcasecmp(argv[1], "on") && strcasecmp(argv[1], "off")) {
		DMERR("migration: expected on or off");
		return -EINVAL;
	}
	dmh_policy_set_migration(pool->policy, !strcasecmp(argv[1], "on"));
	return 0;
}

/* evacuate on|off: empty the SSD, or use it again (dm-hybrid.rst). */
static int msg_evacuate(struct dmh_pool *pool, char **argv)
{
	if (strcasecmp(argv[1], "on") && strcasecmp(argv[1], "off")) {
		DMERR("evacuate: expected on or off");
		return -EINVAL;
	}
	if (!strcasecmp(argv[1], "off") && pool->ssd_next) {
		DMERR("evacuate: a loaded table changes the SSD: resume or clear it first");
		return -EBUSY;
	}
	dmh_policy_set_evacuate(pool->policy, !strcasecmp(argv[1], "on"));
	return 0;
}

static int msg_set(struct dmh_pool *pool, char **argv)
{
	return dmh_policy_set_knob(pool->policy, argv[1], argv[2], jiffies);
}

/* placement_map <id> [<buckets>]: the reply is the map. */
static int msg_placement_map(struct dmh_pool *pool, unsigned int argc,
			     char **argv, char *result, unsigned int maxlen)
{
	struct dmh_volume *v = msg_volume(pool, argv[0], argv[1]);
	unsigned int buckets = 64;

	if (!v)
		return -EINVAL;
	if (argc == 3 && (kstrtouint(argv[2], 10, &buckets) || !buckets ||
			  buckets > 1024)) {
		DMERR("placement_map: buckets must be from 1 to 1024");
		return -EINVAL;
	}
	return dmh_mon_placement_map(v, pool->chunk_sectors, buckets, result,
				     maxlen);
}

/*
 * list_volumes: one line per volume, in id order:
 *   <id> <size sectors> <name or -> <weight> <priority> <ssd_min>
 *   <ssd_max> <open count> <mapped chunks> <ssd chunks> <hdd chunks>
 * Runs with md_lock held, so the counts are one consistent snapshot.
 * Returns 1, which tells dm-ioctl that result holds a reply.
 */
static int msg_list_volumes(struct dmh_pool *pool, char *result,
			    unsigned int maxlen)
{
	struct dmh_volume *v;
	unsigned long id = 0;
	unsigned int sz = 0;

	if (maxlen)
		result[0] = '\0';
	while ((v = dmh_md_next_volume(pool->md, &id))) {
		DMEMIT("%s%u %llu %.*s %u %s %llu %llu %u %llu %llu %llu",
		       sz ? "\n" : "", v->id, (unsigned long long)v->size,
		       v->name[0] ? (int)strnlen(v->name, DMH_NAME_LEN) : 1,
		       v->name[0] ? v->name : "-", v->weight,
		       prio_name(v->priority), v->ssd_min, v->ssd_max,
		       v->open_count,
		       v->nr_chunks[DMH_TIER_SSD] + v->nr_chunks[DMH_TIER_HDD],
		       v->nr_chunks[DMH_TIER_SSD], v->nr_chunks[DMH_TIER_HDD]);
	}
	return 1;	/* the reply is in result */
}

struct pool_msg {
	const char *name;
	unsigned int min_args, max_args;	/* argv[0] included */
	bool changes;				/* needs rw, commits */
	int (*fn)(struct dmh_pool *pool, char **argv);
	const char *args;			/* for a wrong count */
};

#define VOL_ID	"<volume id 0..16777215>"
static_assert(DMH_VOLUME_ID_MAX == 16777215, "VOL_ID names the limit");

static const struct pool_msg pool_msgs[] = {
	{ "create_volume", 2, 2, true, msg_create_delete, VOL_ID },
	{ "delete_volume", 2, 2, true, msg_create_delete, VOL_ID },
	{ "set_volume", 4, 4, true, msg_set_volume, VOL_ID " <control> <value>" },
	{ "pin", 5, 5, true, msg_pin, VOL_ID " <start> <length> ssd|hdd|auto" },
	{ "migration", 2, 2, true, msg_migration, "on|off" },
	{ "evacuate", 2, 2, true, msg_evacuate, "on|off" },
	{ "set", 3, 3, true, msg_set, "<knob> <value>" },
};

/* Messages run with md_lock held; each one that changes state commits. */
static int pool_message(struct dm_target *ti, unsigned int argc, char **argv,
			char *result, unsigned int maxlen)
{
	struct dmh_pool *pool = ((struct pool_c *)ti->private)->pool;
	const struct pool_msg *m = NULL;
	unsigned int i;
	int r;

	for (i = 0; argc && i < ARRAY_SIZE(pool_msgs); i++)
		if (!strcasecmp(argv[0], pool_msgs[i].name))
			m = &pool_msgs[i];
	if (argc && !strcasecmp(argv[0], "placement_map") &&
	    (argc == 2 || argc == 3)) {
		mutex_lock(&pool->md_lock);
		r = msg_placement_map(pool, argc, argv, result, maxlen);
		mutex_unlock(&pool->md_lock);
		return r;
	}
	if (argc == 1 && !strcasecmp(argv[0], "list_volumes")) {
		mutex_lock(&pool->md_lock);
		r = msg_list_volumes(pool, result, maxlen);
		mutex_unlock(&pool->md_lock);
		return r;
	}
	if (!m) {
		DMERR("unsupported message '%s'", argc ? argv[0] : "");
		return -EINVAL;
	}
	if (argc < m->min_args || argc > m->max_args) {
		DMERR("message: expected '%s %s' (see dm-hybrid.rst)",
		      m->name, m->args);
		return -EINVAL;
	}
	mutex_lock(&pool->md_lock);
	if (pool->mode != DMH_MODE_RW) {
		DMERR("message: pool is %s", dmh_mode_name(pool->mode));
		r = -EROFS;
	} else {
		r = m->fn(pool, argv);
		if (!r)
			r = dmh_pool_commit(pool);
	}
	mutex_unlock(&pool->md_lock);
	return r;
}

static void emit_features(unsigned int f, u32 block_mib, char *result,
			  unsigned int maxlen, unsigned int *szp)
{
	unsigned int sz = *szp;

	DMEMIT("%u", hweight32(f) + (block_mib ? 2 : 0));
	if (f & DMH_F_NO_DISCARD_PASSDOWN)
		DMEMIT(" no_discard_passdown");
	if (f & DMH_F_READ_ONLY)
		DMEMIT(" read_only");
	if (f & DMH_F_ERROR_IF_NO_SPACE)
		DMEMIT(" error_if_no_space");
	if (block_mib)
		DMEMIT(" block_tier %u", block_mib);
	if (f & DMH_F_WRITE_STAGING)
		DMEMIT(" write_staging");
	if (f & DMH_F_PERSISTENT_STAGING)
		DMEMIT(" persistent_staging");
	*szp = sz;
}

/*
 * The fields after out_of_space: migration on|off, queued, done, sectors
 * moved, the knobs in DMH_KNOBS order up to heat_save_interval, the
 * migration backoffs, then the knobs added since (promote_free), so that
 * the fields parsers already know keep their positions.
 */
static void emit_migration(struct dmh_pool *pool, struct dmh_mig_stats *st,
			   char *result, unsigned int maxlen,
			   unsigned int *szp)
{
	const struct dmh_knobs *k = dmh_policy_knobs(pool->policy);
	unsigned int sz = *szp;

	DMEMIT(" %s %llu %llu %llu %u %u %u %u %u %u %u %u %llu %u",
	       k->migration ? "on" : "off", st->queued, st->done, st->sectors,
	       k->rate, k->hysteresis, k->half_life, k->reserve,
	       k->seq_cutoff, k->promote, k->tick_ms, k->heat_save,
	       st->backoffs, k->promote_free);
	*szp = sz;
}

/*
 * Status (INFO), fields in this order:
 *   <transaction id> <used metadata blocks>/<total metadata blocks>
 *   <chunk sectors> <used ssd chunks>/<total ssd chunks>
 *   <used hdd chunks>/<total hdd chunks> <volumes> <promotions>
 *   <demotions> <migrations in flight> rw|ro|fail
 *   <#feature args> <feature args>* needs_check|- out_of_space|-
 *   migration on|off <queued migrations> <migrations done> <sectors moved>
 *   <migration_rate> <hysteresis> <heat_half_life> <ssd_reserve>
 *   <seq_cutoff> <promote_threshold> <tick_ms> <heat_save_interval>
 *   <migration backoffs> <promote_free_threshold>
 *   <valid block slots>/<block slots> <block fills> <block hits>
 *   <dirty block slots> <block writebacks> ssd_failed|-
 *   <staging log blocks>/<staging log half> evacuating|-
 *   <ssd chunks and block slots holding data>
 */
static void pool_status(struct dm_target *ti, status_type_t type,
			unsigned int status_flags, char *result,
			unsigned int maxlen)
{
	struct pool_c *pc = ti->private;
	struct dmh_pool *pool = pc->pool;
	struct dmh_md_usage u;
	struct dmh_mig_stats st;
	struct dmh_blk_stats bs;
	unsigned int sz = 0;
	char buf[3][BDEVNAME_SIZE];

	switch (type) {
	case STATUSTYPE_INFO:
		mutex_lock(&pool->md_lock);
		dmh_md_usage(pool->md, &u);
		dmh_mig_get_stats(pool->mig, &st);
		DMEMIT("%llu %llu/%llu %u %llu/%llu %llu/%llu %u %llu %llu %d %s ",
		       u.txid, u.md_used, u.md_total, pool->chunk_sectors,
		       u.used[0], u.total[0], u.used[1], u.total[1],
		       u.nr_volumes, dmh_md_moves_to(pool->md, DMH_TIER_SSD),
		       dmh_md_moves_to(pool->md, DMH_TIER_HDD),
		       st.inflight, dmh_mode_name(pool->mode));
		emit_features(pool->features, pool->block_mib, result, maxlen,
			      &sz);
		DMEMIT(" %s %s", u.needs_check ? "needs_check" : "-",
		       pool->out_of_space ? "out_of_space" : "-");
		emit_migration(pool, &st, result, maxlen, &sz);
		dmh_blk_get_stats(pool->blk, &bs);
		DMEMIT(" %llu/%llu %llu %llu %llu %llu %s %llu/%llu", bs.valid,
		       bs.slots, bs.fills, bs.hits, bs.dirty, bs.writebacks,
		       pool->ssd_failed ? "ssd_failed" : "-", u.slog_used,
		       u.slog_half);
		DMEMIT(" %s %llu", dmh_policy_knobs(pool->policy)->evacuate ?
		       "evacuating" : "-", ssd_data_left(pool));
		mutex_unlock(&pool->md_lock);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s %s %u ",
		       format_dev_t(buf[0], pc->meta_dev->bdev->bd_dev),
		       format_dev_t(buf[1], pc->data_dev[0]->bdev->bd_dev),
		       format_dev_t(buf[2], pc->data_dev[1]->bdev->bd_dev),
		       pc->chunk_sectors);
		emit_features(pc->features, pc->block_mib, result, maxlen, &sz);
		break;
	case STATUSTYPE_IMA:
		*result = '\0';
		break;
	}
}

static int pool_iterate_devices(struct dm_target *ti,
				iterate_devices_callout_fn fn, void *data)
{
	struct pool_c *pc = ti->private;
	int t, r = 0;

	for (t = 0; t < DMH_NR_TIERS && !r; t++)
		r = fn(ti, pc->data_dev[t], 0,
		       bdev_nr_sectors(pc->data_dev[t]->bdev), data);
	return r;
}

static struct target_type pool_target = {
	.name = "hybrid-pool",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = pool_ctr,
	.dtr = pool_dtr,
	.map = pool_map,
	.postsuspend = pool_postsuspend,
	.preresume = pool_preresume,
	.resume = pool_resume,
	.message = pool_message,
	.status = pool_status,
	.iterate_devices = pool_iterate_devices,
};

/* -------------------------------------------------------- volume target */

static int bind_volume(struct hybrid_c *hc, u32 id, struct dm_target *ti)
{
	struct dmh_pool *pool = hc->pool;
	int r = 0;

	mutex_lock(&pool->md_lock);
	hc->vol = dmh_md_volume(pool->md, id);
	if (!hc->vol) {
		ti->error = "Volume does not exist; create it with message create_volume";
		r = -ENOENT;
	} else if (ti->len < hc->vol->size &&
		   dmh_md_tail_mapped(pool->md, hc->vol, ti->len)) {
		ti->error = "Cannot shrink a volume over mapped chunks; discard them first";
		r = -EINVAL;
	} else if (DIV_ROUND_UP_ULL(ti->len, pool->chunk_sectors) >
		   DMH_VCHUNK_MAX) {
		ti->error = "Volume too large";
		r = -EINVAL;
	} else {
		hc->vol->open_count++;
	}
	mutex_unlock(&pool->md_lock);
	return r;
}

static int find_pool_of(struct hybrid_c *hc, struct dm_target *ti)
{
	hc->pool = dmh_pool_get_by_dev(hc->pool_dev->bdev->bd_dev);
	if (!hc->pool) {
		ti->error = "Device is not an active hybrid-pool";
		return -EINVAL;
	}
	return 0;
}

/* hybrid <pool dev> <volume id> */
static int hybrid_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct hybrid_c *hc;
	u32 id;
	int r;

	if (argc != 2) {
		ti->error = "Expected: <pool dev> <volume id>";
		return -EINVAL;
	}
	if (parse_volume_id(argv[1], &id)) {
		ti->error = "Volume id must be a number from 0 to 16777215";
		return -EINVAL;
	}
	hc = kzalloc(sizeof(*hc), GFP_KERNEL);
	if (!hc) {
		ti->error = "Cannot allocate volume context";
		return -ENOMEM;
	}
	hc->ti = ti;
	r = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table),
			  &hc->pool_dev);
	if (r) {
		ti->error = "Error opening pool device";
		goto bad_dev;
	}
	r = find_pool_of(hc, ti);
	if (r)
		goto bad_pool;
	r = bind_volume(hc, id, ti);
	if (r)
		goto bad_vol;
	ti->private = hc;
	ti->per_io_data_size = sizeof(struct dmh_bio);
	ti->num_flush_bios = 1;
	ti->flush_supported = true;
	ti->num_discard_bios = 1;
	ti->discards_supported = true;
	ti->max_discard_granularity = true;
	return dm_set_target_max_io_len(ti, hc->pool->chunk_sectors);
bad_vol:
	dmh_pool_put(hc->pool);
bad_pool:
	dm_put_device(ti, hc->pool_dev);
bad_dev:
	kfree(hc);
	return r;
}

static void hybrid_dtr(struct dm_target *ti)
{
	struct hybrid_c *hc = ti->private;

	mutex_lock(&hc->pool->md_lock);
	hc->vol->open_count--;
	mutex_unlock(&hc->pool->md_lock);
	dmh_pool_put(hc->pool);
	dm_put_device(ti, hc->pool_dev);
	kfree(hc);
}

/* A grown or shrunk table resizes the volume, durably, before I/O. */
static int hybrid_preresume(struct dm_target *ti)
{
	struct hybrid_c *hc = ti->private;
	struct dmh_pool *pool = hc->pool;
	int r = 0;

	mutex_lock(&pool->md_lock);
	if (ti->len != hc->vol->size) {
		/* The chunks past the new end go, and their blocks with them. */
		if (ti->len < hc->vol->size)
			dmh_blk_drop_beyond(pool->blk, hc->vol,
					    round_up(ti->len, pool->chunk_sectors));
		r = dmh_md_set_size(pool->md, hc->vol, ti->len);
		if (!r)
			r = dmh_pool_commit(pool);
	}
	mutex_unlock(&pool->md_lock);
	if (r)
		DMERR("volume %u: cannot resize to %llu sectors: %d",
		      hc->vol->id, (unsigned long long)ti->len, r);
	return r;
}

/*
 * A volume suspends only once its bios end, and a write waiting for space
 * may wait for a minute -- for ever while the pool is suspended, which
 * stops the out-of-space timer.  So a noflush suspend hands such writes
 * back to dm core, which issues them again after resume (as dm-thin's
 * requeue mode does); any other suspend fails them with ENOSPC.
 */
static void hybrid_presuspend(struct dm_target *ti)
{
	struct hybrid_c *hc = ti->private;

	dmh_vol_no_space(hc->pool, hc->vol, dm_noflush_suspending(ti) ?
			 BLK_STS_DM_REQUEUE : BLK_STS_NOSPC);
}

/* Staged writes are volatile: a suspended volume's bytes are all on its chunks. */
static void hybrid_postsuspend(struct dm_target *ti)
{
	struct hybrid_c *hc = ti->private;

	dmh_blk_writeback_volume(hc->pool->blk, hc->vol);
}

/* The suspend was cancelled, or is over: writes wait for space again. */
static void hybrid_resume(struct dm_target *ti)
{
	struct hybrid_c *hc = ti->private;

	dmh_vol_no_space(hc->pool, hc->vol, BLK_STS_OK);
}

/*
 * Status (INFO): <mapped chunks> <ssd chunks> <hdd chunks> <read ios>
 *   <write ios> <read sectors> <write sectors> <ssd ios> <hdd ios>
 *   <promotions> <demotions> <sequential ios> <size histogram a-b-c-d-e-f>
 *   <weight> <ssd_min> <ssd_max> <priority> <block hits>
 *   <staged writes> <dirty blocks> <block slots> <hot chunks>
 *   <chunks due>
 */
static void hybrid_status(struct dm_target *ti, status_type_t type,
			  unsigned int status_flags, char *result,
			  unsigned int maxlen)
{
	struct hybrid_c *hc = ti->private;
	struct dmh_volume *v = hc->vol;
	struct dmh_vol_stats s;
	unsigned int sz = 0;
	char buf[BDEVNAME_SIZE];
	u64 ssd, hdd, *h = s.size_hist;

	switch (type) {
	case STATUSTYPE_INFO:
		ssd = READ_ONCE(v->nr_chunks[DMH_TIER_SSD]);
		hdd = READ_ONCE(v->nr_chunks[DMH_TIER_HDD]);
		dmh_mon_sum(v, &s);
		DMEMIT("%llu %llu %llu %llu %llu %llu %llu", ssd + hdd, ssd, hdd,
		       s.ios[0], s.ios[1], s.sectors[0], s.sectors[1]);
		DMEMIT(" %llu %llu %llu %llu %llu %llu-%llu-%llu-%llu-%llu-%llu",
		       s.tier_ios[0], s.tier_ios[1], READ_ONCE(v->promotions),
		       READ_ONCE(v->demotions), s.seq_ios,
		       h[0], h[1], h[2], h[3], h[4], h[5]);
		DMEMIT(" %u %llu %llu %s %llu %llu %llu", READ_ONCE(v->weight),
		       READ_ONCE(v->ssd_min), READ_ONCE(v->ssd_max),
		       prio_name(READ_ONCE(v->priority)), s.block_hits,
		       s.block_staged, s.block_dirty);
		DMEMIT(" %llu %llu %llu", dmh_blk_vol_slots(hc->pool->blk, v),
		       READ_ONCE(v->hot), READ_ONCE(v->chunk_due));
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %u", format_dev_t(buf, hc->pool_dev->bdev->bd_dev),
		       v->id);
		break;
	case STATUSTYPE_IMA:
		*result = '\0';
		break;
	}
}

static int hybrid_iterate_devices(struct dm_target *ti,
				  iterate_devices_callout_fn fn, void *data)
{
	struct hybrid_c *hc = ti->private;
	sector_t len = round_down(bdev_nr_sectors(hc->pool_dev->bdev),
				  hc->pool->chunk_sectors);

	/* As thin does: stack on the pool device, which stacks on the tiers. */
	return len ? fn(ti, hc->pool_dev, 0, len, data) : 0;
}

static void hybrid_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct hybrid_c *hc = ti->private;

	limits->discard_granularity = hc->pool->chunk_sectors << SECTOR_SHIFT;
	limits->max_hw_discard_sectors = hc->pool->chunk_sectors;
}

static struct target_type hybrid_target = {
	.name = "hybrid",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = hybrid_ctr,
	.dtr = hybrid_dtr,
	.map = dmh_hybrid_map,
	.end_io = dmh_hybrid_end_io,
	.presuspend = hybrid_presuspend,
	.postsuspend = hybrid_postsuspend,
	.presuspend_undo = hybrid_resume,
	.preresume = hybrid_preresume,
	.resume = hybrid_resume,
	.status = hybrid_status,
	.iterate_devices = hybrid_iterate_devices,
	.io_hints = hybrid_io_hints,
};

/* ---------------------------------------------------------------- module */

static int __init dm_hybrid_init(void)
{
	int r;

	r = dm_register_target(&pool_target);
	if (r)
		return r;
	r = dm_register_target(&hybrid_target);
	if (r)
		dm_unregister_target(&pool_target);
	return r;
}

static void __exit dm_hybrid_exit(void)
{
	dm_unregister_target(&hybrid_target);
	dm_unregister_target(&pool_target);
	/* Heat arrays replaced by a resize are freed by call_rcu() callbacks. */
	rcu_barrier();
}

module_init(dm_hybrid_init);
module_exit(dm_hybrid_exit);

MODULE_DESCRIPTION(DM_NAME " tiering of virtual machine disks between SSD and HDD");
MODULE_LICENSE("GPL");
MODULE_ALIAS("dm-hybrid-pool");
