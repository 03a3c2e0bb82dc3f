// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid block tier: clean copies of hot 16 KiB blocks of HDD-resident
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

#include "dm-hybrid-block.h"
#include "dm-hybrid-monitor.h"

enum { S_FREE, S_FILLING, S_COPYING, S_VALID, S_STALE, S_DYING, S_DRAIN };
enum { WB_NONE, WB_WAIT, WB_COPY };

#define DIRTY		XA_MARK_0	/* the slot holds bytes the HDD lacks */
#define NEED		XA_MARK_1	/* a writeback is asked for */

#define NR_CANDS	256	/* misses noted between two worker passes */
#define CLOCK_LOOK	16	/* slots the hand looks at for one victim */
#define MAX_FILLS	64	/* fills begun per worker pass */
#define MAX_WB		64	/* writebacks in flight */
#define FULL		U32_MAX	/* every sector of a block */
static_assert(DMH_BLK_SECTORS == 32, "a slot's sectors are the bits of a u32");
#define KEY_SHIFT	40	/* key: volume id above, block number below */

/* Keys are xarray indexes: volume ids (24 bits) need a 64-bit long. */
static_assert(BITS_PER_LONG == 64, "the block tier needs 64-bit longs");

struct slot {
	struct list_head list;		/* free, dying, drain, wait or copied */
	struct dmh_blk *blk;		/* for kcopyd's callback */
	struct dmh_volume *vol;
	u64 key;
	dmh_ploc_t from;		/* the HDD chunk it was filled from */
	u64 gen;			/* FILLING, DRAIN, wb: epoch to drain */
	u32 valid;			/* sectors the slot holds, a bit each */
	u32 pending;			/* valid once their first write ends */
	u32 wseq;			/* writes staged, ever */
	u32 wb_seq;			/* @wseq when the writeback began */
	unsigned int wb_epoch;		/* the copy to the HDD counts here */
	atomic_t wb_parts;		/* its copies (runs of valid) in flight */
	unsigned long wb_start;
	u8 state;
	u8 ref;				/* read since the hand passed */
	u8 error;
	u8 dirty;
	u8 need;			/* a writeback is asked for ... */
	u8 wb_need;			/* ... and the one begun was */
	u8 wb;
};

struct cand {
	struct dmh_volume *vol;
	u64 key;
	dmh_ploc_t from;
};

struct dmh_blk {
	struct dmh_blk_env env;
	struct xarray index;		/* key -> slot number, value entries */
	struct slot *slots;
	u64 nr_slots;
	dmh_ploc_t *chunks;
	unsigned int slot_shift;	/* slots per chunk, log2 */
	unsigned int chunk_shift;

	spinlock_t lock;		/* slot states and the lists below */
	struct list_head free;
	struct list_head dying;
	struct list_head copied;
	struct list_head wb_wait;	/* writebacks waiting for an epoch */
	struct list_head wb_done;	/* and those that ended (kcopyd) */
	u64 dirty;
	u64 pending;			/* writebacks asked for, not done */
	u64 settled;			/* writebacks ended, dirty slots dropped */
	bool wb_error;			/* one asked for failed */
	u64 nr_free;			/* slots on @free */
	u64 nr_reclaim;			/* slots on their way to @free */
	u64 reserve;			/* free slots fills leave to writes */
	struct cand cands[NR_CANDS];
	unsigned int nr_cands;
	bool stop;			/* suspended: admit nothing */
	bool off;			/* the pool left rw mode: for good */

	/* Pool worker, md_lock held. */
	struct list_head drain;
	struct list_head wait;
	u32 *ghost;			/* recently missed blocks, hashed */
	u32 ghost_bits;
	u64 hand;
	s64 tokens;			/* sectors the fill rate allows now */
	unsigned long stamp;

	u64 wb_cursor;			/* background writebacks: next key */
	unsigned int wb_inflight;
	bool wb_background;		/* over the high mark, not yet low */
	u64 seen_settled;

