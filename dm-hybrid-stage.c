// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid block tier, the bio path and write staging: routes each bio
 * of an HDD chunk to its slot or its home, stages small writes in slots,
 * and writes dirty slots back (dm-hybrid-block-priv.h: the split of the
 * tier into two rooms; dm-hybrid-block.c: the life of a slot).
 */
#include <linux/device-mapper.h>
#include <linux/dm-io.h>
#include <linux/dm-kcopyd.h>
#include <linux/wait.h>

#include "dm-hybrid-block-priv.h"

/* blk->lock held: ask for @s's writeback. */
static void ask(struct dmh_blk *blk, struct slot *s)
{
	if (s->need)
		return;
	s->need = 1;
	blk->pending++;
	xa_set_mark(&blk->index, s->key, NEED);
}

/* Any context: ask for the writeback of every dirty slot in [@first, @last]. */
static void sync_keys(struct dmh_blk *blk, u64 first, u64 last)
{
	unsigned long flags, index = first;
	unsigned int n;
	void *e;

	do {
		n = 0;
		spin_lock_irqsave(&blk->lock, flags);
		for (e = xa_find(&blk->index, &index, last, DIRTY); e;
		     e = xa_find_after(&blk->index, &index, last, DIRTY)) {
			ask(blk, &blk->slots[xa_to_value(e)]);
			if (++n == DROP_BATCH)
				break;
		}
		spin_unlock_irqrestore(&blk->lock, flags);
	} while (n == DROP_BATCH && index++ < last);
	wake_worker(blk);
}

/* The sectors [@sector, +@len) of one block, as slot->valid bits. */
static u32 sector_mask(sector_t sector, unsigned int len)
{
	unsigned int off = sector & (DMH_BLK_SECTORS - 1);

	return (len >= DMH_BLK_SECTORS ? FULL : (1u << len) - 1) << off;
}

static bool one_block(sector_t sector, unsigned int len)
{
	return (sector & (DMH_BLK_SECTORS - 1)) + len <= DMH_BLK_SECTORS;
}

static bool usable(struct slot *s, struct dmh_volume *v, dmh_ploc_t home)
{
	return READ_ONCE(s->state) == S_VALID && s->vol == v && s->from == home;
}

static sector_t slot_target(struct dmh_blk *blk, void *e, sector_t sector)
{
	return slot_sector(blk, xa_to_value(e)) +
	       (sector & (DMH_BLK_SECTORS - 1));
}

/*
 * Reads of up to SPAN_BLOCKS blocks are split around the slots they span;
 * writes of up to STAGE_BLOCKS (16 KiB: a database page) are staged a
 * block at a time, larger ones go to the HDD.
 */
#define SPAN_BLOCKS	16
#define STAGE_BLOCKS	4

/*
 * Under RCU: must a read spanning @s's block take that block apart: the
 * slot is dirty, or it would serve the whole block?
 */
static bool splits(struct slot *s, struct dmh_volume *v, dmh_ploc_t home)
{
	return READ_ONCE(s->dirty) ||
	       (usable(s, v, home) &&
		(READ_ONCE(s->valid) & ~READ_ONCE(s->pending)) == FULL);
}

/* A read served by the tier. */
static void count_hit(struct dmh_blk *blk, struct dmh_volume *v)
{
	atomic64_inc(&blk->hits);
	this_cpu_inc(v->stats->block_hits);
}

/*
 * Under RCU: do the slots of the blocks @key to @last, in one SSD chunk
 * one after the other, hold them all?  Then a read of them is one
 * request to the first: *@target.
 */
static bool in_a_row(struct dmh_blk *blk, struct dmh_volume *v, u64 key,
		     u64 last, dmh_ploc_t home, sector_t sector,
		     sector_t *target)
{
	u64 per = 1ull << blk->slot_shift, first = 0, k;
	struct slot *s;
	void *e;

	for (k = key; k <= last; k++) {
		e = xa_load(&blk->index, k);
		if (!e || (k > key && xa_to_value(e) != first + (k - key)))
			return false;
		if (k == key)
			first = xa_to_value(e);
		s = &blk->slots[xa_to_value(e)];
		if (!usable(s, v, home) ||
		    (READ_ONCE(s->valid) & ~READ_ONCE(s->pending)) != FULL)
			return false;
		if (!READ_ONCE(s->ref))
			WRITE_ONCE(s->ref, 1);
	}
	if ((first & (per - 1)) + (last - key) >= per)
		return false;
	*target = slot_sector(blk, first) + (sector & (DMH_BLK_SECTORS - 1));
	return true;
}

