// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybrid_metadata_size - how big the metadata device of a dm-hybrid pool
 * must be for given SSD and HDD sizes (dmh_layout_need()), and with
 * --persistent-staging for a staging log that holds every slot of a
 * block tier dirty (the smallest device dmh_layout_compute() gives such
 * a log).
 *
 * Exit status: 0 ok, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "hctl.h"
#include "md.h"
#include "md_tool.h"

static const char *prog = "hybrid_metadata_size";

static void print_help(FILE *f)
{
	fprintf(f,
		"Usage: %s --ssd-size SIZE --hdd-size SIZE [--chunk-size SIZE]\n"
		"       [--growth PERCENT] [--persistent-staging SIZE] [--numeric|--json]\n"
		"Print the metadata device size a dm-hybrid pool needs.\n\n"
		"  -s, --ssd-size SIZE      size of the SSD data device\n"
		"  -d, --hdd-size SIZE      size of the HDD data device\n"
		"  -c, --chunk-size SIZE    chunk size, a power of two from 64K to\n"
		"                           64M (default 1M)\n"
		"  -g, --growth PERCENT     room for the data devices to grow by\n"
		"                           PERCENT without a bigger metadata device\n"
		"  -p, --persistent-staging SIZE\n"
		"                           room for a staging log that keeps a block\n"
		"                           tier of SIZE all dirty (persistent_staging)\n"
		"  -n, --numeric            print only the size in bytes\n"
		"      --json               the inputs and sizes as one JSON object\n"
		"  -h, --help               show this help\n\n"
		"SIZE is a number of bytes with an optional suffix: s (512-byte\n"
		"sectors), K, M, G, T, P (powers of 1024; KiB, KB, k also accepted).\n",
		prog);
}

/* Parse SIZE into bytes; returns -1 on garbage or overflow. */
static int parse_size(const char *s, u64 *bytes)
{
	static const char units[] = "KMGTP";
	const char *u;
	char *end;
	u64 v, mul = 1;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end == 's' && !end[1]) {
		mul = 512;
	} else if (*end) {
		u = strchr(units, *end >= 'a' ? *end - 'a' + 'A' : *end);
		if (!u)
			return -1;
		mul = 1ull << (10 * (u - units + 1));
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
		if (*end)
			return -1;
	}
	if (v > ~0ull / mul)
		return -1;
	*bytes = v * mul;
	return 0;
}

static void print_human(u64 blocks)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = blocks * 4.0;
	int i = 0;

	while (v >= 1024 && i < 3) {
		v /= 1024;
		i++;
	}
	printf("metadata size: %llu blocks (%.1f %s)\n",
	       (unsigned long long)blocks, v, unit[i]);
}

static int size_arg(const char *opt, const char *arg, u64 *bytes)
{
	if (!parse_size(arg, bytes))
		return 0;
	fprintf(stderr, "%s: %s: invalid size \"%s\" (e.g. 500G, 4T, 1M)\n",
		prog, opt, arg);
	return -1;
}

/* What was asked and what it takes, for --json. */
struct md_size {
	u64 ssd, hdd, chunk, growth, staging;	/* the options' values */
	u64 cap[DMH_NR_TIERS];			/* chunks with the growth */
	u64 log;				/* staging log blocks, or 0 */
	u64 blocks;				/* the answer */
};

static void print_json(const struct md_size *z)
{
	struct hc_json j;

	md_json_begin(&j, prog, MD_EXIT_OK);
	hc_json_u64(&j, "metadata_bytes", z->blocks * DMH_BLOCK_SIZE);
	hc_json_u64(&j, "metadata_blocks", z->blocks);
	hc_json_u64(&j, "block_bytes", DMH_BLOCK_SIZE);
	hc_json_u64(&j, "ssd_bytes", z->ssd);
	hc_json_u64(&j, "hdd_bytes", z->hdd);
	hc_json_u64(&j, "chunk_bytes", z->chunk);
	hc_json_u64(&j, "growth_percent", z->growth);
	hc_json_u64(&j, "ssd_chunks", z->cap[0]);
	hc_json_u64(&j, "hdd_chunks", z->cap[1]);
	hc_json_u64(&j, "persistent_staging_bytes", z->staging);
	hc_json_u64_known(&j, "staging_log_blocks", z->log, z->staging);
	md_json_end(&j);
}

/* Log blocks for a block tier of @bytes, with a note when it cannot hold it all. */
static u64 slog_for(u64 bytes)
{
	int capped;
	u64 n = md_slog_blocks_for(bytes, &capped);

	if (capped)
		fprintf(stderr,
			"%s: a staging log holds at most %llu dirty blocks (%llu MiB); the block tier stages no more\n",
			prog, DMH_SLOG_BLOCKS_MAX / 2 * DMH_SLOG_PER_BLOCK - 1ull,
			(DMH_SLOG_BLOCKS_MAX / 2 * DMH_SLOG_PER_BLOCK - 1ull) / 256);
	return n;
}

