// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of the pure parts of "vol import" and "vol export"
 * (hctl-copy.c): which buffers are zeros (they are not written, so holes
 * stay unmapped), the --progress=json and terminal progress lines, an
 * import's temporary name and a resumed import's choice for each buffer.
 * Prints TAP lines.
 */
#include <stdlib.h>
#include <string.h>

#include "hctl.h"
#include "tests/tap.h"

#define MIB	(1024u * 1024)

static void zero_tests(void)
{
	unsigned char *b = calloc(1, MIB);

	if (!b) {
		t(0, "buffer allocated");
		return;
	}
	t(hc_buf_zero(b, MIB), "1 MiB of zeros is zero");
	t(hc_buf_zero(b, 0), "an empty buffer is zero");
	b[0] = 1;
	t(!hc_buf_zero(b, MIB), "a set first byte is not zero");
	b[0] = 0;
	b[MIB - 1] = 0x80;
	t(!hc_buf_zero(b, MIB), "a set last byte is not zero");
	t(hc_buf_zero(b, MIB - 1), "... but the bytes before it are");
	b[MIB - 1] = 0;
	b[MIB / 2 + 3] = 1;
	t(!hc_buf_zero(b, MIB), "a set byte in the middle is not zero");
	b[MIB / 2 + 3] = 0;
	memset(b, 0xff, MIB);
	t(!hc_buf_zero(b, MIB), "a buffer of 0xff is not zero");
	b[0] = 0;
	t(!hc_buf_zero(b, 2), "zero then 0xff is not zero");
	free(b);
}

static void progress_tests(void)
{
	char buf[160];

	hc_progress_json(buf, sizeof(buf), 512 * MIB, 1024ull * MIB, 4.0);
	t(!strcmp(buf, "{\"bytes\": 536870912, \"total\": 1073741824, \"rate\": 134217728}\n"),
	  "json: bytes, total and rate in bytes per second, one line");
	hc_progress_json(buf, sizeof(buf), 0, 65536, 0);
	t(!strcmp(buf, "{\"bytes\": 0, \"total\": 65536, \"rate\": 0}\n"),
	  "json: no rate before any time passed");
	hc_progress_json(buf, sizeof(buf), 18446744073709551615ull,
			 18446744073709551615ull, 1e9);
	t(!!strstr(buf, "\"bytes\": 18446744073709551615,"),
	  "json: u64 bytes in full");
	hc_progress_line(buf, sizeof(buf), 512 * MIB, 1024ull * MIB, 4.0);
	t(!strcmp(buf, "512M of 1G   50%  128M/s  ETA 0:00:04"),
	  "terminal: done, total, percent, rate, ETA");
	hc_progress_line(buf, sizeof(buf), MIB, 7200ull * MIB + MIB, 1.0);
	t(!!strstr(buf, "ETA 2:00:00"), "terminal: ETA in hours");
	hc_progress_line(buf, sizeof(buf), 0, MIB, 0);
	t(strstr(buf, "ETA --:--:--") && strstr(buf, "  0%"),
	  "terminal: no ETA before any byte");
	hc_progress_line(buf, sizeof(buf), MIB, MIB, 2.0);
	t(strstr(buf, "100%") && strstr(buf, "ETA 0:00:00"),
	  "terminal: the end");
}

static void tmpname_tests(void)
{
	char buf[DMH_NAME_LEN], n53[54], n54[55];

	t(!hc_import_tmpname("db", buf, sizeof(buf)) &&
	  !strcmp(buf, "db.importing"), "tmpname: db -> db.importing");
	t(hc_valid_name(buf), "... a valid volume name");
	memset(n53, 'a', 53);
	n53[53] = '\0';
	memset(n54, 'a', 54);
	n54[54] = '\0';
	t(!hc_import_tmpname(n53, buf, sizeof(buf)) && strlen(buf) == 63 &&
	  hc_valid_name(buf), "tmpname: a 53-character name takes the suffix (63)");
	t(hc_import_tmpname(n54, buf, sizeof(buf)) == -1,
	  "tmpname: a 54-character name is too long for it");
	t(hc_import_tmpname("db.importing", buf, sizeof(buf)) == -1,
	  "tmpname: a name that already ends in .importing is refused");
	t(hc_import_is_tmpname("db.importing") && hc_import_is_tmpname(".importing") &&
	  !hc_import_is_tmpname("db.importin") && !hc_import_is_tmpname("db"),
	  "is_tmpname: the suffix only at the end");
	t(hc_import_tmpname("12345", buf, sizeof(buf)) == -1 &&
	  hc_import_tmpname("a b", buf, sizeof(buf)) == -1 &&
	  hc_import_tmpname("", buf, sizeof(buf)) == -1,
	  "tmpname: invalid names are refused");
	t(hc_import_tmpname("db", buf, 12) == -1,
	  "tmpname: a buffer too small is refused, not truncated");
}

static void resume_tests(void)
{
	unsigned char *v = calloc(1, MIB), *s = calloc(1, MIB);

	if (!v || !s) {
		t(0, "buffers allocated");
		free(v);
		free(s);
		return;
	}
	t(hc_resume_action(v, s, MIB) == HC_RESUME_KEEP,
	  "resume: zeros over zeros are in place");
	s[MIB - 1] = 7;
	t(hc_resume_action(v, s, MIB) == HC_RESUME_WRITE,
	  "resume: data over zeros is written");
	v[MIB - 1] = 7;
	t(hc_resume_action(v, s, MIB) == HC_RESUME_KEEP,
	  "resume: the same data is in place");
	v[3] = 1;
	t(hc_resume_action(v, s, MIB) == HC_RESUME_WRITE,
	  "resume: one byte differing is written");
	s[MIB - 1] = 0;
	t(hc_resume_action(v, s, MIB) == HC_RESUME_ZERO,
	  "resume: zeros over stale data are discarded, not kept");
	free(v);
	free(s);
}

int main(void)
{
	zero_tests();
	progress_tests();
	tmpname_tests();
	resume_tests();
	printf("1..%d\n", n);
	return failed != 0;
}
