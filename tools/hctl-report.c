// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl's reports (see hybridctl(8)): pool status, vol list and stats,
 * each as text or, with --json, as one JSON document written by the
 * hc_json writer (hctl.h).  map is in hctl-map.c.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hctl-xen.h"
#include "hybridctl.h"

/* --json (-j), the one option every report takes: optind after, or -1. */
static int report_args(int argc, char **argv, int *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*json = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (ch != 'j')
			return -1;
		*json = 1;
	}
	return optind;
}

/*
 * Call @fn for each pool named in @names (@n of them), or for every
 * active pool when none is named; @none is told when there is no pool.
 * 0, or 1 when a pool could not be opened.
 */
static int each_pool(char **names, int n,
		     void (*fn)(struct pool *p, int i, void *ctx), void *ctx,
		     int *none)
{
	char **act = NULL;
	u32 nact = 0;
	struct pool p;
	int i, bad = 0;

	*none = 0;
	if (!n) {
		if (list_pools(&act, &nact))
			return CTL_EXIT_FAIL;
		names = act;
		n = (int)nact;
	}
	*none = !n;
	for (i = 0; i < n; i++) {
		if (pool_open(names[i], &p, 0)) {
			bad = 1;
			continue;
		}
		fn(&p, i, ctx);
		free_pool(&p);
	}
	free_names(act, nact);
	return bad;
}

/* The device of each volume of @p: @devs[i] for p->vols[i], or NULL. */
static struct voldev **vol_devices(const struct pool *p, struct voldev **all)
{
	struct voldev **devs = calloc(p->nr_vols + 1, sizeof(*devs));
	u32 n, i, j;

	if (!devs || list_voldevs(p->devt, all, &n)) {
		free(devs);
		return NULL;
	}
	for (i = 0; i < p->nr_vols; i++)
		for (j = 0; j < n; j++)
			if ((*all)[j].id == p->vols[i].id)
				devs[i] = &(*all)[j];
	return devs;
}

/*
 * persistent_staging's line, with the staging log's blocks from kernels
 * that report them (0/0: the metadata device has no log).
 */
static void print_staging_log(const struct hc_pool_status *st)
{
	printf("  staging log: persistent_staging %s",
	       hc_pool_has_feature(st, "persistent_staging") ? "on" : "off");
	if (st->slog_known && !st->slog_half)
		printf(", none on the metadata device");
	else if (st->slog_known)
		printf(", %llu of %llu blocks of the live half in use",
		       (unsigned long long)st->slog_used,
		       (unsigned long long)st->slog_half);
	putchar('\n');
}

/* The block tier's lines; the staging ones from kernels that report them. */
static void print_block_tier(const struct hc_pool_status *st)
{
	char a[32];

	printf("  block tier:  %llu of %llu 4 KiB slots valid; %llu fills, %llu hits\n",
	       (unsigned long long)st->blk_valid,
	       (unsigned long long)st->blk_slots,
	       (unsigned long long)st->blk_fills,
	       (unsigned long long)st->blk_hits);
	if (!st->blk_staging)
		return;
	printf("  staging:     %s, %llu dirty blocks (%s), %llu written back since activation\n",
	       hc_pool_has_feature(st, "write_staging") ? "on" : "off",
	       (unsigned long long)st->blk_dirty,
	       hc_format_size(st->blk_dirty * HC_BLOCK_BYTES, a, sizeof(a)),
	       (unsigned long long)st->blk_writebacks);
	print_staging_log(st);
}

/* ---- a dead SSD (dm-hybrid.rst, "A dying SSD") ----------------------------------- */

#define LOST_RUNS	8	/* ranges shown per volume */

/*
 * The ranges of volume @v of @p whose home is the dead SSD, in @r
 * (LOST_RUNS at most): how many there are.
 */
static u32 lost_runs(const struct pool *p, const struct hc_vol_info *v,
		     struct hc_run *r)
{
	u64 chunks = (v->size + p->st.chunk_sectors - 1) / p->st.chunk_sectors;
	struct hc_pmap m;
	char *reply;
	u32 n = 0;

	if (!v->ssd || !chunks ||
	    dm_msg(p->name, &reply, "placement_map %u %llu", v->id,
		   (unsigned long long)(chunks < 1024 ? chunks : 1024)))
		return 0;
	if (!hc_parse_pmap(reply, &m))
		n = hc_pmap_ssd_runs(&m, r, LOST_RUNS);
	free(reply);
	return n;
}

