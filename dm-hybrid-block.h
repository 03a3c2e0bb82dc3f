/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-hybrid block tier (dm-hybrid-block.c): 4 KiB blocks of HDD-resident
 * chunks kept on the SSD, the first slice of the fine-grained fast tier
 * (Documentation/fast-tier-design.rst, "From the lab to the kernel").
 *
 * A slot holds a copy of one block of an HDD-resident chunk: reads that
 * fall inside the block are served from the SSD.  A write or discard to
 * the block takes a clean slot out of service before it is issued, so the
 * HDD keeps the current bytes; with write staging (pool feature
 * write_staging) a small write to a valid slot goes to the slot instead,
 * which then holds the only current copy (dirty) until a writeback copies
 * it to the HDD: at a flush, before the volume suspends, before its chunk
 * migrates, when another bio needs the HDD copy, or past a dirty share.
 * Without persistent_staging nothing here is persisted: dirty slots are
 * volatile, as a disk's write cache is, and a flush returns only once they
 * reached the HDD.  With it, every commit records the dirty slots in the
 * staging log (dm-hybrid-slog.c), and activation puts them back.  The
 * slots live in SSD chunks taken from the allocator and never recorded in
 * the reverse map, so a crash or a deactivation forgets the clean ones.
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

#define DMH_BLK_SECTORS		8	/* 4 KiB: see dm-hybrid.rst */
#define DMH_BLK_SHIFT		3

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
	bool persist;			/* persistent_staging */
};

