// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pure parts of "vol import" and "vol export" (hctl-import.c): which
 * buffers are zeros, and the progress lines.  No I/O here, so the host
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
