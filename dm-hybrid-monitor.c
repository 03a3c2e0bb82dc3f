// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid monitor: per-volume statistics, chunk heat, stream detection
 * and the placement policy.
 *
 * Statistics are per-CPU counters, so the bio path never shares a cache
 * line between CPUs; readers sum them without locks.
 *
 * Heat is one byte per virtual chunk (saturating at 255): every read or
 * write adds one unless it belongs to a sequential stream longer than the
 * pool's seq_cutoff, and every heat halves each half-life.  The bytes are
 * updated without atomics: a lost increment under a race is noise.
 *
 * Stream detection is per volume: a bio that starts where the previous one
 * of the same volume ended extends the stream.  So a VM's scan or backup
 * neither heats its chunks nor, at first write, lands on the SSD, and can
 * therefore not evict the hot data of other VMs.
 *
 * The policy only decides; dm-hybrid-migrate.c moves chunks.
 */
#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/log2.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <kunit/visibility.h>

#include "dm-hybrid.h"

/* ------------------------------------------------------------ counters */

static struct dmh_heat *heat_alloc(u64 chunks)
{
	struct dmh_heat *h = kvzalloc(struct_size(h, h, chunks), GFP_KERNEL);

	if (h)
		h->nr = chunks;
	return h;
}

int dmh_mon_init_volume(struct dmh_volume *v, u64 chunks)
{
	struct dmh_heat *h = heat_alloc(chunks);

	v->stats = alloc_percpu(struct dmh_vol_stats);
	if (!v->stats || !h) {
		free_percpu(v->stats);
		kvfree(h);
		return -ENOMEM;
	}
	RCU_INIT_POINTER(v->heat, h);
	return 0;
}

void dmh_mon_exit_volume(struct dmh_volume *v)
{
	free_percpu(v->stats);
	v->stats = NULL;
	kvfree(rcu_dereference_protected(v->heat, true));
}

static void heat_free_rcu(struct rcu_head *rcu)
{
	kvfree(container_of(rcu, struct dmh_heat, rcu));
}

/* md_lock held: the bio path may still read the old array under RCU. */
int dmh_mon_resize(struct dmh_volume *v, u64 chunks)
{
	struct dmh_heat *old = rcu_dereference_protected(v->heat, true);
	struct dmh_heat *h;

	if (old->nr == chunks)
		return 0;
	h = heat_alloc(chunks);
	if (!h)
		return -ENOMEM;
	memcpy(h->h, old->h, min(old->nr, chunks));
	rcu_assign_pointer(v->heat, h);
	call_rcu(&old->rcu, heat_free_rcu);
	return 0;
}

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

/* md_lock held; halves every chunk's heat. */
void dmh_mon_decay(struct dmh_volume *v)
{
	struct dmh_heat *h = rcu_dereference_protected(v->heat, true);
	u64 i;

	for (i = 0; i < h->nr; i++)
		WRITE_ONCE(h->h[i], READ_ONCE(h->h[i]) >> 1);
}
EXPORT_SYMBOL_IF_KUNIT(dmh_mon_decay);

/* md_lock held. */
u8 dmh_mon_heat(struct dmh_volume *v, u64 vchunk)
{
	struct dmh_heat *h = rcu_dereference_protected(v->heat, true);

	return vchunk < h->nr ? READ_ONCE(h->h[vchunk]) : 0;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_mon_heat);

/* md_lock held. */
void dmh_mon_set_heat(struct dmh_volume *v, u64 vchunk, u8 x)
{
	struct dmh_heat *h = rcu_dereference_protected(v->heat, true);

	if (vchunk < h->nr)
		WRITE_ONCE(h->h[vchunk], x);
}
EXPORT_SYMBOL_IF_KUNIT(dmh_mon_set_heat);

/* ---------------------------------------------------------------- pins */

/* The tier @vchunk is pinned to, or -1 (md_lock held). */
int dmh_pin_of(struct dmh_volume *v, u64 vchunk)
{
	unsigned int i;

	for (i = v->nr_pins; i-- > 0; )
		if (vchunk >= v->pins[i].start && vchunk < v->pins[i].end)
			return v->pins[i].tier;
	return -1;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_pin_of);

/*
 * Pin [start, end) to @tier, or unpin it (@tier < 0).  The new range
 * replaces what it overlaps; a range partly overlapped is cut.
 */
