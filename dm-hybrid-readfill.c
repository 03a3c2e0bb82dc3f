// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid block tier, fills from reads: a read miss inside one block of
 * an HDD chunk, while the tier has a free slot for it, reads the whole
 * block into a page of its own, completes the read from that page, and
 * then writes the page to the slot.  The fill costs the SSD write only,
 * where the worker's fill (dm-hybrid-block.c) reads the HDD a second time
 * (Documentation/dm-hybrid.rst, "Block tier").
 *
 * The race to close is the one the worker's fills close with an epoch
 * barrier: a write of the block that looked the index up before the slot
 * was indexed, and is still in flight to the HDD, may land after the HDD
 * read, and leave the slot holding older bytes than the HDD.  Every write
 * the bio path sends to an HDD chunk counts in its volume's @blk_hddw
 * from before it looks the index up until it ends (dm-hybrid-io.c,
 * remap()).  A fill indexes its slot, then reads @blk_hddw, with a full
 * barrier between, as such a write increments and then looks up: so
 * either the write finds the slot, and turns it STALE (its fill's end
 * throws the copy away), or the fill sees the write, and lets the slot go
 * at once; the miss is then the worker's, as before.  A write that comes
 * later finds the slot.
 *
 * The slot is COPYING from the start (no read goes to it before it is
 * VALID), counts in blk->inflight until the worker's end_fills() took it,
 * and ends on blk->copied as the worker's fills do.  Its completions hand
 * it over under blk->lock, which dmh_blk_suspend() takes once more before
 * it returns: nothing here touches the tier after a suspend.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/slab.h>

#include "dm-hybrid-block-priv.h"

#define BLOCK_BYTES	(DMH_BLK_SECTORS << SECTOR_SHIFT)
static_assert(BLOCK_BYTES <= PAGE_SIZE, "a block fits in one page");

struct rfill {
	struct bio bio;			/* the HDD read, then the SSD write */
	struct bio_vec bvec;
	struct page *page;
	struct dmh_blk *blk;
	struct slot *s;
	struct bio *orig;		/* the read it serves */
	struct list_head list;		/* blk->rf_ready */
};

/*
 * Any context, blk->lock held: @s's fill ended (@error: throw it away);
 * the worker's end_fills() makes it VALID or drains it.
 */
static void rf_hand_over(struct dmh_blk *blk, struct slot *s, bool error)
{
	if (error)
		s->error = 1;
	list_add_tail(&s->list, &blk->copied);
	wake_worker(blk);
}

static void rf_done(struct dmh_blk *blk, struct slot *s, bool error)
{
	unsigned long flags;

	spin_lock_irqsave(&blk->lock, flags);
	rf_hand_over(blk, s, error);
	spin_unlock_irqrestore(&blk->lock, flags);
}

/* Map context: may not sleep or reclaim; NULL makes the miss the worker's. */
static struct rfill *rf_alloc(void)
{
	struct rfill *rf = kmalloc(sizeof(*rf), GFP_NOWAIT | __GFP_NOWARN);

	if (!rf)
		return NULL;
	rf->page = alloc_page(GFP_NOWAIT | __GFP_NOWARN);
	if (!rf->page) {
		kfree(rf);
		return NULL;
	}
	return rf;
}

static void rf_free(struct rfill *rf)
{
	__free_page(rf->page);
	kfree(rf);
}

/*
 * Map context: index a slot for block @key of @v (home @home) as COPYING,
 * unless the tier is stopped, the block has a slot, or no slot is free
 * beyond the writes' reserve.
 */
static struct slot *rf_claim(struct dmh_blk *blk, struct dmh_volume *v,
			     u64 key, dmh_ploc_t home)
{
	struct slot *s = NULL;
	unsigned long flags;

	spin_lock_irqsave(&blk->lock, flags);
	if (!blk->stop && !blk->off && !xa_load(&blk->index, key))
		s = dmh_blk_claim(blk, v, key, home, S_COPYING, FULL,
				  READ_ONCE(blk->reserve));
	if (s)
		atomic_inc(&blk->inflight);
	spin_unlock_irqrestore(&blk->lock, flags);
	return s;
}

/* Interrupt context: the read's part of the block, from the page. */
static void rf_copy(struct rfill *rf)
{
	struct bio *orig = rf->orig;
	unsigned int off = orig->bi_iter.bi_sector & (DMH_BLK_SECTORS - 1);
	char *from = page_address(rf->page) + (off << SECTOR_SHIFT);
	struct bvec_iter iter;
	struct bio_vec bv;

	bio_for_each_segment(bv, orig, iter) {
		memcpy_to_bvec(&bv, from);
		from += bv.bv_len;
	}
}

