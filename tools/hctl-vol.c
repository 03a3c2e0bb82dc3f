// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl's "vol" commands (see hybridctl(8)): create, delete, resize,
 * set and pin.  "vol list" is a report (hctl-report.c).  A volume lives in
 * its pool's metadata; its device maps it.  Every command changes both or
 * neither.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hybridctl.h"

/* A size for a volume: whole sectors, not 0. */
static int vol_size_arg(const char *arg, u64 *sectors)
{
	u64 b;

	if (hc_parse_size(arg, &b) || !b) {
		ctl_err("\"%s\" is not a size (use K, M, G or T, e.g. 20G).", arg);
		return -1;
	}
	if (b % 512) {
		ctl_err("%s is not a whole number of 512-byte sectors (a plain number is in bytes; give a unit, e.g. %sG).",
			arg, arg);
		return -1;
	}
	*sectors = b / 512;
	return 0;
}

/* ssd_min / ssd_max: a size (rounded up to chunks) or "<n>c" chunks. */
static int chunks_arg(const struct pool *p, const char *arg, u64 *chunks)
{
	size_t n = strlen(arg);
	char buf[64];
	u64 b, cb = p->st.chunk_sectors * 512;

	if (n && n < sizeof(buf) && arg[n - 1] == 'c') {
		memcpy(buf, arg, n - 1);
		buf[n - 1] = '\0';
		if (!hc_parse_u64(buf, chunks))
			return 0;
	}
	if (!hc_parse_size(arg, &b)) {
		*chunks = (b + cb - 1) / cb;
		return 0;
	}
	ctl_err("\"%s\" is not a size (e.g. 4G) or a number of chunks (e.g. 100c).",
		arg);
	return -1;
}

/* set_volume KEY VALUE; with @dry, only check KEY and VALUE. */
static int vol_set_one(struct pool *p, struct hc_vol_info *v,
		       const char *key, const char *val, int dry)
{
	u64 n;
	int r;

	if (!strcmp(key, "weight")) {
		if (hc_parse_u64(val, &n) || n < 1 || n > 1000) {
			ctl_err("weight must be a number from 1 to 1000 (default 100).");
			return -1;
		}
		if (dry)
			return 0;
		r = dm_msg(p->name, NULL, "set_volume %u weight %llu", v->id,
			   (unsigned long long)n);
	} else if (!strcmp(key, "priority")) {
		if (strcmp(val, "low") && strcmp(val, "normal") &&
		    strcmp(val, "high")) {
			ctl_err("priority is low, normal or high.");
			return -1;
		}
		if (dry)
			return 0;
		r = dm_msg(p->name, NULL, "set_volume %u priority %s", v->id, val);
	} else if (!strcmp(key, "ssd_min") || !strcmp(key, "ssd_max")) {
		if (chunks_arg(p, val, &n))
			return -1;
		if (dry)
			return 0;
		r = dm_msg(p->name, NULL, "set_volume %u %s %llu", v->id, key,
			   (unsigned long long)n);
	} else if (!strcmp(key, "name")) {
		/* the dry run checks an admin's names; import names its copy */
		if (strcmp(val, "-") &&
		    (dry ? user_vol_name(val) : name_arg("volume", val)))
			return -1;
		if (dry)
			return 0;
		r = dm_msg(p->name, NULL, "set_volume %u name %s", v->id, val);
		if (r == -EEXIST) {
			ctl_err("pool %s already has a volume named %s.", p->name, val);
			return -1;
		}
	} else {
		ctl_err("unknown volume setting \"%s\" (weight, priority, ssd_min, ssd_max, name).",
			key);
		return -1;
	}
	if (r) {
		op_fail(r, NULL, "pool %s refused %s=%s for volume %u", p->name,
			key, val, v->id);
		return -1;
	}
	return 0;
}

/*
 * The kernel refuses an ssd_min above a non-zero ssd_max at every step.
 * @kv holds @n key/value pairs.  Check the pair they leave and, when both
 * limits are given, return in @last the one to send after the others so
 * that every step is valid (the other first).  Returns -1 after telling
 * the admin when the pair can never be valid.
 */