struct dmh_blk_stats {
	u64 slots;		/* slots in the tier */
	u64 valid;		/* slots holding a current copy */
	u64 fills;		/* copies made since activation */
	u64 hits;		/* reads served from a slot */
	u64 dirty;		/* slots holding bytes the HDD lacks */
	u64 writebacks;		/* slot copies to the HDD */
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
/*
 * Takes no lock, may sleep: stop admitting and background writebacks,
 * wait for the fills and writebacks in flight.
 */
void dmh_blk_suspend(struct dmh_blk *blk);
/* Takes no lock: admit again. */
void dmh_blk_resume(struct dmh_blk *blk);
/* Any context, a racy read: the slots @v holds (its share: dm-hybrid.rst). */
u64 dmh_blk_vol_slots(struct dmh_blk *blk, struct dmh_volume *v);

/* What dmh_blk_map() tells the bio path. */
enum dmh_blk_route {
	DMH_BLK_HOME,		/* issue it to its chunk's home, as mapped */
	DMH_BLK_SLOT,		/* issue it to the slot at *ssd_sector */
	DMH_BLK_WAIT,		/* a dirty slot overlaps it: see below */
	DMH_BLK_TAKEN,		/* the tier took it: a fill from the read */
};

#define DMH_BLK_STAGE	BIT(0)	/* a write may be staged */
#define DMH_BLK_NOTE	BIT(1)	/* a miss counts for admission */
#define DMH_BLK_SPLIT	BIT(2)	/* the caller may split the bio */
#define DMH_BLK_FILL	BIT(3)	/* a read miss may fill a slot itself */

/*
 * Any context, no sleeping: @bio of @v (its sector still the volume's),
 * counted in the current epoch before its chunk was looked up, goes to
 * the HDD chunk @home.  A read inside one block whose slot is valid, and
 * with DMH_BLK_STAGE a plain write inside one block whose slot is valid,
 * get DMH_BLK_SLOT (a staged write of a block without a slot takes a
 * free one, valid only where it writes; a plain write of up to four
 * blocks is split a block at a time first).  Any other write or discard takes the
 * clean slots it overlaps out of service first.  DMH_BLK_WAIT: a dirty
 * slot overlaps a bio that cannot use it (it spans blocks, is FUA or a
 * discard, or staging is off); the bio must not reach the HDD before
 * dmh_blk_sync_range() and the writeback it asks for.  A read that spans
 * blocks, or the valid and the missing sectors of a dirty slot, may
 * instead be split: *@ssd_sector is then the part to take first; with
 * DMH_BLK_SPLIT, a small read is split around every slot in its range,
 * so that each block's part goes to its own home.  With DMH_BLK_FILL and
 * DMH_BLK_NOTE, a read inside one block that has no slot may fill a free
 * one: DMH_BLK_TAKEN, the tier reads the block from the HDD and completes
 * @bio itself; the caller must not touch it.  Any write to the HDD that
 * could reach DMH_BLK_HOME counts in @v->blk_hddw, with a full barrier,
 * before this is called, and from then until it ends if it went home.
 */
enum dmh_blk_route dmh_blk_map(struct dmh_blk *blk, struct dmh_volume *v,
			       struct bio *bio, dmh_ploc_t home,
			       unsigned int flags, sector_t *ssd_sector,
			       u64 *cookie);
/*
 * Any context (the end of a write that dmh_blk_map() gave a non-zero
 * *@cookie): the sectors it wrote first in its slot now hold its bytes.
 */
void dmh_blk_write_done(struct dmh_blk *blk, u64 cookie, bool error);
/*
 * Pool worker, md_lock held: @v flushes now.  Without persistent_staging
 * this asks for the writeback of @v's dirty slots (dmh_blk_sync()), and a
 * volume whose flushes come less than a second apart stages none of its
 * writes for 10 s: each flush would write its staged blocks back at once,
 * an SSD write, a copy and an epoch barrier more than the write to the
 * HDD it saves.  With it, nothing: the flush's commit records them.
 */
void dmh_blk_flushed(struct dmh_blk *blk, struct dmh_volume *v);
/*
 * Any context: ask for the writeback of every dirty slot of @v (NULL:
 * of every volume) / of @v's [@sector, +@len).  dmh_blk_pending() stays
 * non-zero until each has been copied to the HDD by a copy begun after
 * this call.
 */
void dmh_blk_sync(struct dmh_blk *blk, struct dmh_volume *v);
void dmh_blk_sync_range(struct dmh_blk *blk, struct dmh_volume *v,
			sector_t sector, unsigned int len);
/* Any context: writebacks asked for and not yet done. */
u64 dmh_blk_pending(struct dmh_blk *blk);
/*
 * Pool worker: did a writeback of @v's dirty slots asked for fail since
 * @v's last flush began (dmh_blk_flushed())?  Other volumes' failures are
 * theirs: each flush of a batch that shares a commit asks about its own.
 */
bool dmh_blk_wb_failed(struct dmh_blk *blk, struct dmh_volume *v);
/*
 * Pool worker, md_lock held: a stamp of the writebacks failed so far, and
 * did the writeback of a dirty slot of @v in [@sector, +@len) fail after
 * @stamp?  A bio that waits for those slots (DMH_BLK_WAIT), or a
 * migration of their chunk, notes a stamp when it begins to wait: a
 * region of the HDD may fail every writeback, and the bio or migration
 * must then fail rather than wait for ever.  The slots stay dirty and are
 * written back once the HDD takes them.
 */
u32 dmh_blk_wb_stamp(struct dmh_blk *blk);
bool dmh_blk_wb_failed_since(struct dmh_blk *blk, struct dmh_volume *v,
			     sector_t sector, unsigned int len, u32 stamp);
/*
 * Pool worker, md_lock held: the SSD is dead (pool->ssd_failed).  No
 * writeback begins again and dmh_blk_pending() is 0 from now on.
 */
void dmh_blk_ssd_dead(struct dmh_blk *blk);
/*
 * Process context, takes no lock, may sleep (a volume's postsuspend):
 * write every dirty slot of @v back to the HDD and wait for it.  -EIO:
 * some could not be (they stay dirty, and are retried; on a dead SSD,
 * never).
 */
int dmh_blk_writeback_volume(struct dmh_blk *blk, struct dmh_volume *v);
/*
 * Pool worker, md_lock held, the chunk's writes held: true once no slot
 * of @v's @vchunk is dirty or being written back; else asks for the
 * writeback and is true on a later call.
 */
bool dmh_blk_chunk_clean(struct dmh_blk *blk, struct dmh_volume *v,
			 u64 vchunk);
/*
 * md_lock held, no I/O: forget every slot of @v's @vchunk (its home is
 * about to change or go), dirty ones too / of @v (about to be deleted) /
 * the clean slots of every volume (the pool leaves rw mode; nothing is
 * admitted after it, and dirty slots stay until written back).
 */
void dmh_blk_drop_chunk(struct dmh_blk *blk, struct dmh_volume *v,
			u64 vchunk);
void dmh_blk_drop_volume(struct dmh_blk *blk, struct dmh_volume *v);
/* md_lock held, no I/O: forget @v's slots from @sector on (a shrink). */
void dmh_blk_drop_beyond(struct dmh_blk *blk, struct dmh_volume *v,
			 sector_t sector);
void dmh_blk_drop_all(struct dmh_blk *blk);
/*
 * Pool worker, md_lock held, no I/O, at every pass while the SSD is
 * evacuated (the policy's knob evacuate; nothing is admitted meanwhile):
 * forget the misses noted and drop every clean slot.  The caller asks for
 * the writeback of the dirty ones (dmh_blk_sync()), dropped once clean.
 */
void dmh_blk_evacuate(struct dmh_blk *blk);
/*
 * md_lock held, the tier suspended and holding nothing (an evacuated
 * pool's SSD is replaced): its slots are on @bdev from now on, at the
 * same offsets.
 */
void dmh_blk_set_ssd(struct dmh_blk *blk, struct block_device *bdev);
/*
 * Pool worker, md_lock held: admit, start and finish fills and writebacks,
 * reuse slots; with @staging, keep free slots for writes.  True when a
 * writeback ended or a dirty slot went: bios that waited may go.
 */
bool dmh_blk_process(struct dmh_blk *blk, bool staging);
/*
 * persistent_staging: the staging log's part of a commit (dm-hybrid-stage.c,
 * "The staging log").  Pool worker, md_lock held, before the commit
 * flushes the data devices: append to the open transaction a record of
 * each slot that changed since the last commit (-errno: the commit must
 * not go on).  After the commit, @ok if it succeeded: what it recorded
 * is what the log says now.
 */
int dmh_blk_log(struct dmh_blk *blk);
void dmh_blk_logged(struct dmh_blk *blk, bool ok);
/* Any context: does the tier record its dirty slots (persistent_staging)? */
bool dmh_blk_persistent(struct dmh_blk *blk);
/*
 * Any context, racy: do slots owe the log records?  The periodic commit
 * records them too, so that slots the log holds are not kept from reuse.
 */
bool dmh_blk_log_due(struct dmh_blk *blk);

/* Any context: counters, for status. */
void dmh_blk_get_stats(struct dmh_blk *blk, struct dmh_blk_stats *st);

#endif /* DM_HYBRID_BLOCK_H */
