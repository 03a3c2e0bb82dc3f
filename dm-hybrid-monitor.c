// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid monitor: per-volume statistics, chunk heat and stream
 * detection, fed by the bio path; and the placement map.
 *
 * Statistics are per-CPU counters, so the bio path never shares a cache
 * line between CPUs; readers sum them without locks.
 *
 * Heat is one byte per virtual chunk (saturating at 255): every read or
 * write adds one unless it belongs to a sequential stream longer than the
 * pool's seq_cutoff, and every heat halves each half-life
 * (dm-hybrid-policy.c).  The bytes are updated without atomics: a lost
 * increment under a race is noise.
 *
 * Stream detection is per volume: a bio that starts where the previous one
 * of the same volume ended extends the stream.  So a VM's scan or backup
 * neither heats its chunks nor, at first write, lands on the SSD, and can
 * therefore not evict the hot data of other VMs.
 */
#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/log2.h>
#include <linux/percpu.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "dm-hybrid-monitor.h"

/* ------------------------------------------------------------ counters */

static unsigned int size_bucket(unsigned int sectors)
{
	unsigned int b = 0;

	/* <=4K, <=16K, <=64K, <=256K, <=1M, more */
	for (sectors = (sectors + 7) >> 3; sectors > 1 && b < 5; b++)
		sectors = (sectors + 3) >> 2;
	return b;
}

/* Is @bio part of a stream longer than the cut-off? */
static bool in_stream(struct dmh_volume *v, struct bio *bio, u32 cutoff)
{
	struct dmh_stream *st = &v->stream;
	sector_t len = READ_ONCE(st->len);

	len = bio->bi_iter.bi_sector == READ_ONCE(st->next) ?
	      len + bio_sectors(bio) : bio_sectors(bio);
	WRITE_ONCE(st->len, len);
	WRITE_ONCE(st->next, bio_end_sector(bio));
	return cutoff && len > cutoff;
}

/*
 * Any context; once per data bio entering a volume.  Returns whether the
 * bio belongs to a stream beyond the cut-off (first-write placement).
 */
bool dmh_mon_account(struct dmh_volume *v, struct bio *bio, u64 vchunk,
		     u32 seq_cutoff_sectors)
{
	struct dmh_heat *h;
	unsigned int dir;
	u8 x;

	if (bio_op(bio) != REQ_OP_READ && bio_op(bio) != REQ_OP_WRITE)
		return false;
	dir = op_is_write(bio_op(bio));
	this_cpu_inc(v->stats->ios[dir]);
	this_cpu_add(v->stats->sectors[dir], bio_sectors(bio));
	this_cpu_inc(v->stats->size_hist[size_bucket(bio_sectors(bio))]);
	if (in_stream(v, bio, seq_cutoff_sectors)) {
		this_cpu_inc(v->stats->seq_ios);
		return true;
	}
	rcu_read_lock();
	h = rcu_dereference(v->heat);
	if (vchunk < h->nr) {
		x = READ_ONCE(h->h[vchunk]);
		if (x < U8_MAX)
			WRITE_ONCE(h->h[vchunk], x + 1);
	}
	rcu_read_unlock();
	return false;
}

/* Any context; a bio of the volume was sent to @tier. */
void dmh_mon_tier(struct dmh_volume *v, unsigned int tier)
{
	this_cpu_inc(v->stats->tier_ios[tier]);
}

void dmh_mon_sum(struct dmh_volume *v, struct dmh_vol_stats *sum)
{
	const u64 *src;
	u64 *dst = (u64 *)sum;
	int cpu, i, n = sizeof(*sum) / sizeof(u64);

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		src = (const u64 *)per_cpu_ptr(v->stats, cpu);
		for (i = 0; i < n; i++)
			dst[i] += READ_ONCE(src[i]);
	}
}

/* -------------------------------------------------------- placement map */

static char heat_digit(u8 h)
{
	return hex_asc[h ? min(1 + ilog2(h), 15) : 0];
}

/*
 * "chunks=<n> ssd=<n> hdd=<n> tiers=<one char per bucket> heat=<one hex
 * digit per bucket>", see Documentation/dm-hybrid.rst.  md_lock held.
 */
int dmh_mon_placement_map(struct dmh_volume *v, u32 chunk_sectors,
			  unsigned int buckets, char *result,
			  unsigned int maxlen)
{
	u64 chunks = DIV_ROUND_UP_ULL(v->size, chunk_sectors);
	unsigned int sz = 0, b, nb = min_t(u64, buckets, chunks);
	char *tiers, *heat;
	u64 i, lo, hi, ssd, hdd;
	unsigned int noio;
	u8 hmax;

	/* md_lock held: reclaim must not wait for this pool's I/O. */
	noio = memalloc_noio_save();
	tiers = kzalloc(nb + 1, GFP_KERNEL);
	heat = kzalloc(nb + 1, GFP_KERNEL);
	memalloc_noio_restore(noio);
	if (!tiers || !heat) {
		kfree(tiers);
		kfree(heat);
		return -ENOMEM;
	}
	for (b = 0; b < nb; b++) {
		lo = div64_u64(chunks * b, nb);
		hi = div64_u64(chunks * (b + 1), nb);
		ssd = 0;
		hdd = 0;
		hmax = 0;
		for (i = lo; i < hi; i++) {
			u64 e = dmh_lookup(v, i);

			if (e && dmh_ploc_tier(dmh_entry_ploc(e)))
				hdd++;
			else if (e)
				ssd++;
			hmax = max(hmax, dmh_heat_get(v, i));
		}
		tiers[b] = !(ssd + hdd) ? '.' : !ssd ? 'h' : hdd ? 's' : 'S';
		heat[b] = heat_digit(hmax);
	}
	DMEMIT("chunks=%llu ssd=%llu hdd=%llu tiers=%s heat=%s", chunks,
	       v->nr_chunks[DMH_TIER_SSD], v->nr_chunks[DMH_TIER_HDD],
	       tiers, heat);
	kfree(tiers);
	kfree(heat);
	return 1;
}
