// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid tools: semantic checks of loaded metadata, and the fixes
 * hybrid_repair applies.
 *
 *  - volume records: ids unique and below 2^24, weight 1..1000, priority
 *    0..2, ssd_min <= ssd_max (unless ssd_max is 0), superblock nr_volumes
 *    equal to the records in use;
 *  - pins: at most DMH_MAX_PINS, each with a valid tier, start < end,
 *    naming an existing volume and ending inside it;
 *  - knobs: each default (0) or inside its DMH_KNOBS range, as the kernel
 *    requires at activation;
 *  - reverse map: every entry is free or well formed, names an existing
 *    volume and a virtual chunk inside it, lies on the device; no virtual
 *    chunk has two physical homes;
 *  - staging log: every live block part of the log (md_load() judged it),
 *    every record sane, and the replayed dirty records each of a block of
 *    an existing volume whose chunk is on the HDD, held in an SSD chunk
 *    that the reverse map gives no volume, one per volume block; the
 *    superblock's DMH_SB_INCOMPAT_SLOG agreeing with slog_used.
 *
 * Fixes (only with fix != 0): bad nr_volumes is recomputed; bad pins and
 * pins past DMH_MAX_PINS are dropped (the others keep their order); a knob
 * out of range returns to its default; malformed,
 * leaked and out-of-device entries are freed; of a doubly mapped virtual
 * chunk the copy in the rmap block with the newest transaction id is kept,
 * ties going to the SSD and then to the lower physical chunk; the log's
 * flag is set or cleared.  A log that cannot be replayed is dropped only
 * when img->slog.drop says so (hybrid_repair --drop-staged).  Volume
 * record damage is never "fixed": it needs an administrator.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "md.h"

struct owner {
	u64 key;		/* dmh_rmap_pack(vol, vchunk) */
	u64 txid;		/* of the rmap block holding the entry */
	u64 pchunk;
	int tier;
};

static void check_volumes(struct md_image *img, struct md_report *r, int fix)
{
	const struct md_volume *v;
	u32 i;

	if (img->sb.nr_volumes != img->nr_vols) {
		md_note(r, MD_REPAIR,
			"superblock counts %u volumes, the volume table holds %u",
			img->sb.nr_volumes, img->nr_vols);
		if (fix)
			img->sb.nr_volumes = img->nr_vols;
	}
	for (i = 0; i < img->nr_vols; i++) {
		v = &img->vols[i];
		if (i && v->id == img->vols[i - 1].id)
			md_note(r, MD_BROKEN,
				"volume id %u is used by records %u and %u",
				v->id, img->vols[i - 1].slot, v->slot);
		if (v->id > DMH_VOLUME_ID_MAX)
			md_note(r, MD_BROKEN,
				"volume record %u: id %u is above %u",
				v->slot, v->id, DMH_VOLUME_ID_MAX);
		if (v->weight < 1 || v->weight > 1000)
			md_note(r, MD_BROKEN,
				"volume %u: weight %u is not in 1..1000",
				v->id, v->weight);
		if (v->priority > 2)
			md_note(r, MD_BROKEN,
				"volume %u: priority %u is not 0, 1 or 2",
				v->id, v->priority);
		if (v->ssd_max && v->ssd_min > v->ssd_max)
			md_note(r, MD_BROKEN,
				"volume %u: ssd_min %llu is above ssd_max %llu",
				v->id, (unsigned long long)v->ssd_min,
				(unsigned long long)v->ssd_max);
		if (md_volume_chunks(img, v) > DMH_VCHUNK_MAX + 1)
			md_note(r, MD_BROKEN,
				"volume %u: size %llu sectors is too large",
				v->id, (unsigned long long)v->size_sectors);
	}
}

