// SPDX-License-Identifier: GPL-2.0-only
/*
 * Candidate designs of issue 21's fine-grained fast tier, simulated in user
 * space on top of whole-chunk tiering (named variants, see the table at the
 * end; bench/README.md, "Placement lab", and
 * Documentation/fast-tier-design.rst give the findings).  These are models
 * of a design, not the kernel: the chunk tier is a re-implementation of
 * dm-hybrid-policy.c's rules for one volume without pins or shares (the
 * "chunk-only" variant checks it against the kernel's own row,
 * "dm-hybrid"), simplified as policy-dmhybrid.c is (a move completes at
 * the tick that planned it).
 *
 * The SSD (the lab's size in 4 KiB blocks) holds up to three parts:
 *
 *  - the chunk tier: whole chunks.  Heat per chunk (+1 per piece not in a
 *    stream beyond seq_cutoff, halved every half-life).  A chunk whose
 *    blocks were mostly used again in the block tier (fold_pct of it) has
 *    score 255: it moves up whole and its blocks and staged writes fold in
 *    (their slots are freed; the move is charged the whole chunk).
 *    Without @unified, the chunk tier also has its own share of the SSD and
 *    dm-hybrid's moves: every tick the hottest HDD chunks go into free
 *    space beyond the reserve (heat >= promote_free_threshold) or swap
 *    with the coldest SSD chunk they beat (heat >= promote_threshold, at
 *    least swap_x times the victim's heat and more than it + the
 *    hysteresis), 16 moves a tick at most.  swap_x 2 is the kernel's rule
 *    since 2026-12-07; 1, the rule before it, is kept by the variants of
 *    the design study (stage-only, split-*, blk-*) as they were run.
 *    With @unified, chunks and blocks share the SSD: a chunk moves up
 *    only by folding, taking its space from the block tier, and moves
 *    down once its heat is 0 while the block tier is full; if
 *    blk_share caps the block tier (as a RAM budget would), the hottest
 *    HDD chunks (heat >= promote_free_threshold) also fill the room the
 *    cap leaves, but never displace a chunk by heat;
 *  - the block tier (blk_share % of the SSD; with @unified, all of it but
 *    staging, or blk_share % of that): blocks of blk_kib of HDD-resident chunks, filled on demand,
 *    with heat per block under the chunk's rules.  A missed block goes into
 *    free space at once (as promote_free_threshold); once the tier is full
 *    it needs heat @admit (2: its second access within about a half-life)
 *    and, with @beat, a victim colder than itself (a CLOCK hand looks at
 *    up to SWEEP slots; otherwise the newcomer stays out): what makes the
 *    placement settle.  Without @beat the hand is a plain CLOCK (second
 *    chance on a reference bit) and every qualifying miss gets in.  A fill
 *    copies the block unless a write covers all of it; evicting a block
 *    written since its fill writes it back;
 *  - the staging area (stage_share % of the SSD): 4 KiB writes to
 *    HDD-resident data that no block holds are absorbed there (a hit) while
 *    it has room, else they go to the HDD (no stall: a full area only
 *    stops absorbing).  Once it is more than STAGE_HI % full, every tick
 *    writes staged blocks back in address order (an elevator from a
 *    cursor) until it is down to STAGE_LO %, freeing them.  A read of a
 *    staged block hits.  Streams beyond seq_cutoff are never staged.
 *
 * Every copy (chunk moves, block fills, write-backs, evictions of dirty
 * blocks) is paid from one token bucket of migration_rate bytes per second
 * holding one second's worth: a fill or a chunk move it cannot pay for is
 * not made; a write-back waits; an eviction's write-back is owed (the
 * bucket may go below zero).
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define NONE		((u32)-1)
#define HALF_LIFE_US	60000000ull	/* heat_half_life 60 s */
#define PROMOTE		4		/* promote_threshold */
#define PROMOTE_FREE	1		/* promote_free_threshold */
#define HYSTERESIS	4
#define SEQ_CUTOFF	2048		/* sectors: seq_cutoff 1024 KiB */
#define MAX_PLAN	16		/* moves a tick, as in dm-hybrid-migrate.c */
#define PLAN_CANDS	32
#define SWEEP		8		/* slots a newcomer looks at for a victim */
#define STAGE_HI	50		/* % full: start writing back */
#define STAGE_LO	25		/* % full: stop */

