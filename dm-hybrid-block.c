// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid block tier: clean copies of hot 4 KiB blocks of HDD-resident
 * chunks in SSD slots (dm-hybrid-block.h says what it is for).
 *
 * The life of a slot; every change of @state is made under blk->lock:
 *
 *   FREE -> FILLING   the worker admitted a missed block: the slot is in
 *                     the index and waits for an epoch barrier, so that no
 *                     write that looked the block up before is in flight;
 *   FILLING -> COPYING  kcopyd copies the HDD block to the slot;
 *   COPYING -> VALID  reads of the block now go to the slot.
 *
 * A read miss that finds a free slot takes it COPYING at once and fills it
 * with the block it read (dm-hybrid-readfill.c: how it closes the race
 * the epoch barrier closes here).
 *
 * A write or discard of the block, or a drop (the chunk's home changes,
 * the volume goes, the pool leaves rw mode), takes the slot out of the
 * index: a FILLING or COPYING slot turns STALE and its fill's end throws
 * the copy away; a VALID one turns DYING.  The worker gives every DYING or
 * thrown-away slot an epoch barrier (DRAIN) and makes it FREE once that
 * epoch drained: a slot is never refilled, perhaps for another volume,
 * while a read that found its old block may still be in flight.
 *
 * Write staging: a plain write inside the block of a VALID slot goes to
 * the slot, which turns @dirty (xarray mark DIRTY) and counts the write
 * in @wseq.  A dirty slot is never evicted, and a bio that cannot use it
 * (it spans blocks, is a FUA write or a discard) waits until a writeback
 * made it clean.  A writeback (@wb: WAIT, COPY) notes @wseq, takes an
 * epoch barrier, and once that drained -- every staged write it noted has
 * ended -- kcopyd copies the slot to the HDD, the copy counted in an epoch
 * so that the HDD chunk is not reused under it.  The slot is clean at the
 * end only if no write was staged since (@wseq unchanged).  A writeback
 * asked for (@need, mark NEED: a flush, a suspend, a waiting bio) counts
 * in @pending until a copy begun after the request ended.
 *
 * Reads look the index up under RCU after the bio was counted in the
 * current epoch, as chunk lookups do (dm-hybrid-cell.h); the fields of an
 * indexed slot other than @state, @ref and the staging fields change only
 * while it is FREE.  Only the worker (md_lock held) makes a dirty slot
 * clean or drops it.
 */
#include <linux/device-mapper.h>
#include <linux/dm-io.h>
#include <linux/dm-kcopyd.h>
#include <linux/hash.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "dm-hybrid-block-priv.h"

/* ---------------------------------------------------------- the shares */

/* SSD chunks @slots slots fill, rounded up. */
static u64 slot_chunks(struct dmh_blk *blk, u64 slots)
{
	return (slots + (1ull << blk->slot_shift) - 1) >> blk->slot_shift;
}

/* blk->lock held: @v claimed a slot; its weight may have changed since. */
static void share_add(struct dmh_blk *blk, struct dmh_volume *v)
{
	struct share *sh = &blk->shares[v->slot];
	u32 w = dmh_share_weight(v);

	blk->active += (u64)w - (sh->slots ? sh->weight : 0);
	sh->weight = w;
	WRITE_ONCE(sh->slots, sh->slots + 1);
	WRITE_ONCE(v->blk_held, slot_chunks(blk, sh->slots));
}

/* blk->lock held: a slot of @v left the index. */
static void share_sub(struct dmh_blk *blk, struct dmh_volume *v)
{
	struct share *sh = &blk->shares[v->slot];

	WRITE_ONCE(sh->slots, sh->slots - 1);
	WRITE_ONCE(v->blk_held, slot_chunks(blk, sh->slots));
	if (!sh->slots)
		blk->active -= sh->weight;
}

/*
 * blk->lock held: may @v take @n more slots within its ssd_max, which
 * counts its SSD chunks and its slots together (racy reads of the
 * chunk counts: the cap may be passed by the chunks under way)?
 */
bool dmh_blk_may_grow(struct dmh_blk *blk, struct dmh_volume *v, u64 n)
{
	u64 max = READ_ONCE(v->ssd_max);
	u64 chunks = READ_ONCE(v->nr_chunks[DMH_TIER_SSD]);

	return !max || (chunks < max &&
			slot_chunks(blk, blk->shares[v->slot].slots + n) <=
			max - chunks);
}

/*
 * blk->lock held: would losing one slot take @v below its ssd_min, which
 * counts its SSD chunks and its slots together as ssd_max does (racy
 * read of the chunk count: chunks under way may move the line)?
 */
static bool at_min(struct dmh_blk *blk, struct dmh_volume *v)
{
	u64 min = READ_ONCE(v->ssd_min);
	u64 chunks = READ_ONCE(v->nr_chunks[DMH_TIER_SSD]);
	u64 slots = blk->shares[v->slot].slots;

	return min && slots && chunks + slot_chunks(blk, slots - 1) < min;
}

bool dmh_blk_over_share(struct dmh_blk *blk, struct dmh_volume *v,
			bool or_equal)
{
	struct share *sh = &blk->shares[v->slot];
	u64 held = sh->slots * blk->active;
	u64 due = blk->nr_slots * sh->weight;

	return sh->slots && (held > due || (or_equal && held == due));
}