/* The staged dirty blocks of volume @v of @p, the only copies (0: none). */
static u64 lost_blocks(const struct pool *p, const struct hc_vol_info *v)
{
	struct hc_vol_status st;

	return vol_block_stats(p, v->id, &st) ? 0 : st.dirty_blocks;
}

static void print_lost_vol(const struct pool *p, const struct hc_vol_info *v)
{
	u64 cb = p->st.chunk_sectors * 512, d = lost_blocks(p, v);
	struct hc_run r[LOST_RUNS];
	u32 n = lost_runs(p, v, r), k;
	char a[32], b[32], who[96];

	snprintf(who, sizeof(who), "volume %u (%s)", v->id,
		 v->name[0] ? v->name : "-");
	for (k = 0; k < n && k < LOST_RUNS; k++)
		printf("    %s: chunks %llu-%llu, %s at %s%s\n", who,
		       (unsigned long long)r[k].first,
		       (unsigned long long)r[k].end - 1,
		       hc_format_size((r[k].end - r[k].first) * cb, a, sizeof(a)),
		       hc_format_size(r[k].first * cb, b, sizeof(b)),
		       r[k].partly ? " (some of these chunks)" : "");
	if (n > LOST_RUNS)
		printf("    %s: %u ranges more (hybridctl map)\n", who,
		       n - LOST_RUNS);
	if (d)
		printf("    %s: %llu dirty blocks (%s) staged on the SSD\n", who,
		       (unsigned long long)d,
		       hc_format_size(d * HC_BLOCK_BYTES, a, sizeof(a)));
}

static void print_lost(const struct pool *p)
{
	u32 i;

	printf("  SSD FAILED:  what lived on the SSD is lost, its reads and writes fail (EIO):\n");
	for (i = 0; i < p->nr_vols; i++)
		print_lost_vol(p, &p->vols[i]);
}

static void json_lost(struct hc_json *j, const struct pool *p)
{
	u64 cb = p->st.chunk_sectors * 512;
	struct hc_run r[LOST_RUNS];
	u32 i, k, n;

	hc_json_open(j, "ssd_lost", '[');
	for (i = 0; i < p->nr_vols; i++) {
		n = lost_runs(p, &p->vols[i], r);
		hc_json_open(j, NULL, '{');
		hc_json_u64(j, "id", p->vols[i].id);
		hc_json_str(j, "name", p->vols[i].name[0] ? p->vols[i].name : NULL);
		hc_json_u64(j, "dirty_blocks", lost_blocks(p, &p->vols[i]));
		hc_json_u64(j, "nr_ranges", n);
		hc_json_open(j, "ranges", '[');
		for (k = 0; k < n && k < LOST_RUNS; k++) {
			hc_json_open(j, NULL, '{');
			hc_json_u64(j, "first_chunk", r[k].first);
			hc_json_u64(j, "end_chunk", r[k].end);
			hc_json_u64(j, "offset_bytes", r[k].first * cb);
			hc_json_u64(j, "bytes", (r[k].end - r[k].first) * cb);
			hc_json_bool(j, "partly", r[k].partly);
			hc_json_close(j);
		}
		hc_json_close(j);
		hc_json_close(j);
	}
	hc_json_close(j);
}

/* ---- pool status ---------------------------------------------------------------- */

