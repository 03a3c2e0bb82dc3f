// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl's "pool" commands (see hybridctl(8)): create, activate,
 * deactivate, grow, set and remove.  "pool status" is a report
 * (hctl-report.c).  A command that changes something either completes or
 * undoes what it did before it reports the error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hybridctl.h"
#include "md.h"

/* ---- create ------------------------------------------------------------------ */

static int parse_chunk(const char *arg, u64 *cs)
{
	u64 b;

	if (hc_parse_size(arg, &b) || b % 512 || b / 512 < DMH_CHUNK_SECTORS_MIN ||
	    b / 512 > DMH_CHUNK_SECTORS_MAX || (b / 512 & (b / 512 - 1))) {
		ctl_err("chunk size \"%s\" must be a power of two from 64K to 64M (e.g. 1M).",
			arg);
		return -1;
	}
	*cs = b / 512;
	return 0;
}

/* --block-tier SIZE into @e: 0, or -1 with the reason said. */
static int parse_block_tier(const char *arg, struct hc_tab *e)
{
	if (!hc_parse_block_tier(arg, &e->block_tier))
		return 0;
	ctl_err("block tier size \"%s\" must be a whole number of MiB from 1M to 16G (e.g. 256M).",
		arg);
	return -1;
}

/* One option of pool create into @e and @wipe: 0, or the exit status. */
static int create_opt(int ch, struct hc_tab *e, int *wipe)
{
	if (ch == 'm')
		snprintf(e->meta, sizeof(e->meta), "%s", optarg);
	else if (ch == 's')
		snprintf(e->ssd, sizeof(e->ssd), "%s", optarg);
	else if (ch == 'd')
		snprintf(e->hdd, sizeof(e->hdd), "%s", optarg);
	else if (ch == 'c' && parse_chunk(optarg, &e->chunk_sectors))
		return CTL_EXIT_USAGE;
	else if (ch == 'B' && parse_block_tier(optarg, e))
		return CTL_EXIT_USAGE;
	else if (!strchr("cBEDNWSP", ch))
		return CTL_EXIT_USAGE;
	e->error_if_no_space |= ch == 'E';
	e->no_discard_passdown |= ch == 'D';
	e->noauto |= ch == 'N';
	e->write_staging |= ch == 'S';
	e->persistent_staging |= ch == 'P';
	*wipe |= ch == 'W';
	return 0;
}

/* pool create's arguments into @e and @wipe: 0, or the exit status. */
static int create_args(int argc, char **argv, struct hc_tab *e, int *wipe)
{
	static const struct option opts[] = {
		{ "metadata", required_argument, NULL, 'm' },
		{ "ssd", required_argument, NULL, 's' },
		{ "hdd", required_argument, NULL, 'd' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "error-if-no-space", no_argument, NULL, 'E' },
		{ "no-discard-passdown", no_argument, NULL, 'D' },
		{ "block-tier", required_argument, NULL, 'B' },
		{ "write-staging", no_argument, NULL, 'S' },
		{ "persistent-staging", no_argument, NULL, 'P' },
		{ "noauto", no_argument, NULL, 'N' },
		{ "wipe", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, r;

	memset(e, 0, sizeof(*e));
	e->chunk_sectors = DMH_CHUNK_SECTORS_DEF;
	*wipe = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "m:s:d:c:", opts, NULL)) != -1) {
		r = create_opt(ch, e, wipe);
		if (r)
			return r;
	}
	if (optind + 1 != argc || !e->meta[0] || !e->ssd[0] || !e->hdd[0])
		return ctl_usage();
	if ((e->write_staging || e->persistent_staging) && !e->block_tier) {
		ctl_err("--%s stages writes in the block tier: give its size with --block-tier (e.g. 256M).",
			e->write_staging ? "write-staging" : "persistent-staging");
		return CTL_EXIT_USAGE;
	}
	if (name_arg("pool", argv[optind]))
		return CTL_EXIT_USAGE;
	snprintf(e->name, sizeof(e->name), "%s", argv[optind]);
	return 0;
}

/* The new pool's name is in neither the tab nor the device-mapper. */
static int create_name_free(const struct hc_tab *e)
{
	struct tab tab;
	int found;

	if (tab_read(&tab))
		return -1;
	found = !!tab_find(&tab, e->name);
	free(tab.e);
	if (found) {
		ctl_err("pool %s is already defined in %s; \"hybridctl pool activate %s\" activates it.",
			e->name, ctl_tab, e->name);
		return -1;
	}
	return dm_name_free(e->name, "");
}

