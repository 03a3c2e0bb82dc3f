// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suites for dm-hybrid's mapping table and metadata.
 *
 * The pure suite checks the on-disk encodings, checksums, copy selection,
 * layout arithmetic, and the staging log's validation and replay rule.
 * The metadata suite runs the real metadata code on a RAM disk (module
 * parameter "mdev", default /dev/ram0, at least 4 MiB): the data devices
 * are only sizes to it, so no SSD or HDD is needed.  Crash states are
 * made the way a power cut makes them: a raw snapshot of the device taken
 * at one commit, with parts of a later commit laid over it.
 */
#include <kunit/test.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/debug_locks.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/vmalloc.h>

#include "../../dm-hybrid-monitor.h"
#include "policy-scenario.h"

static char *mdev = "/dev/ram0";
module_param(mdev, charp, 0444);
MODULE_PARM_DESC(mdev, "Scratch block device for the metadata suite");

#define CHUNK		128u
#define SSD_CHUNKS	16u
#define HDD_CHUNKS	64u

/* ------------------------------------------------------------ pure suite */

static void seal(void *b, u32 type, u64 txid, u64 blocknr)
{
	struct dmh_disk_block_header *h = b;

	h->type = cpu_to_le32(type);
	h->txid = cpu_to_le64(txid);
	h->blocknr = cpu_to_le64(blocknr);
	h->csum = cpu_to_le32(dmh_block_csum(b, type));
}

static void *zblock(struct kunit *test)
{
	void *b = kunit_kzalloc(test, DMH_BLOCK_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	return b;
}

static void csum_is_salted_by_type(struct kunit *test)
{
	u8 *b = zblock(test);

	b[100] = 0x5a;
	seal(b, DMH_BT_RMAP, 3, 0);
	KUNIT_EXPECT_EQ(test, dmh_pick_copy(b, zblock(test), DMH_BT_RMAP, 0, 3), 0);
	/* The same bytes do not pass as another block type. */
	KUNIT_EXPECT_EQ(test, dmh_pick_copy(b, zblock(test), DMH_BT_VOLUMES, 0, 3),
			-ENODATA);
	b[200] ^= 1;
	KUNIT_EXPECT_EQ(test, dmh_pick_copy(b, zblock(test), DMH_BT_RMAP, 0, 3),
			-ENODATA);
}

static void pick_copy_rules(struct kunit *test)
{
	u8 *a = zblock(test), *b = zblock(test), *z = zblock(test);

	seal(a, DMH_BT_RMAP, 4, 9);
	seal(b, DMH_BT_RMAP, 5, 9);
	KUNIT_EXPECT_EQ(test, dmh_pick_copy(a, b, DMH_BT_RMAP, 9, 5), 1);
	KUNIT_EXPECT_EQ(test, dmh_pick_copy(b, a, DMH_BT_RMAP, 9, 5), 0);
	/* A copy above the committed transaction is ignored. */
	KUNIT_EXPECT_EQ(test, dmh_pick_copy(a, b, DMH_BT_RMAP, 9, 4), 0);
	/* Misdirected blocks (wrong number) are not valid: corrupt. */
	KUNIT_EXPECT_EQ(test, dmh_pick_copy(a, b, DMH_BT_RMAP, 8, 5), -EIO);
	KUNIT_EXPECT_EQ(test, dmh_pick_copy(a, z, DMH_BT_RMAP, 8, 5), -ENODATA);
	KUNIT_EXPECT_EQ(test, dmh_pick_copy(z, z, DMH_BT_RMAP, 9, 5), -ENODATA);
	/* Torn spare beside a valid copy: the valid one. */
	b[300] ^= 0xff;
	KUNIT_EXPECT_EQ(test, dmh_pick_copy(a, b, DMH_BT_RMAP, 9, 5), 0);
	KUNIT_EXPECT_EQ(test, dmh_pick_copy(z, b, DMH_BT_RMAP, 9, 5), -ENODATA);
	a[300] ^= 0xff;
	KUNIT_EXPECT_EQ(test, dmh_pick_copy(a, b, DMH_BT_RMAP, 9, 5), -EIO);
}

static void rmap_and_ploc_encoding(struct kunit *test)
{
	u64 e = dmh_rmap_pack(DMH_VOLUME_ID_MAX, DMH_VCHUNK_MAX - 1);
	dmh_ploc_t p = dmh_ploc(DMH_TIER_HDD, 123456789);

	KUNIT_EXPECT_TRUE(test, e & DMH_RMAP_USED);
	KUNIT_EXPECT_EQ(test, dmh_rmap_vol(e), DMH_VOLUME_ID_MAX);
	KUNIT_EXPECT_EQ(test, dmh_rmap_vchunk(e), DMH_VCHUNK_MAX - 1);
	KUNIT_EXPECT_NE(test, dmh_rmap_pack(0, 0), 0ull);
	KUNIT_EXPECT_EQ(test, dmh_ploc_tier(p), DMH_TIER_HDD);
	KUNIT_EXPECT_EQ(test, dmh_ploc_index(p), 123456789ull);
	/* The first chunk of the SSD must not look unmapped. */
	KUNIT_EXPECT_NE(test, dmh_entry(dmh_ploc(DMH_TIER_SSD, 0), 0), 0ull);
	e = dmh_entry(p, DMH_E_MIGRATE);
	KUNIT_EXPECT_TRUE(test, dmh_entry_ploc(e) == p);
	KUNIT_EXPECT_TRUE(test, e & DMH_E_BUSY);
}

static void layout_fits_and_orders(struct kunit *test)
{
	static const u64 cases[][3] = {
		{ 1024, 16, 64 }, { 100000, 4096, 65536 },
		{ 1u << 20, 4u << 20, 64u << 20 }, { 200, 0, 508 },
	};
	struct dmh_layout l;
	int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 md = cases[i][0], s = cases[i][1], h = cases[i][2];

		KUNIT_ASSERT_EQ(test, dmh_layout_compute(md, s, h, &l), 0);
		KUNIT_EXPECT_GE(test, l.rmap_blocks[0] * DMH_RMAP_PER_BLOCK, s);
		KUNIT_EXPECT_GE(test, l.rmap_blocks[1] * DMH_RMAP_PER_BLOCK, h);
		KUNIT_EXPECT_LE(test, l.heat_start + l.heat_blocks, md);
		KUNIT_EXPECT_EQ(test, l.rmap_start[1],
				l.rmap_start[0] + 2 * l.rmap_blocks[0]);
		KUNIT_EXPECT_LE(test, dmh_layout_need(s, h), md);
	}
	KUNIT_EXPECT_EQ(test, dmh_layout_compute(dmh_layout_need(1000, 9000) - 1,
						 1000, 9000, &l), -1);
}

/*
 * A metadata device of any size gets a layout the validator accepts: the
 * spare capacity once grew past DMH_TIER_CHUNKS_MAX from about 300 GiB of
 * metadata on (a bitmap kvmalloc() refuses), and md_blocks past 256 TiB.
 */
static void layout_bounded_for_large_md(struct kunit *test)
{
	static const u64 cases[][3] = {
		{ 300ull << 18, 1000, 10000 }, { 1ull << 27, 1000, 10000 },
		{ 1ull << 28, 1ull << 26, 1ull << 30 }, { 1ull << 36, 1, 1 },
		{ 1ull << 40, 1000, 10000 }, { U64_MAX, 1, 1 },
	};
	struct dmh_geometry g = { DMH_BLOCK_SIZE, 128 };
	char *why = NULL;
	int i, t;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 md = cases[i][0];

		KUNIT_ASSERT_EQ(test, dmh_layout_compute(md, cases[i][1],
							 cases[i][2], &g.layout), 0);
		for (t = 0; t < DMH_NR_TIERS; t++)
			g.sectors[t] = dmh_layout_capacity(&g.layout, t) * 128;
		KUNIT_EXPECT_EQ_MSG(test, dmh_geometry_check(&g, md, &why), 0,
				    "%llu blocks: %s", md, why);
	}
	KUNIT_EXPECT_EQ(test, dmh_layout_compute(U64_MAX, DMH_TIER_CHUNKS_MAX + 1,
						 1, &g.layout), -1);
}

/* ------------------------------------------------- staging log (pure) */

#define SLOG_MD		1024u	/* metadata blocks: room for a staging log */
#define SLOG_TXID	10u

/*
 * The superblock a format of SLOG_MD blocks for SSD_CHUNKS and HDD_CHUNKS
 * writes, as dmh_layout_check() reads it, at transaction SLOG_TXID; its
 * layout into @l.
 */
