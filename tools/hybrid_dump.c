// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybrid_dump - print the metadata of a dm-hybrid pool as text.
 *
 * The output is line oriented; hybrid_restore(8) reads it back.  Lines
 * starting with '#' and blank lines are comments.  Every other line is a
 * record type followed by space-separated key=value fields, numbers in
 * decimal:
 *
 *   dmh-dump version=1
 *   superblock txid= flags= uuid= chunk_sectors= md_blocks= ssd_sectors=
 *              hdd_sectors= promotions= demotions=
 *   tunables flags= migration_rate= hysteresis= heat_half_life=
 *            ssd_reserve= seq_cutoff= promote_threshold= tick_ms=
 *   layout vt_start= vt_blocks= ssd_rmap_start= ssd_rmap_blocks=
 *          hdd_rmap_start= hdd_rmap_blocks= heat_start= heat_blocks=
 *          slog_start= slog_blocks=
 *   slog half= used= base=
 *   volume slot= id= flags= size_sectors= weight= priority= ssd_min=
 *          ssd_max= name=
 *   pin vol= tier=ssd|hdd start= end=
 *   map vol= vchunk= tier=ssd|hdd pchunk= len=
 *   heat tier=ssd|hdd pchunk= values=V1,V2,...
 *   slogrec block= txid= vol= vblock= where= sectors= [reserved=]
 *
 * (each record is one line; it is wrapped here for width).  "tunables"
 * gives the named tunables (DMH_TUN_*) as their value, or "default" when
 * the stored word is 0 (the format stores value + 1); flags is the raw
 * word.  An unnamed tunable K is printed as tunableK=RAW only when it is
 * not 0.  "pin" lines are the superblock's pin records in their order:
 * virtual chunks start..end-1 of volume vol are pinned to the tier (a tier
 * that is neither is printed as its number).  "map" is a
 * run: virtual chunks vchunk..vchunk+len-1 of volume vol live on physical
 * chunks pchunk..pchunk+len-1 of the tier.  Maps are listed by tier, then
 * physical chunk.  "heat" lists runs of at most 32 nonzero heat bytes;
 * chunks not listed have heat 0.  The volume name is printed with every
 * byte outside [A-Za-z0-9._+:@/-] as %XX (hex), up to its last non-NUL
 * byte; it is the last field of its line.  nr_volumes is not printed: it
 * is the number of volume lines.  "slog" is the staging log's state in
 * the superblock (slog_half, slog_used, slog_base); "slogrec" its live
 * records in log order: block is the record's log block counted from the
 * start of the live half, txid that block's, vol and vblock the record's
 * key, reserved only printed when not 0.  A damaged log block is a
 * comment, and the exit status 2.
 *
 * Exit status: 0 ok, 2 metadata broken (what could be read is printed if
 * the superblock was usable) or bad usage, 3 I/O error.
 */
#include <stdlib.h>
#include <string.h>

#include "md.h"
#include "md_tool.h"

#define HEAT_RUN_MAX	32

static const char *prog = "hybrid_dump";

static void print_help(FILE *f)
{
	fprintf(f,
		"Usage: %s [-o FILE] METADATA_DEV\n"
		"Print the metadata of a dm-hybrid pool as text (see hybrid_dump(8)).\n\n"
		"  -o, --output FILE  write to FILE instead of standard output\n"
		"  -v, --verbose      also report harmless findings on stderr\n"
		"  -h, --help         show this help\n\n"
		"Exit status: 0 ok, 2 metadata broken or bad usage, 3 I/O error.\n",
		prog);
}

