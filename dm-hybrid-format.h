/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-hybrid on-disk metadata format.
 *
 * This is the one description of the format: the kernel module and the
 * userspace tools (tools/) both include it, so there is no second copy to
 * drift.  Everything here is plain integer arithmetic on fixed-width
 * little-endian fields.
 *
 * Layout of the metadata device, in 4 KiB blocks:
 *
 *   0, 1          superblock, two copies (slot = txid & 1)
 *   vt_start      volume table: vt_blocks logical blocks, two copies each
 *   rmap_start[t] reverse map of tier t (SSD, HDD): one entry per physical
 *                 chunk naming its owner, two copies of each block
 *   heat_start    chunk heat, one byte per physical chunk, one copy
 *   slog_start    staging log (pools formatted since it, where the device
 *                 has room): two halves of records, appended by commits
 *
 * Logical block i of a two-copy region lives at start + 2 * i + slot.
 *
 * Commit protocol (shadowing with generations): a transaction writes every
 * block it changed into the slot that is *not* live, stamped with the new
 * transaction id, flushes, and only then writes the superblock copy for the
 * new transaction id with FUA.  At activation the superblock copy with the
 * highest valid transaction id wins; for every two-copy block, the copy with
 * a valid checksum and the highest transaction id not above the
 * superblock's is live.  A copy stamped above the superblock's transaction
 * id belongs to a transaction that never committed: the kernel invalidates
 * it before it commits anything, so a later transaction id can never make
 * it look valid.  A power cut at any instant therefore leaves either the
 * old or the new transaction, whole.
 *
 * The reverse map is the only record of placement: the forward map of each
 * volume and the allocation bitmaps are rebuilt from it at activation.
 * Hence no chunk can be leaked by a torn update, and one physical chunk can
 * never have two owners; a virtual chunk claimed by two physical chunks is
 * detected at activation.
 */
#ifndef DM_HYBRID_FORMAT_H
#define DM_HYBRID_FORMAT_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <asm/byteorder.h>
#define dmh_le32_to_cpu(x)	le32_to_cpu(x)
#define dmh_le64_to_cpu(x)	le64_to_cpu(x)
#else
#include <assert.h>
#include <endian.h>
#include <errno.h>
#define dmh_le32_to_cpu(x)	le32toh(x)
#define dmh_le64_to_cpu(x)	le64toh(x)
#endif

#define DMH_MAGIC		0x48594252u	/* "RBYH" on disk */
#define DMH_VERSION		1u
#define DMH_BLOCK_SIZE		4096u
#define DMH_BLOCK_SHIFT		12
#define DMH_SECTORS_PER_BLOCK	8u

/* Block types, kept in each block header; also salt the checksum. */
#define DMH_BT_SUPER		0x53555052u
#define DMH_BT_VOLUMES		0x564f4c53u
#define DMH_BT_RMAP		0x524d4150u
#define DMH_BT_HEAT		0x48454154u
#define DMH_BT_SLOG		0x534c4f47u

#define DMH_CHUNK_SECTORS_MIN	128u		/* 64 KiB */
#define DMH_CHUNK_SECTORS_MAX	131072u		/* 64 MiB */
#define DMH_CHUNK_SECTORS_DEF	2048u		/* 1 MiB */

#define DMH_TIER_SSD		0
#define DMH_TIER_HDD		1
#define DMH_NR_TIERS		2

#define DMH_VOLUME_ID_MAX	((1u << 24) - 1)
#define DMH_NAME_LEN		64

/*
 * Superblock flags, split as dm-thin and dm-cache split their feature
 * words.  The low 16 bits are compatible: state that a kernel or tool not
 * knowing a bit may ignore and keeps as it found it.  The high 16 are
 * incompatible features: whoever does not know one cannot read the pool
 * right, so every one not in DMH_SB_INCOMPAT_KNOWN is refused.
 * DMH_SB_INCOMPAT_SLOG is set exactly while the live half of the staging
 * log holds records: only then would a reader that ignores the log miss
 * bytes (staged writes whose only copy is on the SSD).
 */
#define DMH_SB_NEEDS_CHECK	0x1u		/* compatible */
#define DMH_SB_INCOMPAT		0xffff0000u
#define DMH_SB_INCOMPAT_SLOG	0x10000u
#define DMH_SB_INCOMPAT_KNOWN	DMH_SB_INCOMPAT_SLOG

