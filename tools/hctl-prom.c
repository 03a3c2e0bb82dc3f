// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pool and volume status lines (Documentation/dm-hybrid.rst, Status)
 * as Prometheus' text exposition format, version 0.0.4.
 *
 * Each metric family is one entry of a table: its name, type, help, an
 * optional label that splits it (tier, direction, mode) and where its
 * value is in the parsed status line.  The format requires every sample
 * of a family to follow its HELP and TYPE lines as one group, so the
 * writer loops over families first and over pools or volumes second.
 * Names follow Prometheus' conventions: a dm_hybrid_ prefix, base units
 * (bytes, not sectors or chunks, where a size is meant), _total on
 * counters.  The kernel's counters restart at activation (volume
 * counters, migrations done, bytes moved) or are persisted (the pool's
 * promotions and demotions); either way they only grow while the series
 * exists, which is what rate() needs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hctl-prom.h"

#define HP_CHUNK	0	/* scale: the chunk size in bytes */

/* A pool or a volume as the writer sees it: labels, status, chunk size. */
struct hp_obj {
	const char *lab[3][2];		/* name, value; NULL name ends */
	const void *st;			/* hc_pool_status or hc_vol_status */
	const void *obj;		/* the hp_pool or hp_vol */
	u64 chunk_bytes;
};

struct hp_family {
	const char *name, *type, *help;
	const char *lname;		/* the label that splits it, or NULL */
	const char *const *lv;		/* its values, NULL-terminated */
	size_t off;			/* the u64 of the status, lv's in a row */
	u64 scale;			/* bytes per unit, or HP_CHUNK */
	/* instead of @off: 0 and the value in @v, or -1 for no sample */
	int (*get)(const struct hp_obj *o, u32 k, u64 *v);
	/* with @off: whether the status line has the field; NULL if always */
	int (*has)(const struct hp_obj *o);
};

static const char *const tiers[] = { "ssd", "hdd", NULL };
static const char *const dirs[] = { "read", "write", NULL };
static const char *const modes[] = { "rw", "ro", "fail", NULL };

#define PST(field)	offsetof(struct hc_pool_status, field)
#define VST(field)	offsetof(struct hc_vol_status, field)

static int pool_mode(const struct hp_obj *o, u32 k, u64 *v)
{
	const struct hc_pool_status *st = o->st;

	*v = !strcmp(st->mode, modes[k]);
	return 0;
}

static int pool_needs_check(const struct hp_obj *o, u32 k, u64 *v)
{
	(void)k;
	*v = ((const struct hc_pool_status *)o->st)->needs_check;
	return 0;
}

static int pool_out_of_space(const struct hp_obj *o, u32 k, u64 *v)
{
	(void)k;
	*v = ((const struct hc_pool_status *)o->st)->out_of_space;
	return 0;
}

static int pool_migration_on(const struct hp_obj *o, u32 k, u64 *v)
{
	(void)k;
	*v = ((const struct hc_pool_status *)o->st)->migration_on;
	return 0;
}

/* The migration backoffs: the field among the knobs that has no name. */
static int pool_backoffs(const struct hp_obj *o, u32 k, u64 *v)
{
	const struct hc_pool_status *st = o->st;
	u32 i;

	(void)k;
	for (i = 0; i < hc_nr_knob_names && i < st->nr_knobs; i++) {
		if (!hc_knob_names[i]) {
			*v = st->knobs[i];
			return 0;
		}
	}
	return -1;	/* an older kernel's status line */
}

/* A block tier: its fields are 0/0 0 0 without one, absent before it. */
static int pool_has_blk(const struct hp_obj *o)
{
	return !!((const struct hc_pool_status *)o->st)->blk_slots;
}

/* Write staging's fields, from kernels that print them, with a tier. */
static int pool_has_staging(const struct hp_obj *o)
{
	const struct hc_pool_status *st = o->st;

	return st->blk_slots && st->blk_staging;
}

/* persistent_staging on or off, for pools with a block tier (it needs one). */
static int pool_persistent(const struct hp_obj *o, u32 k, u64 *v)
{
	const struct hc_pool_status *st = o->st;

	(void)k;
	if (!st->blk_slots)
		return -1;
	*v = hc_pool_has_feature(st, "persistent_staging");
	return 0;
}

/* ssd_failed|-, from kernels that print it. */
static int pool_ssd_failed(const struct hp_obj *o, u32 k, u64 *v)
{
	const struct hc_pool_status *st = o->st;

	(void)k;
	if (!st->ssd_known)
		return -1;
	*v = st->ssd_failed;
	return 0;
}

