// SPDX-License-Identifier: GPL-2.0-only
/*
 * The layout validator of dm-hybrid-format.h, dmh_layout_check(), which
 * the kernel runs on the superblock at activation and the tools run
 * through md_super_check(): superblocks forged from a formatted one with
 * one field at a time at its extremes, gapped and overlapping regions, and
 * the layouts dmh_layout_compute() gives for several pool sizes.  Every
 * superblock goes through both paths (the raw block as the kernel sees it,
 * and the tools' decoded copy); they must agree.  Prints TAP lines.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "md.h"
#include "tap.h"

#define MD_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX64	UINT64_MAX
#define MAX32	UINT32_MAX

/* The pool of the fuzz-mdimage case: 4 MiB metadata, 64 KiB chunks. */
#define BASE_MD		1024
#define BASE_SSD	256
#define BASE_HDD	512
#define BASE_CS		128

/* Lay out a pool as the kernel's formatter does; 0 if it fits. */
static int formatted(struct md_super *s, u64 md_blocks, u64 ssd, u64 hdd,
		     u32 cs)
{
	memset(s, 0, sizeof(*s));
	s->block_size = DMH_BLOCK_SIZE;
	s->chunk_sectors = cs;
	s->ssd_sectors = ssd * cs;
	s->hdd_sectors = hdd * cs;
	if (dmh_layout_compute(md_blocks, ssd, hdd, &s->layout))
		return -1;
	s->md_blocks = s->layout.md_blocks;	/* as encode_super() writes it */
	return 0;
}

/*
 * Judge @s on a device of @dev_blocks through the kernel's path (the
 * encoded block) and, when the device is the superblock's own size, the
 * tools' path.  Returns 1 if valid, 0 if refused, -1 if the paths
 * disagree or a valid layout decodes wrong; *@why is the kernel's reason.
 */
static int judge(const struct md_super *s, u64 dev_blocks, char **why)
{
	static u8 block[DMH_BLOCK_SIZE];
	struct md_super back;
	struct dmh_layout l;
	char msg[160];
	int k, u;

	md_super_encode(s, block);
	k = !dmh_layout_check((const void *)block, dev_blocks, &l, why);
	if (k && (l.md_blocks != s->md_blocks ||
		  memcmp(&l.vt_start, &s->layout.vt_start,
			 sizeof(l) - offsetof(struct dmh_layout, vt_start))))
		return -1;
	if (dev_blocks != s->md_blocks)
		return k;
	md_super_decode(block, &back);
	u = !md_super_check(&back, msg, sizeof(msg));
	if (u != k || (!u && strcmp(msg, *why)))
		return -1;
	return k;
}

/* One TAP line: @s must be accepted (@want) or refused for @reason. */
static void expect(const struct md_super *s, u64 dev_blocks, int want,
		   const char *reason, const char *what)
{
	char line[512], *why = NULL;
	int got = judge(s, dev_blocks, &why);

	snprintf(line, sizeof(line), "%s: %s%s%s", what,
		 got < 0 ? "kernel and tools paths disagree" :
		 got ? "accepted" : "refused", got > 0 ? "" : ": ",
		 got > 0 || !why ? "" : why);
	t(got == want && (want || strstr(why, reason)), line);
}

/* ---- one field at a time ---- */

/* value; base + value; capacity + value; 2^64 - heat_start (+ value) */
enum how { ABS, REL, CAP, WRAP };

struct field {
	const char *name;
	size_t off;
	int is32;
	int tier;		/* CAP: whose capacity, in sectors */
};

#define F32(f)		{ #f, offsetof(struct md_super, f), 1, 0 }
#define F64(f)		{ #f, offsetof(struct md_super, f), 0, 0 }
#define FCAP(f, t)	{ #f, offsetof(struct md_super, f), 0, t }

enum {
	BS, CS, MD, SSD, HDD, VTS, VTB, RS0, RB0, RS1, RB1, HS, HB, TX, FL,
	LS, LB, LU, LBASE, LH, LR
};

