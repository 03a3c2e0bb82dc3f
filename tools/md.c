// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hybrid tools: loading, checking and committing metadata.
 *
 * Copy selection follows the kernel's rules (see dm-hybrid-format.h):
 * the valid superblock with the highest txid T wins; in a two-copy region
 * the copy with a valid checksum, the right type and block number and the
 * highest txid not above T is live.  On top of that the tools are stricter
 * than the loader about damage, because a damaged copy may have been the
 * live one: if a copy fails its checksum but its header still says it was
 * written by a committed transaction newer than the surviving copy, the
 * surviving copy is out of date and using it would silently revert part of
 * the pool.  That is reported as broken, never papered over.
 *
 * The staging log has one copy of each block: md_load() reads the live
 * half's slog_used blocks and records why any is not part of the log;
 * md_check() reports that and replays the records.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "md.h"

#define MD_PRINT_LIMIT	100

const char *const md_tier_name[DMH_NR_TIERS] = { "ssd", "hdd" };

const char *md_pin_tier_name(u32 tier)
{
	switch (tier) {
	case DMH_PIN_SSD:
		return "ssd";
	case DMH_PIN_HDD:
		return "hdd";
	}
	return NULL;
}

/*
 * The kernel's knob names ("set <knob> <value>") from DMH_KNOBS, flags kept
 * raw.  The columns other than name and index pass through unused.
 */
#define MD_NAME_AT(index, name, ...) \
	[index] = #name,
#define MD_KNOB_NAME(field, name, index, ...) \
	MD_NAME_AT(index, name, field, __VA_ARGS__)
const char *const md_tunable_name[DMH_NR_TUNABLES] = {
	[DMH_TUN_FLAGS] = "flags",
	DMH_KNOBS(MD_KNOB_NAME)
};

static const char *const sev_tag[MD_NR_SEV] = {
	"info", "repairable", "repairable, data may be lost", "BROKEN",
};

void md_report_init(struct md_report *r, const char *prog, FILE *out,
		    int verbosity)
{
	memset(r, 0, sizeof(*r));
	r->prog = prog;
	r->out = out;
	r->verbosity = verbosity;
}

/* Keep a finding for --json; one that finds no memory is lost. */
static void keep_note(struct md_report *r, enum md_sev sev, const char *fmt,
		      va_list ap)
{
	struct md_finding *k;
	char buf[512], *msg;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	msg = strdup(buf);
	if (!msg)
		return;
	k = realloc(r->kept, (r->nkept + 1) * sizeof(*k));
	if (!k) {
		free(msg);
		return;
	}
	r->kept = k;
	k[r->nkept].sev = sev;
	k[r->nkept++].msg = msg;
}

void md_note(struct md_report *r, enum md_sev sev, const char *fmt, ...)
{
	va_list ap;

	r->count[sev]++;
	if (!r->verbosity || (sev == MD_INFO && r->verbosity < 2))
		return;
	if (r->printed >= MD_PRINT_LIMIT && r->verbosity < 2) {
		r->suppressed++;
		return;
	}
	r->printed++;
	va_start(ap, fmt);
	if (r->keep) {
		keep_note(r, sev, fmt, ap);
	} else {
		fprintf(r->out, "%s: %s: ", r->prog, sev_tag[sev]);
		vfprintf(r->out, fmt, ap);
		fputc('\n', r->out);
	}
	va_end(ap);
}

void md_report_flush(struct md_report *r)
{
	if (r->keep)
		return;
	if (r->suppressed && r->verbosity)
		fprintf(r->out,
			"%s: %lu more messages not shown (use --verbose)\n",
			r->prog, r->suppressed);
	r->suppressed = 0;
}

void md_report_free(struct md_report *r)
{
	while (r->nkept)
		free(r->kept[--r->nkept].msg);
	free(r->kept);
	r->kept = NULL;
}

unsigned long md_problems(const struct md_report *r)
{
	return r->count[MD_REPAIR] + r->count[MD_LOSS] + r->count[MD_BROKEN];
}

int md_report_exit(const struct md_report *r)
{
	if (r->count[MD_BROKEN])
		return MD_EXIT_BROKEN;
	if (r->count[MD_REPAIR] || r->count[MD_LOSS])
		return MD_EXIT_REPAIRABLE;
	return MD_EXIT_OK;
}

/* ---- blocks and checksums ---- */

u32 md_block_csum(const void *block, u32 type)
{
	const u8 *b = block;

	return dmh_crc32c(DMH_CSUM_SEED, b + 4, DMH_BLOCK_SIZE - 4) ^ type;
}

static u32 stored_csum(const void *block)
{
	__le32 v;

	memcpy(&v, block, sizeof(v));
	return le32toh(v);
}

static void store_csum(void *block, u32 type)
{
	__le32 v = htole32(md_block_csum(block, type));

	memcpy(block, &v, sizeof(v));
}

void md_block_seal(void *block, u32 type, u64 txid, u64 blocknr)
{
	struct dmh_disk_block_header h;

	h.csum = 0;
	h.type = htole32(type);
	h.txid = htole64(txid);
	h.blocknr = htole64(blocknr);
	h.reserved = 0;
	memcpy(block, &h, sizeof(h));
	store_csum(block, type);
}

static int block_is_zero(const u8 *b)
{
	size_t i;

	for (i = 0; i < DMH_BLOCK_SIZE; i++)
		if (b[i])
			return 0;
	return 1;
}

