// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl's pure helpers (see hctl.h).  The formats parsed here are the
 * ones Documentation/dm-hybrid.rst documents; a line that does not match
 * is refused rather than half read.
 */
#include <ctype.h>
#include <errno.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hctl.h"

/* Each knob's place in DMH_KNOBS. */
#define HC_KNOB_INDEX(field, ...)	HC_KNOB_##field,
enum { DMH_KNOBS(HC_KNOB_INDEX) HC_NR_KNOBS };

/*
 * Its place among the status fields: the same, but one later from
 * promote_free_threshold on, after the migration backoffs field.
 */
#define HC_KNOB_NAME(field, name, ...)	\
	[HC_KNOB_##field + (HC_KNOB_##field >= HC_KNOB_promote_free)] = #name,

const char *const hc_knob_names[HC_NR_KNOBS + 1] = {
	DMH_KNOBS(HC_KNOB_NAME)
};

const u32 hc_nr_knob_names = ARRAY_SIZE(hc_knob_names);

int hc_parse_u64(const char *s, u64 *v)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

int hc_parse_size(const char *s, u64 *bytes)
{
	static const char units[] = "KMGTPE";
	u64 whole = 0, frac = 0, fdiv = 1, mul = 1;
	const char *p = s, *u;
	int c;

	if (!s || *s < '0' || *s > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (~0ull - 9) / 10)
			return -1;
		whole = whole * 10 + (u64)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (fdiv >= 1000000000ull)
				continue;	/* ignore digits beyond 1e-9 */
			frac = frac * 10 + (u64)(*p - '0');
			fdiv *= 10;
		}
	}
	if (*p == 's' && !p[1]) {
		mul = 512;
	} else if (*p) {
		c = toupper((unsigned char)*p);
		if (c == 'B' && !p[1])
			goto done;
		u = strchr(units, c);
		if (!u || !c)
			return -1;
		mul = 1ull << (10 * (u - units + 1));
		p++;
		if (!strcmp(p, "iB") || !strcmp(p, "B") || !strcmp(p, "b"))
			p += strlen(p);
		if (*p)
			return -1;
	}
done:
	if (whole > ~0ull / mul)
		return -1;
	*bytes = whole * mul;
	if (frac) {
		/* fraction of the unit, rounded up to a whole byte */
		u64 f = (u64)(((__uint128_t)frac * mul + fdiv - 1) / fdiv);

		if (*bytes > ~0ull - f)
			return -1;
		*bytes += f;
	}
	return 0;
}

char *hc_format_size(u64 bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	int i = -1;
	u64 div = 1;

	while (i < 5 && bytes >= div * 1024) {
		div *= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
	else if (bytes % div == 0)
		snprintf(buf, len, "%llu%c", (unsigned long long)(bytes / div),
			 units[i]);
	else
		snprintf(buf, len, "%.1f%c", (double)bytes / (double)div,
			 units[i]);
	return buf;
}

int hc_valid_name(const char *s)
{
	size_t i, n = strlen(s);
	int digits = 1;

	if (!n || n > HC_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && !strchr("_.+:@-", s[i]))
			return 0;
		if (!isdigit((unsigned char)s[i]))
			digits = 0;
	}
	/* "-" alone means "no name" in list_volumes and set_volume */
	return !digits && strcmp(s, "-");
}

/* Split @s (modified in place) at spaces; returns the field count. */
static u32 split(char *s, char **f, u32 max)
{
	u32 n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(s, " \t\n", &save); t && n < max;
	     t = strtok_r(NULL, " \t\n", &save))
		f[n++] = t;
	return t ? max + 1 : n;
}