u64 dmh_blk_vol_slots(struct dmh_blk *blk, struct dmh_volume *v)
{
	return blk ? READ_ONCE(blk->shares[v->slot].slots) : 0;
}

/* ------------------------------------------------------------ the index */

/* blk->lock held: @s's writeback asked for no longer counts. */
static void forget_need(struct dmh_blk *blk, struct slot *s)
{
	blk->pending -= s->need + s->wb_need;
	s->need = 0;
	s->wb_need = 0;
}

/* blk->lock held: @s no longer holds bytes the HDD lacks. */
void dmh_blk_forget_dirty(struct dmh_blk *blk, struct slot *s)
{
	if (!s->dirty)
		return;
	s->dirty = 0;
	blk->dirty--;
	blk->settled++;
	this_cpu_dec(s->vol->stats->block_dirty);
	mark_log(blk, s);
}

/*
 * blk->lock held: take @s out of the index; it was indexed under @key.
 * The fill's or the writeback's end, or the worker, makes it reusable
 * after an epoch.  A dirty slot's bytes are lost: only drops whose data
 * is gone anyway (a discard, an unmap, a deleted volume) pass one.
 */
void dmh_blk_unindex(struct dmh_blk *blk, struct slot *s)
{
	xa_erase(&blk->index, s->key);
	share_sub(blk, s->vol);
	dmh_blk_forget_dirty(blk, s);
	mark_log(blk, s);
	forget_need(blk, s);
	switch (s->state) {
	case S_FILLING:
	case S_COPYING:
		s->state = S_STALE;
		break;
	case S_VALID:
		blk->valid--;
		if (s->wb == WB_COPY || s->wb == WB_TOPUP) {
			s->state = S_STALE;	/* its copy's end drains it */
			break;
		}
		if (s->wb == WB_WAIT)
			blk->wb_inflight--;
		if (s->wb != WB_NONE) {
			list_del(&s->list);
			s->wb = WB_NONE;
			s->fill = 0;
			atomic_dec(&blk->inflight);
		}
		s->state = S_DYING;
		blk->nr_reclaim++;
		list_add_tail(&s->list, &blk->dying);
		break;
	}
}

/*
 * Any context: drop every slot indexed in [@first, @last] (the dirty ones
 * only with @dirty_too), a batch at a time, so that a whole volume's or
 * pool's slots never keep interrupts off for long.
 */
static void drop_range(struct dmh_blk *blk, u64 first, u64 last,
		       bool dirty_too)
{
	unsigned long flags, index = first;
	unsigned int n;
	struct slot *s;
	void *e;

	do {
		n = 0;
		spin_lock_irqsave(&blk->lock, flags);
		xa_for_each_range(&blk->index, index, e, index, last) {
			s = &blk->slots[xa_to_value(e)];
			if (dirty_too || !s->dirty)
				dmh_blk_unindex(blk, s);
			if (++n == DROP_BATCH)
				break;
		}
		spin_unlock_irqrestore(&blk->lock, flags);
	} while (n == DROP_BATCH && index++ < last);
}

/* ----------------------------------------------------------- the bio path */

void dmh_blk_note_miss(struct dmh_blk *blk, struct dmh_volume *v, u64 key,
		       dmh_ploc_t home)
{
	unsigned long flags;

	spin_lock_irqsave(&blk->lock, flags);
	if (!blk->stop && !blk->off && blk->nr_cands < NR_CANDS)
		blk->cands[blk->nr_cands++] = (struct cand) {
			.vol = v, .key = key, .from = home,
		};
	spin_unlock_irqrestore(&blk->lock, flags);
}

/*
 * blk->lock held: the free slot right after the slot of block @key - 1,
 * or right before that of @key + 1, in the same SSD chunk, if there is
 * one, else the first free slot: neighbouring blocks in neighbouring
 * slots serve a read across them in one request (dm-hybrid-stage.c).
 */
static struct slot *pick_free(struct dmh_blk *blk, u64 key)
{
	u64 per = 1ull << blk->slot_shift, j;
	void *e;

	e = xa_load(&blk->index, key - 1);
	j = e ? xa_to_value(e) + 1 : 0;
	if (j % per && blk->slots[j].state == S_FREE)
		return &blk->slots[j];
	e = xa_load(&blk->index, key + 1);
	j = e ? xa_to_value(e) : 0;
	if (j % per && blk->slots[j - 1].state == S_FREE)
		return &blk->slots[j - 1];
	return list_first_entry(&blk->free, struct slot, list);
}

struct slot *dmh_blk_claim(struct dmh_blk *blk, struct dmh_volume *v, u64 key,
			   dmh_ploc_t home, u8 state, u32 valid, u64 keep)
{
	struct slot *s;

	if (blk->nr_free <= keep || !dmh_blk_may_grow(blk, v, 1))
		return NULL;
	s = pick_free(blk, key);
	s->vol = v;
	s->key = key;
	s->from = home;
	s->ref = 0;
	s->error = 0;
	s->wb_failed = 0;
	s->wseq = 0;
	s->valid = valid;
	s->pending = 0;
	s->state = state;
	if (xa_err(xa_store(&blk->index, key, xa_mk_value(s - blk->slots),
			    GFP_NOWAIT))) {
		s->state = S_FREE;
		return NULL;
	}
	list_del_init(&s->list);
	blk->nr_free--;
	share_add(blk, v);
	return s;
}

