// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybrid_repair - fix the repairable problems hybrid_check reports.
 *
 * Leaked chunks (owner volume missing, or virtual chunk past the end of
 * the volume), malformed entries and mappings past the end of a device are
 * freed; of a virtual chunk mapped twice, the copy whose reverse-map block
 * was written by the newer transaction is kept (ties: SSD, then the lower
 * physical chunk); a wrong nr_volumes is recomputed; bad pins (tier not
 * ssd or hdd, empty range, missing volume, range past the volume's end,
 * records past DMH_MAX_PINS) are dropped; a wrong staging log flag is
 * set or cleared.  A staging log that cannot be replayed (a damaged live
 * block, or a record the maps contradict) is broken: it holds the only
 * copy of staged writes, so it is dropped only with --drop-staged, which
 * names each staged write lost.  The result is written
 * as transaction txid + 1 with the kernel's commit protocol, so a crash in
 * the middle leaves the old transaction intact.  Broken metadata is never
 * touched.
 *
 * Exit status: 0 clean (repaired or nothing to do), 1 still not clean
 * after repair, 2 broken (nothing written) or bad usage, 3 I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hctl.h"
#include "md.h"
#include "md_tool.h"

static const char *prog = "hybrid_repair";

static void print_help(FILE *f)
{
	fprintf(f,
		"Usage: %s -i METADATA_DEV [-o OUTPUT] [--rewrite] [--drop-staged]\n"
		"       [-q|-v] [--json]\n"
		"Repair dm-hybrid metadata in place, or into a copy with -o.\n"
		"The pool must not be active.\n\n"
		"  -i, --input DEV    metadata device or image to repair\n"
		"  -o, --output DEV   write the repaired metadata here instead\n"
		"                     (the input is copied first, then repaired)\n"
		"      --rewrite      commit a new transaction even when clean\n"
		"                     (also clears uncommitted leftovers)\n"
		"      --drop-staged  drop a staging log that cannot be replayed,\n"
		"                     losing the staged writes it records\n"
		"  -q, --quiet        print nothing but errors\n"
		"  -v, --verbose      also print harmless findings\n"
		"      --json         what was found and changed as one JSON object\n"
		"  -h, --help         show this help\n\n"
		"Exit status: 0 clean, 1 still not clean, 2 broken (nothing\n"
		"written) or bad usage, 3 I/O error.\n", prog);
}