/*
 * Under RCU: a read of [@sector, +@len) that spans blocks.  It goes home
 * whole unless a dirty slot lies in its range or, with DMH_BLK_SPLIT, a
 * slot of a small read would serve its block; then *@target is the part
 * to take first: up to that slot, or the first block when it is the one.
 * Each part comes back through map_read(), which notes a part that goes
 * home block by block.
 */
static enum dmh_blk_route map_span(struct dmh_blk *blk, struct dmh_volume *v,
				   sector_t sector, unsigned int len,
				   dmh_ploc_t home, unsigned int flags,
				   sector_t *target)
{
	u64 key = blk_key(v, sector), last = blk_key(v, sector + len - 1);
	unsigned long i = key;
	void *e;

	if ((flags & DMH_BLK_SPLIT) && last - key < SPAN_BLOCKS &&
	    in_a_row(blk, v, key, last, home, sector, target))
		return DMH_BLK_SLOT;
	if ((flags & DMH_BLK_SPLIT) && last - key < SPAN_BLOCKS) {
		for (e = xa_find(&blk->index, &i, last, XA_PRESENT); e;
		     e = xa_find_after(&blk->index, &i, last, XA_PRESENT))
			if (splits(&blk->slots[xa_to_value(e)], v, home))
				break;
	} else {
		e = xa_find(&blk->index, &i, last, DIRTY);
	}
	if (!e)
		return DMH_BLK_HOME;
	*target = i == key ? DMH_BLK_SECTORS -
		  (sector & (DMH_BLK_SECTORS - 1)) :
		  key_sector(i) - sector;
	return DMH_BLK_WAIT;
}

/*
 * Under RCU: a small read going home counts a miss of each of its blocks,
 * the last first: admission takes the newest first, so the blocks claim
 * slots in address order, neighbours next to each other (pick_free()).
 */
static void note_span(struct dmh_blk *blk, struct dmh_volume *v,
		      sector_t sector, unsigned int len, dmh_ploc_t home)
{
	u64 key = blk_key(v, sector), last = blk_key(v, sector + len - 1);

	if (last - key >= SPAN_BLOCKS)
		return;
	for (; last >= key; last--)
		dmh_blk_note_miss(blk, v, last, home);
}

/*
 * Under RCU: a read inside one block goes to its slot if the slot holds
 * it; one that spans blocks is split (map_span()).  A read that goes home
 * and whose blocks have no slot may fill free ones (dm-hybrid-readfill.c).
 */
static enum dmh_blk_route map_read(struct dmh_blk *blk, struct dmh_volume *v,
				   struct bio *bio, dmh_ploc_t home,
				   unsigned int flags, sector_t *target)
{
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned int len = bio_sectors(bio);
	u64 key = blk_key(v, sector);
	enum dmh_blk_route r;
	u32 mask, valid;
	struct slot *s;
	void *e;

	if (!one_block(sector, len)) {
		r = map_span(blk, v, sector, len, home, flags, target);
		if (r == DMH_BLK_HOME && (flags & DMH_BLK_NOTE) &&
		    (flags & DMH_BLK_FILL) &&
		    dmh_blk_read_fill(blk, v, bio, home))
			return DMH_BLK_TAKEN;
		if (r == DMH_BLK_HOME && (flags & DMH_BLK_NOTE))
			note_span(blk, v, sector, len, home);
		if (r == DMH_BLK_SLOT)
			count_hit(blk, v);
		return r;
	}
	e = xa_load(&blk->index, key);
	if (!e) {
		if (!(flags & DMH_BLK_NOTE))
			return DMH_BLK_HOME;
		if ((flags & DMH_BLK_FILL) &&
		    dmh_blk_read_fill(blk, v, bio, home))
			return DMH_BLK_TAKEN;
		dmh_blk_note_miss(blk, v, key, home);
		return DMH_BLK_HOME;
	}
	s = &blk->slots[xa_to_value(e)];
	if (!usable(s, v, home))
		return DMH_BLK_HOME;
	mask = sector_mask(sector, len);
	valid = READ_ONCE(s->valid) & ~READ_ONCE(s->pending);
	if ((valid & mask) != mask) {
		/* A slot that lacks sectors is topped up from the HDD. */
		if ((flags & DMH_BLK_NOTE) && (mask & ~READ_ONCE(s->valid)) &&
		    READ_ONCE(s->wb) == WB_NONE)
			dmh_blk_note_miss(blk, v, key, home);
		/*
		 * The HDD holds what the slot does not; a clean slot's bytes
		 * are the HDD's too.  A read across both of a dirty slot
		 * takes one part at a time.
		 */
		if (!(valid & mask) || !READ_ONCE(s->dirty))
			return DMH_BLK_HOME;
		*target = same_run(valid, sector, len);
		return DMH_BLK_WAIT;
	}
	if (!READ_ONCE(s->ref))
		WRITE_ONCE(s->ref, 1);
	count_hit(blk, v);
	*target = slot_target(blk, e, sector);
	return DMH_BLK_SLOT;
}

