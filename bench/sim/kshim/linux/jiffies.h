/* SPDX-License-Identifier: GPL-2.0-only */
/* bench/sim shim: the simulator's clock, in milliseconds. */
#ifndef SIM_SHIM_JIFFIES_H
#define SIM_SHIM_JIFFIES_H

#define HZ			1000
#define time_after(a, b)	((long)((b) - (a)) < 0)
#define time_before(a, b)	time_after(b, a)
#define time_after_eq(a, b)	((long)((a) - (b)) >= 0)

#endif