static const struct field fields[] = {
	[BS] = F32(block_size),
	[CS] = F32(chunk_sectors),
	[MD] = F64(md_blocks),
	[SSD] = FCAP(ssd_sectors, DMH_TIER_SSD),
	[HDD] = FCAP(hdd_sectors, DMH_TIER_HDD),
	[VTS] = F64(layout.vt_start),
	[VTB] = F64(layout.vt_blocks),
	[RS0] = F64(layout.rmap_start[0]),
	[RB0] = F64(layout.rmap_blocks[0]),
	[RS1] = F64(layout.rmap_start[1]),
	[RB1] = F64(layout.rmap_blocks[1]),
	[HS] = F64(layout.heat_start),
	[HB] = F64(layout.heat_blocks),
	[TX] = F64(txid),
	[FL] = F32(flags),
	[LS] = F64(layout.slog_start),
	[LB] = F64(layout.slog_blocks),
	[LU] = F64(slog_used),
	[LBASE] = F64(slog_base),
	[LH] = F32(slog_half),
	[LR] = F32(slog_reserved),
};

struct fcase {
	int f;
	enum how how;
	u64 v;
	int valid;
	const char *reason;	/* part of the expected sentence */
};

/* Reasons, as parts of the validator's sentences. */
#define R_BS	"block size"
#define R_CS	"chunk size"
#define R_BIG	"above 256 TiB"
#define R_PAST	"extend past"
#define R_SSD	"SSD reverse map has fewer entries"
#define R_HDD	"HDD reverse map has fewer entries"
#define R_VT	"volume table is not where"
#define R_RMAP	"reverse maps do not follow"
#define R_RBIG	"larger than the kernel supports"
#define R_HEAT	"heat region does not follow"
#define R_HEATN	"heat region does not match"
#define R_TX	"transaction id is above 2^62"
#define R_SSD0	"SSD size is below one chunk"
#define R_HDD0	"HDD size is below one chunk"
#define R_SSDW	"SSD size is not a whole number of chunks"
#define R_HDDW	"HDD size is not a whole number of chunks"
#define R_INC	"unknown incompatible features"
#define R_LNONE	"staging log has a start but no blocks"
#define R_LSIZE	"staging log size is not an even number"
#define R_LHEAT	"staging log does not follow the heat region"
#define R_LPAST	"staging log extends past"
#define R_LSTATE "staging log state is out of range"
#define R_LNEW	"staging log is newer than its superblock"
#define R_LFLAG	"staging log flag disagrees with its length"

