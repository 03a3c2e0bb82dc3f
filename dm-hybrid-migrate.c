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
 * (dm-hybrid.c), so reads still in flight to A complete first.
 *
 * Locking: everything here runs with the pool's md_lock held, except
 * mig_copied(), which only queues.
 */
#include <linux/delay.h>
#include <linux/device-mapper.h>
#include <linux/dm-io.h>
#include <linux/dm-kcopyd.h>
#include <linux/jiffies.h>

#include "dm-hybrid.h"

#define MAX_INFLIGHT		32	/* two ticks' worth: copies may outlast a tick */
#define MAX_PLAN		16
#define SCAN_BUDGET		262144	/* chunks classified per tick */
#define BUSY_INFLIGHT		32	/* foreground bios that mean "busy" */
#define SECTORS_PER_MIB		2048

static const struct dmh_knobs default_knobs = {
	.migration = true,
	.rate = 64,
	.hysteresis = 4,
	.half_life = 60,
	.seq_cutoff = 1024,
	.promote = 4,
	.tick_ms = 250,		/* 16 per tick: 64 chunks/s */
	.heat_save = 30,
	.promote_free = 1,
};

/* ------------------------------------------------------------- knobs */

static u32 tunable(const u32 *t, unsigned int idx, u32 def)
{
	return t[idx] ? t[idx] - 1 : def;
}

/*
 * Knobs persist in the superblock's tunables as value + 1 (0 = default),
 * migration on/off as a flag.  The default SSD reserve is 1% of the SSD.
 */
void dmh_knobs_load(struct dmh_pool *pool)
{
	struct dmh_knobs *k = &pool->knobs;
	struct dmh_md_usage u;
	u32 t[DMH_NR_TUNABLES];

	dmh_md_tunables(pool->md, t, false);
	dmh_md_usage(pool->md, &u);
	*k = default_knobs;
	k->reserve = max_t(u64, u.total[DMH_TIER_SSD] / 100, 1);
	k->migration = !(t[DMH_TUN_FLAGS] & 1);
	k->rate = tunable(t, DMH_TUN_RATE, k->rate);
	k->hysteresis = tunable(t, DMH_TUN_HYSTERESIS, k->hysteresis);
	k->half_life = tunable(t, DMH_TUN_HALF_LIFE, k->half_life);
	k->reserve = tunable(t, DMH_TUN_RESERVE, k->reserve);
	k->seq_cutoff = tunable(t, DMH_TUN_SEQ_CUTOFF, k->seq_cutoff);
	k->promote = tunable(t, DMH_TUN_PROMOTE, k->promote);
	k->tick_ms = tunable(t, DMH_TUN_TICK, k->tick_ms);
	k->heat_save = tunable(t, DMH_TUN_HEAT_SAVE, k->heat_save);
	k->promote_free = tunable(t, DMH_TUN_PROMOTE_FREE, k->promote_free);
}

static const struct {
	const char *name;
	unsigned int idx;
	u32 min, max;
} knob_table[] = {
	{ "migration_rate", DMH_TUN_RATE, 0, 100000 },
	{ "hysteresis", DMH_TUN_HYSTERESIS, 0, 255 },
	{ "heat_half_life", DMH_TUN_HALF_LIFE, 0, 86400 },
	{ "ssd_reserve", DMH_TUN_RESERVE, 0, U32_MAX - 1 },
	{ "seq_cutoff", DMH_TUN_SEQ_CUTOFF, 0, 1048576 },
	{ "promote_threshold", DMH_TUN_PROMOTE, 0, 255 },
	{ "tick_ms", DMH_TUN_TICK, 10, 60000 },
	{ "heat_save_interval", DMH_TUN_HEAT_SAVE, 1, 3600 },
	{ "promote_free_threshold", DMH_TUN_PROMOTE_FREE, 0, 255 },
};