/*
 * Pinned ranges live in the superblock block, after struct dmh_disk_super
 * at DMH_PINS_OFFSET: nr_pins records, the rest zero.
 */
#define DMH_PIN_SSD		0
#define DMH_PIN_HDD		1
#define DMH_MAX_PINS		64
#define DMH_PINS_OFFSET		512

struct dmh_disk_pin {
	__le32 vol;
	__le32 tier;			/* DMH_PIN_SSD or DMH_PIN_HDD */
	__le64 start;			/* first virtual chunk */
	__le64 end;			/* last virtual chunk + 1 */
};

/* Tunables, indexes into dmh_disk_super::tunables; 0 there = default. */
#define DMH_TUN_FLAGS		0	/* bit 0: migration off, 1: evacuating */
#define DMH_TUN_RATE		1	/* migration rate, MiB/s */
#define DMH_TUN_HYSTERESIS	2
#define DMH_TUN_HALF_LIFE	3	/* seconds */
#define DMH_TUN_RESERVE		4	/* SSD chunks kept free */
#define DMH_TUN_SEQ_CUTOFF	5	/* KiB */
#define DMH_TUN_PROMOTE		6	/* promote threshold */
#define DMH_TUN_TICK		7	/* migration period, ms */
#define DMH_TUN_HEAT_SAVE	8	/* heat save period, seconds */
#define DMH_TUN_PROMOTE_FREE	9	/* promote threshold into free space */
#define DMH_NR_TUNABLES		16

/*
 * The pool knobs, the one list the kernel, the tools and the fuzzer's
 * grammar read: X(field, name, tunable index, min, max, default).  The
 * order is that of the knob fields in the pool status line, except that
 * the migration backoffs counter sits between heat_save_interval and
 * promote_free_threshold there (a field added before the last knob).
 * ssd_reserve's default 0 stands for "1% of the SSD, at least 1 chunk".
 * "set <name> <value>" stores value + 1 at the index (0 = default);
 * migration on|off is bit 0 of DMH_TUN_FLAGS, evacuate on|off bit 1.
 */
#define DMH_KNOBS(X)							\
	X(rate, migration_rate, DMH_TUN_RATE, 0, 100000, 64)		\
	X(hysteresis, hysteresis, DMH_TUN_HYSTERESIS, 0, 255, 4)	\
	X(half_life, heat_half_life, DMH_TUN_HALF_LIFE, 0, 86400, 60)	\
	X(reserve, ssd_reserve, DMH_TUN_RESERVE, 0, 4294967294u, 0)	\
	X(seq_cutoff, seq_cutoff, DMH_TUN_SEQ_CUTOFF, 0, 1048576, 1024) \
	X(promote, promote_threshold, DMH_TUN_PROMOTE, 0, 255, 4)	\
	X(tick_ms, tick_ms, DMH_TUN_TICK, 10, 60000, 250)		\
	X(heat_save, heat_save_interval, DMH_TUN_HEAT_SAVE, 1, 3600, 30) \
	X(promote_free, promote_free_threshold, DMH_TUN_PROMOTE_FREE,	\
	  0, 255, 1)

/*
 * Superblock, at the start of block 0 or 1; the rest of the block is zero.
 * csum covers bytes 4 .. DMH_BLOCK_SIZE - 1 of the block.
 */
struct dmh_disk_super {
	__le32 csum;
	__le32 magic;
	__le32 version;
	__le32 flags;
	__le64 txid;
	__u8 uuid[16];
	__le32 block_size;
	__le32 chunk_sectors;
	__le64 md_blocks;		/* metadata device size at format */
	__le64 ssd_sectors;		/* data device sizes at last commit */
	__le64 hdd_sectors;
	__le64 vt_start;
	__le64 vt_blocks;
	__le64 rmap_start[DMH_NR_TIERS];
	__le64 rmap_blocks[DMH_NR_TIERS];
	__le64 heat_start;
	__le64 heat_blocks;
	__le32 nr_volumes;
	__le32 nr_pins;			/* records at DMH_PINS_OFFSET */
	__le64 promotions;		/* lifetime counters */
	__le64 demotions;
	__le32 tunables[DMH_NR_TUNABLES];	/* DMH_TUN_*, 0 = default */
	/* Staging log (see struct dmh_disk_slog_rec); all 0: none. */
	__le64 slog_start;
	__le64 slog_blocks;		/* both halves */
	__le64 slog_used;		/* blocks of records in the live half */
	__le64 slog_base;		/* they carry txids above this one */
	__le32 slog_half;		/* the live half, 0 or 1 */
	__le32 slog_reserved;		/* zero */
};