/*
 * The sizes of the metadata, SSD and HDD devices into @sz: three distinct
 * block devices that nothing holds, the data ones at least a chunk each.
 */
static int create_devices(const struct hc_tab *e, u64 sz[3])
{
	const char *what[3] = { "metadata", "SSD", "HDD" };
	const char *path[3] = { e->meta, e->ssd, e->hdd };
	u64 chunk = e->chunk_sectors * 512;
	char a[32], b[32];
	dev_t dt[3];
	int i;

	for (i = 0; i < 3; i++)
		if (blk_size(what[i], path[i], &sz[i]))
			return -1;
	for (i = 0; i < 3; i++)
		blk_devt(path[i], &dt[i]);
	if (dt[0] == dt[1] || dt[0] == dt[2] || dt[1] == dt[2]) {
		ctl_err("the metadata, SSD and HDD devices must be three different devices.");
		return -1;
	}
	for (i = 0; i < 3; i++)
		if (blk_free(what[i], path[i]))
			return -1;
	for (i = 1; i < 3; i++) {
		if (sz[i] < chunk) {
			ctl_err("the %s device %s (%s) is smaller than one chunk (%s).",
				what[i], path[i], hc_format_size(sz[i], a, sizeof(a)),
				hc_format_size(chunk, b, sizeof(b)));
			return -1;
		}
	}
	return 0;
}

/*
 * The bytes of metadata the pool @e needs on data devices of @sz, the
 * same arithmetic as the kernel and hybrid_metadata_size.  With
 * persistent_staging, what "hybrid_metadata_size --persistent-staging
 * <block tier>" prints: the kernel's layout of that device has a staging
 * log whose half holds every slot of the tier dirty (or the largest log).
 * A smaller log would do, but staging would stop at its half's records
 * and write back from three quarters of that: less of the tier than the
 * user gave, said nowhere.  The kernel refuses an impossible pool itself.
 */
static u64 create_md_need(const struct hc_tab *e, const u64 sz[3])
{
	u64 chunk = e->chunk_sectors * 512, need, log;
	u64 n[2] = { sz[1] / chunk, sz[2] / chunk };
	int capped;

	need = dmh_layout_need(n[0], n[1]);
	if (e->persistent_staging) {
		log = md_slog_blocks_for((u64)e->block_tier << 20, &capped);
		log = md_size_with_log(n, n, log);
		if (log)	/* 0: no device has room; the kernel says why */
			need = log;
	}
	return need * DMH_BLOCK_SIZE;
}

/* The metadata device is large enough, and blank or (with @wipe) wiped. */
static int create_metadata(const struct hc_tab *e, const u64 sz[3], int wipe)
{
	u64 chunk = e->chunk_sectors * 512, need = create_md_need(e, sz);
	char a[32], b[32], c[32], d[32], n[32], p[64] = "";
	int kind;

	if (e->persistent_staging)
		snprintf(p, sizeof(p), " and a staging log for a %uM block tier",
			 e->block_tier);
	if (sz[0] < need) {
		ctl_err("metadata device %s is too small: it has %s, a pool with %s of SSD and %s of HDD in %s chunks%s needs at least %llu bytes (%s); see hybrid_metadata_size(8).",
			e->meta, hc_format_size(sz[0], a, sizeof(a)),
			hc_format_size(sz[1], b, sizeof(b)),
			hc_format_size(sz[2], c, sizeof(c)),
			hc_format_size(chunk, d, sizeof(d)), p,
			(unsigned long long)need,
			hc_format_size(need, n, sizeof(n)));
		return -1;
	}
	kind = md_kind(e->meta);
	if (kind < 0)
		ctl_err("cannot read metadata device %s.", e->meta);
	else if (kind == 1 && !wipe)
		ctl_err("metadata device %s already holds a dm-hybrid pool; add it to %s by hand to keep it, or pass --wipe to destroy it and start an empty pool.",
			e->meta, ctl_tab);
	else if (kind && !wipe)
		ctl_err("metadata device %s is not blank (its first 8 KiB hold data); pass --wipe to overwrite it.",
			e->meta);
	else if (kind && md_wipe(e->meta))
		ctl_err("cannot clear metadata device %s: %s.", e->meta,
			strerror(errno));
	else
		return 0;
	return -1;
}

