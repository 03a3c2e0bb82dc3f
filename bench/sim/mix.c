// SPDX-License-Identifier: GPL-2.0-only
/*
 * The placement lab's multi-volume mode (sim --mix): several traces, each
 * its own volume of one dm-hybrid pool (policy-dmhybrid.c's sim_pool, the
 * module's own policy and monitor), sharing one SSD, replayed closed loop.
 *
 * Each volume is a VM with DEPTH requests outstanding (default 1): it
 * issues its trace's next request when one of its previous ones completes,
 * looping over its trace, for SECONDS of simulated time.  A request costs
 * SSD_US if every piece of it (its parts inside one chunk) is served from
 * the SSD, else HDD_US (one random HDD access); no cost for the
 * migration's copies, and by default no queueing between the volumes:
 * the devices serve every request in its constant time.  With
 * --hdd-queue, the HDD serves one request at a time for all volumes, in
 * the order they are issued (a request's time then includes its wait).
 * So a VM the HDD serves issues
 * HDD_US / SSD_US times fewer requests than one the SSD serves, as a real
 * mix does, and its chunks collect that much less heat.  The volumes are
 * interleaved on one clock by their issue times (ties: the lower volume,
 * then the lower slot); the pool's ticks run on that clock as in the
 * single-volume mode (dmh_policy_tick(), the migration budget,
 * dmh_policy_get_work(), every tick_ms).
 *
 * The SSD holds PCT % of the volumes' summed 4 KiB footprints (distinct
 * 4 KiB blocks of each trace), rounded down to whole chunks, as the
 * single-volume mode sizes it.  Each volume is its trace's compacted
 * space, every chunk on the HDD at the start.  Per volume, a request
 * counts when it completes; the hit ratio and mean service time are over
 * the requests completed after WARM seconds (default SECONDS / 2), the
 * hit ratio being the share of those requests served from the SSD.
 * "alone" is the same volume replayed alone in a pool whose SSD is PCT %
 * of its own footprint: what a fair split by footprint would give it.
 * "heat" is, at the end, the heat of its hottest chunk on the HDD and of
 * its coldest on the SSD ("-": none): what the policy compares.
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define MIB		(1024.0 * 1024.0)

struct vol {
	struct sim_trace tr;
	u64 units;			/* chunks of its compacted space */
	u64 distinct;			/* distinct 4 KiB blocks */
	u64 touched;			/* distinct chunks */
};

/* What one volume did in one replay. */
struct vres {
	u64 done_all, hits_all;		/* completed by the end */
	u64 done, hits, busy_us;	/* completed after the warm-up */
	struct sim_pool_vol pv;		/* at the end */
};

/* Distinct 4 KiB blocks and chunks @v's trace touches. */
static int footprint(struct vol *v, u64 chunk)
{
	u64 nblk = (v->tr.space + SIM_BLOCK - 1) / SIM_BLOCK, b, end;
	u64 per = chunk / SIM_BLOCK;
	u8 *seen = calloc(nblk, 1), *cseen = calloc(v->units ? v->units : 1, 1);
	size_t i;

	if (!seen || !cseen) {
		free(seen);
		free(cseen);
		return -ENOMEM;
	}
	for (i = 0; i < v->tr.nreq; i++) {
		const struct sim_req *r = &v->tr.req[i];

		end = (r->off + r->len - 1) / SIM_BLOCK;
		for (b = r->off / SIM_BLOCK; b <= end; b++) {
			v->distinct += !seen[b];
			seen[b] = 1;
			v->touched += !cseen[b / per];
			cseen[b / per] = 1;
		}
	}
	free(seen);
	free(cseen);
	return 0;
}

/*
 * Issue request @r of volume @vol: each piece (its part inside one chunk,
 * as dm cuts a bio) goes through the pool's bio path.  Returns whether
 * every piece was served from the SSD.
 */
static bool issue(struct sim_pool *pool, unsigned int vol,
		  const struct sim_req *r, u64 chunk, u64 now_us)
{
	u64 pos = r->off, end = r->off + r->len, stop;
	bool ssd = true;
	struct sim_io io;

	for (; pos < end; pos = stop) {
		stop = (pos / chunk + 1) * chunk;
		if (stop > end)
			stop = end;
		io = (struct sim_io){
			.t_us = now_us, .block = pos / SIM_BLOCK,
			.nblocks = (stop - 1) / SIM_BLOCK - pos / SIM_BLOCK + 1,
			.sector = pos / 512, .sectors = (stop - pos) / 512,
			.write = r->write,
		};
		if (!sim_pool_access(pool, vol, &io))
			ssd = false;
	}
	return ssd;
}

/*
 * Replay @n volumes closed loop in one pool of @ssd_units SSD chunks;
 * their results into @res, the bytes moved into *@moved.
 */