/* Why pin @p is bad, or NULL if it is good. */
static const char *pin_problem(const struct md_image *img,
			       const struct md_pin *p, char *buf, size_t len)
{
	const struct md_volume *v = md_find_volume(img, p->vol);

	if (!md_pin_tier_name(p->tier))
		snprintf(buf, len, "tier %u is neither ssd (%u) nor hdd (%u)",
			 p->tier, DMH_PIN_SSD, DMH_PIN_HDD);
	else if (p->start >= p->end)
		snprintf(buf, len, "start %llu is not below end %llu",
			 (unsigned long long)p->start,
			 (unsigned long long)p->end);
	else if (!v)
		snprintf(buf, len, "volume %u does not exist", p->vol);
	else if (p->end > md_volume_chunks(img, v))
		snprintf(buf, len, "end %llu is past the end of volume %u (%llu chunks)",
			 (unsigned long long)p->end, p->vol,
			 (unsigned long long)md_volume_chunks(img, v));
	else
		return NULL;
	return buf;
}

static void check_pins(struct md_image *img, struct md_report *r, int fix)
{
	struct md_super *sb = &img->sb;
	u32 i, n = 0, have = sb->nr_pins;
	const char *why;
	char buf[128];

	if (have > DMH_MAX_PINS) {
		md_note(r, MD_REPAIR,
			"superblock counts %u pins, at most %u fit; %s the pins past %u",
			have, DMH_MAX_PINS,
			fix ? "dropping" : "repair would drop", DMH_MAX_PINS);
		have = DMH_MAX_PINS;
	}
	for (i = 0; i < have; i++) {
		const struct md_pin *p = &sb->pins[i];

		why = pin_problem(img, p, buf, sizeof(buf));
		if (!why) {
			if (fix)
				sb->pins[n] = *p;
			n++;
			continue;
		}
		md_note(r, MD_REPAIR,
			"pin %u (volume %u chunks %llu..%llu, tier %u): %s; %s it",
			i, p->vol, (unsigned long long)p->start,
			(unsigned long long)p->end, p->tier, why,
			fix ? "dropping" : "repair would drop");
	}
	if (fix)
		sb->nr_pins = n;
}

/* A knob out of DMH_KNOBS' range, which the kernel refuses: default it. */
static void check_tunables(struct md_image *img, struct md_report *r, int fix)
{
	u32 one[DMH_NR_TUNABLES] = { 0 }, *tun = img->sb.tunables;
	int i;

	for (i = 0; i < DMH_NR_TUNABLES; i++) {
		one[i] = tun[i];	/* alone: 0 is every knob's default */
		if (dmh_tunables_fault(one)) {
			md_note(r, MD_REPAIR,
				"knob %s is %u, out of its range; %s its default",
				md_tunable_name[i], tun[i] - 1,
				fix ? "restoring" : "repair would restore");
			if (fix)
				tun[i] = 0;
		}
		one[i] = 0;
	}
}

/* Returns 1 if the entry at (tier, p) is valid and should be indexed. */
static int check_entry(struct md_image *img, struct md_report *r, int fix,
		       int tier, u64 p, u64 e)
{
	const char *tn = md_tier_name[tier];
	u32 vol = dmh_rmap_vol(e);
	const struct md_volume *v = md_find_volume(img, vol);
	u64 vc = dmh_rmap_vchunk(e);
	unsigned long long pp = p;

	if (!(e & DMH_RMAP_USED)) {
		md_note(r, MD_REPAIR,
			"%s chunk %llu: malformed rmap entry 0x%016llx",
			tn, pp, (unsigned long long)e);
	} else if (p >= img->chunks[tier]) {
		md_note(r, MD_LOSS,
			"%s chunk %llu lies beyond the end of the %s device (%llu chunks) but is mapped to volume %u chunk %llu",
			tn, pp, tn, (unsigned long long)img->chunks[tier],
			vol, (unsigned long long)vc);
	} else if (!v) {
		md_note(r, MD_REPAIR,
			"leaked chunk: %s chunk %llu belongs to volume %u, which does not exist",
			tn, pp, vol);
	} else if (vc >= md_volume_chunks(img, v)) {
		md_note(r, MD_REPAIR,
			"leaked chunk: %s chunk %llu holds chunk %llu of volume %u, which has only %llu chunks",
			tn, pp, (unsigned long long)vc, vol,
			(unsigned long long)md_volume_chunks(img, v));
	} else {
		return 1;
	}
	if (fix)
		md_rmap_set(img, tier, p, 0);
	return 0;
}

