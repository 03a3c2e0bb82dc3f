/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-hybrid monitor room: what the pool learns from the I/O and what it
 * decides from it.  It calls only the map room.
 *
 * dm-hybrid-monitor.c  per-volume statistics, stream detection and chunk
 *                      heat, fed by the bio path; the placement map
 * dm-hybrid-policy.c   the knobs (names, defaults, limits, parsing), heat
 *                      decay, pins, and the placement decisions: where a
 *                      first write goes and which chunks to move.  It only
 *                      decides, like a dm-cache policy: the migration
 *                      engine asks it for work and reports when a move
 *                      started and ended.  It builds in user space too
 *                      (bench/sim), so it includes no block-layer header.
 */
#ifndef DM_HYBRID_MONITOR_H
#define DM_HYBRID_MONITOR_H

#include "dm-hybrid-map.h"

/* ---------------------------------------------------------- monitor */

struct bio;

/*
 * Any context (map()), no locks; once per data bio entering a volume.
 * Counts it, heats its chunk unless it belongs to a sequential stream
 * longer than @seq_cutoff_sectors, and returns whether it does (first-write
 * placement keeps streams off the SSD).
 */
bool dmh_mon_account(struct dmh_volume *v, struct bio *bio, u64 vchunk,
		     u32 seq_cutoff_sectors);
/* Any context, no locks: a bio of the volume was sent to @tier. */
void dmh_mon_tier(struct dmh_volume *v, unsigned int tier);
/* Any context, no locks: the volume's counters summed over the CPUs. */
void dmh_mon_sum(struct dmh_volume *v, struct dmh_vol_stats *sum);
/*
 * md_lock held, may block (allocates): "chunks=<n> ssd=<n> hdd=<n>
 * tiers=<one char per bucket> heat=<one hex digit per bucket>" into
 * @result; returns 1 (a message reply) or -ENOMEM.
 */
int dmh_mon_placement_map(struct dmh_volume *v, u32 chunk_sectors,
			  unsigned int buckets, char *result,
			  unsigned int maxlen);

/* ----------------------------------------------------------- policy */

/*
 * The pool knobs; see "Tuning" in Documentation/dm-hybrid.rst.  One field
 * per entry of DMH_KNOBS (dm-hybrid-format.h), named by its first column:
 * dm-hybrid-policy.c's knob table takes each field's offset, so a missing
 * field does not build.
 */
struct dmh_knobs {
	bool migration;
	bool evacuate;		/* empty the SSD: message "evacuate on" */
	u32 rate;		/* MiB/s, 0 = unlimited */
	u32 hysteresis;
	u32 half_life;		/* seconds */
	u32 reserve;		/* SSD chunks; 1% of the SSD by default */
	u32 seq_cutoff;		/* KiB */
	u32 promote;		/* promote threshold */
	u32 tick_ms;
	u32 heat_save;		/* seconds between heat saves */
	u32 promote_free;	/* promote threshold into free space */
};

/* A migration the policy asks for. */
struct dmh_move {
	struct dmh_volume *vol;
	u64 vchunk;
	unsigned int to;	/* destination tier */
	u32 score;		/* effective heat, for ordering */
	bool forced;		/* pinned elsewhere, or its volume over its cap */
	bool free_only;		/* below promote: free space only, no swap */
	bool spare;		/* a victim whose volume holds past its due */
	bool wanting;		/* a candidate whose volume is short of it */
};

/*
 * A policy pass over every mapped chunk, which may span several ticks so
 * that no tick holds md_lock for a scan of the whole pool.  The lists hold
 * volume pointers: any volume deletion resets the pass (dmh_scan_reset()).
 */
struct dmh_scan {
	unsigned long vol;		/* volume id the pass resumes at */
	unsigned long vchunk;		/* and virtual chunk */
	bool running;
	struct dmh_move *buf;		/* two lists of PLAN_CANDS moves */
	unsigned int npro, nvic, max;
};

struct dmh_policy;

