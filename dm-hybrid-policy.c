// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid placement policy: it decides, dm-hybrid-migrate.c moves.
 *
 * Heat is one byte per virtual chunk (dm-hybrid-monitor.c adds to it); it
 * halves every heat_half_life.  A chunk's score is its heat times its
 * volume's weight.  A pass over every mapped chunk (spread over ticks)
 * keeps the hottest HDD chunks as promotion candidates and the coldest SSD
 * chunks as victims, then plans: forced demotions first, promotions into
 * free space, swaps where the candidate is at least twice as hot as the
 * victim and beats it by the hysteresis, demotions that keep the reserve
 * free; within every volume's ssd_min, ssd_max, priority and pins.
 *
 * This file includes no block-layer header, and reaches the pool only
 * through dm-hybrid-map.h, so that bench/sim compiles it unchanged in user
 * space under a small shim.
 *
 * Locking: everything here runs with the pool's md_lock held.
 */
#include <linux/device-mapper.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "dm-hybrid-monitor.h"

struct dmh_policy {
	struct dmh_metadata *md;
	struct dmh_knobs knobs;
	struct dmh_scan scan;
	unsigned long next_decay;	/* jiffies */
	unsigned long next_heat_save;
};

/* ------------------------------------------------------------- knobs */

struct knob {
	const char *name;
	size_t off;		/* of the field in struct dmh_knobs */
	unsigned int idx;	/* in the superblock's tunables */
	u32 min, max, def;
};

#define KNOB_ENTRY(field, name, idx, min, max, def)			\
	{ #name, offsetof(struct dmh_knobs, field), idx, min, max, def },

static const struct knob knob_table[] = {
	DMH_KNOBS(KNOB_ENTRY)
};

static u32 *knob_field(struct dmh_knobs *k, const struct knob *kn)
{
	return (u32 *)((char *)k + kn->off);
}

#define TUN_MIGRATION_OFF	BIT(0)	/* bits of t[DMH_TUN_FLAGS] */
#define TUN_EVACUATE		BIT(1)

/*
 * Knobs persist in the superblock's tunables as value + 1 (0 = default),
 * migration on/off and evacuate on/off as flags.  The default SSD reserve
 * is 1% of the SSD.
 */
static void knobs_load(struct dmh_policy *p)
{
	struct dmh_knobs *k = &p->knobs;
	struct dmh_md_usage u;
	u32 t[DMH_NR_TUNABLES], v;
	unsigned int i;

	dmh_md_tunables(p->md, t, false);
	dmh_md_usage(p->md, &u);
	for (i = 0; i < ARRAY_SIZE(knob_table); i++) {
		v = knob_table[i].def;
		if (knob_table[i].idx == DMH_TUN_RESERVE)
			v = max_t(u64, u.total[DMH_TIER_SSD] / 100, 1);
		if (t[knob_table[i].idx])
			v = t[knob_table[i].idx] - 1;
		WRITE_ONCE(*knob_field(k, &knob_table[i]), v);
	}
	WRITE_ONCE(k->migration, !(t[DMH_TUN_FLAGS] & TUN_MIGRATION_OFF));
	WRITE_ONCE(k->evacuate, !!(t[DMH_TUN_FLAGS] & TUN_EVACUATE));
}

struct dmh_policy *dmh_policy_create(struct dmh_metadata *md,
				     unsigned long now)
{
	struct dmh_policy *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return NULL;
	if (dmh_scan_init(&p->scan)) {
		kfree(p);
		return NULL;
	}
	p->md = md;
	knobs_load(p);
	p->next_decay = now + p->knobs.half_life * HZ;
	p->next_heat_save = now + p->knobs.heat_save * HZ;
	return p;
}

void dmh_policy_destroy(struct dmh_policy *p)
{
	if (!p)
		return;
	dmh_scan_exit(&p->scan);
	kfree(p);
}

const struct dmh_knobs *dmh_policy_knobs(struct dmh_policy *p)
{
	return &p->knobs;
}

int dmh_policy_set_knob(struct dmh_policy *p, const char *name,
			const char *val, unsigned long now)
{
	u32 t[DMH_NR_TUNABLES], v;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(knob_table); i++)
		if (!strcmp(name, knob_table[i].name))
			break;
	if (i == ARRAY_SIZE(knob_table)) {
		DMERR("set: unknown knob '%s'", name);
		return -EINVAL;
	}
	if (kstrtou32(val, 10, &v) || v < knob_table[i].min ||
	    v > knob_table[i].max) {
		DMERR("set %s: value must be a number from %u to %u", name,
		      knob_table[i].min, knob_table[i].max);
		return -EINVAL;
	}
	dmh_md_tunables(p->md, t, false);
	t[knob_table[i].idx] = v + 1;
	dmh_md_tunables(p->md, t, true);
	knobs_load(p);
	/* A shorter save period applies now, not after the old one. */
	if (knob_table[i].idx == DMH_TUN_HEAT_SAVE)
		p->next_heat_save = now + v * HZ;
	return 0;
}