/* Header of every volume table, reverse map and heat block. */
struct dmh_disk_block_header {
	__le32 csum;			/* bytes 4 .. DMH_BLOCK_SIZE - 1 */
	__le32 type;			/* DMH_BT_* */
	__le64 txid;			/* transaction that wrote this copy */
	__le64 blocknr;			/* logical index within its region */
	__le64 reserved;
};

#define DMH_HDR_SIZE		32u

/* Every field is naturally aligned: no packing needed, sizes are fixed. */
static_assert(sizeof(struct dmh_disk_block_header) == 32, "header size");
static_assert(sizeof(struct dmh_disk_super) <= DMH_PINS_OFFSET, "superblock size");
static_assert(sizeof(struct dmh_disk_pin) == 24, "pin size");
static_assert(DMH_PINS_OFFSET + DMH_MAX_PINS * 24 <= DMH_BLOCK_SIZE, "pins fit");

/* Volume record; flags say whether the slot is in use. */
#define DMH_VOL_IN_USE		0x1u
#define DMH_VOL_MIGRATE_OFF	0x2u

struct dmh_disk_volume {
	__le32 id;
	__le32 flags;
	__le64 size_sectors;
	__le32 weight;
	__le32 priority;
	__le64 ssd_min;			/* chunks */
	__le64 ssd_max;			/* chunks, 0 = no cap */
	__u8 name[DMH_NAME_LEN];	/* NUL padded, not terminated */
	__u8 reserved[24];
};

#define DMH_VOL_RECORD_SIZE	128u
static_assert(sizeof(struct dmh_disk_volume) == DMH_VOL_RECORD_SIZE, "record size");
#define DMH_VOLS_PER_BLOCK	((DMH_BLOCK_SIZE - DMH_HDR_SIZE) / DMH_VOL_RECORD_SIZE)
#define DMH_VT_BLOCKS		33u
#define DMH_MAX_VOLUMES		(DMH_VT_BLOCKS * DMH_VOLS_PER_BLOCK)

/*
 * Reverse map entry, one per physical chunk: zero when free, else bit 63
 * set, the owner's volume id in bits 39..62 and its virtual chunk in bits
 * 0..38.
 */
#define DMH_RMAP_PER_BLOCK	((DMH_BLOCK_SIZE - DMH_HDR_SIZE) / 8)
#define DMH_RMAP_USED		0x8000000000000000ull
#define DMH_RMAP_VOL_SHIFT	39
#define DMH_RMAP_VCHUNK_MASK	((1ull << DMH_RMAP_VOL_SHIFT) - 1)
#define DMH_VCHUNK_MAX		DMH_RMAP_VCHUNK_MASK

#define DMH_HEAT_PER_BLOCK	(DMH_BLOCK_SIZE - DMH_HDR_SIZE)

/*
 * Staging log (pool feature persistent_staging): where the block tier's
 * dirty slots are, so that a staged write acknowledged by a flush
 * survives a crash with its only copy on the SSD.  A commit appends
 * records to the live half, in blocks of type DMH_BT_SLOG whose blocknr
 * is their index in the region and whose txid is the commit's; the
 * superblock then counts them in slog_used; a block's header field
 * "reserved" holds its number of records (1 to DMH_SLOG_PER_BLOCK), the
 * rest of the block is zero.  Blocks past slog_used, or
 * stamped at or below slog_base or above the superblock's txid, are not
 * part of the log.  When the live half is full a commit starts the other
 * one (slog_base = the last committed txid) with a record of every dirty
 * slot, so a half must hold one record per slot that may be dirty.
 *
 * Replay: records in order, the last one of each SSD block wins; one
 * with sectors 0 says the block holds nothing staged (any more).  A dirty
 * block's key is a volume id and a 4 KiB block of that volume, whose
 * chunk must be mapped to the HDD; its sectors are the 512-byte sectors
 * of the block it holds, a bit each, all of them newer than the HDD's.
 */
