// SPDX-License-Identifier: GPL-2.0-only
/* The command line and --json the metadata tools share (see md_tool.h). */
#include <string.h>

#include "hctl.h"
#include "md.h"
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
	if (ch == MD_TOOL_OPT_JSON) {
		a->json = 1;
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

void md_json_begin(struct hc_json *j, const char *prog, int status)
{
	hc_json_init(j, stdout);
	j->one_line = 1;
	hc_json_open(j, NULL, '{');
	hc_json_str(j, "command", prog);
	hc_json_bool(j, "ok", !status);
	hc_json_u64(j, "exit_status", (u64)status);
}

void md_json_end(struct hc_json *j)
{
	hc_json_close(j);
	fflush(stdout);
}

const char *md_json_verdict(int status)
{
	static const char *const verdict[] = {
		[MD_EXIT_OK] = "clean",
		[MD_EXIT_REPAIRABLE] = "repairable",
		[MD_EXIT_BROKEN] = "broken",
		[MD_EXIT_USAGE] = "io_error",
	};

	if (status < 0 || status >= (int)ARRAY_SIZE(verdict))
		return NULL;
	return verdict[status];
}

void md_json_report(struct hc_json *j, const struct md_report *r)
{
	static const char *const sev_key[MD_NR_SEV] = {
		"info", "repairable", "data_loss", "broken",
	};
	unsigned long i;
	int s;

	hc_json_u64(j, "problems", md_problems(r));
	hc_json_open(j, "counts", '{');
	for (s = 0; s < MD_NR_SEV; s++)
		hc_json_u64(j, sev_key[s], r->count[s]);
	hc_json_close(j);
	hc_json_u64(j, "leftovers", r->leftovers);
	hc_json_open(j, "findings", '[');
	for (i = 0; i < r->nkept; i++) {
		hc_json_open(j, NULL, '{');
		hc_json_str(j, "severity", sev_key[r->kept[i].sev]);
		hc_json_str(j, "message", r->kept[i].msg);
		hc_json_close(j);
	}
	hc_json_close(j);
	hc_json_u64(j, "findings_not_shown", r->suppressed);
}
