// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybrid_restore - write dm-hybrid metadata from a hybrid_dump(8) text.
 *
 * The image written is one committed transaction (the dump's txid): the
 * superblock in slot txid & 1, every volume table and reverse map block in
 * slot txid & 1 stamped with txid, every heat block, the staging log's
 * live blocks as the dump's slogrec lines give them, and zeroes elsewhere.
 * The dump is checked like hybrid_check would before anything is written;
 * --force writes inconsistent metadata anyway (for tests and forensics).
 *
 * Exit status: 0 written, 1 invalid dump, 2 bad usage, 3 I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hctl.h"
#include "md.h"
#include "md_tool.h"

#define MAX_FIELDS	32

static const char *prog = "hybrid_restore";

struct field {
	char *key;
	char *val;
	int used;
};

struct line {
	const char *file;
	unsigned long nr;
	char *type;
	struct field f[MAX_FIELDS];
	int n;
};

struct dump {
	struct md_super sb;
	int have_super;
	int have_layout;
	int have_tunables;
	int have_slog;
};

static void print_help(FILE *f)
{
	fprintf(f,
		"Usage: %s -i DUMP -o METADATA_DEV [--md-blocks N] [--force] [--json]\n"
		"Write dm-hybrid metadata described by a hybrid_dump text.\n\n"
		"  -i, --input FILE    the dump (\"-\" for standard input)\n"
		"  -o, --output DEV    metadata device or image file to write\n"
		"  -m, --md-blocks N   metadata size in 4 KiB blocks (default: the\n"
		"                      device size, or the dump's md_blocks for files)\n"
		"  -f, --force         write even if the dump is inconsistent\n"
		"  -q, --quiet         print nothing but errors\n"
		"      --json          what was written as one JSON object\n"
		"  -h, --help          show this help\n\n"
		"Exit status: 0 written, 1 invalid dump, 2 bad usage, 3 I/O error.\n",
		prog);
}

__printf(2, 3)
static int bad(const struct line *l, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s:%lu: ", prog, l->file, l->nr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static int split(char *s, struct line *l)
{
	char *tok, *eq, *save = NULL;

	l->n = 0;
	l->type = strtok_r(s, " \t\r\n", &save);
	while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
		eq = strchr(tok, '=');
		if (!eq)
			return bad(l, "field \"%s\" is not key=value", tok);
		if (l->n == MAX_FIELDS)
			return bad(l, "too many fields");
		*eq = '\0';
		l->f[l->n].key = tok;
		l->f[l->n].val = eq + 1;
		l->f[l->n++].used = 0;
	}
	return 0;
}

static const char *get(struct line *l, const char *key)
{
	int i;

	for (i = 0; i < l->n; i++) {
		if (!strcmp(l->f[i].key, key)) {
			l->f[i].used = 1;
			return l->f[i].val;
		}
	}
	return NULL;
}

static int parse_u64(const char *s, u64 *v)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return (errno || *end) ? -1 : 0;
}

static int num(struct line *l, const char *key, u64 max, u64 *v)
{
	const char *s = get(l, key);

	if (!s)
		return bad(l, "missing field %s=", key);
	if (parse_u64(s, v) || *v > max)
		return bad(l, "%s=%s is not a number in 0..%llu", key, s,
			   (unsigned long long)max);
	return 0;
}

static int num32(struct line *l, const char *key, u32 *v)
{
	u64 x;

	if (num(l, key, 0xffffffffu, &x))
		return -1;
	*v = x;
	return 0;
}

static int all_used(const struct line *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (!l->f[i].used)
			return bad(l, "unknown field \"%s\" in %s line",
				   l->f[i].key, l->type);
	return 0;
}

static int tier_of(struct line *l, int *t)
{
	const char *s = get(l, "tier");

	for (*t = 0; s && *t < DMH_NR_TIERS; (*t)++)
		if (!strcmp(s, md_tier_name[*t]))
			return 0;
	return bad(l, "tier= must be ssd or hdd");
}

