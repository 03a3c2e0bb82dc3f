// SPDX-License-Identifier: GPL-2.0-only
/*
 * Progress of a pool's activation ("pool activate").  The kernel's
 * constructor reads and checks the whole metadata layout before the
 * create ioctl returns: about 8.9 s for a 4 TiB + 64 TiB pool's 1.1 GiB
 * of metadata on the benchmark VM, minutes on a slow disk.  The ioctl
 * says nothing meanwhile, so a child process samples the metadata
 * device's sectors-read counter (/sys/dev/block/M:m/stat) and shows it
 * against what activation reads (hc_activation_bytes() of the committed
 * superblock).  Anything else reading that device at the same time
 * counts too; the line never passes 99 % before the ioctl returned.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hybridctl.h"

/* The committed superblock of @path (the valid slot of higher txid). */
static int read_super(const char *path, struct dmh_disk_super *out)
{
	struct dmh_disk_super *s;
	u8 *b = malloc(DMH_BLOCK_SIZE);
	int fd, i, found = 0;

	fd = b ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	for (i = 0; fd >= 0 && i < 2; i++) {
		if (md_read_block(fd, i, b))
			break;
		s = (struct dmh_disk_super *)b;
		if (!md_super_block_ok(b))
			continue;
		if (!found || le64toh(s->txid) > le64toh(out->txid))
			memcpy(out, s, sizeof(*out));
		found = 1;
	}
	if (fd >= 0)
		close(fd);
	free(b);
	return found ? 0 : -1;
}

/* Sectors read so far from block device @dev: 0, or -1. */
static int sectors_read(dev_t dev, u64 *sectors)
{
	char path[64], line[256];
	FILE *f;
	int r = -1;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/stat",
		 major(dev), minor(dev));
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f))
		r = hc_stat_sectors_read(line, sectors);
	fclose(f);
	return r;
}

/* "pool P: activating: 412M of 1.1G  35%  ...[: @end]", or a line of its own. */
static void act_line(const struct act_progress *a, u64 done, const char *end)
{
	char line[160];

	hc_progress_line(line, sizeof(line), done, a->total,
			 secs_since(&a->start));
	if (a->tty)
		fprintf(stderr, "\rpool %s: activating: %s%s%s\033[K%s",
			a->pool, line, end ? ": " : "", end ? end : "",
			end ? "\n" : "");
	else
		fprintf(stderr, "pool %s: activating: %s%s%s\n", a->pool, line,
			end ? ": " : "", end ? end : "");
	fflush(stderr);
}

/*
 * The metadata is read (or nothing read it for @idle s): the rest is the
 * pool's start and its device's (udev at boot), which no counter shows.
 */
static void act_idle_line(const struct act_progress *a, u64 done, double idle)
{
	char d[32], t[32];

	fprintf(stderr, "%spool %s: activating: %s of %s read; starting the pool, %.0f s%s",
		a->tty ? "\r" : "", a->pool, hc_format_size(done, d, sizeof(d)),
		hc_format_size(a->total, t, sizeof(t)), idle,
		a->tty ? "\033[K" : "\n");
	fflush(stderr);
}

/* The child: a line every @period until act_end() ends it (SIGTERM). */
static void act_child(const struct act_progress *a, useconds_t period)
{
	u64 now, done, last = 0;
	double idle = 0;

	signal(SIGTERM, SIG_DFL);
	for (;;) {
		usleep(period);
		if (sectors_read(a->dev, &now))
			continue;
		done = (now - a->base) * 512;
		/* 100 % is for act_end(): the ioctl has not returned */
		if (done >= a->total)
			done = a->total - a->total / 100;
		idle = done == last ? idle + period / 1e6 : 0;
		last = done;
		if (idle < 2)
			act_line(a, done, NULL);
		else
			act_idle_line(a, done, idle);
	}
}

void act_begin(struct act_progress *a, const char *pool, const char *meta,
	       int always)
{
	struct dmh_disk_super s;
	struct stat st;
	pid_t pid;

	memset(a, 0, sizeof(*a));
	a->pool = pool;
	a->tty = isatty(STDERR_FILENO);
	if ((!a->tty && !always) || stat(meta, &st) || !S_ISBLK(st.st_mode) ||
	    read_super(meta, &s))
		return;
	a->dev = st.st_rdev;
	a->total = hc_activation_bytes(&s);
	if (!a->total || sectors_read(a->dev, &a->base))
		return;
	clock_gettime(CLOCK_MONOTONIC, &a->start);
	fflush(NULL);
	pid = fork();
	if (!pid) {
		act_child(a, a->tty ? 250000 : 1000000);
		_exit(0);
	}
	a->pid = pid > 0 ? pid : 0;
}

void act_end(struct act_progress *a, int r)
{
	u64 now, done;

	if (!a->pid)
		return;
	kill(a->pid, SIGTERM);
	waitpid(a->pid, NULL, 0);
	a->pid = 0;
	if (!r || sectors_read(a->dev, &now))
		now = a->base + a->total / 512;
	done = (now - a->base) * 512;
	act_line(a, done < a->total ? done : a->total, r ? "failed" : "done");
}
