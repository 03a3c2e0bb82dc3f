// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reuse profile of one pass of a trace, counted in 4 KiB blocks of the
 * compacted space: accesses, distinct blocks, distinct units, and the share
 * of accesses that go to the most accessed 10, 25 and 50 % of the blocks.
 */
#include <errno.h>
#include <stdlib.h>

#include "sim.h"

const unsigned int sim_top_fracs[3] = { 10, 25, 50 };

static int cmp_desc(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x > y ? -1 : x < y;
}

static void count(const struct sim_run *run, u32 *cnt, u8 *unit,
		  struct sim_profile *pr)
{
	size_t i;
	u64 b;

	for (i = 0; i < run->nio && !run->io[i].pass; i++) {
		const struct sim_io *io = &run->io[i];

		pr->units += !unit[io->block / run->unit_blocks];
		unit[io->block / run->unit_blocks] = 1;
		pr->accesses += io->nblocks;
		for (b = io->block; b < io->block + io->nblocks; b++)
			cnt[b]++;
	}
}

int sim_profile(const struct sim_run *run, struct sim_profile *pr)
{
	u32 *cnt = calloc(run->nblocks, sizeof(*cnt));
	u8 *unit = calloc(run->nunits, 1);
	u64 b, sum = 0;
	unsigned int f = 0;

	*pr = (struct sim_profile){};
	if (!cnt || !unit) {
		free(cnt);
		free(unit);
		return -ENOMEM;
	}
	count(run, cnt, unit, pr);
	for (b = 0; b < run->nblocks; b++)
		if (cnt[b])
			cnt[pr->distinct++] = cnt[b];
	qsort(cnt, pr->distinct, sizeof(*cnt), cmp_desc);
	for (b = 0; b < pr->distinct && f < 3; b++) {
		sum += cnt[b];
		/* the top ceil(frac %) of the blocks */
		while (f < 3 && b + 1 ==
		       (pr->distinct * sim_top_fracs[f] + 99) / 100)
			pr->top_pct[f++] = 100.0 * sum / pr->accesses;
	}
	free(cnt);
	free(unit);
	return 0;
}