/*
 * "tunables": flags= and tunableK= are raw words; a named tunable is its
 * value (stored as value + 1) or "default" (stored as 0).  A field left
 * out is 0, i.e. the default.
 */
static int parse_tunables(struct line *l, u32 *tun)
{
	char key[32];
	const char *s;
	int i;
	u64 v;

	memset(tun, 0, DMH_NR_TUNABLES * sizeof(*tun));
	for (i = 0; i < DMH_NR_TUNABLES; i++) {
		if (md_tunable_name[i])
			snprintf(key, sizeof(key), "%s", md_tunable_name[i]);
		else
			snprintf(key, sizeof(key), "tunable%d", i);
		s = get(l, key);
		if (!s)
			continue;
		if (i == DMH_TUN_FLAGS || !md_tunable_name[i]) {
			if (num32(l, key, &tun[i]))
				return -1;
		} else if (!strcmp(s, "default")) {
			tun[i] = 0;
		} else {
			if (num(l, key, 0xfffffffeu, &v))
				return -1;
			tun[i] = v + 1;
		}
	}
	return all_used(l);
}

static int parse_super(struct line *l, struct md_super *s)
{
	const char *uuid = get(l, "uuid");
	u64 chunk;

	memset(s, 0, sizeof(*s));
	s->block_size = DMH_BLOCK_SIZE;
	if (!uuid || md_parse_uuid(uuid, s->uuid))
		return bad(l, "uuid= is missing or not 32 hex digits");
	if (num(l, "txid", ~0ull, &s->txid) || num32(l, "flags", &s->flags) ||
	    num(l, "chunk_sectors", DMH_CHUNK_SECTORS_MAX, &chunk) ||
	    num(l, "md_blocks", ~0ull, &s->md_blocks) ||
	    num(l, "ssd_sectors", ~0ull, &s->ssd_sectors) ||
	    num(l, "hdd_sectors", ~0ull, &s->hdd_sectors) ||
	    num(l, "promotions", ~0ull, &s->promotions) ||
	    num(l, "demotions", ~0ull, &s->demotions))
		return -1;
	s->chunk_sectors = chunk;
	if (chunk < DMH_CHUNK_SECTORS_MIN || (chunk & (chunk - 1)))
		return bad(l, "chunk_sectors=%llu is not a power of two in [%u, %u]",
			   (unsigned long long)chunk, DMH_CHUNK_SECTORS_MIN,
			   DMH_CHUNK_SECTORS_MAX);
	return all_used(l);
}

static int parse_layout(struct line *l, struct dmh_layout *lay)
{
	if (num(l, "vt_start", ~0ull, &lay->vt_start) ||
	    num(l, "vt_blocks", ~0ull, &lay->vt_blocks) ||
	    num(l, "ssd_rmap_start", ~0ull, &lay->rmap_start[0]) ||
	    num(l, "ssd_rmap_blocks", ~0ull, &lay->rmap_blocks[0]) ||
	    num(l, "hdd_rmap_start", ~0ull, &lay->rmap_start[1]) ||
	    num(l, "hdd_rmap_blocks", ~0ull, &lay->rmap_blocks[1]) ||
	    num(l, "heat_start", ~0ull, &lay->heat_start) ||
	    num(l, "heat_blocks", ~0ull, &lay->heat_blocks))
		return -1;
	/* a dump older than the staging log has no log */
	lay->slog_start = 0;
	lay->slog_blocks = 0;
	if ((get(l, "slog_start") &&
	     num(l, "slog_start", ~0ull, &lay->slog_start)) ||
	    (get(l, "slog_blocks") &&
	     num(l, "slog_blocks", ~0ull, &lay->slog_blocks)))
		return -1;
	return all_used(l);
}

