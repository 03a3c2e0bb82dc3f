// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid block tier, fills from reads: a read miss of up to RF_BLOCKS
 * blocks of an HDD chunk none of which has a slot, while the tier has a
 * free slot for each, reads the whole blocks into pages of its own,
 * completes the read from those pages, and then writes each page to its
 * slot.  The fill costs the SSD writes only, where the worker's fill
 * (dm-hybrid-block.c) reads the HDD a second time (Documentation/
 * dm-hybrid.rst, "Block tier").
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
 * The slots are COPYING from the start (no read goes to them before they
 * are VALID), count in blk->inflight until the worker's end_fills() took
 * them, and end on blk->copied as the worker's fills do.  The completions
 * hand them over under blk->lock, which dmh_blk_suspend() takes once more
 * before it returns: nothing here touches the tier after a suspend.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/slab.h>

#include "dm-hybrid-block-priv.h"

#define BLOCK_BYTES	(DMH_BLK_SECTORS << SECTOR_SHIFT)
static_assert(BLOCK_BYTES <= PAGE_SIZE, "a block fits in one page");
/*
 * Blocks a fill from a read takes at most (32 KiB): a database page or
 * two, a guest's readahead of small files; longer reads are the worker's.
 */
#define RF_BLOCKS	8

struct rfill {
	struct dmh_blk *blk;
	struct bio *orig;		/* the read it serves */
	struct list_head list;		/* blk->rf_ready */
	unsigned int nr;		/* blocks, slots and pages */
	sector_t first;			/* the first block's, in the volume */
	atomic_t writes;		/* SSD writes in flight */
	bool error;			/* one of them failed */
	struct slot *s[RF_BLOCKS];
	struct page *page[RF_BLOCKS];
};

/*
 * Any context, blk->lock held: the fill of @rf's slots ended (@error:
 * throw them away); the worker's end_fills() makes them VALID or drains
 * them.
 */
static void rf_hand_over(struct dmh_blk *blk, struct rfill *rf, bool error)
{
	unsigned int i;

	for (i = 0; i < rf->nr && rf->s[i]; i++) {
		if (error)
			rf->s[i]->error = 1;
		list_add_tail(&rf->s[i]->list, &blk->copied);
	}
	wake_worker(blk);
}

static void rf_done(struct dmh_blk *blk, struct rfill *rf, bool error)
{
	unsigned long flags;

	spin_lock_irqsave(&blk->lock, flags);
	rf_hand_over(blk, rf, error);
	spin_unlock_irqrestore(&blk->lock, flags);
}

static void rf_free(struct rfill *rf)
{
	unsigned int i;

	for (i = 0; i < rf->nr; i++)
		if (rf->page[i])
			__free_page(rf->page[i]);
	kfree(rf);
}

/*
 * Map context: may not sleep or reclaim; NULL makes the miss the
 * worker's.  @nr pages, no slot yet.
 */
static struct rfill *rf_alloc(unsigned int nr)
{
	struct rfill *rf = kzalloc(sizeof(*rf), GFP_NOWAIT | __GFP_NOWARN);
	unsigned int i;

	if (!rf)
		return NULL;
	rf->nr = nr;
	for (i = 0; i < nr; i++) {
		rf->page[i] = alloc_page(GFP_NOWAIT | __GFP_NOWARN);
		if (!rf->page[i]) {
			rf_free(rf);
			return NULL;
		}
	}
	return rf;
}

/*
 * Map context: index a slot for each of the @rf->nr blocks from @key of
 * @v (home @home) as COPYING; none unless the tier runs, none of the
 * blocks has a slot, and as many are free beyond the writes' reserve.
 */
static bool rf_claim(struct dmh_blk *blk, struct rfill *rf,
		     struct dmh_volume *v, u64 key, dmh_ploc_t home)
{
	unsigned long flags, i = key;
	unsigned int n = 0;