static void print_pool(const struct pool *p)
{
	char a[32], b[32], c[32];
	u64 cb = p->st.chunk_sectors * 512;
	u32 i;
	int t;

	printf("Pool %s (/dev/mapper/%s)\n", p->name, p->name);
	printf("  mode:        %s%s%s\n", p->st.mode,
	       p->st.out_of_space ? ", OUT OF SPACE" : "",
	       p->st.needs_check ? ", needs check" : "");
	printf("  devices:     metadata %s, SSD %s, HDD %s\n", p->tb.dev[0],
	       p->tb.dev[1], p->tb.dev[2]);
	printf("  features:    %s\n", p->st.nr_features ? p->st.features : "-");
	printf("  chunk size:  %s\n", hc_format_size(cb, a, sizeof(a)));
	for (t = 0; t < DMH_NR_TIERS; t++)
		printf("  %s:         %s used of %s (%llu of %llu chunks, %.0f%%)\n",
		       t ? "HDD" : "SSD",
		       hc_format_size(p->st.used[t] * cb, a, sizeof(a)),
		       hc_format_size(p->st.total[t] * cb, b, sizeof(b)),
		       (unsigned long long)p->st.used[t],
		       (unsigned long long)p->st.total[t],
		       p->st.total[t] ? 100.0 * (double)p->st.used[t] /
		       (double)p->st.total[t] : 0.0);
	printf("  metadata:    %s needed of %s\n",
	       hc_format_size(p->st.md_used * DMH_BLOCK_SIZE, a, sizeof(a)),
	       hc_format_size(p->st.md_total * DMH_BLOCK_SIZE, b, sizeof(b)));
	ctl_info("  migration:   %s, %llu promotions, %llu demotions (lifetime), %llu in flight, %s moved since activation\n",
		 p->st.migration_on ? "on" : "off",
		 (unsigned long long)p->st.promotions,
		 (unsigned long long)p->st.demotions,
		 (unsigned long long)p->st.inflight,
		 hc_format_size(p->st.moved * 512, c, sizeof(c)));
	if (p->st.blk_slots)
		print_block_tier(&p->st);
	if (p->st.evac_known)
		printf("  evacuation:  %s, %llu chunks and block slots %s the SSD\n",
		       p->st.evacuating ? "on" : "off",
		       (unsigned long long)p->st.ssd_left,
		       p->st.evacuating ? "still to move off" : "hold data on");
	printf("  knobs:      ");
	/* fields after the named knobs (newer kernels) are not shown */
	for (i = 0; i < p->st.nr_knobs && i < hc_nr_knob_names; i++)
		if (hc_knob_names[i])
			printf(" %s=%llu", hc_knob_names[i],
			       (unsigned long long)p->st.knobs[i]);
	printf("\n  volumes:     %llu\n", (unsigned long long)p->st.volumes);
	if (p->st.ssd_failed)
		print_lost(p);
}

static void json_tier(struct hc_json *j, const struct pool *p, int t)
{
	hc_json_open(j, t ? "hdd" : "ssd", '{');
	hc_json_str(j, "device", p->tb.dev[t + 1]);
	hc_json_u64(j, "used_chunks", p->st.used[t]);
	hc_json_u64(j, "total_chunks", p->st.total[t]);
	hc_json_close(j);
}

static void json_pool(struct hc_json *j, const struct pool *p)
{
	char feat[sizeof(p->st.features)], *f, *save = NULL;
	u32 i;

	hc_json_str(j, "pool", p->name);
	hc_json_str(j, "mode", p->st.mode);
	hc_json_bool(j, "out_of_space", p->st.out_of_space);
	hc_json_bool(j, "needs_check", p->st.needs_check);
	hc_json_str(j, "metadata_device", p->tb.dev[0]);
	hc_json_open(j, "features", '[');
	snprintf(feat, sizeof(feat), "%s", p->st.features);
	for (f = strtok_r(feat, " ", &save); f; f = strtok_r(NULL, " ", &save))
		hc_json_str(j, NULL, f);
	hc_json_close(j);
	hc_json_u64(j, "chunk_bytes", p->st.chunk_sectors * 512);
	json_tier(j, p, 0);
	json_tier(j, p, 1);
	hc_json_u64(j, "metadata_used_bytes", p->st.md_used * DMH_BLOCK_SIZE);
	hc_json_u64(j, "metadata_total_bytes", p->st.md_total * DMH_BLOCK_SIZE);
	hc_json_bool(j, "migration", p->st.migration_on);
	hc_json_u64(j, "promotions", p->st.promotions);
	hc_json_u64(j, "demotions", p->st.demotions);
	hc_json_u64(j, "inflight", p->st.inflight);
	hc_json_u64(j, "moved_bytes", p->st.moved * 512);
	hc_json_open(j, "knobs", '{');
	for (i = 0; i < p->st.nr_knobs && i < hc_nr_knob_names; i++)
		if (hc_knob_names[i])
			hc_json_u64(j, hc_knob_names[i], p->st.knobs[i]);
	hc_json_close(j);
	hc_json_u64(j, "nr_volumes", p->st.volumes);
	hc_json_open(j, "block_tier", '{');
	hc_json_u64(j, "slots", p->st.blk_slots);
	hc_json_u64(j, "valid_slots", p->st.blk_valid);
	hc_json_u64(j, "fills", p->st.blk_fills);
	hc_json_u64(j, "hits", p->st.blk_hits);
	hc_json_bool(j, "write_staging",
		     hc_pool_has_feature(&p->st, "write_staging"));
	hc_json_u64_known(j, "dirty_blocks", p->st.blk_dirty, p->st.blk_staging);
	hc_json_u64_known(j, "dirty_bytes", p->st.blk_dirty * HC_BLOCK_BYTES,
			  p->st.blk_staging);
	hc_json_u64_known(j, "writebacks", p->st.blk_writebacks,
			  p->st.blk_staging);
	hc_json_bool(j, "persistent_staging",
		     hc_pool_has_feature(&p->st, "persistent_staging"));
	hc_json_u64_known(j, "staging_log_blocks", p->st.slog_used,
			  p->st.slog_known);
	hc_json_u64_known(j, "staging_log_half_blocks", p->st.slog_half,
			  p->st.slog_known);
	hc_json_close(j);
	hc_json_bool(j, "ssd_failed", p->st.ssd_failed);
	/* null from a kernel without the evacuation fields */
	if (p->st.evac_known)
		hc_json_bool(j, "evacuating", p->st.evacuating);
	else
		hc_json_str(j, "evacuating", NULL);
	hc_json_u64_known(j, "ssd_data_left", p->st.ssd_left, p->st.evac_known);
	if (p->st.ssd_failed)
		json_lost(j, p);
}

