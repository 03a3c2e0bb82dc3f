// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid staging log, the map room's on-disk record of the block tier's
 * dirty slots (pool feature persistent_staging; the format is told above
 * DMH_SLOG_VOL_SHIFT in dm-hybrid-format.h).  A commit appends the records
 * the block tier gathered to the live half and counts them in the
 * superblock it writes last, so a power cut leaves the log of the last
 * transaction that committed, whole.  Activation replays the live half into
 * the dirty slots the block tier then takes (dmh_md_slog_take()).
 *
 * Every function runs with md_lock held, or before the pool is shared.
 */
#include <kunit/visibility.h>
#include <linux/device-mapper.h>
#include <linux/sort.h>

#include "dm-hybrid-metadata.h"

#define DM_MSG_PREFIX "hybrid"

static u64 half_blocks(struct dmh_metadata *md)
{
	return md->layout.slog_blocks / 2;
}

/* Region index of block @i of half @half. */
static u64 slog_index(struct dmh_metadata *md, u32 half, u64 i)
{
	return half * half_blocks(md) + i;
}

bool dmh_md_slog_present(struct dmh_metadata *md)
{
	return md->layout.slog_blocks;
}

bool dmh_md_slog_empty(struct dmh_metadata *md)
{
	return !md->slog.next_used && !md->slog.data;
}

u64 dmh_md_slog_half_records(struct dmh_metadata *md)
{
	return half_blocks(md) * DMH_SLOG_PER_BLOCK;
}

bool dmh_md_slog_fits(struct dmh_metadata *md, u64 n)
{
	struct dmh_slog *sl = &md->slog;
	u64 room = (half_blocks(md) - sl->next_used) * DMH_SLOG_PER_BLOCK;

	if (sl->data)
		room += DMH_SLOG_PER_BLOCK - sl->n;
	return n <= room;
}

/* Let go of the block being filled, if any (sealed or thrown away). */
static void drop_open(struct dmh_slog *sl)
{
	if (!sl->data)
		return;
	dm_bufio_release(sl->buf);
	sl->buf = NULL;
	sl->data = NULL;
}

/* Seal the block being filled into the open transaction. */
static void seal(struct dmh_metadata *md)
{
	struct dmh_slog *sl = &md->slog;
	struct dmh_disk_block_header *h = sl->data;

	if (!sl->data)
		return;
	h->type = cpu_to_le32(DMH_BT_SLOG);
	h->txid = cpu_to_le64(md->txid + 1);
	h->blocknr = cpu_to_le64(slog_index(md, sl->next_half, sl->next_used));
	h->reserved = cpu_to_le64(sl->n);
	h->csum = cpu_to_le32(dmh_csum(sl->data, DMH_BT_SLOG));
	dm_bufio_mark_buffer_dirty(sl->buf);
	drop_open(sl);
	sl->next_used++;
}

void dmh_md_slog_restart(struct dmh_metadata *md)
{
	struct dmh_slog *sl = &md->slog;

	drop_open(sl);
	sl->next_half = !sl->half;
	sl->next_used = 0;
	sl->next_base = md->txid;
	md->dirty = true;
}

int dmh_md_slog_add(struct dmh_metadata *md, const struct dmh_slog_rec *r)
{
	struct dmh_slog *sl = &md->slog;
	struct dmh_disk_slog_rec *d;
	void *b;

	if (!sl->data) {
		if (sl->next_used == half_blocks(md))
			return -ENOSPC;
		b = dm_bufio_new(md->bufio, md->layout.slog_start +
				 slog_index(md, sl->next_half, sl->next_used),
				 &sl->buf);
		if (IS_ERR(b))
			return PTR_ERR(b);
		memset(b, 0, DMH_BLOCK_SIZE);
		sl->data = b;
		sl->n = 0;
	}
	d = sl->data + DMH_HDR_SIZE + sl->n * DMH_SLOG_REC_SIZE;
	d->key = cpu_to_le64(r->key);
	d->where = cpu_to_le64(r->where);
	d->sectors = cpu_to_le32(r->sectors);
	md->dirty = true;
	if (++sl->n == DMH_SLOG_PER_BLOCK)
		seal(md);
	return 0;
}

void dmh_slog_seal(struct dmh_metadata *md)
{
	seal(md);
}

void dmh_slog_encode(struct dmh_metadata *md, struct dmh_disk_super *s)
{
	struct dmh_slog *sl = &md->slog;

	s->slog_start = cpu_to_le64(md->layout.slog_start);
	s->slog_blocks = cpu_to_le64(md->layout.slog_blocks);
	s->slog_used = cpu_to_le64(sl->next_used);
	s->slog_base = cpu_to_le64(sl->next_base);
	s->slog_half = cpu_to_le32(sl->next_half);
	if (sl->next_used)
		s->flags |= cpu_to_le32(DMH_SB_INCOMPAT_SLOG);
	else
		s->flags &= ~cpu_to_le32(DMH_SB_INCOMPAT_SLOG);
}

