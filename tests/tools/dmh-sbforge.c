// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmh-sbforge: forged superblocks with valid checksums, activated one
 * after another (issue 19 item 7, the fuzz-mdimage case).
 *
 *   dmh-sbforge -i IMAGE -m META -t TABLE -s SECTORS -o RESULT VOL...
 *
 * IMAGE is a copy of a pool's metadata device, META that device, TABLE
 * the pool's table line ("0 LEN hybrid-pool META SSD HDD CHUNK 0"), VOL...
 * the ids of the pool's volumes, each SECTORS long.  For every forgery of
 * the list below, META gets IMAGE back, then IMAGE's live superblock with
 * one field changed and its checksum recomputed, in the slot of its txid
 * with the other slot zeroed (so that no other copy can win), and the
 * pool "pool" is created through
 * /dev/mapper/control.  What each forgery expects:
 *
 *   err  the activation fails with a line of the target in the kernel log
 *   ok   it succeeds; every VOL then activates ("0 SECTORS hybrid MAJ:MIN
 *        VOL") and reads whole, and the volumes and pool remove
 *   any  either, by the same rules
 *
 * and after none of them may the kernel log show a report (KASAN, BUG,
 * WARNING...).  stdout gets a line a forgery, "dmh: forged FIELD=VALUE:
 * refused: WHY" or "dmh: forged FIELD=VALUE: activated, N volumes read";
 * RESULT a line a failing forgery, "bad <TAB> FIELD=VALUE <TAB> why", and
 * at the end "end <TAB> forgeries <TAB> bad".  Exit status: 0 all behaved,
 * 1 some did not, 2 the tool itself failed.
 *
 *   dmh-sbforge -i IMAGE -l          list the forgeries: "N EXPECT FIELD=VALUE"
 *   dmh-sbforge -i IMAGE -w N -m M   write forgery N to M (an image file
 *                                    will do) and stop: for hybrid_check
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dmh-dm.h"
#include "dm-hybrid-format.h"
#include "crc32c.h"

#define M32	0xffffffffull
#define M64	0xffffffffffffffffull
#define NODE	"/dev/dmh-sbforge.node"
#define VOL_DEV	"sbf"

/* How a forgery's value follows from the pristine superblock. */
enum base {
	ABS,		/* v */
	REL,		/* the field's own value + v */
	PEER,		/* the value of the field at offset v */
	CAP_SSD,	/* the SSD reverse map's capacity, in sectors, + v */
	CAP_HDD,	/* the same of the HDD */
	/* heat_start + heat_blocks + slog_blocks + v: the layout's end */
	END,
	DEV,		/* the metadata device's blocks + v */
	FILL,		/* every byte of the field v */
};

struct field {
	const char *name;
	size_t off, width;
};

/* One field set; an entry with "more" and those after it are one forgery. */
struct forgery {
	struct field f;
	enum base base;
	__u64 v;
	char expect;	/* 'e'rr, 'o'k, 'a'ny: of the forgery's last entry */
	int more;
};

/* A field of struct dmh_disk_super or of pin record 0, W bytes wide. */
#define SB(f, w)	{ #f, offsetof(struct dmh_disk_super, f), w }
#define PIN(f, w)	{ "pin[0]." #f, DMH_PINS_OFFSET + \
			  offsetof(struct dmh_disk_pin, f), w }
#define OFF(f)	offsetof(struct dmh_disk_super, f)
#define POFF(f)	(DMH_PINS_OFFSET + offsetof(struct dmh_disk_pin, f))

/*
 * Every field at an extreme (0 or its largest value) and just past each
 * bound the kernel enforces; the fields it does not check at all (uuid,
 * counters, the knobs' in-range values) at both ends in the two
 * forgeries of free_forgeries().  One value a rule, as the budget of fuzz-mdimage
 * allows: a refusal at the superblock check costs about 0.3 s on the debug
 * kernel under TCG, a refusal after the metadata is loaded 2 to 3 s and
 * an activation 5 s or more; tools/tests/layout_test.c takes the layout
 * fields through every rule and more values on the host.
 */
