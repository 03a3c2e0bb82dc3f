/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One scripted sequence of placement inputs, and the moves the policy must
 * plan at each step.  The KUnit suite (dm-hybrid-test.c beside it, the
 * real map room on a RAM disk, in the kernel) and the placement lab's host
 * test (bench/sim/decisions.c, the same policy source under bench/sim's
 * user-space shim and its stand-in for the map room) both run it: when
 * both pass, the kernel and the simulator make the same decisions for the
 * same accesses and ticks.
 *
 * A script is a list of steps on volumes 1..DMH_SCN_VOLS:
 *   MAP    map chunks [a, a + n) of volume @vol on @tier with heat @heat
 *   HEAT   set the heat of chunks [a, a + n) of volume @vol (n 0: chunk @a
 *          alone) to @heat
 *   HIT    heat chunk @a of volume @vol @n times, as n accesses would
 *   DECAY  one half-life: every chunk's heat halves
 *   PLAN   a whole policy pass with @n the maximum number of moves; the
 *          planned moves, in order, must print as @expect, each move as
 *          "<vol>:<chunk>><S|H>" and separated by spaces; then every move
 *          is carried out (a migration, as the copy engine does it)
 * The SSD holds DMH_SCN_SSD chunks; a pass's free SSD space is that less
 * every chunk mapped on the SSD.
 */
#ifndef DMH_POLICY_SCENARIO_H
#define DMH_POLICY_SCENARIO_H

#define DMH_SCN_SSD		16
#define DMH_SCN_VOLS		2
#define DMH_SCN_CHUNKS		64	/* per volume */

enum { SCN_MAP, SCN_HEAT, SCN_HIT, SCN_DECAY, SCN_PLAN };

struct dmh_scn_step {
	int op;
	unsigned int vol, a, n, tier, heat;
	const char *expect;
};

/* The volumes' controls: weight, priority, ssd_min, ssd_max. */
static const unsigned int dmh_scn_controls[DMH_SCN_VOLS][4] = {
	{ 100, DMH_PRIO_NORMAL, 0, 0 },
	{ 200, DMH_PRIO_HIGH, 2, 10 },
};

/* The knobs of the pass: the pool defaults but no reserve, swaps at 4. */
#define DMH_SCN_KNOBS {							\
	.migration = true, .rate = 64, .hysteresis = 4, .half_life = 60, \
	.reserve = 0, .seq_cutoff = 1024, .promote = 4, .tick_ms = 250,	\
	.heat_save = 30, .promote_free = 1,				\
}

static const struct dmh_scn_step dmh_scn_script[] = {
	{ SCN_MAP, 1, 0, 8, DMH_TIER_SSD, 6 },
	{ SCN_MAP, 1, 8, 16, DMH_TIER_HDD, 0 },
	{ SCN_MAP, 2, 0, 4, DMH_TIER_SSD, 3 },
	{ SCN_MAP, 2, 4, 12, DMH_TIER_HDD, 1 },
	{ SCN_HEAT, 1, 10, 0, 0, 40 },
	{ SCN_HEAT, 1, 11, 0, 0, 9 },
	{ SCN_HEAT, 2, 5, 0, 0, 30 },
	{ SCN_HEAT, 2, 6, 0, 0, 2 },
	{ SCN_PLAN, 0, 0, 16, 0, 0,
	  "2:5>S 1:10>S 1:11>S 2:6>S" },
	{ SCN_HIT, 2, 7, 20 },
	{ SCN_HIT, 1, 20, 12 },
	{ SCN_DECAY },
	/*
	 * The shares: pass 1 counted 10 hot chunks in volume 1 and 1 in
	 * volume 2, so volume 1 is due its 10 SSD chunks and volume 2 holds 5
	 * past its due: 2:7 displaces volume 2's own coldest chunk.
	 */
	{ SCN_PLAN, 0, 0, 16, 0, 0,
	  "2:0>H" },
	{ SCN_HIT, 1, 3, 50 },
	{ SCN_HEAT, 2, 0, 0, 0, 0 },
	{ SCN_PLAN, 0, 0, 4, 0, 0,
	  "2:7>S" },
	{ SCN_DECAY },
	{ SCN_DECAY },
	{ SCN_PLAN, 0, 0, 16, 0, 0,
	  "" },
	/*
	 * The swap factor, with every chunk cold again: 1:11 is volume 1's
	 * coldest SSD chunk (heat 10).  1:12 at 15, 1.5 times that and more
	 * than the hysteresis above it, stays out; at 20, twice, it swaps,
	 * then moves into the space its victim left.
	 */
	{ SCN_DECAY },
	{ SCN_DECAY },
	{ SCN_DECAY },
	{ SCN_DECAY },
	{ SCN_HEAT, 1, 0, 8, 0, 12 },
	{ SCN_HEAT, 1, 10, 0, 0, 12 },
	{ SCN_HEAT, 1, 11, 0, 0, 10 },
	{ SCN_HEAT, 1, 12, 0, 0, 15 },
	{ SCN_PLAN, 0, 0, 16, 0, 0,
	  "" },
	{ SCN_HIT, 1, 12, 5 },
	{ SCN_PLAN, 0, 0, 16, 0, 0,
	  "1:11>H" },
	{ SCN_PLAN, 0, 0, 16, 0, 0,
	  "1:12>S" },
};

/* HEAT: chunks [@a, @a + @n) of @v, or @a alone for @n 0, get heat @heat. */
static inline void dmh_scn_heat(struct dmh_volume *v, u64 a, unsigned int n,
				u8 heat)
{
	u64 i;

	for (i = a; i < a + (n ? n : 1); i++)
		dmh_heat_set(v, i, heat);
}

/* HIT: @n accesses to @vchunk, each adding one to its heat (saturating). */
static inline void dmh_scn_hit(struct dmh_volume *v, u64 vchunk,
			       unsigned int n)
{
	unsigned int h = dmh_heat_get(v, vchunk) + n;

	dmh_heat_set(v, vchunk, h > 255 ? 255 : h);
}

/* A pass's moves as "<vol>:<chunk>><S|H>", space separated, into @buf. */
static inline void dmh_scn_print(char *buf, size_t len,
				 const struct dmh_move *m, unsigned int n)
{
	size_t at = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < n && at < len; i++)
		at += snprintf(buf + at, len - at, "%s%u:%llu>%c", i ? " " : "",
			       m[i].vol->id, (unsigned long long)m[i].vchunk,
			       m[i].to == DMH_TIER_SSD ? 'S' : 'H');
}

#endif /* DMH_POLICY_SCENARIO_H */
