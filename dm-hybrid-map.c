// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid mapping tables: the in-core state that dm-hybrid-metadata.c
 * rebuilds from disk and commits:
 *
 *  - per volume, an xarray from virtual chunk to entry (dm-hybrid-map.h);
 *  - per tier, an allocation bitmap, sized for the tier's capacity so that
 *    growing a data device needs no reallocation;
 *  - the changes of the open transaction: reverse map entries to write
 *    (@pending, keyed by physical chunk) and the dirty blocks per region;
 *  - chunks freed but not yet reusable (@frees, keyed by physical chunk,
 *    valued with the transaction that freed them).  A freed chunk returns
 *    to the allocator only when the pool reports that the transaction is
 *    committed *and* every bio that may still address the chunk has ended
 *    (dmh_md_reclaim()), so neither a power cut nor a late bio can let two
 *    owners share a chunk;
 *  - the volume records with their controls, pins and heat storage.
 *
 * Memory per mapped chunk: the xarray entry, about 9 bytes when a volume's
 * chunks are dense (576-byte nodes of 64 slots), plus one bit per physical
 * chunk of capacity in the allocation bitmaps.
 *
 * Locking: every function here that changes state is called with the pool's
 * metadata mutex held (md_lock); the forward maps are additionally read
 * under RCU by the bio path.  None calls into another room of the module.
 */
#include <linux/blkdev.h>
#include <linux/crc32c.h>
#include <linux/device-mapper.h>
#include <linux/dm-bufio.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <kunit/visibility.h>

#include "dm-hybrid-metadata.h"

static struct dmh_heat *heat_alloc(u64 chunks)
{
	struct dmh_heat *h = kvzalloc(struct_size(h, h, chunks), GFP_KERNEL);

	if (h)
		h->nr = chunks;
	return h;
}

static void heat_free_rcu(struct rcu_head *rcu)
{
	kvfree(container_of(rcu, struct dmh_heat, rcu));
}

/*
 * md_lock held: the bio path may still read the old array under RCU.  No
 * I/O from reclaim: a volume of this pool may be suspended (preresume) or
 * need the worker, which waits for md_lock.
 */
int dmh_vol_resize_heat(struct dmh_volume *v, u64 chunks)
{
	struct dmh_heat *old = rcu_dereference_protected(v->heat, true);
	struct dmh_heat *h;
	unsigned int noio;

	if (old->nr == chunks)
		return 0;
	noio = memalloc_noio_save();
	h = heat_alloc(chunks);
	memalloc_noio_restore(noio);
	if (!h)
		return -ENOMEM;
	memcpy(h->h, old->h, min(old->nr, chunks));
	rcu_assign_pointer(v->heat, h);
	call_rcu(&old->rcu, heat_free_rcu);
	return 0;
}

void dmh_vol_free(struct dmh_volume *v)
{
	xa_destroy(&v->map);
	xa_destroy(&v->cells);
	free_percpu(v->stats);
	kvfree(rcu_dereference_protected(v->heat, true));
	kfree(v);
}

/* The monitor's counters and heat bytes are allocated with the record. */
struct dmh_volume *dmh_vol_alloc(u32 id, unsigned int slot)
{
	struct dmh_volume *v = kzalloc(sizeof(*v), GFP_KERNEL);

	if (!v)
		return NULL;
	v->id = id;
	v->slot = slot;
	v->weight = 100;
	v->priority = 1;
	xa_init(&v->map);
	xa_init(&v->cells);
	RCU_INIT_POINTER(v->heat, heat_alloc(0));
	v->stats = alloc_percpu(struct dmh_vol_stats);
	if (!v->stats || !rcu_access_pointer(v->heat)) {
		dmh_vol_free(v);
		return NULL;
	}
	return v;
}

int dmh_vol_insert(struct dmh_metadata *md, struct dmh_volume *v)
{
	int r = xa_insert(&md->volumes, v->id, v, GFP_KERNEL);

	if (r)
		return r;
	md->slots[v->slot] = v;
	md->nr_volumes++;
	return 0;
}

void dmh_md_mark_vt_dirty(struct dmh_metadata *md, unsigned int slot)
{
	set_bit(slot / DMH_VOLS_PER_BLOCK, md->regions[DMH_REGION_VT].dirty);
	md->dirty = true;
}

