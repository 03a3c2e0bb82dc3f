// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid monitor: per-volume statistics and the placement policy.
 *
 * Counters are per CPU so that the bio path never shares a cache line
 * between CPUs; readers (status) sum them without locks and may see a
 * count a few bios old.
 */
#include <linux/bio.h>
#include <linux/percpu.h>

#include "dm-hybrid.h"

int dmh_mon_init_volume(struct dmh_volume *v)
{
	v->stats = alloc_percpu(struct dmh_vol_stats);
	return v->stats ? 0 : -ENOMEM;
}

void dmh_mon_exit_volume(struct dmh_volume *v)
{
	free_percpu(v->stats);
	v->stats = NULL;
}

/* Any context; called once per bio that enters a volume. */
void dmh_mon_account(struct dmh_volume *v, struct bio *bio)
{
	unsigned int dir;

	if (bio_op(bio) != REQ_OP_READ && bio_op(bio) != REQ_OP_WRITE)
		return;
	dir = op_is_write(bio_op(bio));
	this_cpu_inc(v->stats->ios[dir]);
	this_cpu_add(v->stats->sectors[dir], bio_sectors(bio));
}

/* Any context; a bio of the volume was sent to @tier. */
void dmh_mon_tier(struct dmh_volume *v, unsigned int tier)
{
	this_cpu_inc(v->stats->tier_ios[tier]);
}

void dmh_mon_sum(struct dmh_volume *v, struct dmh_vol_stats *sum)
{
	int cpu, i;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		struct dmh_vol_stats *s = per_cpu_ptr(v->stats, cpu);

		for (i = 0; i < 2; i++) {
			sum->ios[i] += READ_ONCE(s->ios[i]);
			sum->sectors[i] += READ_ONCE(s->sectors[i]);
			sum->tier_ios[i] += READ_ONCE(s->tier_ios[i]);
		}
	}
}

/*
 * Where a first write goes.  Until the monitor's classification lands, a
 * chunk is born on the SSD while the SSD has room, else on the HDD.
 */
unsigned int dmh_policy_first_tier(struct dmh_volume *v, u64 free_ssd)
{
	return free_ssd ? DMH_TIER_SSD : DMH_TIER_HDD;
}