/*
 * blk->lock held: a write of the sectors @mask of @s's block goes to it.
 * Sectors it holds no bytes of yet hold the bytes of the slot's last
 * block, perhaps another volume's: they stay @pending, neither read nor
 * written back, until the write ended (dmh_blk_write_done()).  Returns
 * the write's cookie for that, 0 if none is needed.
 */
static u64 stage(struct dmh_blk *blk, struct slot *s, u32 mask)
{
	u32 fresh = mask & ~s->valid;

	WRITE_ONCE(s->pending, s->pending | fresh);
	WRITE_ONCE(s->valid, s->valid | mask);
	if (!s->dirty) {
		s->dirty = 1;
		xa_set_mark(&blk->index, s->key, DIRTY);
		this_cpu_inc(s->vol->stats->block_dirty);
		if (++blk->dirty == blk->wb_high)
			wake_worker(blk);	/* the high mark: write back */
	}
	mark_log(blk, s);
	s->wseq++;
	s->ref = 1;
	this_cpu_inc(s->vol->stats->block_staged);
	return fresh ? (u64)(s - blk->slots) << 32 | fresh : 0;
}

void dmh_blk_write_done(struct dmh_blk *blk, u64 cookie, bool error)
{
	struct slot *s = &blk->slots[cookie >> 32];
	u32 fresh = (u32)cookie;
	unsigned long flags;

	spin_lock_irqsave(&blk->lock, flags);
	WRITE_ONCE(s->pending, s->pending & ~fresh);
	/* Failed: the sectors hold nothing of this volume's. */
	if (error)
		WRITE_ONCE(s->valid, s->valid & ~fresh);
	mark_log(blk, s);
	spin_unlock_irqrestore(&blk->lock, flags);
}

/* dmh_blk_flushed(): flushes this close stop staging for QUIET. */
#define FLUSH_GAP	HZ
#define QUIET		(10 * HZ)

/*
 * The stamps start at 0: with 64-bit longs jiffies starts far above 0
 * and never wraps, so a volume that never flushed is not quiet.
 */
void dmh_blk_flushed(struct dmh_blk *blk, struct dmh_volume *v)
{
	unsigned long now = jiffies;

	if (!blk)
		return;
	v->blk_wb_seen = v->blk_wb_failed;	/* dmh_blk_wb_failed() */
	if (blk->persist)
		return;		/* the commit records the dirty slots */
	if (time_before(now, READ_ONCE(v->blk_flush) + FLUSH_GAP))
		WRITE_ONCE(v->blk_quiet, now + QUIET);
	WRITE_ONCE(v->blk_flush, now);
	dmh_blk_sync(blk, v);
}

static bool quiet(struct dmh_volume *v)
{
	return time_before(jiffies, READ_ONCE(v->blk_quiet));
}

static bool may_stage_op(struct bio *bio)
{
	return bio_op(bio) == REQ_OP_WRITE &&
	       !(bio->bi_opf & (REQ_FUA | REQ_PREFLUSH));
}

static bool may_stage(struct bio *bio, unsigned int flags)
{
	return (flags & DMH_BLK_STAGE) && may_stage_op(bio) &&
	       one_block(bio->bi_iter.bi_sector, bio_sectors(bio));
}

