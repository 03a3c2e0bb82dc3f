// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid bio path and pool worker.
 *
 * map() remaps a bio whose chunk has a home, without sleeping or locking
 * (an RCU xarray lookup).  Everything else -- a first write that allocates
 * and zeroes a chunk, discards, flush and FUA, bios to a chunk that is
 * busy -- goes to one ordered worker, which alone changes the metadata
 * (with md_lock held), commits, and returns freed chunks to the allocator
 * once their epoch drained (dm-hybrid-cell.h).
 */
#include <linux/blkdev.h>
#include <linux/dm-io.h>
#include <linux/dm-kcopyd.h>
#include <linux/rcupdate.h>

#include "dm-hybrid.h"

#define NO_SPACE_TIMEOUT	(60 * HZ)

static struct dmh_bio *dmh_pb(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct dmh_bio));
}

static u64 bio_vchunk(struct dmh_pool *pool, struct bio *bio)
{
	return bio->bi_iter.bi_sector >> pool->chunk_shift;
}

/* Count @bio in the current epoch before its chunk is looked up. */
static void count_bio(struct dmh_pool *pool, struct dmh_bio *pb)
{
	pb->epoch = dmh_epoch_enter(&pool->epochs);
	pb->start = jiffies;
	pb->flags |= PB_COUNTED;
}

static void uncount_bio(struct dmh_pool *pool, struct dmh_bio *pb)
{
	dmh_epoch_exit(&pool->epochs, pb->epoch, pb->start);
	pb->flags &= ~PB_COUNTED;
}

static void wake_worker(struct dmh_pool *pool)
{
	queue_work(pool->wq, &pool->worker);
}

/* -------------------------------------------------------------- bio util */

static void end_bio(struct bio *bio, blk_status_t status)
{
	bio->bi_status = status;
	bio_endio(bio);
}

/* Is the SSD being emptied (message "evacuate on")?  Any context. */
static bool evacuating(struct dmh_pool *pool)
{
	return READ_ONCE(dmh_policy_knobs(pool->policy)->evacuate);
}

static unsigned int blk_flags(struct dmh_pool *pool, struct dmh_bio *pb)
{
	/* Scans neither stage nor promote; an evacuation takes no slot. */
	if ((pb->flags & PB_STREAM) || evacuating(pool))
		return 0;
	if (READ_ONCE(pool->features) & DMH_F_WRITE_STAGING)
		return DMH_BLK_NOTE | DMH_BLK_SPLIT | DMH_BLK_FILL |
		       DMH_BLK_STAGE;
	return DMH_BLK_NOTE | DMH_BLK_SPLIT | DMH_BLK_FILL;
}

/*
 * Any context: @bio, a write to @v's HDD chunk, asks the block tier where
 * to go.  It counts in @v->blk_hddw before the tier looks its block up,
 * and while it is in flight if it goes home: a fill from a read checks
 * that count after it indexed its slot (dm-hybrid-readfill.c).
 */
static enum dmh_blk_route map_hdd_write(struct dmh_pool *pool,
					struct bio *bio, dmh_ploc_t p,
					unsigned int flags, sector_t *ssd)
{
	struct dmh_bio *pb = dmh_pb(bio);
	atomic_t *hddw = &pb->vol->blk_hddw;
	enum dmh_blk_route r;

	atomic_inc(hddw);
	/* Pairs with the barrier in dmh_blk_read_fill(). */
	smp_mb__after_atomic();
	r = dmh_blk_map(pool->blk, pb->vol, bio, p, flags, ssd,
			&pb->blk_cookie);
	if (r == DMH_BLK_HOME)
		pb->flags |= PB_HDDW;
	else
		atomic_dec(hddw);
	return r;
}

/* remap()'s answers: dmh_blk_map()'s, and one of its own. */
enum { ROUTE_LOST = DMH_BLK_TAKEN + 1 };	/* needs the dead SSD: fail it */

/*
 * The SSD is dead (pool->ssd_failed): is route @r of a bio to @tier lost?
 * A slot is: the clean ones are dropped, and a dirty one holds the only
 * copy of its block, whose HDD bytes are stale.  So is a bio that waits
 * for a dirty slot's writeback, which can never come, unless it can be
 * @split around the slot (map context).
 */
static bool lost_route(enum dmh_blk_route r, unsigned int tier,
		       bool split)
{
	return tier == DMH_TIER_SSD || r == DMH_BLK_SLOT ||
	       (r == DMH_BLK_WAIT && !split);
}

/*
 * Send @bio, counted in the current epoch, to @p or to a slot of the
 * block tier (dm-hybrid-block.h), which may stage or split it if @stage
 * (map context: the worker can do neither).
 * DMH_BLK_WAIT leaves it untouched: a dirty slot overlaps it, or it is to
 * be split, and *@split is then what it may take first (0: nothing).
 * ROUTE_LOST leaves it untouched too: it needs the dead SSD.
 */