	atomic_t inflight;		/* fills and writebacks in flight */
	wait_queue_head_t idle;
	u64 valid;
	u64 fills;
	u64 writebacks;
	u64 wb_errors;
	atomic64_t hits;
};

static u64 blk_key(struct dmh_volume *v, sector_t sector)
{
	return ((u64)v->id << KEY_SHIFT) | (sector >> DMH_BLK_SHIFT);
}

static sector_t key_sector(u64 key)
{
	return (key & ((1ull << KEY_SHIFT) - 1)) << DMH_BLK_SHIFT;
}

static u64 key_vchunk(struct dmh_blk *blk, u64 key)
{
	return key_sector(key) >> blk->chunk_shift;
}

static sector_t slot_sector(struct dmh_blk *blk, u64 i)
{
	dmh_ploc_t p = blk->chunks[i >> blk->slot_shift];
	u64 in = i & ((1ull << blk->slot_shift) - 1);

	return (dmh_ploc_index(p) * blk->env.chunk_sectors) +
	       (in << DMH_BLK_SHIFT);
}

static void wake_worker(struct dmh_blk *blk)
{
	queue_work(blk->env.wq, blk->env.worker);
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
static void forget_dirty(struct dmh_blk *blk, struct slot *s)
{
	if (!s->dirty)
		return;
	s->dirty = 0;
	blk->dirty--;
	blk->settled++;
	this_cpu_dec(s->vol->stats->block_dirty);
}

/*
 * blk->lock held: take @s out of the index; it was indexed under @key.
 * The fill's or the writeback's end, or the worker, makes it reusable
 * after an epoch.  A dirty slot's bytes are lost: only drops whose data
 * is gone anyway (a discard, an unmap, a deleted volume) pass one.
 */
static void unindex(struct dmh_blk *blk, struct slot *s)
{
	xa_erase(&blk->index, s->key);
	forget_dirty(blk, s);
	forget_need(blk, s);
	switch (s->state) {
	case S_FILLING:
	case S_COPYING:
		s->state = S_STALE;
		break;
	case S_VALID:
		blk->valid--;
		if (s->wb == WB_COPY) {
			s->state = S_STALE;	/* its writeback's end drains it */
			break;
		}
		if (s->wb == WB_WAIT) {
			list_del(&s->list);
			s->wb = WB_NONE;
			atomic_dec(&blk->inflight);
			blk->wb_inflight--;
		}
		s->state = S_DYING;
		blk->nr_reclaim++;
		list_add_tail(&s->list, &blk->dying);
		break;
	}
}

#define DROP_BATCH	256	/* slots dropped per hold of blk->lock */

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
				unindex(blk, s);
			if (++n == DROP_BATCH)
				break;
		}
		spin_unlock_irqrestore(&blk->lock, flags);
	} while (n == DROP_BATCH && index++ < last);
}

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

/* ----------------------------------------------------------- the bio path */