/* The staging log's state: "slog half= used= base=". */
static int parse_slog(struct line *l, struct md_super *sb)
{
	if (num32(l, "half", &sb->slog_half) ||
	    num(l, "used", ~0ull, &sb->slog_used) ||
	    num(l, "base", ~0ull, &sb->slog_base))
		return -1;
	return all_used(l);
}

/* One record of the live log, in log order. */
static int parse_slogrec(struct line *l, struct md_image *img)
{
	struct md_slog_rec x = { .reserved = 0 };
	struct md_slog *sl = &img->slog;
	const struct md_slog_rec *prev;
	u64 blk, vol, vblock;

	if (num(l, "block", 0xffffffffu, &blk) ||
	    num(l, "txid", ~0ull, &x.txid) ||
	    num(l, "vol", DMH_VOLUME_ID_MAX, &vol) ||
	    num(l, "vblock", DMH_SLOG_BLOCK_MASK, &vblock) ||
	    num(l, "where", ~0ull, &x.where) ||
	    num32(l, "sectors", &x.sectors) ||
	    (get(l, "reserved") && num32(l, "reserved", &x.reserved)) ||
	    all_used(l))
		return -1;
	prev = sl->nrec ? &sl->rec[sl->nrec - 1] : NULL;
	if (prev && blk < prev->blk)
		return bad(l, "slogrec block=%llu after block=%u: records go in log order",
			   (unsigned long long)blk, prev->blk);
	if (prev && blk == prev->blk && x.txid != prev->txid)
		return bad(l, "slogrec txid=%llu differs from txid=%llu of its block",
			   (unsigned long long)x.txid,
			   (unsigned long long)prev->txid);
	x.key = vol << DMH_SLOG_VOL_SHIFT | vblock;
	x.blk = blk;
	if (md_slog_add(img, &x))
		return bad(l, "out of memory");
	return 0;
}

/*
 * The log's blocks from its records, once the superblock is final: a block
 * of the live half without records, or stamped outside (slog_base, txid],
 * is a damaged block for md_check() to report.
 */
static int finish_slog(struct line *l, struct md_image *img)
{
	struct md_slog *sl = &img->slog;
	const char *why = md_slog_state_fault(&img->sb, 0);
	struct md_slog_blk *bl;
	u64 prev = 0;
	u32 j, k;

	if (why)
		return bad(l, "inconsistent staging log state: %s", why);
	sl->first = md_slog_first(&img->sb);
	sl->nblk = img->sb.slog_used;
	sl->blk = calloc(sl->nblk + 1, sizeof(*sl->blk));
	if (!sl->blk)
		return bad(l, "out of memory");
	for (k = 0; k < sl->nrec; k++) {
		if (sl->rec[k].blk >= sl->nblk)
			return bad(l, "slogrec block=%u is past the used=%u blocks of the log",
				   sl->rec[k].blk, sl->nblk);
		bl = &sl->blk[sl->rec[k].blk];
		if (bl->count++ == DMH_SLOG_PER_BLOCK)
			return bad(l, "log block %u has more than the %u records a block holds",
				   sl->rec[k].blk, DMH_SLOG_PER_BLOCK);
		bl->txid = sl->rec[k].txid;
	}
	for (j = 0; j < sl->nblk; j++) {
		bl = &sl->blk[j];
		bl->why = bl->count ? md_slog_txid_fault(&img->sb, bl->txid, prev) :
				      "has no records in the dump";
		prev = bl->count ? bl->txid : prev;
	}
	sl->dirty = 1;
	return 0;
}

/* The byte that the two hex digits at @s spell, or -1. */
static int hex_byte(const char *s)
{
	char two[3] = { s[0], s[0] ? s[1] : 0, 0 };

	if (!isxdigit((unsigned char)two[0]) || !isxdigit((unsigned char)two[1]))
		return -1;
	return (int)strtoul(two, NULL, 16);
}

