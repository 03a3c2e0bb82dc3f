// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybrid_check - verify the metadata of a dm-hybrid pool.
 *
 * Exit status: 0 clean, 1 problems that hybrid_repair can fix, 2 broken
 * metadata or bad usage, 3 I/O error.  See hybrid_check(8).
 */
#include <stdlib.h>

#include "md.h"
#include "md_tool.h"

static const char *prog = "hybrid_check";

static void print_help(FILE *f)
{
	fprintf(f,
		"Usage: %s [--quiet] [--verbose] METADATA_DEV\n"
		"Check the metadata of a dm-hybrid pool (device or image file).\n\n"
		"  -q, --quiet    print nothing, report through the exit status\n"
		"  -v, --verbose  also print harmless findings (info)\n"
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
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
	rc = md_open(&img, a.in, 0, &r);
	if (rc == MD_EXIT_OK)
		md_check(&img, &r, 0, &c);
	md_report_flush(&r);
	if (rc == MD_EXIT_OK)
		summary(&img, &r, &c);
	else if (rc == MD_EXIT_BROKEN && a.verbosity)
		printf("%s: %s: metadata is broken, nothing further checked\n",
		       prog, a.in);
	md_close(&img);
	return rc ? rc : md_report_exit(&r);
}