static int ssd_last(const struct pool *p, const struct hc_vol_info *v,
		    const char *const *kv, int n, int *last)
{
	u64 mn = v->ssd_min, mx = v->ssd_max, x;
	int i, imin = -1, imax = -1;
	char a[32], b[32];

	*last = -1;
	for (i = 0; i < n; i++) {
		if (strcmp(kv[2 * i], "ssd_min") && strcmp(kv[2 * i], "ssd_max"))
			continue;
		if (chunks_arg(p, kv[2 * i + 1], &x))
			return -1;
		if (!strcmp(kv[2 * i], "ssd_min")) {
			mn = x;
			imin = i;
		} else {
			mx = x;
			imax = i;
		}
	}
	if (mx && mn > mx) {
		ctl_err("ssd_min (%s) cannot be above ssd_max (%s); ssd_max 0 means no cap.",
			hc_format_size(mn * p->st.chunk_sectors * 512, a, sizeof(a)),
			hc_format_size(mx * p->st.chunk_sectors * 512, b, sizeof(b)));
		return -1;
	}
	if (imin >= 0 && imax >= 0)
		*last = !mx || mx >= v->ssd_min ? imin : imax;
	return 0;
}

/* Rename volume @v to @name, and its device with it, or neither. */
static int rename_vol(struct pool *p, struct hc_vol_info *v, const char *name)
{
	char oldname[DMH_NAME_LEN];
	struct voldev d;
	u32 j;
	int r;

	if (!strcmp(name, "-")) {
		ctl_err("hybridctl does not clear volume names (the device is named after the volume); rename it instead.");
		return -1;
	}
	for (j = 0; j < p->nr_vols; j++) {
		if (&p->vols[j] != v && !strcmp(p->vols[j].name, name)) {
			ctl_err("pool %s already has a volume named %s.", p->name,
				name);
			return -1;
		}
	}
	if (!vol_device(p, v->id, &d) && dm_name_free(name, ""))
		return -1;
	snprintf(oldname, sizeof(oldname), "%s", v->name);
	if (vol_set_one(p, v, "name", name, 0))
		return -1;
	if (!vol_device(p, v->id, &d) && strcmp(d.name, name)) {
		r = dm_rename_dev(d.name, name);
		if (r) {
			op_fail(r, NULL, "cannot rename device %s to %s", d.name,
				name);
			undo_msg(p->name, "set_volume %u name %s", v->id,
				 oldname[0] ? oldname : "-");
			return -1;
		}
	}
	snprintf(v->name, sizeof(v->name), "%s", name);
	return 0;
}

/*
 * Check every KEY VALUE pair of @kv (@n of them) before anything is sent,
 * so that all of them are applied or none, and find which of ssd_min and
 * ssd_max goes last (ssd_last()).
 */
static int settings_check(struct pool *p, struct hc_vol_info *v,
			  const char *const *kv, int n, int *last)
{
	int i;

	for (i = 0; i < n; i++)
		if (vol_set_one(p, v, kv[2 * i], kv[2 * i + 1], 1))
			return -1;
	return ssd_last(p, v, kv, n, last);
}

/* Apply @kv in order, @last after the others; a name renames the device too. */
static int settings_apply(struct pool *p, struct hc_vol_info *v,
			  const char *const *kv, int n, int last)
{
	int i;

	for (i = 0; i < n; i++) {
		if (i == last)
			continue;
		if (strcmp(kv[2 * i], "name") ?
		    vol_set_one(p, v, kv[2 * i], kv[2 * i + 1], 0) :
		    rename_vol(p, v, kv[2 * i + 1]))
			return -1;
	}
	if (last >= 0)
		return vol_set_one(p, v, kv[2 * last], kv[2 * last + 1], 0);
	return 0;
}

/* What "vol create" was asked for. */
struct vol_new {
	const char *pool, *name;
	u64 id;				/* ~0: the smallest free id */
	u64 size;			/* sectors */
	const char *set[8][2];		/* settings: key, value */
	int nset;
};

/* vol create's arguments into @n: 0, or the exit status. */
static int create_args(int argc, char **argv, struct vol_new *n)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "weight", required_argument, NULL, 'w' },
		{ "priority", required_argument, NULL, 'p' },
		{ "ssd-min", required_argument, NULL, 'n' },
		{ "ssd-max", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const key[128] = {
		['w'] = "weight", ['p'] = "priority", ['n'] = "ssd_min",
		['x'] = "ssd_max",
	};
	int ch;

	memset(n, 0, sizeof(*n));
	n->id = ~0ull;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "i:", opts, NULL)) != -1) {
		if (ch == 'i' && (hc_parse_u64(optarg, &n->id) ||
				  n->id > DMH_VOLUME_ID_MAX)) {
			ctl_err("--id takes a volume id from 0 to %u.",
				DMH_VOLUME_ID_MAX);
			return CTL_EXIT_USAGE;
		}
		if (ch == 'i')
			continue;
		if (ch < 0 || ch >= 128 || !key[ch])
			return CTL_EXIT_USAGE;
		if ((size_t)n->nset == ARRAY_SIZE(n->set)) {
			ctl_err("too many settings.");
			return CTL_EXIT_USAGE;
		}
		n->set[n->nset][0] = key[ch];
		n->set[n->nset++][1] = optarg;
	}
	if (optind + 3 != argc)
		return ctl_usage();
	n->pool = argv[optind];
	n->name = argv[optind + 1];
	if (user_vol_name(n->name) ||
	    vol_size_arg(argv[optind + 2], &n->size))
		return CTL_EXIT_USAGE;
	return 0;
}