void dmh_blk_drop_chunk(struct dmh_blk *blk, struct dmh_volume *v,
			u64 vchunk)
{
	if (blk)
		drop_range(blk, chunk_first_key(blk, v, vchunk),
			   chunk_last_key(blk, v, vchunk), true);
}

void dmh_blk_drop_beyond(struct dmh_blk *blk, struct dmh_volume *v,
			 sector_t sector)
{
	if (blk && sector >> DMH_BLK_SHIFT < (1ull << KEY_SHIFT))
		drop_range(blk, blk_key(v, sector), vol_last_key(v), true);
}

/* blk->lock held: forget the misses noted for @v. */
static void forget_misses(struct dmh_blk *blk, struct dmh_volume *v)
{
	unsigned int i, n = 0;

	for (i = 0; i < blk->nr_cands; i++)
		if (blk->cands[i].vol != v)
			blk->cands[n++] = blk->cands[i];
	blk->nr_cands = n;
}

void dmh_blk_drop_volume(struct dmh_blk *blk, struct dmh_volume *v)
{
	if (!blk)
		return;
	spin_lock_irq(&blk->lock);
	forget_misses(blk, v);
	spin_unlock_irq(&blk->lock);
	drop_range(blk, vol_first_key(v), vol_last_key(v), true);
}

void dmh_blk_drop_all(struct dmh_blk *blk)
{
	unsigned long flags;

	if (!blk)
		return;
	spin_lock_irqsave(&blk->lock, flags);
	blk->off = true;
	blk->nr_cands = 0;
	spin_unlock_irqrestore(&blk->lock, flags);
	drop_range(blk, 0, ULONG_MAX, false);
}

void dmh_blk_evacuate(struct dmh_blk *blk)
{
	if (!blk)
		return;
	spin_lock_irq(&blk->lock);
	blk->nr_cands = 0;
	spin_unlock_irq(&blk->lock);
	if (!xa_empty(&blk->index))
		drop_range(blk, 0, ULONG_MAX, false);
}

void dmh_blk_set_ssd(struct dmh_blk *blk, struct block_device *bdev)
{
	if (blk)
		blk->env.bdev[DMH_TIER_SSD] = bdev;
}

/* ------------------------------------------------------------ admission */

/*
 * Worker: may @c's block take a slot?  Free slots beyond the writes'
 * reserve are taken at the first miss; once none is left a block needs a
 * second miss while its hash is still in the ghost table (four entries a
 * slot: recent misses, hashed), and then frees a slot whose copy was not
 * read since the hand last passed.
 */
static bool admit(struct dmh_blk *blk, u64 key)
{
	u32 h = hash_64(key, 32) | 1;
	u32 *g = &blk->ghost[hash_64(key, blk->ghost_bits)];

	if (READ_ONCE(blk->nr_free) > blk->reserve)
		return true;
	if (*g != h) {
		*g = h;
		return false;
	}
	*g = 0;
	return true;
}

/*
 * Worker, blk->lock held: turn one unreferenced VALID slot DYING, for @v:
 * one of @v's own if @v holds its share or more, else one of a volume
 * over its share.  For the writes' reserve (no @v), anyone's.  Another
 * volume's slot is never taken below that volume's ssd_min: the
 * reservation holds against the slots' fair shares too.
 */
static void evict_one(struct dmh_blk *blk, struct dmh_volume *v)
{
	bool own = v && (dmh_blk_over_share(blk, v, true) ||
			 !dmh_blk_may_grow(blk, v, 1));
	unsigned int look;
	struct slot *s;

	for (look = 0; look < CLOCK_LOOK; look++) {
		s = &blk->slots[blk->hand];
		blk->hand = (blk->hand + 1) % blk->nr_slots;
		if (s->state != S_VALID || s->dirty)
			continue;
		if (v && (own ? s->vol != v :
			  !dmh_blk_over_share(blk, s->vol, false)))
			continue;
		if (s->vol != v && at_min(blk, s->vol))
			continue;
		if (s->ref) {
			s->ref = 0;
			continue;
		}
		dmh_blk_unindex(blk, s);
		return;
	}
}

/* Worker: is @c still a read miss of an HDD chunk that may use a slot? */
static bool cand_ok(struct dmh_blk *blk, struct cand *c)
{
	u64 vchunk = key_vchunk(blk, c->key);
	u64 e = dmh_lookup(c->vol, vchunk);

	return e && !(e & DMH_E_BUSY) && dmh_entry_ploc(e) == c->from &&
	       dmh_pin_of(c->vol, vchunk) != DMH_PIN_HDD;
}

/*
 * Worker: index a free slot for @c as FILLING.  The epoch barrier taken
 * after the slot is visible covers every write that missed it.
 */
