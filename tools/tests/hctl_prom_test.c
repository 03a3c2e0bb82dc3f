// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of "hybridctl metrics": canned pool and volume status lines,
 * parsed by hctl.c, to Prometheus' text format and the atomic textfile
 * write (hctl-prom.c), and the libvirt guest lookup (hctl-libvirt.c).
 * With an argument, also writes the canned exposition there for promtool
 * (tools/tests/run.sh).  Prints TAP lines.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hctl-libvirt.h"
#include "hctl-prom.h"
#include "tests/tap.h"

/* The examples of Documentation/dm-hybrid.rst, as in hctl_test.c. */
#define POOL_DOC "14 81/4096 128 80/128 304/2048 2 48 0 0 rw 0 - - on 0 48 6144 0 4 60 1 1024 4 200"
/* The documented example has only 7 knobs (no backoffs); this one all. */
#define POOL_RO "5 9272/13872 2048 0/102400 0/2097152 2 0 0 0 ro 2 error_if_no_space no_discard_passdown needs_check out_of_space off 1 2 3 64 4 60 1024 1024 4 1000 30 7 5"
/* A newer kernel's line: every known field and one more. */
#define POOL_NEW "14 81/4096 128 80/128 304/2048 2 48 0 0 rw 0 - - on 0 48 6144 0 4 60 1 1024 4 200 30 9 5 77"
/* A block tier: before write staging (three fields) and with it (five). */
#define POOL_BLK POOL_DOC " 30 0 1 200/256 900 4000"
#define POOL_STAGE "14 81/4096 128 80/128 304/2048 2 48 0 0 rw 3 block_tier 64 write_staging - - on 0 48 6144 0 4 60 1 1024 4 200 30 0 1 200/4096 900 4000 12 345"
/* persistent_staging, and the staging log's field (34 fields + 4 features) */
#define POOL_SLOG "14 81/4096 128 80/128 304/2048 2 48 0 0 rw 4 block_tier 64 write_staging persistent_staging - - on 0 48 6144 0 4 60 1 1024 4 200 30 0 1 200/4096 900 4000 12 345 - 3/97"
/* A dead SSD, no block tier and no staging log (34 fields) */
#define POOL_DEAD POOL_DOC " 30 0 1 0/0 0 0 0 0 ssd_failed 0/0"
#define VOL_DOC "256 64 192 27350 256 218800 32768 26930 676 48 0 240 27350-0-256-0-0-0 100 0 0 normal"
/* With block hits (17), staged writes (700) and dirty blocks (10). */
#define VOL_STAGE VOL_DOC " 17 700 10"
/* And the 256 block tier slots it holds (21 fields). */
#define VOL_SLOTS VOL_STAGE " 256"
/* And its 96 hot chunks, 63 of them due (23 fields). */
#define VOL_SHARES VOL_SLOTS " 96 63"
#define VOL_T1 "10 5 5 400 200 3200 2400 450 150 3 4 150 100-200-300-0-0-0 100 0 0 normal"

/* The labels of the two volumes, the second with a guest to escape. */
#define VM1 "{pool=\"p0\",volume=\"vm1\""
#define WEB "{pool=\"p1\",volume=\"p1-2\",guest=\"we\\\"b\\\\1\""

#define VM3 "{pool=\"stage\",volume=\"vm3\""

static struct hc_pool_status ps[7];
static struct hc_vol_status vs[3];
static struct hp_pool pools[7];
static struct hp_vol vols[3];

static int setup(void)
{
	static const char *const pl[] = {
		POOL_DOC, POOL_RO, POOL_NEW, POOL_BLK, POOL_STAGE, POOL_SLOG,
		POOL_DEAD
	};
	static const char *const names[] = {
		"p0", "p1", "new", "blk", "stage", "slog", "dead"
	};
	u32 i;

	for (i = 0; i < ARRAY_SIZE(pl); i++) {
		if (hc_parse_pool_status(pl[i], &ps[i]))
			return -1;
		pools[i] = (struct hp_pool){ names[i], &ps[i] };
	}
	if (hc_parse_vol_status(VOL_DOC, &vs[0]) ||
	    hc_parse_vol_status(VOL_T1, &vs[1]) ||
	    hc_parse_vol_status(VOL_SHARES, &vs[2]))
		return -1;
	vols[0] = (struct hp_vol){ "p0", "vm1", NULL, 41943040, 128, &vs[0] };
	vols[1] = (struct hp_vol){ "p1", "p1-2", "we\"b\\1", 2048, 2048, &vs[1] };
	vols[2] = (struct hp_vol){ "stage", "vm3", NULL, 41943040, 128, &vs[2] };
	return 0;
}