/* Set or clear @flag in the stored tunables, then reload the knobs. */
static void set_flag(struct dmh_policy *p, u32 flag, bool set)
{
	u32 t[DMH_NR_TUNABLES];

	dmh_md_tunables(p->md, t, false);
	t[DMH_TUN_FLAGS] = set ? t[DMH_TUN_FLAGS] | flag :
				 t[DMH_TUN_FLAGS] & ~flag;
	dmh_md_tunables(p->md, t, true);
	knobs_load(p);
}

void dmh_policy_set_migration(struct dmh_policy *p, bool on)
{
	set_flag(p, TUN_MIGRATION_OFF, !on);
}

void dmh_policy_set_evacuate(struct dmh_policy *p, bool on)
{
	set_flag(p, TUN_EVACUATE, on);
	/* The candidates of the pass under way were sorted the old way. */
	dmh_scan_reset(&p->scan);
}

/* ------------------------------------------------------------ the tick */

bool dmh_policy_heat_save_due(struct dmh_policy *p, unsigned long now)
{
	if (time_before(now, p->next_heat_save))
		return false;
	p->next_heat_save = now + p->knobs.heat_save * HZ;
	return true;
}

void dmh_policy_tick(struct dmh_policy *p, unsigned long now)
{
	struct dmh_volume *v;
	unsigned long id = 0;

	if (!p->knobs.half_life || time_before(now, p->next_decay))
		return;
	p->next_decay = now + p->knobs.half_life * HZ;
	while ((v = dmh_md_next_volume(p->md, &id)))
		dmh_mon_decay(v);
}

void dmh_policy_volume_removed(struct dmh_policy *p)
{
	dmh_scan_reset(&p->scan);
}

unsigned int dmh_policy_place(struct dmh_policy *p, struct dmh_volume *v,
			      u64 vchunk, bool stream)
{
	return dmh_policy_first_tier(v, vchunk, stream,
				     dmh_md_free_chunks(p->md, DMH_TIER_SSD),
				     &p->knobs);
}

unsigned int dmh_policy_get_work(struct dmh_policy *p, struct dmh_move *moves,
				 unsigned int max, u64 budget)
{
	return dmh_policy_step(p->md, &p->scan, &p->knobs,
			       dmh_md_free_chunks(p->md, DMH_TIER_SSD), moves,
			       max, budget);
}

/* ---------------------------------------------------- work accounting */

void dmh_policy_work_started(struct dmh_volume *v, unsigned int to,
			     bool first)
{
	if (to == DMH_TIER_SSD)
		v->ssd_pending++;
	else if (!first)
		v->ssd_leaving++;
}

void dmh_policy_work_done(struct dmh_volume *v, unsigned int to, bool first,
			  bool moved)
{
	if (to == DMH_TIER_SSD)
		v->ssd_pending--;
	else if (!first)
		v->ssd_leaving--;
	if (first || !moved)
		return;
	if (to == DMH_TIER_SSD)
		WRITE_ONCE(v->promotions, v->promotions + 1);
	else
		WRITE_ONCE(v->demotions, v->demotions + 1);
}

/* -------------------------------------------------------------- heat */

/* md_lock held; halves every chunk's heat. */
void dmh_mon_decay(struct dmh_volume *v)
{
	struct dmh_heat *h = rcu_dereference_protected(v->heat, true);
	u64 i;

	for (i = 0; i < h->nr; i++)
		WRITE_ONCE(h->h[i], READ_ONCE(h->h[i]) >> 1);
}
EXPORT_SYMBOL_IF_KUNIT(dmh_mon_decay);

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

/* -------------------------------------------------------------- policy */

/*
 * SSD chunks a volume holds or is about to hold, its block tier slots
 * counted as the chunks they fill (md_lock held).
 */
static u64 ssd_held(struct dmh_volume *v)
{
	return v->nr_chunks[DMH_TIER_SSD] + v->ssd_pending +
	       READ_ONCE(v->blk_held);
}

/*
 * SSD chunks a volume keeps once the demotions under way finish: what its
 * reservation and its cap are checked against, so that plans of earlier
 * ticks still copying are not counted twice (md_lock held).  Its slots
 * count too: a volume whose slots fill its cap keeps no chunk beyond it.
 */
static u64 ssd_kept(struct dmh_volume *v)
{
	return v->nr_chunks[DMH_TIER_SSD] - v->ssd_leaving +
	       READ_ONCE(v->blk_held);
}

