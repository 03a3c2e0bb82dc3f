// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of hybridctl's parsers (tools/hctl.c): sizes, names, the
 * documented status lines and message replies, hybridtab lines and the
 * statistics arithmetic.  Prints TAP lines; exits non-zero on a failure.
 */
#include <endian.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hctl.h"
#include "tests/tap.h"

/*
 * Status lines and replies longer than a line of code: the examples of
 * Documentation/dm-hybrid.rst and two samples of one volume 2 s apart.
 */
#define POOL_DOC "14 81/4096 128 80/128 304/2048 2 48 0 0 rw 0 - - on 0 48 6144 0 4 60 1 1024 4 200"
#define POOL_FEATURES "5 9272/13872 2048 0/102400 0/2097152 2 0 0 0 ro 2 error_if_no_space no_discard_passdown needs_check out_of_space off 1 2 3 64 4 60 1024 1024 4 1000 30"
#define VOL_DOC "256 64 192 27350 256 218800 32768 26930 676 48 0 240 27350-0-256-0-0-0 100 0 0 normal"
/* Since write staging: a pool with it (32 fields + 3 features), a volume. */
#define POOL_STAGE "14 81/4096 128 80/128 304/2048 2 48 0 0 rw 3 block_tier 64 write_staging - - on 0 48 6144 0 4 60 1 1024 4 200 30 0 1 200/4096 900 4000 12 345"
#define VOL_STAGE VOL_DOC " 17 700 10"
/* Since persistent staging: the feature, and the staging log's 34th field. */
#define POOL_SLOG "14 81/4096 128 80/128 304/2048 2 48 0 0 rw 4 block_tier 64 write_staging persistent_staging - - on 0 48 6144 0 4 60 1 1024 4 200 30 0 1 200/4096 900 4000 12 345 - 3/97"
/* Since the volumes share the block tier: its 300 slots (21 fields). */
#define VOL_SLOTS VOL_STAGE " 300"
/* Since the volumes share the chunk tier: 96 hot chunks, 63 due (23 fields). */
#define VOL_SHARES VOL_SLOTS " 96 63"
#define TAB_STAGE "p /a /b /c chunk=256K,write_staging,no_discard_passdown,block_tier=1537M,error_if_no_space\n"
#define VOL_LIST "1 41943040 vm1 100 normal 0 0 1 20 5 15\n2 2048 - 200 high 10 50 0 0 0 0"
#define TAB_LINE "pool0 /dev/vg/meta /dev/nvme0n1 /dev/sdb chunk=256K,error_if_no_space,noauto # x\n"
#define VOL_T0 "10 4 6 100 100 800 800 150 50 1 2 50 0-0-0-0-0-0 100 0 0 normal"
#define VOL_T1 "10 5 5 400 200 3200 2400 450 150 3 4 150 0-0-0-0-0-0 100 0 0 normal"

/* Tolerance of the statistics arithmetic, 1e-9 (spelled so for checkpatch). */
#define EPS (1.0 / 1e9)

static bool near(double a, double b)
{
	return fabs(a - b) < EPS;
}

static int size_is(const char *s, u64 want)
{
	u64 b;

	return !hc_parse_size(s, &b) && b == want;
}

static int size_bad(const char *s)
{
	u64 b;

	return hc_parse_size(s, &b) != 0;
}

static int fmt_is(u64 b, const char *want)
{
	char buf[32];

	return !strcmp(hc_format_size(b, buf, sizeof(buf)), want);
}

/* Whether every one of the pool status lines is refused. */
static int bad_pool_refused(void)
{
	static const char *const bad[] = {
		"14 81/4096 128 80/128",
		"14 81/4096 128 80/128 304/2048 2 48 0 0 xx 0 - - on 0 48 6144 0 4 60 1 1024 4 200",
		"14 81 128 80/128 304/2048 2 48 0 0 rw 0 - - on 0 48 6144 0 4 60 1 1024 4 200",
		"14 81/4096 128 80/128 304/2048 2 48 0 0 rw 3 a - - on 0 48 6144 0 4 60 1 1024 4 200",
	};
	struct hc_pool_status ps;
	u32 i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (!hc_parse_pool_status(bad[i], &ps))
			return 0;
	return 1;
}

