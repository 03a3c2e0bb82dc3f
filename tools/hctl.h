/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hybridctl's pure helpers: sizes, names, the kernel's status and message
 * reply formats (Documentation/dm-hybrid.rst), hybridtab lines and the
 * statistics arithmetic.  Nothing here talks to device-mapper, so the
 * host tests (tools/tests/hctl_test.c) cover it without a kernel.
 */
#ifndef DMH_TOOLS_HCTL_H
#define DMH_TOOLS_HCTL_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "dm-hybrid-format.h"

typedef __u32 u32;
typedef __u64 u64;

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define HC_MAX_KNOBS	16
#define HC_NAME_MAX	(DMH_NAME_LEN - 1)

/* Sizes: "10G", "512M", "1.5T", "100s" (sectors), "4096" (bytes). */
int hc_parse_size(const char *s, u64 *bytes);
/* "20.0G", "512M", "4.0K", "100B": binary units, one decimal if needed. */
char *hc_format_size(u64 bytes, char *buf, size_t len);

/* A volume name as the kernel accepts it: 1..63 of [A-Za-z0-9_.+:@-]. */
int hc_valid_name(const char *s);
/* A decimal number that fits in u64 and nothing else. */
int hc_parse_u64(const char *s, u64 *v);

/* Pool status INFO (the params after "hybrid-pool"). */
struct hc_pool_status {
	u64 txid, md_used, md_total, chunk_sectors;
	u64 used[DMH_NR_TIERS], total[DMH_NR_TIERS];
	u64 volumes, promotions, demotions, inflight;
	char mode[8];
	u32 nr_features;
	char features[128];		/* space separated */
	int needs_check, out_of_space, migration_on;
	u64 queued, done, moved;
	u32 nr_knobs;
	u64 knobs[HC_MAX_KNOBS];	/* in hc_knob_names order */
	u64 blk_valid, blk_slots;	/* the block tier; 0 before it */
	u64 blk_fills, blk_hits;
	int blk_staging;		/* the next two fields are known */
	u64 blk_dirty, blk_writebacks;	/* write staging (4 KiB blocks) */
	int ssd_failed;			/* the SSD is dead: "A dying SSD" */
	int ssd_known;			/* ssd_failed|- is in the line */
	int slog_known;			/* the next two fields are known */
	u64 slog_used, slog_half;	/* staging log blocks: live half, a half */
	int evac_known;			/* the next two fields are known */
	int evacuating;			/* message "evacuate on" */
	u64 ssd_left;			/* SSD chunks and valid block slots */
};

/*
 * The knob names in the order of the pool status fields after <sectors
 * moved>, from DMH_KNOBS: NULL marks the field that is no knob (the
 * migration backoffs, before promote_free_threshold).
 */
extern const char *const hc_knob_names[];
extern const u32 hc_nr_knob_names;

int hc_parse_pool_status(const char *params, struct hc_pool_status *s);
/* Whether feature @name (e.g. "write_staging") is among the pool's. */
int hc_pool_has_feature(const struct hc_pool_status *s, const char *name);

/* Volume status INFO (the params after "hybrid"). */
struct hc_vol_status {
	u64 mapped, ssd, hdd, rios, wios, rsec, wsec, ssd_ios, hdd_ios;
	u64 prom, dem, seq, hist[6];
	u64 weight, ssd_min, ssd_max;
	char prio[8];
	u64 block_hits;			/* reads served by the block tier */
	int staging;			/* the next two fields are known */
	u64 staged_writes;		/* writes absorbed in the block tier */
	u64 dirty_blocks;		/* its slots the HDD lags behind */
	int slots_known;		/* block_slots is known */
	u64 block_slots;		/* the block tier's slots it holds now */
	int shares_known;		/* the next two fields are known */
	u64 hot_chunks;			/* its demand for the chunk tier */
	u64 chunks_due;			/* the SSD chunks due to it */
};

/* The block tier's block: what dirty blocks and slots count in bytes. */
#define HC_BLOCK_BYTES	4096

int hc_parse_vol_status(const char *params, struct hc_vol_status *s);

