// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmh-stamp: a data verifier for power-cut and write-log replay tests.
 *
 *   dmh-stamp write DEV --tag T [--ops N] [--interval I] [--keep NAME]
 *                       [--log FILE] [--mark DMNAME]
 *   dmh-stamp verify DEV --tag T --flushed K [--bound B] [--interval I]
 *
 * The device is seen as 4 KiB blocks.  Operation k (k = 0, 1, ...) of tag T
 * is a pure function of (T, k, device size, interval): every I-th one is a
 * flush (fsync of the block device), about 8 % are discards of up to 32
 * blocks, the rest are O_DIRECT writes of 1..8 blocks (half of them in the
 * first eighth of the device, so that region runs hot).  A block written by
 * op k holds a stamp: magic, tag, its own block number, k, and a 64-bit
 * checksum over the whole 4 KiB (the rest is filler derived from the same
 * values).  A block read from the wrong offset or another volume, a stale
 * or a torn block are all detected.
 *
 * write: runs ops 0..N-1 (N = 0: until killed) and ends with a flush.
 * After each completed flush (op k) it prints "DMH-KEEP st_NAME=k" (the lab
 * host keeps the last one across a power cut), with --log appends k to
 * FILE, and with --mark, sends
 * "mark st.T.k" to the dm-log-writes device DMNAME, so that a replayed log
 * says which flush had completed by each point.
 *
 * verify: K is the index of the last flush op known to have completed (-1:
 * none).  Every block must hold
 *   - the stamp of the last write to it among ops <= K, or of a later write
 *     to it (op <= B, default K + 2 * I + 1);
 *   - or zeros, if no op <= K wrote it, or a discard (op <= B) covered it
 *     after its last write <= K.
 * It prints counts and exits 1 if any block breaks the rule ("lost" counts
 * blocks whose acknowledged data is gone: zeros or a stale stamp).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define BLK		4096u
#define STAMP_MAGIC	0x504d415453484d44ULL	/* "DMHSTAMP" */

struct stamp {
	uint64_t magic;
	uint64_t tag;
	uint64_t blk;
	uint64_t seq;
	uint64_t sum;
};

enum op_kind { OP_WRITE, OP_DISCARD, OP_FLUSH };