/*
 * Create the device of pool @e on data devices of @ssd and @hdd bytes;
 * a failure is reported as "<@what> <pool>: <reason>".
 */
static int load_pool(const struct hc_tab *e, u64 ssd, u64 hdd,
		     const char *what)
{
	char table[1024];
	int r;

	if (need_module())
		return -1;
	tab_table_line(e, table, sizeof(table));
	r = dm_load(DM_DEVICE_CREATE, e->name, ssd / 512 + hdd / 512,
		    "hybrid-pool", table);
	if (r)
		op_fail(r, NULL, "%s %s", what, e->name);
	return r ? -1 : 0;
}

/* Create the pool and record it in the tab; without the entry it would be lost. */
static int create_pool(const struct hc_tab *e, const u64 sz[3])
{
	if (load_pool(e, sz[1], sz[2], "the kernel refused to create pool")) {
		md_wipe(e->meta);
		return -1;
	}
	if (tab_update(e, NULL)) {
		dm_simple(DM_DEVICE_REMOVE, e->name);
		md_wipe(e->meta);
		ctl_err("pool %s was not created.", e->name);
		return -1;
	}
	return 0;
}

int pool_create(int argc, char **argv)
{
	char a[32], b[32], c[32];
	struct hc_tab e;
	struct pool p;
	u64 sz[3];
	int wipe, r;

	r = create_args(argc, argv, &e, &wipe);
	if (r)
		return r;
	lock_all();
	if (create_name_free(&e) || create_devices(&e, sz) ||
	    create_metadata(&e, sz, wipe) || create_pool(&e, sz) ||
	    pool_open(e.name, &p, 0))
		return CTL_EXIT_FAIL;
	ctl_info("Pool %s created: SSD %s (%llu chunks), HDD %s (%llu chunks), chunk size %s; recorded in %s.\n",
		 e.name, hc_format_size(sz[1], a, sizeof(a)),
		 (unsigned long long)p.st.total[0],
		 hc_format_size(sz[2], b, sizeof(b)),
		 (unsigned long long)p.st.total[1],
		 hc_format_size(e.chunk_sectors * 512, c, sizeof(c)), ctl_tab);
	ctl_result_str("pool", e.name);
	ctl_result_u64("ssd_chunks", p.st.total[0]);
	ctl_result_u64("hdd_chunks", p.st.total[1]);
	ctl_result_u64("chunk_bytes", e.chunk_sectors * 512);
	ctl_result_str("tab", ctl_tab);
	free_pool(&p);
	return 0;
}

/* ---- activate and deactivate ----------------------------------------------- */

/* Volume @v is an import that a power cut or SIGKILL stopped: say so. */
static void import_note(const struct pool *p, const struct hc_vol_info *v)
{
	int n = (int)(strlen(v->name) - strlen(HC_IMPORT_SUFFIX));

	ctl_info("  volume %s is an interrupted import of %.*s: \"hybridctl vol import %s %.*s <source>\" resumes it, \"hybridctl vol delete %s %s\" discards it\n",
		 v->name, n, v->name, p->name, n, v->name, p->name, v->name);
}

/* Map every volume of an active pool that has a size and no device yet. */
static int activate_volumes(struct pool *p)
{
	struct voldev *devs;
	char dn[128], what[192];
	u32 nd, i, j;
	int bad = 0;

	if (list_voldevs(p->devt, &devs, &nd))
		return -1;
	for (i = 0; i < p->nr_vols; i++) {
		struct hc_vol_info *v = &p->vols[i];

		if (hc_import_is_tmpname(v->name))
			import_note(p, v);
		for (j = 0; j < nd && devs[j].id != v->id; j++)
			;
		if (j < nd)
			continue;	/* already mapped */
		if (!v->size) {
			printf("  volume %u%s%s has size 0 and is not mapped\n",
			       v->id, v->name[0] ? " " : "", v->name);
			continue;
		}
		vol_devname(p, v, dn, sizeof(dn));
		snprintf(what, sizeof(what), "cannot map volume %s of pool %s",
			 dn, p->name);
		if (dm_info_of(dn, NULL) > 0) {
			ctl_err("%s: another device is already named %s.", what, dn);
			bad = 1;
		} else if (vol_map(p, v->id, dn, v->size, what)) {
			bad = 1;
		} else {
			printf("  /dev/mapper/%s\n", dn);
			snprintf(what, sizeof(what), "/dev/mapper/%s", dn);
			ctl_result_item("devices", what);
		}
	}
	free(devs);
	return bad ? -1 : 0;
}

