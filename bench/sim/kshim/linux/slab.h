/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef SIM_SHIM_SLAB_H
#define SIM_SHIM_SLAB_H

#include <stdlib.h>

#define GFP_KERNEL	0

static inline void *kzalloc(size_t n, int gfp)
{
	return calloc(1, n);
}

static inline void *kvzalloc(size_t n, int gfp)
{
	return calloc(1, n);
}

static inline void *kcalloc(size_t n, size_t size, int gfp)
{
	return calloc(n, size);
}

static inline void kfree(const void *p)
{
	free((void *)p);
}

static inline void kvfree(const void *p)
{
	free((void *)p);
}

#endif