static int remap(struct dmh_pool *pool, struct bio *bio, dmh_ploc_t p,
		 bool stage, sector_t *split)
{
	struct dmh_bio *pb = dmh_pb(bio);
	sector_t off = bio->bi_iter.bi_sector & (pool->chunk_sectors - 1);
	enum dmh_blk_route r = DMH_BLK_HOME;
	unsigned int tier = dmh_ploc_tier(p);
	bool dead = READ_ONCE(pool->ssd_failed);
	unsigned int flags = blk_flags(pool, pb);
	sector_t ssd = 0;

	if (!stage)
		flags &= ~(DMH_BLK_STAGE | DMH_BLK_SPLIT | DMH_BLK_FILL);
	if (dead)	/* nothing new for the SSD, not even a staged write */
		flags &= ~(DMH_BLK_STAGE | DMH_BLK_NOTE);
	if (tier == DMH_TIER_HDD && pool->blk && op_is_write(bio_op(bio)))
		r = map_hdd_write(pool, bio, p, flags, &ssd);
	else if (tier == DMH_TIER_HDD)
		r = dmh_blk_map(pool->blk, pb->vol, bio, p, flags, &ssd,
				&pb->blk_cookie);
	if (unlikely(dead) && lost_route(r, tier, stage && ssd))
		return ROUTE_LOST;
	if (r == DMH_BLK_TAKEN) {
		dmh_mon_tier(pb->vol, DMH_TIER_HDD);
		return r;
	}
	if (r == DMH_BLK_WAIT) {
		*split = ssd;
		return r;
	}
	if (r == DMH_BLK_SLOT)
		tier = DMH_TIER_SSD;
	if (tier == DMH_TIER_SSD)
		pb->flags |= PB_SSD;
	dmh_mon_tier(pb->vol, tier);
	bio_set_dev(bio, pool->bdev[tier]);
	bio->bi_iter.bi_sector = r == DMH_BLK_SLOT ? ssd :
		(dmh_ploc_index(p) << pool->chunk_shift) + off;
	return r;
}

/*
 * Worker, md_lock held: @bio, uncounted, waits on pool->wb_parked for the
 * writeback of the dirty slots it overlaps; dmh_pool_worker() sends it
 * back here whenever a writeback ended.  A region of the HDD may fail
 * every writeback of a slot: once one it waits for failed after it first
 * waited, it fails rather than wait again (and ask again: a suspend of
 * the pool waits for the writebacks in flight).  Nothing of it was
 * written; the slot stays dirty, still serves its block, and the next
 * writeback (a flush, a suspend, the background ones) copies it once the
 * HDD takes it.
 */
static void wait_writeback(struct dmh_pool *pool, struct bio *bio)
{
	struct dmh_bio *pb = dmh_pb(bio);
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned int len = bio_sectors(bio);

	if (!(pb->flags & PB_WBWAIT)) {
		pb->flags |= PB_WBWAIT;
		pb->wb_stamp = dmh_blk_wb_stamp(pool->blk);
	} else if (dmh_blk_wb_failed_since(pool->blk, pb->vol, sector, len,
					   pb->wb_stamp)) {
		end_bio(bio, BLK_STS_IOERR);
		return;
	}
	dmh_blk_sync_range(pool->blk, pb->vol, sector, len);
	bio_list_add(&pool->wb_parked, bio);
}

/*
 * Worker: send @bio to its home @p, counted in the epoch; one that a
 * dirty slot holds back waits, uncounted, for a writeback to end; one
 * that needs the dead SSD fails.  The worker cannot split a bio, so it
 * stages nothing.
 */
static void remap_and_issue(struct dmh_pool *pool, struct bio *bio,
			    dmh_ploc_t p)
{
	struct dmh_bio *pb = dmh_pb(bio);
	sector_t split;
	int r;

	count_bio(pool, pb);
	r = remap(pool, bio, p, false, &split);
	if (r == ROUTE_LOST) {
		uncount_bio(pool, pb);
		end_bio(bio, BLK_STS_IOERR);
		return;
	}
	if (r == DMH_BLK_WAIT) {
		uncount_bio(pool, pb);
		wait_writeback(pool, bio);
		return;
	}
	submit_bio_noacct(bio);
}

static void defer_bio(struct dmh_pool *pool, struct bio_list *list,
		      struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&pool->lock, flags);
	bio_list_add(list, bio);
	spin_unlock_irqrestore(&pool->lock, flags);
	wake_worker(pool);
}

static void take_list(struct dmh_pool *pool, struct bio_list *from,
		      struct bio_list *to)
{
	unsigned long flags;

	bio_list_init(to);
	spin_lock_irqsave(&pool->lock, flags);
	bio_list_merge(to, from);
	bio_list_init(from);
	spin_unlock_irqrestore(&pool->lock, flags);
}

static void end_list(struct bio_list *bios, blk_status_t status)
{
	struct bio *bio;

	while ((bio = bio_list_pop(bios)))
		end_bio(bio, status);
}

/* ------------------------------------------------------------ pool mode */

void dmh_pool_set_mode(struct dmh_pool *pool, enum dmh_mode m)
{
	if (pool->mode == m)
		return;
	DMERR("pool %s: switching to %s mode", dm_device_name(pool->pool_md),
	      dmh_mode_name(m));
	if (m != DMH_MODE_RW) {
		dmh_md_set_read_only(pool->md);
		dmh_mig_set_writable(pool->mig, false);
		/* An abort may put chunks back where copies do not match. */
		dmh_blk_drop_all(pool->blk);
	}
	WRITE_ONCE(pool->mode, m);
	if (pool->ti)
		dm_table_event(pool->ti->table);
}

