/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-hybrid private interfaces, grouped by the file that defines them.
 *
 * dm-hybrid.c          targets, bio path, worker, epochs
 * dm-hybrid-map.c      mapping table, allocators, on-disk metadata
 * dm-hybrid-monitor.c  per-volume statistics and placement policy
 */
#ifndef DM_HYBRID_H
#define DM_HYBRID_H

#include <linux/bits.h>
#include <linux/blk_types.h>
#include <linux/mempool.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/bio.h>
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
 * all other fields change only with the metadata lock held (struct
 * dmh_pool::md_lock) and are read locklessly for status.
 */
struct dmh_volume {
	u32 id;
	unsigned int slot;		/* record slot in the volume table */
	sector_t size;			/* sectors */
	struct xarray map;		/* vchunk -> entry */
	struct xarray cells;		/* vchunk -> struct dmh_cell, worker */
	u64 nr_chunks[DMH_NR_TIERS];	/* mapped chunks per tier */
	unsigned int open_count;	/* bound hybrid targets */
	u32 weight;
	u32 priority;
	u64 ssd_min;
	u64 ssd_max;
	char name[DMH_NAME_LEN];
	struct dmh_pin pins[DMH_VOL_MAX_PINS];
	unsigned int nr_pins;
	u64 ssd_pending;		/* first writes and promotions under way */
	u64 ssd_leaving;		/* demotions under way */
	u64 promotions;
	u64 demotions;
	struct dmh_heat __rcu *heat;
	struct dmh_stream stream;
	struct dmh_vol_stats __percpu *stats;
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
};

struct dmh_metadata;

/* dm-hybrid-map.c: all may block; "locked" means md_lock held. */
struct dmh_metadata *dmh_md_open(struct block_device *bdev,
				 u32 chunk_sectors, sector_t ssd_sectors,
				 sector_t hdd_sectors, bool read_only,
				 char **error);
void dmh_md_close(struct dmh_metadata *md);
int dmh_md_commit(struct dmh_metadata *md);
bool dmh_md_dirty(struct dmh_metadata *md);
void dmh_md_set_read_only(struct dmh_metadata *md);
u64 dmh_md_txid(struct dmh_metadata *md);
int dmh_md_resize(struct dmh_metadata *md, sector_t ssd_sectors,
		  sector_t hdd_sectors, char **error);
void dmh_md_usage(struct dmh_metadata *md, struct dmh_md_usage *u);

struct dmh_volume *dmh_md_volume(struct dmh_metadata *md, u32 id);
int dmh_md_create_volume(struct dmh_metadata *md, u32 id);
int dmh_md_delete_volume(struct dmh_metadata *md, u32 id);
int dmh_md_set_size(struct dmh_metadata *md, struct dmh_volume *v,
		    sector_t size);
bool dmh_md_tail_mapped(struct dmh_metadata *md, struct dmh_volume *v,
			sector_t size);

int dmh_md_alloc(struct dmh_metadata *md, unsigned int tier, dmh_ploc_t *p);
void dmh_md_abort_alloc(struct dmh_metadata *md, dmh_ploc_t p);
u64 dmh_md_free_chunks(struct dmh_metadata *md, unsigned int tier);
int dmh_md_set_entry(struct dmh_volume *v, u64 vchunk, u64 e);
int dmh_md_map(struct dmh_metadata *md, struct dmh_volume *v, u64 vchunk,
	       dmh_ploc_t p);
int dmh_md_unmap(struct dmh_metadata *md, struct dmh_volume *v, u64 vchunk);
void dmh_md_reclaim(struct dmh_metadata *md, u64 safe_txid);
u64 dmh_md_pending_frees(struct dmh_metadata *md);

/* Lockless lookup for the bio path; returns 0 when unmapped. */
static inline u64 dmh_lookup(struct dmh_volume *v, u64 vchunk)
{
	void *e = xa_load(&v->map, vchunk);

	return e ? xa_to_value(e) : 0;
}

#if IS_ENABLED(CONFIG_KUNIT)
/* Pure helpers of dm-hybrid-map.c, visible to the KUnit suites. */
u32 dmh_block_csum(const void *block, u32 type);
int dmh_pick_copy(const void *b0, const void *b1, u32 type, u64 blocknr,
		  u64 committed);
#endif