/*
 * Pin [start, end) to @tier, or unpin it (@tier < 0).  The new range
 * replaces what it overlaps; a range partly overlapped is cut.
 */
int dmh_pin_splice(struct dmh_volume *v, u64 start, u64 end, int tier)
{
	struct dmh_pin keep[DMH_VOL_MAX_PINS * 2];
	unsigned int i, n = 0;

	if (start >= end)
		return -EINVAL;
	for (i = 0; i < v->nr_pins; i++) {
		struct dmh_pin p = v->pins[i];

		if (p.end <= start || p.start >= end) {
			keep[n++] = p;
			continue;
		}
		if (p.start < start)
			keep[n++] = (struct dmh_pin){ p.start, start, p.tier };
		if (p.end > end)
			keep[n++] = (struct dmh_pin){ end, p.end, p.tier };
	}
	if (tier >= 0)
		keep[n++] = (struct dmh_pin){ start, end, tier };
	if (n > DMH_VOL_MAX_PINS)
		return -ENOSPC;
	memcpy(v->pins, keep, n * sizeof(keep[0]));
	v->nr_pins = n;
	return 0;
}

/* -------------------------------------------------------------- volumes */

struct dmh_volume *dmh_md_volume(struct dmh_metadata *md, u32 id)
{
	return xa_load(&md->volumes, id);
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_volume);

int dmh_md_create_volume(struct dmh_metadata *md, u32 id)
{
	struct dmh_volume *v;
	unsigned int slot, noio;
	int r;

	if (md->read_only)
		return -EROFS;
	if (id > DMH_VOLUME_ID_MAX)
		return -EINVAL;
	if (xa_load(&md->volumes, id))
		return -EEXIST;
	for (slot = 0; slot < DMH_MAX_VOLUMES && md->slots[slot]; slot++)
		;
	if (slot == DMH_MAX_VOLUMES)
		return -ENOSPC;
	/*
	 * md_lock held: reclaim that wrote to a volume of this pool would
	 * wait for the pool worker, which waits for md_lock.
	 */
	noio = memalloc_noio_save();
	v = dmh_vol_alloc(id, slot);
	r = v ? dmh_vol_insert(md, v) : -ENOMEM;
	memalloc_noio_restore(noio);
	if (r) {
		if (v)
			dmh_vol_free(v);
		return r;
	}
	dmh_md_mark_vt_dirty(md, slot);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_create_volume);

static int free_chunk(struct dmh_metadata *md, dmh_ploc_t p)
{
	int r;

	/*
	 * Both stores or neither: a "free" in pending without its frees
	 * entry would commit the chunk as free while the map still points
	 * at it.  Reserving the frees slot first leaves the second store
	 * nothing to allocate.
	 */
	r = xa_reserve(&md->frees, dmh_pkey(p), GFP_NOIO);
	if (r)
		return r;
	r = xa_err(xa_store(&md->pending, dmh_pkey(p), xa_mk_value(0), GFP_NOIO));
	if (r) {
		xa_release(&md->frees, dmh_pkey(p));
		return r;
	}
	xa_store(&md->frees, dmh_pkey(p), xa_mk_value(md->txid + 1), GFP_NOIO);
	set_bit(dmh_ploc_index(p) / DMH_RMAP_PER_BLOCK,
		md->regions[dmh_ploc_tier(p)].dirty);
	md->nr_frees[dmh_ploc_tier(p)]++;
	md->dirty = true;
	return 0;
}

int dmh_md_delete_volume(struct dmh_metadata *md, u32 id)
{
	struct dmh_volume *v = xa_load(&md->volumes, id);
	unsigned long vchunk;
	void *e;
	int r;

	if (!v)
		return -ENOENT;
	if (v->open_count || !xa_empty(&v->cells))
		return -EBUSY;
	if (md->read_only)
		return -EROFS;
	xa_for_each(&v->map, vchunk, e) {
		dmh_ploc_t p = dmh_entry_ploc(xa_to_value(e));

		r = free_chunk(md, p);
		if (r)
			return r;	/* partly freed: still consistent */
		xa_erase(&v->map, vchunk);
		v->nr_chunks[dmh_ploc_tier(p)]--;
	}
	xa_erase(&md->volumes, id);
	md->slots[v->slot] = NULL;
	md->nr_volumes--;
	dmh_md_mark_vt_dirty(md, v->slot);
	dmh_vol_free(v);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_delete_volume);