/* Open the pool just activated (or found active) and map its volumes. */
static int activate_opened(const char *name, int was_active)
{
	struct pool p;
	int r;

	if (pool_open(name, &p, 0))
		return -1;
	ctl_result_item(was_active ? "already_active" : "activated", name);
	if (was_active)
		printf("Pool %s was already active.\n", name);
	else
		printf("Pool %s activated (%llu volumes).\n", name,
		       (unsigned long long)p.nr_vols);
	r = activate_volumes(&p);
	free_pool(&p);
	return r;
}

/* The metadata device of @e holds a pool: activating a blank one would format it. */
static int activate_check_metadata(const struct hc_tab *e)
{
	int kind = md_kind(e->meta);

	if (kind == 0)
		ctl_err("pool %s: metadata device %s is blank; refusing to activate it, which would format an empty pool. If the path in %s is wrong, correct it; \"hybridctl pool create\" makes a new pool.",
			e->name, e->meta, ctl_tab);
	else if (kind != 1)
		ctl_err("pool %s: metadata device %s holds no valid dm-hybrid superblock (check the path in %s; see hybrid_check(8)).",
			e->name, e->meta, ctl_tab);
	return kind == 1 ? 0 : -1;
}

/* --all, --wait SECS and --progress of "pool activate". */
struct act_opts {
	int all, wait, progress;
};

static int activate_one(const struct hc_tab *e, const struct act_opts *o)
{
	struct act_progress a;
	u64 s1, s2;
	int r;

	if (dm_info_of(e->name, NULL) > 0)
		return activate_opened(e->name, 1);
	if (wait_devices(e, o->wait)) {
		ctl_err("pool %s: its devices %s, %s and %s did not all appear%s.",
			e->name, e->meta, e->ssd, e->hdd,
			o->wait ? " in time" : "");
		return -1;
	}
	if (activate_check_metadata(e) || blk_size("SSD", e->ssd, &s1) ||
	    blk_size("HDD", e->hdd, &s2))
		return -1;
	act_begin(&a, e->name, e->meta, o->progress);
	r = load_pool(e, s1, s2, "cannot activate pool");
	act_end(&a, r);
	return r ? -1 : activate_opened(e->name, 0);
}

/* None of the volume devices @devs of pool @p is open, nor the pool otherwise. */
static int deactivate_check(const struct pool *p, const struct voldev *devs,
			    u32 n)
{
	int bad = 0;
	u32 i;

	for (i = 0; i < n; i++) {
		if (devs[i].info.open_count) {
			ctl_err("cannot deactivate pool %s: volume %s (/dev/mapper/%s) is in use (open count %d); stop the VM or unmount it first.",
				p->name, devs[i].name, devs[i].name,
				devs[i].info.open_count);
			bad = 1;
		}
	}
	if (p->info.open_count > (int)n) {
		ctl_err("cannot deactivate pool %s: it is held open by something other than its volumes.",
			p->name);
		bad = 1;
	}
	return bad ? -1 : 0;
}

static int deactivate_one(const char *name)
{
	struct wb_progress wb = { 0 };
	struct voldev *devs;
	struct pool p;
	u32 n, i;
	int r, bad;

	if (pool_open(name, &p, 1)) {
		if (dm_info_of(name, NULL) > 0) {
			ctl_err("device %s is not a dm-hybrid pool.", name);
			return -1;
		}
		printf("Pool %s is not active.\n", name);
		ctl_result_item("not_active", name);
		return 0;
	}
	free_pool(&p);
	if (list_voldevs(p.devt, &devs, &n))
		return -1;
	/* check first: a pool is deactivated completely or not at all */
	bad = deactivate_check(&p, devs, n);
	if (!bad && n)
		wb_begin(&wb, name);
	for (i = 0; i < n && !bad; i++) {
		r = dm_simple(DM_DEVICE_REMOVE, devs[i].name);
		if (r) {
			wb_end(&wb, r);
			op_fail(r, NULL, "cannot remove volume device %s", devs[i].name);
			bad = 1;
		}
	}
	wb_end(&wb, 0);
	free(devs);
	if (bad)
		return -1;
	r = dm_simple(DM_DEVICE_REMOVE, name);
	if (r) {
		op_fail(r, NULL, "cannot remove pool device %s", name);
		return -1;
	}
	printf("Pool %s deactivated (%u volume devices removed).\n", name, n);
	ctl_result_item("deactivated", name);
	return 0;
}

