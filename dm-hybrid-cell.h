/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-hybrid cells and epochs: the in-flight bookkeeping that the bio path
 * (dm-hybrid.c) and the migration engine (dm-hybrid-migrate.c) share.
 *
 * A cell locks one busy chunk (a first write filling it, or a copy to its
 * other tier) and parks the bios that must wait for it; it stands in for
 * dm-bio-prison-v2, whose header the kernel headers package lacks.
 *
 * An epoch counts the bios sent to a data device, so that a chunk freed or
 * copied is reused only once every bio that could still address its old
 * home has ended; it stands in for dm_deferred_set.
 *
 * Neither calls into any other file of the module: owners are woken by
 * queueing the work item they registered at init.
 */
#ifndef DM_HYBRID_CELL_H
#define DM_HYBRID_CELL_H

#include <linux/bio.h>
#include <linux/list.h>
#include <linux/mempool.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "dm-hybrid-map.h"

/* ------------------------------------------------------------- cells */

#define DMH_CELL_ALLOC		0
#define DMH_CELL_MIGRATE	1

/*
 * A busy chunk: a first write filling it (ALLOC) or a copy to its other
 * tier (MIGRATE).  Bios that must wait for it are held here.  @owner is
 * the context of the room that started it (kcopyd callbacks find it
 * there).  Everything but @list and @error is owned by the pool worker.
 */
struct dmh_cell {
	struct list_head list;
	void *owner;
	struct dmh_volume *vol;
	u64 vchunk;
	dmh_ploc_t p;			/* the new home */
	dmh_ploc_t from;		/* MIGRATE: the old home */
	unsigned int kind;
	u32 wb_stamp;			/* MIGRATE: dmh_blk_wb_stamp() at begin */
	u64 gen;			/* MIGRATE: epoch to drain first */
	struct bio *bio;		/* ALLOC: the first write */
	struct bio_list held;
	atomic_t zeroing;		/* ALLOC: kcopyd jobs still running */
	int error;
};

/* The cells of one pool; @released is handed back to the pool worker. */
struct dmh_cells {
	mempool_t pool;
	spinlock_t lock;		/* protects @released */
	struct bio_list released;
	struct workqueue_struct *wq;
	struct work_struct *worker;
};

/*
 * Process context, may block.  @worker on @wq is queued whenever a
 * released cell hands bios back.
 */
int dmh_cells_init(struct dmh_cells *cs, struct workqueue_struct *wq,
		   struct work_struct *worker);
void dmh_cells_exit(struct dmh_cells *cs);

/*
 * Pool worker, md_lock held, never waits for a cell: a cell for @vol's
 * @vchunk, inserted into the volume's cell index so that bios to the chunk
 * find it.  Only the pool worker returns cells, so it must not sleep for
 * one (dm-thin's ensure_next_mapping() is the model): ERR_PTR(-EAGAIN)
 * when every reserved cell is in use, and then the next dmh_cell_put()
 * queues the worker; ERR_PTR(-ENOMEM) when the index has no memory (it may
 * sleep in reclaim, GFP_NOIO).  Either way the caller keeps its bio for a
 * later pass.
 */
struct dmh_cell *dmh_cell_get(struct dmh_cells *cs, struct dmh_volume *vol,
			      u64 vchunk, unsigned int kind, void *owner);

/*
 * Pool worker, md_lock held: undo a dmh_cell_get() whose cell never held
 * a bio.  No wake-up: the caller is the worker, going to wait for memory.
 */
void dmh_cell_cancel(struct dmh_cells *cs, struct dmh_cell *c);

/*
 * Pool worker, md_lock held: unlock the chunk, hand the held bios back to
 * the worker (dmh_cells_take_released()) and free the cell.
 */
void dmh_cell_put(struct dmh_cells *cs, struct dmh_cell *c);

/* Pool worker, md_lock held: the busy cell of @vol's @vchunk, or NULL. */
static inline struct dmh_cell *dmh_cell_find(struct dmh_volume *vol,
					     u64 vchunk)
{
	return xa_load(&vol->cells, vchunk);
}

/* Any context: move the bios of released cells onto @to. */
void dmh_cells_take_released(struct dmh_cells *cs, struct bio_list *to);

/* ------------------------------------------------------------ epochs */

struct dmh_epoch_cnt {
	long n[2];
	unsigned long busy;	/* jiffies spent in flight, all bios */
};

/*
 * Bios are counted in epoch @cur; generation @gen counts flips, and every
 * bio counted before flip number @drained has ended.  @want is the flip
 * someone waits for.  All but the per-CPU counters and @cur/@draining
 * (read locklessly by the bio path) are changed under the pool's md_lock.
 */
struct dmh_epochs {
	unsigned int cur;
	struct dmh_epoch_cnt __percpu *cnt;
	bool draining;
	unsigned long cookie;		/* RCU grace period of the flip */
	u64 gen;
	u64 drained;
	u64 want;
	struct workqueue_struct *wq;
	struct work_struct *worker;	/* queued when a draining epoch empties */
};

/* Process context, may block. */
int dmh_epochs_init(struct dmh_epochs *ep, struct workqueue_struct *wq,
		    struct work_struct *worker);
void dmh_epochs_exit(struct dmh_epochs *ep);

/*
 * Any context, no locks: count a bio in the current epoch; returns the
 * epoch to pass to dmh_epoch_exit().  Called before the bio's chunk is
 * looked up, so that a bio counted in a new epoch sees every unmap made
 * before the flip.
 */
unsigned int dmh_epoch_enter(struct dmh_epochs *ep);

/* Any context (bio completion), no locks. */
void dmh_epoch_exit(struct dmh_epochs *ep, unsigned int e,
		    unsigned long start);

/*
 * Any context: the time the pool's bios spent in flight, in jiffies.  Its
 * growth over an interval, divided by the interval, is the mean number of
 * bios in flight (Little's law).
 */
unsigned long dmh_epoch_busy_time(struct dmh_epochs *ep);

/*
 * md_lock held: the generation whose drain guarantees that every bio which
 * could have seen the state before this call has ended.
 */
u64 dmh_epoch_barrier(struct dmh_epochs *ep);

/* md_lock held: has generation @gen drained? */
static inline bool dmh_epoch_drained(struct dmh_epochs *ep, u64 gen)
{
	return ep->drained >= gen;
}

/* Pool worker, md_lock held: note a drained epoch, if it has. */
void dmh_epoch_update(struct dmh_epochs *ep);

/* Pool worker, md_lock held: start the next flip someone waits for. */
void dmh_epoch_kick(struct dmh_epochs *ep);

#endif /* DM_HYBRID_CELL_H */