/* The exposition of the canned pools and volumes, malloc'ed. */
static char *render(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	hp_write(f, pools, ARRAY_SIZE(pools), vols, ARRAY_SIZE(vols));
	fclose(f);
	return buf;
}

/* Whether @line is a whole line of @text. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static int count(const char *text, const char *what)
{
	const char *p;
	int c = 0;

	for (p = text; (p = strstr(p, what)); p++)
		c++;
	return c;
}

/* Whether the counters, and only they, end in _total. */
static bool total_iff_counter(const char *name, const char *type)
{
	size_t n = strlen(name);
	bool total = n > 6 && !strcmp(name + n - 6, "_total");

	return total == !strcmp(type, "counter");
}

/*
 * Every family has one TYPE line and its samples directly follow it (the
 * format allows no second group), and every sample line is
 * "name{labels} integer".
 */
static bool grouped(const char *text)
{
	char *copy = strdup(text), *line, *save = NULL;
	char fam[128] = "", name[128], type[16], once[160];
	bool ok = copy;

	for (line = strtok_r(copy, "\n", &save); ok && line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "# TYPE %127s %15s", name, type) == 2) {
			snprintf(once, sizeof(once), "# TYPE %s ", name);
			ok = count(text, once) == 1 &&
			     total_iff_counter(name, type);
			snprintf(fam, sizeof(fam), "%s", name);
		} else if (line[0] != '#') {
			ok = !strncmp(line, fam, strlen(fam)) &&
			     strchr("_{", line[strlen(fam)]) &&
			     strstr(line, "} ") &&
			     strspn(strstr(line, "} ") + 2, "0123456789") ==
			     strlen(strstr(line, "} ") + 2);
		}
	}
	free(copy);
	return ok;
}

static void test_pool(const char *m)
{
	t(has_line(m, "dm_hybrid_pool_mode{pool=\"p0\",mode=\"rw\"} 1") &&
	  has_line(m, "dm_hybrid_pool_mode{pool=\"p0\",mode=\"ro\"} 0") &&
	  has_line(m, "dm_hybrid_pool_mode{pool=\"p1\",mode=\"ro\"} 1"),
	  "pool mode as a state set");
	t(has_line(m, "dm_hybrid_pool_size_bytes{pool=\"p0\",tier=\"ssd\"} 8388608") &&
	  has_line(m, "dm_hybrid_pool_used_bytes{pool=\"p0\",tier=\"hdd\"} 19922944") &&
	  has_line(m, "dm_hybrid_pool_chunks{pool=\"p0\",tier=\"hdd\"} 2048"),
	  "tier sizes in bytes (128 x 64 KiB SSD, 304 HDD chunks used) and chunks");
	t(has_line(m, "dm_hybrid_pool_metadata_used_bytes{pool=\"p0\"} 331776") &&
	  has_line(m, "dm_hybrid_pool_metadata_size_bytes{pool=\"p0\"} 16777216"),
	  "metadata use in bytes (81 and 4096 blocks of 4 KiB)");
	t(has_line(m, "dm_hybrid_pool_promotions_total{pool=\"p0\"} 48") &&
	  has_line(m, "dm_hybrid_pool_migrations_total{pool=\"p0\"} 48") &&
	  has_line(m, "dm_hybrid_pool_migrated_bytes_total{pool=\"p0\"} 3145728"),
	  "promotions, migrations done, 6144 sectors moved as bytes");
	t(has_line(m, "dm_hybrid_pool_migrations_queued{pool=\"p1\"} 1") &&
	  has_line(m, "dm_hybrid_pool_migrations_total{pool=\"p1\"} 2") &&
	  has_line(m, "dm_hybrid_pool_needs_check{pool=\"p1\"} 1") &&
	  has_line(m, "dm_hybrid_pool_out_of_space{pool=\"p1\"} 1") &&
	  has_line(m, "dm_hybrid_pool_migration_enabled{pool=\"p1\"} 0"),
	  "queued migrations and the flags of a ro pool with features");
	t(has_line(m, "dm_hybrid_pool_migration_backoffs_total{pool=\"p1\"} 7") &&
	  has_line(m, "dm_hybrid_pool_migration_backoffs_total{pool=\"new\"} 9") &&
	  has_line(m, "dm_hybrid_pool_migrated_bytes_total{pool=\"p1\"} 1536"),
	  "migration backoffs from the unnamed field among the knobs");
	t(!strstr(m, "dm_hybrid_pool_migration_backoffs_total{pool=\"p0\"}"),
	  "no backoffs sample from a status line without the field");
}