/* ---- vol list ------------------------------------------------------------------ */

static void print_vol(const struct pool *p, const struct hc_vol_info *v,
		      const struct voldev *d)
{
	char sz[32], ssd[32], dn[160];

	if (d)
		snprintf(dn, sizeof(dn), "/dev/mapper/%s%s", d->name,
			 d->info.open_count ? " (open)" : "");
	else
		snprintf(dn, sizeof(dn), "-");
	printf("%-8s %-5u %-20s %9s %9s %5.0f%% %6llu %-6s %8llu %8llu %s\n",
	       p->name, v->id, v->name[0] ? v->name : "-",
	       hc_format_size(v->size * 512, sz, sizeof(sz)),
	       hc_format_size(v->ssd * p->st.chunk_sectors * 512, ssd,
			      sizeof(ssd)),
	       v->mapped ? 100.0 * (double)v->ssd / (double)v->mapped : 0.0,
	       (unsigned long long)v->weight, v->prio,
	       (unsigned long long)v->ssd_min,
	       (unsigned long long)v->ssd_max, dn);
}

static void json_vol(struct hc_json *j, const struct pool *p,
		     const struct hc_vol_info *v, const struct voldev *d)
{
	char dn[160];

	hc_json_open(j, NULL, '{');
	hc_json_str(j, "pool", p->name);
	hc_json_u64(j, "id", v->id);
	hc_json_str(j, "name", v->name[0] ? v->name : NULL);
	hc_json_u64(j, "size_bytes", v->size * 512);
	hc_json_u64(j, "mapped_chunks", v->mapped);
	hc_json_u64(j, "ssd_chunks", v->ssd);
	hc_json_u64(j, "hdd_chunks", v->hdd);
	hc_json_u64(j, "ssd_bytes", v->ssd * p->st.chunk_sectors * 512);
	hc_json_num(j, "ssd_residency_pct", v->mapped ? 100.0 *
		    (double)v->ssd / (double)v->mapped : 0.0, 1, 0);
	hc_json_u64(j, "weight", v->weight);
	hc_json_str(j, "priority", v->prio);
	hc_json_u64(j, "ssd_min_chunks", v->ssd_min);
	hc_json_u64(j, "ssd_max_chunks", v->ssd_max);
	snprintf(dn, sizeof(dn), "/dev/mapper/%s", d ? d->name : "");
	hc_json_str(j, "device", d ? dn : NULL);
	hc_json_u64(j, "open_count", d ? (u64)d->info.open_count : 0);
	hc_json_close(j);
}

/* What a report prints of each pool: its header, its volumes, or both. */
struct report {
	struct hc_json j;
	int json, header, pool;
};

/* The volumes of @p as table rows or JSON array elements. */
static void report_vols(struct report *r, const struct pool *p)
{
	struct voldev *all = NULL, **devs = vol_devices(p, &all);
	u32 i;

	if (!devs)
		return;
	if (!r->json && r->header)
		printf("%-8s %-5s %-20s %9s %9s %6s %6s %-6s %8s %8s %s\n",
		       "POOL", "ID", "NAME", "SIZE", "ON SSD", "SSD%",
		       "WEIGHT", "PRIO", "SSD_MIN", "SSD_MAX", "DEVICE");
	for (i = 0; i < p->nr_vols; i++) {
		if (r->json)
			json_vol(&r->j, p, &p->vols[i], devs[i]);
		else
			print_vol(p, &p->vols[i], devs[i]);
	}
	free(devs);
	free(all);
}

