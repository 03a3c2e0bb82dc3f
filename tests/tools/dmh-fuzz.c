// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmh-fuzz: the runner of the table-line and message fuzzer (issue 7).
 *
 *   dmh-fuzz -o RESULT [-z DEV] [-c CURFILE] [-p CASE] CASES
 *
 * CASES is the output of fuzz_gen (tests/lib/fuzz.sh) with its
 * placeholders replaced: one case a line, "<kind> <expect> <text...>".
 * Every case runs in this one process through /dev/mapper/control (a
 * dmsetup run costs about 0.7 s on the debug kernel under TCG; an ioctl a
 * few milliseconds), with the same rules as dmsetup would apply:
 *
 *   msg     DM_TARGET_MSG to "pool", sector 0, the words joined by one
 *           space (the returned text, DM_DATA_OUT, is read and dropped)
 *   vol     create "fz" with the table line (create, load, resume; a
 *           failed load or resume removes "fz" again); if accepted, the
 *           live table's length must be the line's (as parsed: "+5" is
 *           5), and "fz" must be removable
 *   pool    zero the first 8 KiB of DEV (-z, the scratch metadata), then
 *           create "fzp" like "fz"; if accepted, it must be rw and
 *           removable
 *   reload  load the line into "pool", then clear the inactive table
 *
 * expect "ok" must be accepted, "err" refused, "any" either.  After every
 * case the state is taken: every dm device (name, dev_t, suspended /
 * read-only / table flags, open count, each target's status line and
 * table line) and the pool's list_volumes output.  A refused case must
 * leave it exactly as it was before the case, and the pool must be rw
 * after every case.
 *
 * RESULT gets one line per failing case,
 *     bad <TAB> N <TAB> kind 'text' <TAB> why
 * and, when every case has run, "end <TAB> cases <TAB> bad".  CURFILE, if
 * given, holds the number of the case being run (so that a runner killed
 * by an oops still says where).  With -p, "DMH-REL-PARTIAL fuzz=N
 * fuzz_failed=B case=CASE" goes to stdout every 1000 cases.  The first
 * five state changes are printed in full on stdout.
 *
 * Exit status: 0 all cases behaved, 1 some did not, 2 the runner itself
 * failed (usage, files, /dev/mapper/control).
 *
 *   dmh-fuzz -n MAX -o RESULT SWEEPS
 *
 * The fail-nth sweep (fault-alloc, debug kernel with CONFIG_FAILSLAB):
 * SWEEPS has one sweep a line, "<what> ;; <do> ;; <undo>", each of <do>
 * and <undo> one of
 *
 *   create NAME <table line>   create, load, resume (as above)
 *   remove NAME                DM_DEV_REMOVE
 *   msg <words>                DM_TARGET_MSG to "pool", sector 0
 *   none
 *
 * For N = 1, 2, ... the Nth fault point of <do> fails: N is written to
 * /proc/thread-self/fail-nth just before <do> (the file is opened once, so
 * the count starts at the first ioctl: a dmsetup run passes ~900 slab
 * allocations of its own exec and start-up before it reaches dm), and read
 * back after it.  An attempt whose fault fired and which was refused must
 * leave the state (as above) unchanged; one that succeeded anyway is
 * undone and must leave the volume list of the sweep's first success.  The
 * pool, if there is one, must be rw after every attempt.  The sweep ends
 * when <do> runs to its end with the count not reached (it then must
 * succeed, and is undone), and fails if N passes MAX.  RESULT gets the
 * "bad" lines, one "sweep <TAB> what <TAB> points <TAB> refused <TAB>
 * survived <TAB> bad" line a sweep and the "end" line; stdout the same in
 * words.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/dm-ioctl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dmh-dm.h"

#define POOL "pool"
#define VOL_DEV "fz"
#define POOL_DEV "fzp"
#define SHOW_STATES 5

/*
 * targets(): the live table of NAME, status (TABLE = 0) or table lines,
 * appended to B as "  <start> <len> <type> <params>" lines; header fields
 * of the answer are left in io.  0 or -1.
 */
