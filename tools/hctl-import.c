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
 *
 * An import that cannot say so (SIGKILL, a power cut) must not leave a
 * half volume that a VM could boot under its name.  So the copy goes into
 * a volume named <name>.importing (HC_IMPORT_SUFFIX), mapped under that
 * name, and only once it is complete and flushed (fsync: a flush, which
 * the pool answers after committing the new mappings) does it become
 * <name>: first the pool's volume name (set_volume name, committed by the
 * kernel), then the dm device (a rename).  Where a stop leaves it:
 *
 *   - after create_volume, before its name (inside vol_add): an empty,
 *     unnamed volume <pool>-<id>, as "vol create" can leave; no data and
 *     never under <name>;
 *   - <name>.importing, mapped or not, partly copied or complete: the same
 *     import resumes it ("pool activate" maps it as <name>.importing);
 *   - the pool calls it <name>, its device is still <name>.importing (a
 *     SIGKILL between the two renames; after a reboot "pool activate" maps
 *     it as <name>, complete): the same import finds the device, compares
 *     and renames it;
 *   - both renamed: done.
 *
 * A resumed import requires the same size, reads each 1 MiB buffer of the
 * volume and writes only those that differ from the source; a buffer of
 * zeros over one that is not is discarded (then written with zeros if it
 * does not read back as zeros), so no stale byte survives.
 */
#define _GNU_SOURCE	/* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>	/* BLKDISCARD */

#include "hybridctl.h"

#define COPY_BUF	(1024 * 1024)
#define COPY_ALIGN	4096