static const struct fcase fcases[] = {
	{ BS, ABS, 0, 0, R_BS }, { BS, ABS, 1, 0, R_BS },
	{ BS, ABS, 4095, 0, R_BS }, { BS, ABS, 4097, 0, R_BS },
	{ BS, ABS, 8192, 0, R_BS }, { BS, ABS, MAX32, 0, R_BS },
	/* no division by a zero chunk size */
	{ CS, ABS, 0, 0, R_CS }, { CS, ABS, 1, 0, R_CS },
	{ CS, ABS, 64, 0, R_CS }, { CS, ABS, 127, 0, R_CS },
	{ CS, ABS, 129, 0, R_CS }, { CS, ABS, 192, 0, R_CS },
	{ CS, ABS, 262144, 0, R_CS }, { CS, ABS, 1u << 31, 0, R_CS },
	{ CS, ABS, MAX32, 0, R_CS },
	/* a larger chunk: fewer chunks, still inside the reverse maps */
	{ CS, ABS, 256, 1, NULL }, { CS, ABS, 32768, 1, NULL },
	/* larger than the whole SSD: no SSD chunk left */
	{ CS, ABS, 65536, 0, R_SSD0 }, { CS, ABS, 131072, 0, R_SSD0 },
	{ MD, ABS, 0, 0, R_PAST }, { MD, ABS, 1, 0, R_PAST },
	/* the base pool's staging log ends the device */
	{ MD, REL, -2ull, 0, R_LPAST }, { MD, REL, -1ull, 0, R_LPAST },
	{ MD, REL, 1, 1, NULL },
	{ MD, ABS, DMH_MD_BLOCKS_MAX, 1, NULL },
	{ MD, ABS, DMH_MD_BLOCKS_MAX + 1, 0, R_BIG },
	{ MD, ABS, MAX64, 0, R_BIG },
	/*
	 * The kernel writes a whole number of chunks, at least one (its
	 * constructor refuses a smaller data device): 0 chunks had it unmap
	 * every chunk of the tier as left by an interrupted grow.
	 */
	{ SSD, ABS, 0, 0, R_SSD0 }, { SSD, ABS, 1, 0, R_SSD0 },
	{ SSD, ABS, BASE_CS - 1, 0, R_SSD0 }, { SSD, ABS, BASE_CS, 1, NULL },
	{ SSD, REL, 1, 0, R_SSDW }, { SSD, REL, -1ull, 0, R_SSDW },
	{ SSD, CAP, 0, 1, NULL }, { SSD, CAP, BASE_CS - 1, 0, R_SSDW },
	{ SSD, CAP, BASE_CS, 0, R_SSD }, { SSD, ABS, 1ull << 63, 0, R_SSD },
	{ SSD, ABS, MAX64, 0, R_SSD },
	{ HDD, ABS, 0, 0, R_HDD0 }, { HDD, ABS, BASE_CS, 1, NULL },
	{ HDD, REL, BASE_CS / 2, 0, R_HDDW }, { HDD, CAP, 0, 1, NULL },
	{ HDD, CAP, BASE_CS, 0, R_HDD }, { HDD, ABS, MAX64, 0, R_HDD },
	{ VTS, ABS, 0, 0, R_VT }, { VTS, ABS, 1, 0, R_VT },
	{ VTS, ABS, 3, 0, R_VT }, { VTS, ABS, MAX64, 0, R_VT },
	{ VTB, ABS, 0, 0, R_VT }, { VTB, ABS, 32, 0, R_VT },
	{ VTB, ABS, 34, 0, R_VT }, { VTB, ABS, MAX64, 0, R_VT },
	{ RS0, ABS, 0, 0, R_RMAP }, { RS0, REL, -1ull, 0, R_RMAP },
	{ RS0, REL, 1, 0, R_RMAP }, { RS0, ABS, MAX64, 0, R_RMAP },
	{ RB0, ABS, 0, 0, R_RMAP }, { RB0, REL, -1ull, 0, R_RMAP },
	{ RB0, REL, 1, 0, R_RMAP },
	/* the old kernel bound let 2^32 through: bitmap_zalloc() of 0 bits */
	{ RB0, ABS, 1ull << 32, 0, R_RBIG },
	{ RB0, ABS, DMH_RMAP_BLOCKS_MAX + 1, 0, R_RBIG },
	{ RB0, ABS, 1ull << 63, 0, R_RBIG },	/* 2 * it wraps to 0 */
	{ RB0, ABS, MAX64, 0, R_RBIG },
	{ RS1, ABS, 0, 0, R_RMAP }, { RS1, REL, -1ull, 0, R_RMAP },
	{ RS1, REL, 1, 0, R_RMAP }, { RS1, ABS, MAX64, 0, R_RMAP },
	{ RB1, ABS, 0, 0, R_HEAT }, { RB1, REL, 1, 0, R_HEAT },
	{ RB1, ABS, 1ull << 32, 0, R_RBIG }, { RB1, ABS, 1ull << 63, 0, R_RBIG },
	{ RB1, ABS, MAX64, 0, R_RBIG },
	{ HS, ABS, 0, 0, R_HEAT }, { HS, REL, -1ull, 0, R_HEAT },
	{ HS, REL, 1, 0, R_HEAT }, { HS, ABS, MAX64, 0, R_HEAT },
	{ HB, ABS, 0, 0, R_HEATN }, { HB, REL, -1ull, 0, R_HEATN },
	{ HB, REL, 1, 0, R_HEATN }, { HB, ABS, MAX64, 0, R_HEATN },
	/* heat_start + heat_blocks wraps to 0 or 1, inside any md_blocks */
	{ HB, WRAP, 0, 0, R_HEATN }, { HB, WRAP, 1, 0, R_HEATN },
	/* the next commit, txid + 1, must not wrap */
	{ TX, ABS, 0, 1, NULL }, { TX, ABS, DMH_TXID_MAX, 1, NULL },
	{ TX, ABS, DMH_TXID_MAX + 1, 0, R_TX }, { TX, ABS, MAX64, 0, R_TX },
	/*
	 * Compatible bits (the low 16) pass, known or not; of the others
	 * only DMH_SB_INCOMPAT_SLOG, which needs records in the log.
	 */
	{ FL, ABS, DMH_SB_NEEDS_CHECK, 1, NULL }, { FL, ABS, 0x2, 1, NULL },
	{ FL, ABS, 0xffff, 1, NULL },
	{ FL, ABS, DMH_SB_INCOMPAT_SLOG, 0, R_LFLAG },
	{ FL, ABS, 0x20000, 0, R_INC }, { FL, ABS, 0x30000, 0, R_INC },
	{ FL, ABS, 0x80000000u, 0, R_INC }, { FL, ABS, MAX32, 0, R_INC },
	/* the base pool's log: 118 blocks right after the heat region */
	{ LS, ABS, 0, 0, R_LHEAT }, { LS, REL, -1ull, 0, R_LHEAT },
	{ LS, REL, 1, 0, R_LHEAT }, { LS, ABS, MAX64, 0, R_LHEAT },
	{ LB, ABS, 0, 0, R_LNONE }, { LB, ABS, 1, 0, R_LSIZE },
	{ LB, ABS, 14, 0, R_LSIZE }, { LB, ABS, 15, 0, R_LSIZE },
	{ LB, ABS, 16, 1, NULL }, { LB, REL, -1ull, 0, R_LSIZE },
	{ LB, REL, 2, 0, R_LPAST }, { LB, ABS, DMH_SLOG_BLOCKS_MAX, 0, R_LPAST },
	{ LB, ABS, DMH_SLOG_BLOCKS_MAX + 2, 0, R_LSIZE },
	{ LB, ABS, MAX64 - 1, 0, R_LSIZE },
	/* slog_used without the flag; the flag's cases are slog_cases() */
	{ LU, ABS, 1, 0, R_LFLAG }, { LU, ABS, 59, 0, R_LFLAG },
	{ LU, ABS, 60, 0, R_LSTATE }, { LU, ABS, MAX64, 0, R_LSTATE },
	{ LH, ABS, 1, 1, NULL }, { LH, ABS, 2, 0, R_LSTATE },
	{ LH, ABS, MAX32, 0, R_LSTATE },
	{ LR, ABS, 1, 0, R_LSTATE }, { LR, ABS, MAX32, 0, R_LSTATE },
	/* base txid 0: any slog_base is newer */
	{ LBASE, ABS, 1, 0, R_LNEW }, { LBASE, ABS, MAX64, 0, R_LNEW },
};