struct sub_cfg {
	const char *name;
	u32 blk_kib;		/* block size of the block tier, 0: none */
	u8 blk_share;		/* % of the SSD for the block tier (unified: cap) */
	u8 admit;		/* heat a missed block needs to be admitted */
	bool beat;		/* ... and it must be hotter than its victim */
	u8 stage_share;		/* % of the SSD for write staging */
	u8 fold_pct;		/* share of a chunk in blocks that moves it */
	u8 swap_x;		/* a swap needs heat >= swap_x * the victim's */
	bool unified;		/* chunks and blocks share the SSD, see above */
};

/* Heat with dm-hybrid's decay, halved lazily: the epoch of its last look. */
struct heat {
	u8 *h;
	u16 *ep;
};

struct sub {
	const struct sub_cfg *cfg;
	u64 unit_blocks;	/* 4 KiB blocks per chunk */
	u64 nblocks;		/* 4 KiB blocks in the compacted space */
	u64 bb;			/* 4 KiB blocks per block-tier block */
	u16 epoch;		/* half-lives since the start */

	/* chunk tier */
	u8 *on_ssd;		/* per chunk */
	struct heat ch;
	u64 nunits, ccap, cused, reserve;
	u32 *in_blk;		/* per chunk: its blocks in the block tier */
	u32 *in_hot;		/* ... of which were used again: what folds */

	/* block tier */
	struct heat bh;
	u32 *bslot;		/* per block: its slot, NONE: not there */
	u8 *bdirty;
	u8 *bhot;		/* per block: re-referenced since admitted */
	u32 *slot;		/* per slot: its block, NONE: free */
	u8 *ref;		/* per slot: CLOCK's reference bit */
	u32 *fstack;		/* free slots */
	u64 bcap, nfree, hand;
	u64 bmax;		/* unified: most slots in use, 0: no cap */

	/* staging */
	u32 *spos;		/* per 4 KiB block: index in @staged, or NONE */
	u32 *staged;		/* staged 4 KiB blocks, unordered */
	u32 *order;		/* @staged sorted, for the write-back */
	u64 scap, sused, cursor;
	bool draining;

	/* the stream detector and the token bucket */
	u64 next_sector, stream_len;
	s64 tokens, rate;
	u64 stamp_us;
};

/* ------------------------------------------------------------- heat */

static u8 heat_get(struct sub *s, struct heat *h, u64 i)
{
	u16 d = s->epoch - h->ep[i];

	h->h[i] = d >= 8 ? 0 : h->h[i] >> d;
	h->ep[i] = s->epoch;
	return h->h[i];
}

static u8 heat_add(struct sub *s, struct heat *h, u64 i)
{
	u8 x = heat_get(s, h, i);

	if (x < 255)
		h->h[i] = ++x;
	return x;
}

static int heat_alloc(struct heat *h, u64 n)
{
	h->h = calloc(n, sizeof(*h->h));
	h->ep = calloc(n, sizeof(*h->ep));
	return h->h && h->ep ? 0 : -1;
}

/* ------------------------------------------------------- the bucket */

static void refill(struct sub *s, u64 now_us)
{
	s64 cap = s->rate > (s64)(s->unit_blocks * SIM_BLOCK) ?
		  s->rate : (s64)(s->unit_blocks * SIM_BLOCK);

	if (now_us > s->stamp_us)
		s->tokens += (now_us - s->stamp_us) * s->rate / 1000000;
	s->stamp_us = now_us;
	if (s->tokens > cap)
		s->tokens = cap;
}

/* Take @cost bytes from the bucket if it holds them (no limit: always). */
static bool afford(struct sub *s, u64 cost)
{
	if (!s->rate)
		return true;
	if (s->tokens < (s64)cost)
		return false;
	s->tokens -= cost;
	return true;
}

/* ----------------------------------------------------------- staging */

