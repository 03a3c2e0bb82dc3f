/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-hybrid target room, private to dm-hybrid.c (the two targets: their
 * constructors, lifecycle, messages and status), dm-hybrid-pool.c (the
 * pool objects: registry, creation, last put) and dm-hybrid-io.c (the
 * bio path, the pool worker, commits).  dm-hybrid.c calls the other two,
 * dm-hybrid-pool.c calls dm-hybrid-io.c, never the reverse.  No other file
 * includes this header: the pool object is theirs alone.
 *
 * The rooms and the one direction of their calls:
 *
 *   dm-hybrid.c -> dm-hybrid-pool.c
 *     -> dm-hybrid-io.c                 targets      (this header)
 *     -> dm-hybrid-migrate.c            copy engine  (dm-hybrid-migrate.h)
 *       -> dm-hybrid-monitor.c,         statistics,  (dm-hybrid-monitor.h)
 *          dm-hybrid-policy.c           decisions
 *         -> dm-hybrid-map.c,           tables and   (dm-hybrid-map.h)
 *            dm-hybrid-metadata.c,      on-disk form,
 *            dm-hybrid-slog.c           staging log
 *   dm-hybrid-cell.c                    cells, epochs (dm-hybrid-cell.h),
 *                                       used by the targets and migrate
 *
 * A room may call any room below it; nothing calls back up.
 */
#ifndef DM_HYBRID_H
#define DM_HYBRID_H

#include <linux/device-mapper.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "dm-hybrid-cell.h"
#include "dm-hybrid-migrate.h"
#include "dm-hybrid-monitor.h"

/* Pool features, as given on the table line. */
#define DMH_F_NO_DISCARD_PASSDOWN	BIT(0)
#define DMH_F_READ_ONLY			BIT(1)
#define DMH_F_ERROR_IF_NO_SPACE		BIT(2)
#define DMH_F_WRITE_STAGING		BIT(3)
#define DMH_F_PERSISTENT_STAGING	BIT(4)

#define DMH_COMMIT_PERIOD		HZ
#define DMH_BLOCK_TIER_MAX_MIB		16384	/* 4 Mi slots: 480 MiB of RAM at most */

enum dmh_mode { DMH_MODE_RW, DMH_MODE_RO, DMH_MODE_FAIL };

#define PB_COUNTED	BIT(0)
#define PB_ALLOC	BIT(1)
#define PB_COMMIT	BIT(2)
#define PB_STREAM	BIT(3)	/* part of a sequential stream */
#define PB_QUEUED	BIT(4)	/* queued for space since ->queued */
#define PB_SSD		BIT(5)	/* sent to the SSD: its error is a probe's */
#define PB_HDDW		BIT(6)	/* a write counted in vol->blk_hddw */
#define PB_WBWAIT	BIT(7)	/* waits for writebacks since ->wb_stamp */

/* Per-bio data of the hybrid target. */
struct dmh_bio {
	struct dmh_volume *vol;
	struct dmh_cell *cell;
	unsigned long queued;		/* jiffies when first out of space */
	unsigned long start;		/* jiffies when counted */
	u64 blk_cookie;			/* a staged write's, for its end */
	u8 epoch;
	u8 flags;
	u32 wb_stamp;			/* dmh_blk_wb_stamp() as it first waited */
};

/* One table of a pool. */
struct pool_c {
	struct dm_target *ti;
	struct dmh_pool *pool;
	struct dm_dev *meta_dev;
	struct dm_dev *data_dev[DMH_NR_TIERS];
	u32 chunk_sectors;
	unsigned int features;
	u32 block_mib;			/* block_tier <MiB>, 0: none */
};

/* One table of a volume. */
struct hybrid_c {
	struct dm_target *ti;
	struct dmh_pool *pool;
	struct dm_dev *pool_dev;
	struct dmh_volume *vol;
};