/*
 * Process context, may block; md_lock held or the pool not yet shared:
 * a policy for the pool of @md, its knobs loaded from the tunables.
 * @now is the time in jiffies.  NULL when out of memory.
 */
struct dmh_policy *dmh_policy_create(struct dmh_metadata *md,
				     unsigned long now);
void dmh_policy_destroy(struct dmh_policy *p);

/* Any context: the knobs; read them with READ_ONCE() without md_lock. */
const struct dmh_knobs *dmh_policy_knobs(struct dmh_policy *p);
/*
 * md_lock held, no I/O: "set <knob> <value>"; -EINVAL with the reason
 * logged for an unknown knob or a value out of its range.  The caller
 * commits (the knobs persist in the superblock's tunables).
 */
int dmh_policy_set_knob(struct dmh_policy *p, const char *name,
			const char *val, unsigned long now);
/* md_lock held, no I/O: "migration on|off"; the caller commits. */
void dmh_policy_set_migration(struct dmh_policy *p, bool on);
/*
 * md_lock held, no I/O: "evacuate on|off", persistent like migration
 * on|off; the caller commits.  While on, first writes go to the HDD,
 * nothing is promoted and every SSD chunk is a forced demotion, pinned
 * to the SSD or not, even with migration off.
 */
void dmh_policy_set_evacuate(struct dmh_policy *p, bool on);

/*
 * md_lock held, no I/O: the tier a first write of @v's @vchunk goes to
 * (@stream: it belongs to a sequential stream).
 */
unsigned int dmh_policy_place(struct dmh_policy *p, struct dmh_volume *v,
			      u64 vchunk, bool stream);
/*
 * md_lock held, no I/O, may reschedule: classify up to @budget chunks and,
 * when a pass ends, plan up to @max moves into @moves; returns how many.
 */
unsigned int dmh_policy_get_work(struct dmh_policy *p, struct dmh_move *moves,
				 unsigned int max, u64 budget);
/* md_lock held, no I/O: a volume went away; forget the pass under way. */
void dmh_policy_volume_removed(struct dmh_policy *p);
/*
 * md_lock held, no I/O: is the heat due to be saved at time @now?  Each
 * true answer starts the next heat_save_interval.
 */
bool dmh_policy_heat_save_due(struct dmh_policy *p, unsigned long now);
/* md_lock held, no I/O: the periodic tick: halves the heat every half-life. */
void dmh_policy_tick(struct dmh_policy *p, unsigned long now);

/*
 * md_lock held, no I/O: the SSD accounting of work under way, which the
 * decisions count against each volume's reservation and cap.  A chunk
 * of @v starts or ends moving to @to (a migration, or a first write when
 * @first), and whether the move took effect.
 */
void dmh_policy_work_started(struct dmh_volume *v, unsigned int to,
			     bool first);
void dmh_policy_work_done(struct dmh_volume *v, unsigned int to, bool first,
			  bool moved);

/*
 * The decision functions under the policy object, for KUnit and bench/sim.
 * dmh_mon_decay(): md_lock held; one half-life: halves @v's heat and
 * starts a new half-life of its demand for the shares.
 */
void dmh_mon_decay(struct dmh_volume *v);
int dmh_pin_of(struct dmh_volume *v, u64 vchunk);
unsigned int dmh_policy_first_tier(struct dmh_volume *v, u64 vchunk,
				   bool stream, u64 free_ssd,
				   const struct dmh_knobs *k);
int dmh_scan_init(struct dmh_scan *s);
void dmh_scan_exit(struct dmh_scan *s);
void dmh_scan_reset(struct dmh_scan *s);
unsigned int dmh_policy_step(struct dmh_metadata *md, struct dmh_scan *s,
			     const struct dmh_knobs *k, u64 free_ssd,
			     struct dmh_move *moves, unsigned int max,
			     u64 budget);
unsigned int dmh_policy_plan(struct dmh_metadata *md,
			     const struct dmh_knobs *k, u64 free_ssd,
			     struct dmh_move *moves, unsigned int max);

#endif /* DM_HYBRID_MONITOR_H */