/* Whether every one of the volume status lines is refused. */
static int bad_vol_refused(void)
{
	static const char *const bad[] = {
		"256 64 192 27350 256 218800 32768 26930 676 48 0 240 27350-0-256-0-0 100 0 0 normal",
		"256 64 192",
	};
	struct hc_vol_status vs;
	u32 i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (!hc_parse_vol_status(bad[i], &vs))
			return 0;
	return 1;
}

/*
 * Write staging's fields at the ends of both status lines: parsed when
 * present, absent (flag clear) on an older kernel's shorter lines.
 */
static void test_staging(void)
{
	struct hc_pool_status ps;
	struct hc_vol_status vs;

	t(!hc_parse_pool_status(POOL_STAGE, &ps) && ps.nr_features == 3 &&
	  !strcmp(ps.features, "block_tier 64 write_staging") &&
	  ps.nr_knobs == 10 && ps.blk_slots == 4096 && ps.blk_hits == 4000 &&
	  ps.blk_staging && ps.blk_dirty == 12 && ps.blk_writebacks == 345,
	  "pool status with write staging: 3 features, dirty blocks, write-backs");
	t(!hc_parse_pool_status(POOL_DOC " 30 0 1 0/0 0 0 0 0", &ps) &&
	  !ps.blk_slots && ps.blk_staging && !ps.blk_dirty,
	  "pool status of a new kernel without block_tier: 32 fields, all 0");
	t(!hc_parse_pool_status(POOL_DOC " 30 0 1 200/256 900 4000", &ps) &&
	  ps.blk_slots == 256 && !ps.blk_staging,
	  "pool status of an older kernel: 30 fields, no staging fields");
	t(!hc_parse_pool_status(POOL_STAGE " 9", &ps) && ps.blk_dirty == 12,
	  "pool status with a field after them (a newer kernel)");
	t(!hc_parse_pool_status(POOL_STAGE " ssd_failed", &ps) &&
	  ps.ssd_failed && ps.blk_writebacks == 345,
	  "pool status with ssd_failed (33 fields + 3 features)");
	t(!hc_parse_pool_status(POOL_STAGE " -", &ps) && !ps.ssd_failed &&
	  ps.ssd_known &&
	  !hc_parse_pool_status(POOL_STAGE, &ps) && !ps.ssd_failed &&
	  !ps.ssd_known,
	  "pool status with - or without the ssd_failed field");
	t(hc_pool_has_feature(&ps, "write_staging") &&
	  hc_pool_has_feature(&ps, "block_tier") &&
	  !hc_pool_has_feature(&ps, "write") &&
	  !hc_pool_has_feature(&ps, "staging") &&
	  !hc_pool_has_feature(&ps, "64 write"),
	  "features are whole words");
	t(!hc_parse_vol_status(VOL_DOC, &vs) && !vs.staging && !vs.block_hits,
	  "volume status of 17 fields: no block hits, no staging");
	t(!hc_parse_vol_status(VOL_DOC " 17", &vs) && vs.block_hits == 17 &&
	  !vs.staging, "volume status of 18 fields: block hits, no staging");
	t(!hc_parse_vol_status(VOL_STAGE, &vs) && vs.block_hits == 17 &&
	  vs.staging && vs.staged_writes == 700 && vs.dirty_blocks == 10 &&
	  !vs.slots_known && !vs.block_slots && !strcmp(vs.prio, "normal"),
	  "volume status of 20 fields: staged writes, dirty blocks, no block slots");
	t(!hc_parse_vol_status(VOL_SLOTS, &vs) && vs.staging &&
	  vs.dirty_blocks == 10 && vs.slots_known && vs.block_slots == 300,
	  "volume status of 21 fields: block slots");
	t(!hc_parse_vol_status(VOL_DOC, &vs) && !vs.slots_known &&
	  !hc_parse_vol_status(VOL_DOC " 17", &vs) && !vs.slots_known,
	  "volume status of 17 and 18 fields: block slots unknown");
	t(!hc_parse_vol_status(VOL_SHARES " 5", &vs) && vs.dirty_blocks == 10 &&
	  vs.block_slots == 300 && vs.chunks_due == 63,
	  "volume status with a field after them (a newer kernel)");
	t(hc_parse_vol_status(VOL_DOC " 17 700", &vs) &&
	  hc_parse_vol_status(VOL_DOC " 17 x 10", &vs) &&
	  hc_parse_vol_status(VOL_DOC " 17 700 -1", &vs) &&
	  hc_parse_vol_status(VOL_STAGE " x", &vs) &&
	  hc_parse_vol_status(VOL_STAGE " -3", &vs) &&
	  hc_parse_vol_status(VOL_DOC " x", &vs),
	  "volume status with half a pair or a bad number refused");
}