static struct dmh_disk_super *slog_super(struct kunit *test,
					 struct dmh_layout *l)
{
	struct dmh_disk_super *s = zblock(test);
	int t;

	KUNIT_ASSERT_EQ(test, dmh_layout_compute(SLOG_MD, SSD_CHUNKS,
						 HDD_CHUNKS, l), 0);
	KUNIT_ASSERT_NE(test, l->slog_blocks, 0ull);
	s->txid = cpu_to_le64(SLOG_TXID);
	s->block_size = cpu_to_le32(DMH_BLOCK_SIZE);
	s->chunk_sectors = cpu_to_le32(CHUNK);
	s->md_blocks = cpu_to_le64(l->md_blocks);
	s->ssd_sectors = cpu_to_le64(SSD_CHUNKS * CHUNK);
	s->hdd_sectors = cpu_to_le64(HDD_CHUNKS * CHUNK);
	s->vt_start = cpu_to_le64(l->vt_start);
	s->vt_blocks = cpu_to_le64(l->vt_blocks);
	for (t = 0; t < DMH_NR_TIERS; t++) {
		s->rmap_start[t] = cpu_to_le64(l->rmap_start[t]);
		s->rmap_blocks[t] = cpu_to_le64(l->rmap_blocks[t]);
	}
	s->heat_start = cpu_to_le64(l->heat_start);
	s->heat_blocks = cpu_to_le64(l->heat_blocks);
	s->slog_start = cpu_to_le64(l->slog_start);
	s->slog_blocks = cpu_to_le64(l->slog_blocks);
	return s;
}

/* dmh_layout_check() of @s gives @want (NULL: accepts it). */
static void slog_check_is(struct kunit *test, const struct dmh_disk_super *s,
			  const char *want, int i)
{
	struct dmh_layout l;
	char *why = NULL;
	int r = dmh_layout_check(s, le64_to_cpu(s->md_blocks), &l, &why);

	KUNIT_EXPECT_EQ_MSG(test, r, want ? -EINVAL : 0, "case %d: %s", i, why);
	KUNIT_EXPECT_STREQ_MSG(test, why ?: "(accepted)", want ?: "(accepted)",
			       "case %d", i);
}

/* dmh_slog_region_fault(): where the log lies and how large it is. */
static void slog_region_checked(struct kunit *test)
{
	static const char *const size =
		"Metadata staging log size is not an even number of blocks from 16 to 8192";
	struct dmh_layout l;
	struct dmh_disk_super *s = slog_super(test, &l);
	const u64 at = l.slog_start, n = l.slog_blocks, md = l.md_blocks;
	const struct {
		u64 start, blocks, md_blocks;
		const char *why;
	} c[] = {
		{ at, n, md, NULL },
		{ 0, 0, md, NULL },
		{ at, DMH_SLOG_BLOCKS_MIN, md, NULL },
		{ at, DMH_SLOG_BLOCKS_MAX, at + DMH_SLOG_BLOCKS_MAX, NULL },
		{ at, 0, md, "Metadata staging log has a start but no blocks" },
		{ at, n - 1, md, size },
		{ at, DMH_SLOG_BLOCKS_MIN - 2, md, size },
		{ at, DMH_SLOG_BLOCKS_MAX + 2, at + DMH_SLOG_BLOCKS_MAX + 2, size },
		{ at + 1, n - 2, md, "Metadata staging log does not follow the heat region" },
		{ at - 1, n, md, "Metadata staging log does not follow the heat region" },
		{ at, n, at + n - 1, "Metadata staging log extends past the metadata device size" },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		s->slog_start = cpu_to_le64(c[i].start);
		s->slog_blocks = cpu_to_le64(c[i].blocks);
		s->md_blocks = cpu_to_le64(c[i].md_blocks);
		slog_check_is(test, s, c[i].why, i);
	}
}

/* dmh_slog_state_fault(): the live half's length, stamps and flag. */
static void slog_state_checked(struct kunit *test)
{
	static const char *const range =
		"Metadata staging log state is out of range; run hybrid_check";
	static const char *const flag =
		"Metadata staging log flag disagrees with its length; run hybrid_check";
	struct dmh_layout l;
	struct dmh_disk_super *s = slog_super(test, &l);
	const u64 half = l.slog_blocks / 2;
	const struct {
		u32 half;
		u64 used, base;
		u32 reserved, flag;
		const char *why;
	} c[] = {
		{ 0, 0, 0, 0, 0, NULL },
		{ 1, 1, SLOG_TXID - 1, 0, 1, NULL },
		{ 0, half, SLOG_TXID, 0, 1, NULL },
		{ 2, 0, 0, 0, 0, range },
		{ 1, half + 1, 0, 0, 1, range },
		{ 0, 1, 0, 1, 1, range },
		{ 0, 1, SLOG_TXID + 1, 0, 1,
		  "Metadata staging log is newer than its superblock; run hybrid_check" },
		{ 0, 0, 0, 0, 1, flag },
		{ 0, 1, 0, 0, 0, flag },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		s->slog_half = cpu_to_le32(c[i].half);
		s->slog_used = cpu_to_le64(c[i].used);
		s->slog_base = cpu_to_le64(c[i].base);
		s->slog_reserved = cpu_to_le32(c[i].reserved);
		s->flags = cpu_to_le32(c[i].flag ? DMH_SB_INCOMPAT_SLOG : 0);
		slog_check_is(test, s, c[i].why, i);
	}
	/* Without a log there are no records to count. */
	s->slog_start = 0;
	s->slog_blocks = 0;
	slog_check_is(test, s, range, i);
}

/* A layout of @md blocks holds dmh_slog_size() of its room, valid. */
static bool slog_laid_out(u64 md)
{
	u64 need = dmh_layout_need(SSD_CHUNKS, HDD_CHUNKS);
	struct dmh_layout l;

	return !dmh_layout_compute(md, SSD_CHUNKS, HDD_CHUNKS, &l) &&
	       l.slog_blocks == dmh_slog_size(md - need) &&
	       !dmh_slog_region_fault(&l) && l.md_blocks == md;
}

/*
 * An eighth of the room, even, from DMH_SLOG_BLOCKS_MIN (else none) to
 * DMH_SLOG_BLOCKS_MAX; a computed layout holds it where the validator
 * wants it.  The sweeps stop at the first fault, to report it once.
 */
static void slog_size_bounded(struct kunit *test)
{
	const u64 min = DMH_SLOG_BLOCKS_MIN, max = DMH_SLOG_BLOCKS_MAX;
	u64 room, md, n = 0;

	KUNIT_EXPECT_EQ(test, dmh_slog_size(0), 0ull);
	KUNIT_EXPECT_EQ(test, dmh_slog_size(8 * min - 1), 0ull);
	KUNIT_EXPECT_EQ(test, dmh_slog_size(8 * min), min);
	KUNIT_EXPECT_EQ(test, dmh_slog_size(8 * min + 15), min);
	KUNIT_EXPECT_EQ(test, dmh_slog_size(8 * (min + 3)), min + 2);
	KUNIT_EXPECT_EQ(test, dmh_slog_size(8 * (max - 1)), max - 2);
	KUNIT_EXPECT_EQ(test, dmh_slog_size(8 * max), max);
	KUNIT_EXPECT_EQ(test, dmh_slog_size(U64_MAX), max);
	for (room = 0; room < 10 * 8 * max; room += 61) {
		n = dmh_slog_size(room);
		if (n && ((n & 1) || n < min || n > max || n > room / 8))
			break;
	}
	KUNIT_EXPECT_GE_MSG(test, room, 10 * 8 * max, "room %llu: %llu blocks",
			    room, n);
	for (md = dmh_layout_need(SSD_CHUNKS, HDD_CHUNKS); md < 100000; md += 97)
		if (!slog_laid_out(md))
			break;
	KUNIT_EXPECT_GE_MSG(test, md, 100000ull, "metadata of %llu blocks", md);
}

