// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl metrics (see hybridctl(8)): every active pool and volume in
 * Prometheus' text exposition format, on stdout or as node_exporter's
 * textfile-collector file, once or every --interval seconds.
 *
 * The pools come from pool_open() and the volumes from the sampling that
 * stats uses (hctl-report.c), so both reports see the same devices and
 * the same Xen guests (libvirt's guests are looked up here, by device
 * name, in hctl-libvirt.c); hctl-prom.c turns the parsed status lines into
 * text.  A volume whose status cannot be read at this instant (removed
 * between listing and sampling) is left out rather than reported as 0,
 * which rate() would take for a counter reset.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hctl-libvirt.h"
#include "hctl-prom.h"
#include "hybridctl.h"

#define TEXTFILE_NAME	"dm_hybrid.prom"

/* What "metrics" was asked for. */
struct metrics_args {
	const char *pool;	/* NULL: every active pool */
	const char *dir;	/* --textfile, or NULL for stdout */
	u64 interval;		/* seconds, 0: once */
};

/* One instant's pools and volumes, as hctl-prom.c takes them. */
struct snapshot {
	char **names;		/* list_pools(): the pools' names point here */
	u32 nnames;
	struct pool *pools;
	struct hp_pool *hp;
	u32 np;
	struct sample_vol *sv;
	struct hp_vol *hv;
	char (*guest)[64];	/* the libvirt guest of hv[i] */
	u32 nv;
};

static sig_atomic_t stop;	/* read after each sleep, a call */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int metrics_args(int argc, char **argv, struct metrics_args *ma)
{
	static const struct option opts[] = {
		{ "textfile", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "pool", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(ma, 0, sizeof(*ma));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "t:i:p:", opts, NULL)) != -1) {
		if (ch == 't') {
			ma->dir = optarg;
		} else if (ch == 'p') {
			ma->pool = optarg;
		} else if (ch != 'i' || hc_parse_u64(optarg, &ma->interval) ||
			   !ma->interval || ma->interval > 86400) {
			if (ch == 'i')
				ctl_err("--interval takes whole seconds, 1 to 86400.");
			return ctl_usage();
		}
	}
	if (optind < argc && !ma->pool)
		ma->pool = argv[optind++];
	if (optind < argc || (ma->interval && !ma->dir)) {
		if (ma->interval && !ma->dir)
			ctl_err("--interval needs --textfile.");
		return ctl_usage();
	}
	return 0;
}

/* The active pools, or @only: 0, or -1 when @only is not active. */
static int snap_pools(struct snapshot *s, const char *only)
{
	u32 n, i;

	if (!only && list_pools(&s->names, &s->nnames))
		return -1;
	n = only ? 1 : s->nnames;
	s->pools = calloc(n + 1, sizeof(*s->pools));
	s->hp = calloc(n + 1, sizeof(*s->hp));
	if (!s->pools || !s->hp)
		return -1;
	if (only && pool_open(only, &s->pools[0], 0))
		return -1;
	s->np = only ? 1 : 0;
	for (i = 0; i < s->nnames; i++)
		if (!pool_open(s->names[i], &s->pools[s->np], 1))
			s->np++;
	for (i = 0; i < s->np; i++) {
		s->hp[i].name = s->pools[i].name;
		s->hp[i].st = &s->pools[i].st;
	}
	return 0;
}

/* The volumes of the snapshot's pools whose status could be read. */
static int snap_vols(struct snapshot *s, const char *only)
{
	u32 n, i;

	if (stats_targets(only, NULL, 0, &s->sv, &n))
		return -1;
	stats_sample(s->sv, n);
	s->hv = calloc(n + 1, sizeof(*s->hv));
	s->guest = calloc(n + 1, sizeof(*s->guest));
	if (!s->hv || !s->guest)
		return -1;
	for (i = 0; i < n; i++) {
		struct sample_vol *v = &s->sv[i];
		struct hp_vol *h = &s->hv[s->nv];

		if (!v->ok)
			continue;
		h->pool = v->pool;
		h->volume = v->name[0] ? v->name : v->dev;
		h->guest = v->xen.found ? v->xen.name : NULL;
		if (!h->guest && hctl_libvirt_guest(v->dev, s->guest[s->nv],
						    sizeof(s->guest[0])))
			h->guest = s->guest[s->nv];
		h->size_sectors = v->size;
		h->chunk_sectors = v->chunk_sectors;
		h->st = &v->st;
		s->nv++;
	}
	return 0;
}

static void snap_free(struct snapshot *s)
{
	u32 i;

	for (i = 0; s->pools && i < s->np; i++)
		free_pool(&s->pools[i]);
	free_names(s->names, s->nnames);
	free(s->pools);
	free(s->hp);
	free(s->sv);
	free(s->hv);
	free(s->guest);
	memset(s, 0, sizeof(*s));
}

/* Take a snapshot and write it: 0, or CTL_EXIT_FAIL with an error printed. */
static int metrics_once(const struct metrics_args *ma)
{
	struct snapshot s = { 0 };
	int r = 0;

	if (snap_pools(&s, ma->pool) || snap_vols(&s, ma->pool)) {
		snap_free(&s);
		return CTL_EXIT_FAIL;
	}
	if (ma->dir) {
		r = hp_textfile(ma->dir, TEXTFILE_NAME, s.hp, s.np, s.hv, s.nv);
		if (r)
			ctl_err("cannot write %s/%s: %s.", ma->dir, TEXTFILE_NAME,
				strerror(-r));
	} else {
		hp_write(stdout, s.hp, s.np, s.hv, s.nv);
		r = fflush(stdout) ? -errno : 0;
	}
	snap_free(&s);
	return r ? CTL_EXIT_FAIL : 0;
}

/*
 * --interval: write every N seconds until SIGINT or SIGTERM, which end the
 * loop between two writes so that no temporary file is left behind.  A
 * failed write is reported and retried at the next interval, as a pool
 * may be deactivated while the loop runs.
 */
static int metrics_loop(const struct metrics_args *ma)
{
	struct timespec next, now;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!stop) {
		hctl_xen_forget();	/* guests come and go */
		metrics_once(ma);
		next.tv_sec += (time_t)ma->interval;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec)
			next = now;	/* slow or suspended: do not catch up */
		while (!stop && now.tv_sec < next.tv_sec) {
			sleep(1);	/* interrupted by a signal: checked */
			clock_gettime(CLOCK_MONOTONIC, &now);
		}
	}
	return 0;
}

int cmd_metrics(int argc, char **argv)
{
	struct metrics_args ma;
	struct stat sb;
	int r = metrics_args(argc, argv, &ma);

	if (r)
		return r;
	if (ma.dir && (stat(ma.dir, &sb) || !S_ISDIR(sb.st_mode))) {
		ctl_err("%s is not a directory.", ma.dir);
		return CTL_EXIT_FAIL;
	}
	return ma.interval ? metrics_loop(&ma) : metrics_once(&ma);
}
