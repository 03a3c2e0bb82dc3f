/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared code of the dm-hybrid metadata tools: reading a metadata device,
 * choosing the live copy of every block, semantic checks, the fixes that
 * hybrid_repair applies, and writing a transaction back.
 *
 * The on-disk format is dm-hybrid-format.h; nothing of it is redefined
 * here.  Everything in struct md_image is in host byte order except the
 * raw block buffers, which hold the blocks exactly as on disk.
 */
#ifndef DMH_TOOLS_MD_H
#define DMH_TOOLS_MD_H

#include <stdarg.h>
#include <stdio.h>
#include <linux/types.h>

#include "dm-hybrid-format.h"

typedef __u8 u8;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;

/*
 * The kernel's __printf, which user space lacks.  The line break keeps
 * checkpatch from asking this definition to use __printf itself.
 */
#ifndef __printf
#define __printf(a, b)	__attribute__((	\
	__format__(__printf__, a, b)))
#endif

/* Exit status shared by all tools. */
#define MD_EXIT_OK		0	/* clean / success */
#define MD_EXIT_REPAIRABLE	1	/* problems hybrid_repair can fix */
#define MD_EXIT_BROKEN		2	/* metadata unusable without help */
#define MD_EXIT_USAGE		3	/* bad usage or I/O error */

/*
 * The options every metadata tool shares, for its getopt loop:
 * -q/--quiet (@verbosity 0), -v/--verbose (2), -h/--help, and an unknown
 * option (getopt's '?').  Returns -1 when parsing goes on, else the exit
 * status main() returns (after @help printed the usage).  A tool passes
 * only the options it offers; @verbosity may be NULL for a tool without
 * -q and -v.
 */
int md_common_opt(int ch, int *verbosity, void (*help)(FILE *f));

/* Severity of a finding. */
enum md_sev {
	MD_INFO,		/* harmless, shown with --verbose */
	MD_REPAIR,		/* repairable, no data lost */
	MD_LOSS,		/* repairable, data may be lost */
	MD_BROKEN,		/* not repairable automatically */
	MD_NR_SEV,
};

/* A finding kept for --json rather than printed. */
struct md_finding {
	enum md_sev sev;
	char *msg;
};

struct md_report {
	const char *prog;
	FILE *out;
	int verbosity;		/* 0 quiet, 1 normal, 2 verbose */
	unsigned long count[MD_NR_SEV];
	unsigned long printed;
	unsigned long suppressed;
	unsigned long leftovers;	/* uncommitted or torn copies */
	/*
	 * --json: the findings that would be printed are kept here instead
	 * (the same ones: by verbosity, at most as many), and
	 * md_report_flush() leaves suppressed as it is for the object.
	 */
	int keep;
	struct md_finding *kept;
	unsigned long nkept;
};

/* Host-order copy of a pin record (struct dmh_disk_pin). */
struct md_pin {
	u32 vol;
	u32 tier;		/* DMH_PIN_SSD or DMH_PIN_HDD */
	u64 start;		/* first virtual chunk */
	u64 end;		/* last virtual chunk + 1 */
};

/*
 * Host-order copy of the superblock, with its pin records.  nr_pins is
 * the count as found; at most DMH_MAX_PINS records are decoded.
 */
struct md_super {
	u32 flags;
	u64 txid;
	u8 uuid[16];
	u32 block_size;
	u32 chunk_sectors;
	u64 md_blocks;
	u64 ssd_sectors;
	u64 hdd_sectors;
	struct dmh_layout layout;
	u32 nr_volumes;
	u32 nr_pins;
	u64 promotions;
	u64 demotions;
	u32 tunables[DMH_NR_TUNABLES];
	struct md_pin pins[DMH_MAX_PINS];
	/* staging log state; its region is in layout */
	u64 slog_used;
	u64 slog_base;
	u32 slog_half;
	u32 slog_reserved;
};

/* State of one logical block of a region. */
struct md_blkstate {
	u64 txid;		/* txid of the live copy, 0 if none */
	s8 live;		/* live slot, -1 if never written */
	u8 dirty;		/* rewrite at the next commit */
	u8 stale_mask;		/* slots holding copies to invalidate */
};

/*
 * A region of the metadata device.  data holds the live copy of each
 * logical block (zero when never written or unreadable).  Two-copy regions
 * have state; the heat region has one copy per block and no state.
 */
struct md_region {
	const char *name;
	u32 type;
	u64 start;
	u64 nblocks;
	int two_copy;
	u8 *data;
	struct md_blkstate *st;
};

struct md_volume {
	u32 slot;
	u32 id;
	u32 flags;
	u64 size_sectors;
	u32 weight;
	u32 priority;
	u64 ssd_min;
	u64 ssd_max;
	u8 name[DMH_NAME_LEN];
};

/*
 * The live half of the staging log: slog_used blocks from region block
 * first.  A block that is not part of the log (damaged, or stamped outside
 * (slog_base, txid]) has why set and no records.
 */
struct md_slog_rec {
	u64 key;		/* volume id << DMH_SLOG_VOL_SHIFT | 4 KiB block */
	u64 where;		/* SSD 4 KiB block */
	u32 sectors;
	u32 reserved;
	u32 blk;		/* its block, counted from first */
	u64 txid;		/* its block's */
};

struct md_slog_blk {
	u64 txid;
	u32 count;		/* records, the header's "reserved" */
	const char *why;	/* NULL: part of the log */
	int tail;		/* bytes after the records are not zero */
};

struct md_slog {
	u64 first;
	u32 nblk;
	struct md_slog_blk *blk;
	struct md_slog_rec *rec;
	u32 nrec, cap;
	int dirty;		/* md_commit() writes the blocks (restore) */
	int drop;		/* a log that cannot be replayed may go */
};

