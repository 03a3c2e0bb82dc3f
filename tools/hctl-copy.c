// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pure parts of "vol import" and "vol export" (hctl-import.c): which
 * buffers are zeros, the progress lines, an import's temporary name and
 * what a resumed import does with each buffer.  No I/O here, so the host
 * tests (tools/tests/hctl_copy_test.c) cover it.
 */
#include <string.h>
#include <stdio.h>

#include "hctl.h"

int hc_buf_zero(const void *buf, size_t len)
{
	const unsigned char *b = buf;

	/* byte 0 is zero and every byte equals the one before it */
	return !len || (!b[0] && !memcmp(b, b + 1, len - 1));
}

double hc_rate(u64 done, double secs)
{
	return secs > 0 ? (double)done / secs : 0;
}

int hc_progress_json(char *buf, size_t len, u64 done, u64 total,
		     double secs)
{
	return snprintf(buf, len, "{\"bytes\": %llu, \"total\": %llu, \"rate\": %llu}\n",
			(unsigned long long)done, (unsigned long long)total,
			(unsigned long long)hc_rate(done, secs));
}

int hc_progress_line(char *buf, size_t len, u64 done, u64 total,
		     double secs)
{
	double rate = hc_rate(done, secs);
	char d[32], t[32], r[32], eta[32] = "--:--:--";
	unsigned long long s;

	if (rate >= 1 && total >= done) {
		s = (unsigned long long)((double)(total - done) / rate + 0.5);
		snprintf(eta, sizeof(eta), "%llu:%02llu:%02llu", s / 3600,
			 s / 60 % 60, s % 60);
	}
	return snprintf(buf, len, "%s of %s  %3u%%  %s/s  ETA %s",
			hc_format_size(done, d, sizeof(d)),
			hc_format_size(total, t, sizeof(t)),
			total ? (unsigned int)(done * 100 / total) : 100,
			hc_format_size((u64)rate, r, sizeof(r)), eta);
}

int hc_import_is_tmpname(const char *name)
{
	size_t n = strlen(name), k = strlen(HC_IMPORT_SUFFIX);

	return n >= k && !strcmp(name + n - k, HC_IMPORT_SUFFIX);
}

int hc_import_tmpname(const char *name, char *buf, size_t len)
{
	if (!hc_valid_name(name) || hc_import_is_tmpname(name) ||
	    strlen(name) + strlen(HC_IMPORT_SUFFIX) > HC_NAME_MAX ||
	    (size_t)snprintf(buf, len, "%s%s", name, HC_IMPORT_SUFFIX) >= len)
		return -1;
	return 0;
}

enum hc_resume_act hc_resume_action(const void *vol, const void *src,
				    size_t n)
{
	if (!memcmp(vol, src, n))
		return HC_RESUME_KEEP;
	return hc_buf_zero(src, n) ? HC_RESUME_ZERO : HC_RESUME_WRITE;
}
