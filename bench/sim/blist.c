// SPDX-License-Identifier: GPL-2.0-only
/*
 * Doubly linked LRU lists of 4 KiB blocks for the block caches: the links
 * live in arrays indexed by block number, shared by up to four lists (a
 * block is on one list at most), each list's head an extra entry past the
 * blocks.  Head->next is the most recently used block, head->prev the
 * least.
 *
 * A cache's copies cost what a write-back cache copies: a read miss fills
 * 4 KiB into the SSD; a write miss lands on the SSD and copies nothing;
 * evicting a block written since its admission writes 4 KiB back.
 */
#include <errno.h>
#include <stdlib.h>

#include "sim.h"

int bl_init(struct blist *l, u64 n, unsigned int nlists)
{
	u32 k;

	*l = (struct blist){ .n = n };
	l->prev = malloc((n + nlists) * sizeof(*l->prev));
	l->next = malloc((n + nlists) * sizeof(*l->next));
	l->where = calloc(n, 1);
	l->dirty = calloc(n, 1);
	if (n >= (u32)-5 || nlists > 4 || !l->prev || !l->next ||
	    !l->where || !l->dirty) {
		bl_free(l);
		return -ENOMEM;
	}
	for (k = l->n; k < l->n + nlists; k++) {
		l->prev[k] = k;
		l->next[k] = k;
	}
	return 0;
}

void bl_free(struct blist *l)
{
	free(l->prev);
	free(l->next);
	free(l->where);
	free(l->dirty);
	*l = (struct blist){};
}

/* Make @b the most recently used block of @list (it is on none). */
void bl_push(struct blist *l, unsigned int list, u32 b)
{
	u32 h = l->n + list;

	l->prev[b] = h;
	l->next[b] = l->next[h];
	l->prev[l->next[h]] = b;
	l->next[h] = b;
	l->where[b] = list + 1;
	l->size[list]++;
}

void bl_del(struct blist *l, u32 b)
{
	l->next[l->prev[b]] = l->next[b];
	l->prev[l->next[b]] = l->prev[b];
	l->size[l->where[b] - 1]--;
	l->where[b] = 0;
}

/* The least recently used block of a non-empty @list. */
u32 bl_lru(const struct blist *l, unsigned int list)
{
	return l->prev[l->n + list];
}

/* Admit @b after a miss; returns the bytes copied. */
u64 bl_admit(struct blist *l, unsigned int list, u32 b, bool write)
{
	bl_push(l, list, b);
	l->dirty[b] = write;
	return write ? 0 : SIM_BLOCK;
}

/* Take @b out of the cache; returns the bytes written back. */
u64 bl_evict(struct blist *l, u32 b)
{
	u64 cost = l->dirty[b] ? SIM_BLOCK : 0;

	bl_del(l, b);
	l->dirty[b] = 0;
	return cost;
}