struct op {
	enum op_kind kind;
	uint64_t start, len;	/* blocks */
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static void gen_op(uint64_t tag, uint64_t k, uint64_t nblocks,
		   uint64_t interval, struct op *op)
{
	uint64_t h = mix64(mix64(tag + 0x9e3779b97f4a7c15ULL) ^ k);
	uint64_t h2 = mix64(h), h3 = mix64(h2);

	if (k % interval == interval - 1) {
		op->kind = OP_FLUSH;
		op->start = 0;
		op->len = 0;
		return;
	}
	if (h % 100 < 8) {
		op->kind = OP_DISCARD;
		op->len = 1 + h3 % 32;
		op->start = h2 % nblocks;
	} else {
		uint64_t hot = nblocks / 8 ? nblocks / 8 : 1;

		op->kind = OP_WRITE;
		op->len = 1 + h3 % 8;
		op->start = (h >> 32) % 2 ? h2 % hot : h2 % nblocks;
	}
	if (op->start + op->len > nblocks)
		op->len = nblocks - op->start;
}

static uint64_t sum_block(const unsigned char *b)
{
	uint64_t s = 0x1234567887654321ULL, w;
	unsigned int i;

	for (i = 0; i < BLK; i += 8) {
		memcpy(&w, b + i, 8);
		if (i == offsetof(struct stamp, sum))
			w = 0;
		s = mix64(s ^ w) + i;
	}
	return s;
}

static void make_block(unsigned char *b, uint64_t tag, uint64_t blk,
		       uint64_t seq)
{
	struct stamp st = { STAMP_MAGIC, tag, blk, seq, 0 };
	uint64_t f = mix64(tag ^ mix64(blk ^ mix64(seq)));
	unsigned int i;

	for (i = sizeof(st); i < BLK; i += 8) {
		f = mix64(f + i);
		memcpy(b + i, &f, 8);
	}
	memcpy(b, &st, sizeof(st));
	st.sum = sum_block(b);
	memcpy(b, &st, sizeof(st));
}

static void die(const char *what)
{
	fprintf(stderr, "dmh-stamp: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Send "mark TEXT" to dm device NAME (dm-log-writes). */
static int dm_mark(const char *name, const char *text)
{
	size_t len = sizeof(struct dm_ioctl) + sizeof(struct dm_target_msg) +
		     strlen("mark ") + strlen(text) + 1;
	struct dm_ioctl *io;
	struct dm_target_msg *msg;
	int fd, r;

	io = calloc(1, len + 64);
	if (!io)
		return -1;
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	io->data_size = len + 64;
	io->data_start = sizeof(*io);
	snprintf(io->name, sizeof(io->name), "%s", name);
	msg = (struct dm_target_msg *)((char *)io + io->data_start);
	msg->sector = 0;
	sprintf(msg->message, "mark %s", text);
	fd = open("/dev/mapper/control", O_RDWR);
	if (fd < 0) {
		free(io);
		return -1;
	}
	r = ioctl(fd, DM_TARGET_MSG, io);
	close(fd);
	free(io);
	return r;
}

struct args {
	const char *dev, *keep, *mark, *log;
	uint64_t tag, ops, interval;
	int64_t flushed, bound;
};

static uint64_t dev_blocks(int fd)
{
	uint64_t bytes;

	if (ioctl(fd, BLKGETSIZE64, &bytes))
		die("BLKGETSIZE64");
	return bytes / BLK;
}

static int do_write(const struct args *a)
{
	unsigned char *buf;
	uint64_t nblocks, k, i;
	char text[64];
	FILE *log = NULL;
	struct op op;
	int fd;

	if (a->log) {
		log = fopen(a->log, "w");
		if (!log)
			die(a->log);
	}
	fd = open(a->dev, O_RDWR | O_DIRECT);
	if (fd < 0)
		die(a->dev);
	nblocks = dev_blocks(fd);
	if (!nblocks)
		die("empty device");
	if (posix_memalign((void **)&buf, BLK, 8 * BLK))
		die("memory");
	for (k = 0;; k++) {
		gen_op(a->tag, k, nblocks, a->interval, &op);
		switch (op.kind) {
		case OP_WRITE:
			for (i = 0; i < op.len; i++)
				make_block(buf + i * BLK, a->tag, op.start + i, k);
			if (pwrite(fd, buf, op.len * BLK, op.start * BLK) !=
			    (ssize_t)(op.len * BLK))
				die("write");
			break;
		case OP_DISCARD: {
			uint64_t range[2] = { op.start * BLK, op.len * BLK };

			if (ioctl(fd, BLKDISCARD, range) && errno != EOPNOTSUPP)
				die("discard");
			break;
		}
		case OP_FLUSH:
			if (fsync(fd))
				die("fsync");
			if (a->mark) {
				snprintf(text, sizeof(text), "st.%llu.%llu",
					 (unsigned long long)a->tag,
					 (unsigned long long)k);
				if (dm_mark(a->mark, text))
					die("log-writes mark");
			}
			if (a->keep) {
				printf("DMH-KEEP st_%s=%llu\n", a->keep,
				       (unsigned long long)k);
				fflush(stdout);
			}
			if (log) {
				fprintf(log, "%llu\n", (unsigned long long)k);
				fflush(log);
			}
			/* --ops N: stop at the first flush at or past op N - 1. */
			if (a->ops && k + 1 >= a->ops)
				goto done;
			break;
		}
	}
done:
	if (log)
		fclose(log);
	close(fd);
	free(buf);
	return 0;
}

static int zero_block(const unsigned char *b)
{
	unsigned int i;

	for (i = 0; i < BLK; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Does op SEQ of TAG write block B? */
static int writes(uint64_t tag, uint64_t seq, uint64_t b, uint64_t nblocks,
		  uint64_t interval)
{
	struct op op;

	gen_op(tag, seq, nblocks, interval, &op);
	return op.kind == OP_WRITE && b >= op.start && b < op.start + op.len;
}

/* show_bad(): one line on a block that broke the rule. */
static void show_bad(uint64_t tag, uint64_t blk, const char *bad, int64_t min,
		     int zeros_ok, const struct stamp *st)
{
	int valid = st->magic == STAMP_MAGIC;

	printf("dmh-stamp: tag %llu block %llu: %s (want seq >= %lld%s; ",
	       (unsigned long long)tag, (unsigned long long)blk, bad,
	       (long long)min, zeros_ok ? " or zeros" : "");
	printf("found tag %llu block %llu seq %llu)\n",
	       valid ? (unsigned long long)st->tag : 0,
	       valid ? (unsigned long long)st->blk : 0,
	       valid ? (unsigned long long)st->seq : 0);
}

static int do_verify(const struct args *a)
{
	uint64_t nblocks, k, b, i;
	unsigned long long ok = 0, lost = 0, stale = 0, wrongplace = 0;
	unsigned long long corrupt = 0, phantom = 0, acked = 0, zeros = 0, later = 0;
	int64_t *min;
	unsigned char *zok, *buf;
	struct stamp st;
	struct op op;
	int fd, shown = 0;

	fd = open(a->dev, O_RDONLY | O_DIRECT);
	if (fd < 0)
		die(a->dev);
	nblocks = dev_blocks(fd);
	min = malloc(nblocks * sizeof(*min));
	zok = malloc(nblocks);
	if (!min || !zok || posix_memalign((void **)&buf, BLK, 64 * BLK))
		die("memory");
	for (b = 0; b < nblocks; b++) {
		min[b] = -1;
		zok[b] = 1;
	}
	for (k = 0; (int64_t)k <= a->bound; k++) {
		gen_op(a->tag, k, nblocks, a->interval, &op);
		for (b = op.start; b < op.start + op.len; b++) {
			if (op.kind == OP_DISCARD) {
				zok[b] = 1;
			} else if ((int64_t)k <= a->flushed) {
				min[b] = k;
				zok[b] = 0;
			}
		}
	}
	for (b = 0; b < nblocks; b += 64) {
		uint64_t n = nblocks - b < 64 ? nblocks - b : 64;

		if (pread(fd, buf, n * BLK, b * BLK) != (ssize_t)(n * BLK))
			die("read");
		for (i = 0; i < n; i++) {
			const unsigned char *p = buf + i * BLK;
			uint64_t blk = b + i;
			const char *bad = NULL;

			if (min[blk] >= 0)
				acked++;
			memcpy(&st, p, sizeof(st));
			if (zero_block(p)) {
				zeros++;
				if (!zok[blk]) {
					bad = "zeros, acknowledged data lost";
					lost++;
				}
			} else if (st.magic != STAMP_MAGIC || st.sum != sum_block(p)) {
				bad = "not a valid stamp (torn or corrupt)";
				corrupt++;
			} else if (st.tag != a->tag || st.blk != blk) {
				bad = "stamp of another block or volume";
				wrongplace++;
			} else if ((int64_t)st.seq > a->bound ||
				   !writes(a->tag, st.seq, blk, nblocks, a->interval)) {
				bad = "stamp of a write never issued";
				phantom++;
			} else if ((int64_t)st.seq < min[blk]) {
				bad = "stale stamp, acknowledged write lost";
				stale++;
				lost++;
			} else if ((int64_t)st.seq > a->flushed) {
				later++;
			}
			if (!bad) {
				ok++;
				continue;
			}
			if (shown++ < 20)
				show_bad(a->tag, blk, bad, min[blk], zok[blk], &st);
		}
	}
	printf("dmh-stamp: verify %s tag %llu flushed %lld bound %lld: blocks %llu ok %llu",
	       a->dev, (unsigned long long)a->tag, (long long)a->flushed,
	       (long long)a->bound, (unsigned long long)nblocks, ok);
	printf(" acked %llu later %llu zeros %llu lost %llu stale %llu wrongplace %llu",
	       acked, later, zeros, lost, stale, wrongplace);
	printf(" corrupt %llu phantom %llu\n", corrupt, phantom);
	close(fd);
	free(buf);
	free(min);
	free(zok);
	return ok == nblocks ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr,
		"Usage: dmh-stamp write DEV --tag T [--ops N] [--interval I] [--keep NAME]\n"
		"                      [--log FILE] [--mark DM]\n"
		"       dmh-stamp verify DEV --tag T --flushed K [--bound B] [--interval I]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct args a = { .interval = 16, .flushed = -2, .bound = -2 };
	int i;

	if (argc < 3)
		usage();
	a.dev = argv[2];
	for (i = 3; i + 1 < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];

		if (!strcmp(o, "--tag"))
			a.tag = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--ops"))
			a.ops = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--interval"))
			a.interval = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--keep"))
			a.keep = v;
		else if (!strcmp(o, "--log"))
			a.log = v;
		else if (!strcmp(o, "--mark"))
			a.mark = v;
		else if (!strcmp(o, "--flushed"))
			a.flushed = strtoll(v, NULL, 0);
		else if (!strcmp(o, "--bound"))
			a.bound = strtoll(v, NULL, 0);
		else
			usage();
	}
	if (i != argc || !a.tag || a.interval < 2)
		usage();
	if (!strcmp(argv[1], "write"))
		return do_write(&a);
	if (strcmp(argv[1], "verify") || a.flushed < -1)
		usage();
	if (a.bound == -2)
		a.bound = a.flushed + 2 * (int64_t)a.interval + 1;
	return do_verify(&a);
}
