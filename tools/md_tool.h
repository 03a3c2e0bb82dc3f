/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The command line the metadata tools share: hybrid_check and hybrid_dump
 * take one METADATA_DEV, hybrid_repair and hybrid_restore -i IN [-o OUT];
 * all of them -q/-v (those that offer it), --json (those that offer it),
 * -h and their own options.  A usage error exits MD_TOOL_EXIT_USAGE (2),
 * as hybridctl's do.
 */
#ifndef DMH_TOOLS_MD_TOOL_H
#define DMH_TOOLS_MD_TOOL_H

#include <getopt.h>
#include <stdio.h>

#define MD_TOOL_EXIT_USAGE	2

/* --json, a long option only: a tool offers it with MD_TOOL_JSON_OPTION. */
#define MD_TOOL_OPT_JSON	0x100
#define MD_TOOL_JSON_OPTION	{ "json", no_argument, NULL, MD_TOOL_OPT_JSON }

struct hc_json;
struct md_report;

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
	int json;			/* --json */
};

/*
 * Parse the command line into @a: -1 when the tool goes on, else the exit
 * status main() returns (0 after --help, MD_TOOL_EXIT_USAGE after a usage
 * error, with the help on stderr).
 */
int md_tool_args(const struct md_tool *t, int argc, char **argv,
		 struct md_args *a);

/*
 * --json: instead of its sentences on stdout, a tool writes one JSON
 * object on one line when it ends (errors still go to stderr; a usage
 * error writes no object):
 *
 *   {"command": "hybrid_check", "ok": true, "exit_status": 0, <fields>}
 *
 * md_json_begin() opens it on stdout, md_json_end() closes it.
 */
void md_json_begin(struct hc_json *j, const char *prog, int status);
void md_json_end(struct hc_json *j);
/* An exit status of hybrid_check and hybrid_repair as a word: "clean", ... */
const char *md_json_verdict(int status);
/*
 * The members "problems", "counts" (findings by severity: "info",
 * "repairable", "data_loss", "broken"), "leftovers", "findings" (those
 * @r kept: {"severity", "message"}) and "findings_not_shown" of @r.
 */
void md_json_report(struct hc_json *j, const struct md_report *r);

#endif /* DMH_TOOLS_MD_TOOL_H */
