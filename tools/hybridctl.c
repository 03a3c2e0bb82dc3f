// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl - administer dm-hybrid pools and volumes (see hybridctl(8)).
 *
 * Everything goes through libdevmapper: pool and volume devices, the pool
 * messages (create_volume, set_volume, list_volumes, ...) and the status
 * lines.  Pools to activate at boot are listed in /etc/hybridtab; volume
 * names, sizes and controls live in the pool's own metadata, so the tab
 * holds only what is needed to assemble the pool.
 *
 * Every command that changes something either completes or undoes what it
 * did before it reports the error, so nothing is left half-created.  This
 * file holds the command table, which drives both the dispatch and the
 * usage text; hybridctl.h lists what the other files do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybridctl.h"

#define TAB_DEFAULT	"/etc/hybridtab"

const char *ctl_tab = TAB_DEFAULT;
int ctl_verbose;

/* The pool comes first, by name, in every command that takes one. */
static const struct ctl_cmd commands[] = {
	{ "pool", "create", pool_create,
	  "NAME --metadata DEV --ssd DEV --hdd DEV [--chunk-size 1M]\n"
	  "[--error-if-no-space] [--no-discard-passdown] [--noauto] [--wipe]\n"
	  "[--block-tier SIZE [--write-staging] [--persistent-staging]]" },
	{ "pool", "activate", pool_activate, "NAME... | --all [--wait SECS] [--progress]" },
	{ "pool", "deactivate", pool_deactivate, "NAME... | --all" },
	{ "pool", "status", pool_status, "[NAME...] [--json]" },
	{ "pool", "grow", pool_grow, "NAME" },
	{ "pool", "set", pool_set,
	  "NAME KNOB VALUE         (or: migration on|off)" },
	{ "pool", "remove", pool_remove, "NAME [--wipe]" },
	{ "pool", "evacuate", pool_evacuate, "NAME [--off] [--wait SECS]" },
	{ "pool", "replace-ssd", pool_replace_ssd, "NAME NEWSSD [--wait SECS]" },
	{ "vol", "create", vol_create,
	  "POOL NAME SIZE [--id N] [--weight W] [--priority P]\n"
	  "[--ssd-min SIZE] [--ssd-max SIZE]" },
	{ "vol", "delete", vol_delete, "POOL VOLUME" },
	{ "vol", "list", vol_list, "[POOL...] [--json]" },
	{ "vol", "resize", vol_resize, "POOL VOLUME [+]SIZE [--shrink]" },
	{ "vol", "set", vol_set,
	  "POOL VOLUME KEY VALUE... (weight, priority, ssd_min, ssd_max, name)" },
	{ "vol", "pin", vol_pin,
	  "POOL VOLUME ssd|hdd|auto [--start OFFSET] [--length SIZE]" },
	{ "vol", "import", vol_import,
	  "POOL NAME SOURCE [--progress=json | --json]" },
	{ "vol", "export", vol_export,
	  "POOL VOLUME DEST [--progress=json | --json]" },
	{ "stats", NULL, cmd_stats,
	  "[POOL | --pool POOL] [--watch [SECS]] [--count N] [--json] [VOLUME...]" },
	{ "map", NULL, cmd_map,
	  "[POOL | --pool POOL] VOLUME [--buckets N] [--png FILE] [--json]" },
	{ "metrics", NULL, cmd_metrics,
	  "[POOL | --pool POOL] [--textfile DIR [--interval SECS]]" },
};

/* Other names a noun answers to. */
static const char *const aliases[][2] = { { "volume", "vol" } };

static const struct ctl_cmd *running;

/*
 * One command's synopsis, continuation lines indented under its first;
 * a KNOB is one of the knobs the pool status line shows (DMH_KNOBS).
 */
static void print_synopsis(FILE *f, const char *lead, const struct ctl_cmd *c)
{
	int indent = fprintf(f, "%s%s%s%s ", lead, c->noun, c->verb ? " " : "",
			     c->verb ? c->verb : "");
	const char *s;
	u32 i;

	for (s = c->synopsis; *s; s++) {
		fputc(*s, f);
		if (*s == '\n')
			fprintf(f, "%*s", indent, "");
	}
	if (strstr(c->synopsis, "KNOB")) {
		fprintf(f, "\n%*sKNOB:", indent, "");
		for (i = 0; i < hc_nr_knob_names; i++)
			if (hc_knob_names[i])
				fprintf(f, " %s", hc_knob_names[i]);
	}
	fputc('\n', f);
}