static const struct forgery fixed[] = {
	{ SB(magic, 4), ABS, 0, 'e', 0 },
	{ SB(version, 4), ABS, 2, 'e', 0 }, { SB(version, 4), ABS, M32, 'e', 0 },
	/* needs_check and an unknown compatible bit; incompatible ones */
	{ SB(flags, 4), ABS, 0x3, 'o', 0 },
	{ SB(flags, 4), ABS, 0x10000, 'e', 0 }, { SB(flags, 4), ABS, M32, 'e', 0 },
	/* older than every block: their copies look uncommitted */
	{ SB(txid, 8), ABS, 0, 'a', 0 },
	{ SB(txid, 8), ABS, DMH_TXID_MAX, 'o', 0 },
	{ SB(txid, 8), ABS, DMH_TXID_MAX + 1, 'e', 0 },
	{ SB(txid, 8), ABS, M64, 'e', 0 },
	{ SB(block_size, 4), ABS, 0, 'e', 0 }, { SB(block_size, 4), ABS, M32, 'e', 0 },
	{ SB(chunk_sectors, 4), ABS, 0, 'e', 0 }, { SB(chunk_sectors, 4), ABS, 129, 'e', 0 },
	{ SB(chunk_sectors, 4), ABS, DMH_CHUNK_SECTORS_MAX, 'e', 0 },
	{ SB(chunk_sectors, 4), ABS, DMH_CHUNK_SECTORS_MAX * 2, 'e', 0 },
	{ SB(chunk_sectors, 4), ABS, M32, 'e', 0 },
	{ SB(md_blocks, 8), ABS, 0, 'e', 0 },
	{ SB(md_blocks, 8), END, -1ull, 'e', 0 }, { SB(md_blocks, 8), END, 0, 'o', 0 },
	{ SB(md_blocks, 8), DEV, 1, 'e', 0 },
	{ SB(md_blocks, 8), ABS, DMH_MD_BLOCKS_MAX + 1, 'e', 0 },
	{ SB(md_blocks, 8), ABS, M64, 'e', 0 },
	/*
	 * No chunk would unmap a whole tier; not a whole number of chunks;
	 * a chunk fewer than the device: a device grown since the commit,
	 * refused if a chunk past the count is mapped.
	 */
	{ SB(ssd_sectors, 8), ABS, 0, 'e', 0 }, { SB(hdd_sectors, 8), ABS, 0, 'e', 0 },
	{ SB(ssd_sectors, 8), REL, 1, 'e', 0 },
	{ SB(hdd_sectors, 8), REL, -(__u64)DMH_CHUNK_SECTORS_MIN, 'a', 0 },
	{ SB(ssd_sectors, 8), REL, 8 * (__u64)DMH_CHUNK_SECTORS_MAX, 'e', 0 },
	{ SB(ssd_sectors, 8), CAP_SSD, DMH_CHUNK_SECTORS_MAX, 'e', 0 },
	{ SB(ssd_sectors, 8), ABS, M64, 'e', 0 },
	{ SB(hdd_sectors, 8), CAP_HDD, DMH_CHUNK_SECTORS_MAX, 'e', 0 },
	{ SB(hdd_sectors, 8), ABS, M64, 'e', 0 },
	{ SB(vt_start, 8), ABS, 3, 'e', 0 }, { SB(vt_start, 8), ABS, M64, 'e', 0 },
	{ SB(vt_blocks, 8), REL, 1, 'e', 0 }, { SB(vt_blocks, 8), ABS, M64, 'e', 0 },
	{ SB(rmap_start[0], 8), REL, -1ull, 'e', 0 },
	{ SB(rmap_start[0], 8), ABS, M64, 'e', 0 },
	{ SB(rmap_start[1], 8), REL, 1, 'e', 0 },
	{ SB(rmap_start[1], 8), ABS, M64, 'e', 0 },
	{ SB(rmap_blocks[0], 8), ABS, 0, 'e', 0 }, { SB(rmap_blocks[0], 8), REL, 1, 'e', 0 },
	{ SB(rmap_blocks[0], 8), ABS, DMH_RMAP_BLOCKS_MAX + 1, 'e', 0 },
	{ SB(rmap_blocks[0], 8), ABS, M64, 'e', 0 },
	{ SB(rmap_blocks[1], 8), ABS, 0, 'e', 0 },
	{ SB(rmap_blocks[1], 8), ABS, DMH_RMAP_BLOCKS_MAX + 1, 'e', 0 },
	{ SB(rmap_blocks[1], 8), ABS, M64, 'e', 0 },
	{ SB(heat_start, 8), REL, 1, 'e', 0 }, { SB(heat_start, 8), ABS, M64, 'e', 0 },
	{ SB(heat_blocks, 8), ABS, 0, 'e', 0 }, { SB(heat_blocks, 8), REL, -1ull, 'e', 0 },
	{ SB(heat_blocks, 8), ABS, M64, 'e', 0 },
	{ SB(nr_volumes, 4), ABS, M32, 'e', 0 },
	{ SB(nr_pins, 4), ABS, DMH_MAX_PINS + 1, 'e', 0 },
	{ PIN(tier, 4), ABS, DMH_PIN_HDD + 1, 'e', 0 },
	{ PIN(end, 8), PEER, POFF(start), 'e', 0 },	/* an empty range */
	/* past its volume's end (the pin is volume 1's last half) */
	{ PIN(end, 8), REL, 1, 'e', 0 }, { PIN(end, 8), ABS, M64, 'e', 0 },
	/*
	 * The staging log (issue 21): its region off the heat's end, of no
	 * blocks with a start, odd, past its bound; its state past a half,
	 * in no half, after the superblock, with reserved bits, a length
	 * without the flag; then the flag and a length over a half never
	 * written: its block's checksum refuses it at load.
	 */
	{ SB(slog_start, 8), REL, 1, 'e', 0 }, { SB(slog_start, 8), ABS, M64, 'e', 0 },
	{ SB(slog_blocks, 8), ABS, 0, 'e', 0 }, { SB(slog_blocks, 8), REL, 1, 'e', 0 },
	{ SB(slog_blocks, 8), ABS, DMH_SLOG_BLOCKS_MAX + 2, 'e', 0 },
	{ SB(slog_blocks, 8), ABS, M64, 'e', 0 },
	{ SB(slog_used, 8), ABS, M64, 'e', 0 }, { SB(slog_half, 4), ABS, 2, 'e', 0 },
	{ SB(slog_base, 8), ABS, M64, 'e', 0 }, { SB(slog_reserved, 4), ABS, 1, 'e', 0 },
	{ SB(slog_used, 8), ABS, 1, 'e', 0 },
	{ SB(flags, 4), ABS, DMH_SB_INCOMPAT_SLOG, 'e', 1 },
	{ SB(slog_used, 8), ABS, 1, 'e', 0 },
};

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

