/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The placement lab (make sim): a trace-driven simulator of SSD placement
 * policies.  The driver (sim.c) replays a trace twice (cold, then warm) as
 * a sequence of pieces, each a request's part inside one placement unit
 * (the pool's chunk), and asks one policy at a time where each piece is
 * served from; policies sit behind struct sim_ops.
 */
#ifndef DMH_SIM_H
#define DMH_SIM_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s64 s64;

#define SIM_BLOCK	4096u		/* the lab counts accesses in 4 KiB */

/* One request of a trace, in the compacted address space. */
struct sim_req {
	u64 t_us;			/* since the trace's first request */
	u64 off;			/* bytes */
	u32 len;			/* bytes, > 0 */
	bool write;
};

struct sim_trace {
	const char *name;		/* file name, without directory */
	struct sim_req *req;
	size_t nreq;
	u64 space;			/* compacted address space, bytes */
};

/*
 * A piece: the part of one request inside one unit, as dm cuts a bio at
 * chunk boundaries.  @block and @nblocks count 4 KiB blocks.
 */
struct sim_io {
	u64 t_us;			/* trace time, continued in pass 2 */
	u64 block;
	u32 nblocks;
	u32 sectors;		/* the piece's own size (512 B units) */
	u64 sector;		/* and its first sector */
	bool write;
	u8 pass;			/* 0 cold, 1 warm */
};

/* Both passes of one trace, cut at unit boundaries. */
struct sim_run {
	struct sim_io *io;
	size_t nio;
	u64 unit_blocks;		/* 4 KiB blocks per unit (chunk) */
	u64 nblocks;		/* blocks in the compacted space */
	u64 nunits;		/* units in the compacted space */
};

/* What a policy may use: SSD and HDD sizes, in 4 KiB blocks and units. */
struct sim_geom {
	u64 ssd_blocks;
	u64 ssd_units;
	u64 hdd_units;
	u32 tick_ms;
	u64 rate_mib;		/* migration_rate, MiB/s; 0: unlimited */
};

/*
 * A policy.  access() returns how many of the piece's 4 KiB blocks were
 * served from the SSD and adds the bytes it copied between the tiers to
 * *@moved; tick(), if any, runs every tick_ms of trace time and returns
 * the bytes it moved.  A move costs what is copied: a whole unit for a unit policy,
 * 4 KiB for a block cache's fill or write-back.
 */
struct sim_ops {
	const char *name;
	void *(*init)(const struct sim_geom *g, const struct sim_run *run);
	u32 (*access)(void *p, const struct sim_io *io, u64 *moved);
	u64 (*tick)(void *p, u64 now_us);
	void (*destroy)(void *p);
};

extern const struct sim_ops sim_optimum_ops;
extern const struct sim_ops sim_optimum_rated_ops;
extern const struct sim_ops sim_lru_ops;
extern const struct sim_ops sim_arc_ops;
/* policy-subchunk.c: issue 21's fast-tier variants, NULL-terminated */
extern const struct sim_ops *const sim_sub_variants[];
#ifdef SIM_DMHYBRID
extern const struct sim_ops sim_dmhybrid_ops;
#endif

/*
 * policy-dmhybrid.c: a dm-hybrid pool of @nvol volumes (index 0..nvol-1,
 * volume ids 1..nvol), volume i of @units[i] chunks, all on the HDD at
 * the start, one SSD of g->ssd_units chunks; for the multi-volume mode.
 */
struct sim_pool;
struct sim_pool_vol {
	u64 chunks[2];			/* mapped chunks: SSD, HDD */
	u64 promotions, demotions;
	u64 tier_ios[2];		/* pieces served: SSD, HDD */
	u8 hdd_max_heat;		/* its hottest chunk on the HDD */
	int ssd_min_heat;		/* its coldest on the SSD, -1: none */
};

struct sim_pool *sim_pool_create(const struct sim_geom *g, u64 unit_blocks,
				 const u64 *units, unsigned int nvol);
bool sim_pool_access(struct sim_pool *s, unsigned int vol,
		     const struct sim_io *io);
u64 sim_pool_tick(struct sim_pool *s, u64 now_us);
void sim_pool_volume(struct sim_pool *s, unsigned int vol,
		     struct sim_pool_vol *out);
void sim_pool_destroy(struct sim_pool *s);

/* mix.c: the multi-volume mode (sim --mix), see its head. */
struct sim_mix_opts {
	u64 chunk;			/* bytes */
	u32 tick_ms, rate_mib;
	const unsigned int *pct;
	unsigned int npct;
	double seconds, warm;		/* replay, and stats after */
	u32 ssd_us, hdd_us;		/* a request's service time */
	unsigned int depth;		/* requests outstanding per volume */
	bool hdd_queue;			/* one HDD, FIFO, for all volumes */
	FILE *tsv;			/* mix.tsv, or NULL */
};

int sim_mix(const struct sim_mix_opts *o, char *const *paths, unsigned int n);

/* trace.c */
int sim_trace_load(const char *path, struct sim_trace *t);
void sim_trace_free(struct sim_trace *t);
const char *sim_trace_error(const char *path, int r);
int sim_run_build(const struct sim_trace *t, u64 unit_bytes,
		  u32 tick_ms, struct sim_run *run);
void sim_run_free(struct sim_run *run);

/* profile.c: the reuse profile of one pass, in 4 KiB blocks. */
struct sim_profile {
	u64 accesses;
	u64 distinct;
	u64 units;			/* distinct units (chunks) touched */
	double top_pct[3];		/* share of accesses: top 10/25/50 % */
};

extern const unsigned int sim_top_fracs[3];
int sim_profile(const struct sim_run *run, struct sim_profile *pr);

/*
 * blist.c: LRU lists of 4 KiB blocks over shared arrays, for the block
 * caches (a block is on at most one list), and their dirty bits.
 */
struct blist {
	u32 *prev, *next;		/* n + nlists entries */
	u8 *where;			/* list + 1 a block is on, 0: none */
	u8 *dirty;			/* written since it was admitted */
	u64 size[4];		/* blocks per list */
	u32 n;			/* blocks; list k's head is n + k */
};

int bl_init(struct blist *l, u64 n, unsigned int nlists);
void bl_free(struct blist *l);
void bl_push(struct blist *l, unsigned int list, u32 b);
void bl_del(struct blist *l, u32 b);
u32 bl_lru(const struct blist *l, unsigned int list);
u64 bl_admit(struct blist *l, unsigned int list, u32 b, bool write);
u64 bl_evict(struct blist *l, u32 b);

static inline bool bl_on(const struct blist *l, u32 b, unsigned int list)
{
	return l->where[b] == list + 1;
}

#endif /* DMH_SIM_H */
