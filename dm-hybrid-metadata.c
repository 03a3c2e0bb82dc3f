// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid on-disk metadata: every on-disk byte (see dm-hybrid-format.h
 * for the layout and the commit protocol): the volume table, the reverse
 * maps, the superblock with the pins and tunables, and the heat blocks;
 * formatting, loading (which rebuilds the in-core tables of
 * dm-hybrid-map.c) and the two-copy commit.
 *
 * Locking: every function here is called with the pool's metadata mutex
 * held (md_lock), or before the pool is shared, but the heat queue's own
 * work, which takes md_lock itself.  All may block.
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

/* ---------------------------------------------------------------- blocks */

VISIBLE_IF_KUNIT u32 dmh_block_csum(const void *block, u32 type)
{
	return dmh_csum(block, type);
}
EXPORT_SYMBOL_IF_KUNIT(dmh_block_csum);

static bool block_is_zero(const void *b)
{
	return !memchr_inv(b, 0, DMH_BLOCK_SIZE);
}

enum dmh_copy { DMH_COPY_ZERO, DMH_COPY_BAD, DMH_COPY_FUTURE, DMH_COPY_OK };

static enum dmh_copy copy_state(const void *b, u32 type, u64 blocknr,
				u64 committed)
{
	const struct dmh_disk_block_header *h = b;

	if (block_is_zero(b))
		return DMH_COPY_ZERO;
	if (le32_to_cpu(h->csum) != dmh_block_csum(b, type) ||
	    le32_to_cpu(h->type) != type || le64_to_cpu(h->blocknr) != blocknr)
		return DMH_COPY_BAD;
	if (le64_to_cpu(h->txid) > committed)
		return DMH_COPY_FUTURE;
	return DMH_COPY_OK;
}

/*
 * Which copy of a two-copy block is live: the valid one with the highest
 * transaction id not above @committed.  -ENODATA when no transaction ever
 * committed the block (copies are zero, torn or from an uncommitted
 * transaction), -EIO when the block is corrupt.
 */
VISIBLE_IF_KUNIT int dmh_pick_copy(const void *b0, const void *b1, u32 type,
				   u64 blocknr, u64 committed)
{
	const struct dmh_disk_block_header *h0 = b0, *h1 = b1;
	enum dmh_copy s0 = copy_state(b0, type, blocknr, committed);
	enum dmh_copy s1 = copy_state(b1, type, blocknr, committed);

	if (s0 == DMH_COPY_OK && s1 == DMH_COPY_OK)
		return le64_to_cpu(h1->txid) > le64_to_cpu(h0->txid);
	if (s0 == DMH_COPY_OK)
		return 0;
	if (s1 == DMH_COPY_OK)
		return 1;
	if (s0 == DMH_COPY_BAD && s1 == DMH_COPY_BAD)
		return -EIO;
	return -ENODATA;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_pick_copy);

static void seal_block(void *b, u32 type, u64 txid, u64 blocknr)
{
	struct dmh_disk_block_header *h = b;

	h->type = cpu_to_le32(type);
	h->txid = cpu_to_le64(txid);
	h->blocknr = cpu_to_le64(blocknr);
	h->reserved = 0;
	h->csum = cpu_to_le32(dmh_block_csum(b, type));
}

/* --------------------------------------------------------- volume table */

static void encode_volume(const struct dmh_volume *v,
			  struct dmh_disk_volume *d)
{
	memset(d, 0, sizeof(*d));
	d->id = cpu_to_le32(v->id);
	d->flags = cpu_to_le32(DMH_VOL_IN_USE);
	d->size_sectors = cpu_to_le64(v->size);
	d->weight = cpu_to_le32(v->weight);
	d->priority = cpu_to_le32(v->priority);
	d->ssd_min = cpu_to_le64(v->ssd_min);
	d->ssd_max = cpu_to_le64(v->ssd_max);
	memcpy(d->name, v->name, DMH_NAME_LEN);
}

static void decode_volume(const struct dmh_disk_volume *d,
			  struct dmh_volume *v)
{
	v->id = le32_to_cpu(d->id);
	v->size = le64_to_cpu(d->size_sectors);
	v->weight = le32_to_cpu(d->weight);
	v->priority = le32_to_cpu(d->priority);
	v->ssd_min = le64_to_cpu(d->ssd_min);
	v->ssd_max = le64_to_cpu(d->ssd_max);
	memcpy(v->name, d->name, DMH_NAME_LEN);
}

/* ------------------------------------------------------------- regions */

static int region_init(struct dmh_region *r, u64 start, u64 blocks, u32 type)
{
	r->start = start;
	r->blocks = blocks;
	r->type = type;
	r->live = bitmap_zalloc(blocks, GFP_KERNEL);
	r->dirty = bitmap_zalloc(blocks, GFP_KERNEL);
	return r->live && r->dirty ? 0 : -ENOMEM;
}

static void region_exit(struct dmh_region *r)
{
	bitmap_free(r->live);
	bitmap_free(r->dirty);
}

static int tier_init(struct dmh_tier *t, u64 nr_chunks, u64 capacity)
{
	t->nr_chunks = nr_chunks;
	t->committed = nr_chunks;
	t->capacity = capacity;
	t->alloc = kvcalloc(BITS_TO_LONGS(capacity), sizeof(long), GFP_KERNEL);
	return t->alloc ? 0 : -ENOMEM;
}