#define DMH_SLOG_VOL_SHIFT	40
#define DMH_SLOG_BLOCK_MASK	((1ull << DMH_SLOG_VOL_SHIFT) - 1)
#define DMH_SLOG_SECTORS_FULL	0xffu	/* 4 KiB: 8 sectors */
#define DMH_SLOG_BLOCKS_MAX	8192u	/* 32 MiB: two halves */
#define DMH_SLOG_BLOCKS_MIN	16u

struct dmh_disk_slog_rec {
	__le64 key;			/* volume id << 40 | 4 KiB block */
	__le64 where;			/* SSD 4 KiB block holding it */
	__le32 sectors;			/* 0: clean, else the sectors held */
	__le32 reserved;		/* zero */
};

#define DMH_SLOG_REC_SIZE	24u
static_assert(sizeof(struct dmh_disk_slog_rec) == DMH_SLOG_REC_SIZE, "slog record size");
#define DMH_SLOG_PER_BLOCK	((DMH_BLOCK_SIZE - DMH_HDR_SIZE) / DMH_SLOG_REC_SIZE)

static inline __u64 dmh_rmap_pack(__u32 vol, __u64 vchunk)
{
	return DMH_RMAP_USED | ((__u64)vol << DMH_RMAP_VOL_SHIFT) |
	       (vchunk & DMH_RMAP_VCHUNK_MASK);
}

static inline __u32 dmh_rmap_vol(__u64 e)
{
	return (__u32)((e & ~DMH_RMAP_USED) >> DMH_RMAP_VOL_SHIFT);
}

static inline __u64 dmh_rmap_vchunk(__u64 e)
{
	return e & DMH_RMAP_VCHUNK_MASK;
}

/*
 * Checksum: crc32c (Castagnoli) with seed ~0 over the block after the csum
 * field, xored with the block type so that a block of one type can never
 * pass as another.  The kernel uses crc32c(); the tools carry a table.
 */
#define DMH_CSUM_SEED		0xffffffffu

/*
 * Bounds of a layout, whatever a superblock says; they keep every sum and
 * product in dmh_layout_check() far from overflow.  A tier's reverse map
 * describes at most DMH_TIER_CHUNKS_MAX chunks: the kernel keeps a bitmap
 * of a tier's capacity in one kvmalloc(), which refuses (and warns about)
 * more than INT_MAX bytes.
 */
#define DMH_MD_BLOCKS_MAX	0x1000000000ull		/* 2^36: 256 TiB */
#define DMH_TIER_CHUNKS_MAX	((1ull << 34) - 64)
#define DMH_RMAP_BLOCKS_MAX	(DMH_TIER_CHUNKS_MAX / DMH_RMAP_PER_BLOCK)

/* Where the regions lie, derived from sizes alone. */
struct dmh_layout {
	__u64 md_blocks;
	__u64 vt_start;
	__u64 vt_blocks;
	__u64 rmap_start[DMH_NR_TIERS];
	__u64 rmap_blocks[DMH_NR_TIERS];	/* logical blocks per tier */
	__u64 heat_start;
	__u64 heat_blocks;
	__u64 slog_start;		/* 0 with slog_blocks 0: no log */
	__u64 slog_blocks;
};

static inline __u64 dmh_div_up(__u64 n, __u64 d)
{
	return (n + d - 1) / d;
}

/* Metadata blocks needed for given per-tier chunk capacities. */
static inline __u64 dmh_layout_need(__u64 ssd_cap, __u64 hdd_cap)
{
	return 2 + 2 * (__u64)DMH_VT_BLOCKS +
	       2 * dmh_div_up(ssd_cap, DMH_RMAP_PER_BLOCK) +
	       2 * dmh_div_up(hdd_cap, DMH_RMAP_PER_BLOCK) +
	       dmh_div_up(ssd_cap + hdd_cap, DMH_HEAT_PER_BLOCK);
}

/*
 * The staging log takes an eighth of the room beyond what the maps need,
 * up to DMH_SLOG_BLOCKS_MAX, in two equal halves; none below
 * DMH_SLOG_BLOCKS_MIN.
 */
static inline __u64 dmh_slog_size(__u64 room)
{
	__u64 n = room / 8;

	n = n < DMH_SLOG_BLOCKS_MAX ? n & ~1ull : DMH_SLOG_BLOCKS_MAX;
	return n < DMH_SLOG_BLOCKS_MIN ? 0 : n;
}