/* Replay: the last record of each SSD block wins; a clean one drops it. */
static void slog_replay_last_wins(struct kunit *test)
{
	struct dmh_slog_rec r[] = {
		{ .key = 1, .where = 9, .sectors = 0x01 },
		{ .key = 2, .where = 3, .sectors = DMH_SLOG_SECTORS_FULL },
		{ .key = 3, .where = 9, .sectors = 0x0f },	/* 9: block 3 */
		{ .key = 4, .where = 5, .sectors = 0x10 },
		{ .key = 4, .where = 5, .sectors = 0 },		/* 5: clean */
		{ .key = 6, .where = 7, .sectors = 0 },
		{ .key = 7, .where = 7, .sectors = 0x80 },	/* 7: re-used */
		{ .key = 8, .where = 1, .sectors = 0x02 },
		{ .key = 8, .where = 1, .sectors = 0x06 },	/* 1: grew */
	};
	static const u64 key[] = { 8, 2, 7, 3 }, where[] = { 1, 3, 7, 9 };
	static const u32 sectors[] = { 0x06, DMH_SLOG_SECTORS_FULL, 0x80, 0x0f };
	int i;

	KUNIT_ASSERT_EQ(test, dmh_slog_replay(r, ARRAY_SIZE(r)), 4ull);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ_MSG(test, r[i].where, where[i], "record %d", i);
		KUNIT_EXPECT_EQ_MSG(test, r[i].key, key[i], "record %d", i);
		KUNIT_EXPECT_EQ_MSG(test, r[i].sectors, sectors[i], "record %d", i);
	}
	KUNIT_EXPECT_EQ(test, dmh_slog_replay(r, 0), 0ull);
}

/*
 * Many records of few blocks: sort() is a heap sort, not stable, so only
 * the log order the replay keeps beside the SSD block finds each block's
 * last record.
 */
static void slog_replay_keeps_log_order(struct kunit *test)
{
	const u64 n = 3 * DMH_SLOG_PER_BLOCK, blocks = 5;
	struct dmh_slog_rec *r = kunit_kcalloc(test, n, sizeof(*r), GFP_KERNEL);
	u64 i, w, got, out = 0;

	KUNIT_ASSERT_NOT_NULL(test, r);
	for (i = 0; i < n; i++) {
		r[i].key = i;
		r[i].where = (i * 7) % blocks;
		r[i].sectors = i % 3 ? i % DMH_SLOG_SECTORS_FULL + 1 : 0;
	}
	got = dmh_slog_replay(r, n);
	for (w = 0; w < blocks; w++) {
		for (i = n - 1; (i * 7) % blocks != w; i--)
			;
		if (!(i % 3))
			continue;	/* its last record is clean */
		KUNIT_ASSERT_LT(test, out, got);
		KUNIT_EXPECT_EQ_MSG(test, r[out].where, w, "record %llu", out);
		KUNIT_EXPECT_EQ_MSG(test, r[out].key, i, "block %llu", w);
		KUNIT_EXPECT_EQ(test, r[out].sectors,
				(u32)(i % DMH_SLOG_SECTORS_FULL + 1));
		out++;
	}
	KUNIT_EXPECT_EQ(test, got, out);
	KUNIT_EXPECT_GT(test, out, 0ull);
	KUNIT_EXPECT_LT(test, out, blocks);	/* a block was dropped */
}

static struct kunit_case pure_cases[] = {
	KUNIT_CASE(csum_is_salted_by_type),
	KUNIT_CASE(pick_copy_rules),
	KUNIT_CASE(rmap_and_ploc_encoding),
	KUNIT_CASE(layout_fits_and_orders),
	KUNIT_CASE(layout_bounded_for_large_md),
	KUNIT_CASE(slog_region_checked),
	KUNIT_CASE(slog_state_checked),
	KUNIT_CASE(slog_size_bounded),
	KUNIT_CASE(slog_replay_last_wins),
	KUNIT_CASE(slog_replay_keeps_log_order),
	{}
};

static struct kunit_suite pure_suite = {
	.name = "dm-hybrid-format",
	.test_cases = pure_cases,
};

/* -------------------------------------------------------- metadata suite */

struct mdt {
	struct file *f;
	struct block_device *bdev;
	struct dmh_metadata *md;
	char *error;
};

static int raw_io(struct block_device *bdev, u64 block, void *buf,
		  unsigned int nr, blk_opf_t op)
{
	unsigned int i;
	int r = 0;

	for (i = 0; i < nr && !r; i++) {
		struct bio *bio = bio_alloc(bdev, 1, op, GFP_KERNEL);

		bio->bi_iter.bi_sector = (block + i) * DMH_SECTORS_PER_BLOCK;
		__bio_add_page(bio, vmalloc_to_page(buf + i * PAGE_SIZE),
			       PAGE_SIZE, 0);
		r = submit_bio_wait(bio);
		bio_put(bio);
	}
	return r;
}

static u64 dev_blocks(struct mdt *t)
{
	return bdev_nr_sectors(t->bdev) / DMH_SECTORS_PER_BLOCK;
}

static int mdt_init(struct kunit *test)
{
	struct mdt *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	if (!t)
		return -ENOMEM;
	/* Not exclusive: the previous case's file may await its final fput. */
	t->f = bdev_file_open_by_path(mdev, BLK_OPEN_READ | BLK_OPEN_WRITE,
				      NULL, NULL);
	if (IS_ERR(t->f)) {
		kunit_err(test, "cannot open %s: %ld", mdev, PTR_ERR(t->f));
		return PTR_ERR(t->f);
	}
	t->bdev = file_bdev(t->f);
	test->priv = t;
	if (dev_blocks(t) < 1024)
		return -ENOSPC;
	return blkdev_issue_zeroout(t->bdev, 0, bdev_nr_sectors(t->bdev),
				    GFP_KERNEL, 0);
}

static void mdt_exit(struct kunit *test)
{
	struct mdt *t = test->priv;

	if (!t)
		return;
	if (!IS_ERR_OR_NULL(t->md))
		dmh_md_close(t->md);
	if (!IS_ERR_OR_NULL(t->f))
		fput(t->f);
}

static struct dmh_metadata *md_open(struct kunit *test, u32 ssd, u32 hdd)
{
	struct mdt *t = test->priv;

	t->md = dmh_md_open(t->bdev, CHUNK, (sector_t)ssd * CHUNK,
			    (sector_t)hdd * CHUNK, false, &t->error);
	return t->md;
}

static void md_reopen(struct kunit *test)
{
	struct mdt *t = test->priv;

	if (t->md)
		dmh_md_close(t->md);
	t->md = NULL;
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)),
			       "reopen: %s", t->error);
}

/* Allocate a chunk on @tier and map @vchunk of @v to it, as the pool does. */
static dmh_ploc_t map_one(struct kunit *test, struct dmh_volume *v,
			  unsigned int tier, u64 vchunk)
{
	struct mdt *t = test->priv;
	dmh_ploc_t p;

	KUNIT_ASSERT_EQ(test, dmh_md_alloc(t->md, tier, &p), 0);
	KUNIT_ASSERT_EQ(test, dmh_md_set_entry(v, vchunk,
					       dmh_entry(p, DMH_E_ALLOC)), 0);
	KUNIT_ASSERT_EQ(test, dmh_md_map(t->md, v, vchunk, p), 0);
	return p;
}

static struct dmh_volume *new_volume(struct kunit *test, u32 id, u64 chunks)
{
	struct mdt *t = test->priv;
	struct dmh_volume *v;

	KUNIT_ASSERT_EQ(test, dmh_md_create_volume(t->md, id), 0);
	v = dmh_md_volume(t->md, id);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_ASSERT_EQ(test, dmh_md_set_size(t->md, v, chunks * CHUNK), 0);
	return v;
}

static void format_map_reload(struct kunit *test)
{
	struct mdt *t = test->priv;
	struct dmh_md_usage u;
	struct dmh_volume *v;
	dmh_ploc_t p[4];
	int i;

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)),
			       "format: %s", t->error);
	v = new_volume(test, 7, 100);
	for (i = 0; i < 4; i++)
		p[i] = map_one(test, v, i & 1, 10 * i);
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	md_reopen(test);
	v = dmh_md_volume(t->md, 7);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_EXPECT_EQ(test, v->size, 100ull * CHUNK);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_TRUE(test, dmh_entry_ploc(dmh_lookup(v, 10 * i)) == p[i]);
	KUNIT_EXPECT_EQ(test, dmh_lookup(v, 5), 0ull);
	dmh_md_usage(t->md, &u);
	KUNIT_EXPECT_EQ(test, u.used[0], 2ull);
	KUNIT_EXPECT_EQ(test, u.used[1], 2ull);
	KUNIT_EXPECT_EQ(test, u.total[0], (u64)SSD_CHUNKS);
	KUNIT_EXPECT_EQ(test, u.nr_volumes, 1u);
	KUNIT_EXPECT_EQ(test, v->nr_chunks[0] + v->nr_chunks[1], 4ull);
}