static int md_init_tables(struct dmh_metadata *md, u64 ssd_chunks,
			  u64 hdd_chunks)
{
	struct dmh_layout *l = &md->layout;
	int t, r;

	r = region_init(&md->regions[DMH_REGION_VT], l->vt_start,
			l->vt_blocks, DMH_BT_VOLUMES);
	for (t = 0; t < DMH_NR_TIERS && !r; t++)
		r = region_init(&md->regions[t], l->rmap_start[t],
				l->rmap_blocks[t], DMH_BT_RMAP);
	if (!r)
		r = tier_init(&md->tiers[DMH_TIER_SSD], ssd_chunks,
			      l->rmap_blocks[DMH_TIER_SSD] * DMH_RMAP_PER_BLOCK);
	if (!r)
		r = tier_init(&md->tiers[DMH_TIER_HDD], hdd_chunks,
			      l->rmap_blocks[DMH_TIER_HDD] * DMH_RMAP_PER_BLOCK);
	return r;
}

/* ----------------------------------------------------------- superblock */

static u64 vol_chunks(struct dmh_metadata *md, const struct dmh_volume *v)
{
	return DIV_ROUND_UP_ULL(v->size, md->chunk_sectors);
}

/*
 * Pins of all volumes into the superblock block; returns how many.  A
 * volume shrunk under a pin keeps the pin in core (a later grow finds it
 * again), but the superblock records only the part inside the volume, as
 * decode_pins() requires.
 */
static unsigned int encode_pins(struct dmh_metadata *md,
				struct dmh_disk_pin *d)
{
	struct dmh_volume *v;
	unsigned long id;
	unsigned int n = 0, i;
	u64 end;

	xa_for_each(&md->volumes, id, v) {
		for (i = 0; i < v->nr_pins && n < DMH_MAX_PINS; i++) {
			end = min(v->pins[i].end, vol_chunks(md, v));
			if (v->pins[i].start >= end)
				continue;
			d[n].vol = cpu_to_le32(v->id);
			d[n].tier = cpu_to_le32(v->pins[i].tier);
			d[n].start = cpu_to_le64(v->pins[i].start);
			d[n++].end = cpu_to_le64(end);
		}
	}
	return n;
}

/* Pins as hybrid_check judges them: a known tier, inside a volume. */
static int decode_pins(struct dmh_metadata *md, const void *block)
{
	const struct dmh_disk_super *s = block;
	const struct dmh_disk_pin *d = block + DMH_PINS_OFFSET;
	unsigned int n = le32_to_cpu(s->nr_pins), i;
	struct dmh_volume *v;

	if (n > DMH_MAX_PINS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		v = xa_load(&md->volumes, le32_to_cpu(d[i].vol));
		if (!v || le32_to_cpu(d[i].tier) > DMH_PIN_HDD ||
		    le64_to_cpu(d[i].end) > vol_chunks(md, v) ||
		    dmh_pin_splice(v, le64_to_cpu(d[i].start),
				   le64_to_cpu(d[i].end),
				   le32_to_cpu(d[i].tier)))
			return -EINVAL;
	}
	return 0;
}

static void encode_super(struct dmh_metadata *md, struct dmh_disk_super *s,
			 u64 txid)
{
	struct dmh_layout *l = &md->layout;
	int t;

	s->magic = cpu_to_le32(DMH_MAGIC);
	s->version = cpu_to_le32(DMH_VERSION);
	s->flags = cpu_to_le32(md->sb_flags);
	s->txid = cpu_to_le64(txid);
	memcpy(s->uuid, md->uuid, sizeof(s->uuid));
	s->block_size = cpu_to_le32(DMH_BLOCK_SIZE);
	s->chunk_sectors = cpu_to_le32(md->chunk_sectors);
	s->md_blocks = cpu_to_le64(l->md_blocks);
	s->ssd_sectors = cpu_to_le64(md->tiers[0].nr_chunks << md->chunk_shift);
	s->hdd_sectors = cpu_to_le64(md->tiers[1].nr_chunks << md->chunk_shift);
	s->vt_start = cpu_to_le64(l->vt_start);
	s->vt_blocks = cpu_to_le64(l->vt_blocks);
	for (t = 0; t < DMH_NR_TIERS; t++) {
		s->rmap_start[t] = cpu_to_le64(l->rmap_start[t]);
		s->rmap_blocks[t] = cpu_to_le64(l->rmap_blocks[t]);
	}
	s->heat_start = cpu_to_le64(l->heat_start);
	s->heat_blocks = cpu_to_le64(l->heat_blocks);
	s->nr_volumes = cpu_to_le32(md->nr_volumes);
	s->promotions = cpu_to_le64(md->promotions);
	s->demotions = cpu_to_le64(md->demotions);
	for (t = 0; t < DMH_NR_TUNABLES; t++)
		s->tunables[t] = cpu_to_le32(md->tunables[t]);
	s->nr_pins = cpu_to_le32(encode_pins(md, (void *)s + DMH_PINS_OFFSET));
	dmh_slog_encode(md, s);
}

static bool super_valid(const void *b)
{
	const struct dmh_disk_super *s = b;

	return le32_to_cpu(s->magic) == DMH_MAGIC &&
	       le32_to_cpu(s->csum) == dmh_block_csum(b, DMH_BT_SUPER);
}

/* The layout recorded in a superblock must lie inside the device, in order. */
static int write_super(struct dmh_metadata *md, u64 txid)
{
	struct dm_buffer *buf;
	void *b;
	int r;

	b = dm_bufio_new(md->bufio, txid & 1, &buf);
	if (IS_ERR(b))
		return PTR_ERR(b);
	memset(b, 0, DMH_BLOCK_SIZE);
	encode_super(md, b, txid);
	((struct dmh_disk_super *)b)->csum =
		cpu_to_le32(dmh_block_csum(b, DMH_BT_SUPER));
	dm_bufio_mark_buffer_dirty(buf);
	dm_bufio_release(buf);
	r = dm_bufio_write_dirty_buffers(md->bufio);
	return r ? r : dm_bufio_issue_flush(md->bufio);
}

