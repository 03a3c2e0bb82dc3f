/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-hybrid mapping tables and on-disk metadata (dm-hybrid-map.c and
 * dm-hybrid-metadata.c): the bottom room, which calls no other file of the
 * module.  It owns every on-disk byte, the in-core forward maps, the
 * allocators, the reclaim of freed chunks and the volume records.  The
 * per-volume policy settings (weight, priority, SSD limits, pins) and the
 * heat bytes are stored here for the monitor, which interprets them.
 */
#ifndef DM_HYBRID_MAP_H
#define DM_HYBRID_MAP_H

#include <linux/bits.h>
#include <linux/blk_types.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include "dm-hybrid-format.h"

#define DM_MSG_PREFIX "hybrid"

/*
 * A physical chunk: its tier in bit DMH_PLOC_TIER_BIT and its index within
 * that tier below.  A distinct type so that sparse catches a physical chunk
 * passed where a virtual chunk is expected, the classic remapping bug.
 */
typedef u64 __bitwise dmh_ploc_t;

#define DMH_PLOC_TIER_BIT	40
#define DMH_PLOC_INDEX_MASK	((1ull << DMH_PLOC_TIER_BIT) - 1)

static inline dmh_ploc_t dmh_ploc(unsigned int tier, u64 index)
{
	return (__force dmh_ploc_t)(((u64)tier << DMH_PLOC_TIER_BIT) | index);
}

static inline unsigned int dmh_ploc_tier(dmh_ploc_t p)
{
	return (__force u64)p >> DMH_PLOC_TIER_BIT;
}

static inline u64 dmh_ploc_index(dmh_ploc_t p)
{
	return (__force u64)p & DMH_PLOC_INDEX_MASK;
}

/*
 * Forward map entries are xarray value entries: the physical chunk in the
 * low bits and a state above it.  Readers (map()) load them under RCU; only
 * the pool worker stores them, with the metadata lock held.
 *
 * DMH_E_ALLOC:   a first write is filling the chunk; every bio waits.
 * DMH_E_MIGRATE: the chunk is being copied to its other tier; reads are
 *                served from the old home, writes wait until the flip.
 */
#define DMH_E_ALLOC		BIT_ULL(48)
#define DMH_E_MIGRATE		BIT_ULL(49)
#define DMH_E_PRESENT		BIT_ULL(50)	/* never 0, even for SSD chunk 0 */
#define DMH_E_BUSY		(DMH_E_ALLOC | DMH_E_MIGRATE)
#define DMH_E_PLOC_MASK		((1ull << 41) - 1)

static inline dmh_ploc_t dmh_entry_ploc(u64 e)
{
	return (__force dmh_ploc_t)(e & DMH_E_PLOC_MASK);
}

static inline u64 dmh_entry(dmh_ploc_t p, u64 state)
{
	return (__force u64)p | state | DMH_E_PRESENT;
}

/* Request size histogram buckets: <=4K, <=16K, <=64K, <=256K, <=1M, >1M */
#define DMH_NR_SIZE_BUCKETS	6

/* Per-volume counters, per CPU: written on the hot path without locks. */
struct dmh_vol_stats {
	u64 ios[2];		/* [0] read, [1] write */
	u64 sectors[2];
	u64 tier_ios[DMH_NR_TIERS];
	u64 seq_ios;
	u64 size_hist[DMH_NR_SIZE_BUCKETS];
	u64 block_hits;		/* reads served by the block tier */
	u64 block_staged;	/* writes staged in the block tier */
	u64 block_dirty;	/* its dirty slots: a sum, not a count */
};

/*
 * Stream detection state, per volume, updated without locks: a lost update
 * under a race only shortens a stream.  (Per-CPU state was tried: a scan's
 * thread moves between CPUs often enough that no stream ever grew long.)
 */
struct dmh_stream {
	sector_t next;
	sector_t len;
};

