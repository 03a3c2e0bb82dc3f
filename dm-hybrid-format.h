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
#else
#include <assert.h>
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

#define DMH_CHUNK_SECTORS_MIN	128u		/* 64 KiB */
#define DMH_CHUNK_SECTORS_MAX	131072u		/* 64 MiB */
#define DMH_CHUNK_SECTORS_DEF	2048u		/* 1 MiB */

#define DMH_TIER_SSD		0
#define DMH_TIER_HDD		1
#define DMH_NR_TIERS		2

#define DMH_VOLUME_ID_MAX	((1u << 24) - 1)
#define DMH_NAME_LEN		64

/* Superblock flags */
#define DMH_SB_NEEDS_CHECK	0x1u

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
#define DMH_TUN_FLAGS		0	/* bit 0: migration off */
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
 * migration on|off is bit 0 of DMH_TUN_FLAGS.
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

/* Where the regions lie, derived from sizes alone. */
struct dmh_layout {
	__u64 md_blocks;
	__u64 vt_start;
	__u64 vt_blocks;
	__u64 rmap_start[DMH_NR_TIERS];
	__u64 rmap_blocks[DMH_NR_TIERS];	/* logical blocks per tier */
	__u64 heat_start;
	__u64 heat_blocks;
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
 * Lay out a metadata device of md_blocks for ssd_chunks and hdd_chunks.
 * Space beyond what those need is shared between the tiers in proportion to
 * their sizes, so that either data device can later grow into it.  Returns
 * 0, or -1 if the device is too small.
 */
static inline int dmh_layout_compute(__u64 md_blocks, __u64 ssd_chunks,
				     __u64 hdd_chunks, struct dmh_layout *l)
{
	__u64 per = DMH_RMAP_PER_BLOCK;
	__u64 spare, frac, add_ssd, ssd_cap, hdd_cap, total;

	if (dmh_layout_need(ssd_chunks, hdd_chunks) > md_blocks)
		return -1;
	total = ssd_chunks + hdd_chunks;
	/* A spare rmap block costs two copies and 1/8 of a heat block. */
	spare = (md_blocks - dmh_layout_need(ssd_chunks, hdd_chunks)) * 8 / 17;
	frac = total ? ssd_chunks * 1024 / total : 512;	/* SSD share, 1/1024 */
	add_ssd = spare / 1024 * frac + spare % 1024 * frac / 1024;
	ssd_cap = (dmh_div_up(ssd_chunks, per) + add_ssd) * per;
	hdd_cap = (dmh_div_up(hdd_chunks, per) + spare - add_ssd) * per;
	while (dmh_layout_need(ssd_cap, hdd_cap) > md_blocks) {
		if (hdd_cap >= hdd_chunks + per &&
		    (hdd_cap >= ssd_cap || ssd_cap < ssd_chunks + per))
			hdd_cap -= per;
		else
			ssd_cap -= per;
	}
	l->md_blocks = md_blocks;
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

#endif /* DM_HYBRID_FORMAT_H */