/* The block tier's families: only where the status line has the fields. */
static void test_block(const char *m)
{
	t(has_line(m, "dm_hybrid_pool_block_slots{pool=\"blk\"} 256") &&
	  has_line(m, "dm_hybrid_pool_block_valid_slots{pool=\"stage\"} 200") &&
	  has_line(m, "dm_hybrid_pool_block_fills_total{pool=\"stage\"} 900") &&
	  has_line(m, "dm_hybrid_pool_block_hits_total{pool=\"blk\"} 4000") &&
	  !strstr(m, "dm_hybrid_pool_block_slots{pool=\"p0\"}") &&
	  !strstr(m, "dm_hybrid_pool_block_slots{pool=\"new\"}"),
	  "block tier: slots, fills and hits of the pools that have one");
	t(has_line(m, "dm_hybrid_pool_block_dirty_bytes{pool=\"stage\"} 49152") &&
	  has_line(m, "dm_hybrid_pool_block_writebacks_total{pool=\"stage\"} 345") &&
	  count(m, "dm_hybrid_pool_block_dirty_bytes{") == 2 &&
	  count(m, "dm_hybrid_pool_block_writebacks_total{") == 2,
	  "write staging: 12 dirty blocks as bytes, write-backs; none from a kernel without the fields");
	t(has_line(m, "dm_hybrid_pool_persistent_staging{pool=\"slog\"} 1") &&
	  has_line(m, "dm_hybrid_pool_persistent_staging{pool=\"stage\"} 0") &&
	  count(m, "dm_hybrid_pool_persistent_staging{") == 3,
	  "persistent_staging: 1 or 0 for each pool with a block tier");
	t(has_line(m, "dm_hybrid_pool_staging_log_blocks{pool=\"slog\"} 3") &&
	  has_line(m, "dm_hybrid_pool_staging_log_capacity_blocks{pool=\"slog\"} 97") &&
	  has_line(m, "dm_hybrid_pool_staging_log_capacity_blocks{pool=\"dead\"} 0") &&
	  count(m, "dm_hybrid_pool_staging_log_blocks{") == 2 &&
	  count(m, "dm_hybrid_pool_staging_log_capacity_blocks{") == 2,
	  "staging log: 3 of 97 blocks, 0/0 without a log; none from a kernel without the field");
	t(has_line(m, "dm_hybrid_pool_staging_log_used_bytes{pool=\"slog\"} 12288") &&
	  has_line(m, "dm_hybrid_pool_staging_log_size_bytes{pool=\"slog\"} 397312") &&
	  has_line(m, "dm_hybrid_pool_staging_log_size_bytes{pool=\"dead\"} 0") &&
	  count(m, "dm_hybrid_pool_staging_log_used_bytes{") == 2 &&
	  count(m, "dm_hybrid_pool_staging_log_size_bytes{") == 2,
	  "staging log in bytes: 3 and 97 blocks of 4 KiB; none from a kernel without the field");
	t(has_line(m, "dm_hybrid_pool_ssd_failed{pool=\"dead\"} 1") &&
	  has_line(m, "dm_hybrid_pool_ssd_failed{pool=\"slog\"} 0") &&
	  count(m, "dm_hybrid_pool_ssd_failed{") == 2,
	  "ssd_failed: 1 or 0 where the status line has ssd_failed|-, none before it");
	t(has_line(m, "dm_hybrid_volume_block_hits_total" VM3 "} 17") &&
	  has_line(m, "dm_hybrid_volume_block_hits_total" VM1 "} 0") &&
	  has_line(m, "dm_hybrid_volume_block_staged_writes_total" VM3 "} 700") &&
	  has_line(m, "dm_hybrid_volume_block_dirty_bytes" VM3 "} 40960") &&
	  count(m, "dm_hybrid_volume_block_staged_writes_total{") == 1 &&
	  count(m, "dm_hybrid_volume_block_dirty_bytes{") == 1,
	  "volume: block hits, staged writes, 10 dirty blocks as bytes; 17-field lines have no staging series");
	t(has_line(m, "dm_hybrid_volume_block_slot_bytes" VM3 "} 1048576") &&
	  count(m, "dm_hybrid_volume_block_slot_bytes{") == 1 &&
	  strstr(m, "# TYPE dm_hybrid_volume_block_slot_bytes gauge\n"),
	  "volume: 256 block slots as bytes, a gauge; 17-field lines have no slot series");
}