bool dmh_md_tail_mapped(struct dmh_metadata *md, struct dmh_volume *v,
			sector_t size)
{
	unsigned long first = DIV_ROUND_UP_ULL(size, md->chunk_sectors);

	return xa_find(&v->map, &first, ULONG_MAX, XA_PRESENT);
}

int dmh_md_set_size(struct dmh_metadata *md, struct dmh_volume *v,
		    sector_t size)
{
	if (size == v->size)
		return 0;
	if (md->read_only)
		return -EROFS;
	if (DIV_ROUND_UP_ULL(size, md->chunk_sectors) > DMH_VCHUNK_MAX)
		return -EFBIG;
	if (size < v->size && dmh_md_tail_mapped(md, v, size))
		return -EBUSY;
	if (dmh_vol_resize_heat(v, DIV_ROUND_UP_ULL(size, md->chunk_sectors)))
		return -ENOMEM;
	v->size = size;
	dmh_md_mark_vt_dirty(md, v->slot);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_set_size);

/* ---------------------------------------------------------- allocation */

int dmh_md_alloc(struct dmh_metadata *md, unsigned int tier, dmh_ploc_t *p)
{
	struct dmh_tier *t = &md->tiers[tier];
	unsigned long i;

	if (md->read_only)
		return -EROFS;
	if (t->nr_used >= t->nr_chunks)
		return -ENOSPC;
	i = find_next_zero_bit(t->alloc, t->nr_chunks, t->cursor);
	if (i >= t->nr_chunks)
		i = find_first_zero_bit(t->alloc, t->nr_chunks);
	if (WARN_ON_ONCE(i >= t->nr_chunks))
		return -ENOSPC;
	__set_bit(i, t->alloc);
	t->nr_used++;
	t->cursor = i + 1;
	*p = dmh_ploc(tier, i);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_alloc);

int dmh_md_claim(struct dmh_metadata *md, dmh_ploc_t p)
{
	struct dmh_tier *t = &md->tiers[dmh_ploc_tier(p)];
	u64 i = dmh_ploc_index(p);

	if (i >= t->nr_chunks)
		return -EINVAL;
	if (test_bit(i, t->alloc))
		return -EBUSY;
	__set_bit(i, t->alloc);
	t->nr_used++;
	return 0;
}

/* @p was allocated but never mapped nor recorded: give it straight back. */
void dmh_md_put_chunk(struct dmh_metadata *md, dmh_ploc_t p)
{
	struct dmh_tier *t = &md->tiers[dmh_ploc_tier(p)];

	__clear_bit(dmh_ploc_index(p), t->alloc);
	t->nr_used--;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_put_chunk);

u64 dmh_md_free_chunks(struct dmh_metadata *md, unsigned int tier)
{
	return md->tiers[tier].nr_chunks - md->tiers[tier].nr_used;
}

/* Set a transient state (or clear it, with @e == 0) without any rmap change. */
int dmh_md_set_entry(struct dmh_volume *v, u64 vchunk, u64 e)
{
	if (!e) {
		xa_erase(&v->map, vchunk);
		return 0;
	}
	return xa_err(xa_store(&v->map, vchunk, xa_mk_value(e), GFP_NOIO));
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_set_entry);

static bool is_home(u64 e)
{
	return e && !(e & DMH_E_ALLOC);
}

/*
 * Every index slot that making @p the home of @vchunk stores into, so
 * that the stores cannot fail for memory later.  xa_reserve() leaves a
 * slot that holds an entry as it is, and a reserved slot reads as empty
 * (xa_load(), xa_for_each()), so a commit or an abort in between sees
 * nothing.
 */
int dmh_md_reserve_map(struct dmh_metadata *md, struct dmh_volume *v,
		       u64 vchunk, dmh_ploc_t p, u64 old)
{
	int r;

	r = xa_reserve(&v->map, vchunk, GFP_NOIO);
	if (!r)
		r = xa_reserve(&md->pending, dmh_pkey(p), GFP_NOIO);
	if (!r && is_home(old)) {
		r = xa_reserve(&md->pending,
			       dmh_pkey(dmh_entry_ploc(old)), GFP_NOIO);
		if (!r)
			r = xa_reserve(&md->frees,
				       dmh_pkey(dmh_entry_ploc(old)), GFP_NOIO);
	}
	if (r)
		dmh_md_unreserve_map(md, v, vchunk, p, old);
	return r;
}