	spin_lock_irqsave(&blk->lock, flags);
	if (blk->stop || blk->off ||
	    blk->nr_free < READ_ONCE(blk->reserve) + rf->nr ||
	    !dmh_blk_may_grow(blk, v, rf->nr) ||
	    xa_find(&blk->index, &i, key + rf->nr - 1, XA_PRESENT))
		goto out;
	for (; n < rf->nr; n++) {
		rf->s[n] = dmh_blk_claim(blk, v, key + n, home, S_COPYING,
					 FULL, 0);
		if (!rf->s[n])
			break;
	}
	atomic_add(n, &blk->inflight);
	if (n < rf->nr) {		/* the index had no memory */
		rf_hand_over(blk, rf, true);
		n = 0;
	}
out:
	spin_unlock_irqrestore(&blk->lock, flags);
	return n;
}

/* Interrupt context: the read's part of the blocks, from the pages. */
static void rf_copy(struct rfill *rf)
{
	struct bio *orig = rf->orig;
	unsigned int pos = (orig->bi_iter.bi_sector - rf->first) << SECTOR_SHIFT;
	unsigned int done, in, n;
	struct bvec_iter iter;
	struct bio_vec bv;

	bio_for_each_segment(bv, orig, iter) {
		for (done = 0; done < bv.bv_len; done += n, pos += n) {
			in = pos & (BLOCK_BYTES - 1);
			n = min(bv.bv_len - done, BLOCK_BYTES - in);
			memcpy_to_page(bv.bv_page, bv.bv_offset + done,
				       page_address(rf->page[pos / BLOCK_BYTES]) +
				       in, n);
		}
	}
}

/* Interrupt context: an SSD write ended; the last hands the slots over. */
static void rf_write_done(struct bio *bio)
{
	struct rfill *rf = bio->bi_private;

	if (bio->bi_status != BLK_STS_OK)
		WRITE_ONCE(rf->error, true);
	bio_put(bio);
	if (!atomic_dec_and_test(&rf->writes))
		return;
	rf_done(rf->blk, rf, READ_ONCE(rf->error));
	rf_free(rf);
}

/*
 * Interrupt context: the HDD read ended.  The read it serves completes
 * now; the pages wait for the worker to write them to the slots (a bio
 * is not submitted from here).
 */
static void rf_read_done(struct bio *bio)
{
	struct rfill *rf = bio->bi_private;
	struct dmh_blk *blk = rf->blk;
	blk_status_t st = bio->bi_status;
	unsigned long flags;

	bio_put(bio);
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
		rf_hand_over(blk, rf, true);
	}
	spin_unlock_irqrestore(&blk->lock, flags);
	if (st != BLK_STS_OK)
		rf_free(rf);
}

/* Map context: the HDD read of every block, into the pages. */
static bool rf_read(struct dmh_blk *blk, struct rfill *rf, dmh_ploc_t home)
{
	struct bio *orig = rf->orig, *bio;
	u64 cs = blk->env.chunk_sectors;
	unsigned int i;

	bio = bio_alloc_bioset(blk->env.bdev[DMH_TIER_HDD], rf->nr,
			       REQ_OP_READ | (orig->bi_opf & (REQ_SYNC |
							      REQ_META |
							      REQ_PRIO)),
			       GFP_NOWAIT, &blk->rf_bios);
	if (!bio)
		return false;
	bio->bi_ioprio = orig->bi_ioprio;
	bio_clone_blkg_association(bio, orig);
	bio->bi_iter.bi_sector = dmh_ploc_index(home) * cs +
				 (rf->first & (cs - 1));
	for (i = 0; i < rf->nr; i++)
		__bio_add_page(bio, rf->page[i], BLOCK_BYTES, 0);
	bio->bi_private = rf;
	bio->bi_end_io = rf_read_done;
	submit_bio_noacct(bio);
	return true;
}

bool dmh_blk_read_fill(struct dmh_blk *blk, struct dmh_volume *v,
		       struct bio *bio, dmh_ploc_t home)
{
	u64 key = blk_key(v, bio->bi_iter.bi_sector);
	u64 nr = blk_key(v, bio_end_sector(bio) - 1) - key + 1;
	struct rfill *rf;