static void freed_chunk_waits_for_reclaim(struct kunit *test)
{
	struct mdt *t = test->priv;
	struct dmh_volume *v;
	dmh_ploc_t p, q;
	int i;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 1, 1000);
	for (i = 0; i < SSD_CHUNKS; i++)
		p = map_one(test, v, DMH_TIER_SSD, i);
	KUNIT_EXPECT_EQ(test, dmh_md_alloc(t->md, DMH_TIER_SSD, &q), -ENOSPC);
	KUNIT_ASSERT_EQ(test, dmh_md_unmap(t->md, v, SSD_CHUNKS - 1), 0);
	/* Not before its transaction commits and the pool says it is safe. */
	KUNIT_EXPECT_EQ(test, dmh_md_alloc(t->md, DMH_TIER_SSD, &q), -ENOSPC);
	dmh_md_reclaim(t->md, dmh_md_txid(t->md));
	KUNIT_EXPECT_EQ(test, dmh_md_alloc(t->md, DMH_TIER_SSD, &q), -ENOSPC);
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	dmh_md_reclaim(t->md, dmh_md_txid(t->md));
	KUNIT_ASSERT_EQ(test, dmh_md_alloc(t->md, DMH_TIER_SSD, &q), 0);
	KUNIT_EXPECT_TRUE(test, q == p);
	dmh_md_put_chunk(t->md, q);
}

static void *snapshot(struct kunit *test)
{
	struct mdt *t = test->priv;
	void *img = vmalloc(dev_blocks(t) * DMH_BLOCK_SIZE);

	KUNIT_ASSERT_NOT_NULL(test, img);
	KUNIT_ASSERT_EQ(test, raw_io(t->bdev, 0, img, dev_blocks(t),
				     REQ_OP_READ), 0);
	return img;
}

/*
 * Power cut after a commit wrote its blocks but not its superblock: the
 * pool comes back at the previous commit, and the orphaned copies can
 * never resurface in a later transaction.
 */
static void cut_before_superblock(struct kunit *test)
{
	struct mdt *t = test->priv;
	struct dmh_volume *v;
	void *img;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 3, 100);
	map_one(test, v, DMH_TIER_SSD, 0);
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	dmh_md_close(t->md);
	t->md = NULL;
	img = snapshot(test);		/* state A, committed */
	md_reopen(test);
	v = dmh_md_volume(t->md, 3);
	map_one(test, v, DMH_TIER_SSD, 1);	/* state B */
	map_one(test, v, DMH_TIER_HDD, 2);
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	dmh_md_close(t->md);
	t->md = NULL;
	/* B's blocks are on disk, but put A's superblocks back. */
	KUNIT_ASSERT_EQ(test, raw_io(t->bdev, 0, img, 2, REQ_OP_WRITE), 0);
	vfree(img);
	md_reopen(test);
	v = dmh_md_volume(t->md, 3);
	KUNIT_EXPECT_NE(test, dmh_lookup(v, 0), 0ull);
	KUNIT_EXPECT_EQ(test, dmh_lookup(v, 1), 0ull);
	KUNIT_EXPECT_EQ(test, dmh_lookup(v, 2), 0ull);
	/* Two more commits that do not touch B's blocks' entries. */
	map_one(test, v, DMH_TIER_SSD, 5);
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	KUNIT_ASSERT_EQ(test, dmh_md_create_volume(t->md, 4), 0);
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	md_reopen(test);
	v = dmh_md_volume(t->md, 3);
	KUNIT_EXPECT_NE(test, dmh_lookup(v, 5), 0ull);
	KUNIT_EXPECT_EQ(test, dmh_lookup(v, 1), 0ull);
	KUNIT_EXPECT_EQ(test, dmh_lookup(v, 2), 0ull);
	KUNIT_EXPECT_EQ(test, v->nr_chunks[0] + v->nr_chunks[1], 2ull);
}

/* Read the superblock copy for @txid from a snapshot. */
static struct dmh_disk_super *sb_of(void *img, u64 txid)
{
	return img + (txid & 1) * DMH_BLOCK_SIZE;
}

/* A second owner for an owned virtual chunk must be refused at load. */
static void double_mapping_refused(struct kunit *test)
{
	struct mdt *t = test->priv;
	struct dmh_disk_super *s;
	struct dmh_volume *v;
	u64 txid, blk;
	__le64 *ent;
	void *img, *b;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 9, 100);
	map_one(test, v, DMH_TIER_HDD, 4);
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	txid = dmh_md_txid(t->md);
	dmh_md_close(t->md);
	t->md = NULL;
	img = snapshot(test);
	s = sb_of(img, txid);
	/* HDD rmap block 0 was written once, into copy 1. */
	blk = dmh_slot_block(le64_to_cpu(s->rmap_start[DMH_TIER_HDD]), 0, 1);
	b = img + blk * DMH_BLOCK_SIZE;
	ent = b + DMH_HDR_SIZE;
	KUNIT_ASSERT_EQ(test, le64_to_cpu(ent[0]), dmh_rmap_pack(9, 4));
	ent[1] = cpu_to_le64(dmh_rmap_pack(9, 4));
	seal(b, DMH_BT_RMAP, txid, 0);
	KUNIT_ASSERT_EQ(test, raw_io(t->bdev, blk, b, 1, REQ_OP_WRITE), 0);
	vfree(img);
	KUNIT_EXPECT_TRUE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	KUNIT_EXPECT_STREQ(test, t->error,
			   "Metadata reverse map is corrupt; run hybrid_check");
	t->md = NULL;
}

/*
 * A superblock understating a data device by a whole reverse-map block
 * (forged, checksum and all): activation must refuse it, not zero the
 * committed block past the count as left by a failed grow.
 */
static void understated_device_refused(struct kunit *test)
{
	const u32 hdd = 2 * DMH_RMAP_PER_BLOCK;
	struct mdt *t = test->priv;
	struct dmh_disk_super *s;
	struct dmh_volume *v;
	dmh_ploc_t p;
	void *img;
	u64 txid;
	int i;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, hdd)));
	v = new_volume(test, 6, 10);
	for (i = 0; i <= DMH_RMAP_PER_BLOCK; i++)	/* into HDD block 1 */
		KUNIT_ASSERT_EQ(test, dmh_md_alloc(t->md, DMH_TIER_HDD, &p), 0);
	KUNIT_ASSERT_EQ(test, dmh_ploc_index(p), (u64)DMH_RMAP_PER_BLOCK);
	KUNIT_ASSERT_EQ(test, dmh_md_set_entry(v, 3, dmh_entry(p, DMH_E_ALLOC)), 0);
	KUNIT_ASSERT_EQ(test, dmh_md_map(t->md, v, 3, p), 0);
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	txid = dmh_md_txid(t->md);
	dmh_md_close(t->md);
	t->md = NULL;
	img = snapshot(test);
	s = sb_of(img, txid);
	s->hdd_sectors = cpu_to_le64((u64)DMH_RMAP_PER_BLOCK * CHUNK);
	s->csum = cpu_to_le32(dmh_block_csum(s, DMH_BT_SUPER));
	KUNIT_ASSERT_EQ(test, raw_io(t->bdev, txid & 1, s, 1, REQ_OP_WRITE), 0);
	vfree(img);
	KUNIT_EXPECT_TRUE(test, IS_ERR(md_open(test, SSD_CHUNKS, hdd)));
	if (!IS_ERR(t->md))
		return;		/* mdt_exit() closes it */
	KUNIT_EXPECT_STREQ(test, t->error,
			   "Metadata maps chunks past its device sizes; run hybrid_check");
	t->md = NULL;
}

static void shrunk_device_refused(struct kunit *test)
{
	struct mdt *t = test->priv;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	dmh_md_close(t->md);
	t->md = md_open(test, SSD_CHUNKS - 1, HDD_CHUNKS);
	KUNIT_EXPECT_TRUE(test, IS_ERR(t->md));
	KUNIT_EXPECT_STREQ(test, t->error, "SSD device shrank since the last commit");
	t->md = NULL;
	/* Growing is accepted, within the reverse map's capacity. */
	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	KUNIT_EXPECT_EQ(test, dmh_md_resize(t->md, (SSD_CHUNKS + 8) * CHUNK,
					    HDD_CHUNKS * CHUNK, &t->error), 1);
	KUNIT_EXPECT_NE(test, dmh_md_resize(t->md, (SSD_CHUNKS - 1) * CHUNK,
					    HDD_CHUNKS * CHUNK, &t->error), 0);
}