static void begin_fill(struct dmh_blk *blk, struct cand *c)
{
	struct slot *s;

	spin_lock_irq(&blk->lock);
	/* The reserve is for writes; a volume at its cap trades its own. */
	if (blk->nr_free <= blk->reserve || !dmh_blk_may_grow(blk, c->vol, 1)) {
		evict_one(blk, c->vol);
		spin_unlock_irq(&blk->lock);
		return;
	}
	/* A write may have taken the block's slot since the miss. */
	s = xa_load(&blk->index, c->key) ? NULL :
	    dmh_blk_claim(blk, c->vol, c->key, c->from, S_FILLING, FULL,
			  blk->reserve);
	if (s)
		list_add_tail(&s->list, &blk->wait);
	spin_unlock_irq(&blk->lock);
	if (!s)
		return;
	s->gen = dmh_epoch_barrier(blk->env.epochs);
	atomic_inc(&blk->inflight);
	blk->tokens -= DMH_BLK_SECTORS;
}

/*
 * Worker: with write staging, while writes to blocks without a slot came
 * in the last WRITES_RECENT, keep a sixteenth of the slots free or on
 * their way (clean ones evicted), so that such writes can take one at
 * once; fills do not take from that reserve.
 */
static void keep_free(struct dmh_blk *blk)
{
	unsigned int n;

	spin_lock_irq(&blk->lock);
	for (n = 0; n < MAX_FILLS &&
	     blk->nr_free + blk->nr_reclaim < blk->reserve; n++)
		evict_one(blk, NULL);
	spin_unlock_irq(&blk->lock);
}

/* Worker: sectors of fills the migration rate allows this pass. */
static void refill_tokens(struct dmh_blk *blk)
{
	u32 rate = dmh_policy_knobs(blk->env.policy)->rate;
	unsigned long now = jiffies;
	s64 per_s = (s64)rate * 2048;

	if (!rate) {
		blk->tokens = MAX_FILLS * DMH_BLK_SECTORS;
	} else {
		blk->tokens += div_s64(per_s * jiffies_to_msecs(now - blk->stamp),
				       1000);
		blk->tokens = min_t(s64, blk->tokens, max_t(s64, per_s / 4,
							    DMH_BLK_SECTORS));
	}
	blk->stamp = now;
}

static bool pop_miss(struct dmh_blk *blk, struct cand *c)
{
	bool got;

	spin_lock_irq(&blk->lock);
	got = blk->nr_cands;
	if (got)
		*c = blk->cands[--blk->nr_cands];
	spin_unlock_irq(&blk->lock);
	return got;
}

/*
 * Worker: @c missed sectors its block's slot lacks (a staged write took
 * the slot, valid only where it wrote): top the slot up from the HDD.
 * The epoch barrier taken after @fill was set covers every write that
 * went to the HDD before the slot was indexed; writes of @fill's sectors
 * wait for the copy's end (dm-hybrid-stage.c).
 */
static void begin_topup(struct dmh_blk *blk, struct cand *c)
{
	struct slot *s = NULL;
	void *e;

	spin_lock_irq(&blk->lock);
	e = xa_load(&blk->index, c->key);
	if (e) {
		s = &blk->slots[xa_to_value(e)];
		/* A writeback asked for (a flush waits) goes first. */
		if (s->state != S_VALID || s->wb != WB_NONE || s->need ||
		    s->vol != c->vol || s->from != c->from ||
		    s->valid == FULL || blk->stop)
			s = NULL;
	}
	if (s) {
		s->wb = WB_TOPUP_WAIT;
		s->fill = FULL & ~s->valid;
		list_add_tail(&s->list, &blk->tu_wait);
		atomic_inc(&blk->inflight);
	}
	spin_unlock_irq(&blk->lock);
	if (!s)
		return;
	s->gen = dmh_epoch_barrier(blk->env.epochs);
	blk->tokens -= hweight32(s->fill);
}

/* Worker: the misses noted since the last pass, newest first. */
static void admit_misses(struct dmh_blk *blk)
{
	unsigned int n;
	struct cand c;

	for (n = 0; n < MAX_FILLS && blk->tokens > 0 && pop_miss(blk, &c); n++) {
		if (!cand_ok(blk, &c))
			continue;
		if (xa_load(&blk->index, c.key))
			begin_topup(blk, &c);
		else if (admit(blk, c.key))
			begin_fill(blk, &c);
	}
}

/* -------------------------------------------------------------- fills */

/* kcopyd context. */
static void fill_done(int read_err, unsigned long write_err, void *context)
{
	struct slot *s = context;
	struct dmh_blk *blk = s->blk;
	unsigned long flags;

	spin_lock_irqsave(&blk->lock, flags);
	s->error = read_err || write_err;
	list_add_tail(&s->list, &blk->copied);
	spin_unlock_irqrestore(&blk->lock, flags);
	wake_worker(blk);
}

/*
 * Worker, md_lock held: @s's epoch drained, so no write that missed the
 * slot is in flight; copy the block unless it went stale meanwhile.  The
 * chunk's entry cannot change under md_lock: check it once more.
 */