/* xa_release() frees a slot only while it is still reserved. */
void dmh_md_unreserve_map(struct dmh_metadata *md, struct dmh_volume *v,
			  u64 vchunk, dmh_ploc_t p, u64 old)
{
	xa_release(&v->map, vchunk);
	xa_release(&md->pending, dmh_pkey(p));
	if (is_home(old)) {
		xa_release(&md->pending, dmh_pkey(dmh_entry_ploc(old)));
		xa_release(&md->frees, dmh_pkey(dmh_entry_ploc(old)));
	}
}

/*
 * Make @p the home of @vchunk.  A previous home (a migration's source) is
 * freed in the same transaction, so the chunk is in exactly one place in
 * every committed state.
 */
int dmh_md_map(struct dmh_metadata *md, struct dmh_volume *v, u64 vchunk,
	       dmh_ploc_t p)
{
	u64 old = dmh_lookup(v, vchunk);
	int r;

	if (md->read_only)
		return -EROFS;
	r = xa_err(xa_store(&md->pending, dmh_pkey(p), dmh_pending_val(v->id, vchunk),
			    GFP_NOIO));
	if (r)
		return r;
	if (is_home(old)) {
		r = free_chunk(md, dmh_entry_ploc(old));
		if (r) {
			xa_erase(&md->pending, dmh_pkey(p));
			return r;
		}
		v->nr_chunks[dmh_ploc_tier(dmh_entry_ploc(old))]--;
	}
	/* The slot exists (the entry was busy), so this store cannot fail. */
	r = dmh_md_set_entry(v, vchunk, dmh_entry(p, 0));
	if (WARN_ON_ONCE(r))
		return r;
	set_bit(dmh_ploc_index(p) / DMH_RMAP_PER_BLOCK,
		md->regions[dmh_ploc_tier(p)].dirty);
	v->nr_chunks[dmh_ploc_tier(p)]++;
	md->dirty = true;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_map);

int dmh_md_unmap(struct dmh_metadata *md, struct dmh_volume *v, u64 vchunk)
{
	u64 e = dmh_lookup(v, vchunk);
	int r;

	if (!e)
		return 0;
	if (e & DMH_E_BUSY)
		return -EBUSY;
	r = free_chunk(md, dmh_entry_ploc(e));
	if (r)
		return r;
	xa_erase(&v->map, vchunk);
	v->nr_chunks[dmh_ploc_tier(dmh_entry_ploc(e))]--;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_unmap);

/*
 * Return to the allocator the chunks freed by transactions up to
 * @safe_txid: the pool guarantees those are committed and that no bio which
 * looked up their old owner is still in flight.
 */
void dmh_md_reclaim(struct dmh_metadata *md, u64 safe_txid)
{
	unsigned long key;
	dmh_ploc_t p;
	void *v;

	xa_for_each(&md->frees, key, v) {
		if (xa_to_value(v) > safe_txid)
			continue;
		xa_erase(&md->frees, key);
		p = (__force dmh_ploc_t)(u64)key;
		dmh_md_put_chunk(md, p);
		md->nr_frees[dmh_ploc_tier(p)]--;
	}
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_reclaim);

u64 dmh_md_pending_frees(struct dmh_metadata *md)
{
	return md->nr_frees[DMH_TIER_SSD] + md->nr_frees[DMH_TIER_HDD];
}

u64 dmh_md_frees_of(struct dmh_metadata *md, unsigned int tier)
{
	return md->nr_frees[tier];
}

u64 dmh_md_txid(struct dmh_metadata *md)
{
	return md->txid;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_txid);

/* Lifetime promotions (@tier SSD) or demotions (@tier HDD). */
u64 dmh_md_moves_to(struct dmh_metadata *md, unsigned int tier)
{
	return tier == DMH_TIER_SSD ? md->promotions : md->demotions;
}

/* A migration to @to_tier was mapped in the open transaction. */
void dmh_md_count_move(struct dmh_metadata *md, unsigned int to_tier)
{
	if (to_tier == DMH_TIER_SSD)
		md->promotions++;
	else
		md->demotions++;
}