/* Chunk heat: one byte per virtual chunk, replaced under RCU on resize. */
struct dmh_heat {
	struct rcu_head rcu;
	u64 nr;
	u8 h[];
};

#define DMH_PRIO_LOW		0
#define DMH_PRIO_NORMAL		1
#define DMH_PRIO_HIGH		2

/* A pinned range of a volume, in virtual chunks [start, end). */
struct dmh_pin {
	u64 start;
	u64 end;
	unsigned int tier;
};

#define DMH_VOL_MAX_PINS	8

/*
 * An in-core volume.  The map and heat are read under RCU by the bio path;
 * all other fields change only with the pool's md_lock held and are read
 * locklessly for status.  Each group of fields has one room that writes
 * it; the others only read it.
 */
struct dmh_volume {
	/* Map room: the record and the mapping (dmh_md_*()). */
	u32 id;
	unsigned int slot;		/* record slot in the volume table */
	sector_t size;			/* sectors */
	struct xarray map;		/* vchunk -> entry */
	u64 nr_chunks[DMH_NR_TIERS];	/* mapped chunks per tier */
	u32 weight;			/* the controls: dmh_md_set_controls() */
	u32 priority;
	u64 ssd_min;
	u64 ssd_max;
	char name[DMH_NAME_LEN];
	struct dmh_pin pins[DMH_VOL_MAX_PINS];	/* dmh_md_set_pin() */
	unsigned int nr_pins;

	/* Storage the map room allocates and the monitor room fills. */
	struct dmh_heat __rcu *heat;
	struct dmh_vol_stats __percpu *stats;

	/* Monitor room (dm-hybrid-monitor.c, dm-hybrid-policy.c). */
	u64 ssd_pending;		/* first writes and promotions under way */
	u64 ssd_leaving;		/* demotions under way */
	u64 promotions;
	u64 demotions;
	struct dmh_stream stream;
	/*
	 * The chunk tier's shares (dm-hybrid-policy.c, "shares"): its chunks
	 * at promote_threshold heat or more counted by the pass under way,
	 * the most whole passes counted since the last halving of the heat
	 * and in the half-life before it, the larger of those two (its
	 * demand), and the SSD chunks due to it under contention, with the
	 * policy's scratch copy while it computes them.  Written with
	 * md_lock held; the status reads hot and chunk_due racily.
	 */
	u64 hot_seen;
	u64 hot_max;
	u64 hot_prev;
	u64 hot;
	u64 chunk_due;
	u64 due_work;

	/* Target room (dm-hybrid.c, dm-hybrid-cell.c). */
	struct xarray cells;		/* vchunk -> struct dmh_cell, worker */
	unsigned int open_count;	/* bound hybrid targets */
	blk_status_t no_space_status;	/* !OK: suspending, end such writes */

	/* Block tier room (dm-hybrid-stage.c), jiffies, 0 at creation. */
	unsigned long blk_flush;	/* the volume's last flush */
	unsigned long blk_quiet;	/* stage none of its writes before */
	u32 blk_wb_failed;		/* writebacks asked, failed: worker */
	u32 blk_wb_seen;		/* ... as its last flush began */
	/* Writes in flight to its HDD chunks (dm-hybrid-readfill.c). */
	atomic_t blk_hddw;
	/*
	 * Its slots, in SSD chunks (rounded up): its ssd_min and ssd_max
	 * count them with its chunks.  Written under the tier's lock, read
	 * racily.
	 */
	u64 blk_held;
};

/*
 * Any context (a racy read of the controls): @v's weight in the shares of
 * the chunk tier and of the block tier's slots, weight << priority (low 1x,
 * normal 2x, high 4x the weight).  At most 1000 << 2.
 */
static inline u32 dmh_share_weight(struct dmh_volume *v)
{
	return READ_ONCE(v->weight) << READ_ONCE(v->priority);
}