/* ------------------------------------------------------------ dead SSD */

/* Process context: read one page at @sector of the SSD. */
static int ssd_read(struct dmh_pool *pool, struct page *page, sector_t sector)
{
	struct bio_vec bv;
	struct bio bio;

	bio_init(&bio, pool->bdev[DMH_TIER_SSD], &bv, 1, REQ_OP_READ);
	bio.bi_iter.bi_sector = sector;
	__bio_add_page(&bio, page, PAGE_SIZE, 0);
	return submit_bio_wait(&bio);
}

/*
 * md_lock held, may block: does the SSD still read?  Its first and its
 * last page are read: a bad sector fails one of them, a dead device both.
 */
static bool ssd_reads(struct dmh_pool *pool)
{
	sector_t last = bdev_nr_sectors(pool->bdev[DMH_TIER_SSD]) -
			(PAGE_SIZE >> SECTOR_SHIFT);
	struct page *page = alloc_page(GFP_NOIO);
	bool ok;

	if (!page)
		return true;	/* the next error asks again */
	ok = !ssd_read(pool, page, 0) || !ssd_read(pool, page, last);
	__free_page(page);
	return ok;
}

/*
 * md_lock held, may block: an SSD flush or bio failed.  An SSD that no
 * longer reads at all is dead (dm-hybrid.rst, "A dying SSD"): from now on
 * the pool sends it nothing and fails at once every bio that needs it;
 * the HDD goes on serving its chunks.  One bad region or a failed flush
 * alone is no death: those errors stay the bios' own.
 */
static bool ssd_dead(struct dmh_pool *pool)
{
	if (pool->ssd_failed)
		return true;
	if (ssd_reads(pool))
		return false;
	DMERR("pool %s: the SSD fails every read: serving HDD chunks only",
	      dm_device_name(pool->pool_md));
	WRITE_ONCE(pool->ssd_failed, true);
	dmh_blk_ssd_dead(pool->blk);
	if (pool->ti)
		dm_table_event(pool->ti->table);
	return true;
}

/*
 * Flush the data devices; a dead SSD is left out.  The flush that finds
 * it dead still fails in rw mode, so that the open transaction, whose
 * first writes and copies to the SSD are lost, aborts (ro mode); in ro
 * mode only the HDD's flush counts.
 */
static int flush_data(struct dmh_pool *pool)
{
	int r = 0, r2;

	if (!pool->ssd_failed) {
		r = blkdev_issue_flush(pool->bdev[DMH_TIER_SSD]);
		if (r && ssd_dead(pool) && pool->mode != DMH_MODE_RW)
			r = 0;
	}
	r2 = blkdev_issue_flush(pool->bdev[DMH_TIER_HDD]);
	return r ? r : r2;
}

/*
 * A commit failed, or a data-device flush before it: the open transaction
 * may map chunks whose data never reached the media, so it must never
 * commit.  As dm-thin does on a metadata failure: ro mode, and the maps
 * back to the last committed state (dmh_md_abort()).
 */
static void abort_transaction(struct dmh_pool *pool)
{
	dmh_pool_set_mode(pool, DMH_MODE_RO);
	dmh_md_abort(pool->md);
}

/*
 * md_lock held.  Data devices are flushed first, so that no
 * committed mapping ever points at data (or at a previous owner's data)
 * still in a volatile cache.  A failed flush aborts the transaction in rw
 * mode: a later commit could otherwise map a first write whose zeroing the
 * device lost, showing the chunk's previous owner.  In ro mode the data
 * devices are flushed too, even when uncommitted changes make the commit
 * fail anyway: writes to committed chunks still go on, and a data device
 * that cannot flush must take the pool to fail.
 */
static int commit_flushed(struct dmh_pool *pool)
{
	int r;

	r = flush_data(pool);
	if (r) {
		DMERR_LIMIT("pool %s: flushing data devices failed: %d",
			    dm_device_name(pool->pool_md), r);
		if (pool->mode == DMH_MODE_RW)
			abort_transaction(pool);
		else
			dmh_pool_set_mode(pool, DMH_MODE_FAIL);
		return r;
	}
	if (pool->mode != DMH_MODE_RW && dmh_md_dirty(pool->md))
		return -EIO;
	r = dmh_md_commit(pool->md);
	if (r) {
		DMERR("pool %s: metadata commit failed: %d",
		      dm_device_name(pool->pool_md), r);
		abort_transaction(pool);
	}
	return r;
}

/*
 * Commit with md_lock held: with persistent_staging the block tier's
 * records first (dmh_blk_log()), then the data devices' flush and the
 * metadata (commit_flushed()).
 */
int dmh_pool_commit(struct dmh_pool *pool)
{
	int r;

	/* Only staged writes that ended before the flush may be recorded. */
	r = pool->mode == DMH_MODE_RW ? dmh_blk_log(pool->blk) : 0;
	if (r)
		abort_transaction(pool);
	else
		r = commit_flushed(pool);
	dmh_blk_logged(pool->blk, !r);
	return r;
}

/* --------------------------------------------------------- allocation */