/* --------------------------------------------------------------- commit */

/* Rewrite reverse map block @b of @tier into its spare copy. */
static int write_rmap_block(struct dmh_metadata *md, unsigned int tier, u64 b,
			    u64 txid)
{
	struct dmh_region *rg = &md->regions[tier];
	unsigned int live = test_bit(b, rg->live);
	unsigned long first = dmh_pkey(dmh_ploc(tier, b * DMH_RMAP_PER_BLOCK));
	unsigned long idx = first;
	struct dm_buffer *sbuf, *dbuf;
	__le64 *ent;
	void *src, *dst, *v;

	src = dm_bufio_read(md->bufio, dmh_slot_block(rg->start, b, live), &sbuf);
	if (IS_ERR(src))
		return PTR_ERR(src);
	dst = dm_bufio_new(md->bufio, dmh_slot_block(rg->start, b, !live), &dbuf);
	if (IS_ERR(dst)) {
		dm_bufio_release(sbuf);
		return PTR_ERR(dst);
	}
	memcpy(dst, src, DMH_BLOCK_SIZE);
	dm_bufio_release(sbuf);
	ent = dst + DMH_HDR_SIZE;
	xa_for_each_range(&md->pending, idx, v, first,
			  first + DMH_RMAP_PER_BLOCK - 1)
		ent[idx - first] = cpu_to_le64(dmh_pending_to_rmap(v));
	seal_block(dst, DMH_BT_RMAP, txid, b);
	dm_bufio_mark_buffer_dirty(dbuf);
	dm_bufio_release(dbuf);
	return 0;
}

static int write_vt_block(struct dmh_metadata *md, u64 b, u64 txid)
{
	struct dmh_region *rg = &md->regions[DMH_REGION_VT];
	unsigned int j, live = test_bit(b, rg->live);
	struct dmh_disk_volume *rec;
	struct dm_buffer *buf;
	void *dst;

	dst = dm_bufio_new(md->bufio, dmh_slot_block(rg->start, b, !live), &buf);
	if (IS_ERR(dst))
		return PTR_ERR(dst);
	memset(dst, 0, DMH_BLOCK_SIZE);
	rec = dst + DMH_HDR_SIZE;
	for (j = 0; j < DMH_VOLS_PER_BLOCK; j++) {
		struct dmh_volume *v = md->slots[b * DMH_VOLS_PER_BLOCK + j];

		if (v)
			encode_volume(v, &rec[j]);
	}
	seal_block(dst, DMH_BT_VOLUMES, txid, b);
	dm_bufio_mark_buffer_dirty(buf);
	dm_bufio_release(buf);
	return 0;
}

static int write_region(struct dmh_metadata *md, enum dmh_region_id id,
			u64 txid)
{
	struct dmh_region *rg = &md->regions[id];
	unsigned long b;
	int r;

	for_each_set_bit(b, rg->dirty, rg->blocks) {
		if (id == DMH_REGION_VT)
			r = write_vt_block(md, b, txid);
		else
			r = write_rmap_block(md, id, b, txid);
		if (r)
			return r;
	}
	return 0;
}

/* The transaction is on disk: its copies become the live ones. */
static void commit_done(struct dmh_metadata *md, u64 txid)
{
	unsigned long b, idx;
	void *v;
	int i;

	for (i = 0; i < DMH_NR_REGIONS; i++) {
		struct dmh_region *rg = &md->regions[i];

		for_each_set_bit(b, rg->dirty, rg->blocks)
			change_bit(b, rg->live);
		bitmap_zero(rg->dirty, rg->blocks);
	}
	xa_for_each(&md->pending, idx, v)
		xa_erase(&md->pending, idx);
	for (i = 0; i < DMH_NR_TIERS; i++)
		md->tiers[i].committed = md->tiers[i].nr_chunks;
	dmh_slog_committed(md);
	md->txid = txid;
	md->dirty = false;
}

/*
 * Commit the open transaction.  The caller has flushed the data devices, so
 * no committed mapping can point at data still in a volatile cache.
 *
 *  1. write every changed block into its spare copy, stamped txid + 1;
 *  2. flush, so that all of them are durable;
 *  3. write the superblock copy for txid + 1, and flush.
 *
 * Until step 3 completes the previous transaction stays whole on disk.
 */
int dmh_md_commit(struct dmh_metadata *md)
{
	u64 txid = md->txid + 1;
	int i, r;

	if (!md->dirty)
		return 0;
	if (md->read_only)
		return -EROFS;
	for (i = 0; i < DMH_NR_REGIONS; i++) {
		r = write_region(md, i, txid);
		if (r)
			return r;
	}
	dmh_slog_seal(md);
	r = dm_bufio_write_dirty_buffers(md->bufio);
	if (!r)
		r = dm_bufio_issue_flush(md->bufio);
	if (!r)
		r = write_super(md, txid);
	if (r)
		return r;
	commit_done(md, txid);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_commit);

bool dmh_md_dirty(struct dmh_metadata *md)
{
	return md->dirty;
}

void dmh_md_set_read_only(struct dmh_metadata *md)
{
	md->read_only = true;
}