static void delete_frees_and_isolates(struct kunit *test)
{
	struct mdt *t = test->priv;
	struct dmh_md_usage u;
	struct dmh_volume *v;
	int i;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 2, 50);
	for (i = 0; i < 10; i++)
		map_one(test, v, DMH_TIER_HDD, i);
	v->open_count = 1;
	KUNIT_EXPECT_EQ(test, dmh_md_delete_volume(t->md, 2), -EBUSY);
	v->open_count = 0;
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	KUNIT_ASSERT_EQ(test, dmh_md_delete_volume(t->md, 2), 0);
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	dmh_md_reclaim(t->md, dmh_md_txid(t->md));
	dmh_md_usage(t->md, &u);
	KUNIT_EXPECT_EQ(test, u.used[1], 0ull);
	v = new_volume(test, 2, 50);
	for (i = 0; i < 50; i++)
		KUNIT_EXPECT_EQ(test, dmh_lookup(v, i), 0ull);
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	md_reopen(test);
	dmh_md_usage(t->md, &u);
	KUNIT_EXPECT_EQ(test, u.used[1], 0ull);
	KUNIT_EXPECT_EQ(test, u.nr_volumes, 1u);
}

static void shrink_over_mapped_refused(struct kunit *test)
{
	struct mdt *t = test->priv;
	struct dmh_volume *v;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 5, 20);
	map_one(test, v, DMH_TIER_SSD, 15);
	KUNIT_EXPECT_EQ(test, dmh_md_set_size(t->md, v, 10 * CHUNK), -EBUSY);
	KUNIT_EXPECT_EQ(test, dmh_md_set_size(t->md, v, 16 * CHUNK), 0);
	KUNIT_EXPECT_EQ(test, dmh_md_set_size(t->md, v, 15 * CHUNK + 1), 0);
	KUNIT_EXPECT_EQ(test, dmh_md_create_volume(t->md, 5), -EEXIST);
	KUNIT_EXPECT_EQ(test, dmh_md_create_volume(t->md, DMH_VOLUME_ID_MAX + 1),
			-EINVAL);
}

/*
 * Activation refuses a pin past its volume's end; a volume shrunk under
 * pins keeps them in core, and the superblock gets their part inside it.
 */
static void pins_of_a_shrunk_volume_reload(struct kunit *test)
{
	struct mdt *t = test->priv;
	struct dmh_volume *v;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 3, 20);
	KUNIT_ASSERT_EQ(test, dmh_md_set_pin(t->md, v, 4, 20, DMH_PIN_HDD), 0);
	KUNIT_ASSERT_EQ(test, dmh_md_set_pin(t->md, v, 14, 16, DMH_PIN_SSD), 0);
	KUNIT_ASSERT_EQ(test, dmh_md_set_size(t->md, v, 12 * CHUNK), 0);
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	md_reopen(test);
	v = dmh_md_volume(t->md, 3);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_EXPECT_EQ(test, v->nr_pins, 1u);	/* 4..12 on the HDD */
	KUNIT_EXPECT_EQ(test, dmh_pin_of(v, 11), DMH_PIN_HDD);
	KUNIT_EXPECT_EQ(test, dmh_pin_of(v, 3), -1);
}

/*
 * Reclaim may write to a volume of the pool, and the volume's bios wait
 * for the worker holding md_lock: an allocation that may write pages
 * back, made under md_lock, can deadlock.  Lockdep is told so the way
 * dma_resv_lockdep() tells it about dma_resv: a lock standing for md_lock
 * is taken once inside reclaim.  Work done under it then makes lockdep
 * report, and turn itself off, if it allocates with __GFP_FS.
 */
static DEFINE_MUTEX(md_lock_standin);

static void md_lock_in_reclaim(void)
{
	fs_reclaim_acquire(GFP_KERNEL);
	mutex_lock(&md_lock_standin);
	mutex_unlock(&md_lock_standin);
	fs_reclaim_release(GFP_KERNEL);
}

/*
 * A heat save is asked for with md_lock held (the migration tick does so)
 * but allocates and writes its image on a queue of its own: nothing
 * reaches the device while md_lock is held, the heat is there once it is
 * dropped, and lockdep sees no reclaim under md_lock.
 */
static void heat_saved_outside_md_lock(struct kunit *test)
{
	struct mdt *t = test->priv;
	u64 bytes = dev_blocks(t) * DMH_BLOCK_SIZE;
	void *before, *during;
	struct dmh_volume *v;
	unsigned int noio;
	int r;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	KUNIT_ASSERT_EQ(test, dmh_md_heat_start(t->md, &md_lock_standin), 0);
	v = new_volume(test, 2, 8);
	map_one(test, v, DMH_TIER_HDD, 3);
	dmh_heat_set(v, 3, 0x42);
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	md_lock_in_reclaim();
	before = snapshot(test);
	during = vmalloc(bytes);
	KUNIT_ASSERT_NOT_NULL(test, during);
	mutex_lock(&md_lock_standin);
	dmh_md_save_heat(t->md);
	msleep(200);	/* time enough for a save that did not wait */
	noio = memalloc_noio_save();
	r = raw_io(t->bdev, 0, during, dev_blocks(t), REQ_OP_READ);
	memalloc_noio_restore(noio);
	mutex_unlock(&md_lock_standin);
	KUNIT_EXPECT_EQ(test, r, 0);
	KUNIT_EXPECT_TRUE_MSG(test, !memcmp(before, during, bytes),
			      "the heat save wrote under md_lock");
	vfree(before);
	vfree(during);
	dmh_md_flush_heat(t->md);
	md_reopen(test);
	v = dmh_md_volume(t->md, 2);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_EXPECT_EQ(test, dmh_heat_get(v, 3), 0x42);
	KUNIT_EXPECT_TRUE_MSG(test, debug_locks,
			      "lockdep reported a reclaim under md_lock");
}

static struct kunit_case md_cases[] = {
	KUNIT_CASE(format_map_reload),
	KUNIT_CASE(freed_chunk_waits_for_reclaim),
	KUNIT_CASE(cut_before_superblock),
	KUNIT_CASE(double_mapping_refused),
	KUNIT_CASE(shrunk_device_refused),
	KUNIT_CASE(delete_frees_and_isolates),
	KUNIT_CASE(shrink_over_mapped_refused),
	KUNIT_CASE(pins_of_a_shrunk_volume_reload),
	KUNIT_CASE(understated_device_refused),
	KUNIT_CASE(heat_saved_outside_md_lock),
	{}
};

static struct kunit_suite md_suite = {
	.name = "dm-hybrid-metadata",
	.init = mdt_init,
	.exit = mdt_exit,
	.test_cases = md_cases,
};

/* ---------------------------------------------------------- policy suite */

static const struct dmh_knobs test_knobs = {
	.migration = true, .hysteresis = 4, .half_life = 60, .reserve = 0,
	.seq_cutoff = 1024, .promote = 4, .tick_ms = 1000,
	.promote_free = 4,	/* no free-space promotion below promote */
};

/* Map @n chunks of @v from @first on @tier, each with heat @heat. */
static void fill(struct kunit *test, struct dmh_volume *v, unsigned int tier,
		 u64 first, unsigned int n, u8 heat)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		map_one(test, v, tier, first + i);
		dmh_heat_set(v, first + i, heat);
	}
}

static unsigned int plan(struct kunit *test, u64 free_ssd,
			 struct dmh_move *m, const struct dmh_knobs *k)
{
	struct mdt *t = test->priv;

	return dmh_policy_plan(t->md, k, free_ssd, m, 16);
}

static unsigned int count_to(struct dmh_move *m, unsigned int n,
			     struct dmh_volume *v, unsigned int tier)
{
	unsigned int c = 0;

	while (n--)
		c += m[n].vol == v && m[n].to == tier;
	return c;
}

static void heat_decays_by_half(struct kunit *test)
{
	struct dmh_volume *v;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 1, 10);
	dmh_heat_set(v, 3, 200);
	dmh_heat_set(v, 4, 1);
	dmh_mon_decay(v);
	KUNIT_EXPECT_EQ(test, dmh_heat_get(v, 3), 100);
	KUNIT_EXPECT_EQ(test, dmh_heat_get(v, 4), 0);
	KUNIT_EXPECT_EQ(test, dmh_heat_get(v, 99), 0);	/* past the end */
}

