// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid: tiering of virtual machine disks between an SSD and an HDD.
 *
 * Two targets, as with thin-pool and thin: "hybrid-pool" binds a metadata
 * device, an SSD and an HDD into a pool object shared by many "hybrid"
 * volumes (one per VM disk).  Every chunk of every volume has exactly one
 * home on one of the two tiers (dm-hybrid-map.c).
 *
 * Bio path: map() remaps a bio whose chunk has a home, without sleeping or
 * locking (an RCU xarray lookup).  Everything else -- a first write that
 * allocates and zeroes a chunk, discards, flush and FUA, bios to a chunk
 * that is busy -- goes to one ordered worker, which alone changes the
 * metadata (with md_lock held).
 *
 * Epochs: a freed chunk may still be the target of a bio that looked it up
 * before it was unmapped.  Every bio sent to a data device is counted in the
 * current epoch (two per-CPU counters).  After a commit the worker flips
 * the epoch and waits for an RCU grace period and for the old epoch to
 * drain; only then are the chunks freed up to that commit returned to the
 * allocator (dmh_md_reclaim()).
 */
#include <linux/blkdev.h>
#include <linux/ctype.h>
#include <linux/device-mapper.h>
#include <linux/dm-io.h>
#include <linux/dm-kcopyd.h>
#include <linux/mempool.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>

#include "dm-hybrid.h"

#define COMMIT_PERIOD		HZ
#define NO_SPACE_TIMEOUT	(60 * HZ)
#define MIN_CELLS		64

/* Pool features, as given on the table line. */
#define DMH_F_NO_DISCARD_PASSDOWN	BIT(0)
#define DMH_F_READ_ONLY			BIT(1)
#define DMH_F_ERROR_IF_NO_SPACE		BIT(2)

/* One table of a pool. */
struct pool_c {
	struct dm_target *ti;
	struct dmh_pool *pool;
	struct dm_dev *meta_dev;
	struct dm_dev *data_dev[DMH_NR_TIERS];
	u32 chunk_sectors;
	unsigned int features;
};

/* One table of a volume. */
struct hybrid_c {
	struct dm_target *ti;
	struct dmh_pool *pool;
	struct dm_dev *pool_dev;
	struct dmh_volume *vol;
};

#define PB_COUNTED	BIT(0)
#define PB_ALLOC	BIT(1)
#define PB_COMMIT	BIT(2)
#define PB_STREAM	BIT(3)	/* part of a sequential stream */

struct dmh_bio {
	struct dmh_volume *vol;
	struct dmh_cell *cell;
	unsigned long queued;
	unsigned long start;		/* jiffies when counted */
	u8 epoch;
	u8 flags;
};

static DEFINE_MUTEX(dmh_pools_lock);
static LIST_HEAD(dmh_pools);

static struct dmh_bio *dmh_pb(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct dmh_bio));
}

static u64 bio_vchunk(struct dmh_pool *pool, struct bio *bio)
{
	return bio->bi_iter.bi_sector >> pool->chunk_shift;
}

void dmh_wake_worker(struct dmh_pool *pool)
{
	queue_work(pool->wq, &pool->worker);
}

/* --------------------------------------------------------------- epochs */

/*
 * Count @bio in the current epoch.  The acquire pairs with the release in
 * flip_epoch(): a bio counted in the new epoch sees every unmap made before
 * the flip, so only bios of the old epoch can still address a freed chunk.
 */
static void epoch_enter(struct dmh_pool *pool, struct dmh_bio *pb)
{
	rcu_read_lock();
	/* Pairs with smp_store_release() in flip_epoch(). */
	pb->epoch = smp_load_acquire(&pool->epoch);
	this_cpu_inc(pool->ecnt->n[pb->epoch]);
	rcu_read_unlock();
	pb->start = jiffies;
	pb->flags |= PB_COUNTED;
}

static void epoch_exit(struct dmh_pool *pool, struct dmh_bio *pb)
{
	this_cpu_dec(pool->ecnt->n[pb->epoch]);
	this_cpu_add(pool->ecnt->busy, jiffies - pb->start);
	pb->flags &= ~PB_COUNTED;
	if (unlikely(READ_ONCE(pool->draining)))
		dmh_wake_worker(pool);
}

static long epoch_inflight(struct dmh_pool *pool, unsigned int e)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(pool->ecnt, cpu)->n[e]);
	return sum;
}

/*
 * Total time the pool's bios spent in flight, in jiffies.  Its growth over
 * an interval, divided by the interval, is the mean number of bios in
 * flight (Little's law): it rises with the load and with the latency.
 */
unsigned long dmh_busy_time(struct dmh_pool *pool)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(pool->ecnt, cpu)->busy);
	return sum;
}

/* Worker: close the current epoch and start draining it. */
static void flip_epoch(struct dmh_pool *pool)
{
	/* Orders earlier unmaps and state changes before the flip. */
	smp_store_release(&pool->epoch, !pool->epoch);
	pool->epoch_gen++;
	pool->drain_cookie = start_poll_synchronize_rcu();
	WRITE_ONCE(pool->draining, true);
}

/*
 * md_lock held: the generation whose drain guarantees that every bio which
 * could have seen the state before this call has ended.  If an epoch is
 * draining already, bios that saw the state may sit in the current one, so
 * it is the next flip that counts.
 */