/*
 * The staging log's field after ssd_failed|-: parsed when present, unknown
 * on an older kernel's line or a newer one's unparsable field.
 */
static void test_slog(void)
{
	struct hc_pool_status ps;

	t(!hc_parse_pool_status(POOL_SLOG, &ps) && ps.nr_features == 4 &&
	  hc_pool_has_feature(&ps, "persistent_staging") &&
	  ps.blk_writebacks == 345 && !ps.ssd_failed && ps.slog_known &&
	  ps.slog_used == 3 && ps.slog_half == 97,
	  "pool status with persistent_staging: 34 fields + 4 features, log 3/97");
	t(!hc_parse_pool_status(POOL_STAGE " -", &ps) && !ps.slog_known &&
	  !ps.slog_used && !ps.slog_half &&
	  !hc_parse_pool_status(POOL_STAGE, &ps) && !ps.slog_known,
	  "pool status of 33 and 32 fields: no staging log field");
	t(!hc_parse_pool_status(POOL_STAGE " - 0/0", &ps) && ps.slog_known &&
	  !ps.slog_half && !hc_pool_has_feature(&ps, "persistent_staging"),
	  "pool status of a metadata device without a log: 0/0");
	t(!hc_parse_pool_status(POOL_STAGE " ssd_failed 5/97 9", &ps) &&
	  ps.ssd_failed && ps.slog_used == 5 && ps.slog_half == 97,
	  "pool status with ssd_failed, the log and a newer kernel's field");
	t(!hc_parse_pool_status(POOL_STAGE " - 3", &ps) && !ps.slog_known &&
	  !hc_parse_pool_status(POOL_STAGE " - x/97", &ps) && !ps.slog_known,
	  "pool status with a log field that is no ratio: unknown");
}

/*
 * hybridtab's block_tier=<size> and write_staging: parsed, written back,
 * and turned into the kernel's feature args in the order it prints them.
 */
static void test_tab_block_tier(void)
{
	struct hc_tab tab, back;
	char why[128], buf[512];

	t(hc_tab_parse(TAB_STAGE, &tab, why, sizeof(why)) == 1 &&
	  tab.block_tier == 1537 && tab.write_staging,
	  "tab: block_tier=1537M and write_staging");
	hc_tab_format(&tab, buf, sizeof(buf));
	t(hc_tab_parse(buf, &back, why, sizeof(why)) == 1 &&
	  !memcmp(&tab, &back, sizeof(tab)) && strstr(buf, "block_tier=1537M"),
	  "... round trip in whole MiB");
	hc_tab_features(&tab, buf, sizeof(buf));
	t(!strcmp(buf, "5 no_discard_passdown error_if_no_space block_tier 1537 write_staging"),
	  "... feature args in the kernel's order, block_tier counting two");
	buf[0] = 0;
	if (hc_tab_parse("p /a /b /c block_tier=64M\n", &tab, why, sizeof(why)) == 1)
		hc_tab_features(&tab, buf, sizeof(buf));
	t(!strcmp(buf, "2 block_tier 64") && !tab.write_staging,
	  "tab: block_tier alone");
	t(hc_tab_parse("p /a /b /c write_staging\n", &tab, why, sizeof(why)) < 0 &&
	  strstr(why, "needs block_tier"),
	  "tab: write_staging without block_tier refused");
	t(hc_tab_parse("p /a /b /c persistent_staging\n", &tab, why, sizeof(why)) < 0 &&
	  !strcmp(why, "persistent_staging needs block_tier=<size>"),
	  "tab: persistent_staging without block_tier refused");
	buf[0] = 0;
	if (hc_tab_parse("p /a /b /c block_tier=64M,persistent_staging,write_staging\n",
			 &tab, why, sizeof(why)) == 1)
		hc_tab_features(&tab, buf, sizeof(buf));
	t(tab.persistent_staging &&
	  !strcmp(buf, "4 block_tier 64 write_staging persistent_staging"),
	  "tab: persistent_staging, after write_staging as the kernel prints it");
	hc_tab_format(&tab, buf, sizeof(buf));
	t(hc_tab_parse(buf, &back, why, sizeof(why)) == 1 &&
	  !memcmp(&tab, &back, sizeof(tab)) &&
	  strstr(buf, ",write_staging,persistent_staging"),
	  "... round trip");
	t(hc_tab_parse("p /a /b /c block_tier=0\n", &tab, why, sizeof(why)) < 0 &&
	  hc_tab_parse("p /a /b /c block_tier=1536K\n", &tab, why, sizeof(why)) < 0 &&
	  hc_tab_parse("p /a /b /c block_tier=17G\n", &tab, why, sizeof(why)) < 0 &&
	  hc_tab_parse("p /a /b /c block_tier=16G\n", &tab, why, sizeof(why)) == 1 &&
	  tab.block_tier == 16384,
	  "tab: block tier sizes are whole MiB from 1M to 16G");
}