/*
 * Lay out a metadata device of md_blocks for ssd_chunks and hdd_chunks.
 * Space beyond what those need is shared between the tiers in proportion to
 * their sizes, so that either data device can later grow into it, up to
 * the bounds above.  Returns 0, or -1 if the device is too small or a tier
 * has more chunks than a reverse map may describe.
 */
static inline int dmh_layout_compute(__u64 md_blocks, __u64 ssd_chunks,
				     __u64 hdd_chunks, struct dmh_layout *l)
{
	__u64 per = DMH_RMAP_PER_BLOCK, cap_max = DMH_RMAP_BLOCKS_MAX * per;
	__u64 spare, frac, add_ssd, ssd_cap, hdd_cap, total, slog;

	/*
	 * The bounds of dmh_layout_check(): a device beyond 256 TiB lends
	 * only that much, and no tier's capacity passes DMH_TIER_CHUNKS_MAX
	 * (a spare rmap block per 2 blocks of metadata got there from about
	 * 300 GiB of metadata on).  They keep every product below 2^50.
	 */
	if (ssd_chunks > cap_max || hdd_chunks > cap_max)
		return -1;
	if (md_blocks > DMH_MD_BLOCKS_MAX)
		md_blocks = DMH_MD_BLOCKS_MAX;
	if (dmh_layout_need(ssd_chunks, hdd_chunks) > md_blocks)
		return -1;
	total = ssd_chunks + hdd_chunks;
	slog = dmh_slog_size(md_blocks - dmh_layout_need(ssd_chunks, hdd_chunks));
	md_blocks -= slog;
	/* A spare rmap block costs two copies and 1/8 of a heat block. */
	spare = (md_blocks - dmh_layout_need(ssd_chunks, hdd_chunks)) * 8 / 17;
	frac = total ? ssd_chunks * 1024 / total : 512;	/* SSD share, 1/1024 */
	add_ssd = spare / 1024 * frac + spare % 1024 * frac / 1024;
	ssd_cap = (dmh_div_up(ssd_chunks, per) + add_ssd) * per;
	hdd_cap = (dmh_div_up(hdd_chunks, per) + spare - add_ssd) * per;
	ssd_cap = ssd_cap < cap_max ? ssd_cap : cap_max;
	hdd_cap = hdd_cap < cap_max ? hdd_cap : cap_max;
	while (dmh_layout_need(ssd_cap, hdd_cap) > md_blocks) {
		if (hdd_cap >= hdd_chunks + per &&
		    (hdd_cap >= ssd_cap || ssd_cap < ssd_chunks + per))
			hdd_cap -= per;
		else
			ssd_cap -= per;
	}
	l->md_blocks = md_blocks + slog;
	l->vt_start = 2;
	l->vt_blocks = DMH_VT_BLOCKS;
	l->rmap_start[DMH_TIER_SSD] = l->vt_start + 2 * l->vt_blocks;
	l->rmap_blocks[DMH_TIER_SSD] = ssd_cap / per;
	l->rmap_start[DMH_TIER_HDD] = l->rmap_start[DMH_TIER_SSD] +
				      2 * l->rmap_blocks[DMH_TIER_SSD];
	l->rmap_blocks[DMH_TIER_HDD] = hdd_cap / per;
	l->heat_start = l->rmap_start[DMH_TIER_HDD] +
			2 * l->rmap_blocks[DMH_TIER_HDD];
	l->heat_blocks = dmh_div_up(ssd_cap + hdd_cap, DMH_HEAT_PER_BLOCK);
	l->slog_start = slog ? l->heat_start + l->heat_blocks : 0;
	l->slog_blocks = slog;
	return 0;
}

/*
 * Heat region: one byte per physical chunk of capacity, SSD chunks first,
 * then HDD chunks; block b holds bytes b * DMH_HEAT_PER_BLOCK onwards after
 * its header (type DMH_BT_HEAT, blocknr b, txid of the commit that wrote
 * it).  One copy: a block with a bad checksum just means zero heat.
 */
static inline __u64 dmh_heat_index(const struct dmh_layout *l,
				   unsigned int tier, __u64 pchunk)
{
	return tier == DMH_TIER_SSD ? pchunk :
	       l->rmap_blocks[DMH_TIER_SSD] * DMH_RMAP_PER_BLOCK + pchunk;
}