/* @o from the options: optind at the first pool name, or the exit status. */
static int activate_args(int argc, char **argv, struct act_opts *o)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "wait", required_argument, NULL, 'w' },
		{ "progress", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	u64 w;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "aw:", opts, NULL)) != -1) {
		if (ch == 'a') {
			o->all = 1;
		} else if (ch == 'p') {
			o->progress = 1;
		} else if (ch == 'w' && !hc_parse_u64(optarg, &w) && w <= 3600) {
			o->wait = (int)w;
		} else {
			if (ch == 'w')
				ctl_err("--wait takes a number of seconds.");
			return CTL_EXIT_USAGE;
		}
	}
	if (o->all ? optind < argc : optind >= argc)
		return ctl_usage();
	return 0;
}

/* The pools named, or every one in the tab not marked noauto (--all). */
int pool_activate(int argc, char **argv)
{
	struct act_opts o;
	struct hc_tab *e;
	struct tab tab;
	int bad = 0;
	u32 i;

	bad = activate_args(argc, argv, &o);
	if (bad)
		return bad;
	lock_all();
	if (tab_read(&tab))
		return CTL_EXIT_FAIL;
	for (i = 0; o.all && i < tab.n; i++)
		if (!tab.e[i].noauto && activate_one(&tab.e[i], &o))
			bad = 1;
	for (; optind < argc; optind++) {
		e = tab_find(&tab, argv[optind]);
		if (!e)
			ctl_err("pool %s is not defined in %s.", argv[optind],
				ctl_tab);
		if (!e || activate_one(e, &o))
			bad = 1;
	}
	free(tab.e);
	return bad;
}

/* The pools named, or every active one, in the tab or not (--all). */
int pool_deactivate(int argc, char **argv)
{
	struct act_opts o;
	char **act;
	u32 i, nact;
	int bad;

	bad = activate_args(argc, argv, &o);
	if (bad)
		return bad;
	if (o.progress)		/* deactivation reads no metadata */
		return ctl_usage();
	lock_all();
	if (o.all) {
		if (list_pools(&act, &nact))
			return CTL_EXIT_FAIL;
		for (i = 0; i < nact; i++)
			if (deactivate_one(act[i]))
				bad = 1;
		free_names(act, nact);
	}
	for (; optind < argc; optind++)
		if (deactivate_one(argv[optind]))
			bad = 1;
	return bad;
}

/* ---- grow, set, remove ------------------------------------------------------- */

/* The sizes in bytes of the SSD and HDD of @p's table, from sysfs. */
static int data_sizes(const struct pool *p, u64 sz[2])
{
	char path[64];
	FILE *f;
	int t, ok;

	for (t = 0; t < 2; t++) {
		snprintf(path, sizeof(path), "/sys/dev/block/%s/size",
			 p->tb.dev[t + 1]);
		f = fopen(path, "re");
		ok = f && fscanf(f, "%llu", (unsigned long long *)&sz[t]) == 1;
		if (f)
			fclose(f);
		if (!ok) {
			ctl_err("cannot read the size of %s device %s.",
				t ? "HDD" : "SSD", p->tb.dev[t + 1]);
			return -1;
		}
		sz[t] *= 512;
	}
	return 0;
}

