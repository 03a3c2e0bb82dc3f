/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private to the map room (dm-hybrid-map.c, the in-core tables,
 * dm-hybrid-metadata.c, their on-disk form, and dm-hybrid-slog.c, the
 * staging log): the metadata object and the helpers the files share.  No
 * other file includes this header.
 */
#ifndef DM_HYBRID_METADATA_H
#define DM_HYBRID_METADATA_H

#include <linux/crc32c.h>
#include <linux/dm-bufio.h>
#include <linux/workqueue.h>

#include "dm-hybrid-map.h"

enum dmh_region_id {
	DMH_REGION_RMAP_SSD = DMH_TIER_SSD,
	DMH_REGION_RMAP_HDD = DMH_TIER_HDD,
	DMH_REGION_VT,
	DMH_NR_REGIONS,
};

/* A two-copy region: which copy of each block is live, and which changed. */
struct dmh_region {
	u64 start;
	u64 blocks;
	u32 type;
	unsigned long *live;	/* bit set: copy 1 is live */
	unsigned long *dirty;	/* to rewrite in the open transaction */
};

struct dmh_tier {
	u64 nr_chunks;		/* usable now (data device size) */
	u64 committed;		/* nr_chunks as of the last commit */
	u64 capacity;		/* what the reverse map has room for */
	u64 nr_used;		/* allocated, quarantined frees included */
	u64 cursor;		/* next-fit hint */
	unsigned long *alloc;
};

/* The staging log (dm-hybrid-slog.c). */
struct dmh_slog {
	u64 used;			/* as committed: blocks of the live half */
	u64 base;
	u32 half;
	u64 next_used;			/* the same, in the open transaction */
	u64 next_base;
	u32 next_half;
	struct dm_buffer *buf;		/* the block being filled, if any */
	void *data;
	unsigned int n;			/* records in it */
	struct dmh_slog_rec *recs;	/* replayed, until the tier takes them */
	u64 nr_recs;
};

struct dmh_metadata {
	struct block_device *bdev;
	struct dm_bufio_client *bufio;
	struct dmh_layout layout;
	struct dmh_region regions[DMH_NR_REGIONS];
	struct dmh_tier tiers[DMH_NR_TIERS];
	u32 chunk_sectors;
	unsigned int chunk_shift;
	u64 txid;			/* last committed transaction */
	u32 sb_flags;
	u8 uuid[16];
	bool read_only;
	bool dirty;
	struct xarray volumes;		/* id -> struct dmh_volume */
	struct dmh_volume **slots;	/* volume table slot -> volume */
	u32 nr_volumes;
	struct xarray pending;		/* pchunk key -> reverse map value */
	struct xarray frees;		/* pchunk key -> freeing txid */
	u64 nr_frees[DMH_NR_TIERS];	/* per tier, in frees */
	u64 promotions;
	u64 demotions;
	u32 tunables[DMH_NR_TUNABLES];
	struct dm_bufio_client *heat_bufio;	/* heat saves, their own */
	struct workqueue_struct *heat_wq;	/* ditto */
	struct work_struct heat_work;
	struct mutex *heat_lock;		/* md_lock, to fill the image */
	struct dmh_slog slog;
};

/* crc32c of a metadata block after its csum field, salted with its type. */
static inline u32 dmh_csum(const void *block, u32 type)
{
	return crc32c(DMH_CSUM_SEED, (const u8 *)block + 4,
		      DMH_BLOCK_SIZE - 4) ^ type;
}

/*
 * The staging log's part of loading and committing (dm-hybrid-slog.c),
 * md_lock held or the pool not shared yet.  Load the live half of the log
 * of superblock @s and replay it (-EINVAL: a block is damaged or forged);
 * seal the block being filled into the open transaction; write the log's
 * state of the open transaction into @s; the open transaction committed /
 * was abandoned; free what the log holds.
 */
int dmh_slog_load(struct dmh_metadata *md, const struct dmh_disk_super *s);
void dmh_slog_seal(struct dmh_metadata *md);
void dmh_slog_encode(struct dmh_metadata *md, struct dmh_disk_super *s);
void dmh_slog_committed(struct dmh_metadata *md);
void dmh_slog_abort(struct dmh_metadata *md);
void dmh_slog_free(struct dmh_metadata *md);

/* Keys of @pending and @frees: the physical chunk itself. */
static inline unsigned long dmh_pkey(dmh_ploc_t p)
{
	return (__force u64)p;
}

/*
 * Values of @pending: 0 frees the chunk; an owner is stored as its packed
 * reverse map entry without the "used" bit, plus one.
 */
static inline void *dmh_pending_val(u32 vol, u64 vchunk)
{
	return xa_mk_value((dmh_rmap_pack(vol, vchunk) & ~DMH_RMAP_USED) + 1);
}

static inline u64 dmh_pending_to_rmap(void *v)
{
	u64 x = xa_to_value(v);

	return x ? (x - 1) | DMH_RMAP_USED : 0;
}

/* dm-hybrid-map.c, md_lock held or before the pool is shared. */

/* A volume record with its monitor storage (no heat bytes yet). */
struct dmh_volume *dmh_vol_alloc(u32 id, unsigned int slot);
void dmh_vol_free(struct dmh_volume *v);
/* Enter @v into the volume index and its slot. */
int dmh_vol_insert(struct dmh_metadata *md, struct dmh_volume *v);
/* Size the heat storage for @chunks virtual chunks (RCU-safe). */
int dmh_vol_resize_heat(struct dmh_volume *v, u64 chunks);
/* The volume table block of @slot changed. */
void dmh_md_mark_vt_dirty(struct dmh_metadata *md, unsigned int slot);
/* Pin [start, end) to @tier or unpin it (@tier < 0), per volume limits. */
int dmh_pin_splice(struct dmh_volume *v, u64 start, u64 end, int tier);

#endif /* DM_HYBRID_METADATA_H */
