// SPDX-License-Identifier: GPL-2.0-only
/*
 * The placement lab: replays each trace twice (cold, then warm, time going
 * on) against every policy at every SSD size, and prints its reuse profile
 * and, per SSD size and policy, the SSD hit ratio (share of 4 KiB-block
 * accesses served from the SSD) and the MiB moved between the tiers in
 * each pass.  sim.tsv holds the warm pass, with the warm hit ratio as a
 * percentage of the optimum's.
 *
 *   sim [-c CHUNK_KIB] [-t TICK_MS] [-r RATE_MIB_S] [-p PCTS] [-o DIR] TRACE...
 *
 * The tick and the migration rate default to the pool's defaults
 * (DMH_KNOBS in dm-hybrid-format.h); -r 0 lifts the rate limit.
 * The SSD holds PCTS (default "10 25 50 100") per cent of the trace's
 * distinct 4 KiB blocks: that many blocks for a block cache, that many
 * bytes rounded down to whole chunks for a unit policy.  Everything starts
 * on the HDD, every cache empty.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"
#include "dm-hybrid-format.h"

/* The pool's knobs, from the one knob table, for their defaults. */
static const struct {
	const char *field, *name;
	u32 idx, min, max, def;
} knobs[] = {
#define KNOB(field, name, idx, min, max, def) \
	{ #field, #name, idx, min, max, def },
	DMH_KNOBS(KNOB)
#undef KNOB
};

#define MAX_PCTS	16
#define MIB		(1024.0 * 1024.0)

static const struct sim_ops *const base_policies[] = {
#ifdef SIM_DMHYBRID
	&sim_dmhybrid_ops,
#endif
	&sim_optimum_ops,
	&sim_optimum_rated_ops,
	&sim_lru_ops,
	&sim_arc_ops,
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_POL		64

/* The rows of each size: the base policies, then the fast-tier variants. */
static const struct sim_ops *policies[MAX_POL];
static size_t npol;

static void list_policies(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(base_policies); i++)
		policies[npol++] = base_policies[i];
	for (i = 0; sim_sub_variants[i] && npol < MAX_POL; i++)
		policies[npol++] = sim_sub_variants[i];
}

static u32 knob_default(u32 idx)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		if (knobs[i].idx == idx)
			return knobs[i].def;
	return 0;
}

struct opts {
	u64 chunk;			/* bytes */
	u32 tick_ms;
	u32 rate_mib;
	unsigned int pct[MAX_PCTS], npct;
	FILE *tsv;
};

/* What one policy did in each pass. */
struct result {
	u64 hits[2], accesses[2], moved[2];
	bool failed;
};

static double pct_of(u64 part, u64 whole)
{
	return whole ? 100.0 * part / whole : 0;
}

static struct result replay(const struct sim_ops *ops,
			    const struct sim_geom *g, const struct sim_run *run)
{
	u64 tick_us = g->tick_ms * 1000ull, next_tick = tick_us;
	struct result r = {};
	void *p = ops->init(g, run);
	size_t i;

	if (!p) {
		r.failed = true;
		return r;
	}
	for (i = 0; i < run->nio; i++) {
		const struct sim_io *io = &run->io[i];

		for (; ops->tick && next_tick <= io->t_us; next_tick += tick_us)
			r.moved[io->pass] += ops->tick(p, next_tick);
		r.accesses[io->pass] += io->nblocks;
		r.hits[io->pass] += ops->access(p, io, &r.moved[io->pass]);
	}
	ops->destroy(p);
	return r;
}

static void print_row(const struct opts *o, const struct sim_trace *tr,
		      unsigned int pct, const char *name,
		      const struct result *r, double opt_warm)
{
	double warm = pct_of(r->hits[1], r->accesses[1]);
	char rel[16] = "-";

	if (r->failed) {
		printf("%7u %-19s out of memory\n", pct, name);
		return;
	}
	if (opt_warm > 0)
		snprintf(rel, sizeof(rel), "%.1f", 100.0 * warm / opt_warm);
	printf("%7u %-19s %8.2f %9.1f %8.2f %9.1f %8s\n", pct, name,
	       pct_of(r->hits[0], r->accesses[0]), r->moved[0] / MIB, warm,
	       r->moved[1] / MIB, rel);
	if (o->tsv)
		fprintf(o->tsv, "%s\t%u\t%s\t%.2f\t%.1f\t%s\n", tr->name, pct,
			name, warm, r->moved[1] / MIB, rel);
}

static void one_size(const struct opts *o, const struct sim_trace *tr,
		     const struct sim_run *run, const struct sim_profile *pr,
		     unsigned int pct)
{
	struct sim_geom g = {
		.ssd_blocks = pr->distinct * pct / 100,
		.hdd_units = run->nunits,
		.tick_ms = o->tick_ms,
		.rate_mib = o->rate_mib,
	};
	struct result r[MAX_POL];
	double opt_warm = 0;
	size_t k;

	g.ssd_units = g.ssd_blocks * SIM_BLOCK / o->chunk;
	for (k = 0; k < npol; k++) {
		r[k] = replay(policies[k], &g, run);
		if (policies[k] == &sim_optimum_ops && !r[k].failed)
			opt_warm = pct_of(r[k].hits[1], r[k].accesses[1]);
	}
	printf("# SSD %u %% of the 4 KiB footprint: %.1f MiB, ", pct,
	       g.ssd_blocks * SIM_BLOCK / MIB);
	printf("%llu chunks = %.1f %% of the chunk footprint\n", g.ssd_units,
	       pct_of(g.ssd_units, pr->units));
	for (k = 0; k < npol; k++)
		print_row(o, tr, pct, policies[k]->name, &r[k], opt_warm);
}

