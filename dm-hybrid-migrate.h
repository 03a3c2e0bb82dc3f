/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-hybrid migration engine: copies the chunks the policy asks to move,
 * throttled, while the volumes stay in use.  A unit with a lifecycle, as
 * dm-zoned's reclaim is: the pool target creates it, resumes and suspends
 * it with the pool, and its worker calls dmh_mig_process().  It calls the
 * monitor room (for work and its accounting), the map room and the cells
 * and epochs; nothing in it calls back into the target.
 */
#ifndef DM_HYBRID_MIGRATE_H
#define DM_HYBRID_MIGRATE_H

#include <linux/mutex.h>
#include <linux/workqueue.h>

#include "dm-hybrid-block.h"
#include "dm-hybrid-cell.h"
#include "dm-hybrid-monitor.h"

struct dm_kcopyd_client;
struct dmh_mig;

/*
 * What the engine uses of its pool; fixed for the engine's lifetime, but
 * for the SSD, which an evacuated pool may replace (dmh_mig_set_ssd()).
 */
struct dmh_mig_env {
	struct dmh_metadata *md;
	struct mutex *md_lock;		/* serialises every metadata change */
	struct dmh_policy *policy;
	struct dmh_cells *cells;
	struct dmh_epochs *epochs;
	struct dm_kcopyd_client *kc;
	struct block_device *bdev[DMH_NR_TIERS];
	u32 chunk_sectors;
	struct dmh_blk *blk;		/* the block tier, or NULL */
	struct workqueue_struct *wq;	/* ordered: the tick runs here too */
	struct work_struct *worker;	/* the pool worker: dmh_mig_process() */
};

/* Counters for the pool status line; read without locks. */
struct dmh_mig_stats {
	unsigned int inflight;		/* copies begun and not finished */
	u64 queued;			/* waiting for their epoch to drain */
	u64 done;
	u64 sectors;			/* moved, lifetime of this activation */
	u64 backoffs;			/* ticks slowed by foreground load */
};

/*
 * Process context, may block: an engine, stopped (dmh_mig_resume() starts
 * it); NULL when out of memory.
 */
struct dmh_mig *dmh_mig_create(const struct dmh_mig_env *env);
/* Process context; the engine is suspended. */
void dmh_mig_destroy(struct dmh_mig *mig);

/* Process context, md_lock not held: start ticking. */
void dmh_mig_resume(struct dmh_mig *mig);
/*
 * Process context, md_lock not held, may block: begin nothing new and wait
 * until the migrations in flight have finished (the pool worker must run).
 */
void dmh_mig_suspend(struct dmh_mig *mig);

/*
 * Pool worker, md_lock held: start the copies whose epoch drained and
 * finish the copies that ended.
 */
void dmh_mig_process(struct dmh_mig *mig);

/*
 * md_lock held, the engine suspended and nothing on the SSD (an evacuated
 * pool's SSD is replaced): copy to and from @bdev from now on.
 */
void dmh_mig_set_ssd(struct dmh_mig *mig, struct block_device *bdev);

/*
 * md_lock held: the pool's mode allows metadata changes (@rw) or not;
 * copies that end while it does not are undone.
 */
void dmh_mig_set_writable(struct dmh_mig *mig, bool rw);

/* Any context: the counters, each read once. */
void dmh_mig_get_stats(struct dmh_mig *mig, struct dmh_mig_stats *st);

#endif /* DM_HYBRID_MIGRATE_H */
