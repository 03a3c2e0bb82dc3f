// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid pool objects: the registry of pools, creation (which loads the
 * metadata) and the last put (which commits and frees).  A pool is shared
 * by the tables of its pool device (a reload finds the live one, so the
 * metadata is never opened twice, as with dm-thin) and by its volumes.
 *
 * The registry's mutex is held only to look up, insert and remove: a pool
 * is listed "busy" while it loads its metadata or tears down, so that its
 * devices count as taken, and a table that finds a busy pool waits until
 * it is settled.  One pool's slow load or final commit thus never stalls
 * the table loads of the others.
 */
#include <linux/blkdev.h>
#include <linux/dm-kcopyd.h>
#include <linux/wait.h>

#include "dm-hybrid.h"

static DEFINE_MUTEX(dmh_pools_lock);
static LIST_HEAD(dmh_pools);
/* Bumped, under the lock, whenever a pool stops being busy or leaves. */
static unsigned int dmh_pools_gen;
static DECLARE_WAIT_QUEUE_HEAD(dmh_pools_wait);

/*
 * Under dmh_pools_lock: the pool whose mapped device is @md, whose metadata
 * device is @meta, or whose pool device is @dev (those given), once it is
 * not busy; the lock is dropped while waiting.
 */
static struct dmh_pool *pool_lookup(struct mapped_device *md, dev_t meta,
				    dev_t dev)
{
	struct dmh_pool *pool;
	unsigned int gen;

again:
	list_for_each_entry(pool, &dmh_pools, list) {
		if ((!md || pool->pool_md != md) &&
		    (!meta || pool->md_dev != meta) &&
		    (!dev || disk_devt(dm_disk(pool->pool_md)) != dev))
			continue;
		if (!pool->busy)
			return pool;
		gen = dmh_pools_gen;
		mutex_unlock(&dmh_pools_lock);
		wait_event(dmh_pools_wait, READ_ONCE(dmh_pools_gen) != gen);
		mutex_lock(&dmh_pools_lock);
		goto again;
	}
	return NULL;
}

/* A busy pool is settled: loaded (@ok) or gone from the registry. */
static void pool_settle(struct dmh_pool *pool, bool ok)
{
	mutex_lock(&dmh_pools_lock);
	if (ok)
		pool->busy = false;
	else
		list_del(&pool->list);
	WRITE_ONCE(dmh_pools_gen, dmh_pools_gen + 1);
	mutex_unlock(&dmh_pools_lock);
	wake_up_all(&dmh_pools_wait);
}

/*
 * Everything but the pool itself, in the order of what uses what: kcopyd
 * first (its callbacks queue the worker), then the queue, drained (the
 * worker may queue itself again), then what the worker uses: block tier,
 * migration, policy, metadata; cells and epochs last.
 */
static void pool_release(struct dmh_pool *pool)
{
	if (pool->kc)
		dm_kcopyd_client_destroy(pool->kc);
	if (pool->wq)
		destroy_workqueue(pool->wq);
	dmh_blk_destroy(pool->blk);
	dmh_mig_destroy(pool->mig);
	dmh_policy_destroy(pool->policy);
	if (pool->md)
		dmh_md_close(pool->md);
	dmh_cells_exit(&pool->cells);
	dmh_epochs_exit(&pool->epochs);
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
	if (dmh_epochs_init(&pool->epochs, pool->wq, &pool->worker))
		return -ENOMEM;
	return dmh_cells_init(&pool->cells, pool->wq, &pool->worker);
}

/* The block tier, if the table asked for one and the pool is rw. */
static struct dmh_blk *pool_init_blocks(struct dmh_pool *pool)
{
	struct dmh_blk_env env = {
		.md = pool->md, .policy = pool->policy, .epochs = &pool->epochs,
		.kc = pool->kc, .chunk_sectors = pool->chunk_sectors,
		.wq = pool->wq, .worker = &pool->worker, .persist = pool->persist,
	};
	struct dmh_blk *blk;
	int t;