int dmh_md_set_controls(struct dmh_metadata *md, struct dmh_volume *v,
			const struct dmh_vol_controls *c)
{
	struct dmh_volume *o;
	unsigned long id;

	if (c->ssd_max && c->ssd_min > c->ssd_max)
		return -EINVAL;
	xa_for_each(&md->volumes, id, o)
		if (o != v && c->name[0] &&
		    !strncmp(o->name, c->name, DMH_NAME_LEN))
			return -EEXIST;
	v->weight = c->weight;
	v->priority = c->priority;
	v->ssd_min = c->ssd_min;
	v->ssd_max = c->ssd_max;
	memcpy(v->name, c->name, DMH_NAME_LEN);
	dmh_md_mark_vt_dirty(md, v->slot);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_set_controls);

/* Pins are kept in the superblock: the next commit writes them. */
int dmh_md_set_pin(struct dmh_metadata *md, struct dmh_volume *v, u64 start,
		   u64 end, int tier)
{
	struct dmh_pin saved[DMH_VOL_MAX_PINS];
	unsigned int nr_saved = v->nr_pins;
	int r;

	memcpy(saved, v->pins, sizeof(saved));
	r = dmh_pin_splice(v, start, end, tier);
	if (!r && dmh_md_nr_pins(md) > DMH_MAX_PINS) {
		memcpy(v->pins, saved, sizeof(saved));
		v->nr_pins = nr_saved;
		r = -ENOSPC;
	}
	if (!r)
		md->dirty = true;
	return r;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_set_pin);

/* Read (@set false) or replace the persistent tunables. */
void dmh_md_tunables(struct dmh_metadata *md, u32 *t, bool set)
{
	if (set) {
		memcpy(md->tunables, t, sizeof(md->tunables));
		md->dirty = true;
	} else {
		memcpy(t, md->tunables, sizeof(md->tunables));
	}
}

/* Iterate volumes: start with *id = 0; NULL at the end. */
struct dmh_volume *dmh_md_next_volume(struct dmh_metadata *md,
				      unsigned long *id)
{
	struct dmh_volume *v = xa_find(&md->volumes, id, ULONG_MAX, XA_PRESENT);

	if (v)
		(*id)++;
	return v;
}

/* Pinned ranges in the pool, all volumes together (md_lock held). */
unsigned int dmh_md_nr_pins(struct dmh_metadata *md)
{
	struct dmh_volume *v;
	unsigned long id;
	unsigned int n = 0;

	xa_for_each(&md->volumes, id, v)
		n += v->nr_pins;
	return n;
}

/* Returns 1 when the pool grew (to commit), 0 when unchanged, or -errno. */
int dmh_md_resize(struct dmh_metadata *md, sector_t ssd_sectors,
		  sector_t hdd_sectors, char **error)
{
	u64 want[DMH_NR_TIERS] = { ssd_sectors >> md->chunk_shift,
				   hdd_sectors >> md->chunk_shift };
	int t;

	for (t = 0; t < DMH_NR_TIERS; t++) {
		if (want[t] < md->tiers[t].nr_chunks) {
			*error = t ? "HDD device shrank; shrinking a pool is not supported" :
				     "SSD device shrank; shrinking a pool is not supported";
			return -EINVAL;
		}
		if (want[t] > md->tiers[t].capacity) {
			*error = "Metadata device too small to grow the pool this far";
			return -ENOSPC;
		}
	}
	if (want[0] == md->tiers[0].nr_chunks && want[1] == md->tiers[1].nr_chunks)
		return 0;
	if (md->read_only) {
		*error = "Cannot grow a read-only pool";
		return -EROFS;
	}
	for (t = 0; t < DMH_NR_TIERS; t++)
		md->tiers[t].nr_chunks = want[t];
	md->dirty = true;
	return 1;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_resize);

void dmh_md_usage(struct dmh_metadata *md, struct dmh_md_usage *u)
{
	int t;

	u->txid = md->txid;
	u->md_total = md->layout.md_blocks;
	u->md_used = dmh_layout_need(md->tiers[0].nr_chunks,
				     md->tiers[1].nr_chunks);
	for (t = 0; t < DMH_NR_TIERS; t++) {
		u->used[t] = md->tiers[t].nr_used;
		u->total[t] = md->tiers[t].nr_chunks;
	}
	u->nr_volumes = md->nr_volumes;
	u->needs_check = md->sb_flags & DMH_SB_NEEDS_CHECK;
	u->slog_used = md->slog.used;
	u->slog_half = md->layout.slog_blocks / 2;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_usage);