static void promotes_hottest_into_free_space(struct kunit *test)
{
	struct dmh_move m[16];
	struct dmh_volume *v;
	unsigned int n;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 1, 64);
	fill(test, v, DMH_TIER_HDD, 0, 8, 3);	/* below the threshold */
	fill(test, v, DMH_TIER_HDD, 8, 4, 50);
	dmh_heat_set(v, 9, 90);
	n = plan(test, 2, m, &test_knobs);
	KUNIT_ASSERT_EQ(test, n, 2u);
	KUNIT_EXPECT_EQ(test, m[0].vchunk, 9ull);	/* hottest first */
	KUNIT_EXPECT_EQ(test, m[0].to, (unsigned int)DMH_TIER_SSD);
	KUNIT_EXPECT_GE(test, m[1].vchunk, 8ull);
}

/*
 * A full SSD of chunks at @victim, one HDD chunk at @refused: no swap; at
 * @taken, one (the demotion of a victim; the promotion follows).
 */
static void swap_at(struct kunit *test, u8 victim, u8 refused, u8 taken)
{
	struct dmh_move m[16];
	struct dmh_volume *v;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 1, 64);
	fill(test, v, DMH_TIER_SSD, 0, 4, victim);
	fill(test, v, DMH_TIER_HDD, 10, 1, refused);
	KUNIT_EXPECT_EQ(test, plan(test, 0, m, &test_knobs), 0u);
	dmh_heat_set(v, 10, taken);
	KUNIT_ASSERT_EQ(test, plan(test, 0, m, &test_knobs), 1u);
	KUNIT_EXPECT_EQ(test, m[0].to, (unsigned int)DMH_TIER_HDD);
	KUNIT_EXPECT_LT(test, m[0].vchunk, 4ull);
}

/* Cold victims: twice their heat is not enough, the hysteresis rules. */
static void swap_needs_hysteresis(struct kunit *test)
{
	swap_at(test, 2, 6, 7);		/* 6 = 2 + hysteresis */
}

/* Warmer victims: the candidate needs twice their heat (1.5x stays out). */
static void swap_needs_twice_the_heat(struct kunit *test)
{
	swap_at(test, 10, 15, 20);
}

static void quotas_and_priority(struct kunit *test)
{
	struct dmh_move m[16];
	struct dmh_volume *a, *b;
	unsigned int n;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	a = new_volume(test, 1, 64);
	b = new_volume(test, 2, 64);
	fill(test, a, DMH_TIER_SSD, 0, 4, 1);	/* cold, on the SSD */
	fill(test, b, DMH_TIER_HDD, 0, 4, 100);	/* hot, on the HDD */
	/* ssd_min: a keeps its 4 chunks. */
	a->ssd_min = 4;
	KUNIT_EXPECT_EQ(test, plan(test, 0, m, &test_knobs), 0u);
	a->ssd_min = 2;
	n = plan(test, 0, m, &test_knobs);
	KUNIT_EXPECT_EQ(test, count_to(m, n, a, DMH_TIER_HDD), 2u);
	/* Demotions of an earlier tick still copying count against it. */
	a->ssd_leaving = 1;
	n = plan(test, 0, m, &test_knobs);
	KUNIT_EXPECT_EQ(test, count_to(m, n, a, DMH_TIER_HDD), 1u);
	a->ssd_leaving = 2;
	KUNIT_EXPECT_EQ(test, plan(test, 0, m, &test_knobs), 0u);
	a->ssd_leaving = 0;
	/* priority: a high volume is not evicted for a normal one ... */
	a->ssd_min = 0;
	a->priority = DMH_PRIO_HIGH;
	KUNIT_EXPECT_EQ(test, plan(test, 0, m, &test_knobs), 0u);
	/* ... and a low one never displaces anybody, only takes free space. */
	a->priority = DMH_PRIO_NORMAL;
	b->priority = DMH_PRIO_LOW;
	KUNIT_EXPECT_EQ(test, plan(test, 0, m, &test_knobs), 0u);
	n = plan(test, 3, m, &test_knobs);
	KUNIT_EXPECT_EQ(test, count_to(m, n, b, DMH_TIER_SSD), 3u);
	/* ssd_max: b may hold at most 1 chunk on the SSD. */
	b->priority = DMH_PRIO_NORMAL;
	b->ssd_max = 1;
	n = plan(test, 3, m, &test_knobs);
	KUNIT_EXPECT_EQ(test, count_to(m, n, b, DMH_TIER_SSD), 1u);
	/* weight: a score scaled by weight beats the hysteresis. */
	b->ssd_max = 0;
	KUNIT_EXPECT_GT(test, plan(test, 0, m, &test_knobs), 0u);
}

/*
 * The shares: a fast volume's SSD chunks at heat 200 against a slow
 * volume's hot set at heat 10 (the HDD serves it, so it makes fewer
 * accesses).  Ranked by heat alone the slow volume never gets in: 10 is
 * far from twice 200.  With shares it is due half of the SSD and takes it
 * whatever the heats, and no more.
 */
static void slow_volume_takes_its_share(struct kunit *test)
{
	struct dmh_move m[16];
	struct dmh_volume *a, *b;
	unsigned int n;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	a = new_volume(test, 1, 64);
	b = new_volume(test, 2, 64);
	fill(test, a, DMH_TIER_SSD, 0, 16, 200);
	fill(test, b, DMH_TIER_HDD, 0, 12, 10);
	n = plan(test, 0, m, &test_knobs);
	KUNIT_EXPECT_EQ(test, a->chunk_due, 8ull);
	KUNIT_EXPECT_EQ(test, b->chunk_due, 8ull);
	KUNIT_EXPECT_EQ(test, n, 8u);
	KUNIT_EXPECT_EQ(test, count_to(m, n, a, DMH_TIER_HDD), 8u);
	/* Weight 300 against 100: 12 of 16, capped by its 12 hot chunks. */
	b->weight = 300;
	n = plan(test, 0, m, &test_knobs);
	KUNIT_EXPECT_EQ(test, b->chunk_due, 12ull);
	KUNIT_EXPECT_EQ(test, a->chunk_due, 4ull);
	KUNIT_EXPECT_EQ(test, count_to(m, n, a, DMH_TIER_HDD), 12u);
}

/*
 * ... and once it holds its due, the fast volume's hotter chunks do not
 * take it back (ranked by heat, 200 beats 10 and they would), nor do its
 * cold chunks stay when the slow volume needs them: a volume with no hot
 * chunk is due nothing.
 */
static void a_volume_keeps_its_due(struct kunit *test)
{
	struct dmh_move m[16];
	struct dmh_volume *a, *b;
	unsigned int n;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	a = new_volume(test, 1, 64);
	b = new_volume(test, 2, 64);
	fill(test, a, DMH_TIER_SSD, 0, 8, 200);
	fill(test, a, DMH_TIER_HDD, 8, 8, 200);
	fill(test, b, DMH_TIER_SSD, 0, 8, 10);
	KUNIT_EXPECT_EQ(test, plan(test, 0, m, &test_knobs), 0u);
	KUNIT_EXPECT_EQ(test, b->chunk_due, 8ull);
	/*
	 * a's chunks go cold, and two half-lives later it has no demand
	 * left: b's hot HDD chunks take its SSD chunks.
	 */
	fill(test, b, DMH_TIER_HDD, 8, 4, 10);
	dmh_scn_heat(a, 0, 16, 0);
	dmh_mon_decay(a);
	KUNIT_EXPECT_EQ(test, plan(test, 0, m, &test_knobs), 0u);
	dmh_mon_decay(a);
	n = plan(test, 0, m, &test_knobs);
	KUNIT_EXPECT_EQ(test, a->chunk_due, 0ull);
	KUNIT_EXPECT_EQ(test, count_to(m, n, a, DMH_TIER_HDD), 4u);
}

/*
 * A low-priority volume never displaces anyone, shares or not: c (normal)
 * is due 6 of a's chunks and takes 6, not the 9 that its own 6 and the
 * low volume b's 3 would make, nor fewer because b's candidates, which
 * cannot displace, fill the bounded list first; b gets only what free
 * space is left.  The first pass learns the dues, the second plans by
 * them.
 */
static void low_priority_claims_no_share(struct kunit *test)
{
	struct dmh_move m[16];
	struct dmh_volume *a, *b, *c;
	unsigned int n;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	a = new_volume(test, 1, 64);
	b = new_volume(test, 2, 64);
	c = new_volume(test, 3, 64);
	b->priority = DMH_PRIO_LOW;
	fill(test, a, DMH_TIER_SSD, 0, 16, 200);
	fill(test, b, DMH_TIER_HDD, 0, 12, 10);
	fill(test, c, DMH_TIER_HDD, 0, 12, 10);
	plan(test, 0, m, &test_knobs);
	n = plan(test, 0, m, &test_knobs);
	KUNIT_EXPECT_EQ(test, a->chunk_due, 6ull);
	KUNIT_EXPECT_EQ(test, b->chunk_due, 3ull);
	KUNIT_EXPECT_EQ(test, c->chunk_due, 6ull);
	KUNIT_EXPECT_EQ(test, count_to(m, n, a, DMH_TIER_HDD), 6u);
	KUNIT_EXPECT_EQ(test, n, 6u);
}