static int copy_image(struct md_image *img, const char *out)
{
	u8 buf[DMH_BLOCK_SIZE];
	u64 i, have;
	int fd, rc;

	fd = open(out, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		return -errno;
	rc = md_dev_blocks(fd, &have);
	for (i = 0; !rc && i < img->dev_blocks; i++) {
		rc = md_read_block(img->fd, i, buf);
		if (!rc)
			rc = md_write_block(fd, i, buf);
	}
	if (!rc && have > img->dev_blocks && ftruncate(fd, (off_t)
			(img->dev_blocks * DMH_BLOCK_SIZE)) && errno != EINVAL)
		rc = -errno;
	if (rc) {
		close(fd);
		return rc;
	}
	close(img->fd);
	img->fd = fd;
	return 0;
}

/* Re-read what was written and check it from scratch into @r. */
static int verify(const char *path, struct md_report *r)
{
	struct md_image img;
	struct md_counts c;
	int rc;

	rc = md_open(&img, path, 0, r);
	if (!rc)
		md_check(&img, r, 0, &c);
	md_report_flush(r);
	md_close(&img);
	if (!rc)
		rc = md_report_exit(r);
	if (rc)
		fprintf(stderr, "%s: %s is still not clean after repair\n",
			prog, path);
	return rc;
}

/*
 * Fix what md_check() can and commit it as transaction *@txid (left 0 when
 * nothing is written); the sentences only without --json (@r keeps).
 */
static int repair(struct md_image *img, struct md_report *r,
		  const char *out, int rewrite, u64 *txid)
{
	int say = r->verbosity && !r->keep;
	struct md_counts c;
	int rc;

	md_check(img, r, 1, &c);
	md_report_flush(r);
	if (r->count[MD_BROKEN]) {
		fprintf(stderr,
			"%s: %s: metadata is broken; nothing written (see hybrid_check(8) for what to do)\n",
			prog, img->path);
		return MD_EXIT_BROKEN;
	}
	if (!md_problems(r) && !rewrite && !out) {
		if (say)
			printf("%s: %s: clean, nothing to do\n", prog,
			       img->path);
		return MD_EXIT_OK;
	}
	if (out) {
		rc = copy_image(img, out);
		if (rc) {
			fprintf(stderr, "%s: cannot copy to %s: %s\n", prog,
				out, strerror(-rc));
			return MD_EXIT_USAGE;
		}
	}
	if (!md_problems(r) && !rewrite)
		return MD_EXIT_OK;
	img->sb.flags &= ~DMH_SB_NEEDS_CHECK;
	rc = md_commit(img, img->sb.txid + 1, 0);
	if (rc) {
		fprintf(stderr, "%s: writing %s failed: %s\n", prog,
			out ? out : img->path, strerror(-rc));
		return MD_EXIT_USAGE;
	}
	*txid = img->sb.txid;
	if (say)
		fprintf(stdout,
			"%s: %s: fixed %lu problems, %lu leftovers cleared, committed transaction %llu\n",
			prog, out ? out : img->path, md_problems(r),
			r->leftovers, (unsigned long long)*txid);
	return MD_EXIT_OK;
}

struct repair_opts {
	int rewrite;
	int drop_staged;
};

/* --rewrite and --drop-staged, the options of its own. */
static int repair_opt(int ch, const char *arg, void *ctx)
{
	struct repair_opts *ro = ctx;

	(void)arg;
	if (ch == 'R')
		ro->rewrite = 1;
	else if (ch == 'D')
		ro->drop_staged = 1;
	else
		return MD_TOOL_EXIT_USAGE;
	return 0;
}

/*
 * --json: the findings of the repair pass (@r), what was written (@txid, 0
 * for nothing) and the check of the result (@after, NULL if not run).
 */
static void json_out(const struct md_args *a, const struct md_report *r,
		     u64 txid, const struct md_report *after, int status)
{
	struct hc_json j;

	md_json_begin(&j, prog, status);
	hc_json_str(&j, "verdict", md_json_verdict(status));
	hc_json_str(&j, "input", a->in);
	hc_json_str(&j, "output", a->out);
	hc_json_bool(&j, "committed", txid != 0);
	hc_json_u64_known(&j, "transaction", txid, txid != 0);
	hc_json_u64(&j, "fixed", txid ? md_problems(r) : 0);
	hc_json_u64(&j, "leftovers_cleared", txid ? r->leftovers : 0);
	md_json_report(&j, r);
	if (after) {
		hc_json_open(&j, "after", '{');
		md_json_report(&j, after);
		hc_json_close(&j);
	} else {
		hc_json_str(&j, "after", NULL);
	}
	md_json_end(&j);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "rewrite", no_argument, NULL, 'R' },
		{ "drop-staged", no_argument, NULL, 'D' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		MD_TOOL_JSON_OPTION,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct repair_opts ro = { 0, 0 };
	const struct md_tool tool = {
		.prog = "hybrid_repair", .shortopts = "i:o:qvh", .longopts = opts,
		.help = print_help, .opt = repair_opt, .ctx = &ro,
	};
	const char *in, *out;
	struct md_report r, after;
	struct md_image img;
	struct md_args a;
	u64 txid = 0;
	int rc, verified;

	rc = md_tool_args(&tool, argc, argv, &a);
	if (rc >= 0)
		return rc;
	in = a.in;
	out = a.out;
	md_report_init(&r, prog, stdout, a.verbosity);
	md_report_init(&after, prog, stdout, a.verbosity ? 1 : 0);
	r.keep = a.json;
	after.keep = a.json;
	rc = md_open(&img, in, out ? 0 : 1, &r);
	if (rc == MD_EXIT_BROKEN) {
		md_report_flush(&r);
		fprintf(stderr, "%s: %s: metadata is broken; nothing written\n",
			prog, in);
	}
	img.slog.drop = ro.drop_staged;
	if (!rc)
		rc = repair(&img, &r, out, ro.rewrite, &txid);
	md_close(&img);
	verified = !rc;
	if (verified)
		rc = verify(out ? out : in, &after);
	if (a.json)
		json_out(&a, &r, txid, verified ? &after : NULL, rc);
	md_report_free(&r);
	md_report_free(&after);
	return rc;
}