static void note_miss(struct dmh_blk *blk, struct dmh_volume *v, u64 key,
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

/* The sectors [@sector, +@len) of one block, as slot->valid bits. */
static u32 sector_mask(sector_t sector, unsigned int len)
{
	unsigned int off = sector & (DMH_BLK_SECTORS - 1);

	return (len >= DMH_BLK_SECTORS ? FULL : (1u << len) - 1) << off;
}

/* Sectors from @sector on, within @len, whose validity in @valid is alike. */
static unsigned int same_run(u32 valid, sector_t sector, unsigned int len)
{
	unsigned int off = sector & (DMH_BLK_SECTORS - 1);
	bool first = valid & (1u << off);
	unsigned int n = 1;

	while (n < len && !!(valid & (1u << (off + n))) == first)
		n++;
	return n;
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
 * Under RCU: a read that spans blocks goes home unless a dirty slot lies
 * in its range; then *@split is the part to take first: up to that slot,
 * or the first block when it is the dirty one.
 */
static enum dmh_blk_route map_read(struct dmh_blk *blk, struct dmh_volume *v,
				   sector_t sector, unsigned int len,
				   dmh_ploc_t home, unsigned int flags,
				   sector_t *target)
{
	u64 key = blk_key(v, sector);
	unsigned long i = key;
	u32 mask, valid;
	struct slot *s;
	void *e;

	if (!one_block(sector, len)) {
		if (!xa_find(&blk->index, &i, blk_key(v, sector + len - 1),
			     DIRTY))
			return DMH_BLK_HOME;
		*target = i == key ? DMH_BLK_SECTORS -
			  (sector & (DMH_BLK_SECTORS - 1)) :
			  key_sector(i) - sector;
		return DMH_BLK_WAIT;
	}
	e = xa_load(&blk->index, key);
	if (!e) {
		if (flags & DMH_BLK_NOTE)
			note_miss(blk, v, key, home);
		return DMH_BLK_HOME;
	}
	s = &blk->slots[xa_to_value(e)];
	if (!usable(s, v, home))
		return DMH_BLK_HOME;
	mask = sector_mask(sector, len);
	valid = READ_ONCE(s->valid) & ~READ_ONCE(s->pending);
	if ((valid & mask) != mask) {
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
	atomic64_inc(&blk->hits);
	this_cpu_inc(v->stats->block_hits);
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
		if (++blk->dirty == blk->nr_slots / 2)
			wake_worker(blk);	/* the high mark: write back */
	}
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
	spin_unlock_irqrestore(&blk->lock, flags);
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
	u64 i;

	spin_lock_irqsave(&blk->lock, irq);
	if (blk->stop || blk->off || list_empty(&blk->free) ||
	    xa_load(&blk->index, key))
		goto out;
	s = list_first_entry(&blk->free, struct slot, list);
	i = s - blk->slots;
	if (xa_err(xa_store(&blk->index, key, xa_mk_value(i), GFP_NOWAIT))) {
		s = NULL;
		goto out;
	}
	list_del_init(&s->list);
	blk->nr_free--;
	s->vol = v;
	s->key = key;
	s->from = home;
	s->ref = 1;
	s->error = 0;
	s->wseq = 0;
	s->valid = 0;
	s->pending = 0;
	s->state = S_VALID;
	blk->valid++;
	*cookie = stage(blk, s, sector_mask(sector, bio_sectors(bio)));
	*target = slot_sector(blk, i) + (sector & (DMH_BLK_SECTORS - 1));
out:
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
	/* A small write across two blocks is staged a block at a time. */
	if ((flags & DMH_BLK_STAGE) && first != last &&
	    bio_sectors(bio) <= DMH_BLK_SECTORS &&
	    may_stage_op(bio)) {
		*target = DMH_BLK_SECTORS - (sector & (DMH_BLK_SECTORS - 1));
		return DMH_BLK_WAIT;
	}
	if (!xa_find(&blk->index, &i, last, XA_PRESENT)) {
		if (staging && (flags & DMH_BLK_NOTE) &&
		    allocate(blk, v, bio, home, target, cookie))
			return DMH_BLK_SLOT;
		if (staging && (flags & DMH_BLK_NOTE))
			note_miss(blk, v, first, home);
		return DMH_BLK_HOME;
	}
	spin_lock_irqsave(&blk->lock, irq);
	e = xa_load(&blk->index, first);
	if (staging && e && usable(&blk->slots[xa_to_value(e)], v, home)) {
		*cookie = stage(blk, &blk->slots[xa_to_value(e)],
				sector_mask(sector, bio_sectors(bio)));
		*target = slot_target(blk, e, sector);
		r = DMH_BLK_SLOT;
		goto out;
	}
	xa_for_each_range(&blk->index, i, e, first, last) {
		s = &blk->slots[xa_to_value(e)];
		if (s->dirty)
			r = DMH_BLK_WAIT;
		else
			unindex(blk, s);
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
	if (op_is_write(bio_op(bio)))
		return map_write(blk, v, bio, home, flags, ssd_sector, cookie);
	return map_read(blk, v, bio->bi_iter.bi_sector, bio_sectors(bio),
			home, flags, ssd_sector);
}

void dmh_blk_sync(struct dmh_blk *blk, struct dmh_volume *v)
{
	u64 base = v ? (u64)v->id << KEY_SHIFT : 0;

	if (blk && READ_ONCE(blk->dirty))
		sync_keys(blk, base, v ? base + (1ull << KEY_SHIFT) - 1 :
			  ULONG_MAX);
}

void dmh_blk_sync_range(struct dmh_blk *blk, struct dmh_volume *v,
			sector_t sector, unsigned int len)
{
	if (blk && len)
		sync_keys(blk, blk_key(v, sector), blk_key(v, sector + len - 1));
}

u64 dmh_blk_pending(struct dmh_blk *blk)
{
	return blk ? READ_ONCE(blk->pending) : 0;
}

bool dmh_blk_take_error(struct dmh_blk *blk)
{
	bool err;

	if (!blk)
		return false;
	spin_lock_irq(&blk->lock);
	err = blk->wb_error;
	blk->wb_error = false;
	spin_unlock_irq(&blk->lock);
	return err;
}

void dmh_blk_drop_chunk(struct dmh_blk *blk, struct dmh_volume *v,
			u64 vchunk)
{
	sector_t start;

	if (!blk)
		return;
	start = vchunk << blk->chunk_shift;
	drop_range(blk, blk_key(v, start),
		   blk_key(v, start + blk->env.chunk_sectors - 1), true);
}

void dmh_blk_drop_beyond(struct dmh_blk *blk, struct dmh_volume *v,
			 sector_t sector)
{
	u64 base = (u64)v->id << KEY_SHIFT;

	if (blk && sector >> DMH_BLK_SHIFT < (1ull << KEY_SHIFT))
		drop_range(blk, blk_key(v, sector),
			   base + (1ull << KEY_SHIFT) - 1, true);
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
	u64 base = (u64)v->id << KEY_SHIFT;

	if (!blk)
		return;
	spin_lock_irq(&blk->lock);
	forget_misses(blk, v);
	spin_unlock_irq(&blk->lock);
	drop_range(blk, base, base + (1ull << KEY_SHIFT) - 1, true);
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

/* Worker, blk->lock held: turn one unreferenced VALID slot DYING. */
static void evict_one(struct dmh_blk *blk)
{
	unsigned int look;
	struct slot *s;

	for (look = 0; look < CLOCK_LOOK; look++) {
		s = &blk->slots[blk->hand];
		blk->hand = (blk->hand + 1) % blk->nr_slots;
		if (s->state != S_VALID || s->dirty)
			continue;
		if (s->ref) {
			s->ref = 0;
			continue;
		}
		unindex(blk, s);
		return;
	}
}

/* Worker: is @c still a read miss of an HDD chunk that may take a slot? */
static bool cand_ok(struct dmh_blk *blk, struct cand *c)
{
	u64 vchunk = key_vchunk(blk, c->key);
	u64 e = dmh_lookup(c->vol, vchunk);

	return e && !(e & DMH_E_BUSY) && dmh_entry_ploc(e) == c->from &&
	       dmh_pin_of(c->vol, vchunk) != DMH_PIN_HDD &&
	       !xa_load(&blk->index, c->key);
}

/*
 * Worker: index a free slot for @c as FILLING.  The epoch barrier taken
 * after the slot is visible covers every write that missed it.
 */
static void begin_fill(struct dmh_blk *blk, struct cand *c)
{
	struct slot *s;
	u64 i;

	spin_lock_irq(&blk->lock);
	if (blk->nr_free <= blk->reserve) {	/* the reserve is for writes */
		evict_one(blk);
		spin_unlock_irq(&blk->lock);
		return;
	}
	if (xa_load(&blk->index, c->key)) {	/* a write took a slot */
		spin_unlock_irq(&blk->lock);
		return;
	}
	s = list_first_entry(&blk->free, struct slot, list);
	i = s - blk->slots;
	s->vol = c->vol;
	s->key = c->key;
	s->from = c->from;
	s->ref = 0;
	s->error = 0;
	s->wseq = 0;
	s->valid = FULL;
	s->pending = 0;
	s->state = S_FILLING;
	if (xa_err(xa_store(&blk->index, c->key, xa_mk_value(i),
			    GFP_NOWAIT))) {
		s->state = S_FREE;
		spin_unlock_irq(&blk->lock);
		return;
	}
	list_move_tail(&s->list, &blk->wait);
	blk->nr_free--;
	spin_unlock_irq(&blk->lock);
	s->gen = dmh_epoch_barrier(blk->env.epochs);
	atomic_inc(&blk->inflight);
	blk->tokens -= DMH_BLK_SECTORS;
}

/*
 * Worker: with write staging, keep a sixteenth of the slots free or on
 * their way (clean ones evicted), so that writes to blocks without a slot
 * can take one at once; fills do not take from that reserve.
 */
static void keep_free(struct dmh_blk *blk)
{
	unsigned int n;

	spin_lock_irq(&blk->lock);
	for (n = 0; n < MAX_FILLS &&
	     blk->nr_free + blk->nr_reclaim < blk->reserve; n++)
		evict_one(blk);
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

/* Worker: the misses noted since the last pass, newest first. */
static void admit_misses(struct dmh_blk *blk)
{
	unsigned int n;
	struct cand c;

	for (n = 0; n < MAX_FILLS && blk->tokens > 0 && pop_miss(blk, &c); n++)
		if (cand_ok(blk, &c) && admit(blk, c.key))
			begin_fill(blk, &c);
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
		unindex(blk, s);
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

/* Worker: fills that ended become VALID, or are thrown away. */
static void end_fills(struct dmh_blk *blk)
{
	struct slot *s, *tmp;
	LIST_HEAD(done);
	unsigned int n = 0;

	spin_lock_irq(&blk->lock);
	list_splice_init(&blk->copied, &done);
	list_for_each_entry_safe(s, tmp, &done, list) {
		n++;
		if (s->state == S_COPYING && s->error)
			unindex(blk, s);
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
		s->state = S_FREE;
		s->gen = 0;
		list_move_tail(&s->list, &blk->free);
		blk->nr_free++;
		blk->nr_reclaim--;
	}
	spin_unlock_irq(&blk->lock);
}

/* ---------------------------------------------------------- writebacks */

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
 * the fill rate.  One barrier, taken after every @wseq was noted, covers
 * the writes staged before.
 */
static void begin_writebacks(struct dmh_blk *blk)
{
	unsigned long cursor = 0;
	unsigned int n, room = MAX_WB - blk->wb_inflight;
	struct slot *s;
	u64 gen;

	n = begin_marked(blk, NEED, &cursor, room);
	if (blk->dirty > blk->nr_slots / 2 && !blk->stop)
		blk->wb_background = true;
	if (blk->dirty <= blk->nr_slots / 4)
		blk->wb_background = false;
	if (blk->wb_background && blk->tokens > 0 && n < room) {
		cursor = blk->wb_cursor;
		n += begin_marked(blk, DIRTY, &cursor,
				  min_t(s64, room - n,
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

/* kcopyd context: one run of the slot was copied. */
static void wb_copied(int read_err, unsigned long write_err, void *context)
{
	struct slot *s = context;
	struct dmh_blk *blk = s->blk;
	unsigned long flags;

	spin_lock_irqsave(&blk->lock, flags);
	s->error |= read_err || write_err;
	if (atomic_dec_and_test(&s->wb_parts)) {
		list_add_tail(&s->list, &blk->wb_done);
		wake_worker(blk);
	}
	spin_unlock_irqrestore(&blk->lock, flags);
}

/* Runs of set bits in @valid: the parts of a slot a writeback copies. */
static unsigned int nr_runs(u32 valid)
{
	return hweight32(valid & ~(valid << 1));
}

/*
 * Worker: copy each run of @valid of @s to its block on the HDD; the
 * sectors outside them are current on the HDD already.
 */
static void copy_runs(struct dmh_blk *blk, struct slot *s, u32 valid)
{
	u64 cs = blk->env.chunk_sectors;
	sector_t ssd = slot_sector(blk, s - blk->slots);
	sector_t hdd = dmh_ploc_index(s->from) * cs +
		       (key_sector(s->key) & (cs - 1));
	struct dm_io_region from, to;
	unsigned int off = 0, n;

	atomic_set(&s->wb_parts, nr_runs(valid));
	while (valid >> off) {
		off += __ffs(valid >> off);
		n = same_run(valid, off, DMH_BLK_SECTORS - off);
		from = (struct dm_io_region) {
			.bdev = blk->env.bdev[DMH_TIER_SSD],
			.sector = ssd + off, .count = n,
		};
		to = (struct dm_io_region) {
			.bdev = blk->env.bdev[DMH_TIER_HDD],
			.sector = hdd + off, .count = n,
		};
		dm_kcopyd_copy(blk->env.kc, &from, 1, &to, 0, wb_copied, s);
		off += n;
		if (off == DMH_BLK_SECTORS)
			break;
	}
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
		unindex(blk, s);
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
	copy_runs(blk, s, valid);
}

/* blk->lock held: @s's writeback ended without error. */
static void wb_ok(struct dmh_blk *blk, struct slot *s)
{
	blk->writebacks++;
	if (s->wseq != s->wb_seq)
		return;			/* staged again meanwhile: still dirty */
	forget_dirty(blk, s);
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
		blk->wb_error |= s->wb_need;
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
	struct slot *s, *tmp;
	bool progress;

	if (!blk)
		return false;
	list_for_each_entry_safe(s, tmp, &blk->wait, list) {
		if (!dmh_epoch_drained(blk->env.epochs, s->gen))
			continue;
		list_del_init(&s->list);
		start_copy(blk, s);
	}
	run_writebacks(blk);
	end_fills(blk);
	reuse_slots(blk);
	refill_tokens(blk);
	begin_writebacks(blk);
	blk->reserve = staging ? blk->nr_slots / 16 : 0;
	if (staging && !READ_ONCE(blk->stop) && !blk->off)
		keep_free(blk);
	if (!READ_ONCE(blk->stop) && !blk->off)
		admit_misses(blk);
	progress = blk->settled != blk->seen_settled;
	blk->seen_settled = blk->settled;
	return progress;
}

bool dmh_blk_chunk_clean(struct dmh_blk *blk, struct dmh_volume *v,
			 u64 vchunk)
{
	sector_t start = vchunk << (blk ? blk->chunk_shift : 0);
	unsigned long first, last;
	bool clean = true;
	struct slot *s;
	void *e;

	if (!blk || !READ_ONCE(blk->dirty))
		return true;
	first = blk_key(v, start);
	last = blk_key(v, start + blk->env.chunk_sectors - 1);
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

/* ------------------------------------------------------------ lifecycle */

static int alloc_tables(struct dmh_blk *blk, u64 nr_chunks)
{
	u64 nr = nr_chunks << blk->slot_shift;

	blk->chunks = kvcalloc(nr_chunks, sizeof(*blk->chunks), GFP_KERNEL);
	blk->slots = kvcalloc(nr, sizeof(*blk->slots), GFP_KERNEL);
	blk->ghost_bits = max_t(u32, ilog2(nr) + 2, 4);
	blk->ghost = kvcalloc(1ul << blk->ghost_bits, sizeof(u32), GFP_KERNEL);
	return blk->chunks && blk->slots && blk->ghost ? 0 : -ENOMEM;
}

/* md_lock held: take up to @nr SSD chunks for slots; all FREE. */
static void take_chunks(struct dmh_blk *blk, u64 nr)
{
	u64 c, i;

	for (c = 0; c < nr; c++)
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
	kvfree(blk->ghost);
	kvfree(blk->slots);
	kvfree(blk->chunks);
}

struct dmh_blk *dmh_blk_create(const struct dmh_blk_env *env, u32 mib)
{
	u64 nr_chunks = ((u64)mib << 11) / env->chunk_sectors;
	struct dmh_blk *blk;

	if (!nr_chunks)
		return NULL;
	blk = kzalloc(sizeof(*blk), GFP_KERNEL);
	if (!blk)
		return ERR_PTR(-ENOMEM);
	blk->env = *env;
	blk->slot_shift = __ffs(env->chunk_sectors) - DMH_BLK_SHIFT;
	blk->chunk_shift = __ffs(env->chunk_sectors);
	xa_init(&blk->index);
	spin_lock_init(&blk->lock);
	INIT_LIST_HEAD(&blk->free);
	INIT_LIST_HEAD(&blk->dying);
	INIT_LIST_HEAD(&blk->copied);
	INIT_LIST_HEAD(&blk->drain);
	INIT_LIST_HEAD(&blk->wait);
	INIT_LIST_HEAD(&blk->wb_wait);
	INIT_LIST_HEAD(&blk->wb_done);
	init_waitqueue_head(&blk->idle);
	atomic_set(&blk->inflight, 0);
	atomic64_set(&blk->hits, 0);
	blk->stop = true;
	blk->stamp = jiffies;
	if (alloc_tables(blk, nr_chunks)) {
		free_tables(blk);
		kfree(blk);
		return ERR_PTR(-ENOMEM);
	}
	take_chunks(blk, nr_chunks);
	if (!blk->nr_slots) {
		dmh_blk_destroy(blk);
		return NULL;
	}
	return blk;
}

void dmh_blk_destroy(struct dmh_blk *blk)
{
	u64 c;

	if (!blk)
		return;
	if (blk->dirty)
		DMERR("block tier: %llu dirty blocks were never written back",
		      blk->dirty);
	for (c = 0; c < blk->nr_slots >> blk->slot_shift; c++)
		dmh_md_put_chunk(blk->env.md, blk->chunks[c]);
	xa_destroy(&blk->index);
	free_tables(blk);
	kfree(blk);
}

#define POLL_DRAIN	(HZ / 10)

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
}

int dmh_blk_writeback_volume(struct dmh_blk *blk, struct dmh_volume *v)
{
	unsigned long first, last;
	u64 errors;

	if (!blk)
		return 0;
	first = (u64)v->id << KEY_SHIFT;
	last = first + (1ull << KEY_SHIFT) - 1;
	errors = READ_ONCE(blk->wb_errors);
	dmh_blk_sync(blk, v);
	/* No write reaches a suspended volume: its dirty slots only go. */
	while (!wait_event_timeout(blk->idle,
				   !xa_find(&blk->index, &first, last, DIRTY) ||
				   READ_ONCE(blk->wb_errors) != errors,
				   POLL_DRAIN)) {
		first = (u64)v->id << KEY_SHIFT;
		wake_worker(blk);
	}
	first = (u64)v->id << KEY_SHIFT;
	if (!xa_find(&blk->index, &first, last, DIRTY))
		return 0;
	DMERR("volume %u: writing staged blocks back to the HDD failed",
	      v->id);
	return -EIO;
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
