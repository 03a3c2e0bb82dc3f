/* SPDX-License-Identifier: GPL-2.0-only */
/* bench/sim shim: the kernel's basic types over the uapi header. */
#ifndef SIM_SHIM_TYPES_H
#define SIM_SHIM_TYPES_H

#include_next <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef u64 sector_t;
/* One thread: the counter of struct dmh_volume is a plain int. */
typedef struct {
	int counter;
} atomic_t;

#define __bitwise
#define __force
#define __rcu
#define __percpu

#endif