static int pin(struct kunit *test, struct dmh_volume *v, u64 start, u64 end,
	       int tier)
{
	struct mdt *t = test->priv;

	return dmh_md_set_pin(t->md, v, start, end, tier);
}

static void pins_override_heat(struct kunit *test)
{
	struct dmh_move m[16];
	struct dmh_volume *v;
	unsigned int n;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 1, 64);
	fill(test, v, DMH_TIER_HDD, 0, 2, 0);	/* cold, pinned to the SSD */
	fill(test, v, DMH_TIER_SSD, 10, 2, 200);	/* hot, pinned to the HDD */
	KUNIT_ASSERT_EQ(test, pin(test, v, 0, 2, DMH_PIN_SSD), 0);
	KUNIT_ASSERT_EQ(test, pin(test, v, 10, 12, DMH_PIN_HDD), 0);
	n = plan(test, 4, m, &test_knobs);
	KUNIT_EXPECT_EQ(test, count_to(m, n, v, DMH_TIER_SSD), 2u);
	KUNIT_EXPECT_EQ(test, count_to(m, n, v, DMH_TIER_HDD), 2u);
	KUNIT_EXPECT_EQ(test, dmh_policy_first_tier(v, 11, false, 10, &test_knobs),
			(unsigned int)DMH_TIER_HDD);
	KUNIT_EXPECT_EQ(test, dmh_policy_first_tier(v, 1, false, 1, &test_knobs),
			(unsigned int)DMH_TIER_SSD);
	/* auto removes a pin; overlapping pins split the old range. */
	KUNIT_ASSERT_EQ(test, pin(test, v, 0, 1, -1), 0);
	KUNIT_EXPECT_EQ(test, dmh_pin_of(v, 0), -1);
	KUNIT_EXPECT_EQ(test, dmh_pin_of(v, 1), DMH_PIN_SSD);
}

/*
 * evacuate: every SSD chunk is a forced demotion, pinned to the SSD, hot
 * or reserved by ssd_min; no promotion, not even of a range pinned to the
 * SSD; every first write goes to the HDD.
 */
static void evacuation_demotes_everything(struct kunit *test)
{
	struct dmh_knobs k = test_knobs;
	struct dmh_move m[16];
	struct dmh_volume *v;
	unsigned int n, i;

	k.evacuate = true;
	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 1, 64);
	fill(test, v, DMH_TIER_SSD, 0, 4, 200);		/* hot, pinned there */
	fill(test, v, DMH_TIER_SSD, 4, 2, 0);
	fill(test, v, DMH_TIER_HDD, 10, 2, 200);	/* hot, pinned to the SSD */
	KUNIT_ASSERT_EQ(test, pin(test, v, 0, 4, DMH_PIN_SSD), 0);
	KUNIT_ASSERT_EQ(test, pin(test, v, 10, 12, DMH_PIN_SSD), 0);
	v->ssd_min = 6;
	n = plan(test, 4, m, &k);
	KUNIT_EXPECT_EQ(test, n, 6u);
	KUNIT_EXPECT_EQ(test, count_to(m, n, v, DMH_TIER_HDD), 6u);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_TRUE(test, m[i].forced);
	KUNIT_EXPECT_EQ(test, dmh_policy_first_tier(v, 1, false, 10, &k),
			(unsigned int)DMH_TIER_HDD);
	KUNIT_EXPECT_EQ(test, dmh_policy_first_tier(v, 30, false, 10, &k),
			(unsigned int)DMH_TIER_HDD);
	/* evacuate off: the pins rule again. */
	n = plan(test, 4, m, &test_knobs);
	KUNIT_EXPECT_EQ(test, count_to(m, n, v, DMH_TIER_SSD), 2u);
	KUNIT_EXPECT_EQ(test, count_to(m, n, v, DMH_TIER_HDD), 0u);
}

static void first_write_classification(struct kunit *test)
{
	struct dmh_knobs k = test_knobs;
	struct dmh_volume *v;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 1, 64);
	KUNIT_EXPECT_EQ(test, dmh_policy_first_tier(v, 0, false, 5, &k),
			(unsigned int)DMH_TIER_SSD);
	/* A stream past the cut-off goes to the HDD. */
	KUNIT_EXPECT_EQ(test, dmh_policy_first_tier(v, 0, true, 5, &k),
			(unsigned int)DMH_TIER_HDD);
	k.reserve = 5;		/* the reserve is for hot data, not first writes */
	KUNIT_EXPECT_EQ(test, dmh_policy_first_tier(v, 0, false, 5, &k),
			(unsigned int)DMH_TIER_HDD);
	v->ssd_max = 1;		/* a capped volume at its cap */
	k.reserve = 0;
	map_one(test, v, DMH_TIER_SSD, 9);
	KUNIT_EXPECT_EQ(test, dmh_policy_first_tier(v, 0, false, 5, &k),
			(unsigned int)DMH_TIER_HDD);
}

/*
 * A pass split into steps of a few chunks, across two volumes, plans the
 * same moves as one whole pass; a reset starts the pass over.
 */
static void pass_spans_steps(struct kunit *test)
{
	struct dmh_move *whole = kunit_kcalloc(test, 32, sizeof(*whole),
					       GFP_KERNEL);
	struct dmh_move *part = whole + 16;
	struct dmh_volume *a, *b;
	unsigned int n, np = 0, steps = 0, i;
	struct dmh_metadata *md;
	struct dmh_scan s;

	KUNIT_ASSERT_NOT_NULL(test, whole);
	md = md_open(test, SSD_CHUNKS, HDD_CHUNKS);
	KUNIT_ASSERT_FALSE(test, IS_ERR(md));
	a = new_volume(test, 1, 64);
	b = new_volume(test, 2, 64);
	fill(test, a, DMH_TIER_HDD, 0, 10, 40);
	fill(test, b, DMH_TIER_HDD, 5, 10, 60);
	dmh_heat_set(b, 7, 200);
	fill(test, a, DMH_TIER_SSD, 30, 6, 0);	/* victims */
	n = plan(test, 3, whole, &test_knobs);
	KUNIT_ASSERT_GT(test, n, 3u);		/* promotions and swaps */
	KUNIT_ASSERT_EQ(test, dmh_scan_init(&s), 0);
	while (!np && steps < 100) {
		np = dmh_policy_step(md, &s, &test_knobs, 3, part, 16, 4);
		steps++;
	}
	KUNIT_EXPECT_EQ(test, steps, 7u);	/* 26 chunks, 4 per step */
	KUNIT_ASSERT_EQ(test, np, n);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_PTR_EQ(test, part[i].vol, whole[i].vol);
		KUNIT_EXPECT_EQ(test, part[i].vchunk, whole[i].vchunk);
		KUNIT_EXPECT_EQ(test, part[i].to, whole[i].to);
	}
	/* Half a pass, a reset, then a pass from the start: same plan. */
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, dmh_policy_step(md, &s, &test_knobs, 3,
						      part, 16, 4), 0u);
	dmh_scan_reset(&s);
	np = dmh_policy_step(md, &s, &test_knobs, 3, part, 16, U64_MAX);
	KUNIT_EXPECT_EQ(test, np, n);
	KUNIT_EXPECT_EQ(test, part[0].vchunk, whole[0].vchunk);
	dmh_scan_exit(&s);
}

/*
 * Promotion into free space: a chunk of heat 1 takes free SSD space beyond
 * the reserve and the other volumes' ssd_min when promote_free_threshold
 * is 1, never a swap, never the reserve, and ssd_max still caps it.
 */
