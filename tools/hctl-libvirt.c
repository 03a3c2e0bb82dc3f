// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl on a libvirt host: name the guest that uses each volume.
 *
 * libvirtd keeps the live definition of each running QEMU domain as
 * /run/libvirt/qemu/<domain name>.xml (readable by root, as hybridctl
 * runs).  A disk backed by a volume's device names it in its source
 * element, <source dev='/dev/mapper/NAME'/>, so a text search for that
 * attribute finds the guest without linking libvirt or calling virsh for
 * every volume.  A path libvirt was given in another form (/dev/dm-N, a
 * udev symlink other than dm-name-) is not recognised.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hctl.h"
#include "hctl-libvirt.h"

#define LIBVIRT_RUN	"/run/libvirt/qemu"
#define XML_MAX		(1024 * 1024)	/* larger status files are skipped */

/* The whole of file @path, NUL-terminated and malloc'ed, or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = f ? malloc(XML_MAX) : NULL;
	size_t n = 0;

	if (buf) {
		n = fread(buf, 1, XML_MAX - 1, f);
		buf[n] = 0;
		if (!feof(f)) {		/* too large to be a status file */
			free(buf);
			buf = NULL;
		}
	}
	if (f)
		fclose(f);
	return buf;
}

/* Whether @xml has dev='<path>' or dev="<path>" for either path of @dev. */
static int has_source(const char *xml, const char *dev)
{
	static const char *const forms[] = {
		"dev='/dev/mapper/%s'", "dev=\"/dev/mapper/%s\"",
		"dev='/dev/disk/by-id/dm-name-%s'",
		"dev=\"/dev/disk/by-id/dm-name-%s\"",
	};
	char want[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		snprintf(want, sizeof(want), forms[i], dev);
		if (strstr(xml, want))
			return 1;
	}
	return 0;
}

int hctl_libvirt_guest(const char *dev, char *name, size_t len)
{
	const char *dir = getenv("HCTL_LIBVIRT_RUN");	/* tests only */
	char path[4096], *xml;
	struct dirent *e;
	int found = 0;
	size_t n;
	DIR *d;

	d = opendir(dir ? dir : LIBVIRT_RUN);
	while (d && !found && (e = readdir(d))) {
		n = strlen(e->d_name);
		if (n <= 4 || strcmp(e->d_name + n - 4, ".xml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir ? dir : LIBVIRT_RUN,
			 e->d_name);
		xml = slurp(path);
		if (xml && has_source(xml, dev)) {
			snprintf(name, len, "%.*s", (int)(n - 4), e->d_name);
			found = 1;
		}
		free(xml);
	}
	if (d)
		closedir(d);
	return found;
}