/* md_lock held, or under RCU for a racy read: @vchunk's heat byte. */
static inline u8 dmh_heat_get(struct dmh_volume *v, u64 vchunk)
{
	struct dmh_heat *h = rcu_dereference_check(v->heat, true);

	return vchunk < h->nr ? READ_ONCE(h->h[vchunk]) : 0;
}

/* md_lock held: set @vchunk's heat byte (beyond the volume: ignored). */
static inline void dmh_heat_set(struct dmh_volume *v, u64 vchunk, u8 x)
{
	struct dmh_heat *h = rcu_dereference_check(v->heat, true);

	if (vchunk < h->nr)
		WRITE_ONCE(h->h[vchunk], x);
}

/* A volume's controls, as set_volume changes them. */
struct dmh_vol_controls {
	u32 weight;
	u32 priority;
	u64 ssd_min;
	u64 ssd_max;
	char name[DMH_NAME_LEN];	/* empty: no name */
};

/* Pool-wide usage, for status. */
struct dmh_md_usage {
	u64 txid;
	u64 md_used;
	u64 md_total;
	u64 used[DMH_NR_TIERS];
	u64 total[DMH_NR_TIERS];
	u32 nr_volumes;
	bool needs_check;
	u64 slog_used;		/* staging log: committed blocks, live half */
	u64 slog_half;		/* blocks a half has, 0: no log */
};

struct dmh_metadata;
struct mutex;

/*
 * Every function below may block unless it says otherwise, and is called
 * with the pool's md_lock held ("md_lock held"), except dmh_md_open() and
 * dmh_md_close(), which run before the pool is shared and after it is not.
 */

/* Open (format if blank) the metadata; @error gets a ti->error sentence. */
struct dmh_metadata *dmh_md_open(struct block_device *bdev,
				 u32 chunk_sectors, sector_t ssd_sectors,
				 sector_t hdd_sectors, bool read_only,
				 char **error);
void dmh_md_close(struct dmh_metadata *md);

/*
 * Write the open transaction (the caller flushed the data devices first);
 * on failure the metadata turns read-only.
 */
int dmh_md_commit(struct dmh_metadata *md);
/* md_lock held, no I/O: does the open transaction hold changes? */
bool dmh_md_dirty(struct dmh_metadata *md);
/* md_lock held, no I/O: refuse every later change and commit. */
void dmh_md_set_read_only(struct dmh_metadata *md);
/*
 * md_lock held, reads metadata: the open transaction will never commit;
 * turn read-only and put the forward maps back to the committed state.
 */
void dmh_md_abort(struct dmh_metadata *md);
/* md_lock held, no I/O: the id of the last committed transaction. */
u64 dmh_md_txid(struct dmh_metadata *md);
/* Take in grown data devices; > 0 when the pool grew (commit it). */
int dmh_md_resize(struct dmh_metadata *md, sector_t ssd_sectors,
		  sector_t hdd_sectors, char **error);
/* md_lock held, no I/O. */
void dmh_md_usage(struct dmh_metadata *md, struct dmh_md_usage *u);

/* md_lock held, no I/O: the volume with @id, or NULL. */
struct dmh_volume *dmh_md_volume(struct dmh_metadata *md, u32 id);
/* md_lock held, no I/O: iterate volumes: start with *id = 0; NULL at the end. */
struct dmh_volume *dmh_md_next_volume(struct dmh_metadata *md,
				      unsigned long *id);
int dmh_md_create_volume(struct dmh_metadata *md, u32 id);
/* -EBUSY while the volume is open or has a busy chunk. */
int dmh_md_delete_volume(struct dmh_metadata *md, u32 id);
/* Resize a volume, its heat storage with it; -EBUSY over mapped chunks. */
int dmh_md_set_size(struct dmh_metadata *md, struct dmh_volume *v,
		    sector_t size);
/* md_lock held, no I/O: is any chunk at or beyond @size mapped? */
bool dmh_md_tail_mapped(struct dmh_metadata *md, struct dmh_volume *v,
			sector_t size);