u64 dmh_md_promotions(struct dmh_metadata *md, unsigned int tier);
void dmh_md_count_move(struct dmh_metadata *md, unsigned int to_tier);
void dmh_md_volume_changed(struct dmh_metadata *md, struct dmh_volume *v);
void dmh_md_pins_changed(struct dmh_metadata *md);
unsigned int dmh_md_nr_pins(struct dmh_metadata *md);
int dmh_md_save_heat(struct dmh_metadata *md);
void dmh_md_tunables(struct dmh_metadata *md, u32 *t, bool set);
struct dmh_volume *dmh_md_next_volume(struct dmh_metadata *md,
				      unsigned long *id);

/* Pool knobs; see Documentation/dm-hybrid.rst, "Tuning". */
struct dmh_knobs {
	bool migration;
	u32 rate;		/* MiB/s, 0 = unlimited */
	u32 hysteresis;
	u32 half_life;		/* seconds */
	u64 reserve;		/* SSD chunks */
	u32 seq_cutoff;		/* KiB */
	u32 promote;		/* promote threshold */
	u32 tick_ms;
	u32 heat_save;		/* seconds between heat saves */
	u32 promote_free;	/* promote threshold into free space */
};

/* A migration the policy asks for. */
struct dmh_move {
	struct dmh_volume *vol;
	u64 vchunk;
	unsigned int to;	/* destination tier */
	u32 score;		/* effective heat, for ordering */
	bool forced;		/* pinned elsewhere, or its volume over its cap */
	bool free_only;		/* below promote: free space only, no swap */
};

/*
 * A policy pass over every mapped chunk, which may span several ticks so
 * that no tick holds md_lock for a scan of the whole pool.  The lists hold
 * volume pointers: any volume deletion resets the pass (dmh_scan_reset()).
 */
struct dmh_scan {
	unsigned long vol;		/* volume id the pass resumes at */
	unsigned long vchunk;		/* and virtual chunk */
	bool running;
	struct dmh_move *buf;		/* two lists of PLAN_CANDS moves */
	unsigned int npro, nvic, max;
};

/* dm-hybrid-monitor.c */
int dmh_mon_init_volume(struct dmh_volume *v, u64 chunks);
void dmh_mon_exit_volume(struct dmh_volume *v);
int dmh_mon_resize(struct dmh_volume *v, u64 chunks);
bool dmh_mon_account(struct dmh_volume *v, struct bio *bio, u64 vchunk,
		     u32 seq_cutoff_sectors);
void dmh_mon_tier(struct dmh_volume *v, unsigned int tier);
void dmh_mon_sum(struct dmh_volume *v, struct dmh_vol_stats *sum);
void dmh_mon_decay(struct dmh_volume *v);
u8 dmh_mon_heat(struct dmh_volume *v, u64 vchunk);
void dmh_mon_set_heat(struct dmh_volume *v, u64 vchunk, u8 h);
int dmh_pin_of(struct dmh_volume *v, u64 vchunk);
int dmh_mon_set_pin(struct dmh_volume *v, u64 start, u64 end, int tier);
unsigned int dmh_policy_first_tier(struct dmh_volume *v, u64 vchunk,
				   bool stream, u64 free_ssd,
				   const struct dmh_knobs *k);
unsigned int dmh_policy_plan(struct dmh_metadata *md,
			     const struct dmh_knobs *k, u64 free_ssd,
			     struct dmh_move *moves, unsigned int max);
int dmh_scan_init(struct dmh_scan *s);
void dmh_scan_exit(struct dmh_scan *s);
void dmh_scan_reset(struct dmh_scan *s);
unsigned int dmh_policy_step(struct dmh_metadata *md, struct dmh_scan *s,
			     const struct dmh_knobs *k, u64 free_ssd,
			     struct dmh_move *moves, unsigned int max,
			     u64 budget);
int dmh_mon_placement_map(struct dmh_volume *v, u32 chunk_sectors,
			  unsigned int buckets, char *result,
			  unsigned int maxlen);

/* ------------------------------------------------------------------------
 * Shared by dm-hybrid.c (targets, bio path) and dm-hybrid-migrate.c.
 */

enum dmh_mode { DMH_MODE_RW, DMH_MODE_RO, DMH_MODE_FAIL };

struct dmh_epoch_cnt {
	long n[2];
	unsigned long busy;	/* jiffies spent in flight, all bios */
};

struct pool_c;
struct dm_kcopyd_client;