/* md_lock held: "set <knob> <value>"; the caller commits. */
int dmh_knob_set(struct dmh_pool *pool, const char *name, const char *val)
{
	u32 t[DMH_NR_TUNABLES], v;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(knob_table); i++)
		if (!strcmp(name, knob_table[i].name))
			break;
	if (i == ARRAY_SIZE(knob_table)) {
		DMERR("set: unknown knob '%s'", name);
		return -EINVAL;
	}
	if (kstrtou32(val, 10, &v) || v < knob_table[i].min ||
	    v > knob_table[i].max) {
		DMERR("set %s: value must be a number from %u to %u", name,
		      knob_table[i].min, knob_table[i].max);
		return -EINVAL;
	}
	dmh_md_tunables(pool->md, t, false);
	t[knob_table[i].idx] = v + 1;
	dmh_md_tunables(pool->md, t, true);
	dmh_knobs_load(pool);
	/* A shorter save period applies now, not after the old one. */
	if (knob_table[i].idx == DMH_TUN_HEAT_SAVE)
		pool->next_heat_save = jiffies + v * HZ;
	return 0;
}

/* md_lock held: "migration on|off"; the caller commits. */
int dmh_mig_switch(struct dmh_pool *pool, bool on)
{
	u32 t[DMH_NR_TUNABLES];

	dmh_md_tunables(pool->md, t, false);
	t[DMH_TUN_FLAGS] = on ? t[DMH_TUN_FLAGS] & ~1u : t[DMH_TUN_FLAGS] | 1u;
	dmh_md_tunables(pool->md, t, true);
	pool->knobs.migration = on;
	return 0;
}

/*
 * Status fields after out_of_space: migration on|off, queued, done,
 * sectors moved, the knobs in knob_table order up to heat_save_interval,
 * the migration backoffs, then the knobs added since (promote_free), so
 * that the fields parsers already know keep their positions.
 */
void dmh_knobs_emit(struct dmh_pool *pool, char *result, unsigned int maxlen,
		    unsigned int *szp)
{
	struct dmh_knobs *k = &pool->knobs;
	unsigned int sz = *szp;

	DMEMIT(" %s %llu %llu %llu %u %u %u %llu %u %u %u %u %llu %u",
	       k->migration ? "on" : "off", pool->mig_queued, pool->mig_done,
	       pool->mig_sectors, k->rate, k->hysteresis, k->half_life,
	       k->reserve, k->seq_cutoff, k->promote, k->tick_ms,
	       k->heat_save, pool->mig_backoffs, k->promote_free);
	*szp = sz;
}

/* ---------------------------------------------------------- migration */

static struct dm_io_region chunk_region(struct dmh_pool *pool, dmh_ploc_t p)
{
	return (struct dm_io_region) {
		.bdev = pool->bdev[dmh_ploc_tier(p)],
		.sector = dmh_ploc_index(p) << pool->chunk_shift,
		.count = pool->chunk_sectors,
	};
}

/* Step 1. */
static int mig_begin(struct dmh_pool *pool, struct dmh_move *mv)
{
	u64 e = dmh_lookup(mv->vol, mv->vchunk);
	struct dmh_cell *c;
	dmh_ploc_t p;
	int r;

	if (!e || (e & DMH_E_BUSY) ||
	    dmh_ploc_tier(dmh_entry_ploc(e)) == mv->to)
		return -EBUSY;
	r = dmh_md_alloc(pool->md, mv->to, &p);
	if (r)
		return r;
	c = mempool_alloc(&pool->cell_pool, GFP_NOIO);
	*c = (struct dmh_cell) { .pool = pool, .vol = mv->vol,
				 .vchunk = mv->vchunk, .p = p,
				 .from = dmh_entry_ploc(e),
				 .kind = DMH_CELL_MIGRATE };
	bio_list_init(&c->held);
	r = xa_err(xa_store(&mv->vol->cells, mv->vchunk, c, GFP_NOIO));
	if (r) {
		mempool_free(c, &pool->cell_pool);
		dmh_md_abort_alloc(pool->md, p);
		return r;
	}
	/* The slot exists: replacing a value entry cannot fail. */
	dmh_md_set_entry(mv->vol, mv->vchunk, dmh_entry(c->from, DMH_E_MIGRATE));
	c->gen = dmh_epoch_barrier(pool);
	if (mv->to == DMH_TIER_SSD)
		mv->vol->ssd_pending++;
	else
		mv->vol->ssd_leaving++;
	list_add_tail(&c->list, &pool->mig_wait);
	atomic_inc(&pool->mig_inflight);
	pool->mig_queued++;
	return 0;
}