/* Physical block of copy @slot of logical block @i in a two-copy region. */
static inline __u64 dmh_slot_block(__u64 start, __u64 i, unsigned int slot)
{
	return start + 2 * i + slot;
}

/* The superblock fields the layout depends on, in host byte order. */
struct dmh_geometry {
	__u32 block_size;
	__u32 chunk_sectors;
	__u64 sectors[DMH_NR_TIERS];	/* ssd_sectors, hdd_sectors */
	struct dmh_layout layout;	/* md_blocks: the superblock's */
};

static inline void dmh_geometry_decode(const struct dmh_disk_super *s,
				       struct dmh_geometry *g)
{
	struct dmh_layout *l = &g->layout;
	int t;

	g->block_size = dmh_le32_to_cpu(s->block_size);
	g->chunk_sectors = dmh_le32_to_cpu(s->chunk_sectors);
	g->sectors[DMH_TIER_SSD] = dmh_le64_to_cpu(s->ssd_sectors);
	g->sectors[DMH_TIER_HDD] = dmh_le64_to_cpu(s->hdd_sectors);
	l->md_blocks = dmh_le64_to_cpu(s->md_blocks);
	l->vt_start = dmh_le64_to_cpu(s->vt_start);
	l->vt_blocks = dmh_le64_to_cpu(s->vt_blocks);
	for (t = 0; t < DMH_NR_TIERS; t++) {
		l->rmap_start[t] = dmh_le64_to_cpu(s->rmap_start[t]);
		l->rmap_blocks[t] = dmh_le64_to_cpu(s->rmap_blocks[t]);
	}
	l->heat_start = dmh_le64_to_cpu(s->heat_start);
	l->heat_blocks = dmh_le64_to_cpu(s->heat_blocks);
	l->slog_start = dmh_le64_to_cpu(s->slog_start);
	l->slog_blocks = dmh_le64_to_cpu(s->slog_blocks);
}

/* Chunks of @tier at the last commit; chunk_sectors checked first. */
static inline __u64 dmh_geometry_chunks(const struct dmh_geometry *g,
					unsigned int tier)
{
	return g->sectors[tier] / g->chunk_sectors;
}

/* Entries in the reverse map of @tier; rmap_blocks bounded first. */
static inline __u64 dmh_layout_capacity(const struct dmh_layout *l,
					unsigned int tier)
{
	return l->rmap_blocks[tier] * DMH_RMAP_PER_BLOCK;
}

static inline char *dmh_sizes_fault(const struct dmh_geometry *g,
				    __u64 dev_blocks)
{
	__u32 cs = g->chunk_sectors;

	if (g->block_size != DMH_BLOCK_SIZE)
		return "Metadata block size is not 4 KiB";
	if (cs < DMH_CHUNK_SECTORS_MIN || cs > DMH_CHUNK_SECTORS_MAX ||
	    (cs & (cs - 1)))
		return "Metadata chunk size is not a power of two from 64 KiB to 64 MiB";
	if (g->layout.md_blocks > DMH_MD_BLOCKS_MAX)
		return "Metadata device size in the superblock is above 256 TiB";
	if (g->layout.md_blocks > dev_blocks)
		return "Metadata device is truncated: smaller than the superblock says";
	return NULL;
}

/* The staging log, if any, follows the heat region in two halves. */
static inline char *dmh_slog_region_fault(const struct dmh_layout *l)
{
	if (!l->slog_blocks)
		return l->slog_start ?
		       "Metadata staging log has a start but no blocks" : NULL;
	if (l->slog_blocks > DMH_SLOG_BLOCKS_MAX || (l->slog_blocks & 1) ||
	    l->slog_blocks < DMH_SLOG_BLOCKS_MIN)
		return "Metadata staging log size is not an even number of blocks from 16 to 8192";
	if (l->slog_start != l->heat_start + l->heat_blocks)
		return "Metadata staging log does not follow the heat region";
	if (l->slog_start + l->slog_blocks > l->md_blocks)
		return "Metadata staging log extends past the metadata device size";
	return NULL;
}

/*
 * The regions in the order dmh_layout_compute() lays them out, back to
 * back: the kernel reads and writes each region by its start and length
 * alone, so a region that overlapped another would be two regions' blocks.
 */
