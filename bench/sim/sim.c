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
 *
 *   sim --mix [--seconds S] [--warm S] [--ssd-us US] [--hdd-us US]
 *       [--depth N] [--hdd-queue] [-c ..] [-t ..] [-r ..] [-p PCTS]
 *       [-o DIR] TRACE...
 *
 * replays the TRACEs instead as volumes of one dm-hybrid pool sharing one
 * SSD, closed loop (mix.c), and writes DIR/mix.tsv.  A TRACE may also be
 * "zipf:MIB:THETA:WRITE_PCT[:REQUESTS]" (an OLTP-like pseudo-trace) or,
 * with --mix, "idle:MIB" (a volume with no requests); see trace.c.
 */
#include <errno.h>
#include <getopt.h>
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
	const char *dir;		/* -o */
	bool mix, mix_opt;		/* --mix; a mix-only option given */
	struct sim_mix_opts m;		/* --mix's own */
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

	if (!r && !tr.nreq) {	/* idle:MIB, for --mix only */
		sim_trace_free(&tr);
		r = -EINVAL;
	}
	if (r) {
		fprintf(stderr, "sim: %s: %s\n", path, sim_trace_error(path, r));
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

static FILE *open_tsv(const char *dir, bool mix)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, mix ? "mix.tsv" : "sim.tsv");
	f = fopen(path, "w");
	if (f && mix)
		fputs("ssd_pct\tvol\ttrace\trequests\thit_pct\tmean_ms\tssd_chunks\t"
		      "ssd_share_pct\talone_hit_pct\talone_mean_ms\tmoved_mib\t"
		      "jain_hit\tjain_ms\tjain_speed\n", f);
	else if (f)
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
	fprintf(stderr, "       sim --mix [--seconds S] [--warm S] [--ssd-us US] ");
	fprintf(stderr, "[--hdd-us US] [--depth N] [--hdd-queue] [OPTIONS] TRACE...\n");
	fputs("  --mix: the TRACEs are volumes of one dm-hybrid pool sharing one SSD\n"
	      "  of PCTS % of their summed 4 KiB footprint, each a VM with N requests\n"
	      "  outstanding (default 1) for S simulated seconds (default 600); a request\n"
	      "  costs US from the SSD (default 100) or the HDD (default 8000); statistics\n"
	      "  after --warm S (default half); --hdd-queue: the HDD serves one request\n"
	      "  at a time for all volumes; -o DIR writes DIR/mix.tsv.\n"
	      "  TRACE: a file, zipf:MIB:THETA:WRITE_PCT[:REQUESTS], or (--mix) idle:MIB\n",
	      stderr);
	return 2;
}

/* A --mix option's number: @lo <= it <= @hi, else -1. */
static double mix_num(const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);

	return *s && !*end && v >= lo && v <= hi ? v : -1;
}

enum {
	OPT_MIX = 256, OPT_SECONDS, OPT_WARM, OPT_SSD_US, OPT_HDD_US,
	OPT_DEPTH, OPT_HDD_QUEUE
};

static const struct option long_opts[] = {
	{ "mix", no_argument, NULL, OPT_MIX },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "warm", required_argument, NULL, OPT_WARM },
	{ "ssd-us", required_argument, NULL, OPT_SSD_US },
	{ "hdd-us", required_argument, NULL, OPT_HDD_US },
	{ "depth", required_argument, NULL, OPT_DEPTH },
	{ "hdd-queue", no_argument, NULL, OPT_HDD_QUEUE },
	{}
};

/* Parse one --mix option; -EINVAL if its value is out of range. */
static int mix_opt(struct opts *o, int c, const char *arg)
{
	double v;

	o->mix_opt = true;
	switch (c) {
	case OPT_HDD_QUEUE:
		o->m.hdd_queue = true;
		return 0;
	case OPT_SECONDS:
		v = mix_num(arg, 0.001, 1e6);
		o->m.seconds = v;
		break;
	case OPT_WARM:
		v = mix_num(arg, 0, 1e6);
		o->m.warm = v;
		break;
	case OPT_SSD_US:
		v = mix_num(arg, 1, 1e7);
		o->m.ssd_us = v;
		break;
	case OPT_HDD_US:
		v = mix_num(arg, 1, 1e7);
		o->m.hdd_us = v;
		break;
	default:
		v = mix_num(arg, 1, 1024);
		o->m.depth = v;
	}
	return v < 0 || (c != OPT_SECONDS && c != OPT_WARM && v != (u32)v) ?
	       -EINVAL : 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	long kib = 1024;
	int c;

	*o = (struct opts){ .tick_ms = knob_default(DMH_TUN_TICK),
			    .rate_mib = knob_default(DMH_TUN_RATE), .npct = 4,
			    .pct = { 10, 25, 50, 100 },
			    .m = { .seconds = 600, .warm = -1, .ssd_us = 100,
				   .hdd_us = 8000, .depth = 1 } };
	while ((c = getopt_long(argc, argv, "c:t:r:p:o:", long_opts,
				NULL)) != -1) {
		if (c == OPT_MIX)
			o->mix = true;
		else if (c > OPT_MIX && !mix_opt(o, c, optarg))
			continue;
		else if (c == 'c')
			kib = strtol(optarg, NULL, 10);
		else if (c == 't')
			o->tick_ms = strtoul(optarg, NULL, 10);
		else if (c == 'r')
			o->rate_mib = strtoul(optarg, NULL, 10);
		else if (c == 'p' && !parse_pcts(o, optarg))
			continue;
		else if (c == 'o' && !o->dir)
			o->dir = optarg;
		else
			return -EINVAL;
	}
	/* a chunk is a power of two of at least 4 KiB, as in the pool */
	if (kib < 4 || (kib & (kib - 1)) || !o->tick_ms || optind >= argc ||
	    (o->mix_opt && !o->mix))
		return -EINVAL;
#ifndef SIM_DMHYBRID
	if (o->mix) {
		fprintf(stderr, "sim: --mix needs the dm-hybrid row (SIM_DMHYBRID=1)\n");
		return -EINVAL;
	}
#endif
	if (o->m.warm < 0)
		o->m.warm = o->m.seconds / 2;
	if (o->m.warm >= o->m.seconds)
		return -EINVAL;
	o->chunk = (u64)kib << 10;
	o->m.chunk = o->chunk;
	o->m.tick_ms = o->tick_ms;
	o->m.rate_mib = o->rate_mib;
	o->m.pct = o->pct;
	o->m.npct = o->npct;
	if (o->dir) {
		o->tsv = open_tsv(o->dir, o->mix);
		if (!o->tsv)
			return -EINVAL;
		o->m.tsv = o->tsv;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct opts o;
	int i, rc = 0;

	if (parse_args(argc, argv, &o))
		return usage();
	clock_gettime(CLOCK_MONOTONIC, &t0);
#ifdef SIM_DMHYBRID
	if (o.mix) {
		printf("# placement lab, multi-volume mode: %llu KiB chunks, tick %u ms, ",
		       o.chunk >> 10, o.tick_ms);
		printf("migration_rate %u MiB/s, dm-hybrid's policy at its defaults\n",
		       o.rate_mib);
		rc = sim_mix(&o.m, argv + optind, argc - optind) ? 1 : 0;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("\n# %d volumes in %.1f s\n", argc - optind,
		       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
		if (o.tsv && fclose(o.tsv))
			rc = 1;
		return rc;
	}
#endif
	list_policies();
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