static void unstage(struct sub *s, u64 b)
{
	u32 i = s->spos[b], last = s->staged[--s->sused];

	s->staged[i] = last;
	s->spos[last] = i;
	s->spos[b] = NONE;
}

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Write staged blocks back in address order from the cursor on (then from
 * the start), within the bucket, once the area is fuller than STAGE_HI and
 * until it is down to STAGE_LO.
 */
static u64 write_back(struct sub *s)
{
	u64 lo = s->scap * STAGE_LO / 100, n = s->sused, moved = 0, i, j, k;

	if (s->sused * 100 > s->scap * STAGE_HI)
		s->draining = true;
	if (!s->draining)
		return 0;
	memcpy(s->order, s->staged, n * sizeof(*s->order));
	qsort(s->order, n, sizeof(*s->order), cmp_u32);
	for (i = 0; i < n && s->order[i] < s->cursor; i++)
		;
	for (j = 0; j < n && s->sused > lo && afford(s, SIM_BLOCK); j++) {
		k = s->order[(i + j) % n];
		unstage(s, k);
		moved += SIM_BLOCK;
		s->cursor = k + 1;
	}
	s->draining = s->sused > lo;
	return moved;
}

/* ------------------------------------------------------ the block tier */

static void blk_drop(struct sub *s, u64 b)
{
	u32 sl = s->bslot[b];

	s->slot[sl] = NONE;
	s->fstack[s->nfree++] = sl;
	s->bslot[b] = NONE;
	s->in_blk[b * s->bb / s->unit_blocks]--;
	s->in_hot[b * s->bb / s->unit_blocks] -= s->bhot[b];
	s->bhot[b] = 0;
}

/* Evict the block of slot @sl; returns the bytes written back. */
static u64 blk_evict(struct sub *s, u32 sl)
{
	u64 b = s->slot[sl], cost = s->bdirty[b] ? s->bb * SIM_BLOCK : 0;

	blk_drop(s, b);
	s->bdirty[b] = 0;
	s->tokens -= s->rate ? cost : 0;
	return cost;
}

/* The slot under the CLOCK hand, which moves on. */
static u32 clock_step(struct sub *s)
{
	u32 sl = s->hand;

	if (++s->hand == s->bcap)
		s->hand = 0;
	return sl;
}

/* Block slots the block tier may fill: what the chunks leave of it. */
static u64 blk_room(struct sub *s)
{
	u64 taken = s->cfg->unified ? s->cused * (s->unit_blocks / s->bb) : 0;
	u64 room = s->bcap > taken ? s->bcap - taken : 0;

	return s->bmax && room > s->bmax ? s->bmax : room;
}

/* Is there a free slot the block tier may fill? */
static bool blk_free(struct sub *s)
{
	return s->nfree && s->bcap - s->nfree < blk_room(s);
}

/*
 * A slot for a newcomer of heat @h, or NONE; evicts its block into
 * *@moved.  Free slots first; then the CLOCK hand.
 */
static u32 blk_slot(struct sub *s, u8 h, u64 *moved)
{
	u64 step, max = s->cfg->beat ? SWEEP : 2 * s->bcap + 1;
	u32 sl;

	if (blk_free(s))
		return s->fstack[--s->nfree];
	for (step = 0; step < max; step++) {
		sl = clock_step(s);
		if (s->slot[sl] == NONE)
			continue;
		if (s->cfg->beat ? heat_get(s, &s->bh, s->slot[sl]) >= h :
				   s->ref[sl]) {
			s->ref[sl] = 0;
			continue;
		}
		*moved += blk_evict(s, sl);
		return s->fstack[--s->nfree];
	}
	return NONE;
}

/* Staged blocks inside block @b fold into it; is any of them staged? */
static bool fold_staged(struct sub *s, u64 b)
{
	u64 k;
	bool any = false;

	for (k = b * s->bb; s->scap && k < (b + 1) * s->bb; k++)
		if (s->spos[k] != NONE) {
			unstage(s, k);
			any = true;
		}
	return any;
}