/*
 * md_lock held, no I/O: replace a volume's controls; -EINVAL when ssd_min
 * exceeds a non-zero ssd_max, -EEXIST when another volume has the name.
 */
int dmh_md_set_controls(struct dmh_metadata *md, struct dmh_volume *v,
			const struct dmh_vol_controls *c);
/*
 * md_lock held, no I/O: pin [start, end) (virtual chunks) to @tier
 * (DMH_PIN_SSD or DMH_PIN_HDD), or unpin it (@tier < 0).  The new range
 * replaces what it overlaps.  -ENOSPC beyond DMH_VOL_MAX_PINS ranges per
 * volume or DMH_MAX_PINS per pool; nothing changes then.
 */
int dmh_md_set_pin(struct dmh_metadata *md, struct dmh_volume *v, u64 start,
		   u64 end, int tier);

/* md_lock held, no I/O: take a free chunk of @tier (-ENOSPC: none). */
int dmh_md_alloc(struct dmh_metadata *md, unsigned int tier, dmh_ploc_t *p);
/*
 * md_lock held, no I/O: return @p to the allocator at once; for a chunk
 * that was allocated but never mapped nor recorded.
 */
void dmh_md_put_chunk(struct dmh_metadata *md, dmh_ploc_t p);
/* md_lock held, no I/O. */
u64 dmh_md_free_chunks(struct dmh_metadata *md, unsigned int tier);
/*
 * md_lock held, no I/O: set a transient state (or clear it, with @e == 0)
 * without any reverse-map change.  Replacing an existing entry cannot fail.
 */
int dmh_md_set_entry(struct dmh_volume *v, u64 vchunk, u64 e);
/*
 * md_lock held, may sleep in reclaim (GFP_NOIO), no I/O: reserve the index
 * memory that making @p the home of @v's @vchunk needs -- the map slot,
 * @p's reverse-map change and, when @old (the entry @vchunk has now, 0 for
 * none) is a home, its free -- so that neither dmh_md_set_entry() for
 * @vchunk nor dmh_md_map() fails for memory after a first write or a copy
 * started.  -ENOMEM: nothing stays reserved; the caller retries later.
 */
int dmh_md_reserve_map(struct dmh_metadata *md, struct dmh_volume *v,
		       u64 vchunk, dmh_ploc_t p, u64 old);
/*
 * md_lock held, no I/O: give back what dmh_md_reserve_map() with the same
 * arguments reserved and no store used (a change that never happened).
 */
void dmh_md_unreserve_map(struct dmh_metadata *md, struct dmh_volume *v,
			  u64 vchunk, dmh_ploc_t p, u64 old);
/*
 * md_lock held, no I/O: make @p the home of @vchunk; a previous home (a
 * migration's source) is freed in the same transaction.  -EROFS once the
 * metadata is read-only: an aborted transaction takes no new mapping.
 */
int dmh_md_map(struct dmh_metadata *md, struct dmh_volume *v, u64 vchunk,
	       dmh_ploc_t p);
/* md_lock held, no I/O: unmap @vchunk and free its chunk (-EBUSY if busy). */
int dmh_md_unmap(struct dmh_metadata *md, struct dmh_volume *v, u64 vchunk);
/*
 * md_lock held, no I/O: return to the allocator the chunks freed by
 * transactions up to @safe_txid; the caller guarantees those committed and
 * that no bio which looked up their old owner is still in flight.
 */
void dmh_md_reclaim(struct dmh_metadata *md, u64 safe_txid);
/* md_lock held, no I/O: freed chunks not yet reclaimed. */
u64 dmh_md_pending_frees(struct dmh_metadata *md);
/* md_lock held, no I/O: those of @tier. */
u64 dmh_md_frees_of(struct dmh_metadata *md, unsigned int tier);

/* Any context, no locks: the home of @vchunk, 0 when unmapped. */
static inline u64 dmh_lookup(struct dmh_volume *v, u64 vchunk)
{
	void *e = xa_load(&v->map, vchunk);

	return e ? xa_to_value(e) : 0;
}