u64 dmh_epoch_barrier(struct dmh_pool *pool)
{
	u64 g = pool->epoch_gen + 1;

	pool->want_gen = max(pool->want_gen, g);
	if (!pool->draining)
		flip_epoch(pool);
	return g;
}

/* -------------------------------------------------------------- bio util */

static void remap(struct dmh_pool *pool, struct bio *bio, dmh_ploc_t p)
{
	sector_t off = bio->bi_iter.bi_sector & (pool->chunk_sectors - 1);

	bio_set_dev(bio, pool->bdev[dmh_ploc_tier(p)]);
	bio->bi_iter.bi_sector = (dmh_ploc_index(p) << pool->chunk_shift) + off;
}

/* Worker: send @bio to its home @p, counted in the epoch. */
static void remap_and_issue(struct dmh_pool *pool, struct bio *bio,
			    dmh_ploc_t p)
{
	struct dmh_bio *pb = dmh_pb(bio);

	epoch_enter(pool, pb);
	dmh_mon_tier(pb->vol, dmh_ploc_tier(p));
	remap(pool, bio, p);
	submit_bio_noacct(bio);
}

static void defer_bio(struct dmh_pool *pool, struct bio_list *list,
		      struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&pool->lock, flags);
	bio_list_add(list, bio);
	spin_unlock_irqrestore(&pool->lock, flags);
	dmh_wake_worker(pool);
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

static void end_bio(struct bio *bio, blk_status_t status)
{
	bio->bi_status = status;
	bio_endio(bio);
}

static void end_list(struct bio_list *bios, blk_status_t status)
{
	struct bio *bio;

	while ((bio = bio_list_pop(bios)))
		end_bio(bio, status);
}

/* ------------------------------------------------------------ pool mode */

static const char *mode_name(enum dmh_mode m)
{
	return m == DMH_MODE_RW ? "rw" : m == DMH_MODE_RO ? "ro" : "fail";
}

/* Worker or message context, md_lock held. */
static void set_mode(struct dmh_pool *pool, enum dmh_mode m)
{
	if (pool->mode == m)
		return;
	DMERR("pool %s: switching to %s mode", dm_device_name(pool->pool_md),
	      mode_name(m));
	if (m != DMH_MODE_RW)
		dmh_md_set_read_only(pool->md);
	WRITE_ONCE(pool->mode, m);
	if (pool->ti)
		dm_table_event(pool->ti->table);
}

static int flush_data(struct dmh_pool *pool)
{
	int r = blkdev_issue_flush(pool->bdev[DMH_TIER_SSD]);
	int r2 = blkdev_issue_flush(pool->bdev[DMH_TIER_HDD]);

	return r ? r : r2;
}

/*
 * Commit with md_lock held.  Data devices are flushed first, so that no
 * committed mapping ever points at data (or at a previous owner's data)
 * still in a volatile cache.  In ro mode they are flushed too, even when
 * uncommitted changes make the commit fail anyway: writes to committed
 * chunks still go on, and a data device that cannot flush must take the
 * pool to fail.
 */
static int pool_commit(struct dmh_pool *pool)
{
	int r;

	r = flush_data(pool);
	if (r) {
		DMERR_LIMIT("pool %s: flushing data devices failed: %d",
			    dm_device_name(pool->pool_md), r);
		if (pool->mode != DMH_MODE_RW)
			set_mode(pool, DMH_MODE_FAIL);
		return r;
	}
	if (pool->mode != DMH_MODE_RW && dmh_md_dirty(pool->md))
		return -EIO;
	r = dmh_md_commit(pool->md);
	if (r) {
		DMERR("pool %s: metadata commit failed: %d",
		      dm_device_name(pool->pool_md), r);
		set_mode(pool, DMH_MODE_RO);
	}
	return r;
}

/* --------------------------------------------------------- allocation */

void dmh_release_cell(struct dmh_pool *pool, struct dmh_cell *c)
{
	unsigned long flags;

	xa_erase(&c->vol->cells, c->vchunk);
	spin_lock_irqsave(&pool->lock, flags);
	bio_list_merge(&pool->deferred, &c->held);
	spin_unlock_irqrestore(&pool->lock, flags);
	mempool_free(c, &pool->cell_pool);
	dmh_wake_worker(pool);
}

/* The first write of a chunk failed: the chunk was never visible. */
/* A first write or promotion to the SSD is no longer under way. */
static void ssd_pending_done(struct dmh_cell *c)
{
	if (dmh_ploc_tier(c->p) == DMH_TIER_SSD)
		c->vol->ssd_pending--;
}

static void fail_alloc(struct dmh_pool *pool, struct dmh_cell *c,
		       blk_status_t status)
{
	struct bio *bio = c->bio;

	ssd_pending_done(c);
	dmh_md_set_entry(c->vol, c->vchunk, 0);
	dmh_md_abort_alloc(pool->md, c->p);
	dmh_release_cell(pool, c);
	end_bio(bio, status);
}

static void issue_alloc_write(struct dmh_pool *pool, struct dmh_cell *c)
{
	struct dmh_bio *pb = dmh_pb(c->bio);

	pb->flags |= PB_ALLOC;
	pb->cell = c;
	remap_and_issue(pool, c->bio, c->p);
}