/* Pool TABLE: "<meta> <ssd> <hdd> <chunk sectors> <#feat> <feat>*". */
struct hc_pool_table {
	char dev[3][32];		/* major:minor */
	u64 chunk_sectors;
	char features[128];
};

int hc_parse_pool_table(const char *params, struct hc_pool_table *t);
/*
 * @params, a pool table, with @ssd (a path or major:minor) in place of its
 * SSD and everything else as it was, into @buf: 0, or -1 if @params is no
 * pool table, @ssd is empty or has a blank, or @buf is too small.
 */
int hc_pool_table_set_ssd(const char *params, const char *ssd, char *buf,
			  size_t len);
/* Volume TABLE: "<pool major:minor> <volume id>". */
int hc_parse_vol_table(const char *params, char *pool_dev, size_t len,
		       u32 *id);

/* One line of the list_volumes reply. */
struct hc_vol_info {
	u32 id;
	u64 size;			/* sectors */
	char name[DMH_NAME_LEN];	/* "" when the volume has none */
	u64 weight;
	char prio[8];
	u64 ssd_min, ssd_max;
	u64 open;
	u64 mapped, ssd, hdd;
};

/* Parse a whole reply; *out is malloc'ed (free it), *n its length. */
int hc_parse_volume_list(const char *text, struct hc_vol_info **out,
			 u32 *n);

/* The placement_map reply; tiers and heat point into @buf. */
struct hc_pmap {
	u64 chunks, ssd, hdd;
	const char *tiers, *heat;
	u32 buckets;
};

int hc_parse_pmap(char *buf, struct hc_pmap *m);

/* Chunks [first, end) of a volume on the SSD: all, or with @partly some. */
struct hc_run {
	u64 first, end;
	int partly;
};

/*
 * The runs of @m's buckets that hold SSD chunks, as chunk ranges, in
 * @out (@max at most): how many there are, even beyond @max.
 */
u32 hc_pmap_ssd_runs(const struct hc_pmap *m, struct hc_run *out, u32 max);

/* One pool of the hybridtab. */
struct hc_tab {
	char name[128];
	char meta[256], ssd[256], hdd[256];
	u64 chunk_sectors;
	int error_if_no_space, no_discard_passdown, read_only, noauto;
	u32 block_tier;			/* MiB of SSD in 4 KiB slots; 0 none */
	int write_staging;		/* needs a block tier */
	int persistent_staging;		/* needs a block tier */
};

/* The largest block tier the kernel takes (block_tier <MiB>): 16 GiB. */
#define HC_BLOCK_TIER_MAX_MIB	16384

/* A block tier size ("256M", "1G"): whole MiB, 1M to 16G. */
int hc_parse_block_tier(const char *s, u32 *mib);

/*
 * Parse one hybridtab line: 1 for an entry, 0 for a blank line or a
 * comment, -1 with a sentence in @why for anything else.
 */
int hc_tab_parse(const char *line, struct hc_tab *t, char *why, size_t len);
/* The line that hc_tab_parse() reads back as @t. */
int hc_tab_format(const struct hc_tab *t, char *buf, size_t len);
/* Feature args of the table line: "<n> <feat>*" (e.g. "0"). */
void hc_tab_features(const struct hc_tab *t, char *buf, size_t len);

/* Statistics of one volume over an interval, from two status samples. */
struct hc_stats {
	double iops, mibs, read_pct, req_kib, seq_pct;
	double residency_pct;		/* SSD chunks / mapped chunks */
	double hit_pct;			/* SSD ios / data ios; < 0: no I/O */
	u64 ssd_bytes;
	u64 prom, dem;			/* since the pool loaded the volume */
	u64 block_hits;			/* in the interval */
	int staging;			/* the two below are known */
	u64 staged;			/* writes staged in the interval */
	u64 dirty_bytes;		/* at its end, in whole blocks */
	int slots_known;		/* slot_bytes is known */
	u64 slot_bytes;			/* its block tier slots at its end */
};

void hc_stats_compute(const struct hc_vol_status *a,
		      const struct hc_vol_status *b, double secs,
		      u64 chunk_sectors, struct hc_stats *st);