/*
 * Any context: a staged write of a block that has no slot takes a free one
 * at once, valid only where the write lands: no fill, no HDD access.  A
 * free slot's last readers drained already (reuse_slots()).
 */
static bool allocate(struct dmh_blk *blk, struct dmh_volume *v,
		     struct bio *bio, dmh_ploc_t home, sector_t *target,
		     u64 *cookie)
{
	sector_t sector = bio->bi_iter.bi_sector;
	u64 key = blk_key(v, sector);
	unsigned long irq;
	struct slot *s = NULL;

	spin_lock_irqsave(&blk->lock, irq);
	/* A volume past its share leaves the reserve to the others. */
	if (!blk->stop && !blk->off && blk->dirty < blk->dirty_max &&
	    !xa_load(&blk->index, key))
		s = dmh_blk_claim(blk, v, key, home, S_VALID, 0,
				  dmh_blk_over_share(blk, v, false) ?
				  blk->reserve : 0);
	if (s) {
		blk->valid++;
		*cookie = stage(blk, s, sector_mask(sector, bio_sectors(bio)));
		*target = slot_sector(blk, s - blk->slots) +
			  (sector & (DMH_BLK_SECTORS - 1));
	}
	spin_unlock_irqrestore(&blk->lock, irq);
	return s;
}

static enum dmh_blk_route map_write(struct dmh_blk *blk, struct dmh_volume *v,
				    struct bio *bio, dmh_ploc_t home,
				    unsigned int flags, sector_t *target,
				    u64 *cookie)
{
	sector_t sector = bio->bi_iter.bi_sector;
	u64 first = blk_key(v, sector);
	u64 last = blk_key(v, bio_end_sector(bio) - 1);
	enum dmh_blk_route r = DMH_BLK_HOME;
	bool staging = may_stage(bio, flags);
	unsigned long irq, i = first;
	struct slot *s;
	void *e;

	*target = 0;
	/* A small write across blocks is staged a block at a time. */
	if ((flags & DMH_BLK_STAGE) && first != last &&
	    bio_sectors(bio) <= STAGE_BLOCKS * DMH_BLK_SECTORS &&
	    may_stage_op(bio)) {
		*target = DMH_BLK_SECTORS - (sector & (DMH_BLK_SECTORS - 1));
		return DMH_BLK_WAIT;
	}
	if (!xa_find(&blk->index, &i, last, XA_PRESENT)) {
		/* Written once a jiffy at most: the line stays shared. */
		if (staging && time_after(jiffies, READ_ONCE(blk->write_miss)))
			WRITE_ONCE(blk->write_miss, jiffies);
		if (staging && (flags & DMH_BLK_NOTE) &&
		    allocate(blk, v, bio, home, target, cookie))
			return DMH_BLK_SLOT;
		if (staging && (flags & DMH_BLK_NOTE))
			dmh_blk_note_miss(blk, v, first, home);
		return DMH_BLK_HOME;
	}
	spin_lock_irqsave(&blk->lock, irq);
	e = xa_load(&blk->index, first);
	s = e ? &blk->slots[xa_to_value(e)] : NULL;
	/* A top-up's copy would land after the write: it waits. */
	if (staging && s && usable(s, v, home) &&
	    (s->dirty || blk->dirty < blk->dirty_max) &&
	    !(s->fill & sector_mask(sector, bio_sectors(bio)))) {
		*cookie = stage(blk, s, sector_mask(sector, bio_sectors(bio)));
		*target = slot_target(blk, e, sector);
		r = DMH_BLK_SLOT;
		goto out;
	}
	xa_for_each_range(&blk->index, i, e, first, last) {
		s = &blk->slots[xa_to_value(e)];
		if (s->dirty)
			r = DMH_BLK_WAIT;
		else
			dmh_blk_unindex(blk, s);
	}
out:
	spin_unlock_irqrestore(&blk->lock, irq);
	return r;
}

enum dmh_blk_route dmh_blk_map(struct dmh_blk *blk, struct dmh_volume *v,
			       struct bio *bio, dmh_ploc_t home,
			       unsigned int flags, sector_t *ssd_sector,
			       u64 *cookie)
{
	*cookie = 0;
	if (!blk || !bio_sectors(bio))
		return DMH_BLK_HOME;
	if ((flags & DMH_BLK_STAGE) && quiet(v))
		flags &= ~DMH_BLK_STAGE;
	if (op_is_write(bio_op(bio)))
		return map_write(blk, v, bio, home, flags, ssd_sector, cookie);
	return map_read(blk, v, bio, home, flags, ssd_sector);
}