int pool_grow(int argc, char **argv)
{
	struct dm_target_line old;
	struct pool p;
	u64 sz[2];
	char a[32], b[32];
	int r;

	if (argc != 2)
		return ctl_usage();
	lock_all();
	if (pool_open(argv[1], &p, 0))
		return CTL_EXIT_FAIL;
	free_pool(&p);
	if (dm_target_of(p.name, 0, &old) || data_sizes(&p, sz))
		return CTL_EXIT_FAIL;
	if (sz[0] / 512 / p.st.chunk_sectors == p.st.total[0] &&
	    sz[1] / 512 / p.st.chunk_sectors == p.st.total[1]) {
		ctl_info("Nothing to grow: the SSD (%s) and HDD (%s) have not grown by a whole chunk.\n",
			 hc_format_size(sz[0], a, sizeof(a)),
			 hc_format_size(sz[1], b, sizeof(b)));
		return 0;
	}
	/* the table line keeps the devices, chunk size and features */
	r = dm_reload(p.name, sz[0] / 512 + sz[1] / 512, "hybrid-pool",
		      old.params, &old);
	if (r) {
		op_fail(r, NULL, "cannot grow pool %s", p.name);
		return CTL_EXIT_FAIL;
	}
	if (pool_open(argv[1], &p, 0))
		return CTL_EXIT_FAIL;
	ctl_result_str("pool", p.name);
	ctl_result_u64("ssd_chunks", p.st.total[0]);
	ctl_result_u64("hdd_chunks", p.st.total[1]);
	printf("Pool %s grown: SSD %llu chunks, HDD %llu chunks.\n", p.name,
	       (unsigned long long)p.st.total[0],
	       (unsigned long long)p.st.total[1]);
	free_pool(&p);
	return 0;
}

/* Whether @name is a knob hybridctl knows (the kernel may know more). */
static int known_knob(const char *name)
{
	u32 i;

	for (i = 0; i < hc_nr_knob_names; i++)
		if (hc_knob_names[i] && !strcmp(name, hc_knob_names[i]))
			return 1;
	return 0;
}

/* "set KNOB VALUE", the refusal explained: 0 or the exit status. */
static int set_knob(const char *pool, const char *knob, const char *val)
{
	u64 v;
	int r;

	if (hc_parse_u64(val, &v)) {
		ctl_err("the value of %s must be a whole number.", knob);
		return CTL_EXIT_USAGE;
	}
	r = dm_msg(pool, NULL, "set %s %llu", knob, (unsigned long long)v);
	if (r == -EINVAL) {
		if (known_knob(knob))
			ctl_err("pool %s refused %s=%s: the value is out of range (see dm-hybrid(4), \"set\").",
				pool, knob, val);
		else
			ctl_err("pool %s has no knob \"%s\".", pool, knob);
		err_reason();
		return CTL_EXIT_FAIL;
	}
	if (r) {
		op_fail(r, NULL, "cannot set %s on pool %s", knob, pool);
		return CTL_EXIT_FAIL;
	}
	return 0;
}

int pool_set(int argc, char **argv)
{
	struct pool p;
	int r;

	if (argc != 4)
		return ctl_usage();
	if (pool_open(argv[1], &p, 0))
		return CTL_EXIT_FAIL;
	free_pool(&p);
	ctl_result_str("pool", p.name);
	ctl_result_str("knob", argv[2]);
	ctl_result_str("value", argv[3]);
	if (strcmp(argv[2], "migration"))
		return set_knob(p.name, argv[2], argv[3]);
	if (strcmp(argv[3], "on") && strcmp(argv[3], "off")) {
		ctl_err("migration is on or off.");
		return CTL_EXIT_USAGE;
	}
	r = dm_msg(p.name, NULL, "migration %s", argv[3]);
	if (r) {
		op_fail(r, NULL, "cannot set %s on pool %s", argv[2], p.name);
		return CTL_EXIT_FAIL;
	}
	return 0;
}

/* Pool @name's status with the evacuation fields: 0, or -1 said why. */
int evac_status(const char *name, struct hc_pool_status *st)
{
	struct dm_target_line t;

	if (dm_target_of(name, 1, &t) || hc_parse_pool_status(t.params, st)) {
		ctl_err("cannot read the status of pool %s.", name);
		return -1;
	}
	if (!st->evac_known) {
		ctl_err("pool %s: the kernel module does not report evacuation (no \"evacuating\" field in its status); load a newer dm-hybrid.",
			name);
		return -1;
	}
	return 0;
}

/*
 * On a terminal: "pool P: N chunks and slots on the SSD, W s of S s" (or
 * "W s" without a limit, @secs < 0).
 */
static void evac_line(const char *name, u64 left, double waited, int secs,
		      const char *end)
{
	char of[32] = "";

	if (!isatty(STDERR_FILENO))
		return;
	if (secs >= 0)
		snprintf(of, sizeof(of), " of %d s", secs);
	fprintf(stderr, "\rpool %s: %llu chunks and slots on the SSD, %.1f s%s%s%s\033[K%s",
		name, (unsigned long long)left, waited, of, end ? ": " : "",
		end ? end : "", end ? "\n" : "");
}