/*
 * A JSON writer for the reports: members separated by ", ", each element
 * of an array on a line of its own (all on one line with @one_line set
 * after hc_json_init(): a JSON Lines record), a newline after the
 * outermost close.  A key is given inside objects and NULL inside arrays.
 */
#define HC_JSON_DEPTH	8

struct hc_json {
	FILE *f;
	u32 depth;
	u32 count[HC_JSON_DEPTH];	/* values written at each level */
	char close[HC_JSON_DEPTH];	/* '}' or ']' */
	int one_line;			/* arrays' elements ", " apart */
};

void hc_json_init(struct hc_json *j, FILE *f);
/* Open an object (@brace '{') or an array ('['). */
void hc_json_open(struct hc_json *j, const char *key, char brace);
void hc_json_close(struct hc_json *j);
/* A string, escaped; NULL writes null. */
void hc_json_str(struct hc_json *j, const char *key, const char *s);
void hc_json_u64(struct hc_json *j, const char *key, u64 v);
/* @v, or null when not @known (a field the kernel's status lacks). */
void hc_json_u64_known(struct hc_json *j, const char *key, u64 v, int known);
void hc_json_bool(struct hc_json *j, const char *key, int v);
/* A number with @prec decimals; a negative @v writes null when @null_neg. */
void hc_json_num(struct hc_json *j, const char *key, double v, int prec,
		 int null_neg);

/* ---- activation progress (hctl-activate.c) ---- */

/*
 * Bytes a pool's activation reads from its metadata device, from its
 * committed superblock @s: both superblock slots, both copies of every
 * volume table and reverse-map block (the kernel checks them all, those
 * past a tier's chunk count too), the heat image and the staging log's
 * live records.  The denominator of "pool activate"'s progress line.
 */
u64 hc_activation_bytes(const struct dmh_disk_super *s);
/*
 * Sectors read, the third field of a /sys/dev/block/M:m/stat @line:
 * 0 and *@sectors, or -1 if the line does not hold one.
 */
int hc_stat_sectors_read(const char *line, u64 *sectors);

/* ---- hctl-copy.c: import and export's pure parts ---- */

/* 1 if the @len bytes at @buf are all zero. */
int hc_buf_zero(const void *buf, size_t len);
/* Bytes per second of @done bytes in @secs; 0 before any time passed. */
double hc_rate(u64 done, double secs);
/*
 * A --progress=json line: {"bytes": D, "total": T, "rate": R} and a
 * newline, R in bytes per second rounded down.  Returns snprintf()'s.
 */
int hc_progress_json(char *buf, size_t len, u64 done, u64 total,
		     double secs);
/* A terminal line: "512M of 1.0G  50%  120.0M/s  ETA 0:00:04". */
int hc_progress_line(char *buf, size_t len, u64 done, u64 total,
		     double secs);

/*
 * An import copies into a volume named <name> HC_IMPORT_SUFFIX and renames
 * it <name> once the copy is complete and flushed: a volume under that
 * name is an interrupted import, which the same import resumes.
 */
#define HC_IMPORT_SUFFIX	".importing"
/*
 * The temporary name of an import into @name, in @buf: 0, or -1 when
 * @name is not a valid name, already ends in HC_IMPORT_SUFFIX, or is too
 * long to take the suffix (HC_NAME_MAX).
 */
int hc_import_tmpname(const char *name, char *buf, size_t len);
/* 1 if @name ends in HC_IMPORT_SUFFIX. */
int hc_import_is_tmpname(const char *name);

/* What a resumed import does with one buffer. */
enum hc_resume_act {
	HC_RESUME_KEEP,		/* the volume already holds the source's bytes */
	HC_RESUME_WRITE,	/* write the source's buffer */
	HC_RESUME_ZERO,		/* the source is zeros, the volume not: discard */
};

/* For @n bytes of the volume at @vol and of the source at @src. */
enum hc_resume_act hc_resume_action(const void *vol, const void *src,
				    size_t n);

#endif /* DMH_TOOLS_HCTL_H */
