// SPDX-License-Identifier: GPL-2.0-only
/* The command line the metadata tools share (see md_tool.h). */
#include <string.h>

#include "md_tool.h"

static int usage_error(const struct md_tool *t)
{
	t->help(stderr);
	return MD_TOOL_EXIT_USAGE;
}

/* One option: -1 handled, else the exit status. */
static int one_opt(const struct md_tool *t, int ch, struct md_args *a)
{
	int r;

	if (ch == 'i' || ch == 'o') {
		*(ch == 'i' ? &a->in : &a->out) = optarg;
		return -1;
	}
	if (ch == 'q' || ch == 'v') {
		a->verbosity = ch == 'q' ? 0 : 2;
		return -1;
	}
	if (ch == 'h') {
		t->help(stdout);
		return 0;
	}
	if (ch == '?' || ch == ':' || !t->opt)
		return usage_error(t);
	r = t->opt(ch, optarg, t->ctx);
	return r ? r : -1;
}

int md_tool_args(const struct md_tool *t, int argc, char **argv,
		 struct md_args *a)
{
	int ch, r;

	memset(a, 0, sizeof(*a));
	a->verbosity = 1;
	while ((ch = getopt_long(argc, argv, t->shortopts, t->longopts,
				 NULL)) != -1) {
		r = one_opt(t, ch, a);
		if (r >= 0)
			return r;
	}
	if (t->positional && optind == argc - 1)
		a->in = argv[optind++];
	if (!a->in || (t->need_out && !a->out) || optind != argc)
		return usage_error(t);
	return -1;
}
