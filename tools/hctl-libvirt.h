/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hybridctl on a libvirt host: which running QEMU guest has a volume's
 * device as a disk (hctl-libvirt.c).
 */
#ifndef HCTL_LIBVIRT_H
#define HCTL_LIBVIRT_H

#include <stddef.h>

/*
 * The name of the running libvirt QEMU domain one of whose disks has
 * source /dev/mapper/@dev (or /dev/disk/by-id/dm-name-@dev): 1 with the
 * name in @name, 0 when none (or no libvirt), without error messages.
 */
int hctl_libvirt_guest(const char *dev, char *name, size_t len);

#endif