static void promotes_lukewarm_into_free_space(struct kunit *test)
{
	struct dmh_knobs k = test_knobs;
	struct dmh_move m[16];
	struct dmh_volume *v, *w;
	unsigned int n;

	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 1, 64);
	fill(test, v, DMH_TIER_HDD, 0, 6, 1);
	/* (a) threshold 4 for both: heat 1 is not a candidate */
	KUNIT_EXPECT_EQ(test, plan(test, 10, m, &k), 0u);
	k.promote_free = 1;
	n = plan(test, 10, m, &k);
	KUNIT_EXPECT_EQ(test, n, 6u);
	KUNIT_EXPECT_EQ(test, count_to(m, n, v, DMH_TIER_SSD), 6u);
	/* room for 2 beyond the reserve: only 2 */
	k.reserve = 8;
	KUNIT_EXPECT_EQ(test, count_to(m, plan(test, 10, m, &k), v,
				       DMH_TIER_SSD), 2u);
	/* (b) free space that is only the reserve: nothing */
	KUNIT_EXPECT_EQ(test, plan(test, 8, m, &k), 0u);
	KUNIT_EXPECT_EQ(test, plan(test, 5, m, &k), 0u);
	k.reserve = 0;
	/* no swap for a lukewarm chunk: a cold victim stays */
	fill(test, v, DMH_TIER_SSD, 20, 2, 0);
	KUNIT_EXPECT_EQ(test, plan(test, 0, m, &k), 0u);
	/* (c) ssd_max caps it: 2 on the SSD already, cap 4 */
	v->ssd_max = 4;
	KUNIT_EXPECT_EQ(test, count_to(m, plan(test, 10, m, &k), v,
				       DMH_TIER_SSD), 2u);
	v->ssd_max = 2;
	KUNIT_EXPECT_EQ(test, plan(test, 10, m, &k), 0u);
	v->ssd_max = 0;
	/* another volume's unmet ssd_min is kept free for it */
	w = new_volume(test, 2, 64);
	w->ssd_min = 7;
	KUNIT_EXPECT_EQ(test, count_to(m, plan(test, 10, m, &k), v,
				       DMH_TIER_SSD), 3u);
	w->ssd_min = 10;
	KUNIT_EXPECT_EQ(test, plan(test, 10, m, &k), 0u);
	/* a hot chunk still uses that space, as before */
	dmh_heat_set(v, 5, 4);
	n = plan(test, 10, m, &k);
	KUNIT_EXPECT_EQ(test, n, 1u);
	KUNIT_EXPECT_EQ(test, m[0].vchunk, 5ull);
	/* a volume's own ssd_min does not hold its promotions back */
	w->ssd_min = 0;
	v->ssd_min = 10;
	KUNIT_EXPECT_EQ(test, count_to(m, plan(test, 10, m, &k), v,
				       DMH_TIER_SSD), 6u);
}

/* ------------------------------------- the placement lab's scenario */

static u64 scn_free_ssd(struct dmh_volume **v)
{
	u64 used = 0;
	int i;

	for (i = 0; i < DMH_SCN_VOLS; i++)
		used += v[i]->nr_chunks[DMH_TIER_SSD];
	return DMH_SCN_SSD - used;
}

/* As the copy engine does it; then commit, and reclaim the sources. */
static void scn_apply(struct kunit *test, struct dmh_move *m, unsigned int n)
{
	struct mdt *t = test->priv;
	unsigned int i;
	dmh_ploc_t p;
	u64 e;

	for (i = 0; i < n; i++) {
		e = dmh_entry(dmh_entry_ploc(dmh_lookup(m[i].vol, m[i].vchunk)),
			      DMH_E_MIGRATE);
		KUNIT_ASSERT_EQ(test, dmh_md_alloc(t->md, m[i].to, &p), 0);
		KUNIT_ASSERT_EQ(test,
				dmh_md_set_entry(m[i].vol, m[i].vchunk, e), 0);
		KUNIT_ASSERT_EQ(test, dmh_md_map(t->md, m[i].vol, m[i].vchunk, p),
				0);
	}
	KUNIT_ASSERT_EQ(test, dmh_md_commit(t->md), 0);
	dmh_md_reclaim(t->md, dmh_md_txid(t->md));
}

static void scn_step(struct kunit *test, struct dmh_volume **vols,
		     const struct dmh_scn_step *s)
{
	struct dmh_volume *v = s->vol ? vols[s->vol - 1] : NULL;
	unsigned int i;

	switch (s->op) {
	case SCN_MAP:
		for (i = s->a; i < s->a + s->n; i++) {
			map_one(test, v, s->tier, i);
			dmh_heat_set(v, i, s->heat);
		}
		break;
	case SCN_HEAT:
		dmh_scn_heat(v, s->a, s->n, s->heat);
		break;
	case SCN_HIT:
		dmh_scn_hit(v, s->a, s->n);
		break;
	case SCN_DECAY:
		for (i = 0; i < DMH_SCN_VOLS; i++)
			dmh_mon_decay(vols[i]);
		break;
	}
}

static void scn_volumes(struct kunit *test, struct dmh_volume **vols)
{
	struct mdt *t = test->priv;
	struct dmh_vol_controls c = {};
	int i;

	for (i = 0; i < DMH_SCN_VOLS; i++) {
		vols[i] = new_volume(test, i + 1, DMH_SCN_CHUNKS);
		c.weight = dmh_scn_controls[i][0];
		c.priority = dmh_scn_controls[i][1];
		c.ssd_min = dmh_scn_controls[i][2];
		c.ssd_max = dmh_scn_controls[i][3];
		KUNIT_ASSERT_EQ(test, dmh_md_set_controls(t->md, vols[i], &c), 0);
	}
}

/*
 * tests/kunit/policy-scenario.h, which bench/sim/decisions runs through the same
 * policy source in user space: the kernel plans the same moves.
 */
static void same_decisions_as_the_lab(struct kunit *test)
{
	const struct dmh_knobs k = DMH_SCN_KNOBS;
	struct dmh_volume *vols[DMH_SCN_VOLS];
	const struct dmh_scn_step *s;
	struct dmh_move *m = kunit_kcalloc(test, 16, sizeof(*m), GFP_KERNEL);
	char *got = kunit_kzalloc(test, 256, GFP_KERNEL);
	unsigned int i, n;

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_NOT_NULL(test, got);
	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, DMH_SCN_SSD, HDD_CHUNKS * 2)));
	scn_volumes(test, vols);
	for (i = 0; i < ARRAY_SIZE(dmh_scn_script); i++) {
		s = &dmh_scn_script[i];
		if (s->op != SCN_PLAN) {
			scn_step(test, vols, s);
			continue;
		}
		n = dmh_policy_plan(((struct mdt *)test->priv)->md, &k,
				    scn_free_ssd(vols), m, s->n);
		dmh_scn_print(got, 256, m, n);
		KUNIT_EXPECT_STREQ_MSG(test, got, s->expect, "step %u", i);
		scn_apply(test, m, n);
	}
}

static void plan_under_md_lock_allocates_no_io(struct kunit *test)
{
	struct dmh_move m[16];
	struct dmh_volume *v;

	if (!IS_ENABLED(CONFIG_PROVE_LOCKING) || !debug_locks)
		kunit_skip(test, "needs lockdep, on");
	KUNIT_ASSERT_FALSE(test, IS_ERR(md_open(test, SSD_CHUNKS, HDD_CHUNKS)));
	v = new_volume(test, 1, 64);
	fill(test, v, DMH_TIER_HDD, 8, 4, 50);
	md_lock_in_reclaim();
	mutex_lock(&md_lock_standin);
	KUNIT_EXPECT_EQ(test, plan(test, 2, m, &test_knobs), 2u);
	mutex_unlock(&md_lock_standin);
	KUNIT_EXPECT_TRUE_MSG(test, debug_locks,
			      "lockdep reported a reclaim under md_lock");
}

static struct kunit_case policy_cases[] = {
	KUNIT_CASE(heat_decays_by_half),
	KUNIT_CASE(promotes_hottest_into_free_space),
	KUNIT_CASE(swap_needs_hysteresis),
	KUNIT_CASE(swap_needs_twice_the_heat),
	KUNIT_CASE(quotas_and_priority),
	KUNIT_CASE(slow_volume_takes_its_share),
	KUNIT_CASE(a_volume_keeps_its_due),
	KUNIT_CASE(low_priority_claims_no_share),
	KUNIT_CASE(pins_override_heat),
	KUNIT_CASE(evacuation_demotes_everything),
	KUNIT_CASE(first_write_classification),
	KUNIT_CASE(pass_spans_steps),
	KUNIT_CASE(promotes_lukewarm_into_free_space),
	KUNIT_CASE(same_decisions_as_the_lab),
	KUNIT_CASE(plan_under_md_lock_allocates_no_io),
	{}
};

static struct kunit_suite policy_suite = {
	.name = "dm-hybrid-policy",
	.init = mdt_init,
	.exit = mdt_exit,
	.test_cases = policy_cases,
};

kunit_test_suites(&pure_suite, &md_suite, &policy_suite);

MODULE_DESCRIPTION("KUnit tests for dm-hybrid");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