static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	/* preferred first: newest block, then SSD, then lower chunk */
	if (x->txid != y->txid)
		return x->txid > y->txid ? -1 : 1;
	if (x->tier != y->tier)
		return x->tier < y->tier ? -1 : 1;
	return x->pchunk < y->pchunk ? -1 : x->pchunk > y->pchunk;
}

static void report_dup(struct md_image *img, struct md_report *r, int fix,
		       const struct owner *keep, const struct owner *lose)
{
	md_note(r, MD_LOSS,
		"chunk mapped twice: volume %u chunk %llu is on %s chunk %llu (rmap transaction %llu) and on %s chunk %llu (rmap transaction %llu); %s %s chunk %llu, which may not hold the newest data",
		dmh_rmap_vol(keep->key),
		(unsigned long long)dmh_rmap_vchunk(keep->key),
		md_tier_name[keep->tier], (unsigned long long)keep->pchunk,
		(unsigned long long)keep->txid,
		md_tier_name[lose->tier], (unsigned long long)lose->pchunk,
		(unsigned long long)lose->txid,
		fix ? "keeping" : "repair would keep",
		md_tier_name[keep->tier], (unsigned long long)keep->pchunk);
	if (fix)
		md_rmap_set(img, lose->tier, lose->pchunk, 0);
}

static void check_dups(struct md_image *img, struct md_report *r, int fix,
		       struct owner *o, u64 n)
{
	u64 i, first = 0;

	qsort(o, n, sizeof(*o), cmp_owner);
	for (i = 1; i < n; i++) {
		if (o[i].key != o[first].key)
			first = i;
		else
			report_dup(img, r, fix, &o[first], &o[i]);
	}
}

static void count_chunks(struct md_image *img, struct md_counts *c)
{
	u64 p;
	int t;

	for (t = 0; t < DMH_NR_TIERS; t++) {
		c->mapped[t] = 0;
		for (p = 0; p < img->chunks[t]; p++)
			if (md_rmap_get(img, t, p))
				c->mapped[t]++;
		c->free[t] = img->chunks[t] - c->mapped[t];
	}
}

/* ---- staging log ---- */

/*
 * A log that cannot be replayed loses staged writes whose only copy is on
 * the SSD: broken, unless hybrid_repair was told it may drop the log.
 */
static enum md_sev slog_sev(const struct md_image *img)
{
	return img->slog.drop ? MD_LOSS : MD_BROKEN;
}

static const char *slog_todo(const struct md_image *img, int fix)
{
	if (!img->slog.drop)
		return "hybrid_repair --drop-staged can drop the log";
	return fix ? "dropping the log" : "repair would drop the log";
}