/* The first write of a chunk failed: the chunk was never visible. */
static void fail_alloc(struct dmh_pool *pool, struct dmh_cell *c,
		       blk_status_t status)
{
	struct bio *bio = c->bio;

	dmh_policy_work_done(c->vol, dmh_ploc_tier(c->p), true, false);
	dmh_md_set_entry(c->vol, c->vchunk, 0);
	dmh_md_unreserve_map(pool->md, c->vol, c->vchunk, c->p, 0);
	dmh_md_put_chunk(pool->md, c->p);
	dmh_cell_put(&pool->cells, c);
	end_bio(bio, status);
}

static void issue_alloc_write(struct dmh_pool *pool, struct dmh_cell *c)
{
	struct dmh_bio *pb = dmh_pb(c->bio);

	pb->flags |= PB_ALLOC | (dmh_ploc_tier(c->p) == DMH_TIER_SSD ? PB_SSD : 0);
	pb->cell = c;
	/* A fresh chunk: no slot holds its blocks (unmaps drop them). */
	count_bio(pool, pb);
	dmh_mon_tier(pb->vol, dmh_ploc_tier(c->p));
	bio_set_dev(c->bio, pool->bdev[dmh_ploc_tier(c->p)]);
	c->bio->bi_iter.bi_sector = (dmh_ploc_index(c->p) << pool->chunk_shift) +
		(c->bio->bi_iter.bi_sector & (pool->chunk_sectors - 1));
	submit_bio_noacct(c->bio);
}

/* kcopyd context: the rest of a fresh chunk is zeroed. */
static void zero_done(int read_err, unsigned long write_err, void *context)
{
	struct dmh_cell *c = context;
	struct dmh_pool *pool = c->owner;
	unsigned long flags;

	if (read_err || write_err) {
		WRITE_ONCE(c->error, -EIO);
		if (dmh_ploc_tier(c->p) == DMH_TIER_SSD)
			set_bit(0, &pool->ssd_suspect);	/* is it dead? */
	}
	if (!atomic_dec_and_test(&c->zeroing))
		return;
	spin_lock_irqsave(&pool->lock, flags);
	list_add_tail(&c->list, &pool->zeroed);
	spin_unlock_irqrestore(&pool->lock, flags);
	wake_worker(pool);
}

/*
 * A partial write to a fresh chunk: zero what the bio does not cover, so
 * the chunk never shows a previous owner's data, then issue the bio.  One
 * kcopyd job per region: a multi-destination job writes the first
 * destination's length to every destination.
 */
static void zero_and_write(struct dmh_pool *pool, struct dmh_cell *c)
{
	struct bio *bio = c->bio;
	struct block_device *bdev = pool->bdev[dmh_ploc_tier(c->p)];
	sector_t base = dmh_ploc_index(c->p) << pool->chunk_shift;
	sector_t off = bio->bi_iter.bi_sector & (pool->chunk_sectors - 1);
	sector_t end = off + bio_sectors(bio);
	struct dm_io_region r[2] = {
		{ bdev, base, off },
		{ bdev, base + end, pool->chunk_sectors - end },
	};
	int i;

	atomic_set(&c->zeroing, !!r[0].count + !!r[1].count);
	if (!atomic_read(&c->zeroing)) {
		issue_alloc_write(pool, c);
		return;
	}
	for (i = 0; i < 2; i++)
		if (r[i].count)
			dm_kcopyd_zero(pool->kc, 1, &r[i], 0, zero_done, c);
}

/*
 * @bio found no free chunk: queue it until space comes, or end it.  It is
 * stamped once: a retry that finds no space again does not restart its
 * timeout.
 */
static void no_space(struct dmh_pool *pool, struct bio *bio)
{
	struct dmh_bio *pb = dmh_pb(bio);
	blk_status_t status = pb->vol->no_space_status;

	if (pool->features & DMH_F_ERROR_IF_NO_SPACE)
		status = BLK_STS_NOSPC;
	if (status) {
		end_bio(bio, status);
		return;
	}
	if (!(pb->flags & PB_QUEUED)) {
		pb->queued = jiffies;
		pb->flags |= PB_QUEUED;
	}
	bio_list_add(&pool->no_space, bio);
	if (!pool->out_of_space) {
		pool->out_of_space = true;
		DMWARN("pool %s: out of data space, queueing writes",
		       dm_device_name(pool->pool_md));
		if (pool->ti)
			dm_table_event(pool->ti->table);
	}
}

/*
 * A free chunk for @bio, preferably on the tier the policy places it, with
 * the index memory its mapping will need reserved.
 */
static int take_chunk(struct dmh_pool *pool, struct bio *bio, u64 vchunk,
		      dmh_ploc_t *p)
{
	struct dmh_bio *pb = dmh_pb(bio);
	unsigned int tier;
	int r;

	tier = dmh_policy_place(pool->policy, pb->vol, vchunk,
				pb->flags & PB_STREAM);
	r = dmh_md_alloc(pool->md, tier, p);
	if (r == -ENOSPC)
		r = dmh_md_alloc(pool->md, !tier, p);
	if (r)
		return r;
	r = dmh_md_reserve_map(pool->md, pb->vol, vchunk, *p, 0);
	if (r)
		dmh_md_put_chunk(pool->md, *p);
	return r;
}

/*
 * Worker, md_lock held: @bio is the first write to an unmapped chunk.
 * What may run short (a cell, index memory) is taken before the chunk is
 * marked busy, the point of no return.  A shortage hands @bio back
 * (-EAGAIN, -ENOMEM) instead of failing it, as dm-thin's
 * ensure_next_mapping() does; the worker never sleeps for a cell, since
 * only it returns them.
 */