/* Admit block @b after a miss, if the rules and the bucket let it in. */
static u64 blk_admit(struct sub *s, u64 b, u8 h, bool write, bool whole)
{
	u64 cost = write && whole ? 0 : s->bb * SIM_BLOCK, moved = 0;
	u32 sl;

	/* into free space at the first access, as promote_free_threshold */
	if ((h < s->cfg->admit && !blk_free(s)) ||
	    (s->rate && s->tokens < (s64)cost))
		return 0;
	sl = blk_slot(s, h, &moved);
	if (sl == NONE)
		return moved;
	afford(s, cost);
	s->slot[sl] = b;
	s->ref[sl] = 0;
	s->bslot[b] = sl;
	s->bdirty[b] = write | fold_staged(s, b);
	s->in_blk[b * s->bb / s->unit_blocks]++;
	return moved + cost;
}

/* ---------------------------------------------------------- the access */

static bool in_stream(struct sub *s, const struct sim_io *io)
{
	s->stream_len = io->sector == s->next_sector ?
			s->stream_len + io->sectors : io->sectors;
	s->next_sector = io->sector + io->sectors;
	return s->stream_len > SEQ_CUTOFF;
}

/* The 4 KiB blocks [@first, @end) of a piece that no block holds. */
static u32 stage_part(struct sub *s, u64 first, u64 end, bool write)
{
	u32 hits = 0;
	u64 k;

	for (k = first; s->scap && k < end; k++) {
		if (s->spos[k] != NONE) {
			hits++;
		} else if (write && s->sused < s->scap) {
			s->spos[k] = s->sused;
			s->staged[s->sused++] = k;
			hits++;
		}
	}
	return hits;
}

/* The piece's part [@first, @end) inside block-tier block @b. */
static u32 blk_part(struct sub *s, const struct sim_io *io, u64 b,
		    u64 first, u64 end, bool stream, u64 *moved)
{
	u8 h = stream ? heat_get(s, &s->bh, b) : heat_add(s, &s->bh, b);
	u32 sl = s->bslot[b];

	if (sl != NONE) {
		s->ref[sl] = 1;
		if (!stream && !s->bhot[b]) {
			s->bhot[b] = 1;
			s->in_hot[b * s->bb / s->unit_blocks]++;
		}
		s->bdirty[b] |= io->write;
		return end - first;
	}
	if (!stream)
		*moved += blk_admit(s, b, h, io->write, end - first == s->bb);
	/*
	 * With staging, a write the SSD absorbs is a hit, as a staged one;
	 * without, a write miss is a miss, as in the block caches.
	 */
	if (io->write && s->scap && s->bslot[b] != NONE)
		return end - first;
	return stage_part(s, first, end, io->write && !stream);
}

static u32 sub_access(void *p, const struct sim_io *io, u64 *moved)
{
	struct sub *s = p;
	u64 u = io->block / s->unit_blocks, end = io->block + io->nblocks;
	u64 k, next, b;
	bool stream = in_stream(s, io);
	u32 hits = 0;

	s->epoch = io->t_us / HALF_LIFE_US;
	refill(s, io->t_us);
	if (!stream)
		heat_add(s, &s->ch, u);
	if (s->on_ssd[u])
		return io->nblocks;
	for (k = io->block; k < end; k = next) {
		b = k / (s->bb ? s->bb : 1);
		next = s->bb ? (b + 1) * s->bb : end;
		if (next > end)
			next = end;
		hits += s->bcap ? blk_part(s, io, b, k, next, stream, moved) :
			stage_part(s, k, next, io->write && !stream);
	}
	return hits;
}

/* --------------------------------------------------------- the chunks */

struct cand {
	u64 u;
	u8 score;
};

/* Keep the best @PLAN_CANDS, best first (@low: the lowest are best). */
static void cand_add(struct cand *c, unsigned int *n, struct cand x, bool low)
{
	unsigned int i;

	for (i = *n; i > 0; i--) {
		if (low ? x.score >= c[i - 1].score : x.score <= c[i - 1].score)
			break;
		if (i < PLAN_CANDS)
			c[i] = c[i - 1];
	}
	if (i < PLAN_CANDS) {
		c[i] = x;
		if (*n < PLAN_CANDS)
			(*n)++;
	}
}

