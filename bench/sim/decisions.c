// SPDX-License-Identifier: GPL-2.0-only
/*
 * decisions: runs tests/kunit/policy-scenario.h through the module's policy
 * (dm-hybrid-policy.c, compiled unchanged under kshim/) with a stand-in
 * for the map room of DMH_SCN_VOLS volumes, and prints TAP: one line per
 * planned pass, ok when its moves are the scenario's.  The KUnit suite
 * runs the same scenario in the kernel against the real map room.
 *
 * With -p it prints each pass's moves instead, to write the scenario.
 */
#include <linux/kernel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm-hybrid-monitor.h"
#include "tests/kunit/policy-scenario.h"

struct dmh_metadata {
	struct dmh_volume vol[DMH_SCN_VOLS];
	u32 tunables[DMH_NR_TUNABLES];
};

/* ------------------------------------------------- the map room's part */

void dmh_md_tunables(struct dmh_metadata *md, u32 *t, bool set)
{
	if (set)
		memcpy(md->tunables, t, sizeof(md->tunables));
	else
		memcpy(t, md->tunables, sizeof(md->tunables));
}

static u64 ssd_used(struct dmh_metadata *md)
{
	u64 n = 0;
	int i;

	for (i = 0; i < DMH_SCN_VOLS; i++)
		n += md->vol[i].nr_chunks[DMH_TIER_SSD];
	return n;
}

u64 dmh_md_free_chunks(struct dmh_metadata *md, unsigned int tier)
{
	return tier == DMH_TIER_SSD ? DMH_SCN_SSD - ssd_used(md) : 1024;
}

/* A move here frees its source at once: nothing waits for a commit. */
u64 dmh_md_frees_of(struct dmh_metadata *md, unsigned int tier)
{
	return 0;
}

void dmh_md_usage(struct dmh_metadata *md, struct dmh_md_usage *u)
{
	*u = (struct dmh_md_usage){ .nr_volumes = DMH_SCN_VOLS };
	u->total[DMH_TIER_SSD] = DMH_SCN_SSD;
	u->used[DMH_TIER_SSD] = ssd_used(md);
}

/* Volumes have ids 1..DMH_SCN_VOLS. */
struct dmh_volume *dmh_md_next_volume(struct dmh_metadata *md,
				      unsigned long *id)
{
	if (*id < 1)
		*id = 1;
	if (*id > DMH_SCN_VOLS)
		return NULL;
	return &md->vol[(*id)++ - 1];
}

static void set_home(struct dmh_volume *v, u64 vchunk, unsigned int tier)
{
	v->map.slot[vchunk] = xa_mk_value(dmh_entry(dmh_ploc(tier, vchunk), 0));
}

static int volumes_init(struct dmh_metadata *md)
{
	struct dmh_volume *v;
	int i;

	for (i = 0; i < DMH_SCN_VOLS; i++) {
		v = &md->vol[i];
		v->id = i + 1;
		v->weight = dmh_scn_controls[i][0];
		v->priority = dmh_scn_controls[i][1];
		v->ssd_min = dmh_scn_controls[i][2];
		v->ssd_max = dmh_scn_controls[i][3];
		v->map.n = DMH_SCN_CHUNKS;
		v->map.slot = calloc(DMH_SCN_CHUNKS, sizeof(*v->map.slot));
		v->heat = calloc(1, sizeof(*v->heat) + DMH_SCN_CHUNKS);
		if (!v->map.slot || !v->heat)
			return -1;
		v->heat->nr = DMH_SCN_CHUNKS;
	}
	return 0;
}

/* ------------------------------------------------------- the script */

static void apply(struct dmh_metadata *md, const struct dmh_move *m)
{
	struct dmh_volume *v = m->vol;
	unsigned int from = dmh_ploc_tier(dmh_entry_ploc(dmh_lookup(v, m->vchunk)));

	set_home(v, m->vchunk, m->to);
	v->nr_chunks[from]--;
	v->nr_chunks[m->to]++;
}

static void step(struct dmh_metadata *md, const struct dmh_scn_step *s)
{
	struct dmh_volume *v = s->vol ? &md->vol[s->vol - 1] : NULL;
	unsigned int i;

	switch (s->op) {
	case SCN_MAP:
		for (i = s->a; i < s->a + s->n; i++) {
			set_home(v, i, s->tier);
			v->nr_chunks[s->tier]++;
			dmh_heat_set(v, i, s->heat);
		}
		break;
	case SCN_HEAT:
		dmh_scn_heat(v, s->a, s->n, s->heat);
		break;
	case SCN_HIT:
		dmh_scn_hit(v, s->a, s->n);
		break;
	case SCN_DECAY:
		for (i = 0; i < DMH_SCN_VOLS; i++)
			dmh_mon_decay(&md->vol[i]);
		break;
	}
}

int main(int argc, char **argv)
{
	static struct dmh_metadata md;
	const struct dmh_knobs k = DMH_SCN_KNOBS;
	bool show = argc > 1 && !strcmp(argv[1], "-p");
	struct dmh_move m[16];
	unsigned int i, j, n, pass = 0, bad = 0;
	char got[512];

	if (volumes_init(&md))
		return 2;
	for (i = 0; i < ARRAY_SIZE(dmh_scn_script); i++) {
		const struct dmh_scn_step *s = &dmh_scn_script[i];

		if (s->op != SCN_PLAN) {
			step(&md, s);
			continue;
		}
		n = dmh_policy_plan(&md, &k, dmh_md_free_chunks(&md, DMH_TIER_SSD),
				    m, s->n);
		dmh_scn_print(got, sizeof(got), m, n);
		pass++;
		if (show) {
			printf("pass %u: \"%s\"\n", pass, got);
		} else if (s->expect && !strcmp(got, s->expect)) {
			printf("ok %u - pass %u plans %s\n", pass, pass, got);
		} else {
			printf("not ok %u - pass %u plans \"%s\", the scenario \"%s\"\n",
			       pass, pass, got, s->expect ? s->expect : "(none)");
			bad++;
		}
		for (j = 0; j < n; j++)
			apply(&md, &m[j]);
	}
	if (!show)
		printf("1..%u\n%u passed, %u failed\n", pass, pass - bad, bad);
	return bad ? 1 : 0;
}
