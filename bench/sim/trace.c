// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trace loading for the placement lab, with bench/trace2iolog.py's rules,
 * so that the lab and the benchmarks see the same requests and footprint:
 *
 *  - the format comes from the file name (lower-cased): *.spc (UMass SPC,
 *    each ASU its own 64 GiB range), msr*, tencent*, cloudphysics*;
 *    opcodes are compared without case; blank lines and lines starting
 *    with a letter (headers) are skipped, as are requests of size <= 0;
 *  - offsets are rounded down and sizes up to 512 B;
 *  - the address space is compacted: the touched 64 KiB granules of the
 *    whole trace are laid end to end in their original order.
 *
 * The times are the traces' own (SPC and CloudPhysics in seconds, MSR and
 * Tencent in milliseconds), made relative to the first request and never
 * allowed to go back.
 *
 * A pseudo-trace "zipf:MIB:THETA:WRITE_PCT[:REQUESTS]" (no file) is an
 * OLTP-like source, bench's `oltp` job in shape: REQUESTS (default
 * 100,000) requests 1 ms apart, each 512 B to 2 KiB (uniform, in 512 B
 * steps) inside one 4 KiB block of a MIB MiB volume, WRITE_PCT % of them
 * writes; the block is drawn by zipf(THETA) rank, the ranks spread over
 * the volume by a random permutation (as fio hashes its zipf ranks, so the
 * hot blocks fall in many chunks).  Fixed seed: the same spec gives the
 * same requests.  Its space is the whole volume, not compacted.
 * "idle:MIB" is a volume of MIB MiB with no requests (the multi-volume
 * mode's idle tenant; the single-volume mode refuses it).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim.h"

#define GRANULE		(64u << 10)	/* trace2iolog.py's default */
#define MAX_FIELDS	8

enum fmt { FMT_SPC, FMT_MSR, FMT_TENCENT, FMT_CP };

static int format_of(const char *name)
{
	size_t n = strlen(name);

	if (n >= 4 && !strcasecmp(name + n - 4, ".spc"))
		return FMT_SPC;
	if (!strncasecmp(name, "msr", 3))
		return FMT_MSR;
	if (!strncasecmp(name, "tencent", 7))
		return FMT_TENCENT;
	if (!strncasecmp(name, "cloudphysics", 12))
		return FMT_CP;
	return -1;
}

/* Split @line at any of @sep; returns the number of fields. */
static int split(char *line, const char *sep, char **f)
{
	int n = 0;
	char *save, *tok = strtok_r(line, sep, &save);

	for (; tok && n < MAX_FIELDS; tok = strtok_r(NULL, sep, &save))
		f[n++] = tok;
	return n;
}

static bool is(const char *field, const char *want)
{
	while (isspace((unsigned char)*field))
		field++;
	return !strncasecmp(field, want, strlen(want)) &&
	       (!field[strlen(want)] || isspace((unsigned char)field[strlen(want)]));
}

/* One request from a line; returns 1, 0 for a line to skip, -1 if bad. */
static int parse_line(int fmt, char *line, double *t, struct sim_req *r,
		      long long *size)
{
	char *f[MAX_FIELDS];
	int n = split(line, fmt == FMT_MSR ? " \t\r\n" : ",\r\n", f);

	if (n < 5)
		return -1;
	switch (fmt) {
	case FMT_SPC:
		r->off = (strtoull(f[0], NULL, 10) << 36) +
			 strtoull(f[1], NULL, 10) * 512;
		*size = strtoll(f[2], NULL, 10);
		r->write = !is(f[3], "r");
		*t = strtod(f[4], NULL) * 1e6;
		break;
	case FMT_MSR:
		*t = strtod(f[0], NULL) * 1e3;
		r->off = strtoull(f[2], NULL, 10);
		*size = strtoll(f[3], NULL, 10);
		r->write = !is(f[4], "1");
		break;
	case FMT_TENCENT:
		*t = strtod(f[0], NULL) * 1e3;
		r->write = !is(f[2], "1");
		*size = strtoll(f[3], NULL, 10);
		r->off = strtoull(f[4], NULL, 10);
		break;
	default:
		*t = strtod(f[1], NULL) * 1e6;
		r->write = !is(f[2], "28");
		*size = strtoll(f[3], NULL, 10);
		r->off = strtoull(f[4], NULL, 10) * 512;
	}
	return *size > 0;
}

static int add_req(struct sim_trace *tr, size_t *cap, struct sim_req *r)
{
	if (tr->nreq == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4096;
		struct sim_req *p = realloc(tr->req, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		tr->req = p;
		*cap = ncap;
	}
	tr->req[tr->nreq++] = *r;
	return 0;
}

static int read_reqs(FILE *f, int fmt, struct sim_trace *tr)
{
	char line[1024], *s;
	double t, t0 = 0, last = 0;
	struct sim_req r;
	long long size;
	size_t cap = 0;
	int ok;

	while (fgets(line, sizeof(line), f)) {
		for (s = line; isspace((unsigned char)*s); s++)
			;
		if (!*s || isalpha((unsigned char)*s))
			continue;
		ok = parse_line(fmt, s, &t, &r, &size);
		if (ok < 0)
			return -EINVAL;
		if (!ok)
			continue;
		if (!tr->nreq)
			t0 = t;
		last = t - t0 > last ? t - t0 : last;
		r.t_us = (u64)last;
		r.off -= r.off % 512;
		r.len = (u32)((size + 511) / 512 * 512);
		if (add_req(tr, &cap, &r))
			return -ENOMEM;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* The touched granules, sorted and unique; returns their number. */
static size_t granules(const struct sim_trace *tr, u64 **out)
{
	size_t i, n = 0, m = 0;
	u64 g, *a = NULL, *p;

	for (i = 0; i < tr->nreq; i++) {
		u64 end = (tr->req[i].off + tr->req[i].len - 1) / GRANULE;

		for (g = tr->req[i].off / GRANULE; g <= end; g++) {
			if (n == m) {
				m = m ? 2 * m : 4096;
				p = realloc(a, m * sizeof(*a));
				if (!p) {
					free(a);
					return 0;
				}
				a = p;
			}
			a[n++] = g;
		}
	}
	qsort(a, n, sizeof(*a), cmp_u64);
	for (i = 0, m = 0; i < n; i++)
		if (!m || a[m - 1] != a[i])
			a[m++] = a[i];
	*out = a;
	return m;
}

/* Lay the touched granules end to end, in their order. */
static int compact(struct sim_trace *tr)
{
	u64 *g, *hit;
	size_t n = granules(tr, &g), i;

	if (!n)
		return tr->nreq ? -ENOMEM : -EINVAL;
	for (i = 0; i < tr->nreq; i++) {
		u64 key = tr->req[i].off / GRANULE;

		hit = bsearch(&key, g, n, sizeof(*g), cmp_u64);
		tr->req[i].off = (u64)(hit - g) * GRANULE +
				 tr->req[i].off % GRANULE;
	}
	free(g);
	tr->space = (u64)n * GRANULE;
	return 0;
}

/* splitmix64: the pseudo-traces' generator, seeded the same every time. */
static u64 rnd(u64 *x)
{
	u64 z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rnd01(u64 *x)
{
	return (rnd(x) >> 11) * (1.0 / 9007199254740992.0);
}

/* "zipf:MIB:THETA:WRITE_PCT[:REQUESTS]", see the head of this file. */
static int zipf_load(const char *spec, struct sim_trace *tr)
{
	double mib, theta, wpct, nreq = 100000, *cdf, sum = 0;
	u64 seed = 0x5eed2026, nblk, i, j, k, *perm;
	char tail;
	int n = sscanf(spec, "zipf:%lf:%lf:%lf:%lf%c", &mib, &theta, &wpct,
		       &nreq, &tail);

	if ((n != 3 && n != 4) || !(mib >= 1 && mib <= 1 << 20) ||
	    !(theta >= 0 && theta <= 10) || !(wpct >= 0 && wpct <= 100) ||
	    !(nreq >= 1 && nreq <= 1e8) || nreq != (u64)nreq)
		return -EINVAL;
	nblk = (u64)(mib * (1 << 20)) / SIM_BLOCK;
	if (!nblk)
		return -EINVAL;
	cdf = malloc(nblk * sizeof(*cdf));
	perm = malloc(nblk * sizeof(*perm));
	tr->req = malloc((size_t)nreq * sizeof(*tr->req));
	if (!cdf || !perm || !tr->req) {
		free(cdf);
		free(perm);
		sim_trace_free(tr);
		return -ENOMEM;
	}
	for (i = 0; i < nblk; i++) {
		sum += pow((double)(i + 1), -theta);
		cdf[i] = sum;
		perm[i] = i;
	}
	for (i = nblk - 1; i > 0; i--) {	/* rank -> block */
		j = rnd(&seed) % (i + 1);
		k = perm[i];
		perm[i] = perm[j];
		perm[j] = k;
	}
	for (tr->nreq = 0; tr->nreq < (size_t)nreq; tr->nreq++) {
		double u = rnd01(&seed) * sum;
		u64 lo = 0, hi = nblk - 1, mid;
		u32 len = 512 * (1 + rnd(&seed) % 4);

		while (lo < hi) {	/* the first rank whose cdf >= u */
			mid = (lo + hi) / 2;
			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		tr->req[tr->nreq] = (struct sim_req){
			.t_us = tr->nreq * 1000ull,
			.off = perm[lo] * SIM_BLOCK +
			       512 * (rnd(&seed) % ((SIM_BLOCK - len) / 512 + 1)),
			.len = len,
			.write = rnd01(&seed) * 100 < wpct,
		};
	}
	free(cdf);
	free(perm);
	tr->space = nblk * SIM_BLOCK;
	return 0;
}

int sim_trace_load(const char *path, struct sim_trace *tr)
{
	const char *base = strrchr(path, '/');
	int fmt, r;
	FILE *f;

	*tr = (struct sim_trace){ .name = base ? base + 1 : path };
	if (!strncmp(path, "zipf:", 5)) {
		tr->name = path;
		return zipf_load(path, tr);
	}
	if (!strncmp(path, "idle:", 5)) {
		double mib;
		char tail;

		tr->name = path;
		if (sscanf(path, "idle:%lf%c", &mib, &tail) != 1 ||
		    !(mib >= 1 && mib <= 1 << 20))
			return -EINVAL;
		tr->space = (u64)(mib * (1 << 20)) / SIM_BLOCK * SIM_BLOCK;
		return 0;
	}
	fmt = format_of(tr->name);
	if (fmt < 0)
		return -EPROTONOSUPPORT;
	f = fopen(path, "r");
	if (!f)
		return -errno;
	r = read_reqs(f, fmt, tr);
	fclose(f);
	if (!r)
		r = compact(tr);
	if (r)
		sim_trace_free(tr);
	return r;
}

/* A zipf: trace's spec, as sim's usage text gives it. */
#define ZIPF_SPEC "zipf:MIB:THETA:WRITE_PCT[:REQUESTS]"
/* This file's directory in the source tree, for the message that points here. */
#define SIM_SRC_DIR "bench/sim/"

/* Why sim_trace_load(@path) failed with @r, for a message. */
const char *sim_trace_error(const char *path, int r)
{
	if (r == -EPROTONOSUPPORT)
		return "unknown trace format (see " SIM_SRC_DIR "trace.c)";
	if (r == -EINVAL && !strncmp(path, "zipf:", 5))
		return "want " ZIPF_SPEC
		       " (MIB >= 1, THETA 0-10, WRITE_PCT 0-100, REQUESTS >= 1)";
	if (r == -EINVAL && !strncmp(path, "idle:", 5))
		return "want idle:MIB (MIB >= 1), and only with --mix";
	return strerror(-r);
}

void sim_trace_free(struct sim_trace *tr)
{
	free(tr->req);
	tr->req = NULL;
	tr->nreq = 0;
}

static int add_io(struct sim_run *run, size_t *cap, struct sim_io *io)
{
	if (run->nio == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8192;
		struct sim_io *p = realloc(run->io, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		run->io = p;
		*cap = ncap;
	}
	run->io[run->nio++] = *io;
	return 0;
}

/* Cut @r at unit boundaries, as dm cuts a bio at the target's max_io_len. */
static int cut(struct sim_run *run, size_t *cap, const struct sim_req *r,
	       u64 unit, u64 t_us, unsigned int pass)
{
	u64 pos = r->off, end = r->off + r->len, stop;
	struct sim_io io;

	for (; pos < end; pos = stop) {
		stop = (pos / unit + 1) * unit;
		if (stop > end)
			stop = end;
		io = (struct sim_io){
			.t_us = t_us, .block = pos / SIM_BLOCK,
			.nblocks = (stop - 1) / SIM_BLOCK - pos / SIM_BLOCK + 1,
			.sector = pos / 512, .sectors = (stop - pos) / 512,
			.write = r->write, .pass = pass,
		};
		if (add_io(run, cap, &io))
			return -ENOMEM;
	}
	return 0;
}

/*
 * Both passes of @tr cut into pieces; the warm pass starts one tick after
 * the cold pass's last request: time goes on, as in the benchmarks.
 */
int sim_run_build(const struct sim_trace *tr, u64 unit_bytes,
		  u32 tick_ms, struct sim_run *run)
{
	u64 shift = tr->req[tr->nreq - 1].t_us + tick_ms * 1000ull;
	unsigned int pass;
	size_t i, cap = 0;

	*run = (struct sim_run){
		.unit_blocks = unit_bytes / SIM_BLOCK,
		.nblocks = (tr->space + SIM_BLOCK - 1) / SIM_BLOCK,
		.nunits = (tr->space + unit_bytes - 1) / unit_bytes,
	};
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < tr->nreq; i++)
			if (cut(run, &cap, &tr->req[i], unit_bytes,
				tr->req[i].t_us + pass * shift, pass)) {
				sim_run_free(run);
				return -ENOMEM;
			}
	return 0;
}

void sim_run_free(struct sim_run *run)
{
	free(run->io);
	run->io = NULL;
	run->nio = 0;
}