/* The committed reverse map entry of @p (0: no owner, or unreadable). */
static u64 committed_rmap(struct dmh_metadata *md, dmh_ploc_t p)
{
	struct dmh_region *rg = &md->regions[dmh_ploc_tier(p)];
	u64 b = dmh_ploc_index(p) / DMH_RMAP_PER_BLOCK;
	const __le64 *ent;
	struct dm_buffer *buf;
	void *d;
	u64 e = 0;

	d = dm_bufio_read(md->bufio,
			  dmh_slot_block(rg->start, b, test_bit(b, rg->live)),
			  &buf);
	if (IS_ERR(d))
		return 0;
	ent = d + DMH_HDR_SIZE;
	if (copy_state(d, rg->type, b, md->txid) == DMH_COPY_OK)
		e = le64_to_cpu(ent[dmh_ploc_index(p) % DMH_RMAP_PER_BLOCK]);
	dm_bufio_release(buf);
	return e;
}

/* Abort: @p became @rmap's home in the open transaction; unmap it. */
static void abort_map(struct dmh_metadata *md, dmh_ploc_t p, u64 rmap)
{
	struct dmh_volume *v = xa_load(&md->volumes, dmh_rmap_vol(rmap));
	u64 vchunk = dmh_rmap_vchunk(rmap);
	u64 e;

	if (!v)
		return;
	e = dmh_lookup(v, vchunk);
	if (!e || (e & DMH_E_ALLOC) || dmh_entry_ploc(e) != p)
		return;
	xa_erase(&v->map, vchunk);
	v->nr_chunks[dmh_ploc_tier(p)]--;
}

/*
 * Abort: the open transaction freed @p; give it back to its committed
 * owner if that chunk has no other home now.  Its data is intact: a freed
 * chunk is not reused before its transaction commits.
 */
static void abort_free(struct dmh_metadata *md, dmh_ploc_t p)
{
	u64 rmap = committed_rmap(md, p);
	struct dmh_volume *v;
	u64 vchunk;

	if (!(rmap & DMH_RMAP_USED))
		return;
	v = xa_load(&md->volumes, dmh_rmap_vol(rmap));
	vchunk = dmh_rmap_vchunk(rmap);
	if (!v || vchunk >= vol_chunks(md, v) ||
	    dmh_lookup(v, vchunk) ||
	    dmh_md_set_entry(v, vchunk, dmh_entry(p, 0)))
		return;
	v->nr_chunks[dmh_ploc_tier(p)]++;
	xa_erase(&md->frees, dmh_pkey(p));
	md->nr_frees[dmh_ploc_tier(p)]--;
}

/*
 * The open transaction will never commit: a data-device flush before it,
 * or the commit itself, failed.  As dm-thin aborts its transaction, put
 * the forward maps back to the last committed state: a chunk mapped since
 * (a first write, a migration's destination) loses its mapping, since its
 * data -- or the zeroing that hides a previous owner's data -- may never
 * have reached the media; a chunk freed since returns to its committed
 * owner; a grow of the data devices is undone.  Volume records, pins and
 * tunables stay as they are (they expose no data); the transaction stays
 * dirty, so nothing commits it later.
 */
void dmh_md_abort(struct dmh_metadata *md)
{
	unsigned long key;
	void *val;
	int t;

	md->read_only = true;
	dmh_slog_abort(md);
	/* Only a grow changes nr_chunks, and nothing was allocated since. */
	for (t = 0; t < DMH_NR_TIERS; t++)
		md->tiers[t].nr_chunks = md->tiers[t].committed;
	xa_for_each(&md->pending, key, val)
		if (xa_to_value(val))
			abort_map(md, (__force dmh_ploc_t)(u64)key,
				  dmh_pending_to_rmap(val));
	xa_for_each(&md->pending, key, val)
		if (!xa_to_value(val))
			abort_free(md, (__force dmh_ploc_t)(u64)key);
}

/* ---------------------------------------------------------------- heat */

/*
 * Heat survives a clean shutdown and, as of the last save, a crash: one
 * byte per physical chunk, one copy, written in place (a torn block only
 * loses heat).  Pools beyond DMH_HEAT_MAX_CHUNKS of capacity do not keep
 * heat across activations (the image is built in memory).
 */
#define DMH_HEAT_MAX_CHUNKS	(16u << 20)

/*
 * Up to 16 MiB, allocated without md_lock (by the heat queue, or before
 * the pool is shared), but without I/O too: the pool's postsuspend waits
 * for a save while the pool's volumes may be suspended, and reclaim must
 * not wait for their writes.
 */
static u8 *heat_image(struct dmh_metadata *md)
{
	u64 cap = md->tiers[0].capacity + md->tiers[1].capacity;
	unsigned int noio;
	u8 *img;

	if (cap > DMH_HEAT_MAX_CHUNKS)
		return NULL;
	noio = memalloc_noio_save();
	img = kvzalloc(md->layout.heat_blocks * DMH_HEAT_PER_BLOCK, GFP_KERNEL);
	memalloc_noio_restore(noio);
	return img;
}

static u64 heat_slot(struct dmh_metadata *md, u64 e)
{
	dmh_ploc_t p = dmh_entry_ploc(e);

	return dmh_heat_index(&md->layout, dmh_ploc_tier(p), dmh_ploc_index(p));
}

/* md_lock held, no allocation, no I/O: the heat of every mapped chunk. */
static void heat_fill(struct dmh_metadata *md, u8 *img)
{
	struct dmh_volume *v;
	unsigned long id, vchunk;
	void *e;

	xa_for_each(&md->volumes, id, v)
		xa_for_each(&v->map, vchunk, e)
			if (!(xa_to_value(e) & DMH_E_ALLOC))
				img[heat_slot(md, xa_to_value(e))] =
					dmh_heat_get(v, vchunk);
}