/* Step 3, kcopyd context. */
static void mig_copied(int read_err, unsigned long write_err, void *context)
{
	struct dmh_cell *c = context;
	struct dmh_pool *pool = c->pool;
	unsigned long flags;

	c->error = read_err || write_err ? -EIO : 0;
	spin_lock_irqsave(&pool->lock, flags);
	list_add_tail(&c->list, &pool->copied);
	spin_unlock_irqrestore(&pool->lock, flags);
	dmh_wake_worker(pool);
}

/* Step 2. */
static void mig_copy(struct dmh_pool *pool, struct dmh_cell *c)
{
	struct dm_io_region from = chunk_region(pool, c->from);
	struct dm_io_region to = chunk_region(pool, c->p);

	pool->mig_queued--;
	dm_kcopyd_copy(pool->kc, &from, 1, &to, 0, mig_copied, c);
}

/* Step 4. */
static void mig_finish(struct dmh_pool *pool, struct dmh_cell *c)
{
	unsigned int to = dmh_ploc_tier(c->p);
	int r = c->error;

	if (to == DMH_TIER_SSD)
		c->vol->ssd_pending--;
	else
		c->vol->ssd_leaving--;
	if (!r && pool->mode != DMH_MODE_RW)
		r = -EROFS;
	if (!r)
		r = dmh_md_map(pool->md, c->vol, c->vchunk, c->p);
	if (r) {
		DMERR_LIMIT("migration of volume %u chunk %llu failed: %d",
			    c->vol->id, c->vchunk, r);
		dmh_md_set_entry(c->vol, c->vchunk, dmh_entry(c->from, 0));
		dmh_md_abort_alloc(pool->md, c->p);
	} else {
		dmh_md_count_move(pool->md, to);
		if (to == DMH_TIER_SSD)
			c->vol->promotions++;
		else
			c->vol->demotions++;
		pool->mig_done++;
		pool->mig_sectors += pool->chunk_sectors;
	}
	dmh_release_cell(pool, c);
	atomic_dec(&pool->mig_inflight);
}

/* Worker: copies whose epoch drained, and copies that ended. */
void dmh_mig_process(struct dmh_pool *pool)
{
	struct dmh_cell *c, *tmp;
	unsigned long flags;
	LIST_HEAD(done);

	list_for_each_entry_safe(c, tmp, &pool->mig_wait, list) {
		if (pool->drained_gen < c->gen)
			continue;
		list_del(&c->list);
		mig_copy(pool, c);
	}
	spin_lock_irqsave(&pool->lock, flags);
	list_splice_init(&pool->copied, &done);
	spin_unlock_irqrestore(&pool->lock, flags);
	list_for_each_entry_safe(c, tmp, &done, list) {
		list_del(&c->list);
		mig_finish(pool, c);
	}
}

/* ------------------------------------------------------------ the tick */

/*
 * Token bucket in sectors.  When the volumes kept more than BUSY_INFLIGHT
 * bios in flight on average since the last tick, the rate drops to a
 * quarter, never to nothing: migration always progresses.
 */
static unsigned int mig_budget(struct dmh_pool *pool)
{
	struct dmh_knobs *k = &pool->knobs;
	unsigned long now = jiffies, busy = dmh_busy_time(pool);
	s64 rate = (s64)k->rate * SECTORS_PER_MIB;
	s64 add = div_s64(rate * jiffies_to_msecs(now - pool->mig_stamp), 1000);
	s64 cap = max_t(s64, rate, pool->chunk_sectors);
	bool loaded = busy - pool->mig_busy >
		      BUSY_INFLIGHT * (now - pool->mig_stamp);

	pool->mig_stamp = now;
	pool->mig_busy = busy;
	if (!k->rate)
		return MAX_PLAN;
	if (loaded) {
		add /= 4;
		pool->mig_backoffs++;
	}
	pool->mig_tokens = min(pool->mig_tokens + add, cap);
	return pool->mig_tokens > 0 ?
		div_s64(pool->mig_tokens, pool->chunk_sectors) : 0;
}