static int replay_mix(const struct sim_mix_opts *o, struct vol *const *v,
		      unsigned int n, u64 ssd_units, struct vres *res,
		      u64 *moved)
{
	u64 end_us = o->seconds * 1000000ull, warm_us = o->warm * 1000000ull;
	u64 tick_us = o->tick_ms * 1000ull, next_tick = tick_us, hdd_free = 0;
	unsigned int nslot = n * o->depth, k, best;
	struct sim_geom g = {
		.ssd_units = ssd_units, .ssd_blocks = ssd_units * o->chunk / SIM_BLOCK,
		.tick_ms = o->tick_ms, .rate_mib = o->rate_mib,
	};
	u64 *units = calloc(n, sizeof(*units));
	u64 *slot_t = calloc(nslot, sizeof(*slot_t));
	size_t *next = calloc(n, sizeof(*next));
	struct sim_pool *pool = NULL;
	int r = -ENOMEM;

	*moved = 0;
	memset(res, 0, n * sizeof(*res));
	if (!units || !slot_t || !next)
		goto out;
	for (k = 0; k < n; k++) {
		units[k] = v[k]->units;
		g.hdd_units += v[k]->units;
	}
	pool = sim_pool_create(&g, o->chunk / SIM_BLOCK, units, n);
	if (!pool)
		goto out;
	/* an idle volume (no requests) never issues */
	for (k = 0; k < nslot; k++)
		if (!v[k / o->depth]->tr.nreq)
			slot_t[k] = UINT64_MAX;
	for (;;) {
		unsigned int vol;
		const struct sim_req *rq;
		u64 t, cost;
		bool ssd;

		for (best = 0, k = 1; k < nslot; k++)
			if (slot_t[k] < slot_t[best])
				best = k;
		t = slot_t[best];
		if (t >= end_us)
			break;
		for (; next_tick <= t; next_tick += tick_us)
			*moved += sim_pool_tick(pool, next_tick);
		vol = best / o->depth;
		rq = &v[vol]->tr.req[next[vol]++ % v[vol]->tr.nreq];
		ssd = issue(pool, vol, rq, o->chunk, t);
		cost = ssd ? o->ssd_us : o->hdd_us;
		if (!ssd && o->hdd_queue) {	/* wait for the HDD */
			hdd_free = (hdd_free > t ? hdd_free : t) + o->hdd_us;
			cost = hdd_free - t;
		}
		slot_t[best] = t + cost;
		if (t + cost > end_us)
			continue;
		res[vol].done_all++;
		res[vol].hits_all += ssd;
		if (t + cost > warm_us) {
			res[vol].done++;
			res[vol].hits += ssd;
			res[vol].busy_us += cost;
		}
	}
	/* the ticks up to the end, not at it: no decay just before "heat" */
	for (; next_tick < end_us; next_tick += tick_us)
		*moved += sim_pool_tick(pool, next_tick);
	for (k = 0; k < n; k++)
		sim_pool_volume(pool, k, &res[k].pv);
	r = 0;
out:
	sim_pool_destroy(pool);
	free(units);
	free(slot_t);
	free(next);
	return r;
}

static double ratio(u64 part, u64 whole)
{
	return whole ? (double)part / whole : 0;
}

/* Jain's fairness index of @x[0..n-1]: 1 when all equal, 1/n at worst. */
static double jain(const double *x, unsigned int n)
{
	double s = 0, s2 = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		s += x[i];
		s2 += x[i] * x[i];
	}
	return s2 > 0 ? s * s / (n * s2) : 1;
}

static double mean_ms(const struct vres *r)
{
	return r->done ? r->busy_us / 1000.0 / r->done : 0;
}

/* "HOT/COLD": its hottest HDD chunk's heat, its coldest SSD chunk's. */
static void heat_of(char *buf, size_t len, const struct sim_pool_vol *pv)
{
	char hdd[12] = "-", ssd[12] = "-";

	if (pv->chunks[1])
		snprintf(hdd, sizeof(hdd), "%u", pv->hdd_max_heat);
	if (pv->ssd_min_heat >= 0)
		snprintf(ssd, sizeof(ssd), "%d", pv->ssd_min_heat);
	snprintf(buf, len, "%s/%s", hdd, ssd);
}

