/* SPDX-License-Identifier: GPL-2.0-only */
/* bench/sim shim: one CPU. */
#ifndef SIM_SHIM_PERCPU_H
#define SIM_SHIM_PERCPU_H

#define this_cpu_inc(x)			((x)++)
#define this_cpu_add(x, v)		((x) += (v))
#define per_cpu_ptr(p, cpu)		((void)(cpu), (p))

static inline int *sim_first_cpu(int *cpu)
{
	*cpu = 0;
	return cpu;
}

#define for_each_possible_cpu(cpu)	\
	for (int *_cpu = sim_first_cpu(&(cpu)); *_cpu < 1; (*_cpu)++)

#endif
