// SPDX-License-Identifier: GPL-2.0-only
/*
 * "vol import" and "vol export" (see hybridctl(8)): a raw image file or a
 * block device into a new volume, and a volume out to a file or a block
 * device.  The copy goes in 1 MiB buffers, aligned for O_DIRECT, in
 * order, so the pool sees one sequential stream and its seq_cutoff places
 * it on the HDD.  A buffer of zeros is not written: an unmapped chunk
 * reads as zeros, so the image's holes stay unmapped in the volume, and
 * holes in an exported file.  An import that does not finish (an error,
 * SIGINT, SIGTERM) removes the volume it created, and says so.
 */
#define _GNU_SOURCE	/* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hybridctl.h"

#define COPY_BUF	(1024 * 1024)
#define COPY_ALIGN	4096

/* One copy: @total bytes from @in to @out, both from offset 0. */
struct copy {
	int in, out;
	const char *from, *to;		/* for the messages */
	u64 total;
	int skip_zero;			/* do not write buffers of zeros */
	int json;			/* --progress=json on stdout */
	int tty;			/* a progress line on stderr */
	struct timespec start, shown;
};

static sig_atomic_t copy_signal;	/* read after each buffer, a call */

static void on_signal(int sig)
{
	copy_signal = sig;
}

/* SIGINT and SIGTERM stop the copy between two buffers; no SA_RESTART. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static double secs_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	       (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* --progress=json (or --json): 0 and @json set, or the exit status. */
static int copy_args(int argc, char **argv, int *json)
{
	static const struct option opts[] = {
		{ "progress", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*json = ctl_json;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'p')
			return CTL_EXIT_USAGE;
		if (strcmp(optarg, "json")) {
			ctl_err("--progress takes \"json\" (a terminal gets a progress line without it).");
			return CTL_EXIT_USAGE;
		}
		*json = 1;
	}
	if (optind + 3 != argc)
		return ctl_usage();
	return 0;
}

/* --json's fields: the pool, the volume, and the file or device @what. */
static void copy_result(const char *pool, const char *vol, const char *what,
			const char *path)
{
	ctl_result_str("pool", pool);
	ctl_result_str("volume", vol);
	ctl_result_str(what, path);
}

/* Show @done: a JSON line each second, a terminal line 4 times a second. */
static void progress(struct copy *c, u64 done, int last)
{
	double secs = secs_since(&c->start);
	char line[160];

	if ((!c->json && !c->tty) ||
	    (!last && secs_since(&c->shown) < (c->json ? 1.0 : 0.25)))
		return;
	clock_gettime(CLOCK_MONOTONIC, &c->shown);
	if (c->json) {
		hc_progress_json(line, sizeof(line), done, c->total, secs);
		fputs(line, stdout);
		fflush(stdout);
		return;
	}
	hc_progress_line(line, sizeof(line), done, c->total, secs);
	fprintf(stderr, "\r%s\033[K%s", line, last ? "\n" : "");
}

/* Read @n bytes at @off, zeros past the end of the input: 0 or -errno. */
static int read_buf(struct copy *c, char *buf, size_t n, u64 off)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = pread(c->in, buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR && !copy_signal)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		got += (size_t)r;
	}
	memset(buf + got, 0, n - got);
	return 0;
}

static int write_buf(struct copy *c, const char *buf, size_t n, u64 off)
{
	size_t put = 0;
	ssize_t r;

	while (put < n) {
		r = pwrite(c->out, buf + put, n - put, (off_t)(off + put));
		if (r < 0 && errno == EINTR && !copy_signal)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		put += (size_t)r;
	}
	return 0;
}