static void print_profile(const struct opts *o, const struct sim_trace *tr,
			  const struct sim_profile *pr)
{
	printf("\n== %s: %zu requests over %.1f s, compacted space %.1f MiB\n",
	       tr->name, tr->nreq, tr->req[tr->nreq - 1].t_us / 1e6,
	       tr->space / MIB);
	printf("reuse (one pass, 4 KiB blocks): %llu accesses, ", pr->accesses);
	printf("%llu distinct blocks (%.1f MiB), %.1f %% re-references; ",
	       pr->distinct, pr->distinct * SIM_BLOCK / MIB,
	       pct_of(pr->accesses - pr->distinct, pr->accesses));
	printf("the top 10/25/50 %% of blocks take %.1f/%.1f/%.1f %% of the accesses; ",
	       pr->top_pct[0], pr->top_pct[1], pr->top_pct[2]);
	printf("%llu chunks of %llu KiB touched (%.1f MiB)\n", pr->units,
	       o->chunk >> 10, pr->units * o->chunk / MIB);
	printf("%7s %-19s %8s %9s %8s %9s %8s\n", "ssd_pct", "policy",
	       "cold_hit", "cold_MiB", "warm_hit", "warm_MiB", "%opt");
}

static int one_trace(const struct opts *o, const char *path)
{
	struct sim_profile pr;
	struct sim_trace tr;
	struct sim_run run;
	unsigned int i;
	int r = sim_trace_load(path, &tr);

	if (r) {
		fprintf(stderr, "sim: %s: %s\n", path, r == -EPROTONOSUPPORT ?
			"unknown trace format (see bench/sim/trace.c)" :
			strerror(-r));
		return r;
	}
	r = sim_run_build(&tr, o->chunk, o->tick_ms, &run);
	if (!r) {
		r = sim_profile(&run, &pr);
		if (!r) {
			print_profile(o, &tr, &pr);
			for (i = 0; i < o->npct; i++)
				one_size(o, &tr, &run, &pr, o->pct[i]);
		}
		sim_run_free(&run);
	}
	sim_trace_free(&tr);
	if (r)
		fprintf(stderr, "sim: %s: %s\n", path, strerror(-r));
	return r;
}

static int parse_pcts(struct opts *o, char *s)
{
	char *save, *tok;
	long v;

	o->npct = 0;
	for (tok = strtok_r(s, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		v = strtol(tok, NULL, 10);
		if (v <= 0 || v > 100000 || o->npct == MAX_PCTS)
			return -EINVAL;
		o->pct[o->npct++] = v;
	}
	return o->npct ? 0 : -EINVAL;
}

static FILE *open_tsv(const char *dir)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sim.tsv", dir);
	f = fopen(path, "w");
	if (f)
		fputs("trace\tssd_pct\tpolicy\thit_pct\tmoved_mib\tpct_of_optimum\n",
		      f);
	else
		perror(path);
	return f;
}

static int usage(void)
{
	fprintf(stderr, "Usage: sim [-c CHUNK_KIB] [-t TICK_MS] [-r RATE_MIB_S] ");
	fprintf(stderr, "[-p PCTS] [-o DIR] TRACE...\n");
	return 2;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	long kib = 1024;
	int c;

	*o = (struct opts){ .tick_ms = knob_default(DMH_TUN_TICK),
			    .rate_mib = knob_default(DMH_TUN_RATE), .npct = 4,
			    .pct = { 10, 25, 50, 100 } };
	while ((c = getopt(argc, argv, "c:t:r:p:o:")) != -1) {
		if (c == 'c')
			kib = strtol(optarg, NULL, 10);
		else if (c == 't')
			o->tick_ms = strtoul(optarg, NULL, 10);
		else if (c == 'r')
			o->rate_mib = strtoul(optarg, NULL, 10);
		else if (c == 'p' && !parse_pcts(o, optarg))
			continue;
		else if (c == 'o' && !o->tsv)
			o->tsv = open_tsv(optarg);
		else
			return -EINVAL;
		if (c == 'o' && !o->tsv)
			return -EINVAL;
	}
	/* a chunk is a power of two of at least 4 KiB, as in the pool */
	if (kib < 4 || (kib & (kib - 1)) || !o->tick_ms || optind >= argc)
		return -EINVAL;
	o->chunk = (u64)kib << 10;
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct opts o;
	int i, rc = 0;

	if (parse_args(argc, argv, &o))
		return usage();
	list_policies();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("# placement lab: %llu KiB chunks, tick %u ms, migration_rate %u MiB/s;",
	       o.chunk >> 10, o.tick_ms, o.rate_mib);
	printf(" two passes (cold, warm; time goes on); hit %% = 4 KiB-block accesses");
	printf(" served from the SSD; MiB = bytes copied between the tiers;");
	printf(" %%opt = warm hit %% / optimum's warm hit %%\n");
	for (i = optind; i < argc; i++)
		if (one_trace(&o, argv[i]))
			rc = 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("\n# %d traces in %.1f s\n", argc - optind,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (o.tsv && fclose(o.tsv))
		rc = 1;
	return rc;
}