void dmh_slog_committed(struct dmh_metadata *md)
{
	struct dmh_slog *sl = &md->slog;

	sl->used = sl->next_used;
	sl->base = sl->next_base;
	sl->half = sl->next_half;
}

void dmh_slog_abort(struct dmh_metadata *md)
{
	struct dmh_slog *sl = &md->slog;

	drop_open(sl);
	sl->next_used = sl->used;
	sl->next_base = sl->base;
	sl->next_half = sl->half;
}

/* ------------------------------------------------------------- replay */

/* Check live block @i and append its records to sl->recs. */
static int load_block(struct dmh_metadata *md, u64 i)
{
	struct dmh_slog *sl = &md->slog;
	u64 at = slog_index(md, sl->half, i);
	const struct dmh_disk_block_header *h;
	const struct dmh_disk_slog_rec *d;
	struct dm_buffer *buf;
	u64 n, txid, j;
	int r = 0;

	h = dm_bufio_read(md->bufio, md->layout.slog_start + at, &buf);
	if (IS_ERR(h))
		return PTR_ERR(h);
	n = le64_to_cpu(h->reserved);
	txid = le64_to_cpu(h->txid);
	if (le32_to_cpu(h->csum) != dmh_csum(h, DMH_BT_SLOG) ||
	    le32_to_cpu(h->type) != DMH_BT_SLOG ||
	    le64_to_cpu(h->blocknr) != at || txid <= sl->base ||
	    txid > md->txid || !n || n > DMH_SLOG_PER_BLOCK) {
		r = -EINVAL;
		goto out;
	}
	d = (const void *)h + DMH_HDR_SIZE;
	for (j = 0; j < n; j++, d++) {
		struct dmh_slog_rec *rec = &sl->recs[sl->nr_recs++];

		rec->key = le64_to_cpu(d->key);
		rec->where = le64_to_cpu(d->where);
		rec->sectors = le32_to_cpu(d->sectors);
		if (rec->sectors > DMH_SLOG_SECTORS_FULL || d->reserved) {
			r = -EINVAL;
			break;
		}
	}
out:
	dm_bufio_release(buf);
	return r;
}

/* By SSD block, then in log order. */
static int cmp_where(const void *a, const void *b)
{
	const struct dmh_slog_rec *x = a, *y = b;

	if (x->where != y->where)
		return x->where < y->where ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Keep the last record of each SSD block of @recs (@n, in log order), and
 * of those the dirty ones, sorted by SSD block; returns how many are left.
 */
VISIBLE_IF_KUNIT u64 dmh_slog_replay(struct dmh_slog_rec *recs, u64 n)
{
	u64 i, out = 0;

	for (i = 0; i < n; i++)
		recs[i].seq = i;
	sort(recs, n, sizeof(*recs), cmp_where, NULL);
	for (i = 0; i < n; i++) {
		struct dmh_slog_rec *r = &recs[i];

		if (i + 1 < n && recs[i + 1].where == r->where)
			continue;	/* a later record of the block follows */
		if (r->sectors)
			recs[out++] = *r;
	}
	return out;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_slog_replay);

int dmh_slog_load(struct dmh_metadata *md, const struct dmh_disk_super *s)
{
	struct dmh_slog *sl = &md->slog;
	u64 i;
	int r;

	sl->used = le64_to_cpu(s->slog_used);
	sl->base = le64_to_cpu(s->slog_base);
	sl->half = le32_to_cpu(s->slog_half);
	dmh_slog_abort(md);
	if (!sl->used)
		return 0;
	sl->recs = kvcalloc(sl->used * DMH_SLOG_PER_BLOCK, sizeof(*sl->recs),
			    GFP_KERNEL);
	if (!sl->recs)
		return -ENOMEM;
	for (i = 0; i < sl->used; i++) {
		r = load_block(md, i);
		if (r)
			return r;
	}
	sl->nr_recs = dmh_slog_replay(sl->recs, sl->nr_recs);
	return 0;
}

u64 dmh_md_slog_pending(struct dmh_metadata *md)
{
	return md->slog.nr_recs;
}

struct dmh_slog_rec *dmh_md_slog_take(struct dmh_metadata *md, u64 *nr)
{
	struct dmh_slog_rec *recs = md->slog.recs;

	*nr = md->slog.nr_recs;
	md->slog.recs = NULL;
	md->slog.nr_recs = 0;
	return recs;
}

void dmh_slog_free(struct dmh_metadata *md)
{
	drop_open(&md->slog);
	kvfree(md->slog.recs);
}