struct knob {
	const char *name;
	unsigned int idx;
	__u32 min, max;
};

#define KNOB_AT(idx, name, min, max, ...)	{ #name, idx, min, max },
#define KNOB(field, name, idx, min, max, ...)	\
	KNOB_AT(idx, name, min, max, field, __VA_ARGS__)
static const struct knob knobs[] = { DMH_KNOBS(KNOB) };

/* the knobs' forgeries, below, and the two of free_forgeries() */
static struct forgery list[ARRAY_LEN(fixed) + 3 * ARRAY_LEN(knobs) +
			   2 * (5 + ARRAY_LEN(knobs))];
static char knob_field[ARRAY_LEN(knobs)][48];

static const struct forgery *add(struct forgery *f, size_t *n,
				 const struct forgery *tmpl, __u64 v,
				 char expect, int more)
{
	f[*n] = *tmpl;
	f[*n].v = v;
	f[*n].expect = expect;
	f[*n].more = more;
	return &f[(*n)++];
}

static struct forgery knob_tmpl(size_t i)
{
	const struct forgery tmpl = {
		{ knob_field[i], OFF(tunables) + knobs[i].idx * sizeof(__le32), 4 },
		ABS, 0, 'o', 0
	};

	snprintf(knob_field[i], sizeof(knob_field[i]), "tunables.%s",
		 knobs[i].name);
	return tmpl;
}