/* The usage of every command, or of those of @noun only. */
static void usage(FILE *f, const char *noun)
{
	size_t i;

	if (!noun)
		fprintf(f, "Usage: hybridctl [-v] [--tab FILE] COMMAND ...\n\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!noun || !strcmp(noun, commands[i].noun))
			print_synopsis(f, "  ", &commands[i]);
	if (!noun)
		fprintf(f,
			"\nSizes take K, M, G, T (powers of 1024), e.g. 20G.  Pools are remembered\n"
			"in %s.  --json writes a report as JSON; the other commands but metrics\n"
			"take it too and write their result as a JSON object.  See hybridctl(8).\n",
			TAB_DEFAULT);
}

int ctl_usage(void)
{
	print_synopsis(stderr, "hybridctl: usage: ", running);
	return CTL_EXIT_USAGE;
}

static const char *canonical_noun(const char *noun)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(aliases); i++)
		if (!strcmp(noun, aliases[i][0]))
			return aliases[i][1];
	return noun;
}

/* The command @argv names: NULL with @known 1 if only its noun exists. */
static const struct ctl_cmd *find_cmd(int argc, char **argv, int *known)
{
	const char *noun = canonical_noun(argv[0]);
	size_t i;

	*known = 0;
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct ctl_cmd *c = &commands[i];

		if (strcmp(noun, c->noun))
			continue;
		*known = 1;
		if (!c->verb || (argc > 1 && !strcmp(argv[1], c->verb)))
			return c;
	}
	return NULL;
}

/* "--help" or "-h" among a command's arguments (before a "--"). */
static int wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

/*
 * How @c takes --json: as its own report (or, metrics, not at all), as
 * --progress=json lines followed by hctl-result.c's object, or as that
 * object alone, its sentences in the object.
 */
enum json_kind { JSON_OWN, JSON_STREAM, JSON_OBJECT };

static enum json_kind json_kind(const struct ctl_cmd *c)
{
	if (strstr(c->synopsis, "--progress=json"))
		return JSON_STREAM;
	if (strstr(c->synopsis, "--json") || !strcmp(c->noun, "metrics"))
		return JSON_OWN;
	return JSON_OBJECT;
}

/* Take every "--json" before a "--" out of @argv: 1 if there was one. */
static int take_json(int *argc, char **argv)
{
	int i, k, found = 0, end = 0;

	for (i = k = 1; i < *argc; i++) {
		end |= !strcmp(argv[i], "--");
		if (!end && !strcmp(argv[i], "--json"))
			found = 1;
		else
			argv[k++] = argv[i];
	}
	*argc = k;
	argv[k] = NULL;
	return found;
}

/* Run @c; with --json (and no JSON of its own), its result as JSON. */
static int run(const struct ctl_cmd *c, int argc, char **argv)
{
	enum json_kind k = json_kind(c);

	if (k == JSON_OWN || !take_json(&argc, argv))
		return c->fn(argc, argv);
	if (ctl_json_begin(c, k == JSON_OBJECT))
		return CTL_EXIT_FAIL;
	return ctl_json_end(c->fn(argc, argv));
}

static int dispatch(int argc, char **argv)
{
	const char *noun = canonical_noun(argv[0]);
	const struct ctl_cmd *c;
	int known, skip;

	if (!strcmp(argv[0], "help")) {
		usage(stdout, argc > 1 ? canonical_noun(argv[1]) : NULL);
		return 0;
	}
	c = find_cmd(argc, argv, &known);
	if (!c && known && argc > 1 && !strcmp(argv[1], "--help")) {
		usage(stdout, noun);
		return 0;
	}
	if (!c) {
		if (!known)
			ctl_err("unknown command \"%s\".", argv[0]);
		else if (argc > 1)
			ctl_err("unknown command \"%s %s\".", argv[0], argv[1]);
		usage(stderr, known ? noun : NULL);
		return CTL_EXIT_USAGE;
	}
	running = c;
	skip = c->verb ? 1 : 0;
	if (wants_help(argc - skip, argv + skip)) {
		print_synopsis(stdout, "usage: ", c);
		return 0;
	}
	ctl_dm_init();
	return run(c, argc - skip, argv + skip);
}

int main(int argc, char **argv)
{
	int i = 1, help;

	if (getenv("HYBRIDTAB"))
		ctl_tab = getenv("HYBRIDTAB");
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			ctl_verbose++;
		} else if (!strcmp(argv[i], "--tab") && i + 1 < argc) {
			ctl_tab = argv[++i];
		} else {
			help = !strcmp(argv[i], "-h") || !strcmp(argv[i], "--help");
			usage(help ? stdout : stderr, NULL);
			return help ? 0 : CTL_EXIT_USAGE;
		}
		i++;
	}
	if (i >= argc) {
		usage(stderr, NULL);
		return CTL_EXIT_USAGE;
	}
	return dispatch(argc - i, argv + i);
}