static int targets(const char *name, int table, struct str *b)
{
	struct dm_target_spec *spec;
	uint32_t i, off = 0;
	char *data;

	if (dm_ioctl(DM_TABLE_STATUS, name, table ? DM_STATUS_TABLE_FLAG : 0,
		     NULL, 0, 16384))
		return -1;
	data = io_data();
	for (i = 0; i < io->target_count; i++) {
		spec = (struct dm_target_spec *)(data + off);
		str_add(b, "  %s %llu %llu %.*s %s\n",
			table ? "table" : "status",
			(unsigned long long)spec->sector_start,
			(unsigned long long)spec->length,
			(int)sizeof(spec->target_type), spec->target_type,
			(char *)(spec + 1));
		off = spec->next;	/* from the start of the data */
	}
	return 0;
}

/* The Nth (1-based) space-separated word of S into W, or "". */
static void word(const char *s, int n, char *w, size_t wsize)
{
	size_t len;

	while (n-- > 1) {
		s = strchr(s, ' ');
		if (!s) {
			w[0] = '\0';
			return;
		}
		s++;
	}
	len = strcspn(s, "\n ");
	if (len >= wsize)
		len = wsize - 1;
	memcpy(w, s, len);
	w[len] = '\0';
}

/* pool_mode(): the mode (status field 10) of a pool device, into W. */
static int pool_mode(const char *name, char *w, size_t wsize)
{
	struct dm_target_spec *spec;

	if (dm_ioctl(DM_TABLE_STATUS, name, 0, NULL, 0, 16384) ||
	    io->target_count != 1)
		return -1;
	spec = (struct dm_target_spec *)io_data();
	word((char *)(spec + 1), 10, w, wsize);
	return 0;
}

/* table_length(): the length in sectors of device NAME's one target. */
static int table_length(const char *name, uint64_t *len)
{
	if (dm_ioctl(DM_TABLE_STATUS, name, DM_STATUS_TABLE_FLAG, NULL, 0, 16384) ||
	    io->target_count != 1)
		return -1;
	*len = ((struct dm_target_spec *)io_data())->length;
	return 0;
}