static void set_field(struct md_super *s, const struct field *f, u64 v)
{
	u32 v32 = (u32)v;

	if (f->is32)
		memcpy((u8 *)s + f->off, &v32, sizeof(v32));
	else
		memcpy((u8 *)s + f->off, &v, sizeof(v));
}

static u64 get_field(const struct md_super *s, const struct field *f)
{
	u32 v32;
	u64 v;

	if (f->is32) {
		memcpy(&v32, (const u8 *)s + f->off, sizeof(v32));
		return v32;
	}
	memcpy(&v, (const u8 *)s + f->off, sizeof(v));
	return v;
}

static void field_case(const struct md_super *base, const struct fcase *c)
{
	const struct field *f = &fields[c->f];
	struct md_super s = *base;
	char what[160];
	u64 v = c->v;

	if (c->how == REL)
		v += get_field(base, f);
	if (c->how == CAP)
		v += base->layout.rmap_blocks[f->tier] * DMH_RMAP_PER_BLOCK *
		     base->chunk_sectors;
	if (c->how == WRAP)
		v -= base->layout.heat_start;
	set_field(&s, f, v);
	snprintf(what, sizeof(what), "%s=%llu", f->name, (unsigned long long)v);
	expect(&s, s.md_blocks, c->valid, c->reason, what);
}

/* ---- whole layouts ---- */