/* The smallest volume id from 1 that @p does not use. */
static u64 free_id(const struct pool *p)
{
	u64 id;
	u32 j;

	for (id = 1;; id++) {
		for (j = 0; j < p->nr_vols && p->vols[j].id != id; j++)
			;
		if (j == p->nr_vols)
			return id;
	}
}

/* The new volume's name and id are free, and @p has room for it. */
static int create_check(const struct pool *p, struct vol_new *n)
{
	u32 j;

	for (j = 0; j < p->nr_vols; j++) {
		if (!strcmp(p->vols[j].name, n->name)) {
			ctl_err("pool %s already has a volume named %s (id %u).",
				p->name, n->name, p->vols[j].id);
			return -1;
		}
		if (p->vols[j].id == n->id) {
			ctl_err("pool %s already has a volume with id %llu.", p->name,
				(unsigned long long)n->id);
			return -1;
		}
	}
	if (dm_name_free(n->name, "; choose another name"))
		return -1;
	if (p->nr_vols >= DMH_MAX_VOLUMES) {
		ctl_err("pool %s already has the maximum of %u volumes.", p->name,
			DMH_MAX_VOLUMES);
		return -1;
	}
	if (n->id == ~0ull)
		n->id = free_id(p);
	return 0;
}

/* Name and set up volume @nv, just created, and map it. */
static int create_setup(struct pool *p, struct vol_new *n,
			struct hc_vol_info *nv, int last)
{
	char what[192];

	snprintf(what, sizeof(what),
		 "cannot create device %s for the new volume", n->name);
	if (vol_set_one(p, nv, "name", n->name, 0) ||
	    settings_apply(p, nv, &n->set[0][0], n->nset, last) ||
	    vol_map(p, nv->id, n->name, n->size, what))
		return -1;
	return 0;
}

/* Create, name, set up and map volume @n in @p, or nothing: 0 or -1. */
static int create_in(struct pool *p, struct vol_new *n, struct hc_vol_info *nv)
{
	int r, last;

	memset(nv, 0, sizeof(*nv));
	if (create_check(p, n) ||
	    settings_check(p, nv, &n->set[0][0], n->nset, &last))
		return -1;
	nv->id = (u32)n->id;
	r = dm_msg(p->name, NULL, "create_volume %llu", (unsigned long long)n->id);
	if (r) {
		op_fail(r, r == -EEXIST ? "a volume with that id exists" : NULL,
			"pool %s cannot create volume %llu", p->name,
			(unsigned long long)n->id);
		return -1;
	}
	if (create_setup(p, n, nv, last)) {
		if (!undo_msg(p->name, "delete_volume %u", nv->id))
			ctl_err("volume %s was not created.", n->name);
		return -1;
	}
	return 0;
}

/* The pool and volume a command acted on, for --json. */
static void vol_result(const char *pool, const char *vol)
{
	ctl_result_str("pool", pool);
	ctl_result_str("volume", vol);
}

/* vol resize's sizes, in sectors, for --json. */
static void resize_result(u64 old, u64 now)
{
	ctl_result_u64("old_size_bytes", old * 512);
	ctl_result_u64("size_bytes", now * 512);
}

int vol_create(int argc, char **argv)
{
	struct hc_vol_info nv;
	struct vol_new n;
	struct pool p;
	char a[32], dev[160];
	int r;

	r = create_args(argc, argv, &n);
	if (r)
		return r;
	lock_all();
	if (pool_open(n.pool, &p, 0))
		return CTL_EXIT_FAIL;
	if (create_in(&p, &n, &nv)) {
		free_pool(&p);
		return CTL_EXIT_FAIL;
	}
	printf("Volume %s created in pool %s: id %u, %s, /dev/mapper/%s\n",
	       n.name, p.name, nv.id, hc_format_size(n.size * 512, a, sizeof(a)),
	       n.name);
	vol_result(p.name, n.name);
	ctl_result_u64("id", nv.id);
	ctl_result_u64("size_bytes", n.size * 512);
	snprintf(dev, sizeof(dev), "/dev/mapper/%s", n.name);
	ctl_result_str("device", dev);
	free_pool(&p);
	return 0;
}

