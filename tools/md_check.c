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
 *    chunk has two physical homes.
 *
 * Fixes (only with fix != 0): bad nr_volumes is recomputed; bad pins and
 * pins past DMH_MAX_PINS are dropped (the others keep their order); a knob
 * out of range returns to its default; malformed,
 * leaked and out-of-device entries are freed; of a doubly mapped virtual
 * chunk the copy in the rmap block with the newest transaction id is kept,
 * ties going to the SSD and then to the lower physical chunk.  Volume
 * record damage is never "fixed": it needs an administrator.
 */
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
	free(o);
	count_chunks(img, c);
}