static inline char *dmh_regions_fault(const struct dmh_layout *l)
{
	if (l->vt_start != 2 || l->vt_blocks != DMH_VT_BLOCKS)
		return "Metadata volume table is not where the format puts it";
	if (l->rmap_blocks[DMH_TIER_SSD] > DMH_RMAP_BLOCKS_MAX ||
	    l->rmap_blocks[DMH_TIER_HDD] > DMH_RMAP_BLOCKS_MAX)
		return "Metadata reverse map is larger than the kernel supports";
	if (l->rmap_start[DMH_TIER_SSD] != l->vt_start + 2 * l->vt_blocks ||
	    l->rmap_start[DMH_TIER_HDD] != l->rmap_start[DMH_TIER_SSD] +
					   2 * l->rmap_blocks[DMH_TIER_SSD])
		return "Metadata reverse maps do not follow the volume table";
	if (l->heat_start != l->rmap_start[DMH_TIER_HDD] +
			     2 * l->rmap_blocks[DMH_TIER_HDD])
		return "Metadata heat region does not follow the reverse maps";
	/*
	 * Heat has one byte per chunk of capacity (dmh_heat_index()): fewer
	 * blocks and the heat image overflows, more and every heat save
	 * allocates and writes blocks nothing reads.
	 */
	if (l->heat_blocks != dmh_div_up(dmh_layout_capacity(l, DMH_TIER_SSD) +
					 dmh_layout_capacity(l, DMH_TIER_HDD),
					 DMH_HEAT_PER_BLOCK))
		return "Metadata heat region does not match the reverse maps";
	if (l->heat_start + l->heat_blocks > l->md_blocks)
		return "Metadata regions extend past the metadata device size";
	return dmh_slog_region_fault(l);
}

/*
 * Every chunk of a data device needs a reverse map entry: the kernel sets
 * one bit per chunk in a bitmap sized by the capacity.
 */
static inline char *dmh_capacity_fault(const struct dmh_geometry *g)
{
	if (dmh_geometry_chunks(g, DMH_TIER_SSD) >
	    dmh_layout_capacity(&g->layout, DMH_TIER_SSD))
		return "Metadata SSD reverse map has fewer entries than the SSD has chunks";
	if (dmh_geometry_chunks(g, DMH_TIER_HDD) >
	    dmh_layout_capacity(&g->layout, DMH_TIER_HDD))
		return "Metadata HDD reverse map has fewer entries than the HDD has chunks";
	return NULL;
}

/*
 * A commit records each data device as its whole chunks, and the
 * constructor refuses a device smaller than one chunk.  A tier of no chunk
 * would have every reverse-map block of it zeroed at a read-write
 * activation as left by an interrupted grow (clobber_beyond()): the whole
 * tier unmapped.
 */
static inline char *dmh_chunks_fault(const struct dmh_geometry *g)
{
	static char *const why[DMH_NR_TIERS][2] = {
		{ "Metadata SSD size is below one chunk; run hybrid_check",
		  "Metadata SSD size is not a whole number of chunks; run hybrid_check" },
		{ "Metadata HDD size is below one chunk; run hybrid_check",
		  "Metadata HDD size is not a whole number of chunks; run hybrid_check" },
	};
	unsigned int t;

	for (t = 0; t < DMH_NR_TIERS; t++) {
		if (!dmh_geometry_chunks(g, t))
			return why[t][0];
		if (g->sectors[t] % g->chunk_sectors)
			return why[t][1];
	}
	return NULL;
}

/*
 * The one layout validator of the kernel and the tools.  @dev_blocks is
 * the size of the metadata device now, in blocks.  Returns 0, or -EINVAL
 * with *@why set to a sentence for the user (a dm target's ti->error is a
 * char *, hence no const).
 */
static inline int dmh_geometry_check(const struct dmh_geometry *g,
				     __u64 dev_blocks, char **why)
{
	*why = dmh_sizes_fault(g, dev_blocks);
	if (!*why)
		*why = dmh_regions_fault(&g->layout);
	if (!*why)
		*why = dmh_capacity_fault(g);
	if (!*why)
		*why = dmh_chunks_fault(g);
	return *why ? -EINVAL : 0;
}

/* Incompatible features this code does not know (see DMH_SB_INCOMPAT). */
static inline char *dmh_flags_fault(__u32 flags)
{
	return flags & DMH_SB_INCOMPAT & ~DMH_SB_INCOMPAT_KNOWN ?
	       "Metadata uses unknown incompatible features: written by a newer dm-hybrid?" :
	       NULL;
}

