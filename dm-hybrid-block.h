/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-hybrid block tier (dm-hybrid-block.c): 16 KiB blocks of HDD-resident
 * chunks kept on the SSD, the first slice of the fine-grained fast tier
 * (Documentation/fast-tier-design.rst, "From the lab to the kernel").
 *
 * A slot holds a clean copy of one block of an HDD-resident chunk: reads
 * that fall inside the block are served from the SSD, and a write (or a
 * discard) to the block invalidates the slot before it is issued, so the
 * HDD always holds the current bytes and nothing here is persisted.  The
 * slots live in SSD chunks taken from the allocator and never recorded in
 * the reverse map, so a crash or a deactivation simply forgets them.
 *
 * Called by the bio path (dm-hybrid-io.c), the targets (dm-hybrid.c) and
 * the copy engine (dm-hybrid-migrate.c); calls the map room and the epochs
 * of dm-hybrid-cell.c only.
 */
#ifndef DM_HYBRID_BLOCK_H
#define DM_HYBRID_BLOCK_H

#include <linux/blk_types.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "dm-hybrid-cell.h"

#define DMH_BLK_SECTORS		32	/* 16 KiB, chosen in the lab */
#define DMH_BLK_SHIFT		5

struct dmh_blk;
struct dm_kcopyd_client;
struct block_device;

/* What the block tier needs from its pool. */
struct dmh_blk_env {
	struct dmh_metadata *md;
	struct dmh_policy *policy;	/* the fill rate: migration_rate */
	struct dmh_epochs *epochs;
	struct dm_kcopyd_client *kc;
	struct block_device *bdev[DMH_NR_TIERS];
	u32 chunk_sectors;
	struct workqueue_struct *wq;
	struct work_struct *worker;	/* queued when a fill ended */
};

struct dmh_blk_stats {
	u64 slots;		/* slots in the tier */
	u64 valid;		/* slots holding a current copy */
	u64 fills;		/* copies made since activation */
	u64 hits;		/* reads served from a slot */
};

/*
 * Pool creation, md_lock held, rw mode, no I/O: a tier of up to @mib MiB
 * of the SSD's free chunks (fewer when the SSD has less free), suspended.
 * NULL: no tier (@mib 0, or no free SSD chunk); ERR_PTR(-ENOMEM).
 * Every dmh_blk_*() below accepts a NULL tier and then does nothing.
 */
struct dmh_blk *dmh_blk_create(const struct dmh_blk_env *env, u32 mib);
/* Pool teardown, after dmh_blk_suspend(); md_lock held. */
void dmh_blk_destroy(struct dmh_blk *blk);
/* Takes no lock, may sleep: stop admitting, wait for the fills in flight. */
void dmh_blk_suspend(struct dmh_blk *blk);
/* Takes no lock: admit again. */
void dmh_blk_resume(struct dmh_blk *blk);

/*
 * Any context, under RCU, no sleeping (map()): the bio, counted in the
 * current epoch before its chunk was looked up, is a read of @v at
 * @sector whose chunk's home is the HDD chunk @home.  True: it is served
 * by the slot at *@ssd_sector.  False: a miss, noted for admission.
 */
bool dmh_blk_read(struct dmh_blk *blk, struct dmh_volume *v,
		  sector_t sector, unsigned int sectors, dmh_ploc_t home,
		  bool stream, sector_t *ssd_sector);
/*
 * Any context, no sleeping: a write or discard of @v's [@sector, +@len)
 * is about to be issued (counted in the current epoch): invalidate every
 * slot it overlaps.
 */
void dmh_blk_write(struct dmh_blk *blk, struct dmh_volume *v,
		   sector_t sector, unsigned int len);
/*
 * md_lock held, no I/O: forget every slot of @v's @vchunk (its home is
 * about to change or go) / of @v (about to be deleted) / of every volume
 * (the pool leaves rw mode; nothing is admitted after it).
 */
void dmh_blk_drop_chunk(struct dmh_blk *blk, struct dmh_volume *v,
			u64 vchunk);
void dmh_blk_drop_volume(struct dmh_blk *blk, struct dmh_volume *v);
void dmh_blk_drop_all(struct dmh_blk *blk);
/* Pool worker, md_lock held: admit, start and finish fills, reuse slots. */
void dmh_blk_process(struct dmh_blk *blk);
/* Any context: counters, for status. */
void dmh_blk_get_stats(struct dmh_blk *blk, struct dmh_blk_stats *st);

#endif /* DM_HYBRID_BLOCK_H */