/* A chunk's score: its heat, or promote_threshold once it is folding. */
static u8 score(struct sub *s, u64 u)
{
	u8 h = heat_get(s, &s->ch, u);
	u64 fold = s->cfg->fold_pct;

	if (fold && !s->on_ssd[u] &&
	    s->in_hot[u] * s->bb * 100 >= fold * s->unit_blocks)
		return 255;
	return h;
}

/* Move chunk @u to the other tier; its blocks and staged writes fold in. */
static u64 chunk_move(struct sub *s, u64 u)
{
	u64 b, k, first = u * s->unit_blocks, end = first + s->unit_blocks;

	if (end > s->nblocks)
		end = s->nblocks;
	s->on_ssd[u] = !s->on_ssd[u];
	s->cused += s->on_ssd[u] ? 1 : -1;
	for (b = first / (s->bb ? s->bb : 1);
	     s->bb && s->in_blk[u] && b * s->bb < end; b++)
		if (s->bslot[b] != NONE) {
			blk_drop(s, b);
			s->bdirty[b] = 0;
		}
	for (k = first; s->scap && k < end; k++)
		if (s->spos[k] != NONE)
			unstage(s, k);
	return s->unit_blocks * SIM_BLOCK;
}

/* dm-hybrid-policy.c's plan, for one volume without pins or shares. */
static u64 chunk_plan(struct sub *s, struct cand *pro, unsigned int np,
		      struct cand *vic, unsigned int nv)
{
	u64 room = s->ccap - s->cused > s->reserve ?
		   s->ccap - s->cused - s->reserve : 0;
	u64 unit = s->unit_blocks * SIM_BLOCK, moved = 0;
	unsigned int p, v = 0, n = 0;

	for (p = 0; p < np && n < MAX_PLAN; p++) {
		if (room) {
			if (!afford(s, unit))
				break;
			moved += chunk_move(s, pro[p].u);
			room--;
			n++;
		} else if (pro[p].score >= PROMOTE && v < nv &&
			   pro[p].score >= vic[v].score * s->cfg->swap_x &&
			   pro[p].score > vic[v].score + HYSTERESIS) {
			if (!afford(s, unit))
				break;
			moved += chunk_move(s, vic[v++].u);
			n++;
		}
	}
	return moved;
}

/* Evict blocks at the hand until the block tier fits beside the chunks. */
static u64 blk_shrink(struct sub *s)
{
	u64 moved = 0;
	u32 sl;

	while (s->bcap - s->nfree > blk_room(s)) {
		sl = clock_step(s);
		if (s->slot[sl] != NONE)
			moved += blk_evict(s, sl);
	}
	return moved;
}

/* Does one more chunk fit beside the capped block tier (unified)? */
static bool chunk_fits(struct sub *s)
{
	u64 ub = s->unit_blocks / s->bb, used = s->bcap - s->nfree;

	return s->bcap >= (s->cused + 1) * ub + (used > s->bmax ? used : s->bmax);
}

/*
 * Unified SSD: a chunk moves up only once its blocks fold in (score 255),
 * taking its space from the block tier; it moves down once its heat is 0
 * (no access for about eight half-lives) and the block tier is full,
 * giving the space back.
 */
static u64 unified_plan(struct sub *s, struct cand *pro, unsigned int np,
			struct cand *vic, unsigned int nv)
{
	u64 unit = s->unit_blocks * SIM_BLOCK, moved = 0;
	unsigned int p, n = 0;

	for (p = 0; p < np && n < MAX_PLAN && pro[p].score == 255; p++) {
		if (!afford(s, unit))
			return moved;
		moved += chunk_move(s, pro[p].u);
		moved += blk_shrink(s);
		n++;
	}
	/* a capped block tier leaves chunk room that heat fills */
	for (; s->bmax && p < np && n < MAX_PLAN && chunk_fits(s); p++) {
		if (!afford(s, unit))
			return moved;
		moved += chunk_move(s, pro[p].u);
		n++;
	}
	if (nv && !vic[0].score && !blk_free(s) && n < MAX_PLAN &&
	    afford(s, unit))
		moved += chunk_move(s, vic[0].u);
	return moved;
}