/* The chunk tier's shares: gauges for the volumes whose line has them. */
static void test_shares(const char *m)
{
	t(has_line(m, "dm_hybrid_volume_hot_chunks" VM3 "} 96") &&
	  has_line(m, "dm_hybrid_volume_chunks_due" VM3 "} 63") &&
	  strstr(m, "# TYPE dm_hybrid_volume_hot_chunks gauge\n") &&
	  strstr(m, "# TYPE dm_hybrid_volume_chunks_due gauge\n") &&
	  strstr(m, "# HELP dm_hybrid_volume_chunks_due The SSD chunks due"),
	  "volume: 96 hot chunks and 63 due, gauges with help");
	t(count(m, "dm_hybrid_volume_hot_chunks{") == 1 &&
	  count(m, "dm_hybrid_volume_chunks_due{") == 1,
	  "volume: 17-field lines have no share series");
}

static void test_vol(const char *m)
{
	t(has_line(m, "dm_hybrid_volume_ios_total" VM1 ",direction=\"read\"} 27350") &&
	  has_line(m, "dm_hybrid_volume_ios_total" VM1 ",direction=\"write\"} 256"),
	  "volume I/O by direction");
	t(has_line(m, "dm_hybrid_volume_io_bytes_total" VM1 ",direction=\"read\"} 112025600") &&
	  has_line(m, "dm_hybrid_volume_io_bytes_total" VM1 ",direction=\"write\"} 16777216"),
	  "volume bytes by direction (sectors x 512)");
	t(has_line(m, "dm_hybrid_volume_tier_ios_total" VM1 ",tier=\"ssd\"} 26930") &&
	  has_line(m, "dm_hybrid_volume_tier_ios_total" VM1 ",tier=\"hdd\"} 676"),
	  "hit ratio inputs: I/O by tier");
	t(has_line(m, "dm_hybrid_volume_chunks" VM1 ",tier=\"ssd\"} 64") &&
	  has_line(m, "dm_hybrid_volume_resident_bytes" VM1 ",tier=\"hdd\"} 12582912") &&
	  has_line(m, "dm_hybrid_volume_size_bytes" VM1 "} 21474836480"),
	  "residency in chunks and bytes, size");
	t(has_line(m, "dm_hybrid_volume_promotions_total" WEB "} 3"),
	  "the guest label, its quote and backslash escaped");
	t(has_line(m, "dm_hybrid_volume_io_size_bytes_bucket" WEB ",le=\"16384\"} 300") &&
	  has_line(m, "dm_hybrid_volume_io_size_bytes_bucket" VM1 ",le=\"+Inf\"} 27606") &&
	  has_line(m, "dm_hybrid_volume_io_size_bytes_count" VM1 "} 27606") &&
	  has_line(m, "dm_hybrid_volume_io_size_bytes_sum" VM1 "} 128802816"),
	  "the size histogram: cumulative buckets, count, sum of bytes");
}

static void test_format(const char *m)
{
	t(count(m, "# TYPE ") == count(m, "# HELP ") && count(m, "# TYPE ") == 48,
	  "48 families, each with HELP and TYPE");
	t(grouped(m), "one TYPE a family, its samples one group, _total on counters only");
}

