/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pools' and volumes' status lines in Prometheus' text exposition
 * format (hctl-prom.c), and node_exporter's textfile-collector file.
 * Nothing here talks to device-mapper: "hybridctl metrics"
 * (hctl-metrics.c) gathers the status lines, tools/tests/hctl_prom_test.c
 * feeds canned ones.
 */
#ifndef DMH_TOOLS_HCTL_PROM_H
#define DMH_TOOLS_HCTL_PROM_H

#include <stdio.h>

#include "hctl.h"

/* One active pool: its name and parsed status line. */
struct hp_pool {
	const char *name;
	const struct hc_pool_status *st;
};

/* One active volume device; @guest NULL when no guest is known. */
struct hp_vol {
	const char *pool, *volume, *guest;
	u64 size_sectors, chunk_sectors;
	const struct hc_vol_status *st;
};

/* The metric families of @np pools and @nv volumes, each family once. */
void hp_write(FILE *f, const struct hp_pool *p, u32 np,
	      const struct hp_vol *v, u32 nv);

/*
 * Write hp_write()'s text as @dir/@name atomically: a temporary file in
 * @dir, fsync'ed, then renamed over @name, so node_exporter never reads a
 * partial file.  0, or -errno with no temporary file left behind.
 */
int hp_textfile(const char *dir, const char *name, const struct hp_pool *p,
		u32 np, const struct hp_vol *v, u32 nv);

#endif /* DMH_TOOLS_HCTL_PROM_H */