static void start_copy(struct dmh_blk *blk, struct slot *s)
{
	u64 cs = blk->env.chunk_sectors;
	sector_t sector = key_sector(s->key);
	struct dm_io_region from, to;
	bool stale;

	spin_lock_irq(&blk->lock);
	if (s->state == S_FILLING &&
	    dmh_lookup(s->vol, key_vchunk(blk, s->key)) !=
	    dmh_entry(s->from, 0))
		dmh_blk_unindex(blk, s);
	stale = s->state == S_STALE;
	if (!stale)
		s->state = S_COPYING;
	spin_unlock_irq(&blk->lock);
	if (stale) {
		fill_done(0, 0, s);
		return;
	}
	from = (struct dm_io_region) {
		.bdev = blk->env.bdev[DMH_TIER_HDD],
		.sector = dmh_ploc_index(s->from) * cs + (sector & (cs - 1)),
		.count = DMH_BLK_SECTORS,
	};
	to = (struct dm_io_region) {
		.bdev = blk->env.bdev[DMH_TIER_SSD],
		.sector = slot_sector(blk, s - blk->slots),
		.count = DMH_BLK_SECTORS,
	};
	dm_kcopyd_copy(blk->env.kc, &from, 1, &to, 0, fill_done, s);
}

/* Runs of set bits in @runs. */
static unsigned int nr_runs(u32 runs)
{
	return hweight32(runs & ~(runs << 1));
}

/*
 * kcopyd context: one run of @s's copy ended; the last one hands the slot
 * to the worker, on the list of its kind of copy (@s->wb does not change
 * while it runs).
 */
static void run_copied(int read_err, unsigned long write_err, void *context)
{
	struct slot *s = context;
	struct dmh_blk *blk = s->blk;
	unsigned long flags;

	spin_lock_irqsave(&blk->lock, flags);
	s->error |= read_err || write_err;
	if (atomic_dec_and_test(&s->wb_parts)) {
		list_add_tail(&s->list, s->wb == WB_TOPUP ? &blk->tu_done :
							   &blk->wb_done);
		wake_worker(blk);
	}
	spin_unlock_irqrestore(&blk->lock, flags);
}

void dmh_blk_copy_runs(struct dmh_blk *blk, struct slot *s, u32 runs,
		       bool to_hdd)
{
	u64 cs = blk->env.chunk_sectors;
	sector_t ssd = slot_sector(blk, s - blk->slots);
	sector_t hdd = dmh_ploc_index(s->from) * cs +
		       (key_sector(s->key) & (cs - 1));
	struct dm_io_region r[2];
	unsigned int off = 0, n;

	if (!runs) {
		/* A failed staged write left nothing to copy: done now. */
		atomic_set(&s->wb_parts, 1);
		run_copied(0, 0, s);
		return;
	}
	atomic_set(&s->wb_parts, nr_runs(runs));
	while (runs >> off) {
		off += __ffs(runs >> off);
		n = same_run(runs, off, DMH_BLK_SECTORS - off);
		r[!to_hdd] = (struct dm_io_region) {
			.bdev = blk->env.bdev[DMH_TIER_SSD],
			.sector = ssd + off, .count = n,
		};
		r[to_hdd] = (struct dm_io_region) {
			.bdev = blk->env.bdev[DMH_TIER_HDD],
			.sector = hdd + off, .count = n,
		};
		dm_kcopyd_copy(blk->env.kc, &r[0], 1, &r[1], 0, run_copied, s);
		off += n;
		if (off == DMH_BLK_SECTORS)
			break;
	}
}

/*
 * Worker, md_lock held: start the top-ups whose epoch drained; the
 * chunk's entry cannot change under md_lock, so check it once more.
 * A write may drop a clean slot from the list at any time: walk it under
 * blk->lock, and take the slots to copy off it first.
 */
static void start_topups(struct dmh_blk *blk)
{
	struct slot *s, *tmp;
	LIST_HEAD(go);

	spin_lock_irq(&blk->lock);
	list_for_each_entry_safe(s, tmp, &blk->tu_wait, list) {
		if (!dmh_epoch_drained(blk->env.epochs, s->gen))
			continue;
		if (dmh_lookup(s->vol, key_vchunk(blk, s->key)) !=
		    dmh_entry(s->from, 0)) {
			dmh_blk_unindex(blk, s);
			continue;
		}
		s->wb = WB_TOPUP;
		s->error = 0;
		list_move_tail(&s->list, &go);
	}
	spin_unlock_irq(&blk->lock);
	list_for_each_entry_safe(s, tmp, &go, list) {
		list_del_init(&s->list);
		dmh_blk_copy_runs(blk, s, s->fill, false);
	}
}

/* Worker: top-ups that ended; the bios that waited for them look again. */
static void end_topups(struct dmh_blk *blk)
{
	struct slot *s, *tmp;
	unsigned int n = 0;

	spin_lock_irq(&blk->lock);
	list_for_each_entry_safe(s, tmp, &blk->tu_done, list) {
		list_del_init(&s->list);
		s->wb = WB_NONE;
		if (s->state != S_VALID) {	/* dropped while copying */
			s->state = S_DYING;
			blk->nr_reclaim++;
			list_add_tail(&s->list, &blk->dying);
		} else if (!s->error) {
			WRITE_ONCE(s->valid, s->valid | s->fill);
			blk->fills++;
		}
		s->fill = 0;
		blk->settled++;
		n++;
	}
	spin_unlock_irq(&blk->lock);
	if (n && atomic_sub_and_test(n, &blk->inflight))
		wake_up(&blk->idle);
}