/*
 * md_lock not held: the heat blocks stand outside the commit protocol, and
 * have a dm-bufio client of their own.  With the commit's client, this
 * write would also write the open transaction's blocks, and could take
 * the error of one of them (dm-bufio keeps one per client) from the
 * commit, which would then write its superblock over a failed block.
 */
static int heat_write(struct dmh_metadata *md, const u8 *img, u64 txid)
{
	struct dm_buffer *buf;
	void *b;
	u64 i;

	for (i = 0; i < md->layout.heat_blocks; i++) {
		b = dm_bufio_new(md->heat_bufio, md->layout.heat_start + i,
				 &buf);
		if (IS_ERR(b))
			return PTR_ERR(b);
		memcpy(b + DMH_HDR_SIZE, img + i * DMH_HEAT_PER_BLOCK,
		       DMH_HEAT_PER_BLOCK);
		seal_block(b, DMH_BT_HEAT, txid, i);
		dm_bufio_mark_buffer_dirty(buf);
		dm_bufio_release(buf);
	}
	return dm_bufio_write_dirty_buffers(md->heat_bufio);
}

/* The heat queue: md_lock is held only to fill the image. */
static void heat_save_work(struct work_struct *ws)
{
	struct dmh_metadata *md = container_of(ws, struct dmh_metadata,
					       heat_work);
	u8 *img = heat_image(md);
	bool rw;
	u64 txid;

	if (!img)
		return;
	mutex_lock(md->heat_lock);
	rw = !md->read_only;
	if (rw)
		heat_fill(md, img);
	txid = md->txid;
	mutex_unlock(md->heat_lock);
	if (rw && heat_write(md, img, txid))
		DMERR_LIMIT("cannot save the heat (it is only lost)");
	kvfree(img);
}

/* Not a WQ_MEM_RECLAIM queue: nothing that frees memory waits for heat. */
int dmh_md_heat_start(struct dmh_metadata *md, struct mutex *md_lock)
{
	struct dm_bufio_client *c;

	c = dm_bufio_client_create(md->bdev, DMH_BLOCK_SIZE, 1, 0, NULL,
				   NULL, 0);
	if (IS_ERR(c))
		return PTR_ERR(c);
	md->heat_bufio = c;
	md->heat_lock = md_lock;
	INIT_WORK(&md->heat_work, heat_save_work);
	md->heat_wq = alloc_ordered_workqueue("dm-hybrid-heat", 0);
	return md->heat_wq ? 0 : -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_heat_start);

void dmh_md_save_heat(struct dmh_metadata *md)
{
	if (md->heat_wq)
		queue_work(md->heat_wq, &md->heat_work);
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_save_heat);

void dmh_md_flush_heat(struct dmh_metadata *md)
{
	dmh_md_save_heat(md);
	if (md->heat_wq)
		flush_work(&md->heat_work);
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_flush_heat);

/*
 * Metadata blocks read ahead at a time while loading: 256 region blocks
 * (both copies, 2 MiB) or 256 heat blocks.  One prefetch of a whole region
 * outgrows dm-bufio's cache on a large pool, the read-ahead is evicted
 * before it is used and every block becomes a synchronous read (198 s for
 * the 1.2 GiB of metadata of 4 TiB + 64 TiB); a window stays cached.
 */
#define DMH_LOAD_WINDOW 256

/*
 * Called for every @i-th of @n items of @per blocks each, from block @first:
 * at the start, read windows 0 and 1; at each window boundary, the next one.
 */
static void load_prefetch(struct dmh_metadata *md, sector_t first, u64 i,
			  u64 n, unsigned int per)
{
	u64 from = i ? i + DMH_LOAD_WINDOW : 0;
	u64 end = min(i + 2 * DMH_LOAD_WINDOW, n);

	if (i % DMH_LOAD_WINDOW || from >= end)
		return;
	dm_bufio_prefetch(md->bufio, first + from * per, (end - from) * per);
}

/* At activation, after the maps are rebuilt. */
static void load_heat(struct dmh_metadata *md)
{
	u8 *img = heat_image(md);
	struct dmh_volume *v;
	struct dm_buffer *buf;
	unsigned long id, vchunk;
	void *e, *b;
	u64 i;

	if (!img)
		return;
	for (i = 0; i < md->layout.heat_blocks; i++) {
		load_prefetch(md, md->layout.heat_start, i,
			      md->layout.heat_blocks, 1);
		b = dm_bufio_read(md->bufio, md->layout.heat_start + i, &buf);
		if (IS_ERR(b))
			continue;
		if (le32_to_cpu(((struct dmh_disk_block_header *)b)->csum) ==
		    dmh_block_csum(b, DMH_BT_HEAT))
			memcpy(img + i * DMH_HEAT_PER_BLOCK, b + DMH_HDR_SIZE,
			       DMH_HEAT_PER_BLOCK);
		dm_bufio_release(buf);
	}
	xa_for_each(&md->volumes, id, v)
		xa_for_each(&v->map, vchunk, e)
			dmh_heat_set(v, vchunk,
				     img[heat_slot(md, xa_to_value(e))]);
	kvfree(img);
}

/* ------------------------------------------------------------- loading */

