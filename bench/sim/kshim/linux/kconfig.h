/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bench/sim shim: force-included, as the kernel build does.  No option is
 * set, and an undefined name is 0 in #if.
 */
#define IS_ENABLED(CONFIG_x)	((CONFIG_x) + 0)