static void report_pool(struct pool *p, int i, void *ctx)
{
	struct report *r = ctx;

	if (r->pool && r->json) {
		hc_json_open(&r->j, NULL, '{');
		json_pool(&r->j, p);
		hc_json_open(&r->j, "volumes", '[');
	} else if (r->pool) {
		if (i)
			printf("\n");
		print_pool(p);
	}
	report_vols(r, p);
	if (r->pool && r->json) {
		hc_json_close(&r->j);
		hc_json_close(&r->j);
	}
	r->header = r->pool;
}

/* pool status [NAME...] and vol list [POOL...]. */
static int report(int argc, char **argv, int pool)
{
	struct report r = { .pool = pool, .header = 1 };
	int first = report_args(argc, argv, &r.json), none, bad;

	if (first < 0)
		return CTL_EXIT_USAGE;
	if (r.json) {
		hc_json_init(&r.j, stdout);
		hc_json_open(&r.j, NULL, '{');
		hc_json_open(&r.j, pool ? "pools" : "volumes", '[');
	}
	bad = each_pool(argv + first, argc - first, report_pool, &r, &none);
	if (r.json) {
		hc_json_close(&r.j);
		hc_json_close(&r.j);
	} else if (none && first == argc) {
		printf("No dm-hybrid pool is active.\n");
	}
	return bad;
}

int pool_status(int argc, char **argv)
{
	return report(argc, argv, 1);
}

int vol_list(int argc, char **argv)
{
	return report(argc, argv, 0);
}

/* ---- stats ---------------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int stats_targets(const char *pool, char **want, int nwant,
		  struct sample_vol **out, u32 *n)
{
	struct sample_vol *sv = NULL;
	struct voldev *devs;
	char **pools;
	struct pool p;
	u32 np, nd, i, j, k, cnt = 0;
	int w, bad = 0, *seen = calloc(nwant + 1, sizeof(int));

	if (list_pools(&pools, &np))
		return -1;
	for (i = 0; i < np; i++) {
		if (pool && strcmp(pool, pools[i]))
			continue;
		if (pool_open(pools[i], &p, 0))
			continue;
		if (list_voldevs(p.devt, &devs, &nd)) {
			free_pool(&p);
			continue;
		}
		for (j = 0; j < nd; j++) {
			struct hc_vol_info *v = NULL;

			for (k = 0; k < p.nr_vols; k++)
				if (p.vols[k].id == devs[j].id)
					v = &p.vols[k];
			for (w = 0; w < nwant; w++)
				if (!strcmp(want[w], devs[j].name) ||
				    (v && !strcmp(want[w], v->name)))
					break;
			if (nwant && w == nwant)
				continue;
			if (nwant)
				seen[w] = 1;
			sv = realloc(sv, (cnt + 1) * sizeof(*sv));
			if (!sv)
				exit(1);
			memset(&sv[cnt], 0, sizeof(*sv));
			snprintf(sv[cnt].dev, sizeof(sv[cnt].dev), "%s",
				 devs[j].name);
			snprintf(sv[cnt].pool, sizeof(sv[cnt].pool), "%s",
				 pools[i]);
			if (v)
				snprintf(sv[cnt].name, sizeof(sv[cnt].name), "%s",
					 v->name);
			sv[cnt].id = devs[j].id;
			sv[cnt].size = devs[j].len;
			sv[cnt].chunk_sectors = p.st.chunk_sectors;
			sv[cnt].ssd_failed = p.st.ssd_failed;
			sv[cnt].persistent =
				hc_pool_has_feature(&p.st, "persistent_staging");
			hctl_xen_lookup(devs[j].info.major, devs[j].info.minor,
					&sv[cnt].xen);
			cnt++;
		}
		free(devs);
		free_pool(&p);
	}
	free_names(pools, np);
	for (w = 0; w < nwant; w++) {
		if (!seen[w]) {
			ctl_err("no active volume named %s%s%s.", want[w],
				pool ? " in pool " : "", pool ? pool : "");
			bad = 1;
		}
	}
	free(seen);
	*out = sv;
	*n = cnt;
	return bad ? -1 : 0;
}

void stats_sample(struct sample_vol *sv, u32 n)
{
	struct dm_target_line t;
	u32 i;

	for (i = 0; i < n; i++)
		sv[i].ok = !dm_target_of(sv[i].dev, 1, &t) &&
			   !strcmp(t.type, "hybrid") &&
			   !hc_parse_vol_status(t.params, &sv[i].st);
}

/* Does volume status @st count chunks or dirty blocks on the SSD? */
static int lost_in(const struct hc_vol_status *st)
{
	return st->ssd || st->dirty_blocks;
}

