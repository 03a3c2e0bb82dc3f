// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl pool replace-ssd (see hybridctl(8)): move a pool onto a new
 * SSD while its volumes stay in use.  The pool evacuates its SSD (message
 * "evacuate on"), its table is reloaded with the new SSD in place of the
 * old one (dm-hybrid.rst, "Evacuating and replacing the SSD"), the
 * evacuation ends and the hybridtab names the new SSD.  The new SSD is
 * checked before anything changes; a step that fails afterwards says
 * where it left the pool and how to go on.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "hybridctl.h"

/* How long a reload refused as busy (a migration, a log record) is retried. */
#define SETTLE_SECS	30

struct replace {
	const char *path;		/* the new SSD, as given */
	char devt[32];			/* its major:minor */
	u64 bytes;
	struct pool p;
	int wait;			/* --wait SECS; -1: no limit */
};

static int replace_args(int argc, char **argv, struct replace *r)
{
	static const struct option opts[] = {
		{ "wait", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	u64 w;

	r->wait = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "w:", opts, NULL)) != -1) {
		if (ch == 'w' && !hc_parse_u64(optarg, &w) && w <= 86400) {
			r->wait = (int)w;
		} else {
			if (ch == 'w')
				ctl_err("--wait takes a number of seconds (at most 86400).");
			return CTL_EXIT_USAGE;
		}
	}
	if (optind + 2 != argc)
		return ctl_usage();
	r->path = argv[optind + 1];
	return 0;
}

/* Whether major:minor string @s is device @dt. */
static int same_dev(const char *s, dev_t dt)
{
	unsigned int a, b;

	return sscanf(s, "%u:%u", &a, &b) == 2 && a == major(dt) &&
	       b == minor(dt);
}

/* 1 if @dt is the device of a dm-hybrid volume (of any pool). */
static int is_volume(dev_t dt, char *name, size_t len)
{
	struct voldev *v;
	u32 n, i;
	int found = 0;

	if (list_voldevs(NULL, &v, &n))
		return 0;
	for (i = 0; i < n && !found; i++) {
		found = (unsigned int)v[i].info.major == major(dt) &&
			(unsigned int)v[i].info.minor == minor(dt);
		if (found)
			snprintf(name, len, "%s", v[i].name);
	}
	free(v);
	return found;
}

/*
 * The new SSD is a block device, none of the pool's, no volume, not
 * smaller than the pool's SSD tier and used by nothing: 0, or -1 told.
 */
static int check_new_ssd(struct replace *r)
{
	static const char *const role[3] = { "metadata device", "SSD", "HDD" };
	const struct pool *p = &r->p;
	u64 need = p->st.total[0] * p->st.chunk_sectors * 512;
	char a[32], b[32], vol[128];
	dev_t dt;
	int i;

	if (blk_size("new SSD", r->path, &r->bytes) || blk_devt(r->path, &dt))
		return -1;
	snprintf(r->devt, sizeof(r->devt), "%u:%u", major(dt), minor(dt));
	for (i = 0; i < 3; i++) {
		if (same_dev(p->tb.dev[i], dt)) {
			ctl_err("%s (%s) is the %s of pool %s%s.", r->path,
				r->devt, role[i], p->name,
				i == 1 ? " already; give the device that replaces it" : "");
			return -1;
		}
	}
	if (is_volume(dt, vol, sizeof(vol))) {
		ctl_err("%s is dm-hybrid volume %s; a pool cannot keep its SSD on a volume.",
			r->path, vol);
		return -1;
	}
	if (r->bytes < need) {
		ctl_err("the new SSD %s (%s) is smaller than the SSD of pool %s (%s, %llu chunks of %s); it must be as large or larger.",
			r->path, hc_format_size(r->bytes, a, sizeof(a)), p->name,
			hc_format_size(need, b, sizeof(b)),
			(unsigned long long)p->st.total[0],
			hc_format_size(p->st.chunk_sectors * 512, vol, sizeof(vol)));
		return -1;
	}
	return blk_free("new SSD", r->path);
}

/* The pool is one whose SSD can be evacuated: 0, or -1 told. */
static int check_pool(const struct pool *p)
{
	struct hc_pool_status st;

	if (evac_status(p->name, &st))
		return -1;
	if (p->st.ssd_failed) {
		ctl_err("the SSD of pool %s has failed: what lived there cannot be copied off it (dm-hybrid.rst, \"A dying SSD\").",
			p->name);
		return -1;
	}
	if (strcmp(p->st.mode, "rw")) {
		ctl_err("pool %s is in mode %s: only a rw pool evacuates its SSD.",
			p->name, p->st.mode);
		return -1;
	}
	return 0;
}

/* The size in sectors of the device @devt (major:minor), from sysfs. */
static int sectors_of(const char *devt, u64 *sectors)
{
	char path[64];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/dev/block/%s/size", devt);
	f = fopen(path, "re");
	ok = f && fscanf(f, "%llu", (unsigned long long *)sectors) == 1;
	if (f)
		fclose(f);
	if (!ok)
		ctl_err("cannot read the size of device %s.", devt);
	return ok ? 0 : -1;
}