static void shift_from_rmap(struct md_super *s, int first_tier, u64 by)
{
	int t;

	for (t = first_tier; t < DMH_NR_TIERS; t++)
		s->layout.rmap_start[t] += by;
	s->layout.heat_start += by;
	s->layout.slog_start += by;
	s->md_blocks += by;
}

/*
 * The staging log's state: records in the live half need the flag, and
 * the other way round; its txids lie in (slog_base, txid].
 */
static void slog_cases(const struct md_super *base)
{
	u64 half = base->layout.slog_blocks / 2;
	struct md_super s;

	t(base->layout.slog_blocks == 118 &&
	  base->layout.slog_start == base->layout.heat_start +
				     base->layout.heat_blocks,
	  "base pool: a log of 118 blocks (an eighth of 949 spare) after the heat region");
	s = *base;
	s.flags = DMH_SB_INCOMPAT_SLOG;
	s.slog_used = 1;
	expect(&s, s.md_blocks, 1, NULL, "flag and 1 block of records");
	s.slog_used = half;
	s.slog_half = 1;
	expect(&s, s.md_blocks, 1, NULL, "flag and a full second half");
	s.slog_used = half + 1;
	expect(&s, s.md_blocks, 0, R_LSTATE, "flag and one block past the half");
	s.slog_used = 1;
	s.txid = 9;
	s.slog_base = 9;
	expect(&s, s.md_blocks, 1, NULL, "slog_base equal to txid");
	s.slog_base = 10;
	expect(&s, s.md_blocks, 0, R_LNEW, "slog_base one above txid");
	/* md_load() goes on past the flag alone, which md_check() repairs */
	s = *base;
	s.slog_used = 1;
	t(!md_slog_state_fault(&s, 0) &&
	  strstr(md_slog_state_fault(&s, 1) ?: "", R_LFLAG),
	  "tools: records without the flag load, and are a flag fault");
	s.slog_used = half + 1;
	t(!!strstr(md_slog_state_fault(&s, 0) ?: "", R_LSTATE),
	  "tools: records past the half do not load");
	s = *base;
	s.layout.slog_start = 0;
	s.layout.slog_blocks = 0;
	expect(&s, s.md_blocks, 1, NULL, "no log (a pool formatted before it)");
	s.flags = DMH_SB_INCOMPAT_SLOG;
	s.slog_used = 1;
	expect(&s, s.md_blocks, 0, R_LSTATE, "no log, yet 1 block of records");
	s = *base;
	s.layout.slog_blocks = (s.md_blocks - s.layout.slog_start) & ~1ull;
	expect(&s, s.md_blocks, 1, NULL, "log grown to the end of the device");
	s.layout.slog_blocks += 2;
	expect(&s, s.md_blocks, 0, R_LPAST, "log 2 blocks past the device");
	/* the base pool needs 75 blocks; the log has an eighth of the rest */
	t(!formatted(&s, 75 + 128, BASE_SSD, BASE_HDD, BASE_CS) &&
	  s.layout.slog_blocks == 16, "formatter: 128 spare blocks, a log of 16");
	t(!formatted(&s, 75 + 127, BASE_SSD, BASE_HDD, BASE_CS) &&
	  !s.layout.slog_blocks && !s.layout.slog_start,
	  "formatter: 127 spare blocks, no log (it would be 14 blocks)");
	t(!formatted(&s, 75 + 8 * 8192 + 100, BASE_SSD, BASE_HDD, BASE_CS) &&
	  s.layout.slog_blocks == DMH_SLOG_BLOCKS_MAX,
	  "formatter: a log of 8192 blocks at most");
}