void dmh_blk_sync(struct dmh_blk *blk, struct dmh_volume *v)
{
	if (blk && READ_ONCE(blk->dirty))
		sync_keys(blk, v ? vol_first_key(v) : 0,
			  v ? vol_last_key(v) : ULONG_MAX);
}

void dmh_blk_sync_range(struct dmh_blk *blk, struct dmh_volume *v,
			sector_t sector, unsigned int len)
{
	if (blk && len)
		sync_keys(blk, blk_key(v, sector), blk_key(v, sector + len - 1));
}

/* On a dead SSD none will ever be done (dmh_blk_ssd_dead()). */
u64 dmh_blk_pending(struct dmh_blk *blk)
{
	return blk && !READ_ONCE(blk->dead) ? READ_ONCE(blk->pending) : 0;
}

bool dmh_blk_wb_failed(struct dmh_blk *blk, struct dmh_volume *v)
{
	return blk && v->blk_wb_failed != v->blk_wb_seen;
}

/* The low bits of the count of failed writebacks: end_wb() changes it. */
u32 dmh_blk_wb_stamp(struct dmh_blk *blk)
{
	return blk ? lower_32_bits(blk->wb_errors) : 0;
}

/*
 * blk->lock is taken to read the slots' fields against end_wb(), the only
 * writer of @wb_failed on an indexed slot.  A stamp is 32 bits: "after"
 * holds for 2^31 failed writebacks, far more than a bio waits through.
 */
bool dmh_blk_wb_failed_since(struct dmh_blk *blk, struct dmh_volume *v,
			     sector_t sector, unsigned int len, u32 stamp)
{
	unsigned long index, last;
	bool failed = false;
	struct slot *s;
	void *e;

	if (!blk || !len)
		return false;
	index = blk_key(v, sector);
	last = blk_key(v, sector + len - 1);
	spin_lock_irq(&blk->lock);
	for (e = xa_find(&blk->index, &index, last, DIRTY); e && !failed;
	     e = xa_find_after(&blk->index, &index, last, DIRTY)) {
		s = &blk->slots[xa_to_value(e)];
		failed = s->wb_failed && (s32)(s->wb_failed - stamp) > 0;
	}
	spin_unlock_irq(&blk->lock);
	return failed;
}

/*
 * Its dirty slots held the only copy of their blocks, which reads and
 * flushes now report lost (dm-hybrid-io.c); a writeback could only fail,
 * and the worker would begin it again and again.  The bios that wait for
 * one look again and fail; so do the flushes and suspends.
 */
void dmh_blk_ssd_dead(struct dmh_blk *blk)
{
	if (!blk)
		return;
	spin_lock_irq(&blk->lock);
	WRITE_ONCE(blk->dead, true);
	blk->settled++;
	spin_unlock_irq(&blk->lock);
	wake_up(&blk->idle);
}

/* blk->lock held: begin @s's writeback; its epoch barrier comes after. */
static void begin_wb(struct dmh_blk *blk, struct slot *s)
{
	s->wb = WB_WAIT;
	s->wb_seq = s->wseq;
	s->wb_need = s->need;
	if (s->need) {
		s->need = 0;
		xa_clear_mark(&blk->index, s->key, NEED);
	}
	s->gen = 0;
	list_add_tail(&s->list, &blk->wb_wait);
	atomic_inc(&blk->inflight);
	blk->wb_inflight++;
}

/*
 * Worker: begin writebacks of slots marked @mark from *@cursor on, while
 * @budget lasts; returns how many began.
 */
static unsigned int begin_marked(struct dmh_blk *blk, xa_mark_t mark,
				 unsigned long *cursor, unsigned int budget)
{
	unsigned int n = 0;
	struct slot *s;
	void *e;

	spin_lock_irq(&blk->lock);
	for (e = xa_find(&blk->index, cursor, ULONG_MAX, mark); e && n < budget;
	     e = xa_find_after(&blk->index, cursor, ULONG_MAX, mark)) {
		s = &blk->slots[xa_to_value(e)];
		if (s->state != S_VALID || !s->dirty || s->wb != WB_NONE)
			continue;
		begin_wb(blk, s);
		n++;
	}
	spin_unlock_irq(&blk->lock);
	return n;
}

