/* SPDX-License-Identifier: GPL-2.0-only */
/* bench/sim shim: an xarray of value entries as a dense array. */
#ifndef SIM_SHIM_XARRAY_H
#define SIM_SHIM_XARRAY_H

#include <linux/types.h>

struct xarray {
	void **slot;
	unsigned long n;
};

static inline void *xa_mk_value(unsigned long v)
{
	return (void *)((v << 1) | 1);
}

static inline unsigned long xa_to_value(const void *e)
{
	return (unsigned long)e >> 1;
}

static inline void *xa_load(struct xarray *xa, unsigned long index)
{
	return index < xa->n ? xa->slot[index] : NULL;
}

/* The first entry at or after *@index, which moves there; NULL: none. */
static inline void *xa_find_from(struct xarray *xa, unsigned long *index)
{
	for (; *index < xa->n; (*index)++)
		if (xa->slot[*index])
			return xa->slot[*index];
	return NULL;
}

static inline unsigned long *xa_start_at(unsigned long *index,
					 unsigned long start)
{
	*index = start;
	return index;
}

#define xa_for_each_start(xa, index, entry, start)			\
	for (unsigned long *_i = xa_start_at(&(index), start);		\
	     ((entry) = xa_find_from(xa, _i)) != NULL; (*_i)++)

#endif
