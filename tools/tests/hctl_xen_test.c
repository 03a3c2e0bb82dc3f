// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host test of hybridctl's Xen lookup (tools/hctl-xen.c) against a fake
 * xenstore: run.sh puts xenstore-list and xenstore-read scripts that
 * answer from a directory tree first in PATH and points HCTL_XEN_CAPS at
 * a capabilities file, and HCTL_XEN_TREE at the tree, which the test
 * changes to see hctl_xen_forget() work.  Prints TAP lines; exits
 * non-zero on a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hctl-xen.h"
#include "tests/tap.h"

/* Rename domain 7 in the fake xenstore: 0, or -1 without the tree. */
static int rename_web(const char *name)
{
	const char *tree = getenv("HCTL_XEN_TREE");
	char path[4096];
	FILE *f;

	if (!tree)
		return -1;
	snprintf(path, sizeof(path), "%s/local/domain/7/name", tree);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", name);
	return fclose(f) ? -1 : 0;
}

/* A guest renamed (or replaced) is seen only after hctl_xen_forget(). */
static void test_forget(void)
{
	struct hctl_xen_vbd v;

	if (rename_web("web2")) {
		t(0, "the fake xenstore tree (HCTL_XEN_TREE) can be changed");
		return;
	}
	t(hctl_xen_lookup(254, 3, &v) == 1 && !strcmp(v.name, "web"),
	  "xenstore is read once: a renamed guest keeps its old name");
	hctl_xen_forget();
	t(hctl_xen_lookup(254, 3, &v) == 1 && !strcmp(v.name, "web2"),
	  "after hctl_xen_forget() the next lookup reads xenstore again");
	rename_web("web");
}

int main(void)
{
	struct hctl_xen_vbd v;
	unsigned int ma = 0, mi = 0;
	char buf[96];

	t(!hctl_xen_parse_devt("fe:3", &ma, &mi) && ma == 254 && mi == 3,
	  "physical-device fe:3 is 254:3");
	t(!hctl_xen_parse_devt("8:10\n", &ma, &mi) && ma == 8 && mi == 16,
	  "physical-device 8:10 is 8:16 (hex)");
	t(hctl_xen_parse_devt("/dev/mapper/vm1", &ma, &mi) != 0, "a path is refused");
	t(hctl_xen_parse_devt("fe:", &ma, &mi) != 0, "no minor is refused");
	t(hctl_xen_parse_devt("fe:3x", &ma, &mi) != 0, "trailing junk is refused");

	t(hctl_xen_lookup(254, 3, &v) == 1 && v.found && v.domid == 7 &&
	  v.devid == 51712 && !strcmp(v.name, "web"), "254:3 is web (domain 7, xvda)");
	t(!strcmp(hctl_xen_label(&v, buf, sizeof(buf)), "web(7)"), "label web(7)");
	t(hctl_xen_lookup(254, 4, &v) == 1 && v.domid == 9 && v.devid == 51728 &&
	  !strcmp(v.name, "db"), "254:4 is db (domain 9, xvdb)");
	t(hctl_xen_lookup(254, 5, &v) == 0 && !v.found, "254:5 is used by no guest");
	t(!strcmp(hctl_xen_label(&v, buf, sizeof(buf)), "-"), "label -");
	t(hctl_xen_lookup(8, 16, &v) == 0, "a bad physical-device entry is skipped");
	test_forget();
	printf("1..%d\n", n);
	return failed != 0;
}
