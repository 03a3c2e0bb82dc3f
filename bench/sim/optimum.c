// SPDX-License-Identifier: GPL-2.0-only
/*
 * optimum: an offline policy at the pool's granularity (one unit = one
 * chunk) that knows the whole replay, both passes: Belady's MIN with
 * bypass, made cost-aware.  After a piece misses, its unit moves to the
 * SSD only if it will be used again and, when the SSD is full, only if
 * that next use comes before the farthest next use among the SSD's units,
 * which then moves to the HDD.  Every move copies a whole unit.
 *
 * "optimum" moves as fast as it likes.  The variant "optimum-rated" moves
 * no faster than the pool may (migration_rate, a token bucket holding one
 * second's worth, as the kernel's tick keeps it): a move the bucket cannot
 * pay for is not made.  It is greedy, so no optimum under that limit, but
 * it shows how much of the optimum's hit ratio needs more copying than the
 * pool's rate allows.
 *
 * Counted in pieces (a request's part inside one unit), no policy that
 * moves a unit only after it missed serves more pieces from the SSD
 * (Belady; the bypass case is the same exchange argument).  It is not a
 * strict bound for the 4 KiB-weighted hit ratio (a large piece counts more)
 * nor for a policy that moves a unit at a tick between two of its uses,
 * before it misses again, e.g. dm-hybrid promoting a chunk that is still
 * hot from the cold pass: such a policy may exceed it, and
 * pct_of_optimum then shows more than 100.
 */
#include <stdlib.h>

#include "sim.h"

#define NEVER	((u64)-1)

struct opt {
	const struct sim_run *run;
	u64 *next;		/* per piece: index of its unit's next piece */
	u64 *key;		/* per unit: its next use while on the SSD */
	s64 *pos;		/* per unit: heap slot, -1 off the SSD */
	u64 *heap;		/* SSD units, max-heap on key */
	u64 n, cap;
	u64 rate;		/* bytes per second, 0: unlimited */
	s64 tokens;		/* bytes the rate allows now */
	u64 stamp_us;
};

static void *opt_free(struct opt *o)
{
	free(o->next);
	free(o->key);
	free(o->pos);
	free(o->heap);
	free(o);
	return NULL;
}

static struct opt *opt_new(const struct sim_geom *g, const struct sim_run *run)
{
	struct opt *o = calloc(1, sizeof(*o));
	size_t i;
	u64 u;

	if (!o)
		return NULL;
	o->run = run;
	o->cap = g->ssd_units;
	o->next = malloc(run->nio * sizeof(*o->next));
	o->key = malloc(run->nunits * sizeof(*o->key));
	o->pos = malloc(run->nunits * sizeof(*o->pos));
	o->heap = malloc((o->cap + 1) * sizeof(*o->heap));
	if (!o->next || !o->key || !o->pos || !o->heap)
		return opt_free(o);
	for (u = 0; u < run->nunits; u++) {
		o->key[u] = NEVER;	/* here: the unit's next piece */
		o->pos[u] = -1;
	}
	for (i = run->nio; i-- > 0; ) {
		u = run->io[i].block / run->unit_blocks;
		o->next[i] = o->key[u];
		o->key[u] = i;
	}
	return o;
}

static void place(struct opt *o, u64 slot, u64 u)
{
	o->heap[slot] = u;
	o->pos[u] = slot;
}

static void sift_up(struct opt *o, u64 i)
{
	u64 u = o->heap[i];

	for (; i && o->key[o->heap[(i - 1) / 2]] < o->key[u]; i = (i - 1) / 2)
		place(o, i, o->heap[(i - 1) / 2]);
	place(o, i, u);
}

static void sift_down(struct opt *o, u64 i)
{
	u64 u = o->heap[i], c;

	for (; (c = 2 * i + 1) < o->n; i = c) {
		if (c + 1 < o->n && o->key[o->heap[c + 1]] > o->key[o->heap[c]])
			c++;
		if (o->key[o->heap[c]] <= o->key[u])
			break;
		place(o, i, o->heap[c]);
	}
	place(o, i, u);
}

static void *opt_rated_init(const struct sim_geom *g,
			    const struct sim_run *run)
{
	struct opt *o = opt_new(g, run);

	if (o)
		o->rate = g->rate_mib << 20;
	return o;
}

/* May a move of @cost bytes start at @now_us?  Takes the tokens if so. */
static bool afford(struct opt *o, u64 now_us, u64 cost)
{
	s64 cap = o->rate > cost ? o->rate : cost;

	if (!o->rate)
		return true;
	o->tokens += (now_us - o->stamp_us) * o->rate / 1000000;
	o->stamp_us = now_us;
	if (o->tokens > cap)
		o->tokens = cap;
	if (o->tokens < (s64)cost)
		return false;
	o->tokens -= cost;
	return true;
}

/* A miss on unit @u, next used at @next; returns the bytes moved. */
static u64 opt_miss(struct opt *o, u64 u, u64 next, u64 now_us)
{
	u64 unit = o->run->unit_blocks * SIM_BLOCK;

	if (next == NEVER || !o->cap)
		return 0;
	if (o->n < o->cap) {
		if (!afford(o, now_us, unit))
			return 0;
		o->key[u] = next;
		place(o, o->n++, u);
		sift_up(o, o->n - 1);
		return unit;
	}
	if (next >= o->key[o->heap[0]] || !afford(o, now_us, 2 * unit))
		return 0;
	o->pos[o->heap[0]] = -1;
	o->key[u] = next;
	place(o, 0, u);
	sift_down(o, 0);
	return 2 * unit;
}

static u32 opt_access(void *p, const struct sim_io *io, u64 *moved)
{
	struct opt *o = p;
	size_t i = io - o->run->io;
	u64 u = io->block / o->run->unit_blocks;

	if (o->pos[u] < 0) {
		*moved += opt_miss(o, u, o->next[i], io->t_us);
		return 0;
	}
	o->key[u] = o->next[i];		/* later than before: it rises */
	sift_up(o, o->pos[u]);
	return io->nblocks;
}

static void opt_destroy(void *p)
{
	opt_free(p);
}

static void *opt_init(const struct sim_geom *g, const struct sim_run *run)
{
	return opt_new(g, run);
}

const struct sim_ops sim_optimum_ops = {
	.name = "optimum",
	.init = opt_init,
	.access = opt_access,
	.destroy = opt_destroy,
};

const struct sim_ops sim_optimum_rated_ops = {
	.name = "optimum-rated",
	.init = opt_rated_init,
	.access = opt_access,
	.destroy = opt_destroy,
};