/*
 * Where a first write goes: the SSD for a volume that may use it (below its
 * cap, free SSD beyond the reserve, not a stream, not pinned to the HDD),
 * else the HDD.  A range pinned to the SSD may use the reserve.  While
 * the SSD is evacuated, everything goes to the HDD.
 */
unsigned int dmh_policy_first_tier(struct dmh_volume *v, u64 vchunk,
				   bool stream, u64 free_ssd,
				   const struct dmh_knobs *k)
{
	int pin = dmh_pin_of(v, vchunk);

	if (k->evacuate)
		return DMH_TIER_HDD;
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
 * While the SSD is evacuated, every SSD chunk is a forced victim.
 */
static void classify(struct dmh_volume *v, u64 vchunk, u64 e,
		     const struct dmh_knobs *k, struct dmh_cands *pro,
		     struct dmh_cands *vic)
{
	unsigned int tier = dmh_ploc_tier(dmh_entry_ploc(e));
	int pin = dmh_pin_of(v, vchunk);
	u8 heat = dmh_heat_get(v, vchunk);
	struct dmh_move mv = { v, vchunk, !tier, score_of(v, heat), false };

	if (k->evacuate) {	/* every SSD chunk leaves, none comes */
		mv.forced = true;
		if (tier == DMH_TIER_SSD)
			cand_add(vic, mv);
		return;
	}
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

/*
 * Must @vm leave the SSD: the SSD is evacuated, @vm is pinned to the HDD,
 * or its volume is over its cap?
 */
static bool forced_out(struct dmh_move *vm, const struct dmh_knobs *k,
		       struct dmh_move *plan, unsigned int n)
{
	struct dmh_volume *v = vm->vol;

	return k->evacuate || dmh_pin_of(v, vm->vchunk) == DMH_PIN_HDD ||
	       (v->ssd_max && ssd_kept(v) >
			      v->ssd_max + planned(plan, n, v, DMH_TIER_HDD));
}

/*
 * A swap costs two copies, so it takes a clear winner: a candidate at least
 * SWAP_FACTOR times as hot as its victim, and hotter by more than the
 * hysteresis (which guards the coldest victims, where a factor adds little).
 * With the hysteresis alone, a hot set larger than the SSD swaps chunks of
 * nearly equal heat back and forth every pass; the factor lets the
 * placement settle (Documentation/fast-tier-design.rst, "chunk-x2").
 * Scores are at most 255 * 1000 / 100: no overflow.
 */
#define SWAP_FACTOR	2

static bool beats(u32 cand, u32 victim, const struct dmh_knobs *k)
{
	return cand >= victim * SWAP_FACTOR && cand > victim + k->hysteresis;
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
		return dmh_heat_get(v, vm->vchunk) < k->promote;
	if (cand->vol->priority == DMH_PRIO_LOW ||
	    v->priority > cand->vol->priority)
		return false;
	return cand->score == SCORE_FORCED || beats(cand->score, vm->score, k);
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
 *  1. forced demotions: ranges pinned to the HDD, volumes over their cap,
 *     every SSD chunk while the SSD is evacuated (then nothing else);
 *  2. promotions, hottest first, into free SSD space beyond the reserve;
 *     a free-only candidate (heat below promote_threshold, at least
 *     promote_free_threshold) also leaves the chunks other volumes still
 *     lack to reach their ssd_min (@owed at the start);
 *  3. swaps: for each remaining candidate at or above promote_threshold,
 *     demote the coldest victim it beats (twice its heat and more than the
 *     hysteresis, see beats(); the promotion follows once space is free);
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
		if (forced_out(&vic.m[j], k, moves, n)) {
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

/*
 * May sleep and enter reclaim with I/O: call it without md_lock (the
 * pool's constructor, through dmh_policy_create()), or in a noio scope.
 */
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

/*
 * A whole pass at once, planning up to @max moves (md_lock held; the pool
 * plans through dmh_policy_step() and a scan allocated at its creation,
 * this is for the KUnit suite and the placement lab).  Reclaim may write
 * to a volume of this pool, whose bios wait for md_lock's holder: the
 * scan's buffer is allocated without I/O, and without it nothing is
 * planned.
 */
unsigned int dmh_policy_plan(struct dmh_metadata *md,
			     const struct dmh_knobs *k, u64 free_ssd,
			     struct dmh_move *moves, unsigned int max)
{
	unsigned int noio, n;
	struct dmh_scan s;
	int r;

	noio = memalloc_noio_save();
	r = dmh_scan_init(&s);
	memalloc_noio_restore(noio);
	if (r)
		return 0;
	n = dmh_policy_step(md, &s, k, free_ssd, moves, max, U64_MAX);
	dmh_scan_exit(&s);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(dmh_policy_plan);

