// SPDX-License-Identifier: GPL-2.0-only
/*
 * arc-4k: ARC (Megiddo and Modha, FAST'03) over 4 KiB blocks, the lab's
 * stand-in for dm-cache (whose smq policy is likewise scan-resistant and
 * frequency-aware; its 64 KiB blocks and promotion throttle are left
 * out).  T1 holds blocks seen once recently, T2 blocks seen at least
 * twice; B1 and B2 remember what left them, and a hit there moves the
 * target size @p of T1.
 */
#include <stdlib.h>

#include "sim.h"

enum { T1, T2, B1, B2 };

struct arc {
	struct blist l;
	u64 c;		/* cache size, blocks */
	u64 p;		/* target size of T1 */
};

static void *arc_init(const struct sim_geom *g, const struct sim_run *run)
{
	struct arc *a = calloc(1, sizeof(*a));

	if (a && bl_init(&a->l, run->nblocks, 4)) {
		free(a);
		return NULL;
	}
	if (a)
		a->c = g->ssd_blocks;
	return a;
}

/* Evict the LRU block of T1 or T2 into its ghost list; bytes written. */
static u64 replace(struct arc *a, bool in_b2)
{
	u64 t1 = a->l.size[T1];
	unsigned int from;
	u32 y;
	u64 cost;

	if (t1 + a->l.size[T2] < a->c)
		return 0;
	from = t1 && ((in_b2 && t1 == a->p) || t1 > a->p) ? T1 : T2;
	y = bl_lru(&a->l, from);
	cost = bl_evict(&a->l, y);
	bl_push(&a->l, from == T1 ? B1 : B2, y);
	return cost;
}

static u64 max1(u64 x)
{
	return x ? x : 1;
}

/* A block in neither list nor ghost: make room (ARC's case IV). */
static u64 make_room(struct arc *a)
{
	const u64 *s = a->l.size;

	if (s[T1] + s[B1] == a->c) {
		if (s[T1] < a->c) {
			bl_del(&a->l, bl_lru(&a->l, B1));
			return replace(a, false);
		}
		return bl_evict(&a->l, bl_lru(&a->l, T1));
	}
	if (s[T1] + s[T2] + s[B1] + s[B2] >= a->c) {
		if (s[T1] + s[T2] + s[B1] + s[B2] == 2 * a->c)
			bl_del(&a->l, bl_lru(&a->l, B2));
		return replace(a, false);
	}
	return 0;
}

/* A miss on @b; returns the bytes copied. */
static u64 arc_miss(struct arc *a, u32 b, bool write)
{
	const u64 *s = a->l.size;
	u64 cost;

	if (bl_on(&a->l, b, B1)) {
		a->p += max1(s[B2] / max1(s[B1]));
		if (a->p > a->c)
			a->p = a->c;
		cost = replace(a, false);
		bl_del(&a->l, b);
		return cost + bl_admit(&a->l, T2, b, write);
	}
	if (bl_on(&a->l, b, B2)) {
		u64 d = max1(s[B1] / max1(s[B2]));

		a->p = a->p > d ? a->p - d : 0;
		cost = replace(a, true);
		bl_del(&a->l, b);
		return cost + bl_admit(&a->l, T2, b, write);
	}
	cost = make_room(a);
	return cost + bl_admit(&a->l, T1, b, write);
}

static u32 arc_access(void *p, const struct sim_io *io, u64 *moved)
{
	struct arc *a = p;
	u32 b, hits = 0;

	for (b = io->block; b < io->block + io->nblocks && a->c; b++) {
		if (bl_on(&a->l, b, T1) || bl_on(&a->l, b, T2)) {
			hits++;
			bl_del(&a->l, b);
			bl_push(&a->l, T2, b);
			a->l.dirty[b] |= io->write;
			continue;
		}
		*moved += arc_miss(a, b, io->write);
	}
	return hits;
}

static void arc_destroy(void *p)
{
	struct arc *a = p;

	bl_free(&a->l);
	free(a);
}

const struct sim_ops sim_arc_ops = {
	.name = "arc-4k",
	.init = arc_init,
	.access = arc_access,
	.destroy = arc_destroy,
};