/* The pool object, shared by the pool's tables (reloads) and its volumes. */
struct dmh_pool {
	struct list_head list;		/* on dmh_pools, under dmh_pools_lock */
	unsigned int ref;		/* under dmh_pools_lock */
	struct mapped_device *pool_md;
	dev_t md_dev;
	struct pool_c *pc;		/* the bound (live) table */
	struct dm_target *ti;
	struct block_device *bdev[DMH_NR_TIERS];
	u32 chunk_sectors;
	unsigned int chunk_shift;
	unsigned int features;
	bool passdown[DMH_NR_TIERS];
	enum dmh_mode mode;

	struct mutex md_lock;		/* serialises metadata changes */
	struct dmh_metadata *md;
	struct dmh_knobs knobs;		/* md_lock */
	struct dmh_scan scan;		/* md_lock */

	struct workqueue_struct *wq;
	struct work_struct worker;
	struct delayed_work waker;
	struct dm_kcopyd_client *kc;
	mempool_t cell_pool;

	spinlock_t lock;		/* protects the lists below */
	struct bio_list deferred;
	struct bio_list flush_bios;
	struct bio_list alloc_done;
	struct bio_list commit_waiters;
	struct list_head zeroed;
	struct list_head copied;	/* migrations whose copy ended */
	bool commit_due;

	/* Worker only (md_lock held). */
	struct bio_list no_space;
	bool out_of_space;

	/*
	 * Epochs (dm-hybrid.c): bios are counted in epoch @epoch; generation
	 * @epoch_gen counts flips, and every bio counted before flip number
	 * @drained_gen has ended.  @want_gen is the flip someone waits for.
	 */
	unsigned int epoch;
	struct dmh_epoch_cnt __percpu *ecnt;
	bool draining;
	unsigned long drain_cookie;
	u64 epoch_gen;
	u64 drained_gen;
	u64 want_gen;
	u64 reclaim_txid;		/* frees up to here ... */
	u64 reclaim_gen;		/* ... once this generation drained */

	/* Migration (dm-hybrid-migrate.c), md_lock unless atomic. */
	struct delayed_work mig_tick;
	struct list_head mig_wait;	/* cells waiting for a drain */
	atomic_t mig_inflight;
	bool mig_stop;
	u64 mig_queued;
	u64 mig_done;
	u64 mig_sectors;
	s64 mig_tokens;			/* sectors the rate allows now */
	unsigned long mig_stamp;
	unsigned long mig_busy;		/* dmh_busy_time() at mig_stamp */
	u64 mig_backoffs;		/* ticks slowed by foreground load */
	unsigned long next_decay;
	unsigned long next_heat_save;
};

#define DMH_CELL_ALLOC		0
#define DMH_CELL_MIGRATE	1

/*
 * A busy chunk: a first write filling it (ALLOC) or a copy to its other
 * tier (MIGRATE).  Bios that must wait for it are held here.
 */
struct dmh_cell {
	struct list_head list;
	struct dmh_pool *pool;
	struct dmh_volume *vol;
	u64 vchunk;
	dmh_ploc_t p;			/* the new home */
	dmh_ploc_t from;		/* MIGRATE: the old home */
	unsigned int kind;
	u64 gen;			/* MIGRATE: epoch to drain first */
	struct bio *bio;		/* ALLOC: the first write */
	struct bio_list held;
	atomic_t zeroing;		/* ALLOC: kcopyd jobs still running */
	int error;
};

/* dm-hybrid.c */
void dmh_wake_worker(struct dmh_pool *pool);
void dmh_release_cell(struct dmh_pool *pool, struct dmh_cell *c);
u64 dmh_epoch_barrier(struct dmh_pool *pool);
unsigned long dmh_busy_time(struct dmh_pool *pool);

/* dm-hybrid-migrate.c */
void dmh_mig_init(struct dmh_pool *pool);
void dmh_mig_tick(struct work_struct *ws);
void dmh_mig_process(struct dmh_pool *pool);
void dmh_mig_stop(struct dmh_pool *pool);
void dmh_mig_start(struct dmh_pool *pool);
void dmh_knobs_load(struct dmh_pool *pool);
int dmh_knob_set(struct dmh_pool *pool, const char *name, const char *val);
int dmh_mig_switch(struct dmh_pool *pool, bool on);
void dmh_knobs_emit(struct dmh_pool *pool, char *result, unsigned int maxlen,
		    unsigned int *szp);

#endif /* DM_HYBRID_H */