	if (nr > RF_BLOCKS)
		return false;
	/*
	 * Racy hints, checked again where they count: the misses of a full
	 * tier, or of a volume writing to the HDD, allocate nothing.
	 */
	if (READ_ONCE(blk->nr_free) < READ_ONCE(blk->reserve) + nr ||
	    atomic_read(&v->blk_hddw))
		return false;
	rf = rf_alloc(nr);
	if (!rf)
		return false;
	if (!rf_claim(blk, rf, v, key, home)) {
		rf_free(rf);
		return false;
	}
	rf->blk = blk;
	rf->orig = bio;
	rf->first = key_sector(key);
	/* Pairs with the barrier after a write's count in remap(). */
	smp_mb();
	if (atomic_read(&v->blk_hddw) || !rf_read(blk, rf, home)) {
		rf_done(blk, rf, true);
		rf_free(rf);
		return false;
	}
	return true;
}

/* Do slots @a and @b lie one after the other in one SSD chunk? */
static bool in_a_row(struct dmh_blk *blk, struct slot *a, struct slot *b)
{
	u64 i = a - blk->slots, j = b - blk->slots;

	return j == i + 1 && (i >> blk->slot_shift) == (j >> blk->slot_shift);
}

/*
 * Pool worker: write @rf's pages to its slots, a bio per run of slots in
 * a row.  -ENOMEM: no bio now (none was sent); it is tried again at the
 * worker's next pass.
 */
static int rf_write(struct dmh_blk *blk, struct rfill *rf)
{
	struct bio *bios[RF_BLOCKS];
	unsigned int i, n, first, runs = 0;

	for (first = 0; first < rf->nr; first = i, runs++) {
		for (i = first + 1; i < rf->nr &&
		     in_a_row(blk, rf->s[i - 1], rf->s[i]); i++)
			;
		bios[runs] = bio_alloc_bioset(blk->env.bdev[DMH_TIER_SSD],
					      i - first, REQ_OP_WRITE,
					      GFP_NOWAIT, &blk->rf_bios);
		if (!bios[runs])
			goto no_bio;
		bios[runs]->bi_iter.bi_sector =
			slot_sector(blk, rf->s[first] - blk->slots);
		for (n = first; n < i; n++)
			__bio_add_page(bios[runs], rf->page[n], BLOCK_BYTES, 0);
		bios[runs]->bi_private = rf;
		bios[runs]->bi_end_io = rf_write_done;
	}
	atomic_set(&rf->writes, runs);
	for (i = 0; i < runs; i++)
		submit_bio_noacct(bios[i]);
	return 0;
no_bio:
	while (runs--)
		bio_put(bios[runs]);
	return -ENOMEM;
}

/* A write or a drop took one of @rf's slots meanwhile? */
static bool rf_stale(struct rfill *rf)
{
	unsigned int i;

	for (i = 0; i < rf->nr; i++)
		if (READ_ONCE(rf->s[i]->state) != S_COPYING)
			return true;
	return false;
}

void dmh_blk_write_fills(struct dmh_blk *blk)
{
	struct rfill *rf, *tmp;
	LIST_HEAD(ready);
	LIST_HEAD(again);

	spin_lock_irq(&blk->lock);
	list_splice_init(&blk->rf_ready, &ready);
	spin_unlock_irq(&blk->lock);
	list_for_each_entry_safe(rf, tmp, &ready, list) {
		/* Off the list first: once its writes are sent, it may be gone. */
		list_del(&rf->list);
		if (rf_stale(rf)) {	/* end_fills() drains them all */
			rf_done(blk, rf, true);
			rf_free(rf);
		} else if (rf_write(blk, rf)) {
			list_add_tail(&rf->list, &again);
		}
	}
	/* Those without a bio wait for the next pass. */
	spin_lock_irq(&blk->lock);
	list_splice(&again, &blk->rf_ready);
	spin_unlock_irq(&blk->lock);
}
