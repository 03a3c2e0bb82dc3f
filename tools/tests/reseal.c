// SPDX-License-Identifier: GPL-2.0-only
/*
 * reseal IMAGE BLOCK OFFSET BYTE... - write the bytes (hex) at OFFSET of
 * metadata block BLOCK and seal the block again: its checksum recomputed
 * for its type (the superblock's for blocks 0 and 1, else the one its
 * header names).  The tests forge blocks with it that only a rule other
 * than the checksum can refuse.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "md.h"

/* The block's type: the superblock's for blocks 0 and 1, else its own. */
static u32 block_type(const u8 *b, u64 nr)
{
	__le32 v;

	memcpy(&v, b + 4, sizeof(v));
	return nr < 2 ? DMH_BT_SUPER : le32toh(v);
}

int main(int argc, char **argv)
{
	u8 b[DMH_BLOCK_SIZE];
	unsigned long off;
	__le32 v;
	u64 nr;
	int fd, i;

	if (argc < 5) {
		fprintf(stderr, "usage: reseal IMAGE BLOCK OFFSET BYTE...\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	nr = strtoull(argv[2], NULL, 0);
	off = strtoul(argv[3], NULL, 0);
	if (fd < 0 || off < 4 || off + argc - 4 > DMH_BLOCK_SIZE ||
	    md_read_block(fd, nr, b)) {
		fprintf(stderr, "reseal: cannot read block %s of %s at %s\n",
			argv[2], argv[1], argv[3]);
		return 1;
	}
	for (i = 4; i < argc; i++)
		b[off + i - 4] = strtoul(argv[i], NULL, 16);
	v = htole32(md_block_csum(b, block_type(b, nr)));
	memcpy(b, &v, sizeof(v));
	if (md_write_block(fd, nr, b) || close(fd)) {
		fprintf(stderr, "reseal: cannot write %s\n", argv[1]);
		return 1;
	}
	return 0;
}