static void region_cases(const struct md_super *base)
{
	struct dmh_layout *l;
	struct md_super s;

	s = *base;
	shift_from_rmap(&s, DMH_TIER_SSD, 2);
	expect(&s, s.md_blocks, 0, R_RMAP,
	       "gap of 2 blocks after the volume table");
	s = *base;
	shift_from_rmap(&s, DMH_TIER_HDD, 2);
	expect(&s, s.md_blocks, 0, R_RMAP,
	       "gap of 2 blocks between the reverse maps");
	s = *base;
	s.layout.heat_start += 1;
	s.md_blocks += 1;
	expect(&s, s.md_blocks, 0, R_HEAT, "gap of 1 block before heat");
	s = *base;
	s.layout.vt_start += 2;
	shift_from_rmap(&s, DMH_TIER_SSD, 2);
	expect(&s, s.md_blocks, 0, R_VT,
	       "every region 2 blocks later (gap after the superblocks)");
	s = *base;
	shift_from_rmap(&s, DMH_TIER_HDD, -1ull);
	expect(&s, s.md_blocks, 0, R_RMAP,
	       "HDD reverse map overlaps the SSD one by a block");
	s = *base;
	s.layout.heat_start = s.layout.rmap_start[DMH_TIER_HDD] + 1;
	expect(&s, s.md_blocks, 0, R_HEAT, "heat inside the HDD reverse map");
	s = *base;
	l = &s.layout;
	l->rmap_start[DMH_TIER_HDD] = l->rmap_start[DMH_TIER_SSD];
	l->rmap_start[DMH_TIER_SSD] += 2 * l->rmap_blocks[DMH_TIER_HDD];
	expect(&s, s.md_blocks, 0, R_RMAP, "HDD reverse map before the SSD one");
	s = *base;
	l->heat_start = l->rmap_start[DMH_TIER_SSD];
	l->rmap_start[DMH_TIER_SSD] += l->heat_blocks;
	l->rmap_start[DMH_TIER_HDD] += l->heat_blocks;
	expect(&s, s.md_blocks, 0, R_RMAP, "heat before the reverse maps");
}

static void device_cases(const struct md_super *base)
{
	expect(base, base->md_blocks - 1, 0, "truncated",
	       "metadata device one block smaller than md_blocks");
	expect(base, 0, 0, "truncated", "metadata device of 0 blocks");
	expect(base, base->md_blocks + 1000, 1, NULL,
	       "metadata device larger than md_blocks");
}

/*
 * The issue 19 item 7 cases, by name, each forged so that only the rule
 * it is about can refuse it: the kernel's __set_bit() past the allocation
 * bitmap, and its heat image overrun.
 */
static void issue_cases(const struct md_super *base)
{
	struct dmh_layout *l;
	struct md_super s;
	u64 cap;

	s = *base;
	cap = s.layout.rmap_blocks[DMH_TIER_SSD] * DMH_RMAP_PER_BLOCK;
	s.ssd_sectors = (cap + 1) * s.chunk_sectors;
	expect(&s, s.md_blocks, 0, R_SSD,
	       "ssd_sectors one chunk past the SSD reverse map");
	/* the same SSD, a formatted-looking layout without SSD reverse map */
	s = *base;
	l = &s.layout;
	shift_from_rmap(&s, DMH_TIER_HDD, -2 * l->rmap_blocks[DMH_TIER_SSD]);
	s.md_blocks = base->md_blocks;
	l->rmap_blocks[DMH_TIER_SSD] = 0;
	l->heat_blocks = dmh_div_up(l->rmap_blocks[DMH_TIER_HDD] *
				    DMH_RMAP_PER_BLOCK, DMH_HEAT_PER_BLOCK);
	l->slog_start = l->heat_start + l->heat_blocks;
	expect(&s, s.md_blocks, 0, R_SSD,
	       "SSD reverse map of 0 blocks, the other regions moved up to it");
	s = *base;
	s.layout.heat_blocks -= 1;
	expect(&s, s.md_blocks, 0, R_HEATN,
	       "heat_blocks one short of a byte per chunk of capacity");
	s.layout.heat_blocks = 1;
	expect(&s, s.md_blocks, 0, R_HEATN, "heat_blocks 1");
}

/* ---- what the formatter writes ---- */

struct pool {
	const char *what;
	u64 md_blocks;		/* 0: exactly dmh_layout_need() */
	u64 ssd, hdd;		/* chunks */
	u32 cs;
};