int vol_add(struct pool *p, const char *name, u64 sectors, u32 *id)
{
	struct hc_vol_info nv;
	struct vol_new n = {
		.pool = p->name, .name = name, .id = ~0ull, .size = sectors,
	};

	if (create_in(p, &n, &nv))
		return -1;
	*id = nv.id;
	return 0;
}

/*
 * The kernel refuses delete_volume (EBUSY) while one of the volume's chunks
 * is being copied between the tiers.  With its device gone no new I/O
 * comes, and a copy takes milliseconds to seconds: ask again for up to
 * DELETE_WAIT_S before giving up.
 */
#define DELETE_WAIT_S 30

static int delete_when_settled(const struct pool *p, u32 id, const char *vol)
{
	int r, tries = DELETE_WAIT_S * 4;
	char what[160];

	snprintf(what, sizeof(what), "volume %s", vol);
	while ((r = dm_msg(p->name, NULL, "delete_volume %u", id)) == -EBUSY &&
	       --tries > 0) {
		if (tries == DELETE_WAIT_S * 4 - 1) {
			printf("Volume %s is busy (chunks being migrated); waiting up to %d s.\n",
			       vol, DELETE_WAIT_S);
			fflush(stdout);
		}
		/* how long so far (the sentence says how long at most) */
		wait_line(what, (DELETE_WAIT_S * 4 - tries) / 4.0, DELETE_WAIT_S,
			  NULL);
		usleep(250000);
	}
	if (tries < DELETE_WAIT_S * 4)
		wait_line(what, (DELETE_WAIT_S * 4 - tries) / 4.0, DELETE_WAIT_S,
			  r ? "still busy" : "done");
	return r;
}

int vol_drop(const struct pool *p, u32 id, const char *dev)
{
	int r = dm_simple(DM_DEVICE_REMOVE, dev);

	if (r) {
		op_fail(r, NULL, "cannot remove device %s", dev);
		return -1;
	}
	r = delete_when_settled(p, id, dev);
	if (r) {
		op_fail(r, NULL, "pool %s cannot delete volume %u", p->name, id);
		return -1;
	}
	return 0;
}

int vol_delete(int argc, char **argv)
{
	struct wb_progress wb;
	struct dm_target_line old;
	struct hc_vol_info *v;
	struct voldev d;
	struct pool p;
	int r, had_dev;

	if (argc != 3)
		return ctl_usage();
	lock_all();
	v = pool_open_vol(argv[1], argv[2], &p);
	if (!v)
		return CTL_EXIT_FAIL;
	vol_result(p.name, argv[2]);
	had_dev = !vol_device(&p, v->id, &d);
	if (had_dev) {
		if (d.info.open_count) {
			ctl_err("volume %s (/dev/mapper/%s) is in use (open count %d); stop the VM or unmount it first.",
				argv[2], d.name, d.info.open_count);
			goto fail;
		}
		if (dm_target_of(d.name, 0, &old))
			goto fail;
		wb_begin(&wb, p.name);
		r = dm_simple(DM_DEVICE_REMOVE, d.name);
		wb_end(&wb, r);
		if (r) {
			op_fail(r, NULL, "cannot remove device %s", d.name);
			goto fail;
		}
	}
	r = delete_when_settled(&p, v->id, argv[2]);
	if (r) {
		op_fail(r, r == -EBUSY ?
			"a device still maps it, or its chunks are being migrated; try again" :
			NULL, "pool %s cannot delete volume %s", p.name, argv[2]);
		if (had_dev && dm_load(DM_DEVICE_CREATE, d.name, old.len,
				       old.type, old.params))
			ctl_err("and could not recreate its device %s.", d.name);
		goto fail;
	}
	printf("Volume %s deleted from pool %s.\n", argv[2], p.name);
	free_pool(&p);
	return 0;
fail:
	free_pool(&p);
	return CTL_EXIT_FAIL;
}

