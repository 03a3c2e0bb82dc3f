/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef SIM_SHIM_BITS_H
#define SIM_SHIM_BITS_H

#define BIT(n)		(1ul << (n))
#define BIT_ULL(n)	(1ull << (n))

#endif