/*
 * The chunk tier's shares, "<hot chunks> <chunks due>" after <block
 * slots>: known on a 23-field line, unknown on the older kernels' lines,
 * a line cut between them refused like the other pairs.
 */
static void test_shares(void)
{
	struct hc_vol_status vs;

	t(!hc_parse_vol_status(VOL_SHARES, &vs) && vs.shares_known &&
	  vs.hot_chunks == 96 && vs.chunks_due == 63 && vs.slots_known &&
	  vs.block_slots == 300 && vs.dirty_blocks == 10 &&
	  !strcmp(vs.prio, "normal"),
	  "volume status of 23 fields: 96 hot chunks, 63 due, 300 slots");
	t(!hc_parse_vol_status(VOL_SLOTS, &vs) && vs.slots_known &&
	  !vs.shares_known && !vs.hot_chunks && !vs.chunks_due,
	  "volume status of 21 fields: shares unknown");
	t(!hc_parse_vol_status(VOL_DOC, &vs) && !vs.shares_known &&
	  !hc_parse_vol_status(VOL_DOC " 17", &vs) && !vs.shares_known &&
	  !hc_parse_vol_status(VOL_STAGE, &vs) && !vs.shares_known,
	  "volume status of 17, 18 and 20 fields: shares unknown");
	t(!hc_parse_vol_status(VOL_SLOTS " 0 0", &vs) && vs.shares_known &&
	  !vs.hot_chunks && !vs.chunks_due,
	  "volume status of 23 fields: no demand, nothing due (known)");
	t(hc_parse_vol_status(VOL_SLOTS " 96", &vs) &&
	  hc_parse_vol_status(VOL_SLOTS " 96 x", &vs) &&
	  hc_parse_vol_status(VOL_SLOTS " -1 63", &vs) &&
	  hc_parse_vol_status(VOL_SLOTS " 96 63x", &vs),
	  "volume status cut between <hot chunks> and <chunks due>, or with a bad number, refused");
}