	if (!pool->block_mib || pool->mode != DMH_MODE_RW)
		return NULL;
	for (t = 0; t < DMH_NR_TIERS; t++)
		env.bdev[t] = pool->bdev[t];
	mutex_lock(&pool->md_lock);
	blk = dmh_blk_create(&env, pool->block_mib);
	mutex_unlock(&pool->md_lock);
	return blk;
}

/* After the metadata is open: the policy and the migration engine. */
static int pool_init_policy(struct dmh_pool *pool)
{
	struct dmh_mig_env env = {
		.md = pool->md, .md_lock = &pool->md_lock,
		.cells = &pool->cells, .epochs = &pool->epochs, .kc = pool->kc,
		.chunk_sectors = pool->chunk_sectors, .wq = pool->wq,
		.worker = &pool->worker,
	};
	int t;

	pool->policy = dmh_policy_create(pool->md, jiffies);
	if (!pool->policy)
		return -ENOMEM;
	env.policy = pool->policy;
	for (t = 0; t < DMH_NR_TIERS; t++)
		env.bdev[t] = pool->bdev[t];
	env.blk = pool_init_blocks(pool);
	if (IS_ERR(env.blk))
		return PTR_ERR(env.blk);
	pool->blk = env.blk;
	pool->mig = dmh_mig_create(&env);
	if (!pool->mig)
		return -ENOMEM;
	dmh_mig_set_writable(pool->mig, pool->mode == DMH_MODE_RW);
	return 0;
}

/*
 * Staged writes recorded in the staging log have their only copy on the
 * SSD: a pool that would not replay them must not activate.
 */
static int pool_check_slog(struct dmh_pool *pool, char **error)
{
	if (pool->persist && !dmh_md_slog_present(pool->md)) {
		*error =
		"persistent_staging needs a staging log: the metadata device has no room for one";
		return -EINVAL;
	}
	if (dmh_md_slog_pending(pool->md) &&
	    (!pool->persist || pool->mode != DMH_MODE_RW)) {
		*error =
		"Metadata holds staged writes: activate it read-write with persistent_staging";
		return -EINVAL;
	}
	return 0;
}

/* Outside dmh_pools_lock, the pool listed busy: open everything. */
static int pool_load(struct dmh_pool *pool, struct pool_c *pc, char **error)
{
	int r;

	if (pool_init_engine(pool)) {
		*error = "Cannot allocate pool workers";
		return -ENOMEM;
	}
	pool->md = dmh_md_open(pc->meta_dev->bdev, pc->chunk_sectors,
			       bdev_nr_sectors(pool->bdev[DMH_TIER_SSD]),
			       bdev_nr_sectors(pool->bdev[DMH_TIER_HDD]),
			       pc->features & DMH_F_READ_ONLY, error);
	if (IS_ERR(pool->md)) {
		r = PTR_ERR(pool->md);
		pool->md = NULL;
		return r;
	}
	if (dmh_md_heat_start(pool->md, &pool->md_lock)) {
		*error = "Cannot allocate pool workers";
		return -ENOMEM;
	}
	pool->mode = pc->features & DMH_F_READ_ONLY ? DMH_MODE_RO : DMH_MODE_RW;
	pool->block_mib = pc->block_mib;
	pool->persist = pc->features & DMH_F_PERSISTENT_STAGING;
	if (pool_check_slog(pool, error))
		return -EINVAL;
	r = pool_init_policy(pool);
	if (r)
		*error = r == -EINVAL ?
			 "Metadata staging log does not match the maps; run hybrid_check" :
			 "Cannot allocate the pool's policy";
	return r;
}

/* Under dmh_pools_lock: a new pool for @pc, listed busy, not loaded yet. */
static struct dmh_pool *pool_alloc(struct pool_c *pc)
{
	struct dmh_pool *pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	int t;