static u64 sub_tick(void *p, u64 now_us)
{
	struct sub *s = p;
	struct cand pro[PLAN_CANDS], vic[PLAN_CANDS];
	unsigned int np = 0, nv = 0;
	u64 u, moved;

	s->epoch = now_us / HALF_LIFE_US;
	refill(s, now_us);
	moved = s->scap ? write_back(s) : 0;
	for (u = 0; s->ccap && u < s->nunits; u++) {
		struct cand c = { u, score(s, u) };

		if (s->on_ssd[u])
			cand_add(vic, &nv, c, true);
		else if (c.score >= PROMOTE_FREE)
			cand_add(pro, &np, c, false);
	}
	if (s->cfg->unified)
		return moved + unified_plan(s, pro, np, vic, nv);
	return moved + chunk_plan(s, pro, np, vic, nv);
}

/* ------------------------------------------------------ init and exit */

static void sub_destroy(void *p)
{
	struct sub *s = p;

	free(s->on_ssd);
	free(s->ch.h);
	free(s->ch.ep);
	free(s->in_blk);
	free(s->in_hot);
	free(s->bhot);
	free(s->bh.h);
	free(s->bh.ep);
	free(s->bslot);
	free(s->bdirty);
	free(s->slot);
	free(s->ref);
	free(s->fstack);
	free(s->spos);
	free(s->staged);
	free(s->order);
	free(s);
}

static void sizes(struct sub *s, const struct sim_geom *g)
{
	const struct sub_cfg *c = s->cfg;
	u64 blk = s->bb ? g->ssd_blocks * c->blk_share / 100 / s->bb : 0;
	u64 stage = g->ssd_blocks * c->stage_share / 100;

	s->scap = stage;
	if (c->unified && s->bb) {
		s->bcap = (g->ssd_blocks - stage) / s->bb;
		s->bmax = s->bcap * c->blk_share / 100;
		s->ccap = (g->ssd_blocks - stage) / s->unit_blocks;
		s->reserve = 0;
	} else {
		s->bcap = blk;
		s->ccap = (g->ssd_blocks - blk * s->bb - stage) / s->unit_blocks;
		s->reserve = s->ccap / 100 ? s->ccap / 100 : 1;
	}
	s->rate = (s64)g->rate_mib << 20;
	s->tokens = 0;
}

/* Per-chunk and per-block state, every chunk on the HDD. */
static int sub_alloc_map(struct sub *s, const struct sim_run *run, u64 nb)
{
	u64 i;

	s->on_ssd = calloc(run->nunits, 1);
	s->in_blk = calloc(run->nunits, sizeof(*s->in_blk));
	s->in_hot = calloc(run->nunits, sizeof(*s->in_hot));
	s->bhot = calloc(nb + 1, 1);
	s->bdirty = calloc(nb + 1, 1);
	s->bslot = malloc((nb + 1) * sizeof(*s->bslot));
	s->spos = malloc((run->nblocks + 1) * sizeof(*s->spos));
	if (heat_alloc(&s->ch, run->nunits) || heat_alloc(&s->bh, nb + 1) ||
	    !s->on_ssd || !s->in_blk || !s->in_hot || !s->bhot ||
	    !s->bdirty || !s->bslot || !s->spos)
		return -1;
	for (i = 0; i < nb; i++)
		s->bslot[i] = NONE;
	for (i = 0; i < run->nblocks; i++)
		s->spos[i] = NONE;
	return 0;
}

/* The block tier's slots, all free, and the staging area. */
static int sub_alloc_ssd(struct sub *s)
{
	u64 i;

	s->slot = malloc((s->bcap + 1) * sizeof(*s->slot));
	s->ref = calloc(s->bcap + 1, 1);
	s->fstack = malloc((s->bcap + 1) * sizeof(*s->fstack));
	s->staged = malloc((s->scap + 1) * sizeof(*s->staged));
	s->order = malloc((s->scap + 1) * sizeof(*s->order));
	if (!s->slot || !s->ref || !s->fstack || !s->staged || !s->order)
		return -1;
	for (i = 0; i < s->bcap; i++) {
		s->slot[i] = NONE;
		s->fstack[i] = s->bcap - 1 - i;
	}
	s->nfree = s->bcap;
	return 0;
}