static int parse_name(struct line *l, u8 *name)
{
	const char *s = get(l, "name");
	int n = 0, b;

	memset(name, 0, DMH_NAME_LEN);
	if (!s)
		return bad(l, "missing field name=");
	while (*s) {
		if (n == DMH_NAME_LEN)
			return bad(l, "name is longer than %d bytes",
				   DMH_NAME_LEN);
		if (*s == '%') {
			b = hex_byte(s + 1);
			if (b < 0)
				return bad(l, "bad %%XX escape in name");
			name[n++] = (u8)b;
			s += 3;
		} else {
			name[n++] = *s++;
		}
	}
	return 0;
}

static int free_slot(const struct md_image *img)
{
	u32 slot, i;

	for (slot = 0; slot < DMH_MAX_VOLUMES; slot++) {
		for (i = 0; i < img->nr_vols; i++)
			if (img->vols[i].slot == slot)
				break;
		if (i == img->nr_vols)
			return slot;
	}
	return -1;
}

static int parse_volume(struct line *l, struct md_image *img)
{
	struct md_volume v;
	u64 x;
	int rc;

	memset(&v, 0, sizeof(v));
	if (get(l, "slot")) {
		if (num(l, "slot", DMH_MAX_VOLUMES - 1, &x))
			return -1;
		v.slot = x;
	} else {
		rc = free_slot(img);
		if (rc < 0)
			return bad(l, "more than %u volumes", DMH_MAX_VOLUMES);
		v.slot = rc;
	}
	if (num32(l, "id", &v.id) || num32(l, "flags", &v.flags) ||
	    num(l, "size_sectors", ~0ull, &v.size_sectors) ||
	    num32(l, "weight", &v.weight) ||
	    num32(l, "priority", &v.priority) ||
	    num(l, "ssd_min", ~0ull, &v.ssd_min) ||
	    num(l, "ssd_max", ~0ull, &v.ssd_max) ||
	    parse_name(l, v.name) || all_used(l))
		return -1;
	rc = md_put_volume(img, &v);
	if (rc == -EEXIST)
		return bad(l, "volume table slot %u is used twice", v.slot);
	if (rc)
		return bad(l, "cannot store volume: %s", strerror(-rc));
	return 0;
}

/* A pin's tier: ssd, hdd, or the raw number of a damaged record. */
static int pin_tier_of(struct line *l, u32 *tier)
{
	const char *s = get(l, "tier");
	u64 v;

	if (s && !strcmp(s, "ssd"))
		*tier = DMH_PIN_SSD;
	else if (s && !strcmp(s, "hdd"))
		*tier = DMH_PIN_HDD;
	else if (s && !parse_u64(s, &v) && v <= 0xffffffffu)
		*tier = v;
	else
		return bad(l, "tier= must be ssd or hdd");
	return 0;
}

static int parse_pin(struct line *l, struct md_super *sb)
{
	struct md_pin p;

	if (num32(l, "vol", &p.vol) || pin_tier_of(l, &p.tier) ||
	    num(l, "start", ~0ull, &p.start) ||
	    num(l, "end", ~0ull, &p.end) || all_used(l))
		return -1;
	if (sb->nr_pins >= DMH_MAX_PINS)
		return bad(l, "more than %u pins", DMH_MAX_PINS);
	sb->pins[sb->nr_pins++] = p;
	return 0;
}

static int parse_map(struct line *l, struct md_image *img)
{
	u64 vol, vc, p, len, k;
	int t;

	if (num(l, "vol", DMH_VOLUME_ID_MAX, &vol) ||
	    num(l, "vchunk", DMH_VCHUNK_MAX, &vc) || tier_of(l, &t) ||
	    num(l, "pchunk", ~0ull, &p) || num(l, "len", ~0ull, &len) ||
	    all_used(l))
		return -1;
	if (!len || p >= img->cap[t] || len > img->cap[t] - p)
		return bad(l, "%s chunks %llu+%llu do not fit the reverse map (%llu entries)",
			   md_tier_name[t], (unsigned long long)p,
			   (unsigned long long)len,
			   (unsigned long long)img->cap[t]);
	if (len - 1 > DMH_VCHUNK_MAX - vc)
		return bad(l, "virtual chunks overflow");
	for (k = 0; k < len; k++) {
		if (md_rmap_get(img, t, p + k))
			return bad(l, "%s chunk %llu has two owners in the dump",
				   md_tier_name[t],
				   (unsigned long long)(p + k));
		md_rmap_set(img, t, p + k, dmh_rmap_pack(vol, vc + k));
	}
	return 0;
}