/* send_msg(): DM_TARGET_MSG to POOL, sector 0; returned text into OUT. */
static int send_msg(const char *msg, struct str *out)
{
	size_t len = sizeof(struct dm_target_msg) + strlen(msg) + 1;
	struct dm_target_msg *m = calloc(1, len);
	int r, e;

	if (!m)
		die("out of memory");
	m->sector = 0;
	memcpy(m->message, msg, len - sizeof(*m));
	r = dm_ioctl(DM_TARGET_MSG, POOL, 0, m, len, 16384);
	e = errno;
	free(m);
	if (out) {
		str_reset(out);
		if (!r && (io->flags & DM_DATA_OUT_FLAG))
			str_add(out, "%s", io_data());
	}
	errno = e;
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * snapshot(): everything a refused case must leave alone, into B; the
 * pool's mode into MODE ("" if there is no pool).
 */
static void snapshot(struct str *b, char *mode, size_t msize)
{
	struct dm_name_list *nl;
	char **names = NULL;
	size_t n = 0, i;
	uint32_t off = 0;
	struct str msg = { 0 };

	str_reset(b);
	mode[0] = '\0';
	if (dm_ioctl(DM_LIST_DEVICES, NULL, 0, NULL, 0, 16384))
		die("DM_LIST_DEVICES: %s", strerror(errno));
	/*
	 * With no devices the kernel copies back no list at all (data_size
	 * is data_start), so what the buffer holds there is stale.
	 */
	nl = (struct dm_name_list *)io_data();
	if (io->data_size >= io->data_start + sizeof(nl->dev) && nl->dev) {
		for (;;) {
			nl = (struct dm_name_list *)(io_data() + off);
			names = realloc(names, (n + 1) * sizeof(*names));
			if (!names)
				die("out of memory");
			names[n] = strdup(nl->name);
			if (!names[n++])
				die("out of memory");
			if (!nl->next)
				break;
			off += nl->next;
		}
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		if (dm_ioctl(DM_DEV_STATUS, names[i], 0, NULL, 0, 0)) {
			str_add(b, "%s: gone (%s)\n", names[i], strerror(errno));
			continue;
		}
		str_add(b, "%s: dev %u:%u flags %#x open %d targets %u\n", names[i],
			major(io->dev), minor(io->dev),
			io->flags & (DM_READONLY_FLAG | DM_SUSPEND_FLAG |
				     DM_ACTIVE_PRESENT_FLAG | DM_INACTIVE_PRESENT_FLAG),
			io->open_count, io->target_count);
		if (targets(names[i], 0, b))
			str_add(b, "  status: %s\n", strerror(errno));
		if (targets(names[i], 1, b))
			str_add(b, "  table: %s\n", strerror(errno));
		if (!strcmp(names[i], POOL) && pool_mode(POOL, mode, msize))
			snprintf(mode, msize, "(no status)");
		free(names[i]);
	}
	free(names);
	if (send_msg("list_volumes", &msg))
		str_add(b, "list_volumes: %s\n", strerror(errno));
	else
		str_add(b, "list_volumes:\n%s\n", msg.s ? msg.s : "");
	free(msg.s);
}

/* zero_head(): the first 8 KiB of DEV to zeros, with O_DIRECT. */
static int zero_head(const char *dev)
{
	void *z;
	int fd, r = 0;

	if (posix_memalign(&z, 4096, 8192))
		die("out of memory");
	memset(z, 0, 8192);
	fd = open(dev, O_WRONLY | O_DIRECT);
	if (fd < 0 || pwrite(fd, z, 8192, 0) != 8192)
		r = -1;
	if (fd >= 0 && close(fd))
		r = -1;
	free(z);
	return r;
}

/* Print a state, indented, for the log. */
static void show_state(const char *what, const char *s)
{
	const char *p = s, *nl;

	printf("dmh: fuzz state %s:\n", what);
	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		printf("dmh:   %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

/* --- the fail-nth sweep -------------------------------------------------- */

#define SHOW_BAD 5	/* bad attempts written out per sweep */

static int nth_fd = -1;

static void nth_set(unsigned long n)
{
	char b[32];
	int len = snprintf(b, sizeof(b), "%lu", n);

	if (pwrite(nth_fd, b, len, 0) != len)
		die("fail-nth: write %lu: %s", n, strerror(errno));
}

/*
 * nth_left(): what is left of the count (0: the fault fired; more: the
 * operation ended before its Nth fault point), and the count off.  The
 * file is read and written through a descriptor opened once, so neither
 * allocates.
 */
static unsigned long nth_left(void)
{
	char b[32];
	ssize_t len;
	int e = errno;

	len = pread(nth_fd, b, sizeof(b) - 1, 0);
	if (len <= 0)
		die("fail-nth: read: %s", strerror(len ? errno : EIO));
	b[len] = '\0';
	nth_set(0);
	errno = e;
	return strtoul(b, NULL, 10);
}

/*
 * run_op(): one sweep operation (see the header); 0 or -1 with errno and
 * *WHY set.  An unknown operation ends the run.
 */
static int run_op(const char *op, const char **why)
{
	char verb[16], name[DM_NAME_LEN];
	const char *rest;
	uint64_t len;
	int r;

	if (!strcmp(op, "none"))
		return 0;
	if (!strncmp(op, "msg ", 4)) {
		r = send_msg(op + 4, NULL);
		if (r)
			*why = "message refused";
		return r;
	}
	word(op, 1, verb, sizeof(verb));
	word(op, 2, name, sizeof(name));
	rest = strchr(op, ' ');
	rest = rest ? strchr(rest + 1, ' ') : NULL;
	if (!strcmp(verb, "remove") && name[0]) {
		r = remove_dev(name);
		if (r)
			*why = "DM_DEV_REMOVE failed";
		return r;
	}
	if (!strcmp(verb, "create") && name[0] && rest)
		return create_dev(name, rest + 1, &len, why);
	die("not a sweep operation: '%s'", op);
	return -1;
}

/* split_sweep(): "<what> ;; <do> ;; <undo>" in place; 0 or -1. */
static int split_sweep(char *line, char **what, char **op, char **undo)
{
	char *a, *b;

	line[strcspn(line, "\n")] = '\0';
	a = strstr(line, " ;; ");
	b = a ? strstr(a + 4, " ;; ") : NULL;
	if (!b)
		return -1;
	*a = '\0';
	*b = '\0';
	*what = line;
	*op = a + 4;
	*undo = b + 4;
	return 0;
}

struct sweep {
	const char *what;
	unsigned long points, refused, survived, bad;
	struct str ref;		/* list_volumes after the first success */
	FILE *res;
};

/* volumes_part(): the list_volumes section a snapshot() ends with. */
static const char *volumes_part(const char *snap)
{
	const char *p = snap ? snap : "", *last = NULL;

	while ((p = strstr(p, "list_volumes:"))) {
		last = p;
		p++;
	}
	return last ? last : "";
}

/*
 * same_volumes(): true when the pool's volume list (ids, sizes, settings,
 * open counts, mapped/SSD/HDD chunks) in the snapshot AFTER is the one the
 * first success of the sweep left, which it records.  A fault that an
 * operation survived must not have cost a volume a chunk.
 */
static int same_volumes(struct sweep *sw, unsigned long n, const char *after)
{
	const char *now = volumes_part(after);

	if (!sw->ref.s) {
		str_add(&sw->ref, "%s", now);
		return 1;
	}
	if (!strcmp(sw->ref.s, now))
		return 1;
	if (sw->bad < 1)
		printf("dmh: sweep %s attempt %lu: volumes after the first success:\n%s\n"
		       "dmh: and after this one:\n%s\n", sw->what, n, sw->ref.s, now);
	return 0;
}

static void sweep_bad(struct sweep *sw, unsigned long n, const char *fmt, ...)
{
	va_list ap;

	if (sw->bad++ >= SHOW_BAD)
		return;
	fprintf(sw->res, "bad\t%lu\t%s\t", n, sw->what);
	va_start(ap, fmt);
	vfprintf(sw->res, fmt, ap);
	va_end(ap);
	fputc('\n', sw->res);
	fflush(sw->res);
}

/*
 * attempt(): run OP with its Nth fault point failing and judge it against
 * BEFORE (the state it started from).  Returns 1 when OP ran to its end
 * without reaching the Nth point (the sweep is over), 0 otherwise; *BASE
 * is cleared when the state moved on (a success, undone).
 */
static int attempt(struct sweep *sw, unsigned long n, const char *op,
		   const char *undo, struct str *before, int *base)
{
	struct str after = { 0 };
	const char *why = "";
	char mode[64];
	int rc, e;

	nth_set(n);
	rc = run_op(op, &why);
	e = errno;
	if (nth_left()) {
		if (rc)
			sweep_bad(sw, n, "refused with no fault injected: %s: %s",
				  why, strerror(e));
		else if (run_op(undo, &why))
			sweep_bad(sw, n, "undo after the last try: %s: %s",
				  why, strerror(errno));
		return 1;
	}
	sw->points = n;
	snapshot(&after, mode, sizeof(mode));
	if (rc) {
		sw->refused++;
		if (strcmp(before->s, after.s)) {
			sweep_bad(sw, n, "refused (%s: %s) but the state changed",
				  why, strerror(e));
			if (sw->bad <= 1) {
				show_state("before", before->s);
				show_state("after", after.s);
			}
		}
	} else {
		sw->survived++;
		if (!same_volumes(sw, n, after.s))
			sweep_bad(sw, n,
				  "succeeded, but the volume list differs from the first success's");
		if (run_op(undo, &why))
			sweep_bad(sw, n, "undo: %s: %s", why, strerror(errno));
		*base = 0;
	}
	if (mode[0] && strcmp(mode, "rw"))
		sweep_bad(sw, n, "pool left in mode '%s'", mode);
	free(after.s);
	return 0;
}

/* sweep_file(): every sweep of IN, up to MAX fault points each. */
static unsigned long sweep_file(FILE *in, FILE *res, unsigned long max)
{
	struct str before = { 0 };
	char *line = NULL, *op, *undo, mode[64];
	size_t lcap = 0;
	unsigned long n, nbad = 0;
	int base;

	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth_fd < 0)
		die("/proc/thread-self/fail-nth: %s", strerror(errno));
	while (getline(&line, &lcap, in) > 0) {
		struct sweep sw = { .res = res };
		char *what;

		if (split_sweep(line, &what, &op, &undo))
			die("not a sweep line: '%s'", line);
		sw.what = what;
		base = 0;
		for (n = 1; n <= max; n++) {
			if (!base) {
				snapshot(&before, mode, sizeof(mode));
				base = 1;
			}
			if (attempt(&sw, n, op, undo, &before, &base))
				break;
		}
		if (n > max)
			sweep_bad(&sw, n, "still failing after %lu fault points", max);
		fprintf(res, "sweep\t%s\t%lu\t%lu\t%lu\t%lu\n", sw.what,
			sw.points, sw.refused, sw.survived, sw.bad);
		fflush(res);
		printf("dmh: sweep %s: %lu fault points, %lu refused cleanly, ",
		       sw.what, sw.points, sw.refused);
		printf("%lu succeeded anyway, %lu bad\n", sw.survived, sw.bad);
		nbad += sw.bad;
		free(sw.ref.s);
	}
	free(line);
	free(before.s);
	return nbad;
}

static void usage(void)
{
	fprintf(stderr, "Usage: dmh-fuzz -o RESULT [-z DEV] [-c CURFILE] [-p CASE] CASES\n"
		"       dmh-fuzz -n MAX -o RESULT SWEEPS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *result = NULL, *zdev = NULL, *curfile = NULL, *cname = NULL;
	FILE *in, *res;
	char *line = NULL, *kind, *exp, *text, *p;
	size_t lcap = 0;
	struct str before = { 0 }, after = { 0 }, why = { 0 }, out = { 0 }, msg = { 0 };
	char mode[64], w[64];
	uint64_t asked, len;
	unsigned long ncase = 0, nbad = 0, shown = 0;
	unsigned long sweep_max = 0;
	int opt, curfd = -1, rc;

	while ((opt = getopt(argc, argv, "o:z:c:p:n:")) != -1) {
		switch (opt) {
		case 'n':
			sweep_max = strtoul(optarg, NULL, 10);
			break;
		case 'o':
			result = optarg;
			break;
		case 'z':
			zdev = optarg;
			break;
		case 'c':
			curfile = optarg;
			break;
		case 'p':
			cname = optarg;
			break;
		default:
			usage();
		}
	}
	if (!result || optind != argc - 1)
		usage();
	in = fopen(argv[optind], "r");
	if (!in)
		die("%s: %s", argv[optind], strerror(errno));
	res = fopen(result, "w");
	if (!res)
		die("%s: %s", result, strerror(errno));
	if (curfile) {
		curfd = open(curfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (curfd < 0)
			die("%s: %s", curfile, strerror(errno));
	}
	dm_open();
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (sweep_max) {
		nbad = sweep_file(in, res, sweep_max);
		fprintf(res, "end\t0\t%lu\n", nbad);
		if (fclose(res))
			die("%s: %s", result, strerror(errno));
		return nbad ? 1 : 0;
	}
	snapshot(&before, mode, sizeof(mode));
	while (getline(&line, &lcap, in) > 0) {
		const char *err = NULL;
		struct table_line t;
		char *params = NULL;
		int n;

		ncase++;
		if (curfd >= 0) {
			n = snprintf(w, sizeof(w), "%lu\n", ncase);
			if (pwrite(curfd, w, n, 0) != n || ftruncate(curfd, n))
				die("%s: %s", curfile, strerror(errno));
		}
		/* "<kind> <expect> <text>", split as the shell's read -r does. */
		line[strcspn(line, "\n")] = '\0';
		kind = strtok_r(line, " \t", &p);
		exp = strtok_r(NULL, " \t", &p);
		text = p;
		while (text && isspace((unsigned char)*text))
			text++;
		if (!kind || !exp || !text || !*text)
			die("case %lu: not a case line", ncase);
		if (strcmp(exp, "ok") && strcmp(exp, "err") && strcmp(exp, "any"))
			die("case %lu: unknown expectation '%s'", ncase, exp);
		for (n = strlen(text); n > 0 && isspace((unsigned char)text[n - 1]); n--)
			text[n - 1] = '\0';
		str_reset(&why);

		if (!strcmp(kind, "msg")) {
			/* the words, joined by one space (dmsetup's argv) */
			char *s, *tp;

			str_reset(&msg);
			for (s = strtok_r(text, " \t", &tp); s; s = strtok_r(NULL, " \t", &tp))
				str_add(&msg, "%s%s", msg.len ? " " : "", s);
			text = msg.s;
			rc = send_msg(msg.s, &out);
			if (rc)
				err = "message refused";
		} else if (!strcmp(kind, "vol")) {
			rc = create_dev(VOL_DEV, text, &asked, &err);
			if (!rc) {
				if (table_length(VOL_DEV, &len))
					str_add(&why, " no table");
				else if (len != asked)
					str_add(&why, " wrong size %llu (asked %llu)",
						(unsigned long long)len,
						(unsigned long long)asked);
				if (remove_dev(VOL_DEV))
					str_add(&why, "; cannot remove: %s", strerror(errno));
			}
		} else if (!strcmp(kind, "pool")) {
			if (!zdev || zero_head(zdev))
				str_add(&why, " cannot zero the scratch metadata (-z)");
			rc = create_dev(POOL_DEV, text, &asked, &err);
			if (!rc) {
				if (pool_mode(POOL_DEV, w, sizeof(w)) || strcmp(w, "rw"))
					str_add(&why, " new pool not rw");
				if (remove_dev(POOL_DEV))
					str_add(&why, "; cannot remove: %s", strerror(errno));
			}
		} else if (!strcmp(kind, "reload")) {
			if (parse_table_line(text, &t, &params)) {
				rc = -1;
				err = "not a table line (refused before any ioctl)";
			} else {
				rc = load_table(POOL, &t);
				if (rc)
					err = "DM_TABLE_LOAD failed";
			}
			free(params);
			{
				int e = errno;

				dm_ioctl(DM_TABLE_CLEAR, POOL, 0, NULL, 0, 0);
				errno = e;
			}
		} else {
			die("case %lu: unknown kind '%s'", ncase, kind);
		}
		if (rc && !strcmp(exp, "ok"))
			str_add(&why, " refused: %s: %s", err, strerror(errno));
		else if (!rc && !strcmp(exp, "err"))
			str_add(&why, " accepted");

		snapshot(&after, mode, sizeof(mode));
		if (rc && strcmp(before.s, after.s)) {
			str_add(&why, " refused but the state changed");
			if (shown++ < SHOW_STATES) {
				printf("dmh: fuzz case %lu: %s '%s'\n", ncase, kind, text);
				show_state("before", before.s);
				show_state("after", after.s);
			}
		}
		if (strcmp(mode, "rw"))
			str_add(&why, " pool left rw (mode '%s')", mode);
		if (why.len) {
			nbad++;
			fprintf(res, "bad\t%lu\t%s '%s'\t%s\n", ncase, kind, text, why.s + 1);
			fflush(res);
		}
		/* the state after this case is the one before the next */
		{
			struct str tmp = before;

			before = after;
			after = tmp;
		}
		if (cname && ncase % 1000 == 0)
			printf("DMH-REL-PARTIAL fuzz=%lu fuzz_failed=%lu case=%s\n",
			       ncase, nbad, cname);
	}
	if (ferror(in))
		die("%s: %s", argv[optind], strerror(errno));
	fprintf(res, "end\t%lu\t%lu\n", ncase, nbad);
	if (fclose(res))
		die("%s: %s", result, strerror(errno));
	return nbad ? 1 : 0;
}