int dmh_mon_set_pin(struct dmh_volume *v, u64 start, u64 end, int tier)
{
	struct dmh_pin keep[DMH_VOL_MAX_PINS * 2];
	unsigned int i, n = 0;

	if (start >= end)
		return -EINVAL;
	for (i = 0; i < v->nr_pins; i++) {
		struct dmh_pin p = v->pins[i];

		if (p.end <= start || p.start >= end) {
			keep[n++] = p;
			continue;
		}
		if (p.start < start)
			keep[n++] = (struct dmh_pin){ p.start, start, p.tier };
		if (p.end > end)
			keep[n++] = (struct dmh_pin){ end, p.end, p.tier };
	}
	if (tier >= 0)
		keep[n++] = (struct dmh_pin){ start, end, tier };
	if (n > DMH_VOL_MAX_PINS)
		return -ENOSPC;
	memcpy(v->pins, keep, n * sizeof(keep[0]));
	v->nr_pins = n;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_mon_set_pin);

/* -------------------------------------------------------------- policy */

/* SSD chunks a volume holds or is about to hold (md_lock held). */
static u64 ssd_held(struct dmh_volume *v)
{
	return v->nr_chunks[DMH_TIER_SSD] + v->ssd_pending;
}

/*
 * SSD chunks a volume keeps once the demotions under way finish: what its
 * reservation and its cap are checked against, so that plans of earlier
 * ticks still copying are not counted twice (md_lock held).
 */
static u64 ssd_kept(struct dmh_volume *v)
{
	return v->nr_chunks[DMH_TIER_SSD] - v->ssd_leaving;
}

/*
 * Where a first write goes: the SSD for a volume that may use it (below its
 * cap, free SSD beyond the reserve, not a stream, not pinned to the HDD),
 * else the HDD.  A range pinned to the SSD may use the reserve.
 */
unsigned int dmh_policy_first_tier(struct dmh_volume *v, u64 vchunk,
				   bool stream, u64 free_ssd,
				   const struct dmh_knobs *k)
{
	int pin = dmh_pin_of(v, vchunk);

	if (pin == DMH_PIN_SSD)
		return free_ssd ? DMH_TIER_SSD : DMH_TIER_HDD;
	if (pin == DMH_PIN_HDD || free_ssd <= k->reserve ||
	    (v->ssd_max && ssd_held(v) >= v->ssd_max) || stream)
		return DMH_TIER_HDD;
	return DMH_TIER_SSD;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_policy_first_tier);

/* Candidates of one plan, best first; bounded, kept by insertion. */
struct dmh_cands {
	struct dmh_move *m;
	unsigned int n;
	unsigned int max;
	bool low_first;		/* victims: coldest first */
};

/*
 * Victims: forced ones first, then lower priority, then colder, so that
 * chunks no candidate may evict do not crowd the bounded list.
 */
static bool victim_before(const struct dmh_move *a, const struct dmh_move *b)
{
	if (a->forced != b->forced)
		return a->forced;
	if (a->vol->priority != b->vol->priority)
		return a->vol->priority < b->vol->priority;
	return a->score < b->score;
}

static void cand_add(struct dmh_cands *c, struct dmh_move mv)
{
	unsigned int i;

	for (i = c->n; i > 0; i--) {
		bool before = c->low_first ? victim_before(&mv, &c->m[i - 1]) :
					     mv.score > c->m[i - 1].score;

		if (!before)
			break;
		if (i < c->max)
			c->m[i] = c->m[i - 1];
	}
	if (i < c->max) {
		c->m[i] = mv;
		if (c->n < c->max)
			c->n++;
	}
}

#define SCORE_FORCED	U32_MAX
#define PLAN_CANDS	32u

static u32 score_of(struct dmh_volume *v, u8 heat)
{
	return (u32)heat * v->weight / 100;
}

/*
 * Sort one chunk into promotion candidates or demotion victims.  Chunks
 * that can never move now (a capped volume's candidates, a reserved
 * volume's victims) are left out, so they do not crowd the bounded lists.
 */
static void classify(struct dmh_volume *v, u64 vchunk, u64 e,
		     const struct dmh_knobs *k, struct dmh_cands *pro,
		     struct dmh_cands *vic)
{
	unsigned int tier = dmh_ploc_tier(dmh_entry_ploc(e));
	int pin = dmh_pin_of(v, vchunk);
	u8 heat = dmh_mon_heat(v, vchunk);
	struct dmh_move mv = { v, vchunk, !tier, score_of(v, heat), false };

	if (tier == DMH_TIER_HDD) {
		if (pin == DMH_PIN_SSD)
			mv.score = SCORE_FORCED;
		else if (pin == DMH_PIN_HDD || !heat ||
			 heat < min(k->promote, k->promote_free) ||
			 (v->ssd_max && ssd_held(v) >= v->ssd_max))
			return;
		mv.free_only = pin != DMH_PIN_SSD && heat < k->promote;
		cand_add(pro, mv);
		return;
	}
	if (pin == DMH_PIN_SSD)
		return;
	mv.forced = pin == DMH_PIN_HDD ||
		    (v->ssd_max && ssd_kept(v) > v->ssd_max);
	if (!mv.forced && ssd_kept(v) <= v->ssd_min)
		return;
	cand_add(vic, mv);
}