/* One volume's stats over the interval from @a to @b as a JSON object. */
static void json_stats(struct hc_json *j, const struct sample_vol *a,
		       const struct sample_vol *b, double secs)
{
	struct hc_stats st;

	hc_stats_compute(&a->st, &b->st, secs, b->chunk_sectors, &st);
	hc_json_open(j, NULL, '{');
	hc_json_str(j, "device", b->dev);
	hc_json_str(j, "name", b->name[0] ? b->name : NULL);
	hc_json_str(j, "pool", b->pool);
	hc_json_u64(j, "id", b->id);
	hc_json_u64(j, "size_bytes", b->size * 512);
	hc_json_num(j, "iops", st.iops, 1, 0);
	hc_json_num(j, "mib_s", st.mibs, 2, 0);
	hc_json_num(j, "read_pct", st.read_pct, 1, 0);
	hc_json_num(j, "req_kib", st.req_kib, 1, 0);
	hc_json_num(j, "seq_pct", st.seq_pct, 1, 0);
	hc_json_u64(j, "mapped_chunks", b->st.mapped);
	hc_json_u64(j, "ssd_chunks", b->st.ssd);
	hc_json_u64(j, "hdd_chunks", b->st.hdd);
	hc_json_num(j, "ssd_residency_pct", st.residency_pct, 1, 0);
	hc_json_u64(j, "ssd_bytes", st.ssd_bytes);
	hc_json_num(j, "ssd_hit_pct", st.hit_pct, 1, 1);
	hc_json_u64(j, "promotions", st.prom);
	hc_json_u64(j, "demotions", st.dem);
	hc_json_u64(j, "block_hits", st.block_hits);
	hc_json_u64_known(j, "block_staged_writes", st.staged, st.staging);
	hc_json_u64_known(j, "block_dirty_blocks", b->st.dirty_blocks, st.staging);
	hc_json_u64_known(j, "block_dirty_bytes", st.dirty_bytes, st.staging);
	hc_json_u64_known(j, "block_slots", b->st.block_slots, st.slots_known);
	hc_json_u64_known(j, "block_slot_bytes", st.slot_bytes, st.slots_known);
	hc_json_u64(j, "weight", b->st.weight);
	hc_json_str(j, "priority", b->st.prio);
	/* its share of the chunk tier, null from a kernel without it */
	hc_json_u64_known(j, "hot_chunks", b->st.hot_chunks, b->st.shares_known);
	hc_json_u64_known(j, "chunks_due", b->st.chunks_due, b->st.shares_known);
	hctl_xen_json(j, &b->xen);
	hc_json_bool(j, "ssd_lost", b->ssd_failed && lost_in(&b->st));
	hc_json_bool(j, "persistent_staging", b->persistent);
	hc_json_close(j);
}

/* The stats of @n volumes as one JSON document; volumes without status are left out. */
static void stats_json(struct sample_vol *a, struct sample_vol *b, u32 n,
		       double secs)
{
	struct hc_json j;
	u32 i;

	hc_json_init(&j, stdout);
	hc_json_open(&j, NULL, '{');
	hc_json_num(&j, "interval_s", secs, n ? 3 : 0, 0);
	hc_json_open(&j, "volumes", '[');
	for (i = 0; i < n; i++)
		if (a[i].ok && b[i].ok)
			json_stats(&j, &a[i], &b[i], secs);
	hc_json_close(&j);
	hc_json_close(&j);
	fflush(stdout);
}

/* Which optional columns the table has: set if any volume needs them. */
struct stats_cols {
	int xen;			/* XEN GUEST, in a Dom0 */
	int staging;			/* STAGE/s and DIRTY, write staging */
	int slots;			/* SLOTS, the volumes' block tier slots */
	int shares;			/* SSD/DUE and HOT, the chunk tier's */
};