/*
 * Worker: writebacks asked for first, then, past half the slots dirty and
 * down to a quarter, the others in key (volume, address) order, paid from
 * the fill rate, BG_WB at a time; none once the SSD died.  One barrier,
 * taken after every @wseq was noted, covers the writes staged before.
 */
static void begin_writebacks(struct dmh_blk *blk)
{
	unsigned long cursor = 0;
	unsigned int n, room = MAX_WB - blk->wb_inflight;
	struct slot *s;
	u64 gen;

	if (blk->dead)
		return;
	n = begin_marked(blk, NEED, &cursor, room);
	if (blk->dirty > blk->wb_high && !blk->stop)
		blk->wb_background = true;
	if (blk->dirty <= blk->wb_low)
		blk->wb_background = false;
	/* A suspend waits for the writebacks in flight: none begins then. */
	if (blk->wb_background && !blk->stop && blk->tokens > 0 &&
	    blk->wb_inflight + n < BG_WB) {
		cursor = blk->wb_cursor;
		n += begin_marked(blk, DIRTY, &cursor,
				  min_t(s64, BG_WB - blk->wb_inflight - n,
					blk->tokens / DMH_BLK_SECTORS + 1));
		blk->wb_cursor = cursor < ULONG_MAX && n ? cursor + 1 : 0;
		blk->tokens -= (s64)n * DMH_BLK_SECTORS;
	}
	if (!n)
		return;
	gen = dmh_epoch_barrier(blk->env.epochs);
	list_for_each_entry(s, &blk->wb_wait, list)
		if (!s->gen)
			s->gen = gen;
}

/*
 * Worker, md_lock held: the staged writes @s's writeback noted ended;
 * copy the slot to its block on the HDD.  The chunk's entry cannot change
 * under md_lock: if it no longer is @s->from (a migration holds the
 * chunk's writes and waits for this copy), the chunk was unmapped or its
 * transaction aborted, and its bytes are gone with it.
 */
static void start_wb_copy(struct dmh_blk *blk, struct slot *s)
{
	u64 e = dmh_lookup(s->vol, key_vchunk(blk, s->key));
	u32 valid;

	spin_lock_irq(&blk->lock);
	if ((e & ~DMH_E_MIGRATE) != dmh_entry(s->from, 0)) {
		dmh_blk_unindex(blk, s);
		spin_unlock_irq(&blk->lock);
		return;
	}
	list_del_init(&s->list);
	s->wb = WB_COPY;
	s->error = 0;
	valid = s->valid & ~s->pending;	/* a pending write keeps it dirty */
	spin_unlock_irq(&blk->lock);
	s->wb_epoch = dmh_epoch_enter(blk->env.epochs);
	s->wb_start = jiffies;
	dmh_blk_copy_runs(blk, s, valid, true);
}

/* blk->lock held: @s's writeback ended without error. */
static void wb_ok(struct dmh_blk *blk, struct slot *s)
{
	blk->writebacks++;
	if (s->wseq != s->wb_seq)
		return;			/* staged again meanwhile: still dirty */
	dmh_blk_forget_dirty(blk, s);
	xa_clear_mark(&blk->index, s->key, DIRTY);
	if (s->need) {
		s->need = 0;
		blk->pending--;
		xa_clear_mark(&blk->index, s->key, NEED);
	}
}

/*
 * blk->lock held: one ended writeback.  Whatever its outcome, the bios
 * that wait for the slot look again (and ask again if it is still dirty).
 */
static void end_wb(struct dmh_blk *blk, struct slot *s)
{
	list_del_init(&s->list);
	s->wb = WB_NONE;
	blk->settled++;
	if (s->state != S_VALID) {
		/* Dropped while copying: readers may still be in flight. */
		s->state = S_DYING;
		blk->nr_reclaim++;
		list_add_tail(&s->list, &blk->dying);
		return;
	}
	if (s->error) {
		blk->wb_errors++;
		s->wb_failed = dmh_blk_wb_stamp(blk) ?: 1;
		s->vol->blk_wb_failed += s->wb_need;
	} else {
		wb_ok(blk, s);
	}
	if (s->wb_need) {
		s->wb_need = 0;
		blk->pending--;
	}
}

