/* SPDX-License-Identifier: GPL-2.0-only */
/* bench/sim shim: no reclaim, so no I/O-free allocation scope either. */
#ifndef SIM_SHIM_SCHED_MM_H
#define SIM_SHIM_SCHED_MM_H

static inline unsigned int memalloc_noio_save(void)
{
	return 0;
}

static inline void memalloc_noio_restore(unsigned int flags)
{
	(void)flags;
}

#endif