	if (!pool)
		return NULL;
	mutex_init(&pool->md_lock);
	spin_lock_init(&pool->lock);
	INIT_WORK(&pool->worker, dmh_pool_worker);
	INIT_DELAYED_WORK(&pool->waker, dmh_pool_waker);
	INIT_LIST_HEAD(&pool->zeroed);
	pool->pool_md = dm_table_get_md(pc->ti->table);
	pool->md_dev = pc->meta_dev->bdev->bd_dev;
	pool->chunk_sectors = pc->chunk_sectors;
	pool->chunk_shift = __ffs(pc->chunk_sectors);
	for (t = 0; t < DMH_NR_TIERS; t++)
		pool->bdev[t] = pc->data_dev[t]->bdev;
	pool->ref = 1;
	pool->busy = true;
	list_add(&pool->list, &dmh_pools);
	return pool;
}

/* Under dmh_pools_lock: may @pc, a reload, share the live @pool? */
static int pool_check_reload(struct dmh_pool *pool, struct pool_c *pc,
			     char **error)
{
	if (pool->pool_md != dm_table_get_md(pc->ti->table)) {
		*error = "Metadata device is already used by another pool";
		return -EBUSY;
	}
	if (pool->md_dev != pc->meta_dev->bdev->bd_dev) {
		*error = "A reload cannot change the metadata device";
		return -EINVAL;
	}
	/* An evacuated pool may change its SSD: dm-hybrid.c checks that. */
	if (pool->bdev[DMH_TIER_HDD] != pc->data_dev[DMH_TIER_HDD]->bdev) {
		*error = "A reload cannot change the HDD";
		return -EINVAL;
	}
	if (pool->chunk_sectors != pc->chunk_sectors) {
		*error = "A reload cannot change the chunk size";
		return -EINVAL;
	}
	if (pool->block_mib != pc->block_mib) {
		*error = "A reload cannot change block_tier";
		return -EINVAL;
	}
	if (pool->persist != !!(pc->features & DMH_F_PERSISTENT_STAGING)) {
		*error = "A reload cannot change persistent_staging";
		return -EINVAL;
	}
	return 0;
}

struct dmh_pool *dmh_pool_get(struct pool_c *pc, char **error)
{
	struct dmh_pool *pool;
	int r;

	mutex_lock(&dmh_pools_lock);
	pool = pool_lookup(dm_table_get_md(pc->ti->table),
			   pc->meta_dev->bdev->bd_dev, 0);
	if (pool) {
		r = pool_check_reload(pool, pc, error);
		if (!r)
			pool->ref++;
		mutex_unlock(&dmh_pools_lock);
		return r ? ERR_PTR(r) : pool;
	}
	pool = pool_alloc(pc);
	mutex_unlock(&dmh_pools_lock);
	if (!pool) {
		*error = "Cannot allocate pool";
		return ERR_PTR(-ENOMEM);
	}
	r = pool_load(pool, pc, error);
	if (r)
		pool_release(pool);
	pool_settle(pool, !r);
	if (r) {
		kfree(pool);
		return ERR_PTR(r);
	}
	return pool;
}

struct dmh_pool *dmh_pool_get_by_dev(dev_t dev)
{
	struct dmh_pool *pool;

	mutex_lock(&dmh_pools_lock);
	pool = pool_lookup(NULL, 0, dev);
	if (pool)
		pool->ref++;
	mutex_unlock(&dmh_pools_lock);
	return pool;
}

/*
 * The last reference commits and frees the pool, busy meanwhile: its
 * metadata device stays taken until the metadata is closed.
 */
void dmh_pool_put(struct dmh_pool *pool)
{
	bool last;

	mutex_lock(&dmh_pools_lock);
	last = !--pool->ref;
	if (last)
		pool->busy = true;
	mutex_unlock(&dmh_pools_lock);
	if (!last)
		return;
	dmh_mig_suspend(pool->mig);
	dmh_blk_suspend(pool->blk);
	cancel_delayed_work_sync(&pool->waker);
	flush_workqueue(pool->wq);
	mutex_lock(&pool->md_lock);
	if (pool->mode == DMH_MODE_RW)
		dmh_pool_commit(pool);
	mutex_unlock(&pool->md_lock);
	pool_release(pool);
	pool_settle(pool, false);
	kfree(pool);
}
