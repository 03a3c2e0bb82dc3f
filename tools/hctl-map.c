// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl map (see hybridctl(8)): where a volume's chunks lie and how
 * hot they are, as text, JSON or (--png) a chart.
 */
#include <errno.h>
#include <getopt.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hybridctl.h"

/* Heat digit @c (0..f, from placement_map) as a colour; 8 and above alike. */
static void heat_rgb(char c, png_byte *px)
{
	/* 0 dark grey, then blue -> red -> yellow as heat doubles */
	static const png_byte pal[9][3] = {
		{ 40, 40, 40 }, { 30, 60, 160 }, { 60, 90, 200 },
		{ 120, 60, 190 }, { 180, 40, 140 }, { 220, 40, 60 },
		{ 240, 100, 30 }, { 250, 170, 20 }, { 255, 240, 60 },
	};

	memcpy(px, pal[c > '8' ? 8 : c - '0'], 3);
}

static void tier_rgb(char c, png_byte *px)
{
	static const png_byte unmapped[3] = { 225, 225, 225 };
	static const png_byte hdd[3] = { 70, 110, 180 };
	static const png_byte mixed[3] = { 170, 110, 190 };
	static const png_byte ssd[3] = { 240, 140, 20 };

	memcpy(px, c == 'S' ? ssd : c == 's' ? mixed : c == 'h' ? hdd :
	       unmapped, 3);
}

/* The rows of the chart; libpng reports errors by longjmp to here. */
static int png_rows(png_structp png, png_infop info, png_bytep row,
		    const struct hc_pmap *m, u32 cw, u32 w, u32 h)
{
	u32 x, y;

	if (setjmp(png_jmpbuf(png)))
		return -1;
	png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			png_byte *px = row + 3 * x;
			u32 bk = x / cw;

			if (y < 46)
				tier_rgb(m->tiers[bk], px);
			else if (y < 54)
				memset(px, 255, 3);
			else
				heat_rgb(m->heat[bk], px);
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	return 0;
}

/*
 * A PNG chart: one column per bucket; the top band is the tier (orange
 * SSD, purple mixed, blue HDD, light grey unmapped), the bottom band the
 * heat (dark grey cold ... yellow hottest).
 */
static int write_png(const char *file, const struct hc_pmap *m)
{
	u32 cw = m->buckets >= 1024 ? 1 : 1024 / m->buckets, w = cw * m->buckets;
	png_structp png;
	png_infop info = NULL;
	png_bytep row;
	FILE *f;
	int r = -1;

	f = fopen(file, "wbe");
	if (!f) {
		ctl_err("cannot write %s: %s.", file, strerror(errno));
		return -1;
	}
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (png)
		info = png_create_info_struct(png);
	row = malloc(3 * w);
	if (png && info && row) {
		png_init_io(png, f);
		r = png_rows(png, info, row, m, cw, w, 100);
	}
	if (png)
		png_destroy_write_struct(&png, info ? &info : NULL);
	free(row);
	if (fclose(f) || r) {
		ctl_err("cannot write the PNG chart %s.", file);
		unlink(file);
		return -1;
	}
	return 0;
}

/* ---- map ------------------------------------------------------------------------ */

/* Volume @arg: a volume name or device name in any active pool. */
static int find_any_vol(const char *pool, const char *arg, struct pool *out,
			struct hc_vol_info **v)
{
	char **pools;
	u32 n, i, j;
	int found = 0;

	if (list_pools(&pools, &n))
		return -1;
	for (i = 0; i < n && !found; i++) {
		struct voldev d;

		if (pool && strcmp(pool, pools[i]))
			continue;
		if (pool_open(pools[i], out, 0))
			continue;
		for (j = 0; j < out->nr_vols; j++) {
			if (!strcmp(out->vols[j].name, arg) ||
			    (!vol_device(out, out->vols[j].id, &d) &&
			     !strcmp(d.name, arg))) {
				*v = &out->vols[j];
				found = 1;
				break;
			}
		}
		if (!found)
			free_pool(out);
	}
	if (found) {
		out->name = strdup(out->name);
	} else {
		ctl_err("no volume named %s in %s.", arg,
			pool ? pool : "any active pool");
	}
	free_names(pools, n);
	return found ? 0 : -1;
}

/* What "map" was asked for. */
struct map_args {
	const char *png, *pool, *vol;
	u64 buckets;
	int json;
};