/* Worker: start copies whose epoch drained, end those that ended. */
static void run_writebacks(struct dmh_blk *blk)
{
	struct slot *s, *tmp;
	unsigned int n = 0;
	LIST_HEAD(done);

	list_for_each_entry_safe(s, tmp, &blk->wb_wait, list) {
		if (s->gen && dmh_epoch_drained(blk->env.epochs, s->gen))
			start_wb_copy(blk, s);
	}
	spin_lock_irq(&blk->lock);
	list_splice_init(&blk->wb_done, &done);
	spin_unlock_irq(&blk->lock);
	list_for_each_entry_safe(s, tmp, &done, list) {
		dmh_epoch_exit(blk->env.epochs, s->wb_epoch, s->wb_start);
		spin_lock_irq(&blk->lock);
		end_wb(blk, s);
		spin_unlock_irq(&blk->lock);
		n++;
	}
	if (!n)
		return;
	blk->wb_inflight -= n;
	atomic_sub(n, &blk->inflight);
	wake_up(&blk->idle);
}

bool dmh_blk_process(struct dmh_blk *blk, bool staging)
{
	bool progress;

	if (!blk)
		return false;
	dmh_blk_write_fills(blk);
	dmh_blk_fills(blk);
	run_writebacks(blk);
	begin_writebacks(blk);
	dmh_blk_admit(blk, staging);
	progress = blk->settled != blk->seen_settled;
	blk->seen_settled = blk->settled;
	return progress;
}

bool dmh_blk_chunk_clean(struct dmh_blk *blk, struct dmh_volume *v,
			 u64 vchunk)
{
	unsigned long first, last;
	bool clean = true;
	struct slot *s;
	void *e;

	if (!blk || !READ_ONCE(blk->dirty))
		return true;
	first = chunk_first_key(blk, v, vchunk);
	last = chunk_last_key(blk, v, vchunk);
	spin_lock_irq(&blk->lock);
	xa_for_each_range(&blk->index, first, e, first, last) {
		s = &blk->slots[xa_to_value(e)];
		if (s->dirty)
			ask(blk, s);
		if (s->dirty || s->wb != WB_NONE)
			clean = false;
	}
	spin_unlock_irq(&blk->lock);
	return clean;
}

/* Any context: does a slot of @v hold bytes the HDD lacks? */
static bool vol_dirty(struct dmh_blk *blk, struct dmh_volume *v)
{
	unsigned long first = vol_first_key(v);

	return xa_find(&blk->index, &first, vol_last_key(v), DIRTY);
}

int dmh_blk_writeback_volume(struct dmh_blk *blk, struct dmh_volume *v)
{
	u64 errors;

	if (!blk)
		return 0;
	errors = READ_ONCE(blk->wb_errors);
	dmh_blk_sync(blk, v);
	/* No write reaches a suspended volume: its dirty slots only go. */
	while (!wait_event_timeout(blk->idle, !vol_dirty(blk, v) ||
				   READ_ONCE(blk->wb_errors) != errors ||
				   READ_ONCE(blk->dead), POLL_DRAIN))
		wake_worker(blk);
	if (!vol_dirty(blk, v))
		return 0;
	DMERR("volume %u: writing staged blocks back to the HDD failed",
	      v->id);
	return -EIO;
}

/* ------------------------------------------------------ the staging log */

/*
 * With persistent_staging, a commit records in the staging log
 * (dm-hybrid-slog.c) every slot that changed since the last one: a dirty
 * slot with the sectors whose writes ended before the commit flushed the
 * SSD, a slot the log called dirty that is clean now or left the index.
 * So a flush needs no writeback: its commit makes the staged writes it
 * covers durable where they are.  A slot the log calls dirty is never
 * reused (reuse_slots()) until a commit said it is not: after a crash the
 * log would hand its bytes to the block it names.  When the live half of
 * the log is full, the commit starts the other half with a record of
 * every dirty slot (at most blk->dirty_max of them: staging stops there);
 * so does the first commit that finds no slot dirty, with none.
 */

static u64 slot_where(struct dmh_blk *blk, u64 i)
{
	u64 per = 1ull << blk->slot_shift;

	return dmh_ploc_index(blk->chunks[i >> blk->slot_shift]) *
	       per + (i & (per - 1));
}

