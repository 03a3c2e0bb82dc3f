// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybrid_check - verify the metadata of a dm-hybrid pool.
 *
 * Exit status: 0 clean, 1 problems that hybrid_repair can fix, 2 broken
 * metadata or bad usage, 3 I/O error.  See hybrid_check(8).
 */
#include <stdlib.h>

#include "hctl.h"
#include "md.h"
#include "md_tool.h"

static const char *prog = "hybrid_check";

static void print_help(FILE *f)
{
	fprintf(f,
		"Usage: %s [--quiet] [--verbose] [--json] METADATA_DEV\n"
		"Check the metadata of a dm-hybrid pool (device or image file).\n\n"
		"  -q, --quiet    print nothing, report through the exit status\n"
		"  -v, --verbose  also print harmless findings (info)\n"
		"      --json     the verdict, counts and findings as one JSON object\n"
		"  -h, --help     show this help\n\n"
		"Exit status: 0 clean, 1 repairable problems (run hybrid_repair),\n"
		"2 broken metadata or bad usage, 3 I/O error.\n", prog);
}

static void summary(const struct md_image *img, const struct md_report *r,
		    const struct md_counts *c)
{
	if (!r->verbosity)
		return;
	fprintf(stdout,
		"%s: %s: transaction %llu, %u volumes, ssd %llu mapped %llu free, hdd %llu mapped %llu free, %lu uncommitted leftovers, %lu problems (%lu repairable, %lu with possible data loss, %lu broken), staging log %llu blocks %u records\n",
		prog, img->path, (unsigned long long)img->sb.txid,
		img->nr_vols, (unsigned long long)c->mapped[0],
		(unsigned long long)c->free[0],
		(unsigned long long)c->mapped[1],
		(unsigned long long)c->free[1], r->leftovers, md_problems(r),
		r->count[MD_REPAIR], r->count[MD_LOSS], r->count[MD_BROKEN],
		(unsigned long long)img->sb.slog_used, img->slog.nrec);
}

/* The pool summary of a loaded image, as summary() prints it. */
static void json_pool(struct hc_json *j, const struct md_image *img,
		      const struct md_counts *c)
{
	int t;

	hc_json_open(j, "pool", '{');
	hc_json_u64(j, "transaction", img->sb.txid);
	hc_json_u64(j, "volumes", img->nr_vols);
	for (t = 0; t < DMH_NR_TIERS; t++) {
		hc_json_open(j, md_tier_name[t], '{');
		hc_json_u64(j, "mapped", c->mapped[t]);
		hc_json_u64(j, "free", c->free[t]);
		hc_json_close(j);
	}
	hc_json_open(j, "staging_log", '{');
	hc_json_u64(j, "blocks", img->sb.slog_used);
	hc_json_u64(j, "records", img->slog.nrec);
	hc_json_close(j);
	hc_json_close(j);
}

/* --json: the object; @c is NULL when the image could not be loaded. */
static void json_out(const char *path, const struct md_image *img,
		     const struct md_report *r, const struct md_counts *c,
		     int status)
{
	struct hc_json j;

	md_json_begin(&j, prog, status);
	hc_json_str(&j, "verdict", md_json_verdict(status));
	hc_json_str(&j, "path", path);
	if (c)
		json_pool(&j, img, c);
	else
		hc_json_str(&j, "pool", NULL);
	md_json_report(&j, r);
	md_json_end(&j);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		MD_TOOL_JSON_OPTION,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct md_tool tool = {
		.prog = "hybrid_check", .shortopts = "qvh", .longopts = opts,
		.help = print_help, .positional = 1,
	};
	struct md_report r;
	struct md_image img;
	struct md_counts c;
	struct md_args a;
	int rc;

	rc = md_tool_args(&tool, argc, argv, &a);
	if (rc >= 0)
		return rc;
	md_report_init(&r, prog, stdout, a.verbosity);
	r.keep = a.json;
	rc = md_open(&img, a.in, 0, &r);
	if (rc == MD_EXIT_OK)
		md_check(&img, &r, 0, &c);
	md_report_flush(&r);
	if (a.json)
		json_out(a.in, &img, &r, rc ? NULL : &c,
			 rc ? rc : md_report_exit(&r));
	else if (rc == MD_EXIT_OK)
		summary(&img, &r, &c);
	else if (rc == MD_EXIT_BROKEN && a.verbosity)
		printf("%s: %s: metadata is broken, nothing further checked\n",
		       prog, a.in);
	md_close(&img);
	md_report_free(&r);
	return rc ? rc : md_report_exit(&r);
}