/* Copy everything and fsync @out: 0, or -1 told (a signal: not told). */
static int copy_run(struct copy *c)
{
	u64 off;
	char *buf;
	size_t n;
	int r = 0;

	if (posix_memalign((void **)&buf, COPY_ALIGN, COPY_BUF)) {
		ctl_err("out of memory.");
		return -1;
	}
	posix_fadvise(c->in, 0, 0, POSIX_FADV_SEQUENTIAL);
	clock_gettime(CLOCK_MONOTONIC, &c->start);
	c->shown = c->start;
	for (off = 0; off < c->total && !copy_signal; off += n) {
		n = c->total - off < COPY_BUF ? c->total - off : COPY_BUF;
		r = read_buf(c, buf, n, off);
		if (r) {
			ctl_err("cannot read %s at byte %llu: %s.", c->from,
				(unsigned long long)off, strerror(-r));
			break;
		}
		if (!c->skip_zero || !hc_buf_zero(buf, n))
			r = write_buf(c, buf, n, off);
		if (r) {
			ctl_err("cannot write %s at byte %llu: %s.", c->to,
				(unsigned long long)off, strerror(-r));
			break;
		}
		progress(c, off + n, 0);
	}
	free(buf);
	if (!r && !copy_signal && fsync(c->out)) {
		r = -errno;
		ctl_err("cannot flush %s: %s.", c->to, strerror(-r));
	}
	if (!r && !copy_signal)
		progress(c, c->total, 1);
	else if (c->tty && !c->json)
		fputc('\n', stderr);
	return r || copy_signal ? -1 : 0;
}

/* A stopped copy's exit status: 128 + the signal, or a failure. */
static int copy_status(void)
{
	return copy_signal ? 128 + copy_signal : CTL_EXIT_FAIL;
}

/* The size of @path, a regular file or a block device, opened as @fd. */
static int source_size(const char *path, int fd, u64 *bytes)
{
	struct stat st;

	if (fstat(fd, &st)) {
		ctl_err("cannot stat %s: %s.", path, strerror(errno));
		return -1;
	}
	if (S_ISBLK(st.st_mode))
		return blk_size("source", path, bytes);
	if (!S_ISREG(st.st_mode)) {
		ctl_err("%s is neither a regular file nor a block device.", path);
		return -1;
	}
	*bytes = (u64)st.st_size;
	if (!*bytes) {
		ctl_err("%s is empty; a volume cannot be 0 bytes.", path);
		return -1;
	}
	return 0;
}

/* Copy into the new volume @id of @p (device @dev); removed on failure. */
static int import_into(struct pool *p, u32 id, const char *dev,
		       struct copy *c)
{
	char path[160];

	snprintf(path, sizeof(path), "/dev/mapper/%s", dev);
	c->to = path;
	c->out = copy_signal ? -1 : open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (c->out < 0 && !copy_signal)
		ctl_err("cannot open %s: %s.", path, strerror(errno));
	if (c->out >= 0 && !copy_run(c)) {
		close(c->out);
		return 0;
	}
	if (c->out >= 0)
		close(c->out);
	if (copy_signal)
		ctl_err("interrupted by signal %d.", copy_signal);
	if (vol_drop(p, id, dev))
		ctl_err("the half-imported volume %s is still in pool %s: delete it with \"hybridctl vol delete %s %s\".",
			dev, p->name, p->name, dev);
	else
		ctl_err("the import did not finish: volume %s was removed from pool %s.",
			dev, p->name);
	return -1;
}