/* Interrupt context: the SSD write ended. */
static void rf_write_done(struct bio *bio)
{
	struct rfill *rf = container_of(bio, struct rfill, bio);

	rf_done(rf->blk, rf->s, bio->bi_status != BLK_STS_OK);
	bio_uninit(bio);
	rf_free(rf);
}

/*
 * Interrupt context: the HDD read ended.  The read it serves completes
 * now; the page waits for the worker to write it to the slot (a bio is
 * not submitted from here).
 */
static void rf_read_done(struct bio *bio)
{
	struct rfill *rf = container_of(bio, struct rfill, bio);
	struct dmh_blk *blk = rf->blk;
	blk_status_t st = bio->bi_status;
	unsigned long flags;

	if (st == BLK_STS_OK)
		rf_copy(rf);
	else
		rf->orig->bi_status = st;
	bio_endio(rf->orig);
	spin_lock_irqsave(&blk->lock, flags);
	if (st == BLK_STS_OK) {
		list_add_tail(&rf->list, &blk->rf_ready);
		wake_worker(blk);
	} else {
		rf_hand_over(blk, rf->s, true);
	}
	spin_unlock_irqrestore(&blk->lock, flags);
	if (st != BLK_STS_OK) {
		bio_uninit(bio);
		rf_free(rf);
	}
}

static void rf_read(struct dmh_blk *blk, struct rfill *rf, dmh_ploc_t home)
{
	struct bio *orig = rf->orig;
	u64 cs = blk->env.chunk_sectors;
	sector_t sector = orig->bi_iter.bi_sector & ~(sector_t)(DMH_BLK_SECTORS - 1);

	bio_init(&rf->bio, blk->env.bdev[DMH_TIER_HDD], &rf->bvec, 1,
		 REQ_OP_READ | (orig->bi_opf & (REQ_SYNC | REQ_META | REQ_PRIO)));
	rf->bio.bi_ioprio = orig->bi_ioprio;
	bio_clone_blkg_association(&rf->bio, orig);
	rf->bio.bi_iter.bi_sector = dmh_ploc_index(home) * cs +
				    (sector & (cs - 1));
	__bio_add_page(&rf->bio, rf->page, BLOCK_BYTES, 0);
	rf->bio.bi_end_io = rf_read_done;
	submit_bio_noacct(&rf->bio);
}

bool dmh_blk_read_fill(struct dmh_blk *blk, struct dmh_volume *v,
		       struct bio *bio, dmh_ploc_t home)
{
	struct rfill *rf = rf_alloc();

	if (!rf)
		return false;
	rf->s = rf_claim(blk, v, blk_key(v, bio->bi_iter.bi_sector), home);
	if (!rf->s) {
		rf_free(rf);
		return false;
	}
	/* Pairs with the barrier after a write's count in remap(). */
	smp_mb();
	if (atomic_read(&v->blk_hddw)) {
		rf_done(blk, rf->s, true);
		rf_free(rf);
		return false;
	}
	rf->blk = blk;
	rf->orig = bio;
	rf_read(blk, rf, home);
	return true;
}

void dmh_blk_write_fills(struct dmh_blk *blk)
{
	struct rfill *rf, *tmp;
	LIST_HEAD(ready);

	spin_lock_irq(&blk->lock);
	list_splice_init(&blk->rf_ready, &ready);
	spin_unlock_irq(&blk->lock);
	list_for_each_entry_safe(rf, tmp, &ready, list) {
		list_del(&rf->list);
		/* A write or a drop took the slot meanwhile: no use. */
		if (READ_ONCE(rf->s->state) != S_COPYING) {
			rf_done(blk, rf->s, false);
			bio_uninit(&rf->bio);
			rf_free(rf);
			continue;
		}
		bio_reset(&rf->bio, blk->env.bdev[DMH_TIER_SSD], REQ_OP_WRITE);
		rf->bio.bi_iter.bi_sector = slot_sector(blk, rf->s - blk->slots);
		__bio_add_page(&rf->bio, rf->page, BLOCK_BYTES, 0);
		rf->bio.bi_end_io = rf_write_done;
		submit_bio_noacct(&rf->bio);
	}
}