static int load_vt_block(struct dmh_metadata *md, u64 b, const void *data)
{
	const struct dmh_disk_volume *rec = data + DMH_HDR_SIZE;
	struct dmh_volume *v;
	unsigned int j, slot;
	int r;

	for (j = 0; j < DMH_VOLS_PER_BLOCK; j++) {
		if (!(le32_to_cpu(rec[j].flags) & DMH_VOL_IN_USE))
			continue;
		slot = b * DMH_VOLS_PER_BLOCK + j;
		v = dmh_vol_alloc(0, slot);
		if (!v)
			return -ENOMEM;
		decode_volume(&rec[j], v);
		r = v->id > DMH_VOLUME_ID_MAX ? -EINVAL :
		    dmh_vol_resize_heat(v, vol_chunks(md, v));
		if (!r)
			r = dmh_vol_insert(md, v);
		if (r) {
			dmh_vol_free(v);
			return r == -EBUSY ? -EINVAL : r;
		}
	}
	return 0;
}

/* Rebuild the forward maps and the bitmap of @tier from one rmap block. */
static int load_rmap_block(struct dmh_metadata *md, unsigned int tier, u64 b,
			   const void *data)
{
	const __le64 *ent = data + DMH_HDR_SIZE;
	struct dmh_tier *t = &md->tiers[tier];
	struct dmh_volume *v;
	unsigned int j;
	u64 e, p, vchunk;
	int r;

	for (j = 0; j < DMH_RMAP_PER_BLOCK; j++) {
		e = le64_to_cpu(ent[j]);
		p = b * DMH_RMAP_PER_BLOCK + j;
		if (!e)
			continue;
		v = xa_load(&md->volumes, dmh_rmap_vol(e));
		vchunk = dmh_rmap_vchunk(e);
		if (!(e & DMH_RMAP_USED) || p >= t->nr_chunks || !v ||
		    vchunk >= vol_chunks(md, v))
			return -EINVAL;
		r = xa_insert(&v->map, vchunk,
			      xa_mk_value(dmh_entry(dmh_ploc(tier, p), 0)),
			      GFP_KERNEL);
		if (r)
			return r == -EBUSY ? -EINVAL : r;
		__set_bit(p, t->alloc);
		t->nr_used++;
		v->nr_chunks[tier]++;
	}
	return 0;
}

/* Zero a copy left by a transaction that never committed (see format.h). */
static int clobber(struct dmh_metadata *md, u64 block)
{
	struct dm_buffer *buf;
	void *b = dm_bufio_new(md->bufio, block, &buf);

	if (IS_ERR(b))
		return PTR_ERR(b);
	memset(b, 0, DMH_BLOCK_SIZE);
	dm_bufio_mark_buffer_dirty(buf);
	dm_bufio_release(buf);
	return 0;
}

static int clobber_stale(struct dmh_metadata *md, struct dmh_region *rg,
			 u64 b, int live, const void *c0, const void *c1)
{
	int s, r;

	for (s = 0; s < 2; s++) {
		const void *c = s ? c1 : c0;

		if (s == live || block_is_zero(c))
			continue;
		/* A spare that is torn is harmless unless nothing is live. */
		if (live >= 0 && copy_state(c, rg->type, b, md->txid) !=
				 DMH_COPY_FUTURE)
			continue;
		if (md->read_only)
			return -EROFS;
		r = clobber(md, dmh_slot_block(rg->start, b, s));
		if (r)
			return r;
	}
	return 0;
}

static int load_block(struct dmh_metadata *md, enum dmh_region_id id, u64 b)
{
	struct dmh_region *rg = &md->regions[id];
	struct dm_buffer *b0, *b1;
	void *c0, *c1;
	int live, r;

	c0 = dm_bufio_read(md->bufio, dmh_slot_block(rg->start, b, 0), &b0);
	if (IS_ERR(c0))
		return PTR_ERR(c0);
	c1 = dm_bufio_read(md->bufio, dmh_slot_block(rg->start, b, 1), &b1);
	if (IS_ERR(c1)) {
		dm_bufio_release(b0);
		return PTR_ERR(c1);
	}
	live = dmh_pick_copy(c0, c1, rg->type, b, md->txid);
	r = live == -EIO ? -EIO : clobber_stale(md, rg, b, live, c0, c1);
	if (!r && live >= 0) {
		if (live)
			__set_bit(b, rg->live);
		if (id == DMH_REGION_VT)
			r = load_vt_block(md, b, live ? c1 : c0);
		else
			r = load_rmap_block(md, id, b, live ? c1 : c0);
	}
	dm_bufio_release(b1);
	dm_bufio_release(b0);
	return r;
}

/*
 * Copy @slot of reverse-map block @b of @rg, past the tier's committed
 * chunk count: zero it if it holds anything (at a read-write activation),
 * or refuse the metadata if it is committed (see clobber_beyond()).
 */
static int clobber_uncommitted(struct dmh_metadata *md,
			       struct dmh_region *rg, u64 b, unsigned int slot)
{
	struct dm_buffer *buf;
	void *d = dm_bufio_read(md->bufio, dmh_slot_block(rg->start, b, slot),
				&buf);
	int r = 0;

	if (IS_ERR(d))
		return PTR_ERR(d);
	if (copy_state(d, rg->type, b, md->txid) == DMH_COPY_OK) {
		r = -EINVAL;
	} else if (!md->read_only && !block_is_zero(d)) {
		memset(d, 0, DMH_BLOCK_SIZE);
		dm_bufio_mark_buffer_dirty(buf);
	}
	dm_bufio_release(buf);
	return r;
}

/*
 * Reverse map blocks beyond a tier's committed chunk count hold no
 * committed entry: a copy there was left by a commit that never completed
 * (a grow that failed).  Zero them at a read-write activation, or a later
 * grow, once its transaction id is reached, would take one as live.  A
 * committed copy there (valid, not above the superblock's txid) means the
 * superblock understates the data device, which only damage or forgery
 * does: refuse it rather than unmap the chunks it names.
 */