int vol_import(int argc, char **argv)
{
	struct copy c = { .skip_zero = 1, .tty = isatty(2) };
	const char *pool, *name;
	struct pool p;
	char a[32];
	u64 bytes;
	u32 id;
	int r;

	r = copy_args(argc, argv, &c.json);
	if (r)
		return r;
	pool = argv[optind];
	name = argv[optind + 1];
	if (name_arg("volume", name))
		return CTL_EXIT_USAGE;
	c.from = argv[optind + 2];
	copy_result(pool, name, "source", c.from);
	r = -1;
	c.in = open(c.from, O_RDONLY | O_CLOEXEC);
	if (c.in < 0) {
		ctl_err("cannot open %s: %s.", c.from, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	if (source_size(c.from, c.in, &bytes))
		goto out;
	c.total = (bytes + 511) / 512 * 512;
	catch_signals();	/* before the volume exists, to remove it */
	lock_all();
	if (pool_open(pool, &p, 0))
		goto out;
	if (!vol_add(&p, name, c.total / 512, &id) &&
	    !import_into(&p, id, name, &c)) {
		fprintf(c.json ? stderr : stdout,
			"Volume %s imported into pool %s from %s: %s, /dev/mapper/%s\n",
			name, p.name, c.from,
			hc_format_size(c.total, a, sizeof(a)), name);
		ctl_result_u64("id", id);
		ctl_result_u64("size_bytes", c.total);
		r = 0;
	}
	free_pool(&p);
out:
	close(c.in);
	return r ? copy_status() : 0;
}

/*
 * Open export's @dest for @c: an existing block device of at least
 * c->total bytes, written whole, or a new file, written sparse.  *@made
 * tells that the file was created (to remove it if the copy fails).
 */
static int open_dest(const char *dest, struct copy *c, int *made)
{
	struct stat st;
	char a[32];
	u64 size;

	*made = 0;
	c->to = dest;
	if (!stat(dest, &st)) {
		if (!S_ISBLK(st.st_mode)) {
			ctl_err("%s exists; export writes a new file or a block device (remove the file first).",
				dest);
			return -1;
		}
		if (blk_size("destination", dest, &size))
			return -1;
		if (size < c->total) {
			ctl_err("%s is too small: the volume is %s.", dest,
				hc_format_size(c->total, a, sizeof(a)));
			return -1;
		}
		c->out = open(dest, O_WRONLY | O_DIRECT | O_CLOEXEC);
	} else {
		c->out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			      0644);
		*made = c->out >= 0;
		c->skip_zero = 1;	/* holes read as zeros */
	}
	if (c->out < 0) {
		ctl_err("cannot open %s: %s.", dest, strerror(errno));
		return -1;
	}
	return 0;
}

/* Copy to @dest; a new file gets its size (the tail may be a hole). */
static int export_to(const char *dest, struct copy *c)
{
	int made, r;

	if (open_dest(dest, c, &made))
		return -1;
	r = made && ftruncate(c->out, (off_t)c->total);
	if (r)
		ctl_err("cannot size %s: %s.", dest, strerror(errno));
	if (!r)
		r = copy_run(c);
	close(c->out);
	if (r && copy_signal)
		ctl_err("interrupted by signal %d.", copy_signal);
	if (r && made && !unlink(dest))
		ctl_err("the export did not finish: %s was removed.", dest);
	return r;
}

int vol_export(int argc, char **argv)
{
	struct copy c = { .tty = isatty(2) };
	struct hc_vol_info *v;
	struct voldev d;
	struct pool p;
	char path[160], a[32];
	int r;

	r = copy_args(argc, argv, &c.json);
	if (r)
		return r;
	copy_result(argv[optind], argv[optind + 1], "dest", argv[optind + 2]);
	v = pool_open_vol(argv[optind], argv[optind + 1], &p);
	if (!v)
		return CTL_EXIT_FAIL;
	r = -1;
	if (vol_device(&p, v->id, &d)) {
		ctl_err("volume %s has no active device; \"hybridctl pool activate %s\" maps it.",
			argv[optind + 1], p.name);
		goto out;
	}
	if (d.info.open_count)
		fprintf(stderr, "hybridctl: warning: %s is open: %s\n", d.name,
			"the copy is consistent only if nothing writes to it.");
	snprintf(path, sizeof(path), "/dev/mapper/%s", d.name);
	c.from = path;
	c.total = d.len * 512;
	c.in = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (c.in < 0) {
		ctl_err("cannot open %s: %s.", path, strerror(errno));
		goto out;
	}
	catch_signals();
	r = export_to(argv[optind + 2], &c);
	close(c.in);
	if (!r)
		fprintf(c.json ? stderr : stdout,
			"Volume %s of pool %s exported to %s: %s\n",
			argv[optind + 1], p.name, argv[optind + 2],
			hc_format_size(c.total, a, sizeof(a)));
	if (!r)
		ctl_result_u64("size_bytes", c.total);
out:
	free_pool(&p);
	return r ? copy_status() : 0;
}
