// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmh-logreplay: list and replay a dm-log-writes log.
 *
 *   dmh-logreplay list LOG
 *	one line per entry: "<index> <flags> <sector> <sectors> [mark]",
 *	flags a string of F (flush), U (FUA), D (discard), M (mark),
 *	m (metadata) or "-"; sectors in 512-byte units.
 *   dmh-logreplay replay LOG DEV FROM TO
 *	apply entries FROM..TO-1 (0-based) to DEV, in log order; a discard
 *	is replayed as zeros (one of the contents a discard may leave).
 *	Flushes DEV before it exits.
 *
 * The format, as Documentation/admin-guide/device-mapper/log-writes.rst and
 * the target describe it: a superblock in the first log sector (magic,
 * version, entry count, sector size), then for each entry one sector with
 * its header (sector, sector count, flags, data length, then the mark text
 * for marks) followed by the written data (none for discards), all in units
 * of the logged device's sector size.  The superblock's entry count is
 * updated only at FUA and mark entries, so the list also stops at the first
 * header that does not fit.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define LW_MAGIC	0x6a736677736872ULL
#define LW_FLUSH	0x01
#define LW_FUA		0x02
#define LW_DISCARD	0x04
#define LW_MARK		0x08
#define LW_META		0x10

/*
 * The on-disk superblock (28 bytes).  sectorsize is the last field, so no
 * packing is needed: the padding after it is read from the rest of the
 * first sector and never used.
 */
struct lw_super {
	uint64_t magic, version, nr_entries;
	uint32_t sectorsize;
};

static_assert(offsetof(struct lw_super, sectorsize) == 24, "dm-log-writes superblock layout");

struct lw_entry {
	uint64_t sector, nr_sectors, flags, data_len;
};

static void die(const char *what)
{
	fprintf(stderr, "dmh-logreplay: %s: %s\n", what, errno ? strerror(errno) : "bad log");
	exit(2);
}

static uint64_t dev_bytes(int fd)
{
	uint64_t b;

	if (ioctl(fd, BLKGETSIZE64, &b))
		die("BLKGETSIZE64");
	return b;
}

int main(int argc, char **argv)
{
	uint64_t idx, off, nr, logsize, from = 0, to = 0, ss, maxdata = 0;
	unsigned char *hdr, *data = NULL;
	struct lw_super sb;
	struct lw_entry e;
	int lfd, dfd = -1, replay;
	char flags[8], *f;

	if (argc == 3 && !strcmp(argv[1], "list")) {
		replay = 0;
	} else if (argc == 6 && !strcmp(argv[1], "replay")) {
		replay = 1;
	} else {
		fprintf(stderr, "Usage: dmh-logreplay list LOG | replay LOG DEV FROM TO\n");
		return 2;
	}
	lfd = open(argv[2], O_RDONLY);
	if (lfd < 0)
		die(argv[2]);
	logsize = dev_bytes(lfd);
	if (pread(lfd, &sb, sizeof(sb), 0) != sizeof(sb))
		die("superblock");
	if (sb.magic != LW_MAGIC || sb.version != 1 || sb.sectorsize < 512 ||
	    sb.sectorsize > 65536 || sb.sectorsize & (sb.sectorsize - 1)) {
		errno = 0;
		die("not a dm-log-writes log");
	}
	ss = sb.sectorsize;
	hdr = malloc(ss);
	if (!hdr)
		die("memory");
	if (replay) {
		from = strtoull(argv[4], NULL, 0);
		to = strtoull(argv[5], NULL, 0);
		dfd = open(argv[3], O_RDWR);
		if (dfd < 0)
			die(argv[3]);
	}
	off = ss;
	for (idx = 0; idx < sb.nr_entries && (!replay || idx < to); idx++) {
		if (off + ss > logsize || pread(lfd, hdr, ss, off) != (ssize_t)ss) {
			errno = 0;
			die("entry header past the end of the log");
		}
		memcpy(&e, hdr, sizeof(e));
		off += ss;
		nr = e.flags & LW_DISCARD ? 0 : e.nr_sectors;
		if (!replay) {
			f = flags;
			if (e.flags & LW_FLUSH)
				*f++ = 'F';
			if (e.flags & LW_FUA)
				*f++ = 'U';
			if (e.flags & LW_DISCARD)
				*f++ = 'D';
			if (e.flags & LW_MARK)
				*f++ = 'M';
			if (e.flags & LW_META)
				*f++ = 'm';
			if (f == flags)
				*f++ = '-';
			*f = 0;
			printf("%llu %s %llu %llu", (unsigned long long)idx, flags,
			       (unsigned long long)(e.sector * (ss / 512)),
			       (unsigned long long)(e.nr_sectors * (ss / 512)));
			if (e.flags & LW_MARK && e.data_len < ss - sizeof(e))
				printf(" %.*s", (int)e.data_len, hdr + sizeof(e));
			printf("\n");
		} else if (idx >= from && e.flags & LW_DISCARD && e.nr_sectors) {
			uint64_t range[2] = { e.sector * ss, e.nr_sectors * ss };

			if (ioctl(dfd, BLKZEROOUT, range))
				die("zeroout");
		} else if (idx >= from && nr) {
			if (nr * ss > maxdata) {
				free(data);
				maxdata = nr * ss;
				data = malloc(maxdata);
				if (!data)
					die("memory");
			}
			if (pread(lfd, data, nr * ss, off) != (ssize_t)(nr * ss))
				die("entry data");
			if (pwrite(dfd, data, nr * ss, e.sector * ss) != (ssize_t)(nr * ss))
				die("replay write");
		}
		off += nr * ss;
	}
	if (replay) {
		if (idx < to) {
			errno = 0;
			die("the log has fewer entries than asked for");
		}
		if (fsync(dfd))
			die("fsync");
		close(dfd);
	}
	free(data);
	free(hdr);
	close(lfd);
	return 0;
}
