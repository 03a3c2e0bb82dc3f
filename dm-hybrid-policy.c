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
 * free; within every volume's ssd_min, ssd_max, priority and pins.  Under
 * contention each volume is due a share of the SSD chunks (see "shares"):
 * a volume below its due takes chunks from one past its due whatever
 * their heats, and a volume at or below its due loses none to another.
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

/*
 * md_lock held; halves every chunk's heat, and starts a new half-life of
 * the volume's demand (see shares_update()).
 */
void dmh_mon_decay(struct dmh_volume *v)
{
	struct dmh_heat *h = rcu_dereference_protected(v->heat, true);
	u64 i;

	for (i = 0; i < h->nr; i++)
		WRITE_ONCE(h->h[i], READ_ONCE(h->h[i]) >> 1);
	v->hot_prev = v->hot_max;
	v->hot_max = 0;
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

#define SCORE_FORCED	U32_MAX
#define PLAN_CANDS	32u

/* Candidates of one plan, best first; bounded, kept by insertion. */
struct dmh_cands {
	struct dmh_move *m;
	unsigned int n;
	unsigned int max;
	bool low_first;		/* victims: coldest first */
};

/*
 * Victims: forced ones first, then those of volumes past their due, then
 * lower priority, then colder, so that chunks no candidate may evict do
 * not crowd the bounded list.
 */
static bool victim_before(const struct dmh_move *a, const struct dmh_move *b)
{
	if (a->forced != b->forced)
		return a->forced;
	if (a->spare != b->spare)
		return a->spare;
	if (a->vol->priority != b->vol->priority)
		return a->vol->priority < b->vol->priority;
	return a->score < b->score;
}

/*
 * Candidates: pinned ones first, then those of volumes short of their
 * due, then hotter, so that a slow volume's candidates are in the bounded
 * list and take free space before a fast volume's hotter ones.
 */
static bool cand_before(const struct dmh_move *a, const struct dmh_move *b)
{
	bool fa = a->score == SCORE_FORCED, fb = b->score == SCORE_FORCED;

	if (fa != fb)
		return fa;
	if (a->wanting != b->wanting)
		return a->wanting;
	return a->score > b->score;
}

static void cand_add(struct dmh_cands *c, struct dmh_move mv)
{
	unsigned int i;

	for (i = c->n; i > 0; i--) {
		bool before = c->low_first ? victim_before(&mv, &c->m[i - 1]) :
					     cand_before(&mv, &c->m[i - 1]);

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

static u32 score_of(struct dmh_volume *v, u8 heat)
{
	return (u32)heat * v->weight / 100;
}

/* ------------------------------------------------------------- shares */

/*
 * Heat counts accesses, and a volume the HDD serves slowly makes fewer of
 * them: ranked by heat alone, its chunks look colder than a fast volume's,
 * stay on the HDD and keep it slow.  So under contention the chunk tier is
 * divided as the block tier's slots are: each volume with hot chunks (at
 * promote_threshold heat or more, or pinned to the SSD) is due SSD chunks
 * in proportion to weight << priority, and never more than it has hot
 * chunks, what one cannot use going to the others (max-min fairness by
 * water-filling, SHARE_ROUNDS rounds at most, after which the volumes not
 * yet filled split what is left by weight).  A volume with no hot chunk is
 * due nothing: its SSD chunks are the first to go when others need room.
 */
#define SHARE_ROUNDS	8

/* How many moves to @tier of volume @v are already planned. */
static u64 planned(struct dmh_move *m, unsigned int n, struct dmh_volume *v,
		   unsigned int tier)
{
	u64 c = 0;

	while (n--)
		c += m[n].vol == v && m[n].to == tier;
	return c;
}

/* SSD chunks @v holds or is getting, with those planned in @plan. */
static u64 chunks_in(struct dmh_volume *v, struct dmh_move *plan,
		     unsigned int n)
{
	return v->nr_chunks[DMH_TIER_SSD] + v->ssd_pending +
	       planned(plan, n, v, DMH_TIER_SSD);
}

/* SSD chunks @v keeps once its demotions under way and planned are done. */
static u64 chunks_kept(struct dmh_volume *v, struct dmh_move *plan,
		       unsigned int n)
{
	u64 out = v->ssd_leaving + planned(plan, n, v, DMH_TIER_HDD);

	return v->nr_chunks[DMH_TIER_SSD] > out ?
	       v->nr_chunks[DMH_TIER_SSD] - out : 0;
}

/*
 * One round of water-filling: the volumes not yet filled split what the
 * filled ones leave by weight, and those whose hot chunks fit in their
 * part are filled.  When none is, or in the @last round, the others get
 * their part.  Returns whether another round may fill more.
 */
static bool shares_round(struct dmh_metadata *md, u64 cap, bool last)
{
	u64 left = cap, wsum = 0;
	unsigned long id = 0;
	struct dmh_volume *v;
	bool filled = false;

	while ((v = dmh_md_next_volume(md, &id))) {
		if (v->due_work == v->hot)
			left -= min(left, v->due_work);
		else
			wsum += dmh_share_weight(v);
	}
	if (!wsum)
		return false;
	for (id = 0; (v = dmh_md_next_volume(md, &id)); ) {
		if (v->due_work != v->hot &&
		    v->hot <= div64_u64(left * dmh_share_weight(v), wsum)) {
			v->due_work = v->hot;
			filled = true;
		}
	}
	if (filled && !last)
		return true;
	for (id = 0; (v = dmh_md_next_volume(md, &id)); )
		if (v->due_work != v->hot)
			v->due_work = div64_u64(left * dmh_share_weight(v), wsum);
	return false;
}

/*
 * At the end of a pass (md_lock held): each volume's demand is the most hot
 * chunks a pass counted since the last halving of the heat or in the
 * half-life before it: right after a halving a slow volume's lukewarm
 * chunks fall below promote_threshold until they are read again, and a
 * demand that fell with them would hand its share to others and take it
 * back a few seconds later.  Then divide the chunk tier: the SSD chunks
 * the volumes hold or are getting, @free_ssd and the chunks freed that
 * wait for their commit, less the reserve.
 */
static void shares_update(struct dmh_metadata *md, const struct dmh_knobs *k,
			  u64 free_ssd)
{
	unsigned long id = 0;
	struct dmh_volume *v;
	unsigned int round;
	u64 cap = free_ssd + dmh_md_frees_of(md, DMH_TIER_SSD);

	while ((v = dmh_md_next_volume(md, &id))) {
		v->hot_max = max(v->hot_max, v->hot_seen);
		WRITE_ONCE(v->hot, max(v->hot_max, v->hot_prev));
		v->due_work = 0;
		cap += chunks_in(v, NULL, 0);
	}
	cap = cap > k->reserve ? cap - k->reserve : 0;
	for (round = 1; shares_round(md, cap, round == SHARE_ROUNDS); round++)
		;
	for (id = 0; (v = dmh_md_next_volume(md, &id)); )
		WRITE_ONCE(v->chunk_due, v->due_work);
}

/* md_lock held: a pass starts; no chunk of any volume seen yet. */
static void shares_pass_start(struct dmh_metadata *md)
{
	unsigned long id = 0;
	struct dmh_volume *v;

	while ((v = dmh_md_next_volume(md, &id)))
		v->hot_seen = 0;
}

/* Does @v hold more than its due, after the demotions in @plan? */
static bool past_due(struct dmh_volume *v, struct dmh_move *plan,
		     unsigned int n)
{
	return chunks_kept(v, plan, n) > v->chunk_due;
}

/* Is @v short of its due, counting the promotions in @plan? */
static bool short_of_due(struct dmh_volume *v, struct dmh_move *plan,
			 unsigned int n)
{
	return chunks_in(v, plan, n) < v->chunk_due;
}

/*
 * Does @v claim SSD chunks it is short of (@plan counted)?  A low-priority
 * volume never displaces anyone: it is due its share of the free space,
 * but neither sorts its candidates first nor counts in what the others
 * may displace for.
 */
static bool claims_due(struct dmh_volume *v, struct dmh_move *plan,
		       unsigned int n)
{
	return v->priority != DMH_PRIO_LOW && short_of_due(v, plan, n);
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

	if (pin == DMH_PIN_SSD ||
	    (pin != DMH_PIN_HDD && heat && heat >= k->promote))
		v->hot_seen++;
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
		mv.wanting = claims_due(v, NULL, 0);
		cand_add(pro, mv);
		return;
	}
	if (pin == DMH_PIN_SSD)
		return;
	mv.forced = pin == DMH_PIN_HDD ||
		    (v->ssd_max && ssd_kept(v) > v->ssd_max);
	if (!mv.forced && ssd_kept(v) <= v->ssd_min)
		return;
	mv.spare = past_due(v, NULL, 0);
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

/*
 * May @vm be demoted to make room for @cand (NULL: for the reserve)?
 * @fair: @cand's volume is short of its due and the room coming does not
 * cover what such volumes lack, so it may take a chunk of a volume past
 * its due whatever their heats.
 */
static bool may_evict(struct dmh_move *vm, struct dmh_move *cand,
		      const struct dmh_knobs *k, struct dmh_move *plan,
		      unsigned int n, bool fair)
{
	struct dmh_volume *v = vm->vol;

	if (planned(plan, n, v, DMH_TIER_HDD) + v->ssd_min >= ssd_kept(v))
		return false;	/* its reservation */
	if (!cand)
		return dmh_heat_get(v, vm->vchunk) < k->promote;
	if (cand->vol->priority == DMH_PRIO_LOW ||
	    v->priority > cand->vol->priority)
		return false;
	if (cand->score == SCORE_FORCED)
		return true;
	if (cand->vol != v && cand->vol->priority == v->priority) {
		if (!past_due(v, plan, n))
			return false;	/* its share */
		if (fair)
			return true;	/* takes its share back */
	}
	return beats(cand->score, vm->score, k);
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

/* A plan under way: the moves so far and what is left to share. */
struct plan {
	struct dmh_move *moves;
	unsigned int n, max;
	u64 room;		/* free SSD chunks beyond the reserve */
	u64 owed;		/* SSD chunks volumes lack to their ssd_min */
	u64 lack;		/* ... to their due, volumes short of it */
	u64 out;		/* SSD chunks on their way out */
	bool used[PLAN_CANDS];	/* victims planned */
};

/*
 * Plan @c's promotion into free space, or the demotion of a victim to make
 * room for it (the promotion follows once the space is free).
 */
static void plan_promotion(struct plan *pl, struct dmh_move *c,
			   struct dmh_cands *vic, const struct dmh_knobs *k)
{
	bool own = ssd_owed(c->vol, pl->moves, pl->n);
	bool want = claims_due(c->vol, pl->moves, pl->n);
	unsigned int j;
	bool fair;

	if (pl->room && (!c->free_only || pl->room + own > pl->owed)) {
		pl->moves[pl->n++] = *c;
		pl->room--;
		pl->owed -= own;
		pl->lack -= want && pl->lack;
		return;
	}
	if (c->free_only || c->vol->priority == DMH_PRIO_LOW)
		return;		/* never displaces others */
	fair = want && pl->lack > pl->room + pl->out;
	for (j = 0; j < vic->n; j++)
		if (!pl->used[j] &&
		    may_evict(&vic->m[j], c, k, pl->moves, pl->n, fair))
			break;
	if (j < vic->n) {
		pl->used[j] = true;
		pl->moves[pl->n++] = vic->m[j];
		pl->out++;
	}
}

/*
 * Plan up to @max moves (md_lock held):
 *  1. forced demotions: ranges pinned to the HDD, volumes over their cap,
 *     every SSD chunk while the SSD is evacuated (then nothing else);
 *  2. promotions, those of volumes short of their due first, then hottest
 *     first, into free SSD space beyond the reserve; a free-only candidate
 *     (heat below promote_threshold, at least promote_free_threshold) also
 *     leaves the chunks other volumes still lack to reach their ssd_min
 *     (@owed at the start);
 *  3. swaps: for each remaining candidate at or above promote_threshold,
 *     demote the coldest victim it beats (twice its heat and more than the
 *     hysteresis, see beats()), or, for a volume short of its due while
 *     the room coming (free and leaving) does not cover what such volumes
 *     lack (@lack), a chunk of a volume past its due;
 *  4. keep the reserve: demote cold chunks while the SSD is too full.
 * @free_ssd already excludes the chunks of promotions under way: they are
 * allocated when they start; @out is the chunks of demotions under way.
 */
static unsigned int plan_from(struct dmh_cands pro, struct dmh_cands vic,
			      const struct dmh_knobs *k, u64 free_ssd,
			      u64 owed, u64 lack, u64 out,
			      struct dmh_move *moves, unsigned int max)
{
	struct plan pl = {
		.moves = moves, .max = max, .owed = owed, .lack = lack,
		.out = out,
		.room = free_ssd > k->reserve ? free_ssd - k->reserve : 0,
	};
	unsigned int p, j;

	for (j = 0; j < vic.n && pl.n < max; j++) {
		if (forced_out(&vic.m[j], k, moves, pl.n)) {
			pl.used[j] = true;
			moves[pl.n++] = vic.m[j];
		}
	}
	for (p = 0; p < pro.n && pl.n < max; p++)
		if (may_promote(&pro.m[p], moves, pl.n))
			plan_promotion(&pl, &pro.m[p], &vic, k);
	for (j = 0; free_ssd < k->reserve && j < vic.n && pl.n < max; j++) {
		if (!pl.used[j] && may_evict(&vic.m[j], NULL, k, moves, pl.n,
					     false)) {
			moves[pl.n++] = vic.m[j];
			free_ssd++;
		}
	}
	return pl.n;
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
 * SSD chunks the volumes short of their due lack, low-priority ones left
 * out (md_lock held).
 */
static u64 pool_lack(struct dmh_metadata *md)
{
	unsigned long id = 0;
	struct dmh_volume *v;
	u64 lack = 0, in;

	while ((v = dmh_md_next_volume(md, &id))) {
		if (v->priority == DMH_PRIO_LOW)
			continue;
		in = chunks_in(v, NULL, 0);
		lack += v->chunk_due > in ? v->chunk_due - in : 0;
	}
	return lack;
}

/*
 * SSD chunks on their way to free space (md_lock held): those of demotions
 * under way, and those demotions freed that wait for their commit.
 */
static u64 pool_leaving(struct dmh_metadata *md)
{
	u64 out = dmh_md_frees_of(md, DMH_TIER_SSD);
	unsigned long id = 0;
	struct dmh_volume *v;

	while ((v = dmh_md_next_volume(md, &id)))
		out += v->ssd_leaving;
	return out;
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
		shares_pass_start(md);
	}
	pro = (struct dmh_cands) { s->buf, s->npro, s->max, false };
	vic = (struct dmh_cands) { s->buf + PLAN_CANDS, s->nvic, s->max, true };
	done = scan_volumes(md, s, k, &pro, &vic, budget);
	s->npro = pro.n;
	s->nvic = vic.n;
	if (!done)
		return 0;
	s->running = false;
	shares_update(md, k, free_ssd);
	return plan_from(pro, vic, k, free_ssd, pool_owed(md), pool_lack(md),
			 pool_leaving(md), moves, min(max, s->max));
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