static void decay_if_due(struct dmh_pool *pool)
{
	struct dmh_volume *v;
	unsigned long id = 0;

	if (!pool->knobs.half_life || time_before(jiffies, pool->next_decay))
		return;
	pool->next_decay = jiffies + pool->knobs.half_life * HZ;
	while ((v = dmh_md_next_volume(pool->md, &id)))
		dmh_mon_decay(v);
}

static void plan_and_begin(struct dmh_pool *pool)
{
	struct dmh_move moves[MAX_PLAN];
	int slots = MAX_INFLIGHT - atomic_read(&pool->mig_inflight);
	unsigned int n, i, budget = mig_budget(pool);

	if (slots <= 0 || !budget)
		return;
	n = dmh_policy_step(pool->md, &pool->scan, &pool->knobs,
			    dmh_md_free_chunks(pool->md, DMH_TIER_SSD), moves,
			    min3(budget, (unsigned int)slots, (unsigned int)MAX_PLAN),
			    SCAN_BUDGET);
	for (i = 0; i < n; i++)
		if (!mig_begin(pool, &moves[i]) && pool->knobs.rate)
			pool->mig_tokens -= pool->chunk_sectors;
}

void dmh_mig_tick(struct work_struct *ws)
{
	struct dmh_pool *pool = container_of(to_delayed_work(ws),
					     struct dmh_pool, mig_tick);
	unsigned long delay;
	bool stop;

	mutex_lock(&pool->md_lock);
	stop = pool->mig_stop;
	if (!stop && time_after_eq(jiffies, pool->next_heat_save) &&
	    pool->mode == DMH_MODE_RW) {
		pool->next_heat_save = jiffies + pool->knobs.heat_save * HZ;
		dmh_md_save_heat(pool->md);
	}
	if (!stop) {
		decay_if_due(pool);
		if (pool->knobs.migration && pool->mode == DMH_MODE_RW)
			plan_and_begin(pool);
	}
	delay = msecs_to_jiffies(pool->knobs.tick_ms);
	mutex_unlock(&pool->md_lock);
	dmh_wake_worker(pool);
	if (!stop)
		queue_delayed_work(pool->wq, &pool->mig_tick, delay);
}

void dmh_mig_init(struct dmh_pool *pool)
{
	INIT_DELAYED_WORK(&pool->mig_tick, dmh_mig_tick);
	INIT_LIST_HEAD(&pool->mig_wait);
	INIT_LIST_HEAD(&pool->copied);
	atomic_set(&pool->mig_inflight, 0);
	pool->mig_stop = true;
	pool->mig_stamp = jiffies;
	pool->mig_busy = dmh_busy_time(pool);
	pool->next_decay = jiffies + pool->knobs.half_life * HZ;
	pool->next_heat_save = jiffies + pool->knobs.heat_save * HZ;
}

/* Resume: start ticking. */
void dmh_mig_start(struct dmh_pool *pool)
{
	mutex_lock(&pool->md_lock);
	pool->mig_stop = false;
	mutex_unlock(&pool->md_lock);
	mod_delayed_work(pool->wq, &pool->mig_tick,
			 msecs_to_jiffies(pool->knobs.tick_ms));
}

/* Suspend: begin nothing new and let migrations in flight finish. */
void dmh_mig_stop(struct dmh_pool *pool)
{
	mutex_lock(&pool->md_lock);
	pool->mig_stop = true;
	mutex_unlock(&pool->md_lock);
	cancel_delayed_work_sync(&pool->mig_tick);
	while (atomic_read(&pool->mig_inflight)) {
		dmh_wake_worker(pool);
		flush_workqueue(pool->wq);
		msleep(20);
	}
}