/* Where a pool still on its old SSD was left, and how to go on. */
static void still_old(const struct replace *r)
{
	struct hc_pool_status st;
	struct dm_target_line t;

	if (!dm_target_of(r->p.name, 1, &t) && !hc_parse_pool_status(t.params, &st) &&
	    st.evac_known && !st.evacuating) {
		ctl_err("pool %s is still on its old SSD %s and no longer evacuating; run \"hybridctl pool replace-ssd %s %s\" again to replace it.",
			r->p.name, r->p.tb.dev[1], r->p.name, r->path);
		return;
	}
	ctl_err("pool %s is evacuating and still on its old SSD %s; run \"hybridctl pool replace-ssd %s %s\" again to finish, or \"hybridctl pool evacuate %s --off\" to keep the old SSD.",
		r->p.name, r->p.tb.dev[1], r->p.name, r->path, r->p.name);
}

/*
 * Load the table with the new SSD, suspend and resume the pool.  The
 * kernel refuses it (EBUSY) while a migration or a staging log record is
 * left even with no data on the SSD: retried for SETTLE_SECS.
 */
static int reload(struct replace *r)
{
	struct dm_target_line old;
	char params[sizeof(old.params)];
	u64 hdd;
	int e, i;

	if (dm_target_of(r->p.name, 0, &old)) {
		ctl_err("cannot read the table of pool %s.", r->p.name);
		return -1;
	}
	if (sectors_of(r->p.tb.dev[2], &hdd))
		return -1;
	if (hc_pool_table_set_ssd(old.params, r->devt, params, sizeof(params))) {
		ctl_err("pool %s has a table hybridctl does not understand: \"%s\".",
			r->p.name, old.params);
		return -1;
	}
	for (i = 0;; i++) {
		e = dm_reload(r->p.name, r->bytes / 512 + hdd, "hybrid-pool",
			      params, &old);
		if (e != -EBUSY || i >= SETTLE_SECS * 5)
			break;
		usleep(200000);
	}
	if (e)
		op_fail(e, NULL, "pool %s: the kernel refused the table with the new SSD %s",
			r->p.name, r->path);
	return e ? -1 : 0;
}

/* Name the new SSD in the pool's line of the tab, if it has one. */
static int record(const struct replace *r, int *listed)
{
	struct hc_tab *e, ne;
	struct tab tab;

	*listed = 0;
	if (tab_read(&tab))
		return -1;
	e = tab_find(&tab, r->p.name);
	if (e) {
		ne = *e;
		snprintf(ne.ssd, sizeof(ne.ssd), "%s", r->path);
		*listed = 1;
	}
	free(tab.e);
	if (!*listed || (strlen(r->path) < sizeof(ne.ssd) &&
			 !tab_update(&ne, r->p.name)))
		return 0;
	ctl_err("pool %s runs on the new SSD %s, but %s still names its old SSD; change its <ssd dev> to %s there by hand, or \"pool activate\" will not find the new one.",
		r->p.name, r->path, ctl_tab, r->path);
	return -1;
}

/* Evacuate, reload, end the evacuation, record: the exit status. */
static int replace(struct replace *r)
{
	const char *name = r->p.name;
	char tab[320];
	struct pool np;
	u64 left = 0;
	int e, listed, bad = 0;

	if (!r->p.st.evacuating) {
		e = dm_msg(name, NULL, "evacuate on");
		if (e) {
			op_fail(e, NULL, "cannot turn evacuation on in pool %s (nothing changed)",
				name);
			return CTL_EXIT_FAIL;
		}
	}
	ctl_info("Pool %s: evacuating its SSD %s.\n", name, r->p.tb.dev[1]);
	if (evac_wait(name, r->wait, &left) || reload(r)) {
		ctl_result_u64("ssd_left", left);
		still_old(r);
		return CTL_EXIT_FAIL;
	}
	ctl_result_u64("ssd_left", 0);
	e = dm_msg(name, NULL, "evacuate off");
	if (e) {
		op_fail(e, NULL, "cannot turn evacuation off in pool %s", name);
		ctl_err("pool %s is on the new SSD %s but still evacuating (nothing goes to the SSD); run \"hybridctl pool evacuate %s --off\".",
			name, r->path, name);
		bad = 1;
	}
	if (record(r, &listed))
		bad = 1;
	if (listed)
		ctl_result_str("tab", ctl_tab);
	if (pool_open(name, &np, 0))
		return CTL_EXIT_FAIL;
	ctl_result_u64("ssd_chunks", np.st.total[0]);
	if (listed)
		snprintf(tab, sizeof(tab), "recorded in %s", ctl_tab);
	else
		snprintf(tab, sizeof(tab), "%s does not list the pool", ctl_tab);
	ctl_info("Pool %s now uses SSD %s (%s, %llu chunks) instead of %s%s; %s.\n",
		 name, r->path, r->devt, (unsigned long long)np.st.total[0],
		 r->p.tb.dev[1], bad ? "" : ", its evacuation ended", tab);
	free_pool(&np);
	return bad ? CTL_EXIT_FAIL : 0;
}

int pool_replace_ssd(int argc, char **argv)
{
	struct replace r;
	int e;

	memset(&r, 0, sizeof(r));
	e = replace_args(argc, argv, &r);
	if (e)
		return e;
	lock_all();
	if (pool_open(argv[optind], &r.p, 0))
		return CTL_EXIT_FAIL;
	free_pool(&r.p);
	ctl_result_str("pool", r.p.name);
	ctl_result_str("old_ssd", r.p.tb.dev[1]);
	ctl_result_str("new_ssd", r.path);
	if (check_pool(&r.p) || check_new_ssd(&r))
		return CTL_EXIT_FAIL;
	return replace(&r);
}