static int start_alloc(struct dmh_pool *pool, struct bio *bio)
{
	struct dmh_volume *v = dmh_pb(bio)->vol;
	u64 vchunk = bio_vchunk(pool, bio);
	struct dmh_cell *c;
	dmh_ploc_t p;
	int r;

	c = dmh_cell_get(&pool->cells, v, vchunk, DMH_CELL_ALLOC, pool);
	if (IS_ERR(c))
		return PTR_ERR(c);
	r = take_chunk(pool, bio, vchunk, &p);
	if (r) {
		dmh_cell_cancel(&pool->cells, c);
		if (r == -ENOMEM)
			return r;
		if (r == -ENOSPC)
			no_space(pool, bio);
		else
			end_bio(bio, BLK_STS_IOERR);
		return 0;
	}
	pool->out_of_space = false;
	/* Reserved by take_chunk(): this store cannot fail. */
	dmh_md_set_entry(v, vchunk, dmh_entry(p, DMH_E_ALLOC));
	c->p = p;
	c->bio = bio;
	dmh_policy_work_started(v, dmh_ploc_tier(p), true);
	zero_and_write(pool, c);
	return 0;
}

/* Worker: the first write of a chunk completed. */
static void finish_alloc(struct dmh_pool *pool, struct bio *bio)
{
	struct dmh_cell *c = dmh_pb(bio)->cell;
	int r;

	if (bio->bi_status) {
		fail_alloc(pool, c, bio->bi_status);
		return;
	}
	r = dmh_md_map(pool->md, c->vol, c->vchunk, c->p);
	if (r) {
		fail_alloc(pool, c, errno_to_blk_status(r));
		return;
	}
	dmh_policy_work_done(c->vol, dmh_ploc_tier(c->p), true, true);
	dmh_cell_put(&pool->cells, c);
	if (bio->bi_opf & REQ_FUA)
		defer_bio(pool, &pool->commit_waiters, bio);
	else
		bio_endio(bio);
}

/* ---------------------------------------------------------------- worker */

static void hold_bio(struct dmh_pool *pool, struct bio *bio)
{
	struct dmh_bio *pb = dmh_pb(bio);
	struct dmh_cell *c = dmh_cell_find(pb->vol, bio_vchunk(pool, bio));

	if (WARN_ON_ONCE(!c)) {
		end_bio(bio, BLK_STS_IOERR);
		return;
	}
	bio_list_add(&c->held, bio);
}

/* Worker, md_lock held: -ENOMEM hands @bio back for a later pass. */
static int process_discard(struct dmh_pool *pool, struct bio *bio, u64 e)
{
	struct dmh_volume *v = dmh_pb(bio)->vol;
	sector_t off = bio->bi_iter.bi_sector & (pool->chunk_sectors - 1);
	bool whole = !off && (bio_sectors(bio) == pool->chunk_sectors ||
			      bio_end_sector(bio) >= v->size);
	dmh_ploc_t p = dmh_entry_ploc(e);
	int r;

	if (!e) {
		bio_endio(bio);
		return 0;
	}
	if (pool->mode != DMH_MODE_RW) {
		end_bio(bio, BLK_STS_IOERR);
		return 0;
	}
	if (whole)
		dmh_blk_drop_chunk(pool->blk, v, bio_vchunk(pool, bio));
	r = whole ? dmh_md_unmap(pool->md, v, bio_vchunk(pool, bio)) : 0;
	if (r == -ENOMEM)
		return r;
	if (r)
		end_bio(bio, errno_to_blk_status(r));
	else if (pool->passdown[dmh_ploc_tier(p)])
		remap_and_issue(pool, bio, p);
	else
		bio_endio(bio);
	return 0;
}

/*
 * Worker, md_lock held: route one deferred bio.  Non-zero when a shortage
 * of cells or memory hands it back; the pass stops there.
 */
static int process_bio(struct dmh_pool *pool, struct bio *bio)
{
	struct dmh_bio *pb = dmh_pb(bio);
	u64 e = dmh_lookup(pb->vol, bio_vchunk(pool, bio));
	bool write = op_is_write(bio_op(bio));

	if ((e & DMH_E_ALLOC) || ((e & DMH_E_MIGRATE) && write)) {
		hold_bio(pool, bio);
	} else if (bio_op(bio) == REQ_OP_DISCARD) {
		return process_discard(pool, bio, e);
	} else if (e) {
		/*
		 * With persistent_staging the write may take a slot out of
		 * the index that the staging log calls dirty: the log must
		 * say otherwise before the write is acknowledged.
		 */
		if ((bio->bi_opf & REQ_FUA) &&
		    (dmh_md_dirty(pool->md) || dmh_blk_persistent(pool->blk)))
			pb->flags |= PB_COMMIT;
		remap_and_issue(pool, bio, dmh_entry_ploc(e));
	} else if (!write) {
		zero_fill_bio(bio);
		bio_endio(bio);
	} else if (pool->mode != DMH_MODE_RW) {
		end_bio(bio, BLK_STS_IOERR);
	} else {
		return start_alloc(pool, bio);
	}
	return 0;
}