#if IS_ENABLED(CONFIG_KUNIT)
/* Pure helpers of dm-hybrid-metadata.c, visible to the KUnit suites. */
u32 dmh_block_csum(const void *block, u32 type);
int dmh_pick_copy(const void *b0, const void *b1, u32 type, u64 blocknr,
		  u64 committed);
/* Of dm-hybrid-slog.c: the replay rule over @n records in log order. */
struct dmh_slog_rec;
u64 dmh_slog_replay(struct dmh_slog_rec *recs, u64 n);
#endif

/* md_lock held, no I/O: lifetime migrations to @tier (promotions: SSD). */
u64 dmh_md_moves_to(struct dmh_metadata *md, unsigned int tier);
/* md_lock held, no I/O: a migration to @to_tier was mapped. */
void dmh_md_count_move(struct dmh_metadata *md, unsigned int to_tier);
/* md_lock held, no I/O: pins in the pool, all volumes together. */
unsigned int dmh_md_nr_pins(struct dmh_metadata *md);
/*
 * Heat bytes are saved in a transaction of their own, outside the commit
 * protocol (losing them loses only heat), on a queue of their own: the
 * save allocates its image and writes it without @md_lock, which it takes
 * only to fill the image.  Before the pool is shared.
 */
int dmh_md_heat_start(struct dmh_metadata *md, struct mutex *md_lock);
/* md_lock held, no allocation, no I/O: queue a save of the heat. */
void dmh_md_save_heat(struct dmh_metadata *md);
/* md_lock not held: save the heat now and wait for it. */
void dmh_md_flush_heat(struct dmh_metadata *md);
/*
 * The staging log (pool feature persistent_staging; dm-hybrid-format.h),
 * md_lock held.  A record says that SSD 4 KiB block @where holds the
 * @sectors of block @key (volume id << 40 | 4 KiB block), 0: nothing
 * staged.
 */
struct dmh_slog_rec {
	u64 key;
	u64 where;
	u32 sectors;
	u32 seq;			/* log order, while replaying */
};

/* Has the metadata device a staging log? */
bool dmh_md_slog_present(struct dmh_metadata *md);
/* No I/O: does the log hold no record, in the open transaction? */
bool dmh_md_slog_empty(struct dmh_metadata *md);
/* Records a half of the log holds: at most this many dirty slots. */
u64 dmh_md_slog_half_records(struct dmh_metadata *md);
/* No I/O: do @n more records fit the live half in the open transaction? */
bool dmh_md_slog_fits(struct dmh_metadata *md, u64 n);
/*
 * No I/O: the open transaction starts the other half, forgetting every
 * record appended to it so far; the caller appends a record of each dirty
 * slot next.
 */
void dmh_md_slog_restart(struct dmh_metadata *md);
/*
 * May sleep (the metadata buffer cache, which has a reserve): append @r
 * to the open transaction.  -ENOSPC: the live half is full.
 */
int dmh_md_slog_add(struct dmh_metadata *md, const struct dmh_slog_rec *r);
/* Dirty blocks the last commit before activation recorded, not yet taken. */
u64 dmh_md_slog_pending(struct dmh_metadata *md);
/*
 * Pool creation: hand those records over, sorted by SSD block, one per
 * block (the caller kvfree()s them; NULL when none).
 */
struct dmh_slog_rec *dmh_md_slog_take(struct dmh_metadata *md, u64 *nr);
/*
 * md_lock held, no I/O: take SSD chunk @p from the allocator (a chunk the
 * staging log names): -EBUSY when it is in use, -EINVAL when past the SSD.
 */
int dmh_md_claim(struct dmh_metadata *md, dmh_ploc_t p);

/* md_lock held, no I/O: read (@set false) or replace the tunables. */
void dmh_md_tunables(struct dmh_metadata *md, u32 *t, bool set);

#endif /* DM_HYBRID_MAP_H */
