// SPDX-License-Identifier: GPL-2.0-only
/*
 * lru-4k: an LRU cache of 4 KiB blocks that admits every missed block, the
 * lab's stand-in for bcache (writeback; its own cut-offs left out).
 */
#include <stdlib.h>

#include "sim.h"

struct lru {
	struct blist l;
	u64 cap;
};

static void *lru_init(const struct sim_geom *g, const struct sim_run *run)
{
	struct lru *c = calloc(1, sizeof(*c));

	if (c && bl_init(&c->l, run->nblocks, 1)) {
		free(c);
		return NULL;
	}
	if (c)
		c->cap = g->ssd_blocks;
	return c;
}

static u32 lru_access(void *p, const struct sim_io *io, u64 *moved)
{
	struct lru *c = p;
	u32 b, hits = 0;

	for (b = io->block; b < io->block + io->nblocks && c->cap; b++) {
		if (bl_on(&c->l, b, 0)) {
			hits++;
			bl_del(&c->l, b);
			bl_push(&c->l, 0, b);
			c->l.dirty[b] |= io->write;
			continue;
		}
		if (c->l.size[0] >= c->cap)
			*moved += bl_evict(&c->l, bl_lru(&c->l, 0));
		*moved += bl_admit(&c->l, 0, b, io->write);
	}
	return hits;
}

static void lru_destroy(void *p)
{
	struct lru *c = p;

	bl_free(&c->l);
	free(c);
}

const struct sim_ops sim_lru_ops = {
	.name = "lru-4k",
	.init = lru_init,
	.access = lru_access,
	.destroy = lru_destroy,
};