/* The staging log's field, from kernels that print it. */
static int pool_has_slog(const struct hp_obj *o)
{
	return ((const struct hc_pool_status *)o->st)->slog_known;
}

static const struct hp_family pool_families[] = {
	{ .name = "dm_hybrid_pool_mode", .type = "gauge",
	  .help = "1 for the pool's current mode (rw, ro or fail), 0 for the others.",
	  .lname = "mode", .lv = modes, .get = pool_mode },
	{ .name = "dm_hybrid_pool_needs_check", .type = "gauge",
	  .help = "1 if the metadata was flagged needs_check at activation.",
	  .get = pool_needs_check },
	{ .name = "dm_hybrid_pool_out_of_space", .type = "gauge",
	  .help = "1 while writes may be queued for lack of space.",
	  .get = pool_out_of_space },
	{ .name = "dm_hybrid_pool_migration_enabled", .type = "gauge",
	  .help = "1 if new migrations may start (message migration on).",
	  .get = pool_migration_on },
	{ .name = "dm_hybrid_pool_chunk_size_bytes", .type = "gauge",
	  .help = "The pool's chunk size.", .off = PST(chunk_sectors), .scale = 512 },
	{ .name = "dm_hybrid_pool_size_bytes", .type = "gauge",
	  .help = "Whole chunks of the data device, in bytes.",
	  .lname = "tier", .lv = tiers,
	  .off = PST(total), .scale = HP_CHUNK },
	{ .name = "dm_hybrid_pool_used_bytes", .type = "gauge",
	  .help =
	  "Chunks not available for allocation (mapped, being filled, or freed in the current epoch), in bytes.",
	  .lname = "tier", .lv = tiers,
	  .off = PST(used), .scale = HP_CHUNK },
	{ .name = "dm_hybrid_pool_chunks", .type = "gauge",
	  .help = "Whole chunks of the data device.", .lname = "tier", .lv = tiers,
	  .off = PST(total), .scale = 1 },
	{ .name = "dm_hybrid_pool_used_chunks", .type = "gauge",
	  .help = "Chunks not available for allocation.",
	  .lname = "tier", .lv = tiers,
	  .off = PST(used), .scale = 1 },
	{ .name = "dm_hybrid_pool_metadata_size_bytes", .type = "gauge",
	  .help = "Size of the metadata device when it was formatted.",
	  .off = PST(md_total), .scale = DMH_BLOCK_SIZE },
	{ .name = "dm_hybrid_pool_metadata_used_bytes", .type = "gauge",
	  .help = "Metadata the layout needs for the current data device sizes.",
	  .off = PST(md_used), .scale = DMH_BLOCK_SIZE },
	{ .name = "dm_hybrid_pool_volumes", .type = "gauge",
	  .help = "Volumes in the pool, active or not.", .off = PST(volumes), .scale = 1 },
	{ .name = "dm_hybrid_pool_promotions_total", .type = "counter",
	  .help = "Chunks moved to the SSD over the pool's lifetime (persisted).",
	  .off = PST(promotions), .scale = 1 },
	{ .name = "dm_hybrid_pool_demotions_total", .type = "counter",
	  .help = "Chunks moved to the HDD over the pool's lifetime (persisted).",
	  .off = PST(demotions), .scale = 1 },
	{ .name = "dm_hybrid_pool_migrations_inflight", .type = "gauge",
	  .help = "Migrations started and not finished.",
	  .off = PST(inflight), .scale = 1 },
	{ .name = "dm_hybrid_pool_migrations_queued", .type = "gauge",
	  .help = "Migrations in flight whose copy waits for its epoch barrier.",
	  .off = PST(queued), .scale = 1 },
	{ .name = "dm_hybrid_pool_migrations_total", .type = "counter",
	  .help = "Migrations completed since the pool was activated.",
	  .off = PST(done), .scale = 1 },
	{ .name = "dm_hybrid_pool_migrated_bytes_total", .type = "counter",
	  .help = "Bytes copied by migrations since the pool was activated.",
	  .off = PST(moved), .scale = 512 },
	{ .name = "dm_hybrid_pool_migration_backoffs_total", .type = "counter",
	  .help = "Ticks since activation at which foreground load cut the migration rate.",
	  .get = pool_backoffs },
	{ .name = "dm_hybrid_pool_ssd_failed", .type = "gauge",
	  .help = "1 once the SSD was found dead: its chunks and staged blocks are lost (ro mode).",
	  .get = pool_ssd_failed },
	{ .name = "dm_hybrid_pool_block_slots", .type = "gauge",
	  .help = "Slots of 4 KiB in the block tier (pools with block_tier).",
	  .off = PST(blk_slots), .scale = 1, .has = pool_has_blk },
	{ .name = "dm_hybrid_pool_block_valid_slots", .type = "gauge",
	  .help = "Block tier slots holding a current copy of a block.",
	  .off = PST(blk_valid), .scale = 1, .has = pool_has_blk },
	{ .name = "dm_hybrid_pool_block_fills_total", .type = "counter",
	  .help = "Copies made into block tier slots since activation.",
	  .off = PST(blk_fills), .scale = 1, .has = pool_has_blk },
	{ .name = "dm_hybrid_pool_block_hits_total", .type = "counter",
	  .help = "Reads served from block tier slots since activation.",
	  .off = PST(blk_hits), .scale = 1, .has = pool_has_blk },
	{ .name = "dm_hybrid_pool_block_dirty_bytes", .type = "gauge",
	  .help = "Staged bytes not yet on the HDD: dirty 4 KiB slots (the write-back backlog).",
	  .off = PST(blk_dirty), .scale = HC_BLOCK_BYTES, .has = pool_has_staging },
	{ .name = "dm_hybrid_pool_block_writebacks_total", .type = "counter",
	  .help = "Dirty block tier slots written back to the HDD since activation.",
	  .off = PST(blk_writebacks), .scale = 1, .has = pool_has_staging },
	{ .name = "dm_hybrid_pool_persistent_staging", .type = "gauge",
	  .help =
	  "1 if the pool records its dirty block tier slots in the metadata's staging log (persistent_staging).",
	  .get = pool_persistent },
	{ .name = "dm_hybrid_pool_staging_log_blocks", .type = "gauge",
	  .help =
	  "4 KiB metadata blocks of records in the staging log's live half as of the last commit.",
	  .off = PST(slog_used), .scale = 1, .has = pool_has_slog },
	{ .name = "dm_hybrid_pool_staging_log_capacity_blocks", .type = "gauge",
	  .help =
	  "4 KiB metadata blocks a half of the staging log has (0: the metadata device has no log).",
	  .off = PST(slog_half), .scale = 1, .has = pool_has_slog },
	{ .name = "dm_hybrid_pool_staging_log_used_bytes", .type = "gauge",
	  .help = "The staging log's live half in use as of the last commit, in bytes.",
	  .off = PST(slog_used), .scale = DMH_BLOCK_SIZE, .has = pool_has_slog },
	{ .name = "dm_hybrid_pool_staging_log_size_bytes", .type = "gauge",
	  .help = "The size of a half of the staging log, in bytes (0: no log).",
	  .off = PST(slog_half), .scale = DMH_BLOCK_SIZE, .has = pool_has_slog },
};

