/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-hybrid block tier, private to its three rooms: dm-hybrid-block.c
 * (the slots, their index, admission, fills and lifecycle),
 * dm-hybrid-readfill.c (fills from the reads that missed) and
 * dm-hybrid-stage.c (the bio path through the tier and write staging);
 * each calls only the ones before it.  The life of a slot
 * is told at the top of dm-hybrid-block.c.
 */
#ifndef DM_HYBRID_BLOCK_PRIV_H
#define DM_HYBRID_BLOCK_PRIV_H

#include <linux/bio.h>
#include <linux/dm-kcopyd.h>
#include <linux/xarray.h>

#include "dm-hybrid-block.h"
#include "dm-hybrid-monitor.h"

#define DROP_BATCH	256	/* slots dropped per hold of blk->lock */
#define POLL_DRAIN	(HZ / 10)

enum { S_FREE, S_FILLING, S_COPYING, S_VALID, S_STALE, S_DYING, S_DRAIN };
/*
 * A slot's copy in flight, one at a time: a writeback to the HDD, or a
 * top-up of the sectors it lacks from the HDD; each first waits for an
 * epoch, then copies.
 */
enum { WB_NONE, WB_WAIT, WB_COPY, WB_TOPUP_WAIT, WB_TOPUP };
/*
 * persistent_staging: what the commit under way records of a slot
 * (dm-hybrid-stage.c, "The staging log").
 */
enum { LOG_NONE, LOG_CLEAN, LOG_DIRTY };

#define DIRTY		XA_MARK_0	/* the slot holds bytes the HDD lacks */
#define NEED		XA_MARK_1	/* a writeback is asked for */

#define NR_CANDS	256	/* misses noted between two worker passes */
#define CLOCK_LOOK	16	/* slots the hand looks at for one victim */
#define MAX_FILLS	64	/* fills begun per worker pass */
#define MAX_WB		64	/* writebacks in flight */
/* Background writebacks in flight: a read miss must not queue behind many. */
#define BG_WB		4
/* Bios kept for fills from reads (dm-hybrid-readfill.c): they back off. */
#define RF_BIOS		16
/* Every sector of a block: a slot's sectors are the low bits of a u32. */
#define FULL		((u32)((1ull << DMH_BLK_SECTORS) - 1))
static_assert(DMH_BLK_SECTORS <= 32, "a slot's sectors are bits of a u32");
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
	u32 fill;			/* valid once the top-up copied them */
	u32 wseq;			/* writes staged, ever */
	u32 wb_seq;			/* @wseq when the writeback began */
	unsigned int wb_epoch;		/* the copy to the HDD counts here */
	atomic_t wb_parts;		/* its copies (runs of sectors) in flight */
	unsigned long wb_start;
	u8 state;
	u8 ref;				/* read since the hand passed */
	u8 error;
	u8 dirty;
	u8 need;			/* a writeback is asked for ... */
	u8 wb_need;			/* ... and the one begun was */
	u8 wb;
	u8 logged;			/* the log says it is dirty ... */
	u8 plog;			/* (LOG_*: the commit under way) */
	u32 lvalid;			/* ... holding these sectors */
	u32 pvalid;
	/* Its writeback last failed at this dmh_blk_wb_stamp(); 0: never. */
	u32 wb_failed;
};

/* A volume's hold on the slots, at blk->shares[its volume table slot]. */
struct share {
	u64 slots;			/* indexed under its keys */
	u32 weight;			/* its weight when it last claimed */
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
	struct list_head tu_wait;	/* top-ups waiting for an epoch */
	struct list_head tu_done;	/* and those that ended (kcopyd) */
	struct list_head rf_ready;	/* fills from reads: read, not written */
	struct bio_set rf_bios;		/* their HDD reads and SSD writes */
	u64 dirty;
	u64 pending;			/* writebacks asked for, not done */
	u64 settled;			/* writebacks ended, dirty slots dropped */
	u64 nr_free;			/* slots on @free */
	u64 nr_reclaim;			/* slots on their way to @free */
	u64 reserve;			/* free slots fills leave to writes */
	struct share *shares;		/* DMH_MAX_VOLUMES of them */
	u64 active;			/* weights of the volumes holding slots */
	unsigned long write_miss;	/* jiffies: a staged write found no slot */
	struct cand cands[NR_CANDS];
	unsigned int nr_cands;
	bool stop;			/* suspended: admit nothing */
	bool off;			/* the pool left rw mode: for good */
	bool dead;			/* the SSD died: no writeback begins */

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

	/* persistent_staging (dm-hybrid-stage.c, "The staging log"). */
	bool persist;
	unsigned long *logq;		/* slots that may owe a record */
	u64 nr_logq;
	unsigned long *logp;		/* slots the commit under way records */
	struct dmh_slog_rec *logbuf;	/* LOG_BATCH records */
	u64 dirty_max;			/* dirty slots a half of the log holds */
	u64 wb_high;			/* background writebacks from here ... */
	u64 wb_low;			/* ... down to here */

	atomic_t inflight;		/* fills and writebacks in flight */
	wait_queue_head_t idle;
	u64 valid;
	u64 fills;
	u64 writebacks;
	u64 wb_errors;
	atomic64_t hits;
};

static inline u64 blk_key(struct dmh_volume *v, sector_t sector)
{
	return ((u64)v->id << KEY_SHIFT) | (sector >> DMH_BLK_SHIFT);
}

static inline sector_t key_sector(u64 key)
{
	return (key & ((1ull << KEY_SHIFT) - 1)) << DMH_BLK_SHIFT;
}