/*
 * Worker: put @bio and the rest of this pass's @bios back at the head of
 * the deferred list, in order, without waking the worker (that would spin
 * while memory is short).  A pass stopped for want of cells resumes when
 * the next cell is released (dmh_cell_put() queues the worker: when no
 * cell is left, every one is in flight); one stopped for want of index
 * memory when the waker runs (every DMH_COMMIT_PERIOD), the migration
 * tick, or the next bio, whichever comes first.
 */
static void requeue_deferred(struct dmh_pool *pool, struct bio *bio,
			     struct bio_list *bios)
{
	unsigned long flags;

	bio_list_add_head(bios, bio);
	spin_lock_irqsave(&pool->lock, flags);
	bio_list_merge_head(&pool->deferred, bios);
	spin_unlock_irqrestore(&pool->lock, flags);
}

/* Worker, md_lock held. */
static void process_deferred(struct dmh_pool *pool)
{
	struct bio_list bios;
	struct bio *bio;

	take_list(pool, &pool->deferred, &bios);
	dmh_cells_take_released(&pool->cells, &bios);
	while ((bio = bio_list_pop(&bios))) {
		if (process_bio(pool, bio)) {
			requeue_deferred(pool, bio, &bios);
			break;
		}
	}
}

static void process_zeroed(struct dmh_pool *pool)
{
	struct dmh_cell *c, *tmp;
	unsigned long flags;
	LIST_HEAD(cells);

	spin_lock_irqsave(&pool->lock, flags);
	list_splice_init(&pool->zeroed, &cells);
	spin_unlock_irqrestore(&pool->lock, flags);
	list_for_each_entry_safe(c, tmp, &cells, list) {
		list_del(&c->list);
		if (c->error)
			fail_alloc(pool, c, BLK_STS_IOERR);
		else
			issue_alloc_write(pool, c);
	}
}

static void process_alloc_done(struct dmh_pool *pool)
{
	struct bio_list bios;
	struct bio *bio;

	take_list(pool, &pool->alloc_done, &bios);
	while ((bio = bio_list_pop(&bios)))
		finish_alloc(pool, bio);
}

/*
 * Worker: ask for the writeback of the dirty slots of every volume that
 * @flushes flush; true when the flushes must wait for it.  Not with
 * persistent_staging: the flushes' commit records the dirty slots.
 */
static bool sync_flushed(struct dmh_pool *pool, struct bio_list *flushes)
{
	struct dmh_volume *last = NULL;
	struct bio *bio;

	bio_list_for_each(bio, flushes) {
		if (dmh_pb(bio)->vol != last) {
			last = dmh_pb(bio)->vol;
			dmh_blk_flushed(pool->blk, last);
		}
	}
	return !dmh_blk_persistent(pool->blk) && dmh_blk_pending(pool->blk);
}

static bool lost_on_ssd(struct dmh_pool *pool, struct dmh_volume *v);

/*
 * Worker: a flush of @v that waited for writebacks, its commit done with
 * @r, fails if one of @v's failed -- not another volume's, whose flush
 * shared the commit -- or if the SSD died meanwhile holding @v's data.
 */
static blk_status_t synced_status(struct dmh_pool *pool,
				  struct dmh_volume *v, int r)
{
	if (!r && (dmh_blk_wb_failed(pool->blk, v) || lost_on_ssd(pool, v)))
		r = -EIO;
	return errno_to_blk_status(r);
}

/*
 * Worker: end the flushes that waited for the block tier's writebacks,
 * once these are done: one batch at a time, so that later flushes, which
 * wait in pool->flush_bios meanwhile, cannot keep a batch waiting.
 */
static bool end_synced_flushes(struct dmh_pool *pool)
{
	struct bio_list flushes = pool->flush_synced;
	struct bio *bio;
	int r;

	if (bio_list_empty(&flushes))
		return false;
	if (dmh_blk_pending(pool->blk))
		return true;
	bio_list_init(&pool->flush_synced);
	r = dmh_pool_commit(pool);
	while ((bio = bio_list_pop(&flushes)))
		end_bio(bio, synced_status(pool, dmh_pb(bio)->vol, r));
	wake_worker(pool);	/* flushes that came meanwhile */
	return false;
}

/* Flush bios, FUA writes and the periodic commit. */
static void process_commit(struct dmh_pool *pool)
{
	struct bio_list flushes, waiters;
	unsigned long flags;
	bool due, waiting;
	int r;

	waiting = end_synced_flushes(pool);
	spin_lock_irqsave(&pool->lock, flags);
	due = pool->commit_due;
	pool->commit_due = false;
	spin_unlock_irqrestore(&pool->lock, flags);
	bio_list_init(&flushes);
	if (!waiting)
		take_list(pool, &pool->flush_bios, &flushes);
	take_list(pool, &pool->commit_waiters, &waiters);
	if (!bio_list_empty(&flushes) && sync_flushed(pool, &flushes)) {
		/* Their writes may sit in dirty slots: write those back first. */
		pool->flush_synced = flushes;
		bio_list_init(&flushes);
	}
	/* In ro mode the periodic commit could only fail: skip it. */
	if (bio_list_empty(&flushes) && bio_list_empty(&waiters) &&
	    !(due && pool->mode == DMH_MODE_RW &&
	      (dmh_md_dirty(pool->md) || dmh_blk_log_due(pool->blk))))
		return;
	r = dmh_pool_commit(pool);
	end_list(&flushes, errno_to_blk_status(r));
	end_list(&waiters, errno_to_blk_status(r));
}

