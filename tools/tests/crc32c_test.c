// SPDX-License-Identifier: GPL-2.0-only
/* Known-answer test of the tools' crc32c; prints one TAP-style line. */
#include <stdio.h>
#include <string.h>

#include "crc32c.h"

int main(void)
{
	static const char vec[] = "123456789";
	unsigned char zeros[32];
	uint32_t raw = dmh_crc32c(0xffffffffu, vec, strlen(vec));
	int ok = raw == 0x1CF96D7Cu && dmh_crc32c_selftest() == 0;

	/* RFC 3720 B.4: 32 bytes of zeroes give 0x8A9136AA (inverted). */
	memset(zeros, 0, sizeof(zeros));
	ok = ok && (dmh_crc32c(~0u, zeros, 32) ^ ~0u) == 0x8A9136AAu;
	printf("crc32c(\"123456789\") raw=0x%08X %s\n", raw, ok ? "ok" : "BAD");
	return ok ? 0 : 1;
}