static int clobber_beyond(struct dmh_metadata *md, unsigned int tier)
{
	struct dmh_region *rg = &md->regions[tier];
	u64 first = DIV_ROUND_UP_ULL(md->tiers[tier].nr_chunks,
				     DMH_RMAP_PER_BLOCK);
	u64 b;
	int r;

	for (b = first; b < rg->blocks; b++) {
		load_prefetch(md, dmh_slot_block(rg->start, first, 0),
			      b - first, rg->blocks - first, 2);
		r = clobber_uncommitted(md, rg, b, 0);
		if (!r)
			r = clobber_uncommitted(md, rg, b, 1);
		if (r)
			return r;
		cond_resched();
	}
	return 0;
}

static int load_region(struct dmh_metadata *md, enum dmh_region_id id,
		       u64 nr_blocks, char **error)
{
	struct dmh_region *rg = &md->regions[id];
	u64 b;
	int r;

	for (b = 0; b < nr_blocks; b++) {
		load_prefetch(md, rg->start, b, nr_blocks, 2);
		r = load_block(md, id, b);
		if (r == -EROFS) {
			*error = "Metadata holds an interrupted commit; activate read-write once";
			return r;
		}
		if (r == -EIO || r == -EINVAL) {
			*error = id == DMH_REGION_VT ?
				"Metadata volume table is corrupt; run hybrid_check" :
				"Metadata reverse map is corrupt; run hybrid_check";
			return r;
		}
		if (r) {
			*error = "Error reading metadata";
			return r;
		}
		cond_resched();
	}
	return 0;
}

static int read_super(struct dmh_metadata *md, struct dmh_disk_super *out,
		      bool *blank)
{
	struct dm_buffer *buf;
	u64 best = 0;
	int s, found = 0;
	void *b;

	*blank = true;
	for (s = 0; s < 2; s++) {
		b = dm_bufio_read(md->bufio, s, &buf);
		if (IS_ERR(b))
			return PTR_ERR(b);
		if (!block_is_zero(b))
			*blank = false;
		if (super_valid(b) &&
		    (!found || le64_to_cpu(((struct dmh_disk_super *)b)->txid) > best)) {
			memcpy(out, b, sizeof(*out));
			best = le64_to_cpu(out->txid);
			found = 1;
		}
		dm_bufio_release(buf);
	}
	return found ? 0 : -ENODATA;
}

static int check_super(struct dmh_metadata *md, struct dmh_disk_super *s,
		       u64 ssd_chunks, u64 hdd_chunks, char **error)
{
	u64 dev_blocks = bdev_nr_sectors(md->bdev) / DMH_SECTORS_PER_BLOCK;

	if (le32_to_cpu(s->version) != DMH_VERSION) {
		*error = "Unsupported metadata version";
		return -EINVAL;
	}
	/* A checksum proves no intent: the layout is input (as the tools'). */
	if (dmh_layout_check(s, dev_blocks, &md->layout, error))
		return -EINVAL;
	if (le32_to_cpu(s->chunk_sectors) != md->chunk_sectors) {
		*error = "Chunk size differs from the one the pool was created with";
		return -EINVAL;
	}
	if ((le64_to_cpu(s->ssd_sectors) >> md->chunk_shift) > ssd_chunks) {
		*error = "SSD device shrank since the last commit";
		return -EINVAL;
	}
	if ((le64_to_cpu(s->hdd_sectors) >> md->chunk_shift) > hdd_chunks) {
		*error = "HDD device shrank since the last commit";
		return -EINVAL;
	}
	return 0;
}

/* The committed superblock copy holds the pins. */
static int load_pins(struct dmh_metadata *md)
{
	struct dm_buffer *buf;
	void *b;
	int r;

	b = dm_bufio_read(md->bufio, md->txid & 1, &buf);
	if (IS_ERR(b))
		return PTR_ERR(b);
	r = decode_pins(md, b);
	dm_bufio_release(buf);
	return r;
}

static int md_load(struct dmh_metadata *md, struct dmh_disk_super *s,
		   u64 ssd_chunks, u64 hdd_chunks, char **error)
{
	int t, r;

	r = check_super(md, s, ssd_chunks, hdd_chunks, error);
	if (r)
		return r;
	md->txid = le64_to_cpu(s->txid);
	md->sb_flags = le32_to_cpu(s->flags);
	memcpy(md->uuid, s->uuid, sizeof(md->uuid));
	md->promotions = le64_to_cpu(s->promotions);
	md->demotions = le64_to_cpu(s->demotions);
	for (t = 0; t < DMH_NR_TUNABLES; t++)
		md->tunables[t] = le32_to_cpu(s->tunables[t]);
	r = md_init_tables(md, le64_to_cpu(s->ssd_sectors) >> md->chunk_shift,
			   le64_to_cpu(s->hdd_sectors) >> md->chunk_shift);
	if (r) {
		*error = "Cannot allocate metadata tables";
		return r;
	}
	r = load_region(md, DMH_REGION_VT, md->layout.vt_blocks, error);
	for (t = 0; t < DMH_NR_TIERS && !r; t++)
		r = load_region(md, t, DIV_ROUND_UP_ULL(md->tiers[t].nr_chunks,
							DMH_RMAP_PER_BLOCK),
				error);
	for (t = 0; t < DMH_NR_TIERS && !r; t++) {
		r = clobber_beyond(md, t);
		if (r == -EINVAL)
			*error = "Metadata maps chunks past its device sizes; run hybrid_check";
		else if (r)
			*error = "Error reading metadata";
	}
	if (!r && le32_to_cpu(s->nr_volumes) != md->nr_volumes) {
		*error = "Metadata volume count is inconsistent; run hybrid_check";
		r = -EINVAL;
	}
	if (!r) {
		r = load_pins(md);
		if (r)
			*error = "Metadata pin table is corrupt; run hybrid_check";
	}
	if (!r) {
		load_heat(md);
		r = dmh_slog_load(md, s);
		if (r)
			*error = r == -EINVAL ?
				 "Metadata staging log is damaged; run hybrid_check" :
				 "Cannot read the metadata staging log";
	}
	if (!r && !md->read_only) {
		r = dm_bufio_write_dirty_buffers(md->bufio);
		if (!r)
			r = dm_bufio_issue_flush(md->bufio);
		if (r)
			*error = "Cannot write metadata";
	}
	return r;
}