/*
 * Worker (a list only it touches): move @bios to the deferred list, at
 * its head with @first, and wake the worker.
 */
static void requeue(struct dmh_pool *pool, struct bio_list *bios, bool first)
{
	unsigned long flags;

	if (bio_list_empty(bios))
		return;
	spin_lock_irqsave(&pool->lock, flags);
	if (first)
		bio_list_merge_head(&pool->deferred, bios);
	else
		bio_list_merge(&pool->deferred, bios);
	spin_unlock_irqrestore(&pool->lock, flags);
	bio_list_init(bios);
	wake_worker(pool);
}

void dmh_requeue_no_space(struct dmh_pool *pool)
{
	requeue(pool, &pool->no_space, false);
}

/*
 * Finish a drained epoch, return to the allocator the chunks whose
 * transaction committed and whose epoch drained, and start the next flip
 * someone waits for.
 */
static void process_drain(struct dmh_pool *pool)
{
	u64 txid = dmh_md_txid(pool->md);

	dmh_epoch_update(&pool->epochs);
	if (pool->reclaim_gen &&
	    dmh_epoch_drained(&pool->epochs, pool->reclaim_gen)) {
		dmh_md_reclaim(pool->md, pool->reclaim_txid);
		pool->reclaim_gen = 0;
		dmh_requeue_no_space(pool);
	}
	if (!pool->reclaim_gen && dmh_md_pending_frees(pool->md) &&
	    pool->reclaim_txid < txid) {
		pool->reclaim_txid = txid;
		pool->reclaim_gen = dmh_epoch_barrier(&pool->epochs);
	}
	dmh_epoch_kick(&pool->epochs);
}

/*
 * Worker, md_lock held: an SSD bio failed since the last pass.  A dead
 * SSD takes an rw pool to ro, aborting the open transaction as a failed
 * flush does.
 */
static void process_ssd_error(struct dmh_pool *pool)
{
	if (!test_and_clear_bit(0, &pool->ssd_suspect) || pool->ssd_failed)
		return;
	if (ssd_dead(pool) && pool->mode == DMH_MODE_RW)
		abort_transaction(pool);
}

/*
 * Worker, md_lock held: while the SSD is evacuated, the block tier writes
 * its dirty slots back and drops every clean one.
 */
static void process_evacuation(struct dmh_pool *pool)
{
	if (!evacuating(pool))
		return;
	dmh_blk_sync(pool->blk, NULL);
	dmh_blk_evacuate(pool->blk);
}

void dmh_pool_worker(struct work_struct *ws)
{
	struct dmh_pool *pool = container_of(ws, struct dmh_pool, worker);

	mutex_lock(&pool->md_lock);
	process_ssd_error(pool);
	process_zeroed(pool);
	process_alloc_done(pool);
	process_deferred(pool);
	process_commit(pool);
	process_drain(pool);
	dmh_mig_process(pool->mig);
	process_evacuation(pool);
	if (dmh_blk_process(pool->blk,
			    READ_ONCE(pool->features) & DMH_F_WRITE_STAGING))
		requeue(pool, &pool->wb_parked, true);	/* before newer bios */
	/* The writebacks a batch of flushes waited for may have ended. */
	if (!bio_list_empty(&pool->flush_synced) &&
	    !dmh_blk_pending(pool->blk))
		wake_worker(pool);
	mutex_unlock(&pool->md_lock);
}

/*
 * md_lock held: end with @status the writes queued for space of volume @v
 * (every volume: NULL) that have waited at least @wait jiffies.
 */
static void end_no_space(struct dmh_pool *pool, struct dmh_volume *v,
			 unsigned long wait, blk_status_t status)
{
	struct bio_list keep = BIO_EMPTY_LIST;
	struct bio *bio;
	struct dmh_bio *pb;

	while ((bio = bio_list_pop(&pool->no_space))) {
		pb = dmh_pb(bio);
		if ((!v || pb->vol == v) &&
		    time_after_eq(jiffies, pb->queued + wait))
			end_bio(bio, status);
		else
			bio_list_add(&keep, bio);
	}
	pool->no_space = keep;
}

void dmh_vol_no_space(struct dmh_pool *pool, struct dmh_volume *v,
		      blk_status_t status)
{
	mutex_lock(&pool->md_lock);
	v->no_space_status = status;
	if (status)
		end_no_space(pool, v, 0, status);
	mutex_unlock(&pool->md_lock);
}

void dmh_pool_waker(struct work_struct *ws)
{
	struct dmh_pool *pool = container_of(to_delayed_work(ws),
					     struct dmh_pool, waker);
	unsigned long flags;

	/* Writes queued for space too long fail (as thin-pool's do). */
	mutex_lock(&pool->md_lock);
	end_no_space(pool, NULL, NO_SPACE_TIMEOUT + 1, BLK_STS_NOSPC);
	mutex_unlock(&pool->md_lock);
	spin_lock_irqsave(&pool->lock, flags);
	pool->commit_due = true;
	spin_unlock_irqrestore(&pool->lock, flags);
	wake_worker(pool);
	queue_delayed_work(pool->wq, &pool->waker, DMH_COMMIT_PERIOD);
}