/* What stats makes of the staging fields of two samples. */
static void test_staging_stats(void)
{
	struct hc_vol_status a, b;
	struct hc_stats st;

	hc_parse_vol_status(VOL_T0 " 5 100 3", &a);
	hc_parse_vol_status(VOL_T1 " 9 160 7", &b);
	hc_stats_compute(&a, &b, 2.0, 2048, &st);
	t(st.staging && st.staged == 60 && st.block_hits == 4 &&
	  st.dirty_bytes == 7 * 4096,
	  "stats: staged writes and block hits in the interval, dirty bytes now");
	hc_stats_compute(&b, &a, 2.0, 2048, &st);
	t(st.staged == 0 && st.block_hits == 0 && st.dirty_bytes == 3 * 4096,
	  "... counters that went back count as 0, dirty bytes do not");
	t(!st.slots_known && !st.slot_bytes,
	  "... a kernel without <block slots>: slots unknown");
	hc_parse_vol_status(VOL_T1 " 9 160 7 12", &b);
	hc_stats_compute(&a, &b, 2.0, 2048, &st);
	t(st.slots_known && st.slot_bytes == 12 * 4096 && st.staged == 60,
	  "... block slots at its end, as bytes");
	hc_parse_vol_status(VOL_T1, &b);
	hc_stats_compute(&b, &b, 2.0, 2048, &st);
	t(!st.staging && !st.dirty_bytes && !st.slots_known,
	  "... an older kernel's line: unknown");
}

/* The knob names from DMH_KNOBS, in the order of the status fields. */
static void test_knobs(void)
{
	static const char *const want[] = {
		"migration_rate", "hysteresis", "heat_half_life", "ssd_reserve",
		"seq_cutoff", "promote_threshold", "tick_ms",
		"heat_save_interval", NULL, "promote_free_threshold",
	};
	u32 i, same = hc_nr_knob_names == ARRAY_SIZE(want);

	for (i = 0; same && i < ARRAY_SIZE(want); i++)
		same = want[i] ? hc_knob_names[i] &&
			!strcmp(want[i], hc_knob_names[i]) : !hc_knob_names[i];
	t(same, "knob names in status order, the backoffs field NULL");
}

/* A report like stats --json's, through the JSON writer into @buf. */
static void json_sample(char *buf, size_t len, int one_line)
{
	struct hc_json j;
	FILE *f = fmemopen(buf, len, "w");

	hc_json_init(&j, f);
	j.one_line = one_line;
	hc_json_open(&j, NULL, '{');
	hc_json_num(&j, "interval_s", 1.5, 3, 0);
	hc_json_open(&j, "volumes", '[');
	hc_json_open(&j, NULL, '{');
	hc_json_str(&j, "device", "a\"b\\\001");
	hc_json_str(&j, "name", NULL);
	hc_json_u64(&j, "id", 7);
	hc_json_num(&j, "hit", -1, 1, 1);
	hc_json_open(&j, "xen", '{');
	hc_json_u64(&j, "id", 1);
	hc_json_close(&j);
	hc_json_close(&j);
	hc_json_open(&j, NULL, '{');
	hc_json_num(&j, "hit", 12.5, 1, 1);
	hc_json_close(&j);
	hc_json_close(&j);
	hc_json_open(&j, "empty", '[');
	hc_json_close(&j);
	hc_json_close(&j);
	fclose(f);
}

static void test_json(void)
{
	static const char lines[] =
		"{\"interval_s\": 1.500, \"volumes\": [\n"
		"{\"device\": \"a\\\"b\\\\\\u0001\", \"name\": null, \"id\": 7, \"hit\": null, \"xen\": {\"id\": 1}},\n"
		"{\"hit\": 12.5}\n"
		"], \"empty\": [\n]}\n";
	static const char one[] =
		"{\"interval_s\": 1.500, \"volumes\": [{"
		"\"device\": \"a\\\"b\\\\\\u0001\", \"name\": null, \"id\": 7, \"hit\": null, \"xen\": {"
		"\"id\": 1}}, {"
		"\"hit\": 12.5}], \"empty\": []}\n";
	char buf[512];

	json_sample(buf, sizeof(buf), 0);
	t(!strcmp(buf, lines), "JSON writer: separators, escapes, null, nesting");
	if (strcmp(buf, lines))
		printf("# %s", buf);
	json_sample(buf, sizeof(buf), 1);
	t(!strcmp(buf, one), "JSON writer, one_line: the same on one line");
	if (strcmp(buf, one))
		printf("# %s", buf);
}