int vol_resize(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shrink", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct dm_target_line old;
	struct wb_progress wb;
	struct hc_vol_info *v;
	struct voldev d;
	struct pool p;
	const char *arg;
	char a[32], b[32];
	u64 size;
	int ch, shrink = 0, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 's')
			return CTL_EXIT_USAGE;
		shrink = 1;
	}
	if (optind + 3 != argc)
		return ctl_usage();
	arg = argv[optind + 2];
	if (vol_size_arg(arg[0] == '+' ? arg + 1 : arg, &size))
		return CTL_EXIT_USAGE;
	lock_all();
	v = pool_open_vol(argv[optind], argv[optind + 1], &p);
	if (!v)
		return CTL_EXIT_FAIL;
	if (vol_device(&p, v->id, &d)) {
		ctl_err("volume %s has no active device; \"hybridctl pool activate %s\" maps it.",
			argv[optind + 1], p.name);
		goto fail;
	}
	if (dm_target_of(d.name, 0, &old))
		goto fail;
	if (arg[0] == '+')
		size += old.len;
	vol_result(p.name, argv[optind + 1]);
	if (size == old.len) {
		resize_result(old.len, size);
		printf("Volume %s is already %s.\n", argv[optind + 1],
		       hc_format_size(size * 512, a, sizeof(a)));
		free_pool(&p);
		return 0;
	}
	if (size < old.len && !shrink) {
		ctl_err("%s is smaller than volume %s (%s): shrinking discards the data at its end; pass --shrink if that is what you want.",
			hc_format_size(size * 512, a, sizeof(a)), argv[optind + 1],
			hc_format_size(old.len * 512, b, sizeof(b)));
		goto fail;
	}
	wb_begin(&wb, p.name);	/* the suspend writes staged blocks back */
	r = dm_reload(d.name, size, "hybrid", old.params, &old);
	wb_end(&wb, r);
	if (r) {
		op_fail(r, NULL, "cannot resize volume %s", argv[optind + 1]);
		if (size < old.len && !dm_refused_table())
			ctl_err("a volume shrinks only when no chunk beyond the new end is mapped; discard that range first.");
		goto fail;
	}
	resize_result(old.len, size);
	printf("Volume %s resized from %s to %s.\n", argv[optind + 1],
	       hc_format_size(old.len * 512, a, sizeof(a)),
	       hc_format_size(size * 512, b, sizeof(b)));
	free_pool(&p);
	return 0;
fail:
	free_pool(&p);
	return CTL_EXIT_FAIL;
}

int vol_set(int argc, char **argv)
{
	const char *const *kv = (const char *const *)argv + 3;
	struct hc_vol_info *v;
	struct pool p;
	int last, r = CTL_EXIT_FAIL;

	if (argc < 5 || (argc - 3) % 2)
		return ctl_usage();
	lock_all();
	v = pool_open_vol(argv[1], argv[2], &p);
	if (!v)
		return CTL_EXIT_FAIL;
	vol_result(p.name, argv[2]);
	if (!settings_check(&p, v, kv, (argc - 3) / 2, &last) &&
	    !settings_apply(&p, v, kv, (argc - 3) / 2, last))
		r = 0;
	free_pool(&p);
	return r;
}

int vol_pin(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "start", required_argument, NULL, 's' },
		{ "length", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct hc_vol_info *v;
	struct pool p;
	const char *sarg = NULL, *larg = NULL;
	u64 start = 0, len = 0;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's')
			sarg = optarg;
		else if (ch == 'l')
			larg = optarg;
		else
			return CTL_EXIT_USAGE;
	}
	if (optind + 3 != argc || (strcmp(argv[optind + 2], "ssd") &&
				   strcmp(argv[optind + 2], "hdd") &&
				   strcmp(argv[optind + 2], "auto")))
		return ctl_usage();
	if ((sarg && (hc_parse_size(sarg, &start) || start % 512)) ||
	    (larg && (hc_parse_size(larg, &len) || len % 512 || !len))) {
		ctl_err("--start and --length take sizes in whole sectors (e.g. 0, 1G, 512M).");
		return CTL_EXIT_USAGE;
	}
	start /= 512;
	len /= 512;
	lock_all();
	v = pool_open_vol(argv[optind], argv[optind + 1], &p);
	if (!v)
		return CTL_EXIT_FAIL;
	vol_result(p.name, argv[optind + 1]);
	if (!larg)
		len = v->size > start ? v->size - start : 0;
	if (!len || start + len > v->size) {
		ctl_err("the range to pin must lie within volume %s (%llu sectors).",
			argv[optind + 1], (unsigned long long)v->size);
		goto fail;
	}
	r = dm_msg(p.name, NULL, "pin %u %llu %llu %s", v->id,
		   (unsigned long long)start, (unsigned long long)len,
		   argv[optind + 2]);
	if (r) {
		op_fail(r, r == -ENOSPC ?
			"the volume would have more than 8 pinned ranges" : NULL,
			"pool %s cannot pin that range", p.name);
		goto fail;
	}
	free_pool(&p);
	return 0;
fail:
	free_pool(&p);
	return CTL_EXIT_FAIL;
}

