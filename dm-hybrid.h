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

/* Per-volume counters, per CPU: written on the hot path without locks. */
struct dmh_vol_stats {
	u64 ios[2];		/* [0] read, [1] write */
	u64 sectors[2];
	u64 tier_ios[DMH_NR_TIERS];
};

/*
 * An in-core volume.  The map is read under RCU by the bio path; all other
 * fields change only with the metadata lock held (struct dmh_pool::md_lock)
 * and are read locklessly for status.
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
u32 dmh_md_chunk_sectors(struct dmh_metadata *md);

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

/* dm-hybrid-monitor.c */
int dmh_mon_init_volume(struct dmh_volume *v);
void dmh_mon_exit_volume(struct dmh_volume *v);
void dmh_mon_account(struct dmh_volume *v, struct bio *bio);
void dmh_mon_tier(struct dmh_volume *v, unsigned int tier);
void dmh_mon_sum(struct dmh_volume *v, struct dmh_vol_stats *sum);
unsigned int dmh_policy_first_tier(struct dmh_volume *v, u64 free_ssd);

#endif /* DM_HYBRID_H */