static void print_name(FILE *f, const u8 *name)
{
	static const char ok[] = "._+:@/-";
	int i, end = DMH_NAME_LEN;

	while (end > 0 && !name[end - 1])
		end--;
	for (i = 0; i < end; i++) {
		u8 c = name[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c && strchr(ok, c)))
			fputc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

static void dump_super(FILE *f, const struct md_super *s)
{
	const struct dmh_layout *l = &s->layout;
	char uuid[40];
	int i;

	md_format_uuid(s->uuid, uuid);
	fprintf(f, "# dm-hybrid metadata dump, see hybrid_dump(8)\n");
	fprintf(f, "dmh-dump version=1\n");
	fprintf(f,
		"superblock txid=%llu flags=%u uuid=%s chunk_sectors=%u md_blocks=%llu ssd_sectors=%llu hdd_sectors=%llu promotions=%llu demotions=%llu\n",
		(unsigned long long)s->txid, s->flags, uuid, s->chunk_sectors,
		(unsigned long long)s->md_blocks,
		(unsigned long long)s->ssd_sectors,
		(unsigned long long)s->hdd_sectors,
		(unsigned long long)s->promotions,
		(unsigned long long)s->demotions);
	fprintf(f, "tunables");
	for (i = 0; i < DMH_NR_TUNABLES; i++) {
		u32 v = s->tunables[i];

		if (i == DMH_TUN_FLAGS)
			fprintf(f, " %s=%u", md_tunable_name[i], v);
		else if (!md_tunable_name[i] && v)
			fprintf(f, " tunable%d=%u", i, v);
		else if (md_tunable_name[i] && !v)
			fprintf(f, " %s=default", md_tunable_name[i]);
		else if (md_tunable_name[i])
			fprintf(f, " %s=%u", md_tunable_name[i], v - 1);
	}
	fprintf(f,
		"\nlayout vt_start=%llu vt_blocks=%llu ssd_rmap_start=%llu ssd_rmap_blocks=%llu hdd_rmap_start=%llu hdd_rmap_blocks=%llu heat_start=%llu heat_blocks=%llu slog_start=%llu slog_blocks=%llu\n",
		(unsigned long long)l->vt_start,
		(unsigned long long)l->vt_blocks,
		(unsigned long long)l->rmap_start[0],
		(unsigned long long)l->rmap_blocks[0],
		(unsigned long long)l->rmap_start[1],
		(unsigned long long)l->rmap_blocks[1],
		(unsigned long long)l->heat_start,
		(unsigned long long)l->heat_blocks,
		(unsigned long long)l->slog_start,
		(unsigned long long)l->slog_blocks);
	fprintf(f, "slog half=%u used=%llu base=%llu\n", s->slog_half,
		(unsigned long long)s->slog_used,
		(unsigned long long)s->slog_base);
}

static int cmp_slot(const void *a, const void *b)
{
	const struct md_volume *x = a, *y = b;

	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

static int dump_volumes(FILE *f, const struct md_image *img)
{
	struct md_volume *v;
	u32 i;

	v = malloc((img->nr_vols + 1) * sizeof(*v));
	if (!v)
		return -1;
	memcpy(v, img->vols, img->nr_vols * sizeof(*v));
	qsort(v, img->nr_vols, sizeof(*v), cmp_slot);
	for (i = 0; i < img->nr_vols; i++) {
		fprintf(f,
			"volume slot=%u id=%u flags=%u size_sectors=%llu weight=%u priority=%u ssd_min=%llu ssd_max=%llu name=",
			v[i].slot, v[i].id, v[i].flags,
			(unsigned long long)v[i].size_sectors, v[i].weight,
			v[i].priority, (unsigned long long)v[i].ssd_min,
			(unsigned long long)v[i].ssd_max);
		print_name(f, v[i].name);
		fputc('\n', f);
	}
	free(v);
	return 0;
}

static void dump_pins(FILE *f, const struct md_super *s)
{
	const struct md_pin *p;
	const char *tn;
	u32 i;

	if (s->nr_pins > DMH_MAX_PINS)
		fprintf(f, "# the superblock counts %u pins; only %u can be valid\n",
			s->nr_pins, DMH_MAX_PINS);
	for (i = 0; i < s->nr_pins && i < DMH_MAX_PINS; i++) {
		p = &s->pins[i];
		tn = md_pin_tier_name(p->tier);
		fprintf(f, "pin vol=%u tier=", p->vol);
		if (tn)
			fprintf(f, "%s", tn);
		else
			fprintf(f, "%u", p->tier);
		fprintf(f, " start=%llu end=%llu\n",
			(unsigned long long)p->start,
			(unsigned long long)p->end);
	}
}

static void dump_maps(FILE *f, const struct md_image *img, int t)
{
	u64 p, start = 0, len = 0, e, first = 0;

	for (p = 0; p <= img->cap[t]; p++) {
		e = p < img->cap[t] ? md_rmap_get(img, t, p) : 0;
		if (len && e && e == first + len && p == start + len &&
		    dmh_rmap_vol(e) == dmh_rmap_vol(first) &&
		    dmh_rmap_vchunk(e) == dmh_rmap_vchunk(first) + len) {
			len++;
			continue;
		}
		if (len)
			fprintf(f, "map vol=%u vchunk=%llu tier=%s pchunk=%llu len=%llu\n",
				dmh_rmap_vol(first),
				(unsigned long long)dmh_rmap_vchunk(first),
				md_tier_name[t], (unsigned long long)start,
				(unsigned long long)len);
		first = e;
		start = p;
		len = e ? 1 : 0;
	}
}

static void dump_heat(FILE *f, const struct md_image *img, int t)
{
	u64 p = 0, n;
	u8 v;

	while (p < img->cap[t]) {
		if (!md_heat_get(img, t, p)) {
			p++;
			continue;
		}
		fprintf(f, "heat tier=%s pchunk=%llu values=", md_tier_name[t],
			(unsigned long long)p);
		for (n = 0; n < HEAT_RUN_MAX && p < img->cap[t]; n++, p++) {
			v = md_heat_get(img, t, p);
			if (!v)
				break;
			fprintf(f, "%s%u", n ? "," : "", v);
		}
		fputc('\n', f);
	}
}

static void dump_slogrec(FILE *f, const struct md_slog_rec *x)
{
	fprintf(f, "slogrec block=%u txid=%llu vol=%llu vblock=%llu where=%llu sectors=%u",
		x->blk, (unsigned long long)x->txid,
		(unsigned long long)(x->key >> DMH_SLOG_VOL_SHIFT),
		(unsigned long long)(x->key & DMH_SLOG_BLOCK_MASK),
		(unsigned long long)x->where, x->sectors);
	if (x->reserved)
		fprintf(f, " reserved=%u", x->reserved);
	fputc('\n', f);
}

/* The live log, record by record; returns the damaged blocks. */
static u32 dump_slog(FILE *f, const struct md_slog *sl)
{
	u32 j, k = 0, bad = 0;

	for (j = 0; j < sl->nblk; j++) {
		if (sl->blk[j].why && ++bad)
			fprintf(f, "# staging log block %llu %s: its records are lost\n",
				(unsigned long long)(sl->first + j),
				sl->blk[j].why);
		for (; k < sl->nrec && sl->rec[k].blk == j; k++)
			dump_slogrec(f, &sl->rec[k]);
	}
	return bad;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct md_tool tool = {
		.prog = "hybrid_dump", .shortopts = "o:vh", .longopts = opts,
		.help = print_help, .positional = 1,
	};
	const char *out;
	struct md_report r;
	struct md_image img;
	struct md_args a;
	int rc, t;
	u32 bad;
	FILE *f = stdout;

	rc = md_tool_args(&tool, argc, argv, &a);
	if (rc >= 0)
		return rc;
	out = a.out;
	md_report_init(&r, prog, stderr, a.verbosity);
	rc = md_open(&img, a.in, 0, &r);
	md_report_flush(&r);
	if (rc) {
		md_close(&img);
		return rc;
	}
	if (out) {
		f = fopen(out, "w");
		if (!f) {
			perror(out);
			md_close(&img);
			return MD_EXIT_USAGE;
		}
	}
	dump_super(f, &img.sb);
	if (dump_volumes(f, &img)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return MD_EXIT_USAGE;
	}
	dump_pins(f, &img.sb);
	for (t = 0; t < DMH_NR_TIERS; t++)
		dump_maps(f, &img, t);
	for (t = 0; t < DMH_NR_TIERS; t++)
		dump_heat(f, &img, t);
	bad = dump_slog(f, &img.slog);
	if (fflush(f) || ferror(f) || (out && fclose(f))) {
		fprintf(stderr, "%s: error writing %s\n", prog,
			out ? out : "standard output");
		md_close(&img);
		return MD_EXIT_USAGE;
	}
	md_close(&img);
	if (r.count[MD_BROKEN] || bad) {
		fprintf(stderr, "%s: metadata is broken; the dump is incomplete\n",
			prog);
		return MD_EXIT_BROKEN;
	}
	return MD_EXIT_OK;
}