/*
 * Classify up to @budget mapped chunks from the pass's cursor on.  Returns
 * true when the pass reached the last volume's last chunk.
 */
static bool scan_volumes(struct dmh_metadata *md, struct dmh_scan *s,
			 const struct dmh_knobs *k, struct dmh_cands *pro,
			 struct dmh_cands *vic, u64 budget)
{
	unsigned long id = s->vol, vchunk;
	struct dmh_volume *v;
	void *e;

	while ((v = dmh_md_next_volume(md, &id))) {
		if (v->id != s->vol)
			s->vchunk = 0;
		s->vol = v->id;
		xa_for_each_start(&v->map, vchunk, e, s->vchunk) {
			u64 x = xa_to_value(e);

			if (!budget--) {
				s->vchunk = vchunk;
				return false;
			}
			if (!(x & DMH_E_BUSY))
				classify(v, vchunk, x, k, pro, vic);
			if (!(vchunk & 4095))
				cond_resched();
		}
		s->vchunk = 0;
		s->vol = id;
		cond_resched();
	}
	return true;
}

/* How many moves to @tier of volume @v are already planned. */
static u64 planned(struct dmh_move *m, unsigned int n, struct dmh_volume *v,
		   unsigned int tier)
{
	u64 c = 0;

	while (n--)
		c += m[n].vol == v && m[n].to == tier;
	return c;
}

/* Must @vm leave the SSD: pinned to the HDD, or its volume over its cap? */
static bool forced_out(struct dmh_move *vm, struct dmh_move *plan,
		       unsigned int n)
{
	struct dmh_volume *v = vm->vol;

	return dmh_pin_of(v, vm->vchunk) == DMH_PIN_HDD ||
	       (v->ssd_max && ssd_kept(v) >
			      v->ssd_max + planned(plan, n, v, DMH_TIER_HDD));
}

/* May @vm be demoted to make room for @cand (NULL: for the reserve)? */
static bool may_evict(struct dmh_move *vm, struct dmh_move *cand,
		      const struct dmh_knobs *k, struct dmh_move *plan,
		      unsigned int n)
{
	struct dmh_volume *v = vm->vol;

	if (planned(plan, n, v, DMH_TIER_HDD) + v->ssd_min >= ssd_kept(v))
		return false;	/* its reservation */
	if (!cand)
		return dmh_mon_heat(v, vm->vchunk) < k->promote;
	if (cand->vol->priority == DMH_PRIO_LOW ||
	    v->priority > cand->vol->priority)
		return false;
	return cand->score == SCORE_FORCED ||
	       cand->score > vm->score + k->hysteresis;
}

/*
 * SSD chunks @v still lacks to reach its ssd_min, counting the promotions
 * already planned for it (md_lock held).
 */
static u64 ssd_owed(struct dmh_volume *v, struct dmh_move *plan,
		    unsigned int n)
{
	u64 has = ssd_held(v) + planned(plan, n, v, DMH_TIER_SSD);

	return v->ssd_min > has ? v->ssd_min - has : 0;
}

static bool may_promote(struct dmh_move *cand, struct dmh_move *plan,
			unsigned int n)
{
	struct dmh_volume *v = cand->vol;

	return !v->ssd_max || cand->score == SCORE_FORCED ||
	       ssd_held(v) + planned(plan, n, v, DMH_TIER_SSD) < v->ssd_max;
}

/*
 * Plan up to @max moves (md_lock held):
 *  1. forced demotions: ranges pinned to the HDD, volumes over their cap;
 *  2. promotions, hottest first, into free SSD space beyond the reserve;
 *     a free-only candidate (heat below promote_threshold, at least
 *     promote_free_threshold) also leaves the chunks other volumes still
 *     lack to reach their ssd_min (@owed at the start);
 *  3. swaps: for each remaining candidate at or above promote_threshold,
 *     demote the coldest victim it beats by the hysteresis (the promotion
 *     follows once space is free);
 *  4. keep the reserve: demote cold chunks while the SSD is too full.
 * @free_ssd already excludes the chunks of promotions under way: they are
 * allocated when they start.
 */
