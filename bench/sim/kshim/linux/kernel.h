/* SPDX-License-Identifier: GPL-2.0-only */
/* bench/sim shim: the helpers the monitor and the policy use. */
#ifndef SIM_SHIM_KERNEL_H
#define SIM_SHIM_KERNEL_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#define U8_MAX		((u8)~0u)
#define U32_MAX		((u32)~0u)
#define U64_MAX		((u64)~0ull)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define min(a, b)	({ typeof(a) _a = (a); typeof(b) _b = (b); _a < _b ? _a : _b; })
#define max(a, b)	({ typeof(a) _a = (a); typeof(b) _b = (b); _a > _b ? _a : _b; })
#define min_t(t, a, b)	({ typeof((t)0) _x = (a), _y = (b); _x < _y ? _x : _y; })
#define max_t(t, a, b)	({ typeof((t)0) _x = (a), _y = (b); _x > _y ? _x : _y; })
#define min3(a, b, c)	min(min(a, b), c)
#define READ_ONCE(x)	(x)
#define WRITE_ONCE(x, v)	((x) = (v))
#define cond_resched()	do { } while (0)

static inline u64 DIV_ROUND_UP_ULL(u64 n, u64 d)
{
	return (n + d - 1) / d;
}

static inline u64 div64_u64(u64 n, u64 d)
{
	return n / d;
}

static inline int ilog2(u64 x)
{
	return 63 - __builtin_clzll(x);
}

static const char hex_asc[] = "0123456789abcdef";

static inline int kstrtou32(const char *s, unsigned int base, u32 *v)
{
	char *end;
	unsigned long x = strtoul(s, &end, base);

	if (!*s || *end || x > U32_MAX)
		return -EINVAL;
	*v = x;
	return 0;
}

#endif