/*
 * Each knob stored just past its DMH_KNOBS range (value + 1), the first
 * also at 2^32 - 1: the kernel refuses them (their in-range ends are in
 * the free forgeries).
 */
static size_t knob_forgeries(struct forgery *f)
{
	struct forgery tmpl;
	size_t i, n = 0;

	for (i = 0; i < ARRAY_LEN(knobs); i++) {
		tmpl = knob_tmpl(i);
		if (knobs[i].min > 0)
			add(f, &n, &tmpl, knobs[i].min, 'e', 0);
		if (knobs[i].max + 1ull < M32)
			add(f, &n, &tmpl, knobs[i].max + 2ull, 'e', 0);
		if (!i)
			add(f, &n, &tmpl, M32, 'e', 0);
	}
	return n;
}

/*
 * The fields the kernel takes as they are, all at once: at their largest
 * (migration off, with every unused flag bit), then at their smallest
 * (migration on, every knob at its minimum); the pool must work.
 */
static size_t free_forgeries(struct forgery *f)
{
	static const struct forgery fields[] = {
		{ SB(uuid, 16), FILL, 0, 'o', 1 },
		{ SB(promotions, 8), ABS, 0, 'o', 1 },
		{ SB(demotions, 8), ABS, 0, 'o', 1 },
		{ SB(tunables[DMH_NR_TUNABLES - 1], 4), ABS, 0, 'o', 1 },
		{ SB(tunables[DMH_TUN_FLAGS], 4), ABS, 0, 'o', 1 },
	};
	const __u64 high[] = { 0xff, M64, M64, M32, M32 };
	struct forgery tmpl;
	size_t i, n = 0;
	int end;

	for (end = 0; end < 2; end++) {
		for (i = 0; i < ARRAY_LEN(fields); i++)
			add(f, &n, &fields[i], end ? 0 : high[i], 'o', 1);
		for (i = 0; i < ARRAY_LEN(knobs); i++) {
			tmpl = knob_tmpl(i);
			add(f, &n, &tmpl, (end ? knobs[i].min : knobs[i].max) + 1ull,
			    'o', i + 1 < ARRAY_LEN(knobs));
		}
	}
	return n;
}

/* --- the metadata device ------------------------------------------------ */

static void *image;		/* IMAGE, 4 KiB aligned */
static size_t image_len;
static __u8 *super;		/* its live superblock block */
static const char *meta;

static __u64 get_le(const __u8 *p, size_t width)
{
	__u64 v = 0;

	while (width--)
		v = v << 8 | p[width];
	return v;
}

static void put_le(__u8 *p, size_t width, __u64 v)
{
	size_t i;

	for (i = 0; i < width; i++, v >>= 8)
		p[i] = v & 0xff;
}

static void seal(__u8 *b)
{
	put_le(b, 4, dmh_crc32c(DMH_CSUM_SEED, b + 4, DMH_BLOCK_SIZE - 4) ^
		     DMH_BT_SUPER);
}

static int sealed(const __u8 *b)
{
	return get_le(b + OFF(magic), 4) == DMH_MAGIC &&
	       get_le(b, 4) == (dmh_crc32c(DMH_CSUM_SEED, b + 4,
					   DMH_BLOCK_SIZE - 4) ^ DMH_BT_SUPER);
}

static void load_image(const char *path)
{
	struct stat st;
	__u8 *b0, *b1;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		die("%s: %s", path, strerror(errno));
	image_len = st.st_size;
	if (image_len < 2 * DMH_BLOCK_SIZE || image_len % DMH_BLOCK_SIZE ||
	    posix_memalign(&image, DMH_BLOCK_SIZE, image_len) ||
	    read(fd, image, image_len) != (ssize_t)image_len)
		die("%s: not a metadata image", path);
	close(fd);
	b0 = image;
	b1 = b0 + DMH_BLOCK_SIZE;
	if (!sealed(b0) && !sealed(b1))
		die("%s: no valid superblock", path);
	super = !sealed(b1) || (sealed(b0) && get_le(b0 + OFF(txid), 8) >
					      get_le(b1 + OFF(txid), 8)) ? b0 : b1;
}