static unsigned int plan_from(struct dmh_cands pro, struct dmh_cands vic,
			      const struct dmh_knobs *k, u64 free_ssd,
			      u64 owed, struct dmh_move *moves,
			      unsigned int max)
{
	u64 room = free_ssd > k->reserve ? free_ssd - k->reserve : 0;
	unsigned int n = 0, p, j;
	bool used[PLAN_CANDS] = {};
	u64 own;

	for (j = 0; j < vic.n && n < max; j++) {
		if (forced_out(&vic.m[j], moves, n)) {
			used[j] = true;
			moves[n++] = vic.m[j];
		}
	}
	for (p = 0; p < pro.n && n < max; p++) {
		struct dmh_move *c = &pro.m[p];

		if (!may_promote(c, moves, n))
			continue;
		own = ssd_owed(c->vol, moves, n) ? 1 : 0;
		if (room && (!c->free_only || room + own > owed)) {
			moves[n++] = *c;
			room--;
			owed -= own;
			continue;
		}
		if (c->free_only || c->vol->priority == DMH_PRIO_LOW)
			continue;	/* never displaces others */
		for (j = 0; j < vic.n; j++)
			if (!used[j] && may_evict(&vic.m[j], c, k, moves, n))
				break;
		if (j < vic.n) {
			used[j] = true;
			moves[n++] = vic.m[j];
		}
	}
	for (j = 0; free_ssd < k->reserve && j < vic.n && n < max; j++) {
		if (!used[j] && may_evict(&vic.m[j], NULL, k, moves, n)) {
			moves[n++] = vic.m[j];
			free_ssd++;
		}
	}
	return n;
}

/* SSD chunks all volumes still lack to reach their ssd_min (md_lock held). */
static u64 pool_owed(struct dmh_metadata *md)
{
	unsigned long id = 0;
	struct dmh_volume *v;
	u64 owed = 0;

	while ((v = dmh_md_next_volume(md, &id)))
		owed += ssd_owed(v, NULL, 0);
	return owed;
}

int dmh_scan_init(struct dmh_scan *s)
{
	*s = (struct dmh_scan) {};
	s->buf = kcalloc(2 * PLAN_CANDS, sizeof(*s->buf), GFP_KERNEL);
	return s->buf ? 0 : -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_scan_init);

void dmh_scan_exit(struct dmh_scan *s)
{
	kfree(s->buf);
	s->buf = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_scan_exit);

/* md_lock held: forget the pass under way (a volume went away). */
void dmh_scan_reset(struct dmh_scan *s)
{
	s->running = false;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_scan_reset);

/*
 * One step of the policy pass (md_lock held): classify up to @budget
 * chunks; once the pass has seen every chunk, plan up to @max moves from
 * what it found and start over.  Returns the moves planned, usually 0
 * until a pass ends.  A pool with at most @budget mapped chunks ends a
 * pass, and plans, at every step.  The list sizes are fixed when a pass
 * starts, from that step's @max.
 */
unsigned int dmh_policy_step(struct dmh_metadata *md, struct dmh_scan *s,
			     const struct dmh_knobs *k, u64 free_ssd,
			     struct dmh_move *moves, unsigned int max,
			     u64 budget)
{
	struct dmh_cands pro, vic;
	bool done;

	if (!s->running) {
		s->vol = 0;
		s->vchunk = 0;
		s->npro = 0;
		s->nvic = 0;
		s->max = min(max, PLAN_CANDS);
		s->running = true;
	}
	pro = (struct dmh_cands) { s->buf, s->npro, s->max, false };
	vic = (struct dmh_cands) { s->buf + PLAN_CANDS, s->nvic, s->max, true };
	done = scan_volumes(md, s, k, &pro, &vic, budget);
	s->npro = pro.n;
	s->nvic = vic.n;
	if (!done)
		return 0;
	s->running = false;
	return plan_from(pro, vic, k, free_ssd, pool_owed(md), moves,
			 min(max, s->max));
}
EXPORT_SYMBOL_IF_KUNIT(dmh_policy_step);

/* A whole pass at once, planning up to @max moves (md_lock held). */
unsigned int dmh_policy_plan(struct dmh_metadata *md,
			     const struct dmh_knobs *k, u64 free_ssd,
			     struct dmh_move *moves, unsigned int max)
{
	struct dmh_scan s;
	unsigned int n;

	if (dmh_scan_init(&s))
		return 0;
	n = dmh_policy_step(md, &s, k, free_ssd, moves, max, U64_MAX);
	dmh_scan_exit(&s);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_policy_plan);

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
	u8 hmax;

	tiers = kzalloc(nb + 1, GFP_KERNEL);
	heat = kzalloc(nb + 1, GFP_KERNEL);
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
			hmax = max(hmax, dmh_mon_heat(v, i));
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
