/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef SIM_SHIM_DEVICE_MAPPER_H
#define SIM_SHIM_DEVICE_MAPPER_H

#include <linux/kernel.h>

#define DMERR(fmt, ...)	fprintf(stderr, DM_MSG_PREFIX ": " fmt "\n", ##__VA_ARGS__)
#define DMEMIT(fmt, ...)						\
	(sz += (sz < maxlen ? snprintf(result + sz, maxlen - sz, fmt, ##__VA_ARGS__) : 0))

#endif
