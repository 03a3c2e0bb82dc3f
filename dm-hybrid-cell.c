// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid cells and epochs (see dm-hybrid-cell.h).
 *
 * Epochs: a freed chunk may still be the target of a bio that looked it up
 * before it was unmapped.  Every bio sent to a data device is counted in the
 * current epoch (two per-CPU counters).  A barrier flips the epoch; the old
 * one has drained once an RCU grace period passed (map() looks chunks up
 * under RCU) and its counters sum to zero.
 */
#include <linux/err.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>

#include "dm-hybrid-cell.h"

#define MIN_CELLS		64

/* ------------------------------------------------------------- cells */

int dmh_cells_init(struct dmh_cells *cs, struct workqueue_struct *wq,
		   struct work_struct *worker)
{
	spin_lock_init(&cs->lock);
	bio_list_init(&cs->released);
	cs->wq = wq;
	cs->worker = worker;
	return mempool_init_kmalloc_pool(&cs->pool, MIN_CELLS,
					 sizeof(struct dmh_cell));
}

void dmh_cells_exit(struct dmh_cells *cs)
{
	mempool_exit(&cs->pool);
}

struct dmh_cell *dmh_cell_get(struct dmh_cells *cs, struct dmh_volume *vol,
			      u64 vchunk, unsigned int kind, void *owner)
{
	struct dmh_cell *c = mempool_alloc(&cs->pool, GFP_NOWAIT);

	if (!c)
		return ERR_PTR(-EAGAIN);
	*c = (struct dmh_cell) { .owner = owner, .vol = vol,
				 .vchunk = vchunk, .kind = kind };
	bio_list_init(&c->held);
	if (xa_err(xa_store(&vol->cells, vchunk, c, GFP_NOIO))) {
		mempool_free(c, &cs->pool);
		return ERR_PTR(-ENOMEM);
	}
	return c;
}

void dmh_cell_cancel(struct dmh_cells *cs, struct dmh_cell *c)
{
	xa_erase(&c->vol->cells, c->vchunk);
	mempool_free(c, &cs->pool);
}

void dmh_cell_put(struct dmh_cells *cs, struct dmh_cell *c)
{
	unsigned long flags;

	spin_lock_irqsave(&cs->lock, flags);
	bio_list_merge(&cs->released, &c->held);
	spin_unlock_irqrestore(&cs->lock, flags);
	dmh_cell_cancel(cs, c);
	queue_work(cs->wq, cs->worker);
}

void dmh_cells_take_released(struct dmh_cells *cs, struct bio_list *to)
{
	unsigned long flags;

	spin_lock_irqsave(&cs->lock, flags);
	bio_list_merge(to, &cs->released);
	bio_list_init(&cs->released);
	spin_unlock_irqrestore(&cs->lock, flags);
}

/* ------------------------------------------------------------ epochs */

int dmh_epochs_init(struct dmh_epochs *ep, struct workqueue_struct *wq,
		    struct work_struct *worker)
{
	ep->cnt = alloc_percpu(struct dmh_epoch_cnt);
	ep->wq = wq;
	ep->worker = worker;
	return ep->cnt ? 0 : -ENOMEM;
}

void dmh_epochs_exit(struct dmh_epochs *ep)
{
	free_percpu(ep->cnt);
}

/*
 * The acquire pairs with the release in flip(): a bio counted in the new
 * epoch sees every unmap made before the flip, so only bios of the old
 * epoch can still address a freed chunk.
 */
unsigned int dmh_epoch_enter(struct dmh_epochs *ep)
{
	unsigned int e;

	rcu_read_lock();
	/* Pairs with smp_store_release() in flip(). */
	e = smp_load_acquire(&ep->cur);
	this_cpu_inc(ep->cnt->n[e]);
	rcu_read_unlock();
	return e;
}

void dmh_epoch_exit(struct dmh_epochs *ep, unsigned int e,
		    unsigned long start)
{
	this_cpu_dec(ep->cnt->n[e]);
	this_cpu_add(ep->cnt->busy, jiffies - start);
	if (unlikely(READ_ONCE(ep->draining)))
		queue_work(ep->wq, ep->worker);
}

static long inflight(struct dmh_epochs *ep, unsigned int e)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(ep->cnt, cpu)->n[e]);
	return sum;
}

unsigned long dmh_epoch_busy_time(struct dmh_epochs *ep)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(ep->cnt, cpu)->busy);
	return sum;
}

/* md_lock held: close the current epoch and start draining it. */
static void flip(struct dmh_epochs *ep)
{
	/* Orders earlier unmaps and state changes before the flip. */
	smp_store_release(&ep->cur, !ep->cur);
	ep->gen++;
	ep->cookie = start_poll_synchronize_rcu();
	WRITE_ONCE(ep->draining, true);
}

/*
 * If an epoch is draining already, bios that saw the state may sit in the
 * current one, so it is the next flip that counts.
 */
u64 dmh_epoch_barrier(struct dmh_epochs *ep)
{
	u64 g = ep->gen + 1;

	ep->want = max(ep->want, g);
	if (!ep->draining)
		flip(ep);
	return g;
}

void dmh_epoch_update(struct dmh_epochs *ep)
{
	if (ep->draining && poll_state_synchronize_rcu(ep->cookie) &&
	    !inflight(ep, !ep->cur)) {
		WRITE_ONCE(ep->draining, false);
		ep->drained = ep->gen;
	}
}

void dmh_epoch_kick(struct dmh_epochs *ep)
{
	if (!ep->draining && ep->want > ep->gen)
		flip(ep);
}