static void *sub_new(const struct sim_geom *g, const struct sim_run *run,
		     const struct sub_cfg *cfg)
{
	struct sub *s = calloc(1, sizeof(*s));
	u64 nb;

	if (!s)
		return NULL;
	s->cfg = cfg;
	s->unit_blocks = run->unit_blocks;
	/* a block is never larger than a chunk */
	s->bb = cfg->blk_kib / 4 < run->unit_blocks ? cfg->blk_kib / 4 :
		run->unit_blocks;
	nb = s->bb ? (run->nblocks + s->bb - 1) / s->bb : 0;
	sizes(s, g);
	s->nunits = run->nunits;
	s->nblocks = run->nblocks;
	if (sub_alloc_map(s, run, nb) || sub_alloc_ssd(s)) {
		sub_destroy(s);
		return NULL;
	}
	return s;
}

/* ---------------------------------------------------------- variants */

#define VARIANT(id, ...)						\
static const struct sub_cfg cfg_##id = { __VA_ARGS__ };			\
static void *init_##id(const struct sim_geom *g, const struct sim_run *r) \
{									\
	return sub_new(g, r, &cfg_##id);				\
}									\
static const struct sim_ops ops_##id = {				\
	.name = cfg_##id.name, .init = init_##id, .access = sub_access,	\
	.tick = sub_tick, .destroy = sub_destroy,			\
}

/*
 * The variants.  chunk-only: the kernel's chunk tier (its swap factor 2);
 * chunk-x1: the same with the kernel's swap rule before the factor (the
 * hysteresis alone).  sub-*: the unified SSD (chunks only by folding); the
 * others keep the chunk tier's own heat-driven moves beside a fixed block
 * and staging share (cap25: the block tier capped at a quarter of the SSD,
 * as the RAM budget may demand, with the factor 2).
 */
/*	  id	      name		 kib share admit beat  stage fold x unified */
VARIANT(chunk,	    "chunk-only",	 0,  0,   0, false, 0,  0,  2, false);
VARIANT(chunk_x1,   "chunk-x1",		 0,  0,   0, false, 0,  0,  1, false);
VARIANT(stage,	    "stage-only",	 0,  0,   0, false, 10, 0,  1, false);
VARIANT(split,	    "split-16k+stage",	 16, 40,  2, true,  10, 90, 1, false);
VARIANT(blk,	    "blk-16k+stage",	 16, 90,  2, true,  10, 0,  1, false);
VARIANT(cap25,	    "cap25-16k+stage",	 16, 25,  2, true,  10, 90, 2, false);
VARIANT(s4,	    "sub-4k",		 4,  0,   2, true,  0,  90, 1, true);
VARIANT(s16,	    "sub-16k",		 16, 0,   2, true,  0,  90, 1, true);
VARIANT(s64,	    "sub-64k",		 64, 0,   2, true,  0,  90, 1, true);
VARIANT(s4_st,	    "sub-4k+stage",	 4,  0,   2, true,  10, 90, 1, true);
VARIANT(s16_st,	    "sub-16k+stage",	 16, 0,   2, true,  10, 90, 1, true);
VARIANT(s64_st,	    "sub-64k+stage",	 64, 0,   2, true,  10, 90, 1, true);
VARIANT(s16_a1,	    "sub-16k+stage-a1",	 16, 0,   1, true,  10, 90, 1, true);
VARIANT(s16_clock,  "sub-16k+stage-clock", 16, 0, 1, false, 10, 90, 1, true);
VARIANT(cap,	    "sub-16k+stage-cap25", 16, 25, 2, true, 10, 90, 1, true);

const struct sim_ops *const sim_sub_variants[] = {
	&ops_chunk, &ops_chunk_x1, &ops_stage, &ops_split, &ops_blk,
	&ops_cap25, &ops_s4, &ops_s16, &ops_s64, &ops_s4_st, &ops_s16_st, &ops_s64_st,
	&ops_s16_a1, &ops_s16_clock, &ops_cap, NULL,
};