/*
 * Worker, blk->lock held: @s's fill ended without making it VALID.  No
 * read ever went to it, so the epoch it already drained will do.
 */
static void to_drain(struct dmh_blk *blk, struct slot *s)
{
	blk->nr_reclaim++;
	s->state = S_DRAIN;
	list_move_tail(&s->list, &blk->drain);
}

/*
 * Worker, md_lock held: is @s's block still in the HDD chunk it was filled
 * from, not moving, nor pinned to the HDD since?  A fill from a read was
 * admitted where neither could be looked at.
 */
static bool still_home(struct dmh_blk *blk, struct slot *s)
{
	u64 vchunk = key_vchunk(blk, s->key);

	return dmh_lookup(s->vol, vchunk) == dmh_entry(s->from, 0) &&
	       dmh_pin_of(s->vol, vchunk) != DMH_PIN_HDD;
}

/* Worker, md_lock held: fills that ended become VALID, or are thrown away. */
static void end_fills(struct dmh_blk *blk)
{
	struct slot *s, *tmp;
	LIST_HEAD(done);
	unsigned int n = 0;

	spin_lock_irq(&blk->lock);
	list_splice_init(&blk->copied, &done);
	list_for_each_entry_safe(s, tmp, &done, list) {
		n++;
		if (s->state == S_COPYING && (s->error || !still_home(blk, s)))
			dmh_blk_unindex(blk, s);
		if (s->state == S_COPYING) {
			s->state = S_VALID;
			list_del_init(&s->list);
			blk->valid++;
			blk->fills++;
		} else {
			to_drain(blk, s);
		}
	}
	list_splice_tail_init(&blk->dying, &blk->drain);
	spin_unlock_irq(&blk->lock);
	if (n && atomic_sub_and_test(n, &blk->inflight))
		wake_up(&blk->idle);
}

/*
 * Worker: slots that left the index get an epoch barrier, and are free
 * once it drained.  One barrier serves every slot that joined the drain
 * list before it was taken.
 */
static void reuse_slots(struct dmh_blk *blk)
{
	struct slot *s, *tmp;
	u64 gen = 0;

	list_for_each_entry(s, &blk->drain, list) {
		if (s->state == S_DYING) {
			if (!gen)
				gen = dmh_epoch_barrier(blk->env.epochs);
			s->state = S_DRAIN;
			s->gen = gen;
		}
	}
	spin_lock_irq(&blk->lock);
	list_for_each_entry_safe(s, tmp, &blk->drain, list) {
		if (!dmh_epoch_drained(blk->env.epochs, s->gen))
			continue;
		/* The staging log must first say that it holds nothing. */
		if (s->logged || s->plog)
			continue;
		s->state = S_FREE;
		s->gen = 0;
		list_move_tail(&s->list, &blk->free);
		blk->nr_free++;
		blk->nr_reclaim--;
	}
	spin_unlock_irq(&blk->lock);
}

/* ----------------------------------------------------------- the worker */

void dmh_blk_fills(struct dmh_blk *blk)
{
	struct slot *s, *tmp;

	list_for_each_entry_safe(s, tmp, &blk->wait, list) {
		if (!dmh_epoch_drained(blk->env.epochs, s->gen))
			continue;
		list_del_init(&s->list);
		start_copy(blk, s);
	}
	end_fills(blk);
	start_topups(blk);
	end_topups(blk);
	reuse_slots(blk);
	refill_tokens(blk);
}

#define WRITES_RECENT	(10 * HZ)

void dmh_blk_admit(struct dmh_blk *blk, bool staging)
{
	unsigned long last = READ_ONCE(blk->write_miss);

	/* Only while writes look for slots: reads alone keep every slot. */
	blk->reserve = staging && time_before(jiffies, last + WRITES_RECENT) ?
		       blk->nr_slots / 16 : 0;
	if (READ_ONCE(blk->stop) || blk->off ||
	    READ_ONCE(dmh_policy_knobs(blk->env.policy)->evacuate))
		return;
	if (staging)
		keep_free(blk);
	admit_misses(blk);
}

/* ------------------------------------------------------------ lifecycle */

static int alloc_tables(struct dmh_blk *blk, u64 nr_chunks)
{
	u64 nr = nr_chunks << blk->slot_shift;

	blk->chunks = kvcalloc(nr_chunks, sizeof(*blk->chunks), GFP_KERNEL);
	blk->slots = kvcalloc(nr, sizeof(*blk->slots), GFP_KERNEL);
	blk->ghost_bits = max_t(u32, ilog2(nr) + 2, 4);
	blk->ghost = kvcalloc(1ul << blk->ghost_bits, sizeof(u32), GFP_KERNEL);
	blk->shares = kvcalloc(DMH_MAX_VOLUMES, sizeof(*blk->shares),
			       GFP_KERNEL);
	return blk->chunks && blk->slots && blk->ghost && blk->shares ?
	       0 : -ENOMEM;
}

/*
 * md_lock held: take SSD chunks for slots from the allocator, from
 * blk->chunks[@first] up to @nr in all, and make every slot FREE.
 */