/* kcopyd context: the rest of a fresh chunk is zeroed. */
static void zero_done(int read_err, unsigned long write_err, void *context)
{
	struct dmh_cell *c = context;
	struct dmh_pool *pool = c->pool;
	unsigned long flags;

	if (read_err || write_err)
		WRITE_ONCE(c->error, -EIO);
	if (!atomic_dec_and_test(&c->zeroing))
		return;
	spin_lock_irqsave(&pool->lock, flags);
	list_add_tail(&c->list, &pool->zeroed);
	spin_unlock_irqrestore(&pool->lock, flags);
	dmh_wake_worker(pool);
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

static void no_space(struct dmh_pool *pool, struct bio *bio)
{
	if (pool->features & DMH_F_ERROR_IF_NO_SPACE) {
		end_bio(bio, BLK_STS_NOSPC);
		return;
	}
	dmh_pb(bio)->queued = jiffies;
	bio_list_add(&pool->no_space, bio);
	if (!pool->out_of_space) {
		pool->out_of_space = true;
		DMWARN("pool %s: out of data space, queueing writes",
		       dm_device_name(pool->pool_md));
		if (pool->ti)
			dm_table_event(pool->ti->table);
	}
}

static int alloc_chunk(struct dmh_pool *pool, struct bio *bio, u64 vchunk,
		       dmh_ploc_t *p)
{
	struct dmh_bio *pb = dmh_pb(bio);
	unsigned int tier;
	int r;

	tier = dmh_policy_first_tier(pb->vol, vchunk, pb->flags & PB_STREAM,
				     dmh_md_free_chunks(pool->md, DMH_TIER_SSD),
				     &pool->knobs);
	r = dmh_md_alloc(pool->md, tier, p);
	if (r == -ENOSPC)
		r = dmh_md_alloc(pool->md, !tier, p);
	return r;
}

/* Worker: @bio is the first write to an unmapped chunk. */
static void start_alloc(struct dmh_pool *pool, struct bio *bio)
{
	struct dmh_volume *v = dmh_pb(bio)->vol;
	u64 vchunk = bio_vchunk(pool, bio);
	struct dmh_cell *c;
	dmh_ploc_t p;
	int r;

	r = alloc_chunk(pool, bio, vchunk, &p);
	if (r == -ENOSPC) {
		no_space(pool, bio);
		return;
	}
	if (r) {
		end_bio(bio, BLK_STS_IOERR);
		return;
	}
	pool->out_of_space = false;
	c = mempool_alloc(&pool->cell_pool, GFP_NOIO);
	*c = (struct dmh_cell) { .pool = pool, .vol = v, .vchunk = vchunk,
				 .p = p, .bio = bio };
	bio_list_init(&c->held);
	r = xa_err(xa_store(&v->cells, vchunk, c, GFP_NOIO));
	if (!r)
		r = dmh_md_set_entry(v, vchunk, dmh_entry(p, DMH_E_ALLOC));
	if (r) {
		xa_erase(&v->cells, vchunk);
		mempool_free(c, &pool->cell_pool);
		dmh_md_abort_alloc(pool->md, p);
		end_bio(bio, BLK_STS_RESOURCE);
		return;
	}
	if (dmh_ploc_tier(p) == DMH_TIER_SSD)
		v->ssd_pending++;
	zero_and_write(pool, c);
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
		fail_alloc(pool, c, BLK_STS_RESOURCE);
		return;
	}
	ssd_pending_done(c);
	dmh_release_cell(pool, c);
	if (bio->bi_opf & REQ_FUA)
		defer_bio(pool, &pool->commit_waiters, bio);
	else
		bio_endio(bio);
}

/* ---------------------------------------------------------------- worker */

static void hold_bio(struct dmh_pool *pool, struct bio *bio)
{
	struct dmh_bio *pb = dmh_pb(bio);
	struct dmh_cell *c = xa_load(&pb->vol->cells, bio_vchunk(pool, bio));

	if (WARN_ON_ONCE(!c)) {
		end_bio(bio, BLK_STS_IOERR);
		return;
	}
	bio_list_add(&c->held, bio);
}

static void process_discard(struct dmh_pool *pool, struct bio *bio, u64 e)
{
	struct dmh_volume *v = dmh_pb(bio)->vol;
	sector_t off = bio->bi_iter.bi_sector & (pool->chunk_sectors - 1);
	bool whole = !off && (bio_sectors(bio) == pool->chunk_sectors ||
			      bio_end_sector(bio) >= v->size);
	dmh_ploc_t p = dmh_entry_ploc(e);

	if (!e) {
		bio_endio(bio);
		return;
	}
	if (pool->mode != DMH_MODE_RW) {
		end_bio(bio, BLK_STS_IOERR);
		return;
	}
	if (whole && dmh_md_unmap(pool->md, v, bio_vchunk(pool, bio))) {
		end_bio(bio, BLK_STS_RESOURCE);
		return;
	}
	if (pool->passdown[dmh_ploc_tier(p)])
		remap_and_issue(pool, bio, p);
	else
		bio_endio(bio);
}

