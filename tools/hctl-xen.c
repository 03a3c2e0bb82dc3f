// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl in a Xen Dom0: name the guest that uses each volume.
 *
 * libxl creates, for every virtual block device of a guest, a backend
 * directory /local/domain/0/backend/vbd/<guest domid>/<devid>/ in
 * xenstore; the hotplug script writes physical-device there (the hex
 * major:minor of the device blkback opens, e.g. "fe:3" for a dm device),
 * and the guest's name is /local/domain/<domid>/name.  hybridctl reads
 * these with the xenstore-list and xenstore-read commands (Debian's
 * xenstore-utils), so it needs no Xen library at build or run time and
 * does nothing outside a Xen control domain.  Only numbers read from
 * xenstore are put into the commands' arguments.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hctl.h"
#include "hctl-xen.h"

#define XS_ROOT	"/local/domain/0/backend/vbd"
#define XS_MAX_OUT	65536

struct xvbd {
	unsigned int major, minor;
	struct hctl_xen_vbd v;
};

static struct xvbd *table;
static int ntable = -1;		/* -1: not read yet */

static int is_dom0(void)
{
	char line[256] = "";
	const char *caps = getenv("HCTL_XEN_CAPS");	/* tests only */
	FILE *f = fopen(caps ? caps : "/proc/xen/capabilities", "r");

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	return !!strstr(line, "control_d");
}

/* Run @cmd, its stdout (at most XS_MAX_OUT - 1 bytes) into @out. */
static int run(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	if (!p)
		return -1;
	n = fread(out, 1, len - 1, p);
	out[n] = 0;
	return pclose(p) == 0 ? 0 : -1;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = 0;
}

int hctl_xen_parse_devt(const char *s, unsigned int *major, unsigned int *minor)
{
	char *end;
	unsigned long ma, mi;

	if (!isxdigit((unsigned char)*s))
		return -1;
	ma = strtoul(s, &end, 16);
	if (*end != ':' || !isxdigit((unsigned char)end[1]))
		return -1;
	mi = strtoul(end + 1, &end, 16);
	while (*end == '\n' || *end == ' ')
		end++;
	if (*end || ma > 0xfff || mi > 0xfffff)
		return -1;
	*major = ma;
	*minor = mi;
	return 0;
}

static void add(unsigned int domid, unsigned int devid, const char *pdev)
{
	char cmd[160], name[128];
	struct xvbd *t, *e;
	unsigned int ma, mi;

	if (hctl_xen_parse_devt(pdev, &ma, &mi))
		return;
	snprintf(cmd, sizeof(cmd), "xenstore-read /local/domain/%u/name 2>/dev/null", domid);
	if (run(cmd, name, sizeof(name)))
		snprintf(name, sizeof(name), "domain-%u", domid);
	chomp(name);
	t = realloc(table, (ntable + 1) * sizeof(*table));
	if (!t)
		return;
	table = t;
	e = &table[ntable++];
	memset(e, 0, sizeof(*e));
	e->major = ma;
	e->minor = mi;
	e->v.found = 1;
	e->v.domid = domid;
	e->v.devid = devid;
	snprintf(e->v.name, sizeof(e->v.name), "%s", name);
}

static void read_table(void)
{
	char *doms, *devs, cmd[200], pdev[64], *d, *v, *sd, *sv;

	ntable = 0;
	if (!is_dom0())
		return;
	doms = malloc(XS_MAX_OUT);
	devs = malloc(XS_MAX_OUT);
	if (!doms || !devs)
		goto out;
	if (run("xenstore-list " XS_ROOT " 2>/dev/null", doms, XS_MAX_OUT))
		goto out;
	for (d = strtok_r(doms, "\n", &sd); d; d = strtok_r(NULL, "\n", &sd)) {
		chomp(d);
		if (!all_digits(d))
			continue;
		snprintf(cmd, sizeof(cmd), "xenstore-list " XS_ROOT "/%s 2>/dev/null", d);
		if (run(cmd, devs, XS_MAX_OUT))
			continue;
		for (v = strtok_r(devs, "\n", &sv); v; v = strtok_r(NULL, "\n", &sv)) {
			chomp(v);
			if (!all_digits(v))
				continue;
			snprintf(cmd, sizeof(cmd),
				 "xenstore-read " XS_ROOT "/%s/%s/physical-device 2>/dev/null",
				 d, v);
			if (!run(cmd, pdev, sizeof(pdev)))
				add(strtoul(d, NULL, 10), strtoul(v, NULL, 10), pdev);
		}
	}
out:
	free(doms);
	free(devs);
}

int hctl_xen_lookup(unsigned int major, unsigned int minor, struct hctl_xen_vbd *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	if (ntable < 0)
		read_table();
	for (i = 0; i < ntable; i++) {
		if (table[i].major == major && table[i].minor == minor) {
			*out = table[i].v;
			return 1;
		}
	}
	return 0;
}

void hctl_xen_forget(void)
{
	free(table);
	table = NULL;
	ntable = -1;
}

const char *hctl_xen_label(const struct hctl_xen_vbd *v, char *buf, size_t len)
{
	if (v->found)
		snprintf(buf, len, "%s(%u)", v->name, v->domid);
	else
		snprintf(buf, len, "-");
	return buf;
}

void hctl_xen_json(struct hc_json *j, const struct hctl_xen_vbd *v)
{
	if (!v->found) {
		hc_json_str(j, "xen_domain", NULL);
		return;
	}
	hc_json_open(j, "xen_domain", '{');
	hc_json_str(j, "name", v->name);
	hc_json_u64(j, "id", v->domid);
	hc_json_u64(j, "vbd", v->devid);
	hc_json_close(j);
}