int evac_wait(const char *name, int secs, u64 *left)
{
	struct hc_pool_status st;
	int i;

	for (i = 0;; i++) {
		if (evac_status(name, &st))
			return -1;
		*left = st.ssd_left;
		if (!st.evacuating) {
			ctl_err("pool %s stopped evacuating (evacuate off).", name);
			return -1;
		}
		if (!*left || (secs >= 0 && i >= secs * 10))
			break;
		evac_line(name, *left, i / 10.0, secs, NULL);
		usleep(100000);
	}
	if (i)
		evac_line(name, *left, i / 10.0, secs, *left ? "timed out" : "done");
	if (!*left)
		return 0;
	ctl_err("pool %s: %llu chunks and block slots still on the SSD after %d s; it keeps evacuating.",
		name, (unsigned long long)*left, secs);
	return -1;
}

static int evacuate_args(int argc, char **argv, int *off, int *wait)
{
	static const struct option opts[] = {
		{ "off", no_argument, NULL, 'o' },
		{ "wait", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	u64 w;

	*off = 0;
	*wait = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "ow:", opts, NULL)) != -1) {
		if (ch == 'o') {
			*off = 1;
		} else if (ch == 'w' && !hc_parse_u64(optarg, &w) && w <= 86400) {
			*wait = (int)w;
		} else {
			if (ch == 'w')
				ctl_err("--wait takes a number of seconds (at most 86400).");
			return CTL_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || (*off && *wait >= 0))
		return ctl_usage();
	return 0;
}

/*
 * "evacuate on|off" (dm-hybrid.rst, "Evacuating and replacing the SSD");
 * with --wait, until the SSD holds nothing of the volumes' data.
 */
int pool_evacuate(int argc, char **argv)
{
	struct hc_pool_status st;
	int off, wait, r;
	const char *name;
	u64 left = 0;

	r = evacuate_args(argc, argv, &off, &wait);
	if (r)
		return r;
	name = argv[optind];
	if (evac_status(name, &st))
		return CTL_EXIT_FAIL;
	r = dm_msg(name, NULL, "evacuate %s", off ? "off" : "on");
	if (r) {
		op_fail(r, NULL, "cannot turn evacuation %s on pool %s",
			off ? "off" : "on", name);
		return CTL_EXIT_FAIL;
	}
	ctl_result_str("pool", name);
	ctl_result_str("evacuate", off ? "off" : "on");
	if (off) {
		ctl_info("Pool %s uses its SSD again.\n", name);
		return 0;
	}
	r = wait >= 0 ? evac_wait(name, wait, &left) : evac_status(name, &st);
	if (wait < 0)
		left = st.ssd_left;
	ctl_result_u64("ssd_left", left);
	if (r)
		return CTL_EXIT_FAIL;
	if (left)
		ctl_info("Pool %s is evacuating its SSD: %llu chunks and block slots left.\n",
			 name, (unsigned long long)left);
	else
		ctl_info("Pool %s: nothing of the volumes is left on the SSD; reload the pool with the new SSD (dm-hybrid.rst).\n",
			 name);
	return 0;
}

/* Deactivate a pool and drop it from the tab; --wipe clears its metadata. */
int pool_remove(int argc, char **argv)
{
	struct hc_tab *e;
	struct tab tab;
	int wipe = argc == 3 && !strcmp(argv[2], "--wipe"), r = CTL_EXIT_FAIL;

	if (argc != 2 && !wipe)
		return ctl_usage();
	lock_all();
	if (tab_read(&tab))
		return CTL_EXIT_FAIL;
	e = tab_find(&tab, argv[1]);
	if (!e)
		ctl_err("pool %s is not defined in %s.", argv[1], ctl_tab);
	else if (deactivate_one(argv[1]) || tab_update(NULL, argv[1]))
		r = CTL_EXIT_FAIL;
	else if (wipe && md_kind(e->meta) == 1 && md_wipe(e->meta))
		ctl_err("pool %s was removed from %s, but its metadata device %s could not be cleared.",
			argv[1], ctl_tab, e->meta);
	else
		r = 0;
	if (!r) {
		ctl_result_str("pool", argv[1]);
		ctl_result_str("tab", ctl_tab);
		ctl_info("Pool %s removed from %s%s.\n", argv[1], ctl_tab,
			 wipe ? "; its metadata was wiped and its volumes are gone" :
			 "; its metadata is intact");
	}
	free(tab.e);
	return r;
}