static void process_bio(struct dmh_pool *pool, struct bio *bio)
{
	struct dmh_bio *pb = dmh_pb(bio);
	u64 e = dmh_lookup(pb->vol, bio_vchunk(pool, bio));
	bool write = op_is_write(bio_op(bio));

	if ((e & DMH_E_ALLOC) || ((e & DMH_E_MIGRATE) && write)) {
		hold_bio(pool, bio);
	} else if (bio_op(bio) == REQ_OP_DISCARD) {
		process_discard(pool, bio, e);
	} else if (e) {
		if ((bio->bi_opf & REQ_FUA) && dmh_md_dirty(pool->md))
			pb->flags |= PB_COMMIT;
		remap_and_issue(pool, bio, dmh_entry_ploc(e));
	} else if (!write) {
		zero_fill_bio(bio);
		bio_endio(bio);
	} else if (pool->mode != DMH_MODE_RW) {
		end_bio(bio, BLK_STS_IOERR);
	} else {
		start_alloc(pool, bio);
	}
}

static void process_deferred(struct dmh_pool *pool)
{
	struct bio_list bios;
	struct bio *bio;

	take_list(pool, &pool->deferred, &bios);
	while ((bio = bio_list_pop(&bios)))
		process_bio(pool, bio);
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

/* Flush bios, FUA writes and the periodic commit. */
static void process_commit(struct dmh_pool *pool)
{
	struct bio_list flushes, waiters;
	unsigned long flags;
	bool due;
	int r;

	spin_lock_irqsave(&pool->lock, flags);
	due = pool->commit_due;
	pool->commit_due = false;
	spin_unlock_irqrestore(&pool->lock, flags);
	take_list(pool, &pool->flush_bios, &flushes);
	take_list(pool, &pool->commit_waiters, &waiters);
	/* In ro mode the periodic commit could only fail: skip it. */
	if (bio_list_empty(&flushes) && bio_list_empty(&waiters) &&
	    !(due && dmh_md_dirty(pool->md) && pool->mode == DMH_MODE_RW))
		return;
	r = pool_commit(pool);
	end_list(&flushes, errno_to_blk_status(r));
	end_list(&waiters, errno_to_blk_status(r));
}

static void requeue_no_space(struct dmh_pool *pool)
{
	unsigned long flags;

	if (bio_list_empty(&pool->no_space))
		return;
	spin_lock_irqsave(&pool->lock, flags);
	bio_list_merge(&pool->deferred, &pool->no_space);
	spin_unlock_irqrestore(&pool->lock, flags);
	bio_list_init(&pool->no_space);
	dmh_wake_worker(pool);
}

/*
 * Finish a drained epoch, start the next flip someone waits for, and return
 * to the allocator the chunks whose transaction committed and whose epoch
 * drained.
 */
static void process_drain(struct dmh_pool *pool)
{
	u64 txid = dmh_md_txid(pool->md);

	if (pool->draining && poll_state_synchronize_rcu(pool->drain_cookie) &&
	    !epoch_inflight(pool, !pool->epoch)) {
		WRITE_ONCE(pool->draining, false);
		pool->drained_gen = pool->epoch_gen;
	}
	if (pool->reclaim_gen && pool->drained_gen >= pool->reclaim_gen) {
		dmh_md_reclaim(pool->md, pool->reclaim_txid);
		pool->reclaim_gen = 0;
		requeue_no_space(pool);
	}
	if (!pool->reclaim_gen && dmh_md_pending_frees(pool->md) &&
	    pool->reclaim_txid < txid) {
		pool->reclaim_txid = txid;
		pool->reclaim_gen = dmh_epoch_barrier(pool);
	}
	if (!pool->draining && pool->want_gen > pool->epoch_gen)
		flip_epoch(pool);
}

static void do_worker(struct work_struct *ws)
{
	struct dmh_pool *pool = container_of(ws, struct dmh_pool, worker);

	mutex_lock(&pool->md_lock);
	process_zeroed(pool);
	process_alloc_done(pool);
	process_deferred(pool);
	process_commit(pool);
	process_drain(pool);
	dmh_mig_process(pool);
	mutex_unlock(&pool->md_lock);
}

/* Bios queued for space longer than the timeout fail (as thin-pool does). */
static void expire_no_space(struct dmh_pool *pool)
{
	struct bio_list keep = BIO_EMPTY_LIST;
	struct bio *bio;

	while ((bio = bio_list_pop(&pool->no_space))) {
		if (time_after(jiffies, dmh_pb(bio)->queued + NO_SPACE_TIMEOUT))
			end_bio(bio, BLK_STS_NOSPC);
		else
			bio_list_add(&keep, bio);
	}
	pool->no_space = keep;
}

static void do_waker(struct work_struct *ws)
{
	struct dmh_pool *pool = container_of(to_delayed_work(ws),
					     struct dmh_pool, waker);
	unsigned long flags;

	mutex_lock(&pool->md_lock);
	expire_no_space(pool);
	mutex_unlock(&pool->md_lock);
	spin_lock_irqsave(&pool->lock, flags);
	pool->commit_due = true;
	spin_unlock_irqrestore(&pool->lock, flags);
	dmh_wake_worker(pool);
	queue_delayed_work(pool->wq, &pool->waker, COMMIT_PERIOD);
}

/* ------------------------------------------------------- pool lifecycle */

static struct dmh_pool *pool_lookup_md(struct mapped_device *md)
{
	struct dmh_pool *pool;

	list_for_each_entry(pool, &dmh_pools, list)
		if (pool->pool_md == md)
			return pool;
	return NULL;
}

static struct dmh_pool *pool_lookup_meta(dev_t dev)
{
	struct dmh_pool *pool;

	list_for_each_entry(pool, &dmh_pools, list)
		if (pool->md_dev == dev)
			return pool;
	return NULL;
}

static struct dmh_pool *pool_lookup_dev(dev_t dev)
{
	struct dmh_pool *pool;

	list_for_each_entry(pool, &dmh_pools, list)
		if (disk_devt(dm_disk(pool->pool_md)) == dev)
			return pool;
	return NULL;
}

static void pool_free(struct dmh_pool *pool)
{
	if (pool->md)
		dmh_md_close(pool->md);
	if (pool->kc)
		dm_kcopyd_client_destroy(pool->kc);
	if (pool->wq)
		destroy_workqueue(pool->wq);
	mempool_exit(&pool->cell_pool);
	free_percpu(pool->ecnt);
	dmh_scan_exit(&pool->scan);
	kfree(pool);
}

static int pool_init_engine(struct dmh_pool *pool)
{
	pool->wq = alloc_ordered_workqueue("dm-" DM_MSG_PREFIX, WQ_MEM_RECLAIM);
	if (!pool->wq)
		return -ENOMEM;
	pool->kc = dm_kcopyd_client_create(NULL);
	if (IS_ERR(pool->kc)) {
		int r = PTR_ERR(pool->kc);

		pool->kc = NULL;
		return r;
	}
	pool->ecnt = alloc_percpu(struct dmh_epoch_cnt);
	if (!pool->ecnt || dmh_scan_init(&pool->scan))
		return -ENOMEM;
	return mempool_init_kmalloc_pool(&pool->cell_pool, MIN_CELLS,
					 sizeof(struct dmh_cell));
}

static struct dmh_pool *pool_create(struct pool_c *pc, char **error)
{
	struct dmh_pool *pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	int t;

	if (!pool) {
		*error = "Cannot allocate pool";
		return ERR_PTR(-ENOMEM);
	}
	mutex_init(&pool->md_lock);
	spin_lock_init(&pool->lock);
	INIT_WORK(&pool->worker, do_worker);
	INIT_DELAYED_WORK(&pool->waker, do_waker);
	INIT_LIST_HEAD(&pool->zeroed);
	pool->pool_md = dm_table_get_md(pc->ti->table);
	pool->md_dev = pc->meta_dev->bdev->bd_dev;
	pool->chunk_sectors = pc->chunk_sectors;
	pool->chunk_shift = __ffs(pc->chunk_sectors);
	for (t = 0; t < DMH_NR_TIERS; t++)
		pool->bdev[t] = pc->data_dev[t]->bdev;
	if (pool_init_engine(pool)) {
		*error = "Cannot allocate pool workers";
		pool_free(pool);
		return ERR_PTR(-ENOMEM);
	}
	pool->md = dmh_md_open(pc->meta_dev->bdev, pc->chunk_sectors,
			       bdev_nr_sectors(pool->bdev[DMH_TIER_SSD]),
			       bdev_nr_sectors(pool->bdev[DMH_TIER_HDD]),
			       pc->features & DMH_F_READ_ONLY, error);
	if (IS_ERR(pool->md)) {
		int r = PTR_ERR(pool->md);

		pool->md = NULL;
		pool_free(pool);
		return ERR_PTR(r);
	}
	pool->mode = pc->features & DMH_F_READ_ONLY ? DMH_MODE_RO : DMH_MODE_RW;
	dmh_knobs_load(pool);
	dmh_mig_init(pool);
	pool->ref = 1;
	list_add(&pool->list, &dmh_pools);
	return pool;
}

/* Under dmh_pools_lock: the last reference commits and frees the pool. */
static void pool_put(struct dmh_pool *pool)
{
	if (--pool->ref)
		return;
	list_del(&pool->list);
	dmh_mig_stop(pool);
	cancel_delayed_work_sync(&pool->waker);
	flush_workqueue(pool->wq);
	mutex_lock(&pool->md_lock);
	if (pool->mode == DMH_MODE_RW)
		pool_commit(pool);
	mutex_unlock(&pool->md_lock);
	pool_free(pool);
}

/*
 * Find the pool of this table's device, or create it; a reload therefore
 * shares the metadata of the live table (under dmh_pools_lock).
 */
static struct dmh_pool *pool_find(struct pool_c *pc, char **error)
{
	struct dmh_pool *pool = pool_lookup_md(dm_table_get_md(pc->ti->table));
	int t;

	if (!pool) {
		if (pool_lookup_meta(pc->meta_dev->bdev->bd_dev)) {
			*error = "Metadata device is already used by another pool";
			return ERR_PTR(-EBUSY);
		}
		return pool_create(pc, error);
	}
	if (pool->md_dev != pc->meta_dev->bdev->bd_dev) {
		*error = "A reload cannot change the metadata device";
		return ERR_PTR(-EINVAL);
	}
	for (t = 0; t < DMH_NR_TIERS; t++) {
		if (pool->bdev[t] != pc->data_dev[t]->bdev) {
			*error = "A reload cannot change the data devices";
			return ERR_PTR(-EINVAL);
		}
	}
	if (pool->chunk_sectors != pc->chunk_sectors) {
		*error = "A reload cannot change the chunk size";
		return ERR_PTR(-EINVAL);
	}
	pool->ref++;
	return pool;
}

/* ---------------------------------------------------------- pool target */

static int parse_features(struct dm_arg_set *as, struct pool_c *pc,
			  struct dm_target *ti)
{
	static const struct dm_arg _args[] = {
		{0, 3, "Invalid number of pool feature arguments"},
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
		} else {
			ti->error = "Unrecognised pool feature requested";
			return -EINVAL;
		}
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
	mutex_lock(&dmh_pools_lock);
	pool = pool_find(pc, &ti->error);
	mutex_unlock(&dmh_pools_lock);
	if (IS_ERR(pool)) {
		r = PTR_ERR(pool);
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

	mutex_lock(&dmh_pools_lock);
	mutex_lock(&pool->md_lock);
	if (pool->pc == pc) {
		pool->pc = NULL;
		pool->ti = NULL;
	}
	mutex_unlock(&pool->md_lock);
	pool_put(pool);
	mutex_unlock(&dmh_pools_lock);
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

/* Bind this table to the pool and take in grown data devices. */
static int pool_preresume(struct dm_target *ti)
{
	struct pool_c *pc = ti->private;
	struct dmh_pool *pool = pc->pool;
	char *err = NULL;
	int t, r;

	mutex_lock(&pool->md_lock);
	pool->pc = pc;
	pool->ti = ti;
	pool->features = pc->features;
	for (t = 0; t < DMH_NR_TIERS; t++)
		pool->passdown[t] = can_passdown(pc, t);
	if ((pc->features & DMH_F_READ_ONLY) && pool->mode == DMH_MODE_RW)
		set_mode(pool, DMH_MODE_RO);
	r = dmh_md_resize(pool->md,
			  bdev_nr_sectors(pc->data_dev[DMH_TIER_SSD]->bdev),
			  bdev_nr_sectors(pc->data_dev[DMH_TIER_HDD]->bdev),
			  &err);
	if (r < 0) {
		DMERR("pool %s: %s", dm_device_name(pool->pool_md), err);
	} else if (r > 0) {
		/* The pool grew: make it durable, then retry queued writes. */
		r = pool_commit(pool);
		requeue_no_space(pool);
	}
	mutex_unlock(&pool->md_lock);
	return r;
}

static void pool_resume(struct dm_target *ti)
{
	struct dmh_pool *pool = ((struct pool_c *)ti->private)->pool;

	mod_delayed_work(pool->wq, &pool->waker, COMMIT_PERIOD);
	dmh_mig_start(pool);
}

static void pool_postsuspend(struct dm_target *ti)
{
	struct dmh_pool *pool = ((struct pool_c *)ti->private)->pool;

	dmh_mig_stop(pool);
	cancel_delayed_work_sync(&pool->waker);
	flush_workqueue(pool->wq);
	mutex_lock(&pool->md_lock);
	if (pool->mode == DMH_MODE_RW) {
		pool_commit(pool);
		dmh_md_save_heat(pool->md);
	}
	mutex_unlock(&pool->md_lock);
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
	u32 id;
	int r;

	if (parse_volume_id(argv[1], &id)) {
		DMERR("message: expected '%s <volume id 0..%u>'", argv[0],
		      DMH_VOLUME_ID_MAX);
		return -EINVAL;
	}
	r = create ? dmh_md_create_volume(pool->md, id) :
		     dmh_md_delete_volume(pool->md, id);
	if (!r && !create)
		dmh_scan_reset(&pool->scan);	/* it may list the volume */
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

/* set_volume <id> name <name>|-: names are unique within a pool. */
static int set_volume_name(struct dmh_pool *pool, struct dmh_volume *v,
			   const char *name)
{
	struct dmh_volume *o;
	unsigned long id = 0;

	if (!strcmp(name, "-")) {
		memset(v->name, 0, DMH_NAME_LEN);
		return 0;
	}
	if (!valid_name(name)) {
		DMERR("set_volume: bad name: 1-%u of A-Za-z0-9_.+:@-, not only digits",
		      DMH_NAME_LEN - 1);
		return -EINVAL;
	}
	while ((o = dmh_md_next_volume(pool->md, &id))) {
		if (o != v && !strncmp(o->name, name, DMH_NAME_LEN)) {
			DMERR("set_volume: volume %u is already named '%s'",
			      o->id, name);
			return -EEXIST;
		}
	}
	memset(v->name, 0, DMH_NAME_LEN);
	strscpy(v->name, name, DMH_NAME_LEN);
	return 0;
}

/*
 * A reservation above the cap could never be honoured, and hybrid_check
 * calls such metadata broken: refuse the pair and change nothing.
 * Called with pool->md_lock held (pool_message).
 */
static int set_ssd_limits(struct dmh_volume *v, u64 min, u64 max)
{
	if (max && min > max) {
		DMERR("set_volume: ssd_min %llu would exceed ssd_max %llu (0 = no cap)",
		      min, max);
		return -EINVAL;
	}
	v->ssd_min = min;
	v->ssd_max = max;
	return 0;
}

/* set_volume <id> weight|ssd_min|ssd_max|priority|name <value> */
static int msg_set_volume(struct dmh_pool *pool, char **argv)
{
	struct dmh_volume *v = msg_volume(pool, argv[0], argv[1]);
	u64 x = 0;
	int prio = 0;

	if (!v)
		return -EINVAL;
	if (!strcasecmp(argv[2], "name")) {
		prio = set_volume_name(pool, v, argv[3]);
		if (!prio)
			dmh_md_volume_changed(pool->md, v);
		return prio;
	}
	if (!strcasecmp(argv[2], "priority"))
		prio = parse_priority(argv[3]);
	else if (kstrtou64(argv[3], 10, &x))
		prio = -EINVAL;
	if (prio < 0) {
		DMERR("set_volume: bad value '%s'", argv[3]);
		return -EINVAL;
	}
	if (!strcasecmp(argv[2], "weight") && x >= 1 && x <= 1000) {
		v->weight = x;
	} else if (!strcasecmp(argv[2], "ssd_min")) {
		if (set_ssd_limits(v, x, v->ssd_max))
			return -EINVAL;
	} else if (!strcasecmp(argv[2], "ssd_max")) {
		if (set_ssd_limits(v, v->ssd_min, x))
			return -EINVAL;
	} else if (!strcasecmp(argv[2], "priority")) {
		v->priority = prio;
	} else {
		DMERR("set_volume: expected weight|ssd_min|ssd_max|priority|name <value>");
		return -EINVAL;
	}
	dmh_md_volume_changed(pool->md, v);
	return 0;
}

/* pin <id> <start sector> <length> ssd|hdd|auto */
static int msg_pin(struct dmh_pool *pool, char **argv)
{
	struct dmh_volume *v = msg_volume(pool, argv[0], argv[1]);
	struct dmh_pin saved[DMH_VOL_MAX_PINS];
	u64 start, len, cs = pool->chunk_sectors;
	unsigned int nr_saved;
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
	memcpy(saved, v->pins, sizeof(saved));
	nr_saved = v->nr_pins;
	r = dmh_mon_set_pin(v, div64_u64(start, cs),
			    div64_u64(start + len + cs - 1, cs), tier);
	if (!r && dmh_md_nr_pins(pool->md) > DMH_MAX_PINS) {
		memcpy(v->pins, saved, sizeof(saved));
		v->nr_pins = nr_saved;
		r = -ENOSPC;
	}
	if (r)
		DMERR("pin: at most %u ranges per volume, %u per pool",
		      DMH_VOL_MAX_PINS, DMH_MAX_PINS);
	else
		dmh_md_pins_changed(pool->md);
	return r;
}

static int msg_migration(struct dmh_pool *pool, char **argv)
{
	if (strcasecmp(argv[1], "on") && strcasecmp(argv[1], "off")) {
		DMERR("migration: expected on or off");
		return -EINVAL;
	}
	return dmh_mig_switch(pool, !strcasecmp(argv[1], "on"));
}

static int msg_set(struct dmh_pool *pool, char **argv)
{
	return dmh_knob_set(pool, argv[1], argv[2]);
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
};

static const struct pool_msg pool_msgs[] = {
	{ "create_volume", 2, 2, true, msg_create_delete },
	{ "delete_volume", 2, 2, true, msg_create_delete },
	{ "set_volume", 4, 4, true, msg_set_volume },
	{ "pin", 5, 5, true, msg_pin },
	{ "migration", 2, 2, true, msg_migration },
	{ "set", 3, 3, true, msg_set },
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
		DMERR("message: expected '%s <volume id 0..%u>' or see dm-hybrid.rst",
		      m->name, DMH_VOLUME_ID_MAX);
		return -EINVAL;
	}
	mutex_lock(&pool->md_lock);
	if (pool->mode != DMH_MODE_RW) {
		DMERR("message: pool is %s", mode_name(pool->mode));
		r = -EROFS;
	} else {
		r = m->fn(pool, argv);
		if (!r)
			r = pool_commit(pool);
	}
	mutex_unlock(&pool->md_lock);
	return r;
}

static void emit_features(unsigned int f, char *result, unsigned int maxlen,
			  unsigned int *szp)
{
	unsigned int sz = *szp;

	DMEMIT("%u", hweight32(f));
	if (f & DMH_F_NO_DISCARD_PASSDOWN)
		DMEMIT(" no_discard_passdown");
	if (f & DMH_F_READ_ONLY)
		DMEMIT(" read_only");
	if (f & DMH_F_ERROR_IF_NO_SPACE)
		DMEMIT(" error_if_no_space");
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
 */
static void pool_status(struct dm_target *ti, status_type_t type,
			unsigned int status_flags, char *result,
			unsigned int maxlen)
{
	struct pool_c *pc = ti->private;
	struct dmh_pool *pool = pc->pool;
	struct dmh_md_usage u;
	unsigned int sz = 0;
	char buf[3][BDEVNAME_SIZE];

	switch (type) {
	case STATUSTYPE_INFO:
		mutex_lock(&pool->md_lock);
		dmh_md_usage(pool->md, &u);
		DMEMIT("%llu %llu/%llu %u %llu/%llu %llu/%llu %u %llu %llu %d %s ",
		       u.txid, u.md_used, u.md_total, pool->chunk_sectors,
		       u.used[0], u.total[0], u.used[1], u.total[1],
		       u.nr_volumes, dmh_md_promotions(pool->md, DMH_TIER_SSD),
		       dmh_md_promotions(pool->md, DMH_TIER_HDD),
		       atomic_read(&pool->mig_inflight), mode_name(pool->mode));
		emit_features(pool->features, result, maxlen, &sz);
		DMEMIT(" %s %s", u.needs_check ? "needs_check" : "-",
		       pool->out_of_space ? "out_of_space" : "-");
		dmh_knobs_emit(pool, result, maxlen, &sz);
		mutex_unlock(&pool->md_lock);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s %s %u ",
		       format_dev_t(buf[0], pc->meta_dev->bdev->bd_dev),
		       format_dev_t(buf[1], pc->data_dev[0]->bdev->bd_dev),
		       format_dev_t(buf[2], pc->data_dev[1]->bdev->bd_dev),
		       pc->chunk_sectors);
		emit_features(pc->features, result, maxlen, &sz);
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
	mutex_lock(&dmh_pools_lock);
	hc->pool = pool_lookup_dev(hc->pool_dev->bdev->bd_dev);
	if (hc->pool)
		hc->pool->ref++;
	mutex_unlock(&dmh_pools_lock);
	if (!hc->pool) {
		ti->error = "Device is not an active hybrid-pool";
		return -EINVAL;
	}
	return 0;
}

static void drop_pool(struct hybrid_c *hc)
{
	mutex_lock(&dmh_pools_lock);
	pool_put(hc->pool);
	mutex_unlock(&dmh_pools_lock);
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
	drop_pool(hc);
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
	drop_pool(hc);
	dm_put_device(ti, hc->pool_dev);
	kfree(hc);
}

static bool needs_worker(struct bio *bio)
{
	return bio->bi_opf & (REQ_PREFLUSH | REQ_FUA) ||
	       bio_op(bio) == REQ_OP_DISCARD;
}

static int hybrid_map(struct dm_target *ti, struct bio *bio)
{
	struct hybrid_c *hc = ti->private;
	struct dmh_pool *pool = hc->pool;
	struct dmh_bio *pb = dmh_pb(bio);
	bool write = op_is_write(bio_op(bio));
	u64 e;

	pb->vol = hc->vol;
	pb->cell = NULL;
	pb->flags = 0;
	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	if (unlikely(READ_ONCE(pool->mode) == DMH_MODE_FAIL))
		return DM_MAPIO_KILL;
	if (bio->bi_opf & REQ_PREFLUSH && !bio_sectors(bio)) {
		defer_bio(pool, &pool->flush_bios, bio);
		return DM_MAPIO_SUBMITTED;
	}
	if (dmh_mon_account(hc->vol, bio, bio_vchunk(pool, bio),
			    READ_ONCE(pool->knobs.seq_cutoff) * 2))
		pb->flags |= PB_STREAM;
	if (needs_worker(bio)) {
		defer_bio(pool, &pool->deferred, bio);
		return DM_MAPIO_SUBMITTED;
	}
	epoch_enter(pool, pb);
	e = dmh_lookup(hc->vol, bio_vchunk(pool, bio));
	if (e && !(e & DMH_E_ALLOC) && !(write && (e & DMH_E_MIGRATE))) {
		dmh_mon_tier(hc->vol, dmh_ploc_tier(dmh_entry_ploc(e)));
		remap(pool, bio, dmh_entry_ploc(e));
		return DM_MAPIO_REMAPPED;
	}
	epoch_exit(pool, pb);
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
static int hybrid_end_io(struct dm_target *ti, struct bio *bio,
			 blk_status_t *error)
{
	struct dmh_pool *pool = ((struct hybrid_c *)ti->private)->pool;
	struct dmh_bio *pb = dmh_pb(bio);

	if (pb->flags & PB_COUNTED)
		epoch_exit(pool, pb);
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

/* A grown or shrunk table resizes the volume, durably, before I/O. */
static int hybrid_preresume(struct dm_target *ti)
{
	struct hybrid_c *hc = ti->private;
	struct dmh_pool *pool = hc->pool;
	int r = 0;

	mutex_lock(&pool->md_lock);
	if (ti->len != hc->vol->size) {
		r = dmh_md_set_size(pool->md, hc->vol, ti->len);
		if (!r)
			r = pool_commit(pool);
	}
	mutex_unlock(&pool->md_lock);
	if (r)
		DMERR("volume %u: cannot resize to %llu sectors: %d",
		      hc->vol->id, (unsigned long long)ti->len, r);
	return r;
}

/*
 * Status (INFO): <mapped chunks> <ssd chunks> <hdd chunks> <read ios>
 *   <write ios> <read sectors> <write sectors> <ssd ios> <hdd ios>
 *   <promotions> <demotions> <sequential ios> <size histogram a-b-c-d-e-f>
 *   <weight> <ssd_min> <ssd_max> <priority>
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
		DMEMIT(" %u %llu %llu %s", READ_ONCE(v->weight),
		       READ_ONCE(v->ssd_min), READ_ONCE(v->ssd_max),
		       prio_name(READ_ONCE(v->priority)));
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
	.map = hybrid_map,
	.end_io = hybrid_end_io,
	.preresume = hybrid_preresume,
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
}

module_init(dm_hybrid_init);
module_exit(dm_hybrid_exit);

MODULE_DESCRIPTION(DM_NAME " tiering of virtual machine disks between SSD and HDD");
MODULE_LICENSE("GPL");
MODULE_ALIAS("dm-hybrid-pool");