static __u64 forged_value(const struct forgery *f)
{
	const __u8 *b = super;
	int t = f->base == CAP_HDD ? DMH_TIER_HDD : DMH_TIER_SSD;

	switch (f->base) {
	case REL:
		return get_le(b + f->f.off, f->f.width) + f->v;
	case PEER:
		return get_le(b + f->v, f->f.width);
	case CAP_SSD:
	case CAP_HDD:
		return get_le(b + OFF(rmap_blocks[t]), 8) * DMH_RMAP_PER_BLOCK *
		       get_le(b + OFF(chunk_sectors), 4) + f->v;
	case END:
		return get_le(b + OFF(heat_start), 8) +
		       get_le(b + OFF(heat_blocks), 8) +
		       get_le(b + OFF(slog_blocks), 8) + f->v;
	case DEV:
		return image_len / DMH_BLOCK_SIZE + f->v;
	default:
		return f->v;
	}
}

/* Entries in the forgery that starts at @f. */
static size_t group_len(const struct forgery *f)
{
	size_t n = 1;

	while (f[n - 1].more)
		n++;
	return n;
}

/* "FIELD=VALUE" of each entry of forgery @f, into @w. */
static void describe(const struct forgery *f, char *w, size_t wsize)
{
	size_t i, len = 0, n = group_len(f);
	const char *fmt;

	w[0] = '\0';
	for (i = 0; i < n && len < wsize; i++) {
		fmt = f[i].base == FILL ? "%s%s=%#llx..." : "%s%s=%llu";
		len += snprintf(w + len, wsize - len, fmt, i ? "," : "",
				f[i].f.name,
				(unsigned long long)forged_value(&f[i]));
	}
}

/* META = IMAGE, then forgery @f's superblock, the only one. */
static void write_meta(const struct forgery *f)
{
	static void *scratch;
	size_t i, n = group_len(f);
	__u8 *b;
	int fd;

	if (!scratch && posix_memalign(&scratch, DMH_BLOCK_SIZE,
				       2 * DMH_BLOCK_SIZE))
		die("out of memory");
	b = scratch;
	memcpy(b, super, DMH_BLOCK_SIZE);
	for (i = 0; i < n; i++) {
		if (f[i].base == FILL)
			memset(b + f[i].f.off, (int)f[i].v, f[i].f.width);
		else
			put_le(b + f[i].f.off, f[i].f.width, forged_value(&f[i]));
	}
	seal(b);
	/* into slot txid & 1, as a commit writes it; no other copy */
	memset(b + DMH_BLOCK_SIZE, 0, DMH_BLOCK_SIZE);
	if (get_le(b + OFF(txid), 8) & 1) {
		memcpy(b + DMH_BLOCK_SIZE, b, DMH_BLOCK_SIZE);
		memset(b, 0, DMH_BLOCK_SIZE);
	}
	fd = open(meta, O_WRONLY | O_DIRECT);
	if (fd < 0 || pwrite(fd, image, image_len, 0) != (ssize_t)image_len ||
	    pwrite(fd, b, 2 * DMH_BLOCK_SIZE, 0) != 2 * DMH_BLOCK_SIZE ||
	    fsync(fd) || close(fd))
		die("%s: cannot write: %s", meta, strerror(errno));
}

/* --- the kernel log ------------------------------------------------------ */

static int kmsg = -1;

/* Skip what the log holds so far. */
static void kmsg_mark(void)
{
	if (lseek(kmsg, 0, SEEK_END) < 0)
		die("/dev/kmsg: %s", strerror(errno));
}

