/* SPDX-License-Identifier: GPL-2.0-only */
/* bench/sim shim: a bio is a position, a size and an operation. */
#ifndef SIM_SHIM_BLK_TYPES_H
#define SIM_SHIM_BLK_TYPES_H

#include <linux/kernel.h>
#include <linux/types.h>

struct block_device;

typedef u8 blk_status_t;

enum req_op { REQ_OP_READ = 0, REQ_OP_WRITE = 1, REQ_OP_DISCARD = 3 };
#define REQ_OP_MASK	0xffu

struct bvec_iter {
	sector_t bi_sector;
	unsigned int bi_size;		/* bytes */
};

struct bio {
	struct bvec_iter bi_iter;
	unsigned int bi_opf;
};

static inline enum req_op bio_op(const struct bio *bio)
{
	return (enum req_op)(bio->bi_opf & REQ_OP_MASK);
}

static inline bool op_is_write(unsigned int op)
{
	return op & 1;
}

static inline unsigned int bio_sectors(const struct bio *bio)
{
	return bio->bi_iter.bi_size >> 9;
}

static inline sector_t bio_end_sector(const struct bio *bio)
{
	return bio->bi_iter.bi_sector + bio_sectors(bio);
}

#endif