static void take_chunks(struct dmh_blk *blk, u64 first, u64 nr)
{
	u64 c, i;

	for (c = first; c < nr; c++)
		if (dmh_md_alloc(blk->env.md, DMH_TIER_SSD, &blk->chunks[c]))
			break;
	blk->nr_slots = c << blk->slot_shift;
	for (i = 0; i < blk->nr_slots; i++) {
		blk->slots[i].blk = blk;
		list_add_tail(&blk->slots[i].list, &blk->free);
	}
	blk->nr_free = blk->nr_slots;
}

static void free_tables(struct dmh_blk *blk)
{
	kvfree(blk->logbuf);
	bitmap_free(blk->logp);
	bitmap_free(blk->logq);
	kvfree(blk->shares);
	kvfree(blk->ghost);
	kvfree(blk->slots);
	kvfree(blk->chunks);
}

/* SSD chunks that the staging log's records (sorted by block) name. */
static u64 logged_chunks(struct dmh_blk *blk, struct dmh_slog_rec *recs,
			 u64 n)
{
	u64 i, nr = 0;

	for (i = 0; i < n; i++)
		if (!i || recs[i].where >> blk->slot_shift !=
			  recs[i - 1].where >> blk->slot_shift)
			nr++;
	return nr;
}

/* md_lock held: take those chunks first, as blk->chunks[0 ...]. */
static int claim_logged(struct dmh_blk *blk, struct dmh_slog_rec *recs,
			u64 n)
{
	u64 i, c = 0, chunk;
	int r;

	for (i = 0; i < n; i++) {
		chunk = recs[i].where >> blk->slot_shift;
		if (c && dmh_ploc_index(blk->chunks[c - 1]) == chunk)
			continue;
		blk->chunks[c] = dmh_ploc(DMH_TIER_SSD, chunk);
		r = dmh_md_claim(blk->env.md, blk->chunks[c]);
		if (r) {
			DMERR("staging log: SSD chunk %llu is %s", chunk,
			      r == -EBUSY ? "mapped" : "past the SSD");
			return -EINVAL;
		}
		c++;
	}
	return 0;
}

/* md_lock held, before I/O: slot @i holds @r's sectors, dirty. */
static int restore_slot(struct dmh_blk *blk, u64 i, struct dmh_slog_rec *r)
{
	struct dmh_volume *v = dmh_md_volume(blk->env.md, r->key >> KEY_SHIFT);
	struct slot *s = &blk->slots[i];
	u64 e;

	if (!v)
		return -EINVAL;
	e = dmh_lookup(v, key_vchunk(blk, r->key));
	if (!e || dmh_ploc_tier(dmh_entry_ploc(e)) != DMH_TIER_HDD ||
	    e != dmh_entry(dmh_entry_ploc(e), 0))
		return -EINVAL;
	if (xa_insert_irq(&blk->index, r->key, xa_mk_value(i), GFP_KERNEL))
		return -EINVAL;		/* two slots for one block, or no memory */
	s->vol = v;
	s->key = r->key;
	s->from = dmh_entry_ploc(e);
	s->valid = r->sectors;
	s->state = S_VALID;
	s->dirty = 1;
	s->logged = 1;
	s->lvalid = r->sectors;
	xa_lock_irq(&blk->index);
	__xa_set_mark(&blk->index, r->key, DIRTY);
	xa_unlock_irq(&blk->index);
	list_del_init(&s->list);
	blk->nr_free--;
	blk->valid++;
	blk->dirty++;
	share_add(blk, v);
	this_cpu_inc(v->stats->block_dirty);
	return 0;
}

/* md_lock held, before I/O: the staging log's dirty slots, once more. */
static int restore_logged(struct dmh_blk *blk, struct dmh_slog_rec *recs,
			  u64 n)
{
	u64 i, c = 0, per = 1ull << blk->slot_shift;

	for (i = 0; i < n; i++) {
		while (dmh_ploc_index(blk->chunks[c]) !=
		       recs[i].where >> blk->slot_shift)
			c++;
		if (restore_slot(blk, c << blk->slot_shift |
				 (recs[i].where & (per - 1)), &recs[i])) {
			DMERR("staging log: volume %llu block %llu (SSD %llu) not on the HDD",
			      recs[i].key >> KEY_SHIFT,
			      recs[i].key & ((1ull << KEY_SHIFT) - 1),
			      recs[i].where);
			return -EINVAL;
		}
	}
	return 0;
}

/* How far staging may go: a half of the log must hold every dirty slot. */
static void set_marks(struct dmh_blk *blk)
{
	blk->dirty_max = blk->nr_slots;
	if (blk->persist)
		blk->dirty_max = min(blk->dirty_max,
				     dmh_md_slog_half_records(blk->env.md) - 1);
	blk->wb_high = min(blk->nr_slots / 2, blk->dirty_max * 3 / 4);
	blk->wb_low = blk->wb_high / 2;
}