/*
 * A commit writes transaction txid + 1, and activation takes the copy of
 * the highest: a txid near 2^64 would wrap, and the superblock it was to
 * replace would win again at the next activation, silently dropping every
 * later commit.  2^62 is a million years at a commit a microsecond.
 */
#define DMH_TXID_MAX		0x4000000000000000ull	/* 2^62 */

static inline char *dmh_txid_fault(__u64 txid)
{
	return txid > DMH_TXID_MAX ?
	       "Metadata transaction id is above 2^62: the superblock is forged" :
	       NULL;
}

/*
 * A stored knob is 0 (its default) or its value + 1 within DMH_KNOBS'
 * bounds: the kernel uses it as it finds it, and tick_ms 0 would requeue
 * the migration worker without a pause.  Returns why @tun (host order) is
 * out of range, or NULL.
 */
static inline char *dmh_tunables_fault(const __u32 *tun)
{
	/* The columns other than index, name and bounds pass through. */
#define DMH_KNOB_AT(idx, name, min, max, ...)	\
	{ idx, min, max, "Metadata knob " #name " is out of range; run hybrid_repair" },
#define DMH_KNOB_BOUND(field, name, idx, min, max, ...)	\
	DMH_KNOB_AT(idx, name, min, max, field, __VA_ARGS__)
	static const struct {
		unsigned int idx;
		__u32 min, max;
		char *why;
	} k[] = { DMH_KNOBS(DMH_KNOB_BOUND) { 0, 0, 0, NULL } };
#undef DMH_KNOB_BOUND
#undef DMH_KNOB_AT
	unsigned int i;

	for (i = 0; k[i].why; i++)
		if (tun[k[i].idx] &&
		    (tun[k[i].idx] - 1 < k[i].min || tun[k[i].idx] - 1 > k[i].max))
			return k[i].why;
	return NULL;
}

/*
 * The staging log's state in superblock @s (host order in @l): the live
 * half's records lie in it, stamped after slog_base and no later than the
 * superblock, and DMH_SB_INCOMPAT_SLOG says whether there are any.
 */
static inline char *dmh_slog_state_fault(const struct dmh_disk_super *s,
					 const struct dmh_layout *l)
{
	__u64 used = dmh_le64_to_cpu(s->slog_used);
	__u32 half = dmh_le32_to_cpu(s->slog_half);
	__u32 flag = !!(dmh_le32_to_cpu(s->flags) & DMH_SB_INCOMPAT_SLOG);
	__u32 any = used ? 1 : 0;

	if (half > 1 || used > l->slog_blocks / 2 || s->slog_reserved)
		return "Metadata staging log state is out of range; run hybrid_check";
	if (dmh_le64_to_cpu(s->slog_base) > dmh_le64_to_cpu(s->txid))
		return "Metadata staging log is newer than its superblock; run hybrid_check";
	if (flag != any)
		return "Metadata staging log flag disagrees with its length; run hybrid_check";
	return NULL;
}

/*
 * dmh_geometry_check() of superblock @s, then the other fields the kernel
 * takes as they are; its layout into @out if valid.  (nr_volumes and
 * nr_pins are checked against what the kernel loads.)
 */
static inline int dmh_layout_check(const struct dmh_disk_super *s,
				   __u64 dev_blocks, struct dmh_layout *out,
				   char **why)
{
	__u32 tun[DMH_NR_TUNABLES];
	struct dmh_geometry g;
	int i;

	dmh_geometry_decode(s, &g);
	if (dmh_geometry_check(&g, dev_blocks, why))
		return -EINVAL;
	for (i = 0; i < DMH_NR_TUNABLES; i++)
		tun[i] = dmh_le32_to_cpu(s->tunables[i]);
	*why = dmh_txid_fault(dmh_le64_to_cpu(s->txid));
	if (!*why)
		*why = dmh_flags_fault(dmh_le32_to_cpu(s->flags));
	if (!*why)
		*why = dmh_tunables_fault(tun);
	if (!*why)
		*why = dmh_slog_state_fault(s, &g.layout);
	if (*why)
		return -EINVAL;
	*out = g.layout;
	return 0;
}

#endif /* DM_HYBRID_FORMAT_H */