static int parse_heat(struct line *l, struct md_image *img)
{
	const char *s;
	char *end;
	u64 p, v;
	int t;

	if (tier_of(l, &t) || num(l, "pchunk", ~0ull, &p))
		return -1;
	s = get(l, "values");
	if (!s || !*s)
		return bad(l, "missing field values=");
	if (all_used(l))
		return -1;
	while (*s) {
		if (p >= img->cap[t])
			return bad(l, "heat beyond the %s reverse map",
				   md_tier_name[t]);
		errno = 0;
		v = *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 256;
		if (errno || v > 255 || (*end && *end != ','))
			return bad(l, "values= must be numbers 0..255 separated by commas");
		md_heat_set(img, t, p++, v);
		s = *end ? end + 1 : end;
	}
	return 0;
}

/* Decide md_blocks and the layout, then allocate the in-memory image. */
static int setup_image(struct line *l, struct md_image *img, struct dump *d,
		       u64 md_blocks)
{
	struct md_super *s = &d->sb;
	u64 ssd = s->ssd_sectors / s->chunk_sectors;
	u64 hdd = s->hdd_sectors / s->chunk_sectors;
	const char *why;
	u64 i;
	int t;

	if (!d->have_layout || md_blocks != s->md_blocks) {
		if (dmh_layout_compute(md_blocks, ssd, hdd, &s->layout))
			return bad(l, "metadata device too small: %llu blocks, %llu needed",
				   (unsigned long long)md_blocks,
				   (unsigned long long)dmh_layout_need(ssd, hdd));
	}
	s->md_blocks = md_blocks;
	s->layout.md_blocks = md_blocks;
	/* the log's state is finish_slog()'s, its flag md_check()'s */
	why = md_layout_fault(s, md_blocks);
	if (why)
		return bad(l, "inconsistent superblock or layout: %s", why);
	if (md_alloc(img, s))
		return bad(l, "out of memory");
	for (i = 0; i < img->vt.nblocks; i++)
		img->vt.st[i].dirty = 1;
	for (t = 0; t < DMH_NR_TIERS; t++)
		for (i = 0; i < img->rmap[t].nblocks; i++)
			img->rmap[t].st[i].dirty = 1;
	return 0;
}

static int parse_line(struct line *l, struct md_image *img, struct dump *d,
		      u64 md_blocks)
{
	/* before setup_image() the superblock is d->sb, after it img->sb */
	struct md_super *sb = img->vt.data ? &img->sb : &d->sb;

	if (!strcmp(l->type, "dmh-dump")) {
		if (!get(l, "version") || strcmp(get(l, "version"), "1"))
			return bad(l, "unsupported dump version");
		return all_used(l);
	}
	if (!strcmp(l->type, "superblock")) {
		if (d->have_super)
			return bad(l, "second superblock line");
		d->have_super = 1;
		return parse_super(l, &d->sb);
	}
	if (!d->have_super)
		return bad(l, "the superblock line must come first");
	if (!strcmp(l->type, "layout")) {
		if (d->have_layout || img->vt.data)
			return bad(l, "layout must follow the superblock, once");
		d->have_layout = 1;
		return parse_layout(l, &d->sb.layout);
	}
	if (!strcmp(l->type, "tunables")) {
		if (d->have_tunables)
			return bad(l, "second tunables line");
		d->have_tunables = 1;
		return parse_tunables(l, sb->tunables);
	}
	if (!strcmp(l->type, "pin"))
		return parse_pin(l, sb);
	if (!strcmp(l->type, "slog")) {
		if (d->have_slog)
			return bad(l, "second slog line");
		d->have_slog = 1;
		return parse_slog(l, sb);
	}
	if (!strcmp(l->type, "slogrec"))
		return parse_slogrec(l, img);
	if (!img->vt.data && setup_image(l, img, d, md_blocks ? md_blocks :
					 d->sb.md_blocks))
		return -1;
	if (!strcmp(l->type, "volume"))
		return parse_volume(l, img);
	if (!strcmp(l->type, "map"))
		return parse_map(l, img);
	if (!strcmp(l->type, "heat"))
		return parse_heat(l, img);
	return bad(l, "unknown record type \"%s\"", l->type);
}