static int alloc_log(struct dmh_blk *blk, u64 nr_chunks)
{
	u64 nr = nr_chunks << blk->slot_shift;

	blk->logq = bitmap_zalloc(nr, GFP_KERNEL);
	blk->logp = bitmap_zalloc(nr, GFP_KERNEL);
	blk->logbuf = kvcalloc(LOG_BATCH, sizeof(*blk->logbuf), GFP_KERNEL);
	return blk->logq && blk->logp && blk->logbuf ? 0 : -ENOMEM;
}

/*
 * md_lock held: the tables, then with persistent_staging the chunks the
 * staging log names (whatever @nr_chunks asks) and their dirty slots.
 */
static int populate(struct dmh_blk *blk, u64 nr_chunks)
{
	struct dmh_slog_rec *recs = NULL;
	u64 n = 0, logged = 0;
	int r;

	if (blk->persist) {
		recs = dmh_md_slog_take(blk->env.md, &n);
		logged = logged_chunks(blk, recs, n);
		nr_chunks = max(nr_chunks, logged);
	}
	r = alloc_tables(blk, nr_chunks);
	if (!r && blk->persist)
		r = alloc_log(blk, nr_chunks);
	if (!r)
		r = claim_logged(blk, recs, n);
	if (!r) {
		take_chunks(blk, logged, nr_chunks);
		r = restore_logged(blk, recs, n);
	}
	if (!r)
		set_marks(blk);
	kvfree(recs);
	return r;
}

struct dmh_blk *dmh_blk_create(const struct dmh_blk_env *env, u32 mib)
{
	u64 nr_chunks = ((u64)mib << 11) / env->chunk_sectors;
	struct dmh_blk *blk;
	int r;

	if (!nr_chunks)
		return NULL;
	blk = kzalloc(sizeof(*blk), GFP_KERNEL);
	if (!blk)
		return ERR_PTR(-ENOMEM);
	blk->env = *env;
	blk->persist = env->persist;
	blk->slot_shift = __ffs(env->chunk_sectors) - DMH_BLK_SHIFT;
	blk->chunk_shift = __ffs(env->chunk_sectors);
	/*
	 * Completions in hard interrupt context take blk->lock, under which
	 * the index is changed: its lock must never be taken with
	 * interrupts on (restore_slot()).
	 */
	xa_init_flags(&blk->index, XA_FLAGS_LOCK_IRQ);
	spin_lock_init(&blk->lock);
	INIT_LIST_HEAD(&blk->free);
	INIT_LIST_HEAD(&blk->dying);
	INIT_LIST_HEAD(&blk->copied);
	INIT_LIST_HEAD(&blk->drain);
	INIT_LIST_HEAD(&blk->wait);
	INIT_LIST_HEAD(&blk->wb_wait);
	INIT_LIST_HEAD(&blk->wb_done);
	INIT_LIST_HEAD(&blk->tu_wait);
	INIT_LIST_HEAD(&blk->tu_done);
	INIT_LIST_HEAD(&blk->rf_ready);
	init_waitqueue_head(&blk->idle);
	atomic_set(&blk->inflight, 0);
	atomic64_set(&blk->hits, 0);
	blk->stop = true;
	blk->stamp = jiffies;
	blk->write_miss = jiffies - 2 * WRITES_RECENT;
	r = bioset_init(&blk->rf_bios, RF_BIOS, 0, BIOSET_NEED_BVECS);
	if (!r)
		r = populate(blk, nr_chunks);
	if (r || !blk->nr_slots) {
		dmh_blk_destroy(blk);
		return r ? ERR_PTR(r) : NULL;
	}
	return blk;
}

void dmh_blk_destroy(struct dmh_blk *blk)
{
	u64 c;

	if (!blk)
		return;
	if (blk->dirty && !blk->persist)
		DMERR("block tier: %llu dirty blocks were never written back",
		      blk->dirty);
	for (c = 0; c < blk->nr_slots >> blk->slot_shift; c++)
		dmh_md_put_chunk(blk->env.md, blk->chunks[c]);
	xa_destroy(&blk->index);
	free_tables(blk);
	bioset_exit(&blk->rf_bios);
	kfree(blk);
}

void dmh_blk_suspend(struct dmh_blk *blk)
{
	if (!blk)
		return;
	spin_lock_irq(&blk->lock);
	blk->stop = true;
	blk->nr_cands = 0;
	spin_unlock_irq(&blk->lock);
	/* Fills waiting for an epoch need the worker to see it drain. */
	while (!wait_event_timeout(blk->idle, !atomic_read(&blk->inflight),
				   POLL_DRAIN))
		wake_worker(blk);
	/* A fill from a read hands its slot over under the lock: let go. */
	spin_lock_irq(&blk->lock);
	spin_unlock_irq(&blk->lock);
}

void dmh_blk_resume(struct dmh_blk *blk)
{
	if (!blk)
		return;
	spin_lock_irq(&blk->lock);
	blk->stop = false;
	spin_unlock_irq(&blk->lock);
}

void dmh_blk_get_stats(struct dmh_blk *blk, struct dmh_blk_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!blk)
		return;
	st->slots = blk->nr_slots;
	st->valid = READ_ONCE(blk->valid);
	st->fills = READ_ONCE(blk->fills);
	st->hits = atomic64_read(&blk->hits);
	st->dirty = READ_ONCE(blk->dirty);
	st->writebacks = READ_ONCE(blk->writebacks);
}