/*
 * blk->lock held: does @s owe the log a record (into *@r)?  With
 * @restart, the commit starts a new half, which records only dirty
 * slots.  Proposes what the commit records (plog, pvalid).
 */
static bool owe(struct dmh_blk *blk, struct slot *s, bool restart,
		struct dmh_slog_rec *r)
{
	u32 valid = s->dirty && s->state == S_VALID ?
		    s->valid & ~s->pending : 0;
	u64 i = s - blk->slots;

	if (valid && !restart && s->logged && s->lvalid == valid)
		return false;
	if (!valid && (!s->logged || restart)) {
		/* A dirty slot whose first write is still in flight waits. */
		if (s->logged) {
			s->plog = LOG_CLEAN;
			__set_bit(i, blk->logp);
		}
		return false;
	}
	s->plog = valid ? LOG_DIRTY : LOG_CLEAN;
	s->pvalid = valid;
	__set_bit(i, blk->logp);
	r->key = s->key;
	r->where = slot_where(blk, i);
	r->sectors = valid;
	return true;
}

/*
 * Worker, md_lock held: gather under blk->lock, LOG_BATCH records or
 * LOG_SCAN slots at a time, and append them outside it (that may sleep).
 */
static int log_slots(struct dmh_blk *blk, bool restart)
{
	unsigned long i = 0;
	unsigned int n, seen, j;
	int r;

	do {
		n = 0;
		seen = 0;
		spin_lock_irq(&blk->lock);
		for (; n < LOG_BATCH && seen < LOG_SCAN; i++, seen++) {
			if (!restart)
				i = find_next_bit(blk->logq, blk->nr_slots, i);
			if (i >= blk->nr_slots)
				break;
			if (__test_and_clear_bit(i, blk->logq))
				blk->nr_logq--;
			if (owe(blk, &blk->slots[i], restart, &blk->logbuf[n]))
				n++;
		}
		spin_unlock_irq(&blk->lock);
		for (j = 0; j < n; j++) {
			r = dmh_md_slog_add(blk->env.md, &blk->logbuf[j]);
			if (r)
				return r;
		}
	} while (i < blk->nr_slots);
	return 0;
}

int dmh_blk_log(struct dmh_blk *blk)
{
	struct dmh_metadata *md;
	bool restart;
	int r;

	if (!blk || !blk->persist)
		return 0;
	md = blk->env.md;
	/*
	 * A new half when this one is full, and when nothing is dirty: an
	 * empty log clears the incompatible feature bit.
	 */
	restart = !dmh_md_slog_fits(md, READ_ONCE(blk->nr_logq)) ||
		  (!READ_ONCE(blk->dirty) && !dmh_md_slog_empty(md));
	if (restart)
		dmh_md_slog_restart(md);
	r = log_slots(blk, restart);
	if (r == -ENOSPC && !restart) {
		/* Slots changed since nr_logq was read: a new half after all. */
		dmh_md_slog_restart(md);
		r = log_slots(blk, true);
	}
	if (r)
		DMERR("staging log: cannot record the dirty blocks: %d", r);
	return r;
}

void dmh_blk_logged(struct dmh_blk *blk, bool ok)
{
	unsigned long i = 0;
	unsigned int seen;
	struct slot *s;

	if (!blk || !blk->persist)
		return;
	do {
		spin_lock_irq(&blk->lock);
		for (seen = 0; seen < LOG_SCAN; seen++, i++) {
			i = find_next_bit(blk->logp, blk->nr_slots, i);
			if (i >= blk->nr_slots)
				break;
			__clear_bit(i, blk->logp);
			s = &blk->slots[i];
			if (ok) {
				s->logged = s->plog == LOG_DIRTY;
				s->lvalid = s->pvalid;
			} else {
				mark_log(blk, s);
			}
			s->plog = LOG_NONE;
		}
		spin_unlock_irq(&blk->lock);
	} while (i < blk->nr_slots);
	if (ok)
		wake_worker(blk);	/* slots the log let go may be reused */
}

bool dmh_blk_persistent(struct dmh_blk *blk)
{
	return blk && blk->persist;
}

bool dmh_blk_log_due(struct dmh_blk *blk)
{
	return blk && blk->persist && READ_ONCE(blk->nr_logq);
}