static int parse_dump(FILE *f, const char *name, struct md_image *img,
		      u64 md_blocks)
{
	struct dump d = { .have_super = 0 };
	struct line l = { .file = name };
	char *buf = NULL, *p;
	size_t cap = 0;

	while (getline(&buf, &cap, f) > 0) {
		l.nr++;
		p = buf + strspn(buf, " \t\r\n");
		if (!*p || *p == '#')
			continue;
		if (split(p, &l) || parse_line(&l, img, &d, md_blocks)) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	if (ferror(f))
		return bad(&l, "read error");
	if (!img->vt.data && (!d.have_super ||
			      setup_image(&l, img, &d, md_blocks ? md_blocks :
					  d.sb.md_blocks)))
		return d.have_super ? -1 : bad(&l, "no superblock line");
	if (finish_slog(&l, img))
		return -1;
	md_sort_volumes(img);
	img->sb.nr_volumes = img->nr_vols;
	return 0;
}

/* Default md_blocks: a block device's size; 0 = use the dump's. */
static int target_blocks(const char *path, u64 *blocks)
{
	struct stat st;
	int fd, rc;

	*blocks = 0;
	if (stat(path, &st) || !S_ISBLK(st.st_mode))
		return 0;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	rc = md_dev_blocks(fd, blocks);
	close(fd);
	return rc;
}

static int zero_target(int fd, u64 blocks)
{
	static const u8 zero[DMH_BLOCK_SIZE];
	struct stat st;
	u64 i, have;
	int rc;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode)) {
		if (ftruncate(fd, 0) ||
		    ftruncate(fd, (off_t)(blocks * DMH_BLOCK_SIZE)))
			return -errno;
		return 0;
	}
	rc = md_dev_blocks(fd, &have);
	if (rc)
		return rc;
	if (have < blocks)
		return -ENOSPC;
	for (i = 0; i < blocks; i++) {
		rc = md_write_block(fd, i, zero);
		if (rc)
			return rc;
	}
	return 0;
}

static int write_image(struct md_image *img, const char *out)
{
	int rc;

	img->fd = open(out, O_RDWR | O_CREAT, 0600);
	if (img->fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", prog, out,
			strerror(errno));
		return MD_EXIT_USAGE;
	}
	rc = zero_target(img->fd, img->sb.md_blocks);
	if (!rc)
		rc = md_commit(img, img->sb.txid, 1);
	if (rc) {
		fprintf(stderr, "%s: writing %s failed: %s\n", prog, out,
			strerror(-rc));
		return MD_EXIT_USAGE;
	}
	return MD_EXIT_OK;
}

static int check_image(struct md_image *img, int force, struct md_report *r)
{
	struct md_counts c;

	md_check(img, r, 0, &c);
	md_report_flush(r);
	if (!md_problems(r))
		return 0;
	if (force) {
		fprintf(stderr, "%s: writing inconsistent metadata (--force)\n",
			prog);
		return 0;
	}
	fprintf(stderr,
		"%s: the dump describes inconsistent metadata; nothing written (--force writes it anyway)\n",
		prog);
	return -1;
}