/* One volume's row of the stats table. */
static void stats_row(const struct sample_vol *a, const struct sample_vol *b,
		      double secs, const struct stats_cols *c)
{
	struct hc_stats st;
	char sz[32], ssd[32], hit[16], xen[96], dirty[32], slots[32] = "-";
	char due[48] = "-", hot[24] = "-";

	hc_stats_compute(&a->st, &b->st, secs, b->chunk_sectors, &st);
	if (st.hit_pct < 0)
		snprintf(hit, sizeof(hit), "-");
	else
		snprintf(hit, sizeof(hit), "%.0f", st.hit_pct);
	printf("%-16s %-8s %8s %8.0f %8.1f %6.0f %7.1f %5.0f %8s %6.0f %6s %6llu %6llu",
	       b->name[0] ? b->name : b->dev, b->pool,
	       hc_format_size(b->size * 512, sz, sizeof(sz)), st.iops,
	       st.mibs, st.read_pct, st.req_kib, st.seq_pct,
	       hc_format_size(st.ssd_bytes, ssd, sizeof(ssd)),
	       st.residency_pct, hit, (unsigned long long)st.prom,
	       (unsigned long long)st.dem);
	if (c->staging && st.staging)
		printf(" %7.0f %8s", (double)st.staged / (secs > 0 ? secs : 1),
		       hc_format_size(st.dirty_bytes, dirty, sizeof(dirty)));
	else if (c->staging)
		printf(" %7s %8s", "-", "-");
	if (st.slots_known)
		hc_format_size(st.slot_bytes, slots, sizeof(slots));
	if (c->slots)
		printf(" %8s", slots);
	if (b->st.shares_known) {
		snprintf(due, sizeof(due), "%llu/%llu",
			 (unsigned long long)b->st.ssd,
			 (unsigned long long)b->st.chunks_due);
		snprintf(hot, sizeof(hot), "%llu",
			 (unsigned long long)b->st.hot_chunks);
	}
	if (c->shares)
		printf(" %11s %6s", due, hot);
	if (c->xen)
		printf(" %s", hctl_xen_label(&b->xen, xen, sizeof(xen)));
	putchar('\n');
}

/* A line under the table for volume @b, which lost data on the dead SSD. */
static void stats_lost(const struct sample_vol *b)
{
	char a[32], d[32];

	printf("%s: SSD LOST: %s of chunks, %s of dirty blocks (pool status %s)\n",
	       b->name[0] ? b->name : b->dev,
	       hc_format_size(b->st.ssd * b->chunk_sectors * 512, a, sizeof(a)),
	       hc_format_size(b->st.dirty_blocks * HC_BLOCK_BYTES, d, sizeof(d)),
	       b->pool);
}

/*
 * A line under the table for each pool of @b with persistent_staging,
 * the first volume of a pool saying it: their DIRTY blocks survive a crash.
 */
static void stats_persistent(const struct sample_vol *b, u32 n)
{
	u32 i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i && strcmp(b[j].pool, b[i].pool); j++)
			;
		if (!b[i].persistent || j < i)
			continue;
		printf("pool %s: persistent_staging on: ", b[i].pool);
		printf("its DIRTY blocks are in its staging log and survive a crash\n");
	}
}

static void stats_print(struct sample_vol *a, struct sample_vol *b, u32 n,
			double secs, int json)
{
	struct stats_cols c = { 0 };
	u32 i;

	if (json) {
		stats_json(a, b, n, secs);
		return;
	}
	for (i = 0; i < n; i++) {
		c.xen |= b[i].xen.found;
		c.staging |= b[i].ok && b[i].st.staging;
		c.slots |= b[i].ok && b[i].st.slots_known;
		c.shares |= b[i].ok && b[i].st.shares_known;
	}
	printf("%-16s %-8s %8s %8s %8s %6s %7s %5s %8s %6s %6s %6s %6s%s%s%s%s\n",
	       "VOLUME", "POOL", "SIZE", "IOPS", "MiB/s", "READ%", "REQ KiB",
	       "SEQ%", "ON SSD", "SSD%", "HIT%", "PROM", "DEM",
	       c.staging ? " STAGE/s    DIRTY" : "",
	       c.slots ? "    SLOTS" : "",
	       c.shares ? "     SSD/DUE    HOT" : "", c.xen ? " XEN GUEST" : "");
	for (i = 0; i < n; i++) {
		if (!a[i].ok || !b[i].ok)
			printf("%-16s %-8s (status unavailable)\n", b[i].dev,
			       b[i].pool);
		else
			stats_row(&a[i], &b[i], secs, &c);
	}
	for (i = 0; i < n; i++)
		if (b[i].ok && b[i].ssd_failed && lost_in(&b[i].st))
			stats_lost(&b[i]);
	if (c.staging)
		stats_persistent(b, n);
	fflush(stdout);
}

