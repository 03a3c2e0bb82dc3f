/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TAP reporting the tools' host test programs share: t() prints one
 * "ok N - what" or "not ok N - what" line and counts the failures; main()
 * ends with printf("1..%d\n", n) and returns failed != 0.
 */
#ifndef HCTL_TESTS_TAP_H
#define HCTL_TESTS_TAP_H

#include <stdio.h>

static int n, failed;

static void t(int ok, const char *what)
{
	n++;
	if (!ok)
		failed++;
	printf("%sok %d - %s\n", ok ? "" : "not ", n, what);
}

#endif