/* The volume's size is in its table, not in its status line. */
static int vol_size(const struct hp_obj *o, u32 k, u64 *v)
{
	(void)k;
	*v = ((const struct hp_vol *)o->obj)->size_sectors * 512;
	return 0;
}

/* Write staging's fields, from kernels that print them. */
static int vol_has_staging(const struct hp_obj *o)
{
	return ((const struct hc_vol_status *)o->st)->staging;
}

/* <block slots>, from kernels that print it. */
static int vol_has_slots(const struct hp_obj *o)
{
	return ((const struct hc_vol_status *)o->st)->slots_known;
}

/* <hot chunks> <chunks due>, from kernels that print them. */
static int vol_has_shares(const struct hp_obj *o)
{
	return ((const struct hc_vol_status *)o->st)->shares_known;
}

static const struct hp_family vol_families[] = {
	{ .name = "dm_hybrid_volume_size_bytes", .type = "gauge",
	  .help = "The volume's size.",
	  .get = vol_size },
	{ .name = "dm_hybrid_volume_ios_total", .type = "counter",
	  .help = "Bios seen by the volume after splitting at chunk boundaries, discards excepted.",
	  .lname = "direction", .lv = dirs,
	  .off = VST(rios), .scale = 1 },
	{ .name = "dm_hybrid_volume_io_bytes_total", .type = "counter",
	  .help = "Bytes read and written.", .lname = "direction", .lv = dirs,
	  .off = VST(rsec), .scale = 512 },
	{ .name = "dm_hybrid_volume_tier_ios_total", .type = "counter",
	  .help =
	  "Bios sent to each data device (hit ratio: ssd over ssd + hdd); reads of unmapped chunks excepted, discards included.",
	  .lname = "tier", .lv = tiers,
	  .off = VST(ssd_ios), .scale = 1 },
	{ .name = "dm_hybrid_volume_sequential_ios_total", .type = "counter",
	  .help = "Reads and writes in a stream longer than seq_cutoff (they add no heat).",
	  .off = VST(seq), .scale = 1 },
	{ .name = "dm_hybrid_volume_chunks", .type = "gauge",
	  .help = "Mapped chunks of the volume by the tier of their home.",
	  .lname = "tier", .lv = tiers,
	  .off = VST(ssd), .scale = 1 },
	{ .name = "dm_hybrid_volume_resident_bytes", .type = "gauge",
	  .help = "Mapped chunks of the volume by the tier of their home, in bytes.",
	  .lname = "tier", .lv = tiers,
	  .off = VST(ssd), .scale = HP_CHUNK },
	{ .name = "dm_hybrid_volume_promotions_total", .type = "counter",
	  .help = "Chunks of the volume moved to the SSD since the pool loaded it.",
	  .off = VST(prom), .scale = 1 },
	{ .name = "dm_hybrid_volume_demotions_total", .type = "counter",
	  .help = "Chunks of the volume moved to the HDD since the pool loaded it.",
	  .off = VST(dem), .scale = 1 },
	{ .name = "dm_hybrid_volume_weight", .type = "gauge",
	  .help = "The volume's weight (message set_volume).",
	  .off = VST(weight), .scale = 1 },
	{ .name = "dm_hybrid_volume_block_hits_total", .type = "counter",
	  .help = "Reads of the volume served by the block tier (counted in the ssd tier ios too).",
	  .off = VST(block_hits), .scale = 1 },
	{ .name = "dm_hybrid_volume_block_staged_writes_total", .type = "counter",
	  .help = "Writes of the volume absorbed in the block tier since activation.",
	  .off = VST(staged_writes), .scale = 1, .has = vol_has_staging },
	{ .name = "dm_hybrid_volume_block_dirty_bytes", .type = "gauge",
	  .help = "The volume's staged bytes not yet on the HDD: its dirty 4 KiB slots.",
	  .off = VST(dirty_blocks), .scale = HC_BLOCK_BYTES, .has = vol_has_staging },
	{ .name = "dm_hybrid_volume_block_slot_bytes", .type = "gauge",
	  .help = "The volume's share of the block tier now: the 4 KiB slots it holds, in bytes.",
	  .off = VST(block_slots), .scale = HC_BLOCK_BYTES, .has = vol_has_slots },
	{ .name = "dm_hybrid_volume_hot_chunks", .type = "gauge",
	  .help =
	  "The volume's demand for the chunk tier: the most chunks at promote_threshold heat or more (or pinned to the SSD) a policy pass counted in the last one to two heat half-lives.",
	  .off = VST(hot_chunks), .scale = 1, .has = vol_has_shares },
	{ .name = "dm_hybrid_volume_chunks_due", .type = "gauge",
	  .help =
	  "The SSD chunks due to the volume under contention (its share of the chunk tier, by weight and priority, up to its hot chunks), from the last policy pass.",
	  .off = VST(chunks_due), .scale = 1, .has = vol_has_shares },
};