static inline u64 key_vchunk(struct dmh_blk *blk, u64 key)
{
	return key_sector(key) >> blk->chunk_shift;
}

/* The first and the last key of @v's blocks. */
static inline u64 vol_first_key(struct dmh_volume *v)
{
	return (u64)v->id << KEY_SHIFT;
}

static inline u64 vol_last_key(struct dmh_volume *v)
{
	return vol_first_key(v) + (1ull << KEY_SHIFT) - 1;
}

/* The first and the last key of the blocks of @v's @vchunk. */
static inline u64 chunk_first_key(struct dmh_blk *blk, struct dmh_volume *v,
				  u64 vchunk)
{
	return blk_key(v, (sector_t)vchunk << blk->chunk_shift);
}

static inline u64 chunk_last_key(struct dmh_blk *blk, struct dmh_volume *v,
				 u64 vchunk)
{
	return chunk_first_key(blk, v, vchunk) + (1ull << blk->slot_shift) - 1;
}

static inline sector_t slot_sector(struct dmh_blk *blk, u64 i)
{
	dmh_ploc_t p = blk->chunks[i >> blk->slot_shift];
	u64 in = i & ((1ull << blk->slot_shift) - 1);

	return (dmh_ploc_index(p) * blk->env.chunk_sectors) +
	       (in << DMH_BLK_SHIFT);
}

/* Sectors from @sector on, within @len, whose bits in @valid are alike. */
static inline unsigned int same_run(u32 valid, sector_t sector,
				    unsigned int len)
{
	unsigned int off = sector & (DMH_BLK_SECTORS - 1);
	bool first = valid & (1u << off);
	unsigned int n = 1;

	while (n < len && !!(valid & (1u << (off + n))) == first)
		n++;
	return n;
}

/* Per hold of blk->lock: records gathered, and slots looked at, at most. */
#define LOG_BATCH	64
#define LOG_SCAN	1024

/*
 * blk->lock held: @s changed in a way the staging log may have to record
 * (it turned dirty or clean, holds other sectors, or left the index).
 */
static inline void mark_log(struct dmh_blk *blk, struct slot *s)
{
	if (blk->persist && !__test_and_set_bit(s - blk->slots, blk->logq))
		blk->nr_logq++;
}

static inline void wake_worker(struct dmh_blk *blk)
{
	queue_work(blk->env.wq, blk->env.worker);
}

/* blk->lock held: take @s out of the index (the life of a slot). */
void dmh_blk_unindex(struct dmh_blk *blk, struct slot *s);
/* blk->lock held: @s no longer holds bytes the HDD lacks. */
void dmh_blk_forget_dirty(struct dmh_blk *blk, struct slot *s);
/*
 * blk->lock held: does @v hold more than its share of the slots (with
 * @or_equal: at least its share)?  Volumes share the slots in proportion
 * to weight << priority, among those that hold any.
 */
bool dmh_blk_over_share(struct dmh_blk *blk, struct dmh_volume *v,
			bool or_equal);
/*
 * blk->lock held: may @v take @n more slots within its ssd_max, which
 * counts its SSD chunks and its slots (in chunks, rounded up) together?
 */
bool dmh_blk_may_grow(struct dmh_blk *blk, struct dmh_volume *v, u64 n);
/* Any context: note a miss of @key of @v (home @home) for admission. */
void dmh_blk_note_miss(struct dmh_blk *blk, struct dmh_volume *v, u64 key,
		       dmh_ploc_t home);
/*
 * blk->lock held: index the first free slot under @key of @v, whose home
 * is @home, in @state, holding the sectors @valid; NULL when none is
 * free beyond @keep, @v is at its ssd_max, or the index has no memory
 * now.  Its fields are set before the index publishes it to lockless
 * readers.
 */
struct slot *dmh_blk_claim(struct dmh_blk *blk, struct dmh_volume *v, u64 key,
			   dmh_ploc_t home, u8 state, u32 valid, u64 keep);
/*
 * Worker, @s->wb set to WB_COPY or WB_TOPUP: copy each run of set bits of
 * @runs of @s between its slot and its block on the HDD (to the HDD with
 * @to_hdd).  When the last run ended, @s goes on blk->wb_done or
 * blk->tu_done and the worker is woken.
 */
void dmh_blk_copy_runs(struct dmh_blk *blk, struct slot *s, u32 runs,
		       bool to_hdd);
/*
 * Pool worker, md_lock held: start the fills whose epoch drained, end
 * those that ended, free the slots whose epoch drained, refill the fill
 * rate's tokens.
 */
void dmh_blk_fills(struct dmh_blk *blk);
/*
 * Pool worker, md_lock held, after dmh_blk_fills(): unless suspended,
 * keep the writes' reserve of free slots (with @staging) and admit the
 * misses noted since the last pass.
 */
void dmh_blk_admit(struct dmh_blk *blk, bool staging);
/*
 * Map context (dm-hybrid-readfill.c): fill free slots from @bio, a read of
 * a few blocks of @v's HDD chunk @home, none of which has a slot.  True:
 * the tier took @bio and completes it; false: nothing changed (but for
 * slots given up at once), the bio goes home as it was.
 */
bool dmh_blk_read_fill(struct dmh_blk *blk, struct dmh_volume *v,
		       struct bio *bio, dmh_ploc_t home);
/* Pool worker: write the blocks that fills from reads read to their slots. */
void dmh_blk_write_fills(struct dmh_blk *blk);

#endif /* DM_HYBRID_BLOCK_PRIV_H */