enum md_size_out { OUT_HUMAN, OUT_NUMERIC, OUT_JSON };

static int growth_arg(const char *arg, u64 *growth)
{
	char *end;

	errno = 0;
	*growth = strtoull(arg, &end, 10);
	if (!errno && !*end && *arg >= '0' && *arg <= '9' && *growth <= 100000)
		return 0;
	fprintf(stderr, "%s: --growth: \"%s\" is not a percentage (0..100000)\n",
		prog, arg);
	return -1;
}

/* Option @ch with @arg into @z and @out: -1 to go on, else the exit status. */
static int one_opt(int ch, const char *arg, struct md_size *z,
		   enum md_size_out *out)
{
	int bad = 0;

	switch (ch) {
	case 's':
		bad = size_arg("--ssd-size", arg, &z->ssd);
		break;
	case 'd':
		bad = size_arg("--hdd-size", arg, &z->hdd);
		break;
	case 'c':
		bad = size_arg("--chunk-size", arg, &z->chunk);
		break;
	case 'g':
		bad = growth_arg(arg, &z->growth);
		break;
	case 'p':
		bad = size_arg("--persistent-staging", arg, &z->staging);
		break;
	case 'n':
		*out = OUT_NUMERIC;
		break;
	case MD_TOOL_OPT_JSON:
		*out = OUT_JSON;
		break;
	default:	/* -h, unknown */
		print_help(ch == 'h' ? stdout : stderr);
		return ch == 'h' ? MD_EXIT_OK : MD_TOOL_EXIT_USAGE;
	}
	return bad ? MD_TOOL_EXIT_USAGE : -1;
}

/* The chunks with the growth and the blocks they need: 0, or a usage error. */
static int compute(struct md_size *z)
{
	u64 cs = z->chunk / 512, chunks[DMH_NR_TIERS];
	int t;

	if (z->chunk % 512 || cs < DMH_CHUNK_SECTORS_MIN ||
	    cs > DMH_CHUNK_SECTORS_MAX || (cs & (cs - 1))) {
		fprintf(stderr, "%s: chunk size must be a power of two from 64 KiB to 64 MiB\n",
			prog);
		return MD_TOOL_EXIT_USAGE;
	}
	chunks[0] = z->ssd / z->chunk;
	chunks[1] = z->hdd / z->chunk;
	/* growth <= 100000 and cap < 2^34 keep cap * growth below 2^51 */
	for (t = 0; t < DMH_NR_TIERS; t++) {
		z->cap[t] = chunks[t];
		if (z->cap[t] <= DMH_TIER_CHUNKS_MAX)
			z->cap[t] += dmh_div_up(z->cap[t] * z->growth, 100);
		if (z->cap[t] > DMH_TIER_CHUNKS_MAX) {
			fprintf(stderr,
				"%s: over %llu chunks a device%s; use larger chunks\n",
				prog, DMH_TIER_CHUNKS_MAX,
				z->growth ? " with the growth" : "");
			return MD_TOOL_EXIT_USAGE;
		}
	}
	z->blocks = dmh_layout_need(z->cap[0], z->cap[1]);
	if (z->staging) {
		z->log = slog_for(z->staging);
		z->blocks = md_size_with_log(chunks, z->cap, z->log);
	}
	if (!z->blocks) {
		fprintf(stderr, "%s: no metadata device of up to 256 TiB has that room\n",
			prog);
		return MD_TOOL_EXIT_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ssd-size", required_argument, NULL, 's' },
		{ "hdd-size", required_argument, NULL, 'd' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "growth", required_argument, NULL, 'g' },
		{ "persistent-staging", required_argument, NULL, 'p' },
		{ "numeric", no_argument, NULL, 'n' },
		MD_TOOL_JSON_OPTION,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct md_size z = {
		.ssd = ~0ull, .hdd = ~0ull,
		.chunk = DMH_CHUNK_SECTORS_DEF * 512ull,
	};
	enum md_size_out out = OUT_HUMAN;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "s:d:c:g:p:nh", opts, NULL)) != -1) {
		rc = one_opt(ch, optarg, &z, &out);
		if (rc >= 0)
			return rc;
	}
	if (optind != argc || z.ssd == ~0ull || z.hdd == ~0ull) {
		fprintf(stderr, "%s: --ssd-size and --hdd-size are required\n",
			prog);
		print_help(stderr);
		return MD_TOOL_EXIT_USAGE;
	}
	rc = compute(&z);
	if (rc)
		return rc;
	if (out == OUT_JSON)
		print_json(&z);
	else if (out == OUT_NUMERIC)
		printf("%llu\n", (unsigned long long)(z.blocks * DMH_BLOCK_SIZE));
	else
		print_human(z.blocks);
	return MD_EXIT_OK;
}
