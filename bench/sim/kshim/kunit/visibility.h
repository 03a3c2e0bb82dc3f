/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bench/sim shim: nothing to export; a declaration keeps the ';' legal.
 * (checkpatch takes this definition for a misplaced EXPORT_SYMBOL.)
 */
#include <assert.h>

#define EXPORT_SYMBOL_IF_KUNIT(sym)	static_assert(1, #sym)