/* The pool object, shared by the pool's tables (reloads) and its volumes. */
struct dmh_pool {
	struct list_head list;		/* on dmh_pools, under dmh_pools_lock */
	unsigned int ref;		/* under dmh_pools_lock */
	bool busy;			/* loading or tearing down: ditto */
	struct mapped_device *pool_md;
	dev_t md_dev;
	struct pool_c *pc;		/* the bound (live) table */
	struct pool_c *ssd_next;	/* a loaded one changing the SSD: md_lock */
	struct dm_target *ti;
	struct block_device *bdev[DMH_NR_TIERS];
	u32 chunk_sectors;
	unsigned int chunk_shift;
	unsigned int features;
	bool passdown[DMH_NR_TIERS];
	enum dmh_mode mode;
	bool ssd_failed;		/* the SSD reads no more: md_lock */
	unsigned long ssd_suspect;	/* bit 0: an SSD bio failed */

	struct mutex md_lock;		/* serialises metadata changes */
	struct dmh_metadata *md;
	struct dmh_policy *policy;	/* md_lock */
	struct dmh_mig *mig;
	struct dmh_blk *blk;		/* the block tier, or NULL */
	u32 block_mib;			/* its size asked at creation */
	bool persist;			/* persistent_staging, ditto */
	struct dmh_cells cells;
	struct dmh_epochs epochs;

	struct workqueue_struct *wq;
	struct work_struct worker;
	struct delayed_work waker;
	struct dm_kcopyd_client *kc;

	spinlock_t lock;		/* protects the lists below */
	struct bio_list deferred;
	struct bio_list flush_bios;
	struct bio_list alloc_done;
	struct bio_list commit_waiters;
	struct list_head zeroed;
	bool commit_due;

	/* Worker only (md_lock held). */
	struct bio_list no_space;
	struct bio_list wb_parked;	/* waiting for a block writeback */
	struct bio_list flush_synced;	/* waiting for all asked writebacks */
	bool out_of_space;
	u64 reclaim_txid;		/* frees up to here ... */
	u64 reclaim_gen;		/* ... once this generation drained */
};

static inline const char *dmh_mode_name(enum dmh_mode m)
{
	return m == DMH_MODE_RW ? "rw" : m == DMH_MODE_RO ? "ro" : "fail";
}

/* dm-hybrid-pool.c: process context, may block (a load, a last put). */

/*
 * The pool of pool table @pc: the live one if @pc reloads its device, else
 * a new one with its metadata loaded; a reference, or ERR_PTR() with
 * *@error set.
 */
struct dmh_pool *dmh_pool_get(struct pool_c *pc, char **error);
/* A reference to the pool whose pool device is @dev, or NULL. */
struct dmh_pool *dmh_pool_get_by_dev(dev_t dev);
/* Drop a reference; the last commits and frees the pool. */
void dmh_pool_put(struct dmh_pool *pool);

/* dm-hybrid-io.c */

/*
 * md_lock held, may block: flush the data devices, then commit the
 * metadata; a failure changes the pool's mode.
 */
int dmh_pool_commit(struct dmh_pool *pool);
/* md_lock held, no I/O: change the pool's mode and raise a dm event. */
void dmh_pool_set_mode(struct dmh_pool *pool, enum dmh_mode m);
/* md_lock held, no I/O: retry the writes queued for space. */
void dmh_requeue_no_space(struct dmh_pool *pool);
/*
 * Takes md_lock, no I/O: from now on end @v's writes that find no space
 * with @status, those queued already too; BLK_STS_OK queues them again.
 * A volume's presuspend must not wait for space that may never come.
 */
void dmh_vol_no_space(struct dmh_pool *pool, struct dmh_volume *v,
		      blk_status_t status);
/* The pool's work items (pool->worker, pool->waker); take md_lock. */
void dmh_pool_worker(struct work_struct *ws);
void dmh_pool_waker(struct work_struct *ws);
/* The hybrid target's map and end_io hooks, as dm core calls them. */
int dmh_hybrid_map(struct dm_target *ti, struct bio *bio);
int dmh_hybrid_end_io(struct dm_target *ti, struct bio *bio,
		      blk_status_t *error);

#endif /* DM_HYBRID_H */