/* The records since kmsg_mark(), their text only, a line each, into B. */
static void kmsg_read(struct str *b)
{
	char rec[8192], *text;
	ssize_t n;

	str_reset(b);
	for (;;) {
		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		text = strchr(rec, ';');
		str_add(b, "%.*s\n", (int)strcspn(text ? text + 1 : rec, "\n"),
			text ? text + 1 : rec);
	}
}

/* The target's error sentence in LOG, or NULL. */
static const char *target_error(const char *log, char *w, size_t wsize)
{
	static const char *const tags[] = { "hybrid-pool: ", "device-mapper: hybrid: " };
	const char *p;
	size_t i;

	for (i = 0; i < ARRAY_LEN(tags); i++) {
		p = strstr(log, tags[i]);
		if (p) {
			p += strlen(tags[i]);
			snprintf(w, wsize, "%.*s", (int)strcspn(p, "\n"), p);
			return w;
		}
	}
	return NULL;
}

/* A kernel report in LOG (the lab's verdict.sh words), or NULL. */
static const char *kernel_report(const char *log)
{
	static const char *const words[] = {
		"WARNING:", "BUG:", "kernel BUG", "Oops", "KASAN", "UBSAN",
		"general protection fault",
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(words); i++)
		if (strstr(log, words[i]))
			return words[i];
	return NULL;
}

/* --- one forgery --------------------------------------------------------- */

/* Read the whole of device NAME, SECTORS long, through a node of our own. */
static int read_whole(const char *name, __u64 sectors, struct str *why)
{
	static void *buf;
	__u64 done = 0;
	ssize_t n;
	int fd;

	if (!buf && posix_memalign(&buf, 4096, 1 << 20))
		die("out of memory");
	if (dm_ioctl(DM_DEV_STATUS, name, 0, NULL, 0, 0)) {
		str_add(why, " %s has no status: %s", name, strerror(errno));
		return -1;
	}
	unlink(NODE);
	if (mknod(NODE, S_IFBLK | 0600, io->dev))
		die("mknod %s: %s", NODE, strerror(errno));
	fd = open(NODE, O_RDONLY | O_DIRECT);
	if (fd < 0)
		die("%s: %s", NODE, strerror(errno));
	while ((n = read(fd, buf, 1 << 20)) > 0)
		done += n;
	if (n < 0 || done != sectors * 512)
		str_add(why, " %s read %llu of %llu bytes%s%s", name,
			(unsigned long long)done,
			(unsigned long long)sectors * 512, n < 0 ? ": " : "",
			n < 0 ? strerror(errno) : "");
	close(fd);
	unlink(NODE);
	return n < 0 || done != sectors * 512 ? -1 : 0;
}

/* The pool is active: each volume activates and reads; returns how many. */
static int use_pool(__u64 sectors, char **vols, int nvols, struct str *why)
{
	const char *err = NULL;
	char line[128];
	uint64_t len;
	int i, good = 0;

	if (dm_ioctl(DM_DEV_STATUS, "pool", 0, NULL, 0, 0)) {
		str_add(why, " pool has no status: %s", strerror(errno));
		return 0;
	}
	for (i = 0; i < nvols; i++) {
		snprintf(line, sizeof(line), "0 %llu hybrid %u:%u %s",
			 (unsigned long long)sectors, major(io->dev),
			 minor(io->dev), vols[i]);
		if (create_dev(VOL_DEV, line, &len, &err)) {
			str_add(why, " volume %s: %s: %s", vols[i], err,
				strerror(errno));
			continue;
		}
		good += !read_whole(VOL_DEV, sectors, why);
		if (remove_dev(VOL_DEV))
			die("cannot remove %s: %s", VOL_DEV, strerror(errno));
		if (dm_ioctl(DM_DEV_STATUS, "pool", 0, NULL, 0, 0))
			die("pool: %s", strerror(errno));
	}
	return good;
}

struct run {
	const char *table;
	__u64 sectors;
	char **vols;
	int nvols;
	struct str log, why;
};

