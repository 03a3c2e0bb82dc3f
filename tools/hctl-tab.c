// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl's hybridtab (see hybridctl.h): the pools to assemble at boot,
 * one line each, and the lock that serialises the commands changing it.
 * The line format itself is hc_tab_parse()'s and hc_tab_format()'s.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "hybridctl.h"

#define LOCK_FILE	"/run/hybridctl.lock"

int tab_read(struct tab *t)
{
	char line[1024], why[256];
	struct hc_tab e;
	u32 lineno = 0;
	FILE *f;
	int r;

	t->e = NULL;
	t->n = 0;
	f = fopen(ctl_tab, "re");
	if (!f && errno == ENOENT)
		return 0;
	if (!f) {
		ctl_err("cannot read %s: %s.", ctl_tab, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		r = hc_tab_parse(line, &e, why, sizeof(why));
		if (r < 0) {
			ctl_err("%s, line %u: %s.", ctl_tab, lineno, why);
			fclose(f);
			free(t->e);
			return -1;
		}
		if (!r)
			continue;
		t->e = realloc(t->e, (t->n + 1) * sizeof(e));
		if (!t->e) {
			ctl_err("out of memory");
			exit(CTL_EXIT_FAIL);
		}
		t->e[t->n++] = e;
	}
	fclose(f);
	return 0;
}

struct hc_tab *tab_find(struct tab *t, const char *name)
{
	u32 i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].name, name))
			return &t->e[i];
	return NULL;
}

/*
 * Rewrite the tab: keep every line (comments too) except @drop's entry,
 * and append @add, or put it in that entry's place when it replaces it
 * (same name).  Written to a temporary file and renamed into place.
 */
int tab_update(const struct hc_tab *add, const char *drop)
{
	char tmp[PATH_MAX], line[1024], why[256], addl[1024];
	int fd, placed = 0;
	struct hc_tab e;
	FILE *in, *out;

	if (add && hc_tab_format(add, addl, sizeof(addl))) {
		ctl_err("pool %s: its %s line is too long.", add->name, ctl_tab);
		return -1;
	}

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", ctl_tab, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		ctl_err("cannot write %s: %s.", tmp, strerror(errno));
		return -1;
	}
	in = fopen(ctl_tab, "re");
	if (!in) {
		fprintf(out,
			"# dm-hybrid pools activated at boot by \"hybridctl pool activate --all\".\n"
			"# <pool> <metadata dev> <ssd dev> <hdd dev> [<options>]; see hybridctl(8).\n");
	}
	while (in && fgets(line, sizeof(line), in)) {
		if (drop && hc_tab_parse(line, &e, why, sizeof(why)) == 1 &&
		    !strcmp(e.name, drop)) {
			if (add && !placed && !strcmp(add->name, drop)) {
				fputs(addl, out);
				placed = 1;
			}
			continue;
		}
		fputs(line, out);
		if (!strchr(line, '\n'))
			fputc('\n', out);
	}
	if (in)
		fclose(in);
	if (add && !placed)
		fputs(addl, out);
	if (fflush(out) || fsync(fileno(out)) || fclose(out) ||
	    rename(tmp, ctl_tab)) {
		ctl_err("cannot write %s: %s.", ctl_tab, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int tab_table_line(const struct hc_tab *e, char *buf, size_t n)
{
	char feat[128];

	hc_tab_features(e, feat, sizeof(feat));
	return snprintf(buf, n, "%s %s %s %llu %s", e->meta, e->ssd, e->hdd,
			(unsigned long long)e->chunk_sectors, feat) >= (int)n;
}

/* Serialise commands that change pools (picking a free id, the tab). */
void lock_all(void)
{
	int fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		fd = open("/tmp/hybridctl.lock", O_RDWR | O_CREAT | O_CLOEXEC,
			  0600);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	/* the descriptor stays open, and locked, until we exit */
}
