// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid: the module's own monitor and policy (dm-hybrid-monitor.c and
 * dm-hybrid-policy.c, compiled unchanged under kshim/) driven as the pool
 * drives them, for a pool of one or more volumes whose SSD holds the
 * lab's SSD size in chunks: one volume for the sim_ops row "dm-hybrid",
 * several for the multi-volume mode (mix.c, through sim_pool_*()).  This
 * file stands in for the rest of the pool:
 *
 *  - the map room (dmh_md_*()): volumes 1..N, each with its own vchunk
 *    space, statistics and default controls (weight 100, priority normal),
 *    every chunk of its compacted space mapped on the HDD at the start
 *    (the benchmarks' prefill writes the volume sequentially, so every
 *    chunk lands on the HDD); the tunables carry the lab's tick and
 *    migration rate;
 *  - the bio path (dm-hybrid-io.c's map()): each piece is one bio;
 *    dmh_mon_account() heats its chunk unless it is part of a stream
 *    beyond seq_cutoff, and it is served where its chunk lives;
 *  - the migration engine (dm-hybrid-migrate.c's tick): every tick_ms,
 *    dmh_policy_tick() (heat halves every half-life), then as many moves
 *    as its token bucket allows (migration_rate, at most MAX_PLAN a
 *    tick, SCAN_BUDGET chunks classified) from dmh_policy_get_work().
 *
 * Simplified: a move completes at the tick that planned it (the kernel
 * copies for a while, and frees a demoted chunk's SSD space only after a
 * commit), and foreground load never slows migration (the kernel's
 * backoff to a quarter of the rate when the volumes are busy).
 */
#include <linux/bio.h>
#include <linux/kernel.h>

#include "dm-hybrid-monitor.h"
#include "sim.h"

/* As in dm-hybrid-migrate.c. */
#define MAX_INFLIGHT		32
#define MAX_PLAN		16
#define SCAN_BUDGET		262144
#define SECTORS_PER_MIB		2048

struct dmh_metadata {
	struct dmh_volume *vol;		/* nr_vol volumes, ids 1..nr_vol */
	unsigned int nr_vol;
	u64 total[DMH_NR_TIERS];
	u64 free[DMH_NR_TIERS];
	u32 tunables[DMH_NR_TUNABLES];
};

struct sim_pool {
	struct dmh_metadata md;
	struct dmh_policy *policy;
	struct dmh_vol_stats *stats;	/* one per volume */
	u64 unit_blocks;
	u32 chunk_sectors;
	s64 tokens;			/* sectors the rate allows now */
	unsigned long stamp;		/* jiffies (ms) of the last tick */
};

/* ----------------------------------------------- the map room's part */

void dmh_md_tunables(struct dmh_metadata *md, u32 *t, bool set)
{
	if (set)
		memcpy(md->tunables, t, sizeof(md->tunables));
	else
		memcpy(t, md->tunables, sizeof(md->tunables));
}

void dmh_md_usage(struct dmh_metadata *md, struct dmh_md_usage *u)
{
	*u = (struct dmh_md_usage){ .nr_volumes = md->nr_vol };
	memcpy(u->total, md->total, sizeof(u->total));
	u->used[DMH_TIER_SSD] = md->total[DMH_TIER_SSD] - md->free[DMH_TIER_SSD];
	u->used[DMH_TIER_HDD] = md->total[DMH_TIER_HDD] - md->free[DMH_TIER_HDD];
}

/* As dm-hybrid-map.c's: the first volume with id >= *id, then *id past it. */
struct dmh_volume *dmh_md_next_volume(struct dmh_metadata *md,
				      unsigned long *id)
{
	unsigned long i = *id ? *id - 1 : 0;

	if (i >= md->nr_vol)
		return NULL;
	*id = md->vol[i].id + 1;
	return &md->vol[i];
}

struct dmh_volume *dmh_md_volume(struct dmh_metadata *md, u32 id)
{
	return id && id <= md->nr_vol ? &md->vol[id - 1] : NULL;
}

u64 dmh_md_free_chunks(struct dmh_metadata *md, unsigned int tier)
{
	return md->free[tier];
}

/* A move here frees its source at once: nothing waits for a commit. */
u64 dmh_md_frees_of(struct dmh_metadata *md, unsigned int tier)
{
	return 0;
}

static void set_home(struct dmh_volume *v, u64 vchunk, unsigned int tier)
{
	v->map.slot[vchunk] = xa_mk_value(dmh_entry(dmh_ploc(tier, vchunk), 0));
}

/* Volume @id of @units chunks, all of them on the HDD. */
static int volume_init(struct sim_pool *s, u32 id, u64 units)
{
	struct dmh_volume *v = &s->md.vol[id - 1];
	struct dmh_heat *h = calloc(1, sizeof(*h) + units);
	u64 u;

	v->map.slot = calloc(units, sizeof(*v->map.slot));
	if (!h || !v->map.slot) {
		free(h);
		free(v->map.slot);
		v->map.slot = NULL;
		return -ENOMEM;
	}
	h->nr = units;
	v->heat = h;
	v->map.n = units;
	v->id = id;
	v->slot = id - 1;
	v->size = units * s->chunk_sectors;
	v->weight = 100;
	v->priority = DMH_PRIO_NORMAL;
	v->stats = &s->stats[id - 1];
	for (u = 0; u < units; u++)
		set_home(v, u, DMH_TIER_HDD);
	v->nr_chunks[DMH_TIER_HDD] = units;
	return 0;
}

void sim_pool_destroy(struct sim_pool *s)
{
	unsigned int i;

	if (!s)
		return;
	dmh_policy_destroy(s->policy);
	for (i = 0; s->md.vol && i < s->md.nr_vol; i++) {
		free(s->md.vol[i].map.slot);
		free(s->md.vol[i].heat);
	}
	free(s->md.vol);
	free(s->stats);
	free(s);
}

struct sim_pool *sim_pool_create(const struct sim_geom *g, u64 unit_blocks,
				 const u64 *units, unsigned int nvol)
{
	struct sim_pool *s = calloc(1, sizeof(*s));
	unsigned int i;

	if (!s)
		return NULL;
	s->md.vol = calloc(nvol, sizeof(*s->md.vol));
	s->stats = calloc(nvol, sizeof(*s->stats));
	if (!s->md.vol || !s->stats || !nvol) {
		sim_pool_destroy(s);
		return NULL;
	}
	s->md.nr_vol = nvol;
	s->unit_blocks = unit_blocks;
	s->chunk_sectors = unit_blocks * (SIM_BLOCK >> 9);
	s->md.total[DMH_TIER_SSD] = g->ssd_units;
	s->md.free[DMH_TIER_SSD] = g->ssd_units;
	s->md.total[DMH_TIER_HDD] = g->hdd_units;
	s->md.tunables[DMH_TUN_TICK] = g->tick_ms + 1;	/* value + 1 */
	s->md.tunables[DMH_TUN_RATE] = g->rate_mib + 1;
	for (i = 0; i < nvol; i++)
		if (volume_init(s, i + 1, units[i])) {
			sim_pool_destroy(s);
			return NULL;
		}
	s->policy = dmh_policy_create(&s->md, 0);
	if (!s->policy) {
		sim_pool_destroy(s);
		return NULL;
	}
	return s;
}

void sim_pool_volume(struct sim_pool *s, unsigned int vol,
		     struct sim_pool_vol *out)
{
	struct dmh_volume *v = &s->md.vol[vol];
	u64 i;

	*out = (struct sim_pool_vol){
		.chunks = { v->nr_chunks[DMH_TIER_SSD],
			    v->nr_chunks[DMH_TIER_HDD] },
		.promotions = v->promotions,
		.demotions = v->demotions,
		.tier_ios = { s->stats[vol].tier_ios[DMH_TIER_SSD],
			      s->stats[vol].tier_ios[DMH_TIER_HDD] },
		.ssd_min_heat = -1,
	};
	for (i = 0; i < v->map.n; i++) {
		u8 h = dmh_heat_get(v, i);

		if (dmh_ploc_tier(dmh_entry_ploc(dmh_lookup(v, i))) ==
		    DMH_TIER_HDD)
			out->hdd_max_heat = max(out->hdd_max_heat, h);
		else if (out->ssd_min_heat < 0 || h < out->ssd_min_heat)
			out->ssd_min_heat = h;
	}
}

/* ------------------------------------------------- the bio path's part */

/* Volume @vol's piece @io: heat it, and is it served from the SSD? */
bool sim_pool_access(struct sim_pool *s, unsigned int vol,
		     const struct sim_io *io)
{
	struct dmh_volume *v = &s->md.vol[vol];
	struct bio bio = {
		.bi_iter = { .bi_sector = io->sector,
			     .bi_size = io->sectors << 9 },
		.bi_opf = io->write ? REQ_OP_WRITE : REQ_OP_READ,
	};
	u64 vchunk = io->block / s->unit_blocks;
	unsigned int tier;

	dmh_mon_account(v, &bio, vchunk,
			dmh_policy_knobs(s->policy)->seq_cutoff * 2);
	tier = dmh_ploc_tier(dmh_entry_ploc(dmh_lookup(v, vchunk)));
	dmh_mon_tier(v, tier);
	return tier == DMH_TIER_SSD;
}

/* ---------------------------------------------- the engine's part */

/* The token bucket of dm-hybrid-migrate.c's mig_budget(), never loaded. */
static unsigned int budget(struct sim_pool *s, unsigned long now)
{
	const struct dmh_knobs *k = dmh_policy_knobs(s->policy);
	s64 rate = (s64)k->rate * SECTORS_PER_MIB;
	s64 add = rate * (s64)(now - s->stamp) / 1000;
	s64 cap = max_t(s64, rate, s->chunk_sectors);

	s->stamp = now;
	if (!k->rate)
		return MAX_PLAN;
	s->tokens = min(s->tokens + add, cap);
	return s->tokens > 0 ? s->tokens / s->chunk_sectors : 0;
}

/*
 * Move a chunk at once, with the bookkeeping of its volume's counters as
 * dm-hybrid-migrate.c does it over the copy; 0 as mig_begin() refuses it,
 * else its bytes.
 */
static u64 move(struct sim_pool *s, const struct dmh_move *mv)
{
	struct dmh_volume *v = mv->vol;
	u64 e = dmh_lookup(v, mv->vchunk);
	unsigned int from;

	if (!e || (e & DMH_E_BUSY))
		return 0;
	from = dmh_ploc_tier(dmh_entry_ploc(e));
	if (from == mv->to || !s->md.free[mv->to])
		return 0;
	dmh_policy_work_started(v, mv->to, false);
	set_home(v, mv->vchunk, mv->to);
	s->md.free[mv->to]--;
	s->md.free[from]++;
	v->nr_chunks[mv->to]++;
	v->nr_chunks[from]--;
	dmh_policy_work_done(v, mv->to, false, true);
	return (u64)s->chunk_sectors << 9;
}

u64 sim_pool_tick(struct sim_pool *s, u64 now_us)
{
	struct dmh_move moves[MAX_PLAN];
	unsigned long now = now_us / 1000;
	unsigned int n, i, max;
	u64 bytes, moved = 0;

	dmh_policy_tick(s->policy, now);
	max = min3(budget(s, now), (unsigned int)MAX_INFLIGHT,
		   (unsigned int)MAX_PLAN);
	if (!dmh_policy_knobs(s->policy)->migration || !max)
		return 0;
	n = dmh_policy_get_work(s->policy, moves, max, SCAN_BUDGET);
	for (i = 0; i < n; i++) {
		bytes = move(s, &moves[i]);
		if (bytes && dmh_policy_knobs(s->policy)->rate)
			s->tokens -= s->chunk_sectors;
		moved += bytes;
	}
	return moved;
}

/* ------------------------------------- the single-volume row, sim_ops */

static void *dmh_init(const struct sim_geom *g, const struct sim_run *run)
{
	return sim_pool_create(g, run->unit_blocks, &run->nunits, 1);
}

static u32 dmh_access(void *p, const struct sim_io *io, u64 *moved)
{
	return sim_pool_access(p, 0, io) ? io->nblocks : 0;
}

static u64 dmh_tick(void *p, u64 now_us)
{
	return sim_pool_tick(p, now_us);
}

static void dmh_destroy(void *p)
{
	sim_pool_destroy(p);
}

const struct sim_ops sim_dmhybrid_ops = {
	.name = "dm-hybrid",
	.init = dmh_init,
	.access = dmh_access,
	.tick = dmh_tick,
	.destroy = dmh_destroy,
};