/* The names in @dir other than "." and "..", joined by spaces. */
static void dir_names(const char *dir, char *buf, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	buf[0] = 0;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s ",
				 e->d_name);
	if (d)
		closedir(d);
}

static void test_textfile(const char *want)
{
	char dir[] = "/tmp/hctl_prom_test.XXXXXX", path[64], names[256];
	char *got = NULL;
	size_t len = 0;
	struct stat st;
	FILE *f;

	if (!mkdtemp(dir)) {
		t(0, "a temporary directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/x.prom", dir);
	t(!hp_textfile(dir, "x.prom", pools, ARRAY_SIZE(pools), vols,
		       ARRAY_SIZE(vols)), "textfile written");
	f = fopen(path, "r");
	if (f) {
		got = malloc(strlen(want) + 2);
		len = got ? fread(got, 1, strlen(want) + 1, f) : 0;
		fclose(f);
	}
	t(got && len == strlen(want) && !memcmp(got, want, len),
	  "... with the same text as stdout");
	t(!stat(path, &st) && (st.st_mode & 0777) == 0644,
	  "... readable by node_exporter's user (0644)");
	dir_names(dir, names, sizeof(names));
	t(!strcmp(names, "x.prom "), "... and no temporary file left");
	t(hp_textfile(dir, "no/such/x.prom", pools, 1, vols, 1) == -ENOENT,
	  "a directory that is not there: -ENOENT");
	dir_names(dir, names, sizeof(names));
	t(!strcmp(names, "x.prom "), "... leaving nothing behind");
	unlink(path);
	rmdir(dir);
	free(got);
}

/* Write @text to @dir/@file. */
static void put_file(const char *dir, const char *file, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* libvirt's live definitions of two guests, and a file that is not one. */
static void test_libvirt(void)
{
	static const char db_xml[] =
		"<domain><disk><source dev=\"/dev/disk/by-id/dm-name-db1\"/></disk>\n";
	char dir[] = "/tmp/hctl_libvirt_test.XXXXXX", name[64] = "";
	static const char *const files[] = { "web.xml", "db.xml", "x.pid" };
	u32 i;

	if (!mkdtemp(dir)) {
		t(0, "a temporary directory");
		return;
	}
	put_file(dir, files[0], "<domstatus><domain><name>web</name><disk>\n"
		 "<source dev='/dev/mapper/vm10'/></disk></domain></domstatus>\n");
	put_file(dir, files[1], db_xml);
	put_file(dir, files[2], "dev='/dev/mapper/vm1'");
	setenv("HCTL_LIBVIRT_RUN", dir, 1);
	t(hctl_libvirt_guest("vm10", name, sizeof(name)) && !strcmp(name, "web"),
	  "libvirt: /dev/mapper/vm10 is a disk of web");
	t(hctl_libvirt_guest("db1", name, sizeof(name)) && !strcmp(name, "db"),
	  "libvirt: the by-id dm-name- path of db1 is a disk of db");
	t(!hctl_libvirt_guest("vm1", name, sizeof(name)),
	  "libvirt: vm1 is no guest's (not vm10's prefix, not from a .pid file)");
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(name, sizeof(name), "%s/%s", dir, files[i]);
		unlink(name);
	}
	rmdir(dir);
	setenv("HCTL_LIBVIRT_RUN", "/nonexistent", 1);
	t(!hctl_libvirt_guest("vm10", name, sizeof(name)), "libvirt: no directory, no guest");
}

int main(int argc, char **argv)
{
	char *m;
	FILE *f;

	if (setup()) {
		printf("not ok 1 - the canned status lines parse\n1..1\n");
		return 1;
	}
	m = render();
	if (!m)
		return 1;
	test_pool(m);
	test_vol(m);
	test_block(m);
	test_shares(m);
	test_format(m);
	test_textfile(m);
	test_libvirt();
	if (argc > 1) {
		f = fopen(argv[1], "w");
		t(f && fputs(m, f) >= 0 && !fclose(f), "exposition saved for promtool");
	}
	free(m);
	printf("1..%d\n", n);
	return failed != 0;
}