static int one_pct(const struct sim_mix_opts *o, struct vol *const *v,
		   unsigned int n, unsigned int pct)
{
	struct vres *res = calloc(n, sizeof(*res));
	struct vres *alone = calloc(n, sizeof(*alone));
	double *hit = calloc(n, sizeof(*hit)), *ms = calloc(n, sizeof(*ms));
	double *speed = calloc(n, sizeof(*speed));
	u64 distinct = 0, touched = 0, units = 0, ssd, moved, m;
	unsigned int i;
	int r = -ENOMEM;

	if (!res || !alone || !hit || !ms || !speed)
		goto out;
	for (i = 0; i < n; i++) {
		distinct += v[i]->distinct;
		touched += v[i]->touched;
		units += v[i]->units;
	}
	ssd = distinct * pct / 100 * SIM_BLOCK / o->chunk;
	r = replay_mix(o, v, n, ssd, res, &moved);
	for (i = 0; !r && i < n; i++)
		r = replay_mix(o, &v[i], 1,
			       v[i]->distinct * pct / 100 * SIM_BLOCK / o->chunk,
			       &alone[i], &m);
	if (r)
		goto out;
	printf("\n# SSD %u %% of the summed 4 KiB footprint (%.1f MiB): ",
	       pct, distinct * SIM_BLOCK / MIB);
	printf("%llu chunks = %.1f %% of the %llu chunks touched (%llu in the volumes)\n",
	       ssd, 100.0 * ratio(ssd, touched), touched, units);
	printf("%3s %-26s %7s %7s %9s %8s %8s %8s %8s %7s %7s %9s %8s %9s %7s\n",
	       "vol", "trace", "chunks", "fp_MiB", "requests", "req/s",
	       "hit_all", "hit", "mean_ms", "ssd_ch", "ssd_%", "pro/dem",
	       "alone_ch", "alone_hit", "heat");
	/* Every volume's figures first: each TSV row carries the pool's index. */
	for (i = 0; i < n; i++) {
		hit[i] = ratio(res[i].hits, res[i].done);
		ms[i] = mean_ms(&res[i]);
		speed[i] = ms[i] > 0 ? o->ssd_us / 1000.0 / ms[i] : 0;
	}
	for (i = 0; i < n; i++) {
		char pd[48], heat[32];

		snprintf(pd, sizeof(pd), "%llu/%llu", res[i].pv.promotions,
			 res[i].pv.demotions);
		heat_of(heat, sizeof(heat), &res[i].pv);
		printf("%3u %-26.26s %7llu %7.1f %9llu %8.1f %8.2f ",
		       i + 1, v[i]->tr.name, v[i]->units,
		       v[i]->distinct * SIM_BLOCK / MIB, res[i].done_all,
		       res[i].done_all / o->seconds,
		       100 * ratio(res[i].hits_all, res[i].done_all));
		printf("%8.2f %8.3f %7llu %7.1f %9s %8llu %9.2f %7s\n",
		       100 * hit[i], ms[i], res[i].pv.chunks[0],
		       100 * ratio(res[i].pv.chunks[0], ssd), pd,
		       alone[i].pv.chunks[0],
		       100 * ratio(alone[i].hits, alone[i].done), heat);
		if (o->tsv)
			fprintf(o->tsv, "%u\t%u\t%s\t%llu\t%.2f\t%.3f\t%llu\t"
				"%.1f\t%.2f\t%.3f\t%.1f\t%.3f\t%.3f\t%.3f\n",
				pct, i + 1, v[i]->tr.name, res[i].done_all,
				100 * hit[i], ms[i], res[i].pv.chunks[0],
				100 * ratio(res[i].pv.chunks[0], ssd),
				100 * ratio(alone[i].hits, alone[i].done),
				mean_ms(&alone[i]), moved / MIB, jain(hit, n),
				jain(ms, n), jain(speed, n));
	}
	printf("pool: %.1f MiB moved; Jain's index over the hit ratios %.3f, ",
	       moved / MIB, jain(hit, n));
	printf("the mean service times %.3f, the speeds (SSD time / mean) %.3f\n",
	       jain(ms, n), jain(speed, n));
out:
	free(res);
	free(alone);
	free(hit);
	free(ms);
	free(speed);
	return r;
}

int sim_mix(const struct sim_mix_opts *o, char *const *paths, unsigned int n)
{
	struct vol *vols = calloc(n, sizeof(*vols)), **v = calloc(n, sizeof(*v));
	unsigned int i, loaded = 0;
	int r = vols && v ? 0 : -ENOMEM;

	for (i = 0; !r && i < n; i++, loaded++) {
		v[i] = &vols[i];
		r = sim_trace_load(paths[i], &vols[i].tr);
		if (r) {
			fprintf(stderr, "sim: %s: %s\n", paths[i],
				sim_trace_error(paths[i], r));
			break;
		}
		vols[i].units = (vols[i].tr.space + o->chunk - 1) / o->chunk;
		r = footprint(&vols[i], o->chunk);
	}
	if (!r) {
		printf("# mix: %u volumes of one pool, closed loop: each issues its next ", n);
		printf("request when one of its %u outstanding completes, ", o->depth);
		printf("looping over its trace, for %.0f s; ", o->seconds);
		printf("a request costs %u us from the SSD (every piece there), ",
		       o->ssd_us);
		printf("else %u us (HDD%s); ", o->hdd_us,
		       o->hdd_queue ? ", one at a time for all volumes, plus the wait" : "");
		printf("hit = share of the requests completed after %.0f s served from the SSD; ",
		       o->warm);
		printf("ssd_ch = SSD chunks held at the end; ");
		printf("alone = the volume alone with PCT %% of its own footprint; ");
		printf("heat = its hottest HDD chunk's / coldest SSD chunk's at the end\n");
		for (i = 0; !r && i < o->npct; i++)
			r = one_pct(o, v, n, o->pct[i]);
	}
	for (i = 0; i < loaded; i++)
		sim_trace_free(&vols[i].tr);
	free(vols);
	free(v);
	return r;
}