static const struct pool pools[] = {
	{ "1 + 1 chunks, the smallest metadata", 0, 1, 1, 128 },
	{ "fuzz-mdimage: 4 MiB metadata, 16 + 32 MiB", 1024, 256, 512, 128 },
	{ "tools tests: 200 blocks, 1000 + 10000 MiB", 200, 1000, 10000, 2048 },
	{ "1 TiB + 16 TiB, 1 MiB chunks, no spare", 0, 1ull << 20,
	  1ull << 24, 2048 },
	{ "4 TiB + 64 TiB, 64 KiB chunks, no spare", 0, 1ull << 26,
	  1ull << 30, 128 },
	{ "64 MiB chunks, a 1 GiB metadata device", 262144, 16, 1024,
	  131072 },
	{ "an HDD of one chunk, the spare mostly the SSD's", 4096, 100, 1, 2048 },
	{ "16 GiB of metadata for a small pool", 1ull << 22, 1000, 10000,
	  2048 },

	/* the spare capacity stops at DMH_TIER_CHUNKS_MAX a tier */
	{ "300 GiB of metadata for a small pool", 300ull << 18, 1000, 10000,
	  2048 },
	{ "512 GiB of metadata for a small pool", 1ull << 27, 1000, 10000,
	  2048 },
	{ "1 TiB of metadata, 64 KiB chunks, 4 TiB + 64 TiB", 1ull << 28,
	  1ull << 26, 1ull << 30, 128 },
	{ "256 TiB of metadata, the most a superblock may say", 1ull << 36,
	  1, 1, 128 },
	{ "1 PiB of metadata: the layout uses 256 TiB of it", 1ull << 38,
	  1000, 10000, 2048 },
	{ "both tiers at DMH_TIER_CHUNKS_MAX chunks, no spare", 0,
	  DMH_TIER_CHUNKS_MAX, DMH_TIER_CHUNKS_MAX, 128 },
};

/*
 * A tier of more chunks than a reverse map may describe has no layout,
 * however large the metadata device.
 */
static void formatter_refusals(void)
{
	struct md_super s;

	t(formatted(&s, 1ull << 30, DMH_TIER_CHUNKS_MAX + 1, 1, 128) != 0,
	  "formatter: an SSD of DMH_TIER_CHUNKS_MAX + 1 chunks is refused");
	t(formatted(&s, 1ull << 30, 1, DMH_TIER_CHUNKS_MAX + 1, 128) != 0,
	  "formatter: an HDD of DMH_TIER_CHUNKS_MAX + 1 chunks is refused");
	t(formatted(&s, MAX64, MAX64 / 128, MAX64 / 128, 128) != 0,
	  "formatter: 2^64 blocks of metadata for 2^57-chunk tiers is refused");
}

static void formatter_cases(void)
{
	char what[160];
	struct md_super s;
	u64 md;
	size_t i;

	for (i = 0; i < MD_ARRAY_SIZE(pools); i++) {
		const struct pool *p = &pools[i];

		md = p->md_blocks ? p->md_blocks :
				    dmh_layout_need(p->ssd, p->hdd);
		snprintf(what, sizeof(what), "formatter: %s", p->what);
		if (formatted(&s, md, p->ssd, p->hdd, p->cs)) {
			t(0, what);
			continue;
		}
		expect(&s, md, 1, NULL, what);
		/* grown to the whole reverse-map capacity, as resize may */
		s.ssd_sectors = s.layout.rmap_blocks[DMH_TIER_SSD] *
				DMH_RMAP_PER_BLOCK * p->cs;
		s.hdd_sectors = s.layout.rmap_blocks[DMH_TIER_HDD] *
				DMH_RMAP_PER_BLOCK * p->cs;
		snprintf(what, sizeof(what),
			 "formatter: %s, both tiers grown to capacity", p->what);
		expect(&s, md, 1, NULL, what);
	}
}

int main(void)
{
	struct md_super base;
	size_t i;

	if (formatted(&base, BASE_MD, BASE_SSD, BASE_HDD, BASE_CS)) {
		t(0, "the base pool fits its metadata device");
		return 1;
	}
	expect(&base, BASE_MD, 1, NULL, "base pool as formatted");
	for (i = 0; i < MD_ARRAY_SIZE(fcases); i++)
		field_case(&base, &fcases[i]);
	region_cases(&base);
	slog_cases(&base);
	device_cases(&base);
	issue_cases(&base);
	formatter_cases();
	formatter_refusals();
	printf("1..%d\n", n);
	return failed != 0;
}