/* The upper bounds of the status line's six size buckets; the last is +Inf. */
static const u64 size_bounds[] = { 4096, 16384, 65536, 262144, 1048576 };

/* Escape a label value (backslash, double quote, newline). */
static void put_escaped(FILE *f, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\' || (quote && *s == '"'))
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* {pool="p",volume="v",<extra>="<val>"}; @extra NULL for none. */
static void put_labels(FILE *f, const struct hp_obj *o, const char *extra,
		       const char *val)
{
	const char *sep = "{";
	u32 i;

	for (i = 0; i < ARRAY_SIZE(o->lab) && o->lab[i][0]; i++) {
		fprintf(f, "%s%s=\"", sep, o->lab[i][0]);
		put_escaped(f, o->lab[i][1], 1);
		fputc('"', f);
		sep = ",";
	}
	if (extra)
		fprintf(f, "%s%s=\"%s\"", sep, extra, val);
	fputc('}', f);
}

static void put_header(FILE *f, const char *name, const char *type,
		       const char *help)
{
	fprintf(f, "# HELP %s ", name);
	put_escaped(f, help, 0);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static int family_value(const struct hp_family *m, const struct hp_obj *o,
			u32 k, u64 *v)
{
	const u64 *field;

	if (m->get)
		return m->get(o, k, v);
	if (m->has && !m->has(o))
		return -1;
	field = (const u64 *)((const char *)o->st + m->off) + k;
	*v = *field * (m->scale == HP_CHUNK ? o->chunk_bytes : m->scale);
	return 0;
}

static void put_family(FILE *f, const struct hp_family *m,
		       const struct hp_obj *o, u32 n)
{
	u32 i, k, samples = 0;
	u64 v;

	for (i = 0; i < n; i++) {
		for (k = 0; !k || (m->lv && m->lv[k]); k++) {
			if (family_value(m, &o[i], k, &v))
				continue;
			/* a family no status line has (older kernels) is left out */
			if (!samples++)
				put_header(f, m->name, m->type, m->help);
			fputs(m->name, f);
			put_labels(f, &o[i], m->lname, m->lv ? m->lv[k] : NULL);
			fprintf(f, " %llu\n", (unsigned long long)v);
		}
	}
}

/* The size histogram of the status line as a Prometheus histogram. */
static void put_size_histogram(FILE *f, const struct hp_obj *o, u32 n)
{
	static const char name[] = "dm_hybrid_volume_io_size_bytes";
	char le[24];
	u64 cum;
	u32 i, b;

	put_header(f, name, "histogram",
		   "Reads and writes by size after splitting at chunk boundaries.");
	for (i = 0; i < n; i++) {
		const struct hc_vol_status *st = o[i].st;

		for (b = 0, cum = 0; b < ARRAY_SIZE(st->hist); b++) {
			cum += st->hist[b];
			if (b < ARRAY_SIZE(size_bounds))
				snprintf(le, sizeof(le), "%llu",
					 (unsigned long long)size_bounds[b]);
			else
				snprintf(le, sizeof(le), "+Inf");
			fprintf(f, "%s_bucket", name);
			put_labels(f, &o[i], "le", le);
			fprintf(f, " %llu\n", (unsigned long long)cum);
		}
		fprintf(f, "%s_sum", name);
		put_labels(f, &o[i], NULL, NULL);
		fprintf(f, " %llu\n%s_count", (unsigned long long)
			((st->rsec + st->wsec) * 512), name);
		put_labels(f, &o[i], NULL, NULL);
		fprintf(f, " %llu\n", (unsigned long long)cum);
	}
}

static void pool_obj(struct hp_obj *o, const struct hp_pool *p)
{
	o->lab[0][0] = "pool";
	o->lab[0][1] = p->name;
	o->st = p->st;
	o->obj = p;
	o->chunk_bytes = p->st->chunk_sectors * 512;
}

static void vol_obj(struct hp_obj *o, const struct hp_vol *v)
{
	o->lab[0][0] = "pool";
	o->lab[0][1] = v->pool;
	o->lab[1][0] = "volume";
	o->lab[1][1] = v->volume;
	o->lab[2][0] = v->guest ? "guest" : NULL;
	o->lab[2][1] = v->guest;
	o->st = v->st;
	o->obj = v;
	o->chunk_bytes = v->chunk_sectors * 512;
}

void hp_write(FILE *f, const struct hp_pool *p, u32 np,
	      const struct hp_vol *v, u32 nv)
{
	struct hp_obj *o = calloc(np + nv + 1, sizeof(*o));
	u32 i;

	if (!o)
		return;
	for (i = 0; i < np; i++)
		pool_obj(&o[i], &p[i]);
	for (i = 0; i < nv; i++)
		vol_obj(&o[np + i], &v[i]);
	for (i = 0; i < ARRAY_SIZE(pool_families); i++)
		put_family(f, &pool_families[i], o, np);
	for (i = 0; i < ARRAY_SIZE(vol_families); i++)
		put_family(f, &vol_families[i], o + np, nv);
	if (nv)
		put_size_histogram(f, o + np, nv);
	free(o);
}

/* Unlink @tmp, keeping @err (a negative errno) as the result. */
static int drop_tmp(const char *tmp, FILE *f, int err)
{
	if (f)
		fclose(f);
	unlink(tmp);
	return err;
}

int hp_textfile(const char *dir, const char *name, const struct hp_pool *p,
		u32 np, const struct hp_vol *v, u32 nv)
{
	char tmp[4096], dst[4096];
	FILE *f;
	int fd;

	/* not *.prom: the collector reads only those, never the temp file */
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >=
	    (int)sizeof(tmp) ||
	    snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= (int)sizeof(dst))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	/* mkstemp makes it 0600; node_exporter runs as another user */
	f = fchmod(fd, 0644) ? NULL : fdopen(fd, "w");
	if (!f) {
		int e = errno;

		close(fd);
		return drop_tmp(tmp, NULL, -e);
	}
	hp_write(f, p, np, v, nv);
	if (fflush(f) || ferror(f) || fsync(fd))
		return drop_tmp(tmp, f, -(errno ? errno : EIO));
	if (fclose(f))
		return drop_tmp(tmp, NULL, -errno);
	if (rename(tmp, dst))
		return drop_tmp(tmp, NULL, -errno);
	return 0;
}
