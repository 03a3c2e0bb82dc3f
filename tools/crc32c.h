/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * crc32c (Castagnoli, reflected polynomial 0x82F63B78) for the dm-hybrid
 * tools.  Like the kernel's crc32c(), the value returned is the raw shift
 * register: the caller supplies the seed and no final inversion is applied.
 */
#ifndef DMH_TOOLS_CRC32C_H
#define DMH_TOOLS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t dmh_crc32c(uint32_t crc, const void *data, size_t len);

/* Returns 0 when the implementation reproduces the reference vectors. */
int dmh_crc32c_selftest(void);

#endif /* DMH_TOOLS_CRC32C_H */
