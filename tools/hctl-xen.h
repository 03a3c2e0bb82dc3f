/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hybridctl in a Xen Dom0: which guest's virtual disk blkback serves from
 * a volume (hctl-xen.c).
 */
#ifndef HCTL_XEN_H
#define HCTL_XEN_H

#include <stdio.h>

struct hctl_xen_vbd {
	int found;		/* 0: no guest uses the device (or not a Dom0) */
	unsigned int domid;	/* the guest (frontend) domain */
	unsigned int devid;	/* its virtual device number, e.g. 51712 = xvda */
	char name[64];		/* the domain's name */
};

/*
 * Look up the guest whose vbd blkback opened on device @major:@minor.
 * Reads xenstore once per process (xenstore-list and xenstore-read, from
 * xenstore-utils) and only in a Xen control domain.  Returns 1 and fills
 * @out when found, else 0 with out->found = 0.
 */
int hctl_xen_lookup(unsigned int major, unsigned int minor, struct hctl_xen_vbd *out);

/*
 * Forget what was read, so that the next lookup reads xenstore again: for
 * a process that runs on (hybridctl metrics --interval) while guests
 * start and stop.
 */
void hctl_xen_forget(void);

/* "name(domid)" into @buf, or "-" when none. */
const char *hctl_xen_label(const struct hctl_xen_vbd *v, char *buf, size_t len);

struct hc_json;

/* The member "xen_domain": {"name", "id", "vbd"} (or null) for stats --json. */
void hctl_xen_json(struct hc_json *j, const struct hctl_xen_vbd *v);

/* Parse blkback's physical-device value (hex "major:minor"). 0 if valid. */
int hctl_xen_parse_devt(const char *s, unsigned int *major, unsigned int *minor);

#endif
