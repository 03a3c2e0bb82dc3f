/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The command line the metadata tools share: hybrid_check and hybrid_dump
 * take one METADATA_DEV, hybrid_repair and hybrid_restore -i IN [-o OUT];
 * all of them -q/-v (those that offer it), -h and their own options.
 * A usage error exits MD_TOOL_EXIT_USAGE (2), as hybridctl's do.
 */
#ifndef DMH_TOOLS_MD_TOOL_H
#define DMH_TOOLS_MD_TOOL_H

#include <getopt.h>
#include <stdio.h>

#define MD_TOOL_EXIT_USAGE	2

struct md_tool {
	const char *prog;
	const char *shortopts;		/* getopt's, with i:, o:, q, v, h */
	const struct option *longopts;
	void (*help)(FILE *f);
	/* one of the tool's own options: 0, or the exit status */
	int (*opt)(int ch, const char *arg, void *ctx);
	void *ctx;
	int positional;			/* METADATA_DEV rather than -i */
	int need_out;			/* -o is required */
};

struct md_args {
	const char *in, *out;
	int verbosity;			/* 0 -q, 1 normal, 2 -v */
};

/*
 * Parse the command line into @a: -1 when the tool goes on, else the exit
 * status main() returns (0 after --help, MD_TOOL_EXIT_USAGE after a usage
 * error, with the help on stderr).
 */
int md_tool_args(const struct md_tool *t, int argc, char **argv,
		 struct md_args *a);

#endif /* DMH_TOOLS_MD_TOOL_H */
