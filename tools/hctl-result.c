// SPDX-License-Identifier: GPL-2.0-only
/*
 * --json for the commands that change something (pool create, vol
 * delete, ...): instead of their sentences, one JSON object on stdout
 * when the command ends, whether it succeeded or not (vol import and
 * export: after their --progress=json lines, which they then write):
 *
 *   {"command": "vol create", "ok": true, "exit_status": 0,
 *    <the command's result fields>, "messages": [...], "errors": [...]}
 *
 * The commands keep printing their sentences; while one runs, stdout goes
 * to a temporary file whose lines become "messages", so no command needs a
 * second way to say what it did, and a script gets the same facts as a
 * person.  The fields a script needs (a new volume's id, a resized
 * volume's size) are given as well by ctl_result_*(), which do nothing
 * without --json.  ctl_err() also lands in "errors"; stderr gets it too.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hybridctl.h"

int ctl_json;

enum rkind { R_STR, R_U64, R_ITEM };

/* One result field; R_ITEMs of one key make an array of strings. */
struct rfield {
	const char *key;	/* a string literal */
	enum rkind kind;
	char *s;
	u64 v;
};

static struct rfield *fields;
static u32 nfields;
static char **errs;
static u32 nerrs;
static FILE *captured;		/* stdout while the command runs */
static int saved_stdout = -1;
static const struct ctl_cmd *running;	/* NULL once its object is out */

/* Append to a growable array of @size-byte elements: its new slot or NULL. */
static void *grow(void **arr, u32 *n, size_t size)
{
	char *p = realloc(*arr, (*n + 1) * size);

	if (!p)
		return NULL;
	*arr = p;
	memset(p + *n * size, 0, size);
	return p + (*n)++ * size;
}

static void add_field(const char *key, enum rkind kind, const char *s, u64 v)
{
	struct rfield *f;

	if (!ctl_json)
		return;
	f = grow((void **)&fields, &nfields, sizeof(*f));
	if (!f)
		return;
	f->key = key;
	f->kind = kind;
	f->s = s ? strdup(s) : NULL;
	f->v = v;
}

void ctl_result_str(const char *key, const char *s)
{
	add_field(key, R_STR, s, 0);
}

void ctl_result_u64(const char *key, u64 v)
{
	add_field(key, R_U64, NULL, v);
}

void ctl_result_item(const char *key, const char *s)
{
	add_field(key, R_ITEM, s, 0);
}

void ctl_result_err(const char *msg)
{
	char **e;

	if (!ctl_json)
		return;
	e = grow((void **)&errs, &nerrs, sizeof(*e));
	if (e)
		*e = strdup(msg);
}

/* A command that exit()s (out of memory, no device-mapper) failed. */
static void end_at_exit(void)
{
	if (running)
		ctl_json_end(CTL_EXIT_FAIL);
}

int ctl_json_begin(const struct ctl_cmd *c, int capture)
{
	ctl_json = 1;
	running = c;
	atexit(end_at_exit);
	if (!capture)
		return 0;
	fflush(stdout);
	captured = tmpfile();
	saved_stdout = captured ? dup(STDOUT_FILENO) : -1;
	if (saved_stdout < 0 || dup2(fileno(captured), STDOUT_FILENO) < 0) {
		running = NULL;
		ctl_err("--json: cannot capture the command's output: %m.");
		return -1;
	}
	return 0;
}

/* The captured lines as the "messages" array. */
static void put_messages(struct hc_json *j)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	hc_json_open(j, "messages", '[');
	if (captured)
		rewind(captured);
	while (captured && (len = getline(&line, &cap, captured)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		hc_json_str(j, NULL, line);
	}
	free(line);
	hc_json_close(j);
}

/* Field @i, and with it every later R_ITEM of its key; once per key. */
static void put_field(struct hc_json *j, u32 i)
{
	const struct rfield *f = &fields[i];
	u32 k;

	for (k = 0; k < i; k++)
		if (!strcmp(fields[k].key, f->key))
			return;
	if (f->kind == R_STR) {
		hc_json_str(j, f->key, f->s);
	} else if (f->kind == R_U64) {
		hc_json_u64(j, f->key, f->v);
	} else {
		hc_json_open(j, f->key, '[');
		for (k = i; k < nfields; k++)
			if (fields[k].kind == R_ITEM && !strcmp(fields[k].key, f->key))
				hc_json_str(j, NULL, fields[k].s);
		hc_json_close(j);
	}
}

/*
 * The object of command @c, which returned @status, on one line: a JSON
 * Lines record after import's progress lines.
 */
static void put_object(FILE *f, const struct ctl_cmd *c, int status)
{
	struct hc_json j;
	char cmd[64];
	u32 i;

	snprintf(cmd, sizeof(cmd), "%s%s%s", c->noun, c->verb ? " " : "",
		 c->verb ? c->verb : "");
	hc_json_init(&j, f);
	j.one_line = 1;
	hc_json_open(&j, NULL, '{');
	hc_json_str(&j, "command", cmd);
	hc_json_bool(&j, "ok", !status);
	hc_json_u64(&j, "exit_status", (u64)status);
	for (i = 0; i < nfields; i++)
		put_field(&j, i);
	put_messages(&j);
	hc_json_open(&j, "errors", '[');
	for (i = 0; i < nerrs; i++)
		hc_json_str(&j, NULL, errs[i]);
	hc_json_close(&j);
	hc_json_close(&j);
}

int ctl_json_end(int status)
{
	const struct ctl_cmd *c = running;

	running = NULL;
	fflush(stdout);
	if (captured && dup2(saved_stdout, STDOUT_FILENO) < 0)
		return CTL_EXIT_FAIL;
	if (captured)
		close(saved_stdout);
	put_object(stdout, c, status);
	if (captured)
		fclose(captured);
	return fflush(stdout) && !status ? CTL_EXIT_FAIL : status;
}