struct restore_opts {
	u64 md_blocks;
	int force;
};

/* --md-blocks and --force, the options of its own. */
static int restore_opt(int ch, const char *arg, void *ctx)
{
	struct restore_opts *ro = ctx;

	if (ch == 'f') {
		ro->force = 1;
		return 0;
	}
	if (ch == 'm' && !parse_u64(arg, &ro->md_blocks) && ro->md_blocks)
		return 0;
	if (ch == 'm')
		fprintf(stderr,
			"%s: --md-blocks needs a positive number of 4 KiB blocks\n",
			prog);
	return MD_TOOL_EXIT_USAGE;
}

/*
 * --json: what was written (@written), from the dump's image @img if it
 * was read (@parsed), and the findings of its check (@r).
 */
static void json_out(const struct md_args *a, const struct md_image *img,
		     int parsed, int written, const struct md_report *r,
		     int status)
{
	struct hc_json j;

	md_json_begin(&j, prog, status);
	hc_json_str(&j, "input", a->in);
	hc_json_str(&j, "output", a->out);
	hc_json_bool(&j, "parsed", parsed);
	hc_json_bool(&j, "written", written);
	hc_json_u64_known(&j, "md_blocks", img->sb.md_blocks, parsed);
	hc_json_u64_known(&j, "transaction", img->sb.txid, parsed);
	hc_json_u64_known(&j, "volumes", img->nr_vols, parsed);
	md_json_report(&j, r);
	md_json_end(&j);
}

/*
 * Read the dump @a->in into @img, whose size is @md_blocks or else the
 * output's or the dump's: 0, MD_EXIT_REPAIRABLE (an invalid dump) or
 * MD_EXIT_USAGE (I/O).
 */
static int read_dump(const struct md_args *a, u64 md_blocks,
		     struct md_image *img)
{
	FILE *f;
	int rc;

	memset(img, 0, sizeof(*img));
	img->fd = -1;
	if (!md_blocks && target_blocks(a->out, &md_blocks)) {
		fprintf(stderr, "%s: cannot get the size of %s\n", prog,
			a->out);
		return MD_EXIT_USAGE;
	}
	f = strcmp(a->in, "-") ? fopen(a->in, "r") : stdin;
	if (!f) {
		fprintf(stderr, "%s: cannot open %s: %s\n", prog, a->in,
			strerror(errno));
		return MD_EXIT_USAGE;
	}
	rc = parse_dump(f, a->in, img, md_blocks);
	if (f != stdin)
		fclose(f);
	return rc ? MD_EXIT_REPAIRABLE : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "md-blocks", required_argument, NULL, 'm' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		MD_TOOL_JSON_OPTION,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct restore_opts ro = { 0, 0 };
	const struct md_tool tool = {
		.prog = "hybrid_restore", .shortopts = "i:o:m:fqh",
		.longopts = opts, .help = print_help, .opt = restore_opt,
		.ctx = &ro, .need_out = 1,
	};
	struct md_image img;
	struct md_report r;
	struct md_args a;
	int rc, parsed;

	rc = md_tool_args(&tool, argc, argv, &a);
	if (rc >= 0)
		return rc;
	md_report_init(&r, prog, stderr, a.verbosity);
	r.keep = a.json;
	rc = read_dump(&a, ro.md_blocks, &img);
	parsed = !rc;
	if (!rc && check_image(&img, ro.force, &r))
		rc = MD_EXIT_REPAIRABLE;
	if (!rc)
		rc = write_image(&img, a.out);
	if (a.json)
		json_out(&a, &img, parsed, !rc, &r, rc);
	else if (!rc && a.verbosity)
		printf("%s: wrote %s: %llu blocks, transaction %llu, %u volumes\n",
		       prog, a.out, (unsigned long long)img.sb.md_blocks,
		       (unsigned long long)img.sb.txid, img.nr_vols);
	md_close(&img);
	md_report_free(&r);
	return rc;
}