struct md_image {
	int fd;
	const char *path;
	u64 dev_blocks;		/* size of the device or file */
	struct md_super sb;
	int sb_slot;
	struct md_region vt;
	struct md_region rmap[DMH_NR_TIERS];
	struct md_region heat;
	u64 chunks[DMH_NR_TIERS];	/* valid physical chunks now */
	u64 cap[DMH_NR_TIERS];		/* rmap capacity in entries */
	struct md_volume *vols;		/* in-use records, slot order */
	u32 nr_vols;
	struct md_slog slog;
};

extern const char *const md_tier_name[DMH_NR_TIERS];

/* Name of a pin's tier, or NULL if the value is not a valid tier. */
const char *md_pin_tier_name(u32 tier);

/* Names of the tunables that have one (NULL elsewhere), see dump. */
extern const char *const md_tunable_name[DMH_NR_TUNABLES];

/* Reporting. */
void md_report_init(struct md_report *r, const char *prog, FILE *out,
		    int verbosity);
__printf(3, 4)
void md_note(struct md_report *r, enum md_sev sev, const char *fmt, ...);
void md_report_flush(struct md_report *r);
/* Free the kept findings. */
void md_report_free(struct md_report *r);
int md_report_exit(const struct md_report *r);
unsigned long md_problems(const struct md_report *r);

/* Checksums and block headers. */
u32 md_block_csum(const void *block, u32 type);
void md_block_seal(void *block, u32 type, u64 txid, u64 blocknr);

/*
 * Superblock encoding and consistency of its fields.  decode takes the
 * whole superblock block (the pins follow struct dmh_disk_super in it).
 */
void md_super_decode(const void *block, struct md_super *s);
void md_super_encode(const struct md_super *s, void *block);
int md_super_check(const struct md_super *s, char *why, size_t len);

/*
 * The parts of md_super_check(): the layout, txid and incompatible flags
 * on a device of @dev_blocks; and the staging log's state, with @flag_too
 * its DMH_SB_INCOMPAT_SLOG bit (which md_check() can repair) as well.
 */
const char *md_layout_fault(const struct md_super *s, u64 dev_blocks);
const char *md_slog_state_fault(const struct md_super *s, int flag_too);

/* Live half of the staging log: its first block, in the region. */
u64 md_slog_first(const struct md_super *s);

/*
 * persistent_staging: the log blocks that let a block tier of
 * @tier_bytes keep every slot dirty (the kernel stages at most a half's
 * records less one, one record a 4 KiB slot), at least
 * DMH_SLOG_BLOCKS_MIN; at most DMH_SLOG_BLOCKS_MAX, *@capped set when
 * that cut it.
 */
u64 md_slog_blocks_for(u64 tier_bytes, int *capped);

/*
 * The smallest metadata device, in blocks, whose layout for the tiers'
 * @chunks (dmh_layout_compute()) has room for @cap chunks in each tier
 * and a staging log of @log blocks; 0 if none of up to 256 TiB has.
 */
u64 md_size_with_log(const u64 *chunks, const u64 *cap, u64 log);

/*
 * Why a live log block stamped @txid, after one stamped @prev, is not part
 * of the log of @s; NULL if it is.
 */
const char *md_slog_txid_fault(const struct md_super *s, u64 txid, u64 prev);

/* Append a record to the log in memory (restore); 0 or -ENOMEM. */
int md_slog_add(struct md_image *img, const struct md_slog_rec *rec);

/*
 * Open and load: returns MD_EXIT_OK when the image could be loaded (its
 * findings are in @r), MD_EXIT_BROKEN when it is unusable and
 * MD_EXIT_USAGE on I/O errors.  @writable opens the device read-write.
 */
int md_open(struct md_image *img, const char *path, int writable,
	    struct md_report *r);
int md_load(struct md_image *img, struct md_report *r);
void md_close(struct md_image *img);

/* Allocate empty in-memory regions for @sb (used by restore). */
int md_alloc(struct md_image *img, const struct md_super *sb);

/* Reverse map and heat access. */
u64 md_rmap_get(const struct md_image *img, int tier, u64 p);
void md_rmap_set(struct md_image *img, int tier, u64 p, u64 e);
u64 md_rmap_txid(const struct md_image *img, int tier, u64 p);
u8 md_heat_get(const struct md_image *img, int tier, u64 p);
void md_heat_set(struct md_image *img, int tier, u64 p, u8 v);

/* Volume table. */
const struct md_volume *md_find_volume(const struct md_image *img, u32 id);
int md_put_volume(struct md_image *img, const struct md_volume *v);
void md_sort_volumes(struct md_image *img);
u64 md_volume_chunks(const struct md_image *img, const struct md_volume *v);

/* Semantic checks; with @fix, repairable findings are fixed in memory. */
struct md_counts {
	u64 mapped[DMH_NR_TIERS];
	u64 free[DMH_NR_TIERS];
	u64 fixed;
};

void md_check(struct md_image *img, struct md_report *r, int fix,
	      struct md_counts *c);

/*
 * Write a transaction: invalidate stale copies, write every dirty block
 * with @txid into the slot that is not live, flush, then write the
 * superblock slot @txid & 1 and flush again.  Returns 0 or -errno.
 */
int md_commit(struct md_image *img, u64 txid, int heat_too);

/* I/O helpers. */
int md_read_block(int fd, u64 nr, void *buf);
int md_write_block(int fd, u64 nr, const void *buf);
int md_dev_blocks(int fd, u64 *blocks);

/* Formatting helpers. */
void md_format_uuid(const u8 *uuid, char *out);
int md_parse_uuid(const char *s, u8 *uuid);

#endif /* DMH_TOOLS_MD_H */
