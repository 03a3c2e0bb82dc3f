// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid migration: moves chunks between the tiers as the policy
 * (dm-hybrid-monitor.c) asks, throttled, while the volumes stay in use.
 *
 * A migration of chunk (volume, vchunk) from home A to home B:
 *
 *  1. mig_begin(), worker: allocate B, mark the entry MIGRATE (reads keep
 *     going to A; writes are held in the chunk's cell) and ask for an
 *     epoch barrier;
 *  2. mig_copy(), worker, once that epoch drained, so that no write to A
 *     that predates step 1 is still in flight: kcopyd copies A to B;
 *  3. mig_copied(), kcopyd context: hand the cell back to the worker;
 *  4. mig_finish(), worker: map B, which frees A in the same transaction,
 *     so every committed state has the chunk wholly at A or wholly at B;
 *     release the held bios, which now go to B.  After a copy error the
 *     entry returns to A and B is freed: the chunk stays where it was.
 *
 * A is reused only once that transaction committed and an epoch drained
 * (the pool worker reclaims it), so reads still in flight to A complete
 * first.
 *
 * Locking: everything here runs with the pool's md_lock held, except
 * mig_copied(), which only queues.
 */
#include <linux/device-mapper.h>
#include <linux/dm-io.h>
#include <linux/dm-kcopyd.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "dm-hybrid-migrate.h"

#define MAX_INFLIGHT		32	/* two ticks' worth: copies may outlast a tick */
#define MAX_PLAN		16
#define SCAN_BUDGET		262144	/* chunks classified per tick */
#define BUSY_INFLIGHT		32	/* foreground bios that mean "busy" */
#define SECTORS_PER_MIB		2048

struct dmh_mig {
	struct dmh_mig_env env;
	unsigned int chunk_shift;
	struct delayed_work tick;
	wait_queue_head_t idle;		/* woken when @inflight drops to 0 */

	spinlock_t lock;		/* protects @copied */
	struct list_head copied;	/* copies that ended (kcopyd) */

	/* md_lock held, unless atomic or read for status. */
	struct list_head wait;		/* cells waiting for a drain */
	atomic_t inflight;
	bool stop;
	bool writable;
	u64 queued;
	u64 done;
	u64 sectors;
	s64 tokens;			/* sectors the rate allows now */
	unsigned long stamp;
	unsigned long busy;		/* dmh_epoch_busy_time() at @stamp */
	u64 backoffs;
};

static void wake_worker(struct dmh_mig *mig)
{
	queue_work(mig->env.wq, mig->env.worker);
}

static struct dm_io_region chunk_region(struct dmh_mig *mig, dmh_ploc_t p)
{
	return (struct dm_io_region) {
		.bdev = mig->env.bdev[dmh_ploc_tier(p)],
		.sector = dmh_ploc_index(p) << mig->chunk_shift,
		.count = mig->env.chunk_sectors,
	};
}

/*
 * Step 1.  The cell and the index memory that step 4 needs are taken
 * first (never waiting for a cell: the pool worker alone returns them), so
 * that a copy, once started, cannot fail for memory.
 */
static int mig_begin(struct dmh_mig *mig, struct dmh_move *mv)
{
	u64 e = dmh_lookup(mv->vol, mv->vchunk);
	struct dmh_cell *c;
	dmh_ploc_t p;
	int r;

	if (!e || (e & DMH_E_BUSY) ||
	    dmh_ploc_tier(dmh_entry_ploc(e)) == mv->to)
		return -EBUSY;
	r = dmh_md_alloc(mig->env.md, mv->to, &p);
	if (r)
		return r;
	c = dmh_cell_get(mig->env.cells, mv->vol, mv->vchunk,
			 DMH_CELL_MIGRATE, mig);
	r = PTR_ERR_OR_ZERO(c);
	if (!r) {
		r = dmh_md_reserve_map(mig->env.md, mv->vol, mv->vchunk, p, e);
		if (r)
			dmh_cell_cancel(mig->env.cells, c);
	}
	if (r) {
		dmh_md_put_chunk(mig->env.md, p);
		return r;
	}
	c->p = p;
	c->from = dmh_entry_ploc(e);
	/* The slot exists: replacing a value entry cannot fail. */
	dmh_md_set_entry(mv->vol, mv->vchunk, dmh_entry(c->from, DMH_E_MIGRATE));
	c->gen = dmh_epoch_barrier(mig->env.epochs);
	c->wb_stamp = dmh_blk_wb_stamp(mig->env.blk);
	dmh_policy_work_started(mv->vol, mv->to, false);
	list_add_tail(&c->list, &mig->wait);
	atomic_inc(&mig->inflight);
	mig->queued++;
	return 0;
}

/* Step 3, kcopyd context. */
static void mig_copied(int read_err, unsigned long write_err, void *context)
{
	struct dmh_cell *c = context;
	struct dmh_mig *mig = c->owner;
	unsigned long flags;

	c->error = read_err || write_err ? -EIO : 0;
	spin_lock_irqsave(&mig->lock, flags);
	list_add_tail(&c->list, &mig->copied);
	spin_unlock_irqrestore(&mig->lock, flags);
	wake_worker(mig);
}

/* Step 2. */
static void mig_copy(struct dmh_mig *mig, struct dmh_cell *c)
{
	struct dm_io_region from = chunk_region(mig, c->from);
	struct dm_io_region to = chunk_region(mig, c->p);

	mig->queued--;
	dm_kcopyd_copy(mig->env.kc, &from, 1, &to, 0, mig_copied, c);
}

/* Step 4. */
static void mig_finish(struct dmh_mig *mig, struct dmh_cell *c)
{
	unsigned int to = dmh_ploc_tier(c->p);
	int r = c->error;

	if (!r && !mig->writable)
		r = -EROFS;
	if (!r)
		r = dmh_md_map(mig->env.md, c->vol, c->vchunk, c->p);
	/* The block tier's copies of the old home are no use now. */
	if (!r)
		dmh_blk_drop_chunk(mig->env.blk, c->vol, c->vchunk);
	dmh_policy_work_done(c->vol, to, false, !r);
	if (r) {
		DMERR_LIMIT("migration of volume %u chunk %llu failed: %d",
			    c->vol->id, c->vchunk, r);
		/* An aborted transaction may have unmapped the source. */
		if (dmh_lookup(c->vol, c->vchunk) ==
		    dmh_entry(c->from, DMH_E_MIGRATE))
			dmh_md_set_entry(c->vol, c->vchunk,
					 dmh_entry(c->from, 0));
		dmh_md_unreserve_map(mig->env.md, c->vol, c->vchunk, c->p,
				     dmh_entry(c->from, 0));
		dmh_md_put_chunk(mig->env.md, c->p);
	} else {
		dmh_md_count_move(mig->env.md, to);
		WRITE_ONCE(mig->done, mig->done + 1);
		WRITE_ONCE(mig->sectors, mig->sectors + mig->env.chunk_sectors);
	}
	dmh_cell_put(mig->env.cells, c);
	if (atomic_dec_and_test(&mig->inflight))
		wake_up(&mig->idle);
}

/*
 * Pool worker, md_lock held: before step 2, a writeback of a staged block
 * of @c's chunk failed after the migration began (the HDD refuses that
 * region).  Give the chunk up, as a failed copy does: asking for the
 * writeback again and again would keep this migration, and so
 * dmh_mig_suspend(), waiting for ever.  The slot stays dirty.
 */
static bool mig_give_up(struct dmh_mig *mig, struct dmh_cell *c)
{
	if (!dmh_blk_wb_failed_since(mig->env.blk, c->vol,
				     c->vchunk << mig->chunk_shift,
				     mig->env.chunk_sectors, c->wb_stamp))
		return false;
	list_del(&c->list);
	mig->queued--;
	c->error = -EIO;
	mig_finish(mig, c);
	return true;
}

void dmh_mig_process(struct dmh_mig *mig)
{
	struct dmh_cell *c, *tmp;
	unsigned long flags;
	LIST_HEAD(done);

	list_for_each_entry_safe(c, tmp, &mig->wait, list) {
		if (!dmh_epoch_drained(mig->env.epochs, c->gen) ||
		    mig_give_up(mig, c))
			continue;
		/* Staged bytes reach the chunk before it is copied. */
		if (!dmh_blk_chunk_clean(mig->env.blk, c->vol, c->vchunk))
			continue;
		list_del(&c->list);
		mig_copy(mig, c);
	}
	spin_lock_irqsave(&mig->lock, flags);
	list_splice_init(&mig->copied, &done);
	spin_unlock_irqrestore(&mig->lock, flags);
	list_for_each_entry_safe(c, tmp, &done, list) {
		list_del(&c->list);
		mig_finish(mig, c);
	}
}

/* ------------------------------------------------------------ the tick */

/*
 * Token bucket in sectors.  When the volumes kept more than BUSY_INFLIGHT
 * bios in flight on average since the last tick, the rate drops to a
 * quarter, never to nothing: migration always progresses.
 */
static unsigned int mig_budget(struct dmh_mig *mig)
{
	const struct dmh_knobs *k = dmh_policy_knobs(mig->env.policy);
	unsigned long now = jiffies;
	unsigned long busy = dmh_epoch_busy_time(mig->env.epochs);
	u32 cs = mig->env.chunk_sectors;
	s64 rate = (s64)k->rate * SECTORS_PER_MIB;
	s64 add = div_s64(rate * jiffies_to_msecs(now - mig->stamp), 1000);
	s64 cap = max_t(s64, rate, cs);
	bool loaded = busy - mig->busy > BUSY_INFLIGHT * (now - mig->stamp);

	mig->stamp = now;
	mig->busy = busy;
	if (!k->rate)
		return MAX_PLAN;
	if (loaded) {
		add /= 4;
		WRITE_ONCE(mig->backoffs, mig->backoffs + 1);
	}
	mig->tokens = min(mig->tokens + add, cap);
	return mig->tokens > 0 ? div_s64(mig->tokens, cs) : 0;
}

static void plan_and_begin(struct dmh_mig *mig)
{
	struct dmh_move moves[MAX_PLAN];
	int slots = MAX_INFLIGHT - atomic_read(&mig->inflight);
	unsigned int n, i, budget = mig_budget(mig);
	bool metered = dmh_policy_knobs(mig->env.policy)->rate;

	if (slots <= 0 || !budget)
		return;
	n = dmh_policy_get_work(mig->env.policy, moves,
				min3(budget, (unsigned int)slots,
				     (unsigned int)MAX_PLAN),
				SCAN_BUDGET);
	for (i = 0; i < n; i++)
		if (!mig_begin(mig, &moves[i]) && metered)
			mig->tokens -= mig->env.chunk_sectors;
}

static void mig_tick(struct work_struct *ws)
{
	struct dmh_mig *mig = container_of(to_delayed_work(ws), struct dmh_mig,
					   tick);
	const struct dmh_knobs *k = dmh_policy_knobs(mig->env.policy);
	unsigned long delay;
	bool stop;

	mutex_lock(mig->env.md_lock);
	stop = mig->stop;
	/*
	 * Queued before a halving due at the same tick; the save reads the
	 * heat when its own worker runs, perhaps after the halving (heat is
	 * advice: either image reloads right).
	 */
	if (!stop && mig->writable &&
	    dmh_policy_heat_save_due(mig->env.policy, jiffies))
		dmh_md_save_heat(mig->env.md);
	if (!stop) {
		dmh_policy_tick(mig->env.policy, jiffies);
		/* An evacuation moves even with migration off. */
		if ((k->migration || k->evacuate) && mig->writable)
			plan_and_begin(mig);
	}
	delay = msecs_to_jiffies(k->tick_ms);
	mutex_unlock(mig->env.md_lock);
	wake_worker(mig);
	if (!stop)
		queue_delayed_work(mig->env.wq, &mig->tick, delay);
}

/* ------------------------------------------------------- the lifecycle */

struct dmh_mig *dmh_mig_create(const struct dmh_mig_env *env)
{
	struct dmh_mig *mig = kzalloc(sizeof(*mig), GFP_KERNEL);

	if (!mig)
		return NULL;
	mig->env = *env;
	mig->chunk_shift = __ffs(env->chunk_sectors);
	INIT_DELAYED_WORK(&mig->tick, mig_tick);
	init_waitqueue_head(&mig->idle);
	spin_lock_init(&mig->lock);
	INIT_LIST_HEAD(&mig->copied);
	INIT_LIST_HEAD(&mig->wait);
	atomic_set(&mig->inflight, 0);
	mig->stop = true;
	mig->writable = true;
	mig->stamp = jiffies;
	mig->busy = dmh_epoch_busy_time(env->epochs);
	return mig;
}

void dmh_mig_destroy(struct dmh_mig *mig)
{
	kfree(mig);
}

void dmh_mig_resume(struct dmh_mig *mig)
{
	mutex_lock(mig->env.md_lock);
	mig->stop = false;
	mutex_unlock(mig->env.md_lock);
	mod_delayed_work(mig->env.wq, &mig->tick,
			 msecs_to_jiffies(dmh_policy_knobs(mig->env.policy)->tick_ms));
}

/*
 * The copies in flight end through the pool worker (mig_finish()), which
 * wakes @idle when the last one did.  A copy still waiting for its epoch
 * needs the worker to notice the RCU grace period, which nothing signals:
 * the worker is queued again every POLL_DRAIN.
 */
#define POLL_DRAIN	msecs_to_jiffies(20)

void dmh_mig_suspend(struct dmh_mig *mig)
{
	mutex_lock(mig->env.md_lock);
	mig->stop = true;
	mutex_unlock(mig->env.md_lock);
	cancel_delayed_work_sync(&mig->tick);
	do {
		wake_worker(mig);
	} while (!wait_event_timeout(mig->idle, !atomic_read(&mig->inflight),
				     POLL_DRAIN));
}

void dmh_mig_set_ssd(struct dmh_mig *mig, struct block_device *bdev)
{
	mig->env.bdev[DMH_TIER_SSD] = bdev;
}

void dmh_mig_set_writable(struct dmh_mig *mig, bool rw)
{
	mig->writable = rw;
}

void dmh_mig_get_stats(struct dmh_mig *mig, struct dmh_mig_stats *st)
{
	st->inflight = atomic_read(&mig->inflight);
	st->queued = READ_ONCE(mig->queued);
	st->done = READ_ONCE(mig->done);
	st->sectors = READ_ONCE(mig->sectors);
	st->backoffs = READ_ONCE(mig->backoffs);
}