int md_read_block(int fd, u64 nr, void *buf)
{
	size_t done = 0;
	ssize_t n;

	while (done < DMH_BLOCK_SIZE) {
		n = pread(fd, (u8 *)buf + done, DMH_BLOCK_SIZE - done,
			  (off_t)(nr * DMH_BLOCK_SIZE + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		done += n;
	}
	return 0;
}

int md_write_block(int fd, u64 nr, const void *buf)
{
	size_t done = 0;
	ssize_t n;

	while (done < DMH_BLOCK_SIZE) {
		n = pwrite(fd, (const u8 *)buf + done, DMH_BLOCK_SIZE - done,
			   (off_t)(nr * DMH_BLOCK_SIZE + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += n;
	}
	return 0;
}

int md_dev_blocks(int fd, u64 *blocks)
{
	struct stat st;
	u64 bytes;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes))
			return -errno;
	} else {
		bytes = st.st_size;
	}
	*blocks = bytes / DMH_BLOCK_SIZE;
	return 0;
}

/* ---- superblock ---- */

void md_super_decode(const void *block, struct md_super *s)
{
	const struct dmh_disk_super *d = block;
	struct dmh_geometry g;
	struct dmh_disk_pin p;
	u32 i;

	memset(s, 0, sizeof(*s));
	s->flags = le32toh(d->flags);
	s->txid = le64toh(d->txid);
	memcpy(s->uuid, d->uuid, sizeof(s->uuid));
	dmh_geometry_decode(d, &g);
	s->block_size = g.block_size;
	s->chunk_sectors = g.chunk_sectors;
	s->md_blocks = g.layout.md_blocks;
	s->ssd_sectors = g.sectors[DMH_TIER_SSD];
	s->hdd_sectors = g.sectors[DMH_TIER_HDD];
	s->layout = g.layout;
	s->nr_volumes = le32toh(d->nr_volumes);
	s->nr_pins = le32toh(d->nr_pins);
	s->promotions = le64toh(d->promotions);
	s->demotions = le64toh(d->demotions);
	for (i = 0; i < DMH_NR_TUNABLES; i++)
		s->tunables[i] = le32toh(d->tunables[i]);
	s->slog_used = le64toh(d->slog_used);
	s->slog_base = le64toh(d->slog_base);
	s->slog_half = le32toh(d->slog_half);
	s->slog_reserved = le32toh(d->slog_reserved);
	for (i = 0; i < s->nr_pins && i < DMH_MAX_PINS; i++) {
		memcpy(&p, (const u8 *)block + DMH_PINS_OFFSET + i * sizeof(p),
		       sizeof(p));
		s->pins[i].vol = le32toh(p.vol);
		s->pins[i].tier = le32toh(p.tier);
		s->pins[i].start = le64toh(p.start);
		s->pins[i].end = le64toh(p.end);
	}
}

void md_super_encode(const struct md_super *s, void *block)
{
	struct dmh_disk_super d;
	struct dmh_disk_pin p;
	u32 i, n;
	int t;

	memset(block, 0, DMH_BLOCK_SIZE);
	memset(&d, 0, sizeof(d));
	d.magic = htole32(DMH_MAGIC);
	d.version = htole32(DMH_VERSION);
	d.flags = htole32(s->flags);
	d.txid = htole64(s->txid);
	memcpy(d.uuid, s->uuid, sizeof(d.uuid));
	d.block_size = htole32(s->block_size);
	d.chunk_sectors = htole32(s->chunk_sectors);
	d.md_blocks = htole64(s->md_blocks);
	d.ssd_sectors = htole64(s->ssd_sectors);
	d.hdd_sectors = htole64(s->hdd_sectors);
	d.vt_start = htole64(s->layout.vt_start);
	d.vt_blocks = htole64(s->layout.vt_blocks);
	for (t = 0; t < DMH_NR_TIERS; t++) {
		d.rmap_start[t] = htole64(s->layout.rmap_start[t]);
		d.rmap_blocks[t] = htole64(s->layout.rmap_blocks[t]);
	}
	d.heat_start = htole64(s->layout.heat_start);
	d.heat_blocks = htole64(s->layout.heat_blocks);
	d.slog_start = htole64(s->layout.slog_start);
	d.slog_blocks = htole64(s->layout.slog_blocks);
	d.slog_used = htole64(s->slog_used);
	d.slog_base = htole64(s->slog_base);
	d.slog_half = htole32(s->slog_half);
	d.slog_reserved = htole32(s->slog_reserved);
	d.nr_volumes = htole32(s->nr_volumes);
	n = s->nr_pins < DMH_MAX_PINS ? s->nr_pins : DMH_MAX_PINS;
	d.nr_pins = htole32(n);
	d.promotions = htole64(s->promotions);
	d.demotions = htole64(s->demotions);
	for (i = 0; i < DMH_NR_TUNABLES; i++)
		d.tunables[i] = htole32(s->tunables[i]);
	memcpy(block, &d, sizeof(d));
	for (i = 0; i < n; i++) {
		p.vol = htole32(s->pins[i].vol);
		p.tier = htole32(s->pins[i].tier);
		p.start = htole64(s->pins[i].start);
		p.end = htole64(s->pins[i].end);
		memcpy((u8 *)block + DMH_PINS_OFFSET + i * sizeof(p), &p,
		       sizeof(p));
	}
	store_csum(block, DMH_BT_SUPER);
}

/*
 * dmh_geometry_check(), the txid bound and the flags of @s, as the kernel's
 * dmh_layout_check(): NULL, or why the superblock is unusable.  Knobs out
 * of range are refused by the kernel too, but md_check() repairs them.
 */
const char *md_layout_fault(const struct md_super *s, u64 dev_blocks)
{
	struct dmh_geometry g = {
		.block_size = s->block_size,
		.chunk_sectors = s->chunk_sectors,
		.sectors = { s->ssd_sectors, s->hdd_sectors },
		.layout = s->layout,
	};
	char *why;

	g.layout.md_blocks = s->md_blocks;
	if (dmh_geometry_check(&g, dev_blocks, &why))
		return why;
	why = dmh_txid_fault(s->txid);
	return why ? why : dmh_flags_fault(s->flags);
}

/*
 * The kernel's dmh_slog_state_fault() on the fields it reads; without
 * @flag_too, as if DMH_SB_INCOMPAT_SLOG agreed with slog_used.
 */
const char *md_slog_state_fault(const struct md_super *s, int flag_too)
{
	struct dmh_disk_super d;
	u32 flags = s->flags & ~DMH_SB_INCOMPAT_SLOG;

	if (flag_too ? s->flags & DMH_SB_INCOMPAT_SLOG : s->slog_used)
		flags |= DMH_SB_INCOMPAT_SLOG;
	memset(&d, 0, sizeof(d));
	d.flags = htole32(flags);
	d.txid = htole64(s->txid);
	d.slog_used = htole64(s->slog_used);
	d.slog_base = htole64(s->slog_base);
	d.slog_half = htole32(s->slog_half);
	d.slog_reserved = htole32(s->slog_reserved);
	return dmh_slog_state_fault(&d, &s->layout);
}

int md_super_check(const struct md_super *s, char *why, size_t len)
{
	const char *w = md_layout_fault(s, s->md_blocks);

	if (!w)
		w = md_slog_state_fault(s, 1);
	if (w)
		snprintf(why, len, "%s", w);
	return w ? -1 : 0;
}

u64 md_slog_first(const struct md_super *s)
{
	return s->slog_half * (s->layout.slog_blocks / 2);
}

u64 md_slog_blocks_for(u64 tier_bytes, int *capped)
{
	u64 slots = dmh_div_up(tier_bytes, DMH_BLOCK_SIZE);
	u64 n = 2 * dmh_div_up(slots + 1, DMH_SLOG_PER_BLOCK);

	*capped = n > DMH_SLOG_BLOCKS_MAX;
	if (*capped)
		n = DMH_SLOG_BLOCKS_MAX;
	return n < DMH_SLOG_BLOCKS_MIN ? DMH_SLOG_BLOCKS_MIN : n;
}

/* Does the formatter's layout of @md blocks have @log and @cap room? */
static int log_fits(u64 md, const u64 *chunks, const u64 *cap, u64 log)
{
	struct dmh_layout l;

	return !dmh_layout_compute(md, chunks[0], chunks[1], &l) &&
	       l.slog_blocks >= log &&
	       dmh_layout_capacity(&l, DMH_TIER_SSD) >= cap[0] &&
	       dmh_layout_capacity(&l, DMH_TIER_HDD) >= cap[1];
}

/*
 * The log takes an eighth of the room beyond what the chunks need, so
 * 8 * @log blocks more give it; the growth's room loses that eighth too,
 * hence a search for the smallest device that has both.
 */
u64 md_size_with_log(const u64 *chunks, const u64 *cap, u64 log)
{
	u64 lo = dmh_layout_need(cap[0], cap[1]) + 8 * log, hi = lo, mid;

	while (!log_fits(hi, chunks, cap, log)) {
		if (hi >= DMH_MD_BLOCKS_MAX)
			return 0;
		lo = hi;
		hi *= 2;
	}
	while (lo < hi) {	/* hi fits */
		mid = lo + (hi - lo) / 2;
		if (log_fits(mid, chunks, cap, log))
			hi = mid;
		else
			lo = mid + 1;
	}
	return hi;
}

enum copy_kind { COPY_MISSING, COPY_ZERO, COPY_VALID, COPY_BAD };

struct copy_info {
	enum copy_kind kind;
	int hdr_ok;		/* type and block number as expected */
	u64 txid;
	const char *why;
};

static void classify_super(const u8 *b, int rc, struct copy_info *ci)
{
	const struct dmh_disk_super *d = (const void *)b;

	memset(ci, 0, sizeof(*ci));
	if (rc) {
		ci->kind = COPY_MISSING;
		ci->why = "cannot be read";
		return;
	}
	if (block_is_zero(b)) {
		ci->kind = COPY_ZERO;
		ci->why = "is all zeroes";
		return;
	}
	ci->txid = le64toh(d->txid);
	ci->hdr_ok = le32toh(d->magic) == DMH_MAGIC;
	ci->kind = COPY_BAD;
	if (!ci->hdr_ok)
		ci->why = "has a bad magic number";
	else if (le32toh(d->version) != DMH_VERSION)
		ci->why = "has an unsupported format version";
	else if (stored_csum(b) != md_block_csum(b, DMH_BT_SUPER))
		ci->why = "fails its checksum";
	else
		ci->kind = COPY_VALID;
}

static int load_super(struct md_image *img, struct md_report *r)
{
	u8 buf[2][DMH_BLOCK_SIZE];
	struct copy_info ci[2];
	int s, rc, best = -1;

	for (s = 0; s < 2; s++) {
		rc = md_read_block(img->fd, s, buf[s]);
		if (rc && rc != -ENODATA) {
			fprintf(stderr, "%s: %s: read error in block %d: %s\n",
				r->prog, img->path, s, strerror(-rc));
			return MD_EXIT_USAGE;
		}
		classify_super(buf[s], rc, &ci[s]);
		if (ci[s].kind == COPY_VALID &&
		    (best < 0 || ci[s].txid > ci[best].txid))
			best = s;
	}
	if (best < 0) {
		md_note(r, MD_BROKEN,
			"no valid superblock: copy 0 %s, copy 1 %s (is this a dm-hybrid metadata device?)",
			ci[0].why, ci[1].why);
		return MD_EXIT_BROKEN;
	}
	md_super_decode(buf[best], &img->sb);
	img->sb_slot = best;
	s = !best;
	if (ci[s].kind == COPY_BAD && ci[s].hdr_ok &&
	    ci[s].txid > ci[best].txid)
		md_note(r, MD_BROKEN,
			"superblock copy %d %s and claims newer transaction %llu; using copy %d would silently revert the pool to transaction %llu",
			s, ci[s].why, (unsigned long long)ci[s].txid, best,
			(unsigned long long)ci[best].txid);
	else if (ci[s].kind == COPY_BAD)
		md_note(r, MD_INFO, "old superblock copy %d %s (not needed)",
			s, ci[s].why);
	else if (ci[s].kind == COPY_VALID && ci[s].txid == ci[best].txid)
		md_note(r, MD_BROKEN,
			"both superblock copies claim transaction %llu",
			(unsigned long long)ci[best].txid);
	if ((img->sb.txid & 1) != (u64)best)
		md_note(r, MD_REPAIR,
			"superblock for transaction %llu is in slot %d, expected slot %llu",
			(unsigned long long)img->sb.txid, best,
			(unsigned long long)(img->sb.txid & 1));
	return MD_EXIT_OK;
}

/* ---- regions ---- */

static void region_init(struct md_region *reg, const char *name, u32 type,
			u64 start, u64 nblocks, int two_copy)
{
	reg->name = name;
	reg->type = type;
	reg->start = start;
	reg->nblocks = nblocks;
	reg->two_copy = two_copy;
}

static int region_alloc(struct md_region *reg)
{
	u64 i;

	reg->data = calloc(reg->nblocks ? reg->nblocks : 1, DMH_BLOCK_SIZE);
	reg->st = calloc(reg->nblocks ? reg->nblocks : 1, sizeof(*reg->st));
	if (!reg->data || !reg->st)
		return -ENOMEM;
	for (i = 0; i < reg->nblocks; i++)
		reg->st[i].live = -1;
	return 0;
}

static void region_free(struct md_region *reg)
{
	free(reg->data);
	free(reg->st);
	reg->data = NULL;
	reg->st = NULL;
}

int md_alloc(struct md_image *img, const struct md_super *sb)
{
	const struct dmh_layout *l = &sb->layout;
	int t;

	img->sb = *sb;
	img->chunks[DMH_TIER_SSD] = sb->ssd_sectors / sb->chunk_sectors;
	img->chunks[DMH_TIER_HDD] = sb->hdd_sectors / sb->chunk_sectors;
	region_init(&img->vt, "volume table", DMH_BT_VOLUMES, l->vt_start,
		    l->vt_blocks, 1);
	region_init(&img->rmap[0], "ssd rmap", DMH_BT_RMAP, l->rmap_start[0],
		    l->rmap_blocks[0], 1);
	region_init(&img->rmap[1], "hdd rmap", DMH_BT_RMAP, l->rmap_start[1],
		    l->rmap_blocks[1], 1);
	region_init(&img->heat, "heat", DMH_BT_HEAT, l->heat_start,
		    l->heat_blocks, 0);
	if (region_alloc(&img->vt) || region_alloc(&img->heat))
		return -ENOMEM;
	for (t = 0; t < DMH_NR_TIERS; t++) {
		img->cap[t] = l->rmap_blocks[t] * DMH_RMAP_PER_BLOCK;
		if (region_alloc(&img->rmap[t]))
			return -ENOMEM;
	}
	return 0;
}

static void classify_copy(const struct md_region *reg, u64 i, const u8 *b,
			  int rc, struct copy_info *ci)
{
	const struct dmh_disk_block_header *h = (const void *)b;

	memset(ci, 0, sizeof(*ci));
	if (rc) {
		ci->kind = COPY_MISSING;
		ci->why = "cannot be read";
		return;
	}
	if (block_is_zero(b)) {
		ci->kind = COPY_ZERO;
		return;
	}
	ci->txid = le64toh(h->txid);
	ci->hdr_ok = le32toh(h->type) == reg->type &&
		     le64toh(h->blocknr) == i;
	ci->kind = COPY_BAD;
	if (stored_csum(b) != md_block_csum(b, reg->type))
		ci->why = "fails its checksum";
	else if (!ci->hdr_ok)
		ci->why = "has the wrong block type or number (misdirected write?)";
	else
		ci->kind = COPY_VALID;
}

/* Judge the copy that did not win; @best is the live copy or NULL. */
static void judge_other(struct md_region *reg, u64 i, int s,
			const struct copy_info *c, const struct copy_info *best,
			u64 sbtx, struct md_report *r)
{
	unsigned long long tx = c->txid;

	if (c->kind == COPY_ZERO)
		return;
	if (c->txid > sbtx && c->hdr_ok) {
		md_note(r, MD_INFO,
			"%s block %llu copy %d: left over from uncommitted transaction %llu%s",
			reg->name, (unsigned long long)i, s, tx,
			c->kind == COPY_VALID ? "" : " (torn write)");
		reg->st[i].stale_mask |= 1u << s;
		r->leftovers++;
	} else if (c->kind == COPY_VALID && best) {
		/* an older committed copy: the normal shadow */
	} else if (c->kind == COPY_BAD && c->hdr_ok && best &&
		   c->txid < best->txid) {
		md_note(r, MD_INFO,
			"%s block %llu copy %d (old transaction %llu) %s; not needed",
			reg->name, (unsigned long long)i, s, tx, c->why);
	} else if (best) {
		md_note(r, MD_BROKEN,
			"%s block %llu copy %d %s and may have been the live copy (it claims transaction %llu); using copy %d (transaction %llu) would silently revert it",
			reg->name, (unsigned long long)i, s, c->why, tx, !s,
			(unsigned long long)best->txid);
	} else {
		md_note(r, MD_BROKEN,
			"%s block %llu: no usable copy (copy %d %s, claims transaction %llu)",
			reg->name, (unsigned long long)i, s, c->why, tx);
	}
}

static int load_two_copy(struct md_image *img, struct md_region *reg,
			 u64 i, struct md_report *r)
{
	u8 buf[2][DMH_BLOCK_SIZE];
	struct copy_info ci[2];
	u64 sbtx = img->sb.txid;
	int s, rc, best = -1;

	for (s = 0; s < 2; s++) {
		rc = md_read_block(img->fd, dmh_slot_block(reg->start, i, s),
				   buf[s]);
		if (rc && rc != -ENODATA) {
			fprintf(stderr, "%s: %s: read error in %s block %llu: %s\n",
				r->prog, img->path, reg->name,
				(unsigned long long)i, strerror(-rc));
			return MD_EXIT_USAGE;
		}
		classify_copy(reg, i, buf[s], rc, &ci[s]);
		if (ci[s].kind == COPY_VALID && ci[s].txid <= sbtx &&
		    (best < 0 || ci[s].txid > ci[best].txid))
			best = s;
	}
	if (best >= 0 && ci[!best].kind == COPY_VALID &&
	    ci[!best].txid == ci[best].txid) {
		md_note(r, MD_BROKEN,
			"%s block %llu: both copies claim transaction %llu",
			reg->name, (unsigned long long)i,
			(unsigned long long)ci[best].txid);
		best = -1;
	}
	for (s = 0; s < 2; s++)
		if (s != best)
			judge_other(reg, i, s, &ci[s],
				    best >= 0 ? &ci[best] : NULL, sbtx, r);
	if (best >= 0) {
		memcpy(reg->data + i * DMH_BLOCK_SIZE, buf[best],
		       DMH_BLOCK_SIZE);
		reg->st[i].live = best;
		reg->st[i].txid = ci[best].txid;
	}
	return MD_EXIT_OK;
}

static int load_region(struct md_image *img, struct md_region *reg,
		       struct md_report *r)
{
	u64 i;
	int rc;

	for (i = 0; i < reg->nblocks; i++) {
		rc = load_two_copy(img, reg, i, r);
		if (rc)
			return rc;
	}
	return MD_EXIT_OK;
}

static int load_heat(struct md_image *img, struct md_report *r)
{
	struct md_region *reg = &img->heat;
	struct copy_info ci;
	u8 *b;
	u64 i;
	int rc;

	for (i = 0; i < reg->nblocks; i++) {
		b = reg->data + i * DMH_BLOCK_SIZE;
		rc = md_read_block(img->fd, reg->start + i, b);
		if (rc && rc != -ENODATA) {
			fprintf(stderr, "%s: %s: read error in heat block %llu: %s\n",
				r->prog, img->path, (unsigned long long)i,
				strerror(-rc));
			return MD_EXIT_USAGE;
		}
		classify_copy(reg, i, b, rc, &ci);
		if (ci.kind == COPY_VALID || ci.kind == COPY_ZERO)
			continue;
		md_note(r, MD_INFO, "heat block %llu %s; its heat counts as zero",
			(unsigned long long)i, ci.why ? ci.why : "is damaged");
		memset(b, 0, DMH_BLOCK_SIZE);
	}
	return MD_EXIT_OK;
}

static void decode_volume(const u8 *rec, u32 slot, struct md_volume *v)
{
	const struct dmh_disk_volume *d = (const void *)rec;

	v->slot = slot;
	v->id = le32toh(d->id);
	v->flags = le32toh(d->flags);
	v->size_sectors = le64toh(d->size_sectors);
	v->weight = le32toh(d->weight);
	v->priority = le32toh(d->priority);
	v->ssd_min = le64toh(d->ssd_min);
	v->ssd_max = le64toh(d->ssd_max);
	memcpy(v->name, d->name, DMH_NAME_LEN);
}

static u8 *vol_record(struct md_image *img, u32 slot)
{
	u32 b = slot / DMH_VOLS_PER_BLOCK, j = slot % DMH_VOLS_PER_BLOCK;

	return img->vt.data + (u64)b * DMH_BLOCK_SIZE + DMH_HDR_SIZE +
	       j * DMH_VOL_RECORD_SIZE;
}

static int load_volumes(struct md_image *img)
{
	u32 slot, n = img->vt.nblocks * DMH_VOLS_PER_BLOCK;
	struct dmh_disk_volume *d;

	img->vols = calloc(n ? n : 1, sizeof(*img->vols));
	if (!img->vols)
		return -ENOMEM;
	for (slot = 0; slot < n; slot++) {
		d = (void *)vol_record(img, slot);
		if (le32toh(d->flags) & DMH_VOL_IN_USE)
			decode_volume((const u8 *)d, slot,
				      &img->vols[img->nr_vols++]);
	}
	md_sort_volumes(img);
	return 0;
}

/* ---- staging log ---- */

static int slog_grow(struct md_slog *sl)
{
	struct md_slog_rec *n;
	u32 cap = sl->cap ? 2 * sl->cap : 256;

	n = realloc(sl->rec, (size_t)cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	sl->rec = n;
	sl->cap = cap;
	return 0;
}

int md_slog_add(struct md_image *img, const struct md_slog_rec *rec)
{
	struct md_slog *sl = &img->slog;

	if (sl->nrec == sl->cap && slog_grow(sl))
		return -ENOMEM;
	sl->rec[sl->nrec++] = *rec;
	return 0;
}

const char *md_slog_txid_fault(const struct md_super *s, u64 txid, u64 prev)
{
	if (txid <= s->slog_base || txid > s->txid)
		return "is stamped outside (slog_base, txid] of the superblock";
	if (txid < prev)
		return "is stamped before the block ahead of it";
	return NULL;
}

/*
 * Why log block @b (header decoded in @bl) is not part of the log.  Bytes
 * after its records break the format, not the log: the kernel reads the
 * records alone (md_check() tells).
 */
static const char *slog_block_fault(const struct md_image *img, const u8 *b,
				    struct md_slog_blk *bl, u64 prev)
{
	size_t end = DMH_HDR_SIZE + (size_t)bl->count * DMH_SLOG_REC_SIZE;

	if (!bl->count || bl->count > DMH_SLOG_PER_BLOCK)
		return "counts no records, or more than a block holds";
	for (; end < DMH_BLOCK_SIZE && !bl->tail; end++)
		bl->tail = b[end] != 0;
	return md_slog_txid_fault(&img->sb, bl->txid, prev);
}

static int slog_decode(struct md_image *img, const u8 *b, u32 j)
{
	struct dmh_disk_slog_rec d;
	struct md_slog_rec rec;
	u32 k;

	for (k = 0; k < img->slog.blk[j].count; k++) {
		memcpy(&d, b + DMH_HDR_SIZE + k * DMH_SLOG_REC_SIZE, sizeof(d));
		rec.key = le64toh(d.key);
		rec.where = le64toh(d.where);
		rec.sectors = le32toh(d.sectors);
		rec.reserved = le32toh(d.reserved);
		rec.blk = j;
		rec.txid = img->slog.blk[j].txid;
		if (md_slog_add(img, &rec))
			return -ENOMEM;
	}
	return 0;
}

/* One block of the live half: 0, or MD_EXIT_USAGE on a read error. */
static int load_slog_block(struct md_image *img, u32 j, u64 *prev,
			   struct md_report *r)
{
	static const struct md_region reg = { .type = DMH_BT_SLOG };
	const struct dmh_disk_block_header *h;
	struct md_slog *sl = &img->slog;
	struct md_slog_blk *bl = &sl->blk[j];
	u8 b[DMH_BLOCK_SIZE];
	struct copy_info ci;
	u64 i = sl->first + j;
	int rc;

	rc = md_read_block(img->fd, img->sb.layout.slog_start + i, b);
	if (rc && rc != -ENODATA) {
		fprintf(stderr, "%s: %s: read error in staging log block %llu: %s\n",
			r->prog, img->path, (unsigned long long)i,
			strerror(-rc));
		return MD_EXIT_USAGE;
	}
	classify_copy(&reg, i, b, rc, &ci);
	h = (const void *)b;
	bl->txid = ci.txid;
	bl->count = le64toh(h->reserved) > DMH_SLOG_PER_BLOCK ? 0 :
		    le64toh(h->reserved);
	if (ci.kind == COPY_ZERO)
		bl->why = "is all zeroes";
	else if (ci.kind != COPY_VALID)
		bl->why = ci.why;
	else
		bl->why = slog_block_fault(img, b, bl, *prev);
	if (bl->why)
		return 0;
	*prev = bl->txid;
	return slog_decode(img, b, j);
}

/* The live half's slog_used blocks (md_slog_state_fault() passed). */
static int load_slog(struct md_image *img, struct md_report *r)
{
	struct md_slog *sl = &img->slog;
	u64 prev = 0;
	u32 j;
	int rc;

	sl->first = md_slog_first(&img->sb);
	sl->nblk = img->sb.slog_used;
	sl->blk = calloc(sl->nblk + 1, sizeof(*sl->blk));
	if (!sl->blk || slog_grow(sl))
		return -ENOMEM;
	for (j = 0; j < sl->nblk; j++) {
		rc = load_slog_block(img, j, &prev, r);
		if (rc)
			return rc;
	}
	return 0;
}

/* A superblock the kernel would refuse, with the numbers behind it. */
static void note_bad_super(struct md_report *r, const struct md_image *img,
			   const char *why)
{
	const struct md_super *s = &img->sb;
	const struct dmh_layout *l = &s->layout;

	md_note(r, MD_BROKEN,
		"superblock (transaction %llu): %s (block_size=%u chunk_sectors=%u md_blocks=%llu on a device of %llu blocks, ssd_sectors=%llu hdd_sectors=%llu; layout vt %llu+%llu, ssd rmap %llu+%llu, hdd rmap %llu+%llu, heat %llu+%llu, staging log %llu+%llu; log half %u used %llu base %llu)",
		(unsigned long long)s->txid, why, s->block_size,
		s->chunk_sectors, (unsigned long long)s->md_blocks,
		(unsigned long long)img->dev_blocks,
		(unsigned long long)s->ssd_sectors,
		(unsigned long long)s->hdd_sectors,
		(unsigned long long)l->vt_start,
		(unsigned long long)l->vt_blocks,
		(unsigned long long)l->rmap_start[DMH_TIER_SSD],
		(unsigned long long)l->rmap_blocks[DMH_TIER_SSD],
		(unsigned long long)l->rmap_start[DMH_TIER_HDD],
		(unsigned long long)l->rmap_blocks[DMH_TIER_HDD],
		(unsigned long long)l->heat_start,
		(unsigned long long)l->heat_blocks,
		(unsigned long long)l->slog_start,
		(unsigned long long)l->slog_blocks, s->slog_half,
		(unsigned long long)s->slog_used,
		(unsigned long long)s->slog_base);
}

int md_load(struct md_image *img, struct md_report *r)
{
	const char *why;
	int rc, t;

	rc = load_super(img, r);
	if (rc)
		return rc;
	why = md_layout_fault(&img->sb, img->dev_blocks);
	if (!why)
		why = md_slog_state_fault(&img->sb, 0);
	if (why) {
		note_bad_super(r, img, why);
		return MD_EXIT_BROKEN;
	}
	if (img->sb.flags & DMH_SB_NEEDS_CHECK)
		md_note(r, MD_INFO, "the kernel flagged this pool for checking");
	if (md_alloc(img, &img->sb))
		goto nomem;
	rc = load_region(img, &img->vt, r);
	for (t = 0; !rc && t < DMH_NR_TIERS; t++)
		rc = load_region(img, &img->rmap[t], r);
	if (!rc)
		rc = load_heat(img, r);
	if (rc)
		return rc;
	rc = load_slog(img, r);
	if (rc == -ENOMEM)
		goto nomem;
	if (rc)
		return rc;
	if (load_volumes(img))
		goto nomem;
	return MD_EXIT_OK;
nomem:
	fprintf(stderr, "%s: out of memory\n", r->prog);
	return MD_EXIT_USAGE;
}

int md_open(struct md_image *img, const char *path, int writable,
	    struct md_report *r)
{
	int rc;

	memset(img, 0, sizeof(*img));
	img->path = path;
	if (dmh_crc32c_selftest()) {
		fprintf(stderr, "%s: internal error: crc32c self-test failed\n",
			r->prog);
		return MD_EXIT_USAGE;
	}
	img->fd = open(path, writable ? O_RDWR : O_RDONLY);
	if (img->fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", r->prog, path,
			strerror(errno));
		return MD_EXIT_USAGE;
	}
	rc = md_dev_blocks(img->fd, &img->dev_blocks);
	if (rc) {
		fprintf(stderr, "%s: cannot get the size of %s: %s\n",
			r->prog, path, strerror(-rc));
		return MD_EXIT_USAGE;
	}
	return md_load(img, r);
}

void md_close(struct md_image *img)
{
	int t;

	if (img->fd > 0)
		close(img->fd);
	img->fd = -1;
	region_free(&img->vt);
	region_free(&img->heat);
	for (t = 0; t < DMH_NR_TIERS; t++)
		region_free(&img->rmap[t]);
	free(img->vols);
	img->vols = NULL;
	free(img->slog.blk);
	free(img->slog.rec);
	memset(&img->slog, 0, sizeof(img->slog));
}

/* ---- accessors ---- */

u64 md_rmap_get(const struct md_image *img, int tier, u64 p)
{
	const struct md_region *reg = &img->rmap[tier];
	__le64 v;

	memcpy(&v, reg->data + (p / DMH_RMAP_PER_BLOCK) * DMH_BLOCK_SIZE +
		   DMH_HDR_SIZE + (p % DMH_RMAP_PER_BLOCK) * 8, sizeof(v));
	return le64toh(v);
}

void md_rmap_set(struct md_image *img, int tier, u64 p, u64 e)
{
	struct md_region *reg = &img->rmap[tier];
	__le64 v = htole64(e);

	memcpy(reg->data + (p / DMH_RMAP_PER_BLOCK) * DMH_BLOCK_SIZE +
	       DMH_HDR_SIZE + (p % DMH_RMAP_PER_BLOCK) * 8, &v, sizeof(v));
	reg->st[p / DMH_RMAP_PER_BLOCK].dirty = 1;
}

u64 md_rmap_txid(const struct md_image *img, int tier, u64 p)
{
	return img->rmap[tier].st[p / DMH_RMAP_PER_BLOCK].txid;
}

/* Heat bytes: dmh_heat_index() of the format, SSD chunks first. */
static u8 *heat_byte(const struct md_image *img, int tier, u64 p)
{
	u64 idx = dmh_heat_index(&img->sb.layout, tier, p);

	return img->heat.data + (idx / DMH_HEAT_PER_BLOCK) * DMH_BLOCK_SIZE +
	       DMH_HDR_SIZE + idx % DMH_HEAT_PER_BLOCK;
}

u8 md_heat_get(const struct md_image *img, int tier, u64 p)
{
	return *heat_byte(img, tier, p);
}

void md_heat_set(struct md_image *img, int tier, u64 p, u8 v)
{
	*heat_byte(img, tier, p) = v;
}

/* ---- volumes ---- */

static int cmp_vol_id(const void *a, const void *b)
{
	const struct md_volume *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* vols are kept sorted by id (then slot) for md_find_volume(). */
void md_sort_volumes(struct md_image *img)
{
	qsort(img->vols, img->nr_vols, sizeof(*img->vols), cmp_vol_id);
}

const struct md_volume *md_find_volume(const struct md_image *img, u32 id)
{
	u32 lo = 0, hi = img->nr_vols, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (img->vols[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < img->nr_vols && img->vols[lo].id == id)
		return &img->vols[lo];
	return NULL;
}

u64 md_volume_chunks(const struct md_image *img, const struct md_volume *v)
{
	return dmh_div_up(v->size_sectors, img->sb.chunk_sectors);
}

/* Store @v in its slot of the volume table (restore). */
int md_put_volume(struct md_image *img, const struct md_volume *v)
{
	struct dmh_disk_volume d;
	u8 *rec;

	if (v->slot >= img->vt.nblocks * DMH_VOLS_PER_BLOCK)
		return -ERANGE;
	rec = vol_record(img, v->slot);
	memcpy(&d, rec, sizeof(d));
	if (le32toh(d.flags) & DMH_VOL_IN_USE)
		return -EEXIST;
	memset(&d, 0, sizeof(d));
	d.id = htole32(v->id);
	d.flags = htole32(v->flags | DMH_VOL_IN_USE);
	d.size_sectors = htole64(v->size_sectors);
	d.weight = htole32(v->weight);
	d.priority = htole32(v->priority);
	d.ssd_min = htole64(v->ssd_min);
	d.ssd_max = htole64(v->ssd_max);
	memcpy(d.name, v->name, DMH_NAME_LEN);
	memcpy(rec, &d, sizeof(d));
	img->vt.st[v->slot / DMH_VOLS_PER_BLOCK].dirty = 1;
	if (!img->vols) {
		img->vols = calloc(DMH_MAX_VOLUMES, sizeof(*img->vols));
		if (!img->vols)
			return -ENOMEM;
	}
	img->vols[img->nr_vols] = *v;
	img->vols[img->nr_vols++].flags |= DMH_VOL_IN_USE;
	return 0;
}

/* ---- commit ---- */

static int commit_region(struct md_image *img, struct md_region *reg,
			 u64 txid)
{
	static const u8 zero[DMH_BLOCK_SIZE];
	struct md_blkstate *st;
	u8 *b;
	u64 i;
	int s, rc;

	for (i = 0; i < reg->nblocks; i++) {
		st = &reg->st[i];
		for (s = 0; s < 2; s++) {
			if (!(st->stale_mask & (1u << s)))
				continue;
			rc = md_write_block(img->fd,
					    dmh_slot_block(reg->start, i, s),
					    zero);
			if (rc)
				return rc;
		}
		st->stale_mask = 0;
		if (!st->dirty)
			continue;
		b = reg->data + i * DMH_BLOCK_SIZE;
		s = st->live >= 0 ? !st->live : (int)(txid & 1);
		md_block_seal(b, reg->type, txid, i);
		rc = md_write_block(img->fd, dmh_slot_block(reg->start, i, s),
				    b);
		if (rc)
			return rc;
		st->live = s;
		st->txid = txid;
		st->dirty = 0;
	}
	return 0;
}

static int commit_heat(struct md_image *img, u64 txid)
{
	struct md_region *reg = &img->heat;
	u8 *b;
	u64 i;
	int rc;

	for (i = 0; i < reg->nblocks; i++) {
		b = reg->data + i * DMH_BLOCK_SIZE;
		md_block_seal(b, reg->type, txid, i);
		rc = md_write_block(img->fd, reg->start + i, b);
		if (rc)
			return rc;
	}
	return 0;
}

/* The records of log block @j into @b, sealed as the header says. */
static void slog_encode(const struct md_image *img, u32 j, u8 *b)
{
	const struct md_slog *sl = &img->slog;
	struct dmh_disk_block_header h;
	struct dmh_disk_slog_rec d;
	u32 k, n = 0;

	memset(b, 0, DMH_BLOCK_SIZE);
	for (k = 0; k < sl->nrec; k++) {
		if (sl->rec[k].blk != j || n == DMH_SLOG_PER_BLOCK)
			continue;
		d.key = htole64(sl->rec[k].key);
		d.where = htole64(sl->rec[k].where);
		d.sectors = htole32(sl->rec[k].sectors);
		d.reserved = htole32(sl->rec[k].reserved);
		memcpy(b + DMH_HDR_SIZE + n++ * DMH_SLOG_REC_SIZE, &d, sizeof(d));
	}
	md_block_seal(b, DMH_BT_SLOG, sl->blk[j].txid, sl->first + j);
	memcpy(&h, b, sizeof(h));
	h.reserved = htole64(n);
	memcpy(b, &h, sizeof(h));
	store_csum(b, DMH_BT_SLOG);
}

/* Restore's log: every block with records; the others stay zero. */
static int commit_slog(struct md_image *img)
{
	const struct md_slog *sl = &img->slog;
	u8 b[DMH_BLOCK_SIZE];
	u32 j;
	int rc;

	for (j = 0; j < sl->nblk; j++) {
		if (!sl->blk[j].count)
			continue;
		slog_encode(img, j, b);
		rc = md_write_block(img->fd, img->sb.layout.slog_start +
					     sl->first + j, b);
		if (rc)
			return rc;
	}
	return 0;
}

int md_commit(struct md_image *img, u64 txid, int heat_too)
{
	u8 sb[DMH_BLOCK_SIZE];
	int rc, t;

	rc = commit_region(img, &img->vt, txid);
	for (t = 0; !rc && t < DMH_NR_TIERS; t++)
		rc = commit_region(img, &img->rmap[t], txid);
	if (!rc && heat_too)
		rc = commit_heat(img, txid);
	if (!rc && img->slog.dirty)
		rc = commit_slog(img);
	if (rc)
		return rc;
	if (fsync(img->fd))
		return -errno;
	img->sb.txid = txid;
	img->sb.nr_volumes = img->nr_vols;
	md_super_encode(&img->sb, sb);
	rc = md_write_block(img->fd, txid & 1, sb);
	if (rc)
		return rc;
	if (fsync(img->fd))
		return -errno;
	img->sb_slot = txid & 1;
	return 0;
}

/* ---- uuid ---- */

void md_format_uuid(const u8 *u, char *out)
{
	int i, n = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		n += sprintf(out + n, "%02x", u[i]);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int md_parse_uuid(const char *s, u8 *uuid)
{
	int i = 0, hi, lo;

	while (*s && i < 16) {
		if (*s == '-') {
			s++;
			continue;
		}
		hi = hexval(s[0]);
		lo = hi < 0 ? -1 : hexval(s[1]);
		if (lo < 0)
			return -1;
		uuid[i++] = hi << 4 | lo;
		s += 2;
	}
	return (i == 16 && !*s) ? 0 : -1;
}

int md_common_opt(int ch, int *verbosity, void (*help)(FILE *f))
{
	if (verbosity && (ch == 'q' || ch == 'v')) {
		*verbosity = ch == 'q' ? 0 : 2;
		return -1;
	}
	if (ch == 'h') {
		help(stdout);
		return MD_EXIT_OK;
	}
	help(stderr);
	return MD_EXIT_USAGE;
}