/* The owner of @key among the n sorted owners, the kept one first. */
static const struct owner *find_owner(const struct owner *o, u64 n, u64 key)
{
	u64 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (o[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && o[lo].key == key ? &o[lo] : NULL;
}

/* 4 KiB blocks per chunk: chunk_sectors is a power of two from 128. */
static u64 blocks_per_chunk(const struct md_image *img)
{
	return img->sb.chunk_sectors / DMH_SECTORS_PER_BLOCK;
}

/* What is wrong with record @x in itself, or NULL (the kernel's load). */
static const char *rec_fault(const struct md_slog_rec *x)
{
	if (x->sectors > DMH_SLOG_SECTORS_FULL)
		return "its sectors are not within the 8 of a 4 KiB block";
	if (x->reserved)
		return "its reserved field is not zero";
	return NULL;
}

/* What is wrong with the final dirty record @x, or NULL. */
static const char *dirty_fault(const struct md_image *img,
			       const struct md_slog_rec *x,
			       const struct owner *o, u64 n)
{
	u32 vol = x->key >> DMH_SLOG_VOL_SHIFT;
	u64 blk = x->key & DMH_SLOG_BLOCK_MASK, bpc = blocks_per_chunk(img);
	const struct md_volume *v = md_find_volume(img, vol);
	const struct owner *w;

	if (!v)
		return "its volume does not exist";
	if (blk >= dmh_div_up(v->size_sectors, DMH_SECTORS_PER_BLOCK))
		return "its block lies beyond the end of its volume";
	w = find_owner(o, n, dmh_rmap_pack(vol, blk / bpc));
	if (!w)
		return "its chunk of the volume is not mapped";
	if (w->tier != DMH_TIER_HDD)
		return "its chunk of the volume is mapped to the SSD, not the HDD";
	/* a record replay drops may name any block, as in the kernel */
	if (x->where / bpc >= img->chunks[DMH_TIER_SSD])
		return "its SSD block lies beyond the SSD";
	if (md_rmap_get(img, DMH_TIER_SSD, x->where / bpc))
		return "its SSD block lies in a chunk the reverse map gives a volume";
	return NULL;
}

__printf(4, 5)
static void slog_note(struct md_report *r, const struct md_image *img,
		      int fix, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	md_note(r, slog_sev(img), "%s; %s", msg, slog_todo(img, fix));
}

static int cmp_where(const void *a, const void *b)
{
	const struct md_slog_rec *x = *(const struct md_slog_rec *const *)a;
	const struct md_slog_rec *y = *(const struct md_slog_rec *const *)b;

	if (x->where != y->where)
		return x->where < y->where ? -1 : 1;
	return x < y ? -1 : x > y;	/* log order */
}

static int cmp_key(const void *a, const void *b)
{
	const struct md_slog_rec *x = *(const struct md_slog_rec *const *)a;
	const struct md_slog_rec *y = *(const struct md_slog_rec *const *)b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->where < y->where ? -1 : x->where > y->where;
}

/*
 * Replay: the last record of each SSD block wins; the dirty ones (sectors
 * not 0) go to @fin, sorted by key.  Returns how many.
 */
static u32 slog_replay(const struct md_slog *sl, const struct md_slog_rec **fin)
{
	u32 k, n = 0;

	for (k = 0; k < sl->nrec; k++)
		fin[k] = &sl->rec[k];
	qsort(fin, sl->nrec, sizeof(*fin), cmp_where);
	for (k = 0; k < sl->nrec; k++)
		if ((k + 1 == sl->nrec || fin[k + 1]->where != fin[k]->where) &&
		    fin[k]->sectors)
			fin[n++] = fin[k];
	qsort(fin, n, sizeof(*fin), cmp_key);
	return n;
}

static void note_rec(struct md_report *r, const struct md_image *img, int fix,
		     const struct md_slog_rec *x, const char *why)
{
	slog_note(r, img, fix,
		  "staging log record %u (log block %u: volume %llu block %llu on SSD block %llu, sectors 0x%x): %s",
		  (u32)(x - img->slog.rec), x->blk,
		  (unsigned long long)(x->key >> DMH_SLOG_VOL_SHIFT),
		  (unsigned long long)(x->key & DMH_SLOG_BLOCK_MASK),
		  (unsigned long long)x->where, x->sectors, why);
}

/* Problems of the records, the final dirty ones in @fin (n of them). */
static unsigned long check_records(struct md_image *img, struct md_report *r,
				   int fix, const struct md_slog_rec **fin,
				   u32 n, const struct owner *o, u64 no)
{
	const struct md_slog *sl = &img->slog;
	unsigned long bad = 0;
	const char *why;
	u32 k;

	for (k = 0; k < sl->nrec; k++) {
		why = rec_fault(&sl->rec[k]);
		if (why && ++bad)
			note_rec(r, img, fix, &sl->rec[k], why);
	}
	for (k = 0; k < n; k++) {
		why = dirty_fault(img, fin[k], o, no);
		if (!why && k && fin[k]->key == fin[k - 1]->key)
			why = "another SSD block holds the same block of the volume";
		if (why && ++bad)
			note_rec(r, img, fix, fin[k], why);
	}
	return bad;
}

static unsigned long check_slog_blocks(struct md_image *img,
				       struct md_report *r, int fix)
{
	const struct md_slog *sl = &img->slog;
	unsigned long bad = 0;
	char tx[40];
	u32 j;

	for (j = 0; j < sl->nblk; j++) {
		if (sl->blk[j].tail)
			md_note(r, MD_INFO,
				"staging log block %llu is not zero after its records, as the format wants; the kernel ignores those bytes",
				(unsigned long long)(sl->first + j));
		if (!sl->blk[j].why)
			continue;
		bad++;
		snprintf(tx, sizeof(tx), ", stamped %llu",
			 (unsigned long long)sl->blk[j].txid);
		slog_note(r, img, fix,
			  "staging log block %llu (block %u of the %u the superblock counts%s) %s: the staged writes it records cannot be replayed",
			  (unsigned long long)(sl->first + j), j, sl->nblk,
			  sl->blk[j].txid ? tx : "", sl->blk[j].why);
	}
	return bad;
}

/*
 * Drop the log, saying which staged writes go with it: those its readable
 * blocks record, and whatever its damaged ones did (@lost of them).
 */
static void drop_slog(struct md_image *img, struct md_report *r,
		      const struct md_slog_rec **fin, u32 n, unsigned long lost)
{
	struct md_super *sb = &img->sb;
	u32 k;

	if (lost)
		md_note(r, MD_LOSS,
			"the records of %lu damaged staging log blocks are lost unread: they may have staged other writes, or made some of those below clean",
			lost);
	for (k = 0; k < n; k++)
		md_note(r, MD_LOSS,
			"dropped staged write: volume %llu block %llu, sectors 0x%x, from SSD block %llu; the HDD holds an older copy",
			(unsigned long long)(fin[k]->key >> DMH_SLOG_VOL_SHIFT),
			(unsigned long long)(fin[k]->key & DMH_SLOG_BLOCK_MASK),
			fin[k]->sectors, (unsigned long long)fin[k]->where);
	sb->slog_used = 0;
	sb->slog_base = sb->txid;	/* no block written so far counts */
	sb->flags &= ~DMH_SB_INCOMPAT_SLOG;
	img->slog.nblk = 0;
	img->slog.nrec = 0;
}

/* DMH_SB_INCOMPAT_SLOG is set exactly while the log holds records. */
static void check_slog_flag(struct md_image *img, struct md_report *r,
			    int fix)
{
	struct md_super *sb = &img->sb;
	int set = !!(sb->flags & DMH_SB_INCOMPAT_SLOG);

	if (set == !!sb->slog_used)
		return;
	md_note(r, MD_REPAIR,
		"the superblock's staging log flag is %s but the log holds %llu blocks; %s it",
		set ? "set" : "clear", (unsigned long long)sb->slog_used,
		fix ? (set ? "clearing" : "setting") :
		      (set ? "repair would clear" : "repair would set"));
	if (fix)
		sb->flags ^= DMH_SB_INCOMPAT_SLOG;
}

static void check_slog(struct md_image *img, struct md_report *r, int fix,
		       const struct owner *o, u64 no)
{
	const struct md_slog_rec **fin;
	unsigned long bad, lost;
	u32 n;

	fin = malloc((img->slog.nrec + 1) * sizeof(*fin));
	if (!fin) {
		md_note(r, MD_BROKEN, "out of memory checking the staging log");
		return;
	}
	n = slog_replay(&img->slog, fin);
	lost = check_slog_blocks(img, r, fix);
	bad = lost + check_records(img, r, fix, fin, n, o, no);
	if (bad && fix && img->slog.drop)
		drop_slog(img, r, fin, n, lost);
	free(fin);
	check_slog_flag(img, r, fix);
}

void md_check(struct md_image *img, struct md_report *r, int fix,
	      struct md_counts *c)
{
	struct owner *o;
	u64 n = 0, p, e;
	int t;

	memset(c, 0, sizeof(*c));
	check_volumes(img, r, fix);
	check_pins(img, r, fix);
	check_tunables(img, r, fix);
	o = malloc((img->cap[0] + img->cap[1] + 1) * sizeof(*o));
	if (!o) {
		md_note(r, MD_BROKEN, "out of memory checking the reverse map");
		return;
	}
	for (t = 0; t < DMH_NR_TIERS; t++) {
		for (p = 0; p < img->cap[t]; p++) {
			e = md_rmap_get(img, t, p);
			if (!e || !check_entry(img, r, fix, t, p, e))
				continue;
			o[n].key = dmh_rmap_pack(dmh_rmap_vol(e),
						 dmh_rmap_vchunk(e));
			o[n].txid = md_rmap_txid(img, t, p);
			o[n].pchunk = p;
			o[n++].tier = t;
		}
	}
	check_dups(img, r, fix, o, n);
	check_slog(img, r, fix, o, n);
	free(o);
	count_chunks(img, c);
}