/* Forge, activate, judge; returns 0 if the forgery behaved. */
static int forge(struct run *r, const struct forgery *f, FILE *res)
{
	char what[1024], msg[256], expect = f[group_len(f) - 1].expect;
	const char *err = NULL, *rep;
	uint64_t len;
	int active, good = 0;

	describe(f, what, sizeof(what));
	str_reset(&r->why);
	write_meta(f);
	kmsg_mark();
	active = !create_dev("pool", r->table, &len, &err);
	if (active) {
		good = use_pool(r->sectors, r->vols, r->nvols, &r->why);
		if (remove_dev("pool"))
			die("cannot remove the pool: %s", strerror(errno));
		if (expect == 'e')
			str_add(&r->why, " activated");
	}
	kmsg_read(&r->log);
	if (!active && !target_error(r->log.s, msg, sizeof(msg)))
		str_add(&r->why, " refused without a kernel error line (%s)", err);
	if (!active && expect == 'o')
		str_add(&r->why, " refused");
	rep = kernel_report(r->log.s);
	if (rep)
		str_add(&r->why, " kernel report '%s'", rep);
	if (active)
		printf("dmh: forged %s: activated, %d of %d volumes read\n", what,
		       good, r->nvols);
	else
		printf("dmh: forged %s: refused: %s\n", what,
		       target_error(r->log.s, msg, sizeof(msg)) ? msg : "?");
	if (!r->why.len)
		return 0;
	fprintf(res, "bad\t%s\t%s\n", what, r->why.s + 1);
	fflush(res);
	if (rep)
		fputs(r->log.s, stdout);
	return 1;
}

static size_t forgeries(void)
{
	size_t n = ARRAY_LEN(fixed);

	memcpy(list, fixed, sizeof(fixed));
	n += knob_forgeries(list + n);
	return n + free_forgeries(list + n);
}

/* -l: list the forgeries; -w N: write forgery N (from 1) to META, no dm. */
static int plan(const char *img, long only)
{
	char what[1024];
	size_t i, n, k = 0;

	load_image(img);
	n = forgeries();
	for (i = 0; i < n; i += group_len(&list[i])) {
		if (only > 0 && ++k != (size_t)only)
			continue;
		describe(&list[i], what, sizeof(what));
		printf("%zu %c %s\n", only > 0 ? k : ++k,
		       list[i + group_len(&list[i]) - 1].expect, what);
		if (only > 0 && meta)
			write_meta(&list[i]);
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"Usage: dmh-sbforge -i IMAGE -m META -t TABLE -s SECTORS -o RESULT VOL...\n"
		"       dmh-sbforge -i IMAGE -l | -w N -m META\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *img = NULL, *result = NULL;
	struct run r = { 0 };
	size_t i, n, k = 0;
	unsigned long bad = 0;
	long only = 0;
	FILE *res;
	int opt;

	while ((opt = getopt(argc, argv, "i:m:t:s:o:lw:")) != -1) {
		switch (opt) {
		case 'l':
			only = -1;
			break;
		case 'w':
			only = strtol(optarg, NULL, 10);
			break;
		case 'i':
			img = optarg;
			break;
		case 'm':
			meta = optarg;
			break;
		case 't':
			r.table = optarg;
			break;
		case 's':
			r.sectors = strtoull(optarg, NULL, 10);
			break;
		case 'o':
			result = optarg;
			break;
		default:
			usage();
		}
	}
	if (img && only)
		return plan(img, only);
	if (!img || !meta || !r.table || !r.sectors || !result || optind >= argc)
		usage();
	r.vols = argv + optind;
	r.nvols = argc - optind;
	load_image(img);
	n = forgeries();
	res = fopen(result, "w");
	if (!res)
		die("%s: %s", result, strerror(errno));
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg < 0)
		die("/dev/kmsg: %s", strerror(errno));
	dm_open();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i += group_len(&list[i]), k++)
		bad += forge(&r, &list[i], res);
	fprintf(res, "end\t%zu\t%lu\n", k, bad);
	if (fclose(res))
		die("%s: %s", result, strerror(errno));
	return bad ? 1 : 0;
}