/* map [POOL] VOLUME [--pool POOL] [--buckets N] [--png FILE] [--json]. */
static int map_args(int argc, char **argv, struct map_args *ma)
{
	static const struct option opts[] = {
		{ "png", required_argument, NULL, 'o' },
		{ "pool", required_argument, NULL, 'p' },
		{ "buckets", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(ma, 0, sizeof(*ma));
	ma->buckets = 256;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:p:b:j", opts, NULL)) != -1) {
		if (ch == 'b' && (hc_parse_u64(optarg, &ma->buckets) ||
				  !ma->buckets || ma->buckets > 1024)) {
			ctl_err("--buckets takes a number from 1 to 1024.");
			return CTL_EXIT_USAGE;
		}
		if (!strchr("opbj", ch))
			return CTL_EXIT_USAGE;
		if (ch == 'o')
			ma->png = optarg;
		else if (ch == 'p')
			ma->pool = optarg;
		ma->json |= ch == 'j';
	}
	if (optind + 2 == argc && !ma->pool)
		ma->pool = argv[optind++];
	if (optind + 1 != argc)
		return ctl_usage();
	ma->vol = argv[optind];
	return 0;
}

/* The status of volume @id of @p from its device: 0, or -1 (none, bad). */
static int vol_status(const struct pool *p, u32 id, struct hc_vol_status *st)
{
	struct dm_target_line t;
	struct voldev d;

	memset(st, 0, sizeof(*st));
	if (vol_device(p, id, &d) || dm_target_of(d.name, 1, &t) ||
	    strcmp(t.type, "hybrid") || hc_parse_vol_status(t.params, st)) {
		memset(st, 0, sizeof(*st));
		return -1;
	}
	return 0;
}

/* hybridctl.h */
int vol_block_stats(const struct pool *p, u32 id, struct hc_vol_status *st)
{
	return !vol_status(p, id, st) && st->staging ? 0 : -1;
}

/* Its SSD chunks against its due, from a kernel that reports the shares. */
static void print_shares(const struct hc_vol_status *st)
{
	if (st->shares_known)
		printf("SSD chunks %llu (due %llu of the chunk tier, %llu hot)\n",
		       (unsigned long long)st->ssd,
		       (unsigned long long)st->chunks_due,
		       (unsigned long long)st->hot_chunks);
}

static void print_block_stats(const struct hc_vol_status *st)
{
	char a[32];

	printf("block tier: %llu hits, %llu writes staged (since activation), %llu dirty (%s)",
	       (unsigned long long)st->block_hits,
	       (unsigned long long)st->staged_writes,
	       (unsigned long long)st->dirty_blocks,
	       hc_format_size(st->dirty_blocks * HC_BLOCK_BYTES, a, sizeof(a)));
	/* its share of the tier, from a kernel that reports it */
	if (st->slots_known)
		printf(", %llu slots (%s)", (unsigned long long)st->block_slots,
		       hc_format_size(st->block_slots * HC_BLOCK_BYTES, a,
				      sizeof(a)));
	putchar('\n');
}

static void map_print(const struct pool *p, const struct hc_vol_info *v,
		      const char *arg, const struct hc_pmap *m)
{
	struct hc_vol_status st;

	u64 cb = p->st.chunk_sectors * 512, per;
	u32 i, width = 64;
	char a[32], b[32];

	per = m->buckets ? (m->chunks + m->buckets - 1) / m->buckets : 0;
	printf("Volume %s (pool %s, id %u): %s, %llu chunks of %s\n",
	       v->name[0] ? v->name : arg, p->name, v->id,
	       hc_format_size(v->size * 512, a, sizeof(a)),
	       (unsigned long long)m->chunks, hc_format_size(cb, b, sizeof(b)));
	printf("mapped: %llu chunks, %llu on the SSD (%.0f%%), %llu on the HDD\n",
	       (unsigned long long)(m->ssd + m->hdd), (unsigned long long)m->ssd,
	       m->ssd + m->hdd ? 100.0 * (double)m->ssd /
	       (double)(m->ssd + m->hdd) : 0.0, (unsigned long long)m->hdd);
	if (!vol_status(p, v->id, &st))
		print_shares(&st);
	if (st.staging)
		print_block_stats(&st);
	printf("%u buckets of about %llu chunks (%s) each\n", m->buckets,
	       (unsigned long long)per, hc_format_size(per * cb, a, sizeof(a)));
	printf("tiers: S all on SSD, s mixed, h all on HDD, . unmapped\n");
	printf("heat:  0 cold, 1..8 = 1 + log2(heat of the hottest chunk)\n\n");
	printf("%-9s %-*s  %s\n", "offset", (int)width, "tiers", "heat");
	for (i = 0; i < m->buckets; i += width) {
		u32 k = m->buckets - i < width ? m->buckets - i : width;

		printf("%-9s %-*.*s  %.*s\n",
		       hc_format_size((u64)i * m->chunks / m->buckets * cb, a,
				      sizeof(a)),
		       (int)width, (int)k, m->tiers + i, (int)k, m->heat + i);
	}
}

static void map_json(const struct pool *p, const struct hc_vol_info *v,
		     const struct hc_pmap *m)
{
	struct hc_vol_status st;
	int known = !vol_block_stats(p, v->id, &st);
	int slots = known && st.slots_known, shares = st.shares_known;
	struct hc_json j;

	hc_json_init(&j, stdout);
	hc_json_open(&j, NULL, '{');
	hc_json_str(&j, "pool", p->name);
	hc_json_u64(&j, "id", v->id);
	hc_json_str(&j, "name", v->name[0] ? v->name : NULL);
	hc_json_u64(&j, "size_bytes", v->size * 512);
	hc_json_u64(&j, "chunk_bytes", p->st.chunk_sectors * 512);
	hc_json_u64(&j, "chunks", m->chunks);
	hc_json_u64(&j, "ssd_chunks", m->ssd);
	hc_json_u64(&j, "hdd_chunks", m->hdd);
	/* the chunk tier's share, null from a kernel without it */
	hc_json_u64_known(&j, "hot_chunks", st.hot_chunks, shares);
	hc_json_u64_known(&j, "chunks_due", st.chunks_due, shares);
	hc_json_u64(&j, "buckets", m->buckets);
	hc_json_str(&j, "tiers", m->tiers);
	hc_json_str(&j, "heat", m->heat);
	/*
	 * counters since activation; null without a device or write staging
	 * fields, the slots also from a kernel without <block slots>
	 */
	hc_json_u64_known(&j, "block_hits", st.block_hits, known);
	hc_json_u64_known(&j, "block_staged_writes", st.staged_writes, known);
	hc_json_u64_known(&j, "block_dirty_blocks", st.dirty_blocks, known);
	hc_json_u64_known(&j, "block_dirty_bytes",
			  st.dirty_blocks * HC_BLOCK_BYTES, known);
	hc_json_u64_known(&j, "block_slots", st.block_slots, slots);
	hc_json_u64_known(&j, "block_slot_bytes",
			  st.block_slots * HC_BLOCK_BYTES, slots);
	hc_json_close(&j);
}

int cmd_map(int argc, char **argv)
{
	struct hc_vol_info *v;
	struct map_args ma;
	struct hc_pmap m;
	struct pool p;
	char *reply;
	u64 per;
	int r;

	r = map_args(argc, argv, &ma);
	if (r)
		return r;
	if (find_any_vol(ma.pool, ma.vol, &p, &v))
		return CTL_EXIT_FAIL;
	/* the kernel allows no more buckets than the volume has chunks */
	per = (v->size + p.st.chunk_sectors - 1) / p.st.chunk_sectors;
	if (per && per < ma.buckets)
		ma.buckets = per;
	r = dm_msg(p.name, &reply, "placement_map %u %llu", v->id,
		   (unsigned long long)ma.buckets);
	if (r) {
		op_fail(r, NULL, "pool %s cannot map volume %s", p.name, ma.vol);
		return CTL_EXIT_FAIL;
	}
	if (hc_parse_pmap(reply, &m)) {
		ctl_err("pool %s answered placement_map with something hybridctl does not understand.",
			p.name);
		return CTL_EXIT_FAIL;
	}
	if (ma.json)
		map_json(&p, v, &m);
	else
		map_print(&p, v, ma.vol, &m);
	if (ma.png && write_png(ma.png, &m))
		return CTL_EXIT_FAIL;
	if (ma.png && !ma.json)
		printf("\nPNG chart written to %s (top: tier, bottom: heat).\n",
		       ma.png);
	free(reply);
	free_pool(&p);
	return 0;
}
