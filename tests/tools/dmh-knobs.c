// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmh-knobs: the pool knobs of dm-hybrid-format.h's DMH_KNOBS, one a line:
 *
 *     <name> <min> <max> <default> <tunable index> <kernel field>
 *
 * in the table's order, for the fuzzer's grammar (tests/lib/fuzz.sh) and
 * any other script that needs the knob names and ranges.
 */
#include <stdio.h>

#include "dm-hybrid-format.h"

struct knob {
	const char *name;
	const char *field;
	unsigned int index;
	unsigned long long min, max, def;
};

#define KNOB(field, name, index, min, max, def) \
	{ #name, #field, index, min, max, def },

static const struct knob knobs[] = {
	DMH_KNOBS(KNOB)
	{ NULL }
};

int main(void)
{
	const struct knob *k;

	for (k = knobs; k->name; k++)
		printf("%s %llu %llu %llu %u %s\n", k->name, k->min, k->max,
		       k->def, k->index, k->field);
	return 0;
}
