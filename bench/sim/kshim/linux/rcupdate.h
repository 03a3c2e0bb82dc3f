/* SPDX-License-Identifier: GPL-2.0-only */
/* bench/sim shim: one thread, so an RCU pointer is a pointer. */
#ifndef SIM_SHIM_RCUPDATE_H
#define SIM_SHIM_RCUPDATE_H

struct rcu_head {
	void *unused;
};

#define rcu_read_lock()			do { } while (0)
#define rcu_read_unlock()		do { } while (0)
#define rcu_dereference(p)		(p)
#define rcu_dereference_check(p, c)	((void)(c), (p))
#define rcu_dereference_protected(p, c)	((void)(c), (p))
#define rcu_assign_pointer(p, v)	((p) = (v))
#define RCU_INIT_POINTER(p, v)		((p) = (v))

#endif