/* Lay out and write a fresh, empty pool on a blank metadata device. */
static int md_format(struct dmh_metadata *md, u64 ssd_chunks, u64 hdd_chunks,
		     char **error)
{
	u64 dev_blocks = bdev_nr_sectors(md->bdev) / DMH_SECTORS_PER_BLOCK;
	struct dmh_layout *l = &md->layout;
	int r;

	if (md->read_only) {
		*error = "Metadata device is blank and the pool is read-only";
		return -EINVAL;
	}
	if (ssd_chunks > DMH_TIER_CHUNKS_MAX || hdd_chunks > DMH_TIER_CHUNKS_MAX) {
		*error = "A data device has more than 2^34 chunks; use larger chunks";
		return -EFBIG;
	}
	if (dmh_layout_compute(dev_blocks, ssd_chunks, hdd_chunks, l)) {
		*error = "Metadata device too small; see hybrid_metadata_size";
		return -ENOSPC;
	}
	r = md_init_tables(md, ssd_chunks, hdd_chunks);
	if (r) {
		*error = "Cannot allocate metadata tables";
		return r;
	}
	/* Stale blocks of an earlier pool must never look live. */
	r = blkdev_issue_zeroout(md->bdev, 2 * DMH_SECTORS_PER_BLOCK,
				 (l->heat_start + l->heat_blocks +
				  l->slog_blocks - 2) *
				 DMH_SECTORS_PER_BLOCK, GFP_KERNEL, 0);
	if (r) {
		*error = "Cannot zero the metadata device";
		return r;
	}
	generate_random_uuid(md->uuid);
	md->txid = 0;
	md->dirty = true;
	r = dmh_md_commit(md);
	if (r)
		*error = "Cannot write the new metadata";
	return r;
}

static void md_free(struct dmh_metadata *md)
{
	struct dmh_volume *v;
	unsigned long id;
	int i;

	/* A save still queued runs, and takes md_lock, before anything goes. */
	if (md->heat_wq)
		destroy_workqueue(md->heat_wq);
	if (md->heat_bufio)
		dm_bufio_client_destroy(md->heat_bufio);
	xa_for_each(&md->volumes, id, v)
		dmh_vol_free(v);
	xa_destroy(&md->volumes);
	xa_destroy(&md->pending);
	xa_destroy(&md->frees);
	dmh_slog_free(md);
	for (i = 0; i < DMH_NR_REGIONS; i++)
		region_exit(&md->regions[i]);
	for (i = 0; i < DMH_NR_TIERS; i++)
		kvfree(md->tiers[i].alloc);
	if (md->bufio)
		dm_bufio_client_destroy(md->bufio);
	kvfree(md->slots);
	kfree(md);
}

struct dmh_metadata *dmh_md_open(struct block_device *bdev, u32 chunk_sectors,
				 sector_t ssd_sectors, sector_t hdd_sectors,
				 bool read_only, char **error)
{
	u64 ssd_chunks = ssd_sectors / chunk_sectors;
	u64 hdd_chunks = hdd_sectors / chunk_sectors;
	struct dmh_disk_super s;
	struct dmh_metadata *md;
	bool blank;
	int r;

	md = kzalloc(sizeof(*md), GFP_KERNEL);
	if (!md)
		goto nomem;
	md->slots = kvcalloc(DMH_MAX_VOLUMES, sizeof(*md->slots), GFP_KERNEL);
	if (!md->slots)
		goto nomem;
	md->bdev = bdev;
	md->chunk_sectors = chunk_sectors;
	md->chunk_shift = __ffs(chunk_sectors);
	md->read_only = read_only;
	xa_init(&md->volumes);
	xa_init(&md->pending);
	xa_init(&md->frees);
	md->bufio = dm_bufio_client_create(bdev, DMH_BLOCK_SIZE, 4, 0, NULL,
					   NULL, 0);
	if (IS_ERR(md->bufio)) {
		r = PTR_ERR(md->bufio);
		md->bufio = NULL;
		*error = "Cannot create the metadata buffer cache";
		goto bad;
	}
	r = read_super(md, &s, &blank);
	if (r == -ENODATA && blank)
		r = md_format(md, ssd_chunks, hdd_chunks, error);
	else if (r == -ENODATA)
		*error = "Metadata device holds no valid dm-hybrid superblock";
	else if (r)
		*error = "Cannot read the metadata superblock";
	else
		r = md_load(md, &s, ssd_chunks, hdd_chunks, error);
	if (r)
		goto bad;
	return md;
nomem:
	*error = "Cannot allocate metadata";
	r = -ENOMEM;
bad:
	if (md)
		md_free(md);
	return ERR_PTR(r);
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_open);

/* Caller has committed; nothing may be in flight. */
void dmh_md_close(struct dmh_metadata *md)
{
	md_free(md);
}
EXPORT_SYMBOL_IF_KUNIT(dmh_md_close);