/*
 * map(), no sleeping: remap @bio to @p or a slot.  A bio the block tier
 * splits (a read around dirty slots, a small write across two blocks)
 * takes its first part now, and dm core sends the rest to map() again.
 * remap()'s last answer: DMH_BLK_WAIT, a bio a dirty slot holds back
 * goes to the worker; ROUTE_LOST, it needs the dead SSD.
 */
static int map_fast(struct dmh_pool *pool, struct bio *bio, dmh_ploc_t p)
{
	sector_t split;
	int r;

	while ((r = remap(pool, bio, p, true, &split)) == DMH_BLK_WAIT &&
	       split)
		dm_accept_partial_bio(bio, split);
	return r;
}

/*
 * Map context: the SSD is dead and @v had data there (chunks, or slots:
 * the clean ones were dropped, so these hold staged blocks).  Its flushes
 * fail: no flush can make durable what it wrote there.
 */
static bool lost_on_ssd(struct dmh_pool *pool, struct dmh_volume *v)
{
	return READ_ONCE(pool->ssd_failed) &&
	       (READ_ONCE(v->nr_chunks[DMH_TIER_SSD]) ||
		dmh_blk_vol_slots(pool->blk, v));
}

static bool needs_worker(struct bio *bio)
{
	return bio->bi_opf & (REQ_PREFLUSH | REQ_FUA) ||
	       bio_op(bio) == REQ_OP_DISCARD;
}

int dmh_hybrid_map(struct dm_target *ti, struct bio *bio)
{
	struct hybrid_c *hc = ti->private;
	struct dmh_pool *pool = hc->pool;
	struct dmh_bio *pb = dmh_pb(bio);
	bool write = op_is_write(bio_op(bio));
	int r = DMH_BLK_WAIT;
	u64 e;

	pb->vol = hc->vol;
	pb->cell = NULL;
	pb->flags = 0;
	pb->blk_cookie = 0;
	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	if (unlikely(READ_ONCE(pool->mode) == DMH_MODE_FAIL))
		return DM_MAPIO_KILL;
	if (bio->bi_opf & REQ_PREFLUSH && !bio_sectors(bio)) {
		if (unlikely(lost_on_ssd(pool, hc->vol)))
			return DM_MAPIO_KILL;
		defer_bio(pool, &pool->flush_bios, bio);
		return DM_MAPIO_SUBMITTED;
	}
	if (dmh_mon_account(hc->vol, bio, bio_vchunk(pool, bio),
			    READ_ONCE(dmh_policy_knobs(pool->policy)->seq_cutoff) * 2))
		pb->flags |= PB_STREAM;
	if (needs_worker(bio)) {
		defer_bio(pool, &pool->deferred, bio);
		return DM_MAPIO_SUBMITTED;
	}
	count_bio(pool, pb);
	e = dmh_lookup(hc->vol, bio_vchunk(pool, bio));
	if (e && !(e & DMH_E_ALLOC) && !(write && (e & DMH_E_MIGRATE)))
		r = map_fast(pool, bio, dmh_entry_ploc(e));
	if (r == DMH_BLK_HOME || r == DMH_BLK_SLOT)
		return DM_MAPIO_REMAPPED;
	if (r == DMH_BLK_TAKEN)
		return DM_MAPIO_SUBMITTED;	/* the tier ends it */
	uncount_bio(pool, pb);
	if (r == ROUTE_LOST)
		return DM_MAPIO_KILL;
	if (!e && !write) {
		zero_fill_bio(bio);
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}
	defer_bio(pool, &pool->deferred, bio);
	return DM_MAPIO_SUBMITTED;
}

/*
 * A first write completes through the worker, which maps the chunk; a FUA
 * write completes after the commit that makes its mapping durable.
 */
int dmh_hybrid_end_io(struct dm_target *ti, struct bio *bio,
		      blk_status_t *error)
{
	struct dmh_pool *pool = ((struct hybrid_c *)ti->private)->pool;
	struct dmh_bio *pb = dmh_pb(bio);

	if (pb->blk_cookie) {
		dmh_blk_write_done(pool->blk, pb->blk_cookie, *error);
		pb->blk_cookie = 0;
	}
	if (pb->flags & PB_COUNTED)
		uncount_bio(pool, pb);
	if (pb->flags & PB_HDDW) {
		pb->flags &= ~PB_HDDW;
		atomic_dec(&pb->vol->blk_hddw);
	}
	if (unlikely(*error) && (pb->flags & PB_SSD) &&
	    *error != BLK_STS_NOTSUPP && !test_and_set_bit(0, &pool->ssd_suspect))
		wake_worker(pool);	/* is the SSD dead? */
	if (pb->flags & PB_ALLOC) {
		pb->flags &= ~PB_ALLOC;
		bio->bi_status = *error;
		defer_bio(pool, &pool->alloc_done, bio);
		return DM_ENDIO_INCOMPLETE;
	}
	if (pb->flags & PB_COMMIT) {
		pb->flags &= ~PB_COMMIT;
		if (!*error) {
			defer_bio(pool, &pool->commit_waiters, bio);
			return DM_ENDIO_INCOMPLETE;
		}
	}
	return DM_ENDIO_DONE;
}