static int ratio(const char *s, u64 *a, u64 *b)
{
	char x[64], *slash;

	if (strlen(s) >= sizeof(x))
		return -1;
	snprintf(x, sizeof(x), "%s", s);
	slash = strchr(x, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return hc_parse_u64(x, a) || hc_parse_u64(slash + 1, b) ? -1 : 0;
}

#define HC_MAX_FIELDS	64

/*
 * "<valid>/<slots> <fills> <hits>" after the knobs (the block tier), then
 * "<dirty blocks> <block writebacks>" since write staging, ssd_failed|-
 * since "A dying SSD", "<staging log blocks>/<staging log half>" since
 * persistent staging.  Fields a newer kernel adds, or a line without
 * these, parse as no tier (or no staging fields); an older kernel's line
 * ends after <hits>, <block writebacks> or ssd_failed|-.
 */
static void parse_block_fields(char **f, u32 n, struct hc_pool_status *s)
{
	u64 v[8];

	if (n < 3 || ratio(f[0], &v[0], &v[1]) || hc_parse_u64(f[1], &v[2]) ||
	    hc_parse_u64(f[2], &v[3]))
		return;
	s->blk_valid = v[0];
	s->blk_slots = v[1];
	s->blk_fills = v[2];
	s->blk_hits = v[3];
	if (n < 5 || hc_parse_u64(f[3], &v[4]) || hc_parse_u64(f[4], &v[5]))
		return;
	s->blk_staging = 1;
	s->blk_dirty = v[4];
	s->blk_writebacks = v[5];
	s->ssd_known = n > 5;
	s->ssd_failed = n > 5 && !strcmp(f[5], "ssd_failed");
	if (n < 7 || ratio(f[6], &v[6], &v[7]))
		return;
	s->slog_known = 1;
	s->slog_used = v[6];
	s->slog_half = v[7];
	if (n < 9 || (strcmp(f[7], "evacuating") && strcmp(f[7], "-")) ||
	    hc_parse_u64(f[8], &s->ssd_left))
		return;
	s->evac_known = 1;
	s->evacuating = !strcmp(f[7], "evacuating");
}

int hc_parse_pool_status(const char *params, struct hc_pool_status *s)
{
	char buf[1024], *f[HC_MAX_FIELDS];
	u64 *num[] = { &s->promotions, &s->demotions, &s->inflight };
	u32 n, i, k;

	memset(s, 0, sizeof(*s));
	if (strlen(params) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", params);
	n = split(buf, f, HC_MAX_FIELDS);
	if (n < 11 || n > HC_MAX_FIELDS)
		return -1;
	if (hc_parse_u64(f[0], &s->txid) ||
	    ratio(f[1], &s->md_used, &s->md_total) ||
	    hc_parse_u64(f[2], &s->chunk_sectors) ||
	    ratio(f[3], &s->used[0], &s->total[0]) ||
	    ratio(f[4], &s->used[1], &s->total[1]) ||
	    hc_parse_u64(f[5], &s->volumes))
		return -1;
	for (i = 0; i < 3; i++)
		if (hc_parse_u64(f[6 + i], num[i]))
			return -1;
	if (strcmp(f[9], "rw") && strcmp(f[9], "ro") && strcmp(f[9], "fail"))
		return -1;
	snprintf(s->mode, sizeof(s->mode), "%s", f[9]);
	{
		u64 nf;

		if (hc_parse_u64(f[10], &nf) || nf > 8 || 11 + nf + 13 > n)
			return -1;
		s->nr_features = (u32)nf;
	}
	for (i = 0; i < s->nr_features; i++) {
		if (strlen(s->features) + strlen(f[11 + i]) + 2 >
		    sizeof(s->features))
			return -1;
		if (i)
			strcat(s->features, " ");
		strcat(s->features, f[11 + i]);
	}
	k = 11 + s->nr_features;
	if (strcmp(f[k], "needs_check") && strcmp(f[k], "-"))
		return -1;
	s->needs_check = !strcmp(f[k], "needs_check");
	if (strcmp(f[k + 1], "out_of_space") && strcmp(f[k + 1], "-"))
		return -1;
	s->out_of_space = !strcmp(f[k + 1], "out_of_space");
	if (strcmp(f[k + 2], "on") && strcmp(f[k + 2], "off"))
		return -1;
	s->migration_on = !strcmp(f[k + 2], "on");
	if (hc_parse_u64(f[k + 3], &s->queued) ||
	    hc_parse_u64(f[k + 4], &s->done) ||
	    hc_parse_u64(f[k + 5], &s->moved))
		return -1;
	/* the knobs: seven documented, later kernels may add more */
	for (i = k + 6; i < n && s->nr_knobs < hc_nr_knob_names; i++) {
		if (s->nr_knobs >= HC_MAX_KNOBS ||
		    hc_parse_u64(f[i], &s->knobs[s->nr_knobs]))
			return -1;
		s->nr_knobs++;
	}
	if (s->nr_knobs < 7)
		return -1;
	parse_block_fields(f + i, n - i, s);
	return 0;
}

int hc_pool_has_feature(const struct hc_pool_status *s, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	/* a whole word: "block_tier 64 write_staging" */
	for (p = strstr(s->features, name); p; p = strstr(p + 1, name))
		if ((p == s->features || p[-1] == ' ') &&
		    (!p[n] || p[n] == ' '))
			return 1;
	return 0;
}

/*
 * What follows <priority>: nothing before the block tier, then <block
 * hits>, then "<staged writes> <dirty blocks>" since write staging, then
 * <block slots> since the volumes share the tier, then "<hot chunks>
 * <chunks due>" since they share the chunk tier.  A newer kernel's fields
 * after those are ignored; a pair cut in half is refused.
 */
static int parse_vol_block_fields(char **f, u32 n, struct hc_vol_status *s)
{
	if (n == 2 || n == 5 || (n && hc_parse_u64(f[0], &s->block_hits)))
		return -1;
	if (n < 3)
		return 0;
	if (hc_parse_u64(f[1], &s->staged_writes) ||
	    hc_parse_u64(f[2], &s->dirty_blocks))
		return -1;
	s->staging = 1;
	if (n < 4)
		return 0;
	if (hc_parse_u64(f[3], &s->block_slots))
		return -1;
	s->slots_known = 1;
	if (n < 6)
		return 0;
	if (hc_parse_u64(f[4], &s->hot_chunks) ||
	    hc_parse_u64(f[5], &s->chunks_due))
		return -1;
	s->shares_known = 1;
	return 0;
}

int hc_parse_vol_status(const char *params, struct hc_vol_status *s)
{
	char buf[1024], *f[HC_MAX_FIELDS], *h, *save = NULL;
	u64 *num[] = { &s->mapped, &s->ssd, &s->hdd, &s->rios, &s->wios,
		       &s->rsec, &s->wsec, &s->ssd_ios, &s->hdd_ios,
		       &s->prom, &s->dem, &s->seq };
	u32 n, i;

	memset(s, 0, sizeof(*s));
	if (strlen(params) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", params);
	n = split(buf, f, HC_MAX_FIELDS);
	if (n < 17 || n > HC_MAX_FIELDS ||
	    parse_vol_block_fields(f + 17, n - 17, s))
		return -1;
	for (i = 0; i < 12; i++)
		if (hc_parse_u64(f[i], num[i]))
			return -1;
	for (i = 0, h = strtok_r(f[12], "-", &save); h && i < 6;
	     i++, h = strtok_r(NULL, "-", &save))
		if (hc_parse_u64(h, &s->hist[i]))
			return -1;
	if (i != 6 || h)
		return -1;
	if (hc_parse_u64(f[13], &s->weight) ||
	    hc_parse_u64(f[14], &s->ssd_min) ||
	    hc_parse_u64(f[15], &s->ssd_max) || strlen(f[16]) >= 8)
		return -1;
	snprintf(s->prio, sizeof(s->prio), "%s", f[16]);
	return 0;
}

static int parse_devt(const char *s)
{
	unsigned int a, b;
	char c;

	return sscanf(s, "%u:%u%c", &a, &b, &c) == 2 ? 0 : -1;
}

int hc_parse_pool_table(const char *params, struct hc_pool_table *t)
{
	char buf[512], *f[16];
	u64 nf;
	u32 n, i;

	memset(t, 0, sizeof(*t));
	if (strlen(params) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", params);
	n = split(buf, f, 16);
	if (n < 4 || n > 16)
		return -1;
	for (i = 0; i < 3; i++) {
		if (parse_devt(f[i]) || strlen(f[i]) >= sizeof(t->dev[i]))
			return -1;
		snprintf(t->dev[i], sizeof(t->dev[i]), "%s", f[i]);
	}
	if (hc_parse_u64(f[3], &t->chunk_sectors))
		return -1;
	if (n == 4)
		return 0;
	if (hc_parse_u64(f[4], &nf) || 5 + nf != n)
		return -1;
	for (i = 5; i < n; i++) {
		if (strlen(t->features) + strlen(f[i]) + 2 > sizeof(t->features))
			return -1;
		if (i > 5)
			strcat(t->features, " ");
		strcat(t->features, f[i]);
	}
	return 0;
}

/*
 * The pool table @params with its SSD (the second field) replaced by @ssd,
 * every other byte kept: what a reload onto a new SSD loads.
 */
int hc_pool_table_set_ssd(const char *params, const char *ssd, char *buf,
			  size_t len)
{
	struct hc_pool_table t;
	const char *a, *b;

	if (!*ssd || strpbrk(ssd, " \t\n") || hc_parse_pool_table(params, &t))
		return -1;
	a = params + strspn(params, " \t");
	a += strcspn(a, " \t");
	a += strspn(a, " \t");		/* the SSD field */
	b = a + strcspn(a, " \t");
	return snprintf(buf, len, "%.*s%s%s", (int)(a - params), params, ssd,
			b) >= (int)len ? -1 : 0;
}

int hc_parse_vol_table(const char *params, char *pool_dev, size_t len,
		       u32 *id)
{
	char buf[128], *f[4];
	u64 v;

	if (strlen(params) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", params);
	if (split(buf, f, 4) != 2 || parse_devt(f[0]) ||
	    hc_parse_u64(f[1], &v) || v > DMH_VOLUME_ID_MAX ||
	    strlen(f[0]) >= len)
		return -1;
	snprintf(pool_dev, len, "%s", f[0]);
	*id = (u32)v;
	return 0;
}

static int parse_vol_line(char *line, struct hc_vol_info *v)
{
	char *f[16];
	u64 id;

	memset(v, 0, sizeof(*v));
	if (split(line, f, 16) != 11)
		return -1;
	if (hc_parse_u64(f[0], &id) || id > DMH_VOLUME_ID_MAX ||
	    hc_parse_u64(f[1], &v->size) || hc_parse_u64(f[3], &v->weight) ||
	    strlen(f[4]) >= sizeof(v->prio) ||
	    hc_parse_u64(f[5], &v->ssd_min) || hc_parse_u64(f[6], &v->ssd_max) ||
	    hc_parse_u64(f[7], &v->open) || hc_parse_u64(f[8], &v->mapped) ||
	    hc_parse_u64(f[9], &v->ssd) || hc_parse_u64(f[10], &v->hdd))
		return -1;
	v->id = (u32)id;
	if (strcmp(f[2], "-")) {
		if (strlen(f[2]) > HC_NAME_MAX)
			return -1;
		snprintf(v->name, sizeof(v->name), "%s", f[2]);
	}
	snprintf(v->prio, sizeof(v->prio), "%s", f[4]);
	return 0;
}

int hc_parse_volume_list(const char *text, struct hc_vol_info **out, u32 *n)
{
	char *copy, *line, *save = NULL;
	struct hc_vol_info *v = NULL, *nv;
	u32 cnt = 0;
	int r = 0;

	*out = NULL;
	*n = 0;
	copy = strdup(text ? text : "");
	if (!copy)
		return -1;
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!line[strspn(line, " \t\r")])
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv) {
			r = -1;
			break;
		}
		v = nv;
		if (parse_vol_line(line, &v[cnt])) {
			r = -1;
			break;
		}
		cnt++;
	}
	free(copy);
	if (r) {
		free(v);
		return r;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int hc_parse_pmap(char *buf, struct hc_pmap *m)
{
	char *f[8];
	u32 n;
	size_t len;

	memset(m, 0, sizeof(*m));
	n = split(buf, f, 8);
	if (n != 5 || strncmp(f[0], "chunks=", 7) || strncmp(f[1], "ssd=", 4) ||
	    strncmp(f[2], "hdd=", 4) || strncmp(f[3], "tiers=", 6) ||
	    strncmp(f[4], "heat=", 5))
		return -1;
	if (hc_parse_u64(f[0] + 7, &m->chunks) ||
	    hc_parse_u64(f[1] + 4, &m->ssd) || hc_parse_u64(f[2] + 4, &m->hdd))
		return -1;
	m->tiers = f[3] + 6;
	m->heat = f[4] + 5;
	len = strlen(m->tiers);
	if (len != strlen(m->heat) || strspn(m->tiers, ".hsS") != len ||
	    strspn(m->heat, "0123456789abcdef") != len)
		return -1;
	m->buckets = (u32)len;
	return 0;
}

static int on_ssd(char t)
{
	return t == 'S' || t == 's';
}

u32 hc_pmap_ssd_runs(const struct hc_pmap *m, struct hc_run *out, u32 max)
{
	u32 b, n = 0;
	u64 lo, hi;

	for (b = 0; b < m->buckets; b++) {
		if (!on_ssd(m->tiers[b]))
			continue;
		/* bucket b holds chunks [lo, hi), as the kernel cuts them */
		lo = m->chunks * b / m->buckets;
		hi = m->chunks * (b + 1) / m->buckets;
		if (!b || !on_ssd(m->tiers[b - 1])) {
			if (n < max)
				out[n] = (struct hc_run){ lo, hi, 0 };
			n++;
		}
		if (n <= max) {
			out[n - 1].end = hi;
			out[n - 1].partly |= m->tiers[b] == 's';
		}
	}
	return n;
}

int hc_tab_parse(const char *line, struct hc_tab *t, char *why, size_t len)
{
	char buf[1024], *f[8], *opt, *save = NULL;
	u32 n;
	u64 b;

	memset(t, 0, sizeof(*t));
	t->chunk_sectors = DMH_CHUNK_SECTORS_DEF;
	if (strlen(line) >= sizeof(buf)) {
		snprintf(why, len, "the line is too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", line);
	if (strchr(buf, '#'))
		*strchr(buf, '#') = '\0';
	n = split(buf, f, 8);
	if (!n)
		return 0;
	if (n < 4 || n > 5) {
		snprintf(why, len,
			 "expected \"<pool> <metadata dev> <ssd dev> <hdd dev> [<options>]\"");
		return -1;
	}
	if (strlen(f[0]) >= sizeof(t->name) || strchr(f[0], '/') ||
	    !hc_valid_name(f[0])) {
		snprintf(why, len, "\"%s\" is not a valid pool name", f[0]);
		return -1;
	}
	snprintf(t->name, sizeof(t->name), "%s", f[0]);
	if (strlen(f[1]) >= sizeof(t->meta) || strlen(f[2]) >= sizeof(t->ssd) ||
	    strlen(f[3]) >= sizeof(t->hdd)) {
		snprintf(why, len, "a device path is too long");
		return -1;
	}
	snprintf(t->meta, sizeof(t->meta), "%s", f[1]);
	snprintf(t->ssd, sizeof(t->ssd), "%s", f[2]);
	snprintf(t->hdd, sizeof(t->hdd), "%s", f[3]);
	if (n < 5 || !strcmp(f[4], "-") || !strcmp(f[4], "defaults"))
		return 1;
	for (opt = strtok_r(f[4], ",", &save); opt;
	     opt = strtok_r(NULL, ",", &save)) {
		if (!strncmp(opt, "chunk=", 6)) {
			if (hc_parse_size(opt + 6, &b) || b % 512 ||
			    b / 512 < DMH_CHUNK_SECTORS_MIN ||
			    b / 512 > DMH_CHUNK_SECTORS_MAX ||
			    (b / 512 & (b / 512 - 1))) {
				snprintf(why, len,
					 "chunk size \"%s\" is not a power of two from 64K to 64M",
					 opt + 6);
				return -1;
			}
			t->chunk_sectors = b / 512;
		} else if (!strcmp(opt, "error_if_no_space")) {
			t->error_if_no_space = 1;
		} else if (!strcmp(opt, "no_discard_passdown")) {
			t->no_discard_passdown = 1;
		} else if (!strcmp(opt, "read_only")) {
			t->read_only = 1;
		} else if (!strcmp(opt, "noauto")) {
			t->noauto = 1;
		} else if (!strncmp(opt, "block_tier=", 11)) {
			if (hc_parse_block_tier(opt + 11, &t->block_tier)) {
				snprintf(why, len,
					 "block tier size \"%s\" is not a whole number of MiB from 1M to 16G",
					 opt + 11);
				return -1;
			}
		} else if (!strcmp(opt, "write_staging")) {
			t->write_staging = 1;
		} else if (!strcmp(opt, "persistent_staging")) {
			t->persistent_staging = 1;
		} else {
			snprintf(why, len, "unknown option \"%s\"", opt);
			return -1;
		}
	}
	if ((t->write_staging || t->persistent_staging) && !t->block_tier) {
		snprintf(why, len, "%s needs block_tier=<size>",
			 t->write_staging ? "write_staging" : "persistent_staging");
		return -1;
	}
	return 1;
}

int hc_parse_block_tier(const char *s, u32 *mib)
{
	u64 b;

	if (hc_parse_size(s, &b) || !b || b % (1 << 20) ||
	    b >> 20 > HC_BLOCK_TIER_MAX_MIB)
		return -1;
	*mib = (u32)(b >> 20);
	return 0;
}

int hc_tab_format(const struct hc_tab *t, char *buf, size_t len)
{
	char cs[32], bt[32] = "";
	int n;

	hc_format_size(t->chunk_sectors * 512, cs, sizeof(cs));
	/* in MiB: hc_format_size() would round 1537M to 1.5G */
	if (t->block_tier)
		snprintf(bt, sizeof(bt), ",block_tier=%uM", t->block_tier);
	n = snprintf(buf, len, "%s\t%s\t%s\t%s\tchunk=%s%s%s%s%s%s%s%s\n",
		     t->name, t->meta, t->ssd, t->hdd, cs,
		     t->error_if_no_space ? ",error_if_no_space" : "",
		     t->no_discard_passdown ? ",no_discard_passdown" : "",
		     t->read_only ? ",read_only" : "", bt,
		     t->write_staging ? ",write_staging" : "",
		     t->persistent_staging ? ",persistent_staging" : "",
		     t->noauto ? ",noauto" : "");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* In the order the kernel prints them, so the table reads back the same. */
void hc_tab_features(const struct hc_tab *t, char *buf, size_t len)
{
	int n = !!t->error_if_no_space + !!t->no_discard_passdown +
		!!t->read_only + 2 * !!t->block_tier + !!t->write_staging +
		!!t->persistent_staging;
	char bt[32] = "";

	if (t->block_tier)
		snprintf(bt, sizeof(bt), " block_tier %u", t->block_tier);
	snprintf(buf, len, "%d%s%s%s%s%s%s", n,
		 t->no_discard_passdown ? " no_discard_passdown" : "",
		 t->read_only ? " read_only" : "",
		 t->error_if_no_space ? " error_if_no_space" : "", bt,
		 t->write_staging ? " write_staging" : "",
		 t->persistent_staging ? " persistent_staging" : "");
}

static u64 delta(u64 a, u64 b)
{
	return b >= a ? b - a : 0;	/* counters restart on reload */
}

void hc_stats_compute(const struct hc_vol_status *a,
		      const struct hc_vol_status *b, double secs,
		      u64 chunk_sectors, struct hc_stats *st)
{
	u64 r = delta(a->rios, b->rios), w = delta(a->wios, b->wios);
	u64 sec = delta(a->rsec, b->rsec) + delta(a->wsec, b->wsec);
	u64 ssd = delta(a->ssd_ios, b->ssd_ios), hdd = delta(a->hdd_ios, b->hdd_ios);
	u64 seq = delta(a->seq, b->seq);

	memset(st, 0, sizeof(*st));
	if (secs <= 0)
		secs = 1;
	st->iops = (double)(r + w) / secs;
	st->mibs = (double)sec * 512.0 / 1048576.0 / secs;
	if (r + w) {
		st->read_pct = 100.0 * (double)r / (double)(r + w);
		st->req_kib = (double)sec / 2.0 / (double)(r + w);
		st->seq_pct = 100.0 * (double)seq / (double)(r + w);
	}
	st->residency_pct = b->mapped ? 100.0 * (double)b->ssd / (double)b->mapped : 0;
	st->hit_pct = ssd + hdd ? 100.0 * (double)ssd / (double)(ssd + hdd) : -1;
	st->ssd_bytes = b->ssd * chunk_sectors * 512;
	st->prom = b->prom;
	st->dem = b->dem;
	st->block_hits = delta(a->block_hits, b->block_hits);
	st->staging = b->staging;
	st->staged = delta(a->staged_writes, b->staged_writes);
	st->dirty_bytes = b->dirty_blocks * HC_BLOCK_BYTES;
	st->slots_known = b->slots_known;
	st->slot_bytes = b->block_slots * HC_BLOCK_BYTES;
}

void hc_json_init(struct hc_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* The separator and key before a value at the current level. */
static void json_key(struct hc_json *j, const char *key)
{
	int in_array = j->depth && j->close[j->depth - 1] == ']';

	if (j->depth && j->count[j->depth - 1]++)
		fputc(',', j->f);
	if (in_array && !j->one_line)
		fputc('\n', j->f);
	else if (j->depth && j->count[j->depth - 1] > 1)
		fputc(' ', j->f);
	if (key)
		fprintf(j->f, "\"%s\": ", key);
}

void hc_json_open(struct hc_json *j, const char *key, char brace)
{
	json_key(j, key);
	fputc(brace, j->f);
	if (j->depth < HC_JSON_DEPTH) {
		j->close[j->depth] = brace == '{' ? '}' : ']';
		j->count[j->depth++] = 0;
	}
}

void hc_json_close(struct hc_json *j)
{
	if (!j->depth)
		return;
	j->depth--;
	if (j->close[j->depth] == ']' && !j->one_line)
		fputc('\n', j->f);
	fputc(j->close[j->depth], j->f);
	if (!j->depth)
		fputc('\n', j->f);
}

void hc_json_str(struct hc_json *j, const char *key, const char *s)
{
	json_key(j, key);
	if (!s) {
		fputs("null", j->f);
		return;
	}
	fputc('"', j->f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(j->f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(j->f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, j->f);
	}
	fputc('"', j->f);
}

void hc_json_u64(struct hc_json *j, const char *key, u64 v)
{
	json_key(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void hc_json_u64_known(struct hc_json *j, const char *key, u64 v, int known)
{
	if (known)
		hc_json_u64(j, key, v);
	else
		hc_json_str(j, key, NULL);
}

void hc_json_bool(struct hc_json *j, const char *key, int v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

void hc_json_num(struct hc_json *j, const char *key, double v, int prec,
		 int null_neg)
{
	json_key(j, key);
	if (null_neg && v < 0)
		fputs("null", j->f);
	else
		fprintf(j->f, "%.*f", prec, v);
}

u64 hc_activation_bytes(const struct dmh_disk_super *s)
{
	u64 blocks = 2 + 2 * le64toh(s->vt_blocks) + le64toh(s->heat_blocks);
	int t;

	for (t = 0; t < DMH_NR_TIERS; t++)
		blocks += 2 * le64toh(s->rmap_blocks[t]);
	if (le64toh(s->slog_blocks))
		blocks += le64toh(s->slog_used);
	return blocks * DMH_BLOCK_SIZE;
}

int hc_stat_sectors_read(const char *line, u64 *sectors)
{
	unsigned long long ios, merges, sect;

	if (sscanf(line, "%llu %llu %llu", &ios, &merges, &sect) != 3)
		return -1;
	*sectors = sect;
	return 0;
}