/* What a pool's activation reads, and the stat line it is measured by. */
static void test_activation(void)
{
	struct dmh_disk_super s;
	u64 sect = 0;

	memset(&s, 0, sizeof(s));
	s.vt_blocks = htole64(4);
	s.rmap_blocks[0] = htole64(10);
	s.rmap_blocks[1] = htole64(100);
	s.heat_blocks = htole64(7);
	s.slog_used = htole64(5);	/* no log: not read */
	t(hc_activation_bytes(&s) == (2 + 8 + 20 + 200 + 7) * 4096ull,
	  "activation reads both superblocks, both copies of the maps, the heat");
	s.slog_blocks = htole64(64);
	t(hc_activation_bytes(&s) == (2 + 8 + 20 + 200 + 7 + 5) * 4096ull,
	  "and the staging log's live records");
	t(!hc_stat_sectors_read("     123        4    98765       10    0 0 0 0 0 10 10\n",
				&sect) && sect == 98765,
	  "sectors read: the third field of a block stat line");
	t(hc_stat_sectors_read("12 x", &sect) && sect == 98765 &&
	  hc_stat_sectors_read("", &sect),
	  "a malformed stat line is refused and changes nothing");
}

int main(void)
{
	struct hc_pool_status ps;
	struct hc_vol_status a, b;
	struct hc_pool_table pt;
	struct hc_vol_info *vi;
	struct hc_pmap m;
	struct hc_run run[4];
	struct hc_stats st;
	struct hc_tab tab, back;
	char buf[512], why[128], dev[32];
	u32 nv, id;

	/* sizes */
	t(size_is("20G", 20ull << 30), "size 20G");
	t(size_is("512M", 512ull << 20) && size_is("512MiB", 512ull << 20) &&
	  size_is("512m", 512ull << 20) && size_is("512MB", 512ull << 20),
	  "size 512M, MiB, m, MB");
	t(size_is("1.5G", 3ull << 29), "size 1.5G");
	t(size_is("4K", 4096) && size_is("2T", 2ull << 40), "size 4K, 2T");
	t(size_is("100s", 51200) && size_is("4096", 4096) &&
	  size_is("4096B", 4096), "size in sectors and bytes");
	t(size_bad("") && size_bad("G") && size_bad("-1G") && size_bad("1X") &&
	  size_bad("1GG") && size_bad("1.G") && size_bad("99999999999E"),
	  "bad sizes refused");
	t(fmt_is(20ull << 30, "20G") && fmt_is(3ull << 29, "1.5G") &&
	  fmt_is(100, "100B") && fmt_is(1536, "1.5K"), "format sizes");

	/* names */
	t(hc_valid_name("vm1") && hc_valid_name("web.example:db@2-x_y+z") &&
	  hc_valid_name("1a"), "valid names");
	t(!hc_valid_name("") && !hc_valid_name("123") && !hc_valid_name("-") &&
	  !hc_valid_name("a b") && !hc_valid_name("a/b") &&
	  !hc_valid_name("0123456789012345678901234567890123456789012345678901234567890123"),
	  "invalid names: empty, digits, -, space, slash, 64 chars");

	/* the pool status example of Documentation/dm-hybrid.rst */
	t(!hc_parse_pool_status(POOL_DOC, &ps) && ps.txid == 14 && ps.md_used == 81 &&
	  ps.md_total == 4096 && ps.chunk_sectors == 128 && ps.used[0] == 80 &&
	  ps.total[0] == 128 && ps.used[1] == 304 && ps.total[1] == 2048 &&
	  ps.volumes == 2 && ps.promotions == 48 && !strcmp(ps.mode, "rw") &&
	  !ps.nr_features && !ps.out_of_space && ps.migration_on &&
	  ps.done == 48 && ps.moved == 6144 && ps.nr_knobs == 7 &&
	  ps.knobs[3] == 1 && ps.knobs[6] == 200, "pool status (doc example)");
	t(!hc_parse_pool_status(POOL_FEATURES, &ps) && !strcmp(ps.mode, "ro") &&
	  ps.nr_features == 2 &&
	  !strcmp(ps.features, "error_if_no_space no_discard_passdown") &&
	  ps.needs_check && ps.out_of_space && !ps.migration_on &&
	  ps.queued == 1 && ps.nr_knobs == 8 && ps.knobs[7] == 30,
	  "pool status with features, flags and an eighth knob");
	t(bad_pool_refused(), "bad pool status refused");

	/* the volume status example */
	t(!hc_parse_vol_status(VOL_DOC, &a) && a.mapped == 256 && a.ssd == 64 &&
	  a.hdd == 192 && a.rios == 27350 && a.wios == 256 &&
	  a.ssd_ios == 26930 && a.prom == 48 && a.seq == 240 &&
	  a.hist[0] == 27350 && a.hist[2] == 256 && a.weight == 100 &&
	  !strcmp(a.prio, "normal"), "volume status (doc example)");
	t(bad_vol_refused(), "bad volume status refused");
	t(!hc_parse_vol_status(VOL_DOC " 17", &a) && a.block_hits == 17 &&
	  !strcmp(a.prio, "normal"), "volume status with block hits");
	t(!hc_parse_pool_status(POOL_DOC " 30 0 1 200/256 900 4000", &ps) &&
	  ps.nr_knobs == 10 && ps.blk_valid == 200 && ps.blk_slots == 256 &&
	  ps.blk_fills == 900 && ps.blk_hits == 4000,
	  "pool status with the block tier's fields");
	t(!hc_parse_pool_status(POOL_DOC " 30 0 1", &ps) && !ps.blk_slots,
	  "pool status without them: no block tier");
	test_staging();
	test_slog();

	/* tables */
	t(!hc_parse_pool_table("254:1 254:2 254:3 2048 1 error_if_no_space", &pt) &&
	  !strcmp(pt.dev[2], "254:3") && pt.chunk_sectors == 2048 &&
	  !strcmp(pt.features, "error_if_no_space") &&
	  !hc_parse_pool_table("254:1 254:2 254:3 128 0", &pt) &&
	  hc_parse_pool_table("254:1 254:2 254:3 128 2 x", &pt),
	  "pool tables");
	t(!hc_pool_table_set_ssd("254:1 254:2 254:3 128 3 block_tier 4 write_staging",
				 "8:48", buf, sizeof(buf)) &&
	  !strcmp(buf, "254:1 8:48 254:3 128 3 block_tier 4 write_staging") &&
	  !hc_pool_table_set_ssd("254:1 254:2 254:3 2048", "/dev/vg/new", buf,
				 sizeof(buf)) &&
	  !strcmp(buf, "254:1 /dev/vg/new 254:3 2048"),
	  "a pool table onto a new SSD keeps every other field");
	t(hc_pool_table_set_ssd("254:1 254:2 254:3 128 0", "", buf, sizeof(buf)) &&
	  hc_pool_table_set_ssd("254:1 254:2 254:3 128 0", "a b", buf, sizeof(buf)) &&
	  hc_pool_table_set_ssd("254:1 254:2", "8:48", buf, sizeof(buf)) &&
	  hc_pool_table_set_ssd("254:1 254:2 254:3 128 0", "8:48", buf, 22) &&
	  !hc_pool_table_set_ssd("254:1 254:2 254:3 128 0", "8:48", buf, 23),
	  "... and refuses no SSD, a blank in it, no pool table, a short buffer");
	t(!hc_parse_vol_table("253:0 7", dev, sizeof(dev), &id) && id == 7 &&
	  !strcmp(dev, "253:0") &&
	  hc_parse_vol_table("/dev/x 7", dev, sizeof(dev), &id) &&
	  hc_parse_vol_table("253:0 16777216", dev, sizeof(dev), &id),
	  "volume tables");

	/* list_volumes */
	t(!hc_parse_volume_list(VOL_LIST, &vi, &nv) && nv == 2 && vi[0].id == 1 &&
	  vi[0].size == 41943040 && !strcmp(vi[0].name, "vm1") &&
	  vi[0].open == 1 && vi[0].mapped == 20 && vi[0].hdd == 15 &&
	  !vi[1].name[0] && vi[1].weight == 200 && !strcmp(vi[1].prio, "high") &&
	  vi[1].ssd_max == 50, "list_volumes reply");
	free(vi);
	t(!hc_parse_volume_list("", &vi, &nv) && nv == 0, "empty list_volumes");
	free(vi);
	t(hc_parse_volume_list("1 2 vm1 100 normal 0 0 1 20 5", &vi, &nv) &&
	  hc_parse_volume_list("x 2 vm1 100 normal 0 0 1 20 5 15", &vi, &nv),
	  "bad list_volumes refused");

	/* placement_map */
	snprintf(buf, sizeof(buf), "%s",
		 "chunks=1024 ssd=128 hdd=256 tiers=..hhsS.. heat=00128f00");
	t(!hc_parse_pmap(buf, &m) && m.chunks == 1024 && m.ssd == 128 &&
	  m.buckets == 8 && !strncmp(m.tiers, "..hhsS..", 8) &&
	  m.heat[7] == '0', "placement map");
	t(hc_pmap_ssd_runs(&m, run, 4) == 1 && run[0].first == 512 &&
	  run[0].end == 768 && run[0].partly, "SSD runs of buckets");
	snprintf(buf, sizeof(buf), "%s",
		 "chunks=6 ssd=3 hdd=1 tiers=SS.hS. heat=000000");
	t(!hc_parse_pmap(buf, &m) && hc_pmap_ssd_runs(&m, run, 4) == 2 &&
	  run[0].first == 0 && run[0].end == 2 && !run[0].partly &&
	  run[1].first == 4 && run[1].end == 5 &&
	  hc_pmap_ssd_runs(&m, run, 1) == 2 && run[0].end == 2,
	  "SSD runs of chunks, and beyond the room given");
	snprintf(buf, sizeof(buf), "%s",
		 "chunks=1024 ssd=128 hdd=256 tiers=..hx heat=0000");
	t(hc_parse_pmap(buf, &m), "bad placement map refused");

	/* hybridtab */
	t(hc_tab_parse("  # comment\n", &tab, why, sizeof(why)) == 0 &&
	  hc_tab_parse("\n", &tab, why, sizeof(why)) == 0, "tab comments");
	t(hc_tab_parse(TAB_LINE, &tab, why, sizeof(why)) == 1 &&
	  !strcmp(tab.name, "pool0") && !strcmp(tab.hdd, "/dev/sdb") &&
	  tab.chunk_sectors == 512 && tab.error_if_no_space && tab.noauto &&
	  !tab.read_only, "tab entry");
	hc_tab_format(&tab, buf, sizeof(buf));
	t(hc_tab_parse(buf, &back, why, sizeof(why)) == 1 &&
	  !memcmp(&tab, &back, sizeof(tab)), "tab entry round trip");
	hc_tab_features(&tab, buf, sizeof(buf));
	t(!strcmp(buf, "1 error_if_no_space"), "tab features");
	t(hc_tab_parse("p /a /b\n", &tab, why, sizeof(why)) < 0 &&
	  hc_tab_parse("p /a /b /c chunk=3M\n", &tab, why, sizeof(why)) < 0 &&
	  hc_tab_parse("p /a /b /c bogus\n", &tab, why, sizeof(why)) < 0 &&
	  hc_tab_parse("p/q /a /b /c\n", &tab, why, sizeof(why)) < 0,
	  "bad tab lines refused");

	test_tab_block_tier();

	/* statistics from two samples, 2 seconds apart */
	hc_parse_vol_status(VOL_T0, &a);
	hc_parse_vol_status(VOL_T1, &b);
	hc_stats_compute(&a, &b, 2.0, 2048, &st);
	t(near(st.iops, 200) && near(st.read_pct, 75) &&
	  near(st.req_kib, 5) && near(st.seq_pct, 25) &&
	  near(st.hit_pct, 75) && near(st.residency_pct, 50) &&
	  near(st.mibs, 4000 * 512.0 / 1048576 / 2) &&
	  st.ssd_bytes == 5ull << 20 && st.prom == 3 && st.dem == 4,
	  "stats arithmetic");
	hc_stats_compute(&b, &b, 1.0, 2048, &st);
	t(st.iops == 0 && st.hit_pct < 0 && st.read_pct == 0, "stats of an idle interval");
	hc_stats_compute(&b, &a, 1.0, 2048, &st);
	t(st.iops == 0, "counters that went back (reload) count as 0");
	test_staging_stats();
	test_shares();

	test_knobs();
	test_json();
	test_activation();
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