/* One copy: @total bytes from @in to @out, both from offset 0. */
struct copy {
	int in, out;
	const char *from, *to;		/* for the messages */
	u64 total;
	int skip_zero;			/* do not write buffers of zeros */
	int resume;			/* compare with @out, write what differs */
	u64 in_place;			/* resume: bytes found equal */
	char *vbuf;			/* resume: @out's buffer */
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

/* Read up to @n bytes of @fd at @off, *@got of them before its end: 0 or -errno. */
static int read_upto(int fd, char *buf, size_t n, u64 off, size_t *got)
{
	ssize_t r;

	*got = 0;
	while (*got < n) {
		r = pread(fd, buf + *got, n - *got, (off_t)(off + *got));
		if (r < 0 && errno == EINTR && !copy_signal)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		*got += (size_t)r;
	}
	return 0;
}

/* Read @n bytes at @off, zeros past the end of the input: 0 or -errno. */
static int read_buf(struct copy *c, char *buf, size_t n, u64 off)
{
	size_t got;
	int r = read_upto(c->in, buf, n, off, &got);

	if (!r)
		memset(buf + got, 0, n - got);
	return r;
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

/* Read @n bytes of @out at @off into c->vbuf: 0 or -errno. */
static int read_out(struct copy *c, size_t n, u64 off)
{
	size_t got;
	int r = read_upto(c->out, c->vbuf, n, off, &got);

	return r ? r : got < n ? -EIO : 0;
}

/*
 * Resume: make @n bytes of @out at @off hold @buf (the source's), writing
 * only if they differ.  Zeros over data: a discard (whole chunks become
 * unmapped again), then zeros written if the range does not read back as
 * zeros (a discard of part of a chunk, or none at all).  0 or -errno.
 */
static int resume_buf(struct copy *c, const char *buf, size_t n, u64 off)
{
	u64 range[2] = { off, n };
	enum hc_resume_act act;
	int r = read_out(c, n, off);

	if (r)
		return r;
	act = hc_resume_action(c->vbuf, buf, n);
	if (act == HC_RESUME_KEEP) {
		c->in_place += n;
		return 0;
	}
	if (act == HC_RESUME_ZERO && !ioctl(c->out, BLKDISCARD, range) &&
	    !read_out(c, n, off) && hc_buf_zero(c->vbuf, n))
		return 0;
	return write_buf(c, buf, n, off);
}

/* Copy everything and fsync @out: 0, or -1 told (a signal: not told). */
static int copy_run(struct copy *c)
{
	u64 off;
	char *buf;
	size_t n;
	int r = 0;

	if (posix_memalign((void **)&buf, COPY_ALIGN, COPY_BUF) ||
	    (c->resume &&
	     posix_memalign((void **)&c->vbuf, COPY_ALIGN, COPY_BUF))) {
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
		if (c->resume)
			r = resume_buf(c, buf, n, off);
		else if (!c->skip_zero || !hc_buf_zero(buf, n))
			r = write_buf(c, buf, n, off);
		if (r) {
			ctl_err("cannot write %s at byte %llu: %s.", c->to,
				(unsigned long long)off, strerror(-r));
			break;
		}
		progress(c, off + n, 0);
	}
	free(buf);
	free(c->vbuf);
	c->vbuf = NULL;
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

/* What an import writes into: a new volume, or an interrupted import. */
struct target {
	const char *name;		/* the name asked for */
	char tmp[DMH_NAME_LEN];		/* <name>.importing */
	u32 id;
	int resume;			/* volume @id is an interrupted import */
	int named;			/* ... which the pool already calls @name */
	char dev[128];			/* its device; "" until it has one */
};

/*
 * Find @t in @p for a source of @sectors: an interrupted import of
 * t->name (t->resume) or nothing in the way of a new one.  0, or -1 told,
 * nothing changed.
 */
static int import_target(struct pool *p, struct target *t, u64 sectors,
			 const char *from)
{
	struct hc_vol_info *vn = NULL, *vt = NULL;
	struct voldev d;
	char a[32], b[32];
	u32 j;

	for (j = 0; j < p->nr_vols; j++) {
		if (!strcmp(p->vols[j].name, t->name))
			vn = &p->vols[j];
		if (!strcmp(p->vols[j].name, t->tmp))
			vt = &p->vols[j];
	}
	if (vn && !vt && !vol_device(p, vn->id, &d) && !strcmp(d.name, t->tmp)) {
		/* stopped between the two renames: the pool's was done */
		vt = vn;
		t->named = 1;
	} else if (vn) {
		ctl_err("pool %s already has a volume named %s (id %u).",
			p->name, t->name, vn->id);
		return -1;
	}
	if (!t->named && dm_name_free(t->name, "; choose another name"))
		return -1;
	if (!vt)
		return 0;	/* vol_add() checks the temporary name */
	if (vt->size != sectors) {
		ctl_err("pool %s holds an interrupted import of %s (volume %s, %s), but %s is %s: delete it with \"hybridctl vol delete %s %s\" to import %s anew.",
			p->name, t->name, vt->name,
			hc_format_size(vt->size * 512, a, sizeof(a)), from,
			hc_format_size(sectors * 512, b, sizeof(b)), p->name,
			vt->name, t->name);
		return -1;
	}
	t->id = vt->id;
	t->resume = 1;
	if (!vol_device(p, vt->id, &d))
		snprintf(t->dev, sizeof(t->dev), "%s", d.name);
	return 0;
}

/* Map the interrupted import @t under its temporary name unless it is. */
static int resume_map(struct pool *p, struct target *t, u64 sectors)
{
	char what[192];

	if (t->dev[0])
		return 0;
	snprintf(what, sizeof(what), "cannot map volume %s of pool %s", t->tmp,
		 p->name);
	if (dm_name_free(t->tmp, "") || vol_map(p, t->id, t->tmp, sectors, what))
		return -1;
	snprintf(t->dev, sizeof(t->dev), "%s", t->tmp);
	return 0;
}

/* Copy into volume @t of @p (device t->dev); removed on failure. */
static int import_into(struct pool *p, struct target *t, struct copy *c)
{
	char path[160];
	int flags = (c->resume ? O_RDWR : O_WRONLY) | O_DIRECT | O_CLOEXEC;

	snprintf(path, sizeof(path), "/dev/mapper/%s", t->dev);
	c->to = path;
	c->out = copy_signal ? -1 : open(path, flags);
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
	if (vol_drop(p, t->id, t->dev))
		ctl_err("the half-imported volume %s is still in pool %s: delete it with \"hybridctl vol delete %s %s\", or run the same import again to resume it.",
			t->named ? t->name : t->tmp, p->name, p->name,
			t->named ? t->name : t->tmp);
	else
		ctl_err("the import did not finish: volume %s was removed from pool %s.",
			t->name, p->name);
	return -1;
}

/*
 * The copy is complete and flushed: the pool's volume, then its device,
 * become t->name.  A failure leaves (or puts back) the temporary name,
 * which the same import resumes: 0, or -1 told.
 */
static int import_rename(struct pool *p, struct target *t)
{
	int r = 0;

	if (!t->named) {
		r = dm_msg(p->name, NULL, "set_volume %u name %s", t->id,
			   t->name);
		if (r) {
			op_fail(r, r == -EEXIST ? "another volume has that name" : NULL,
				"pool %s cannot rename volume %s to %s", p->name,
				t->tmp, t->name);
			goto keep;
		}
	}
	r = dm_rename_dev(t->dev, t->name);
	if (!r)
		return 0;
	op_fail(r, NULL, "cannot rename device %s to %s", t->dev, t->name);
	undo_msg(p->name, "set_volume %u name %s", t->id, t->tmp);
keep:
	ctl_err("the copy is complete, but volume %s keeps that name: run the same import again to finish it, or delete it with \"hybridctl vol delete %s %s\".",
		t->tmp, p->name, t->tmp);
	return -1;
}

/* Check @name for an import and build its temporary name in @t. */
static int import_name(const char *name, struct target *t)
{
	size_t k = strlen(HC_IMPORT_SUFFIX);

	if (name_arg("volume", name))
		return -1;
	t->name = name;
	if (hc_import_is_tmpname(name)) {
		ctl_err("volume names ending in %s are an import's while it copies: to resume the interrupted import of %.*s, import into %.*s.",
			HC_IMPORT_SUFFIX, (int)(strlen(name) - k), name,
			(int)(strlen(name) - k), name);
		return -1;
	}
	if (hc_import_tmpname(name, t->tmp, sizeof(t->tmp))) {
		ctl_err("volume name %s is too long for an import: at most %zu characters (the copy runs under %s%s, at most %d).",
			name, HC_NAME_MAX - k, name, HC_IMPORT_SUFFIX,
			HC_NAME_MAX);
		return -1;
	}
	return 0;
}

int vol_import(int argc, char **argv)
{
	struct copy c = { .skip_zero = 1, .tty = isatty(2) };
	struct target t;
	const char *pool;
	struct pool p;
	char a[32], b[32];
	FILE *say;
	u64 bytes;
	int r;

	r = copy_args(argc, argv, &c.json);
	if (r)
		return r;
	say = c.json ? stderr : stdout;
	memset(&t, 0, sizeof(t));
	pool = argv[optind];
	if (import_name(argv[optind + 1], &t))
		return CTL_EXIT_USAGE;
	c.from = argv[optind + 2];
	copy_result(pool, t.name, "source", c.from);
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
	if (import_target(&p, &t, c.total / 512, c.from))
		goto done;
	if (t.resume) {
		if (resume_map(&p, &t, c.total / 512))
			goto done;
		c.resume = 1;
		fprintf(say, "Resuming the interrupted import of %s: %s of pool %s, %s.\n",
			t.name, t.named ? t.name : t.tmp, p.name,
			hc_format_size(c.total, a, sizeof(a)));
		fflush(say);
	} else if (vol_add(&p, t.tmp, c.total / 512, &t.id)) {
		goto done;
	} else {
		snprintf(t.dev, sizeof(t.dev), "%s", t.tmp);
	}
	if (import_into(&p, &t, &c) || import_rename(&p, &t))
		goto done;
	if (t.resume) {
		fprintf(say, "Resumed the interrupted import of %s: %s of %s already in place.\n",
			t.name, hc_format_size(c.in_place, a, sizeof(a)),
			hc_format_size(c.total, b, sizeof(b)));
		ctl_result_str("resumed_from", t.named ? t.name : t.tmp);
		ctl_result_u64("in_place_bytes", c.in_place);
	}
	fprintf(say, "Volume %s imported into pool %s from %s: %s, /dev/mapper/%s\n",
		t.name, p.name, c.from, hc_format_size(c.total, a, sizeof(a)),
		t.name);
	ctl_result_u64("id", t.id);
	ctl_result_u64("size_bytes", c.total);
	r = 0;
done:
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