static sig_atomic_t stop;	/* read after each sleep, a call */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int interval_arg(const char *arg, double *secs)
{
	char *end;

	*secs = strtod(arg, &end);
	if (*end || *secs < 0.1 || *secs > 3600) {
		ctl_err("the interval is a number of seconds from 0.1 to 3600.");
		return -1;
	}
	return 0;
}

/* What "stats" was asked for. */
struct stats_args {
	const char *pool;
	double secs;
	u64 count;
	int watch, json;
	char **want;			/* volumes named */
	int nwant;
};

/* One option of stats into @sa: 0, or the exit status. */
static int stats_opt(struct stats_args *sa, int ch, int argc, char **argv)
{
	char *end;

	if (ch == 'w') {
		sa->watch = 1;
		/* "--watch 2": take a following number as the interval */
		if (!optarg && optind < argc &&
		    strtod(argv[optind], &end) > 0 && !*end)
			optarg = argv[optind++];
	}
	if ((ch == 'w' && optarg) || ch == 'i')
		return interval_arg(optarg, &sa->secs) ? CTL_EXIT_USAGE : 0;
	if (ch == 'n' && (hc_parse_u64(optarg, &sa->count) || !sa->count)) {
		ctl_err("--count takes a positive number.");
		return CTL_EXIT_USAGE;
	}
	sa->watch |= ch == 'n';
	sa->json |= ch == 'j';
	if (ch == 'p')
		sa->pool = optarg;
	return strchr("winjp", ch) ? 0 : CTL_EXIT_USAGE;
}

/* stats [POOL] [VOLUME...]: a first name that is an active pool is the pool. */
static int stats_args(int argc, char **argv, struct stats_args *sa)
{
	static const struct option opts[] = {
		{ "watch", optional_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "pool", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, r;

	memset(sa, 0, sizeof(*sa));
	sa->secs = 1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "w::i:n:jp:", opts, NULL)) != -1) {
		r = stats_opt(sa, ch, argc, argv);
		if (r)
			return r;
	}
	sa->want = argv + optind;
	sa->nwant = argc - optind;
	if (!sa->pool && sa->nwant && is_pool(sa->want[0])) {
		sa->pool = sa->want[0];
		sa->want++;
		sa->nwant--;
	}
	return 0;
}

/* Sample every interval and print, once or (--watch) until stopped. */
static void stats_loop(const struct stats_args *sa, struct sample_vol *a,
		       struct sample_vol *b, u32 n)
{
	double t0, t1, d;
	u64 k;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	stats_sample(a, n);
	t0 = now_s();
	for (k = 0; !stop; k++) {
		d = sa->secs;
		while (!stop && d > 0) {
			usleep((useconds_t)(fmin(d, 0.2) * 1e6));
			d = sa->secs - (now_s() - t0);
		}
		if (stop)
			break;
		stats_sample(b, n);
		t1 = now_s();
		if (sa->watch && !sa->json && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		if (sa->watch && !sa->json)
			printf("hybridctl stats, every %.1f s (Ctrl-C to quit)\n",
			       sa->secs);
		stats_print(a, b, n, t1 - t0, sa->json);
		if (!sa->watch || (sa->count && k + 1 >= sa->count))
			break;
		memcpy(a, b, n * sizeof(*a));
		t0 = t1;
	}
}

int cmd_stats(int argc, char **argv)
{
	struct sample_vol *a, *b;
	struct stats_args sa;
	u32 n;
	int r;

	r = stats_args(argc, argv, &sa);
	if (r)
		return r;
	if (stats_targets(sa.pool, sa.want, sa.nwant, &a, &n))
		return CTL_EXIT_FAIL;
	if (!n && sa.json)
		stats_json(NULL, NULL, 0, 0);
	else if (!n)
		printf("No active dm-hybrid volume.\n");
	if (!n)
		return 0;
	b = malloc(n * sizeof(*b));
	if (!b)
		return CTL_EXIT_FAIL;
	memcpy(b, a, n * sizeof(*b));
	stats_loop(&sa, a, b, n);
	free(a);
	free(b);
	return 0;
}
