// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-hddsim: a test-only device-mapper target that makes a fast disk behave
 * like a 7200 rpm hard disk, for the dm-hybrid benchmarks.
 *
 *   hddsim <dev> <offset> [<#opt args> [<key> <value>]*]
 *
 * Keys (defaults from the Seagate Barracuda 7200.14 ST1000DM003 product
 * manual: 7200 rpm, average seek < 8.5 ms read / < 9.5 ms write, 210 MB/s
 * outer-zone sustained rate; track-to-track 1 ms is an assumption):
 *   rpm, seek_read_us, seek_write_us, t2t_us, mbps, ra_kib, cmd_us, ncq.
 *
 * With "ssd 1" the target models a flash disk instead: no head, no
 * segments; every read costs read_us and every write write_us, plus the
 * transfer at mbps, one request at a time (default 100 us, 100 us,
 * 400 MB/s).  It keeps the benchmarks' "SSD" below what the emulated CPU
 * can drive, so that its latency, not the emulator, sets the SSD/HDD
 * ratios; the serialisation is the model's, not a claim about flash.
 *
 * The mechanism is one head: every read and write is queued and a single
 * kernel thread serves them one at a time.  A request that continues a
 * recent stream (one of HDDSIM_SEGS cache segments: a read inside a
 * segment's read-ahead window, a write that appends to it) costs the
 * command overhead plus its transfer at the media rate, as a track buffer
 * and write cache make it on a real drive.  Any other request costs
 * seek(distance from the previous media access) + rotational latency
 * (from the platter's angle, a function of time) + transfer.  The seek
 * curve is t2t + (full - t2t) * sqrt(distance / device length): the
 * whole device is one full stroke, and full is chosen so that the mean
 * over uniformly random pairs equals the datasheet's average seek.
 * With ncq 1 the thread serves the queued request nearest the head first
 * (bounded by an age limit), as NCQ does.  The thread holds each bio for
 * its modelled service time and then sends it to the backing device, so
 * a request's latency is its modelled time, its queueing and the backing
 * device's own time.  Flushes, discards and write-zeroes pass straight
 * through at no modelled cost.
 *
 * Status (INFO): <reads> <writes> <media ios> <buffered ios> <busy ms>
 * <seek ms> <rotation ms>.
 *
 * Fault injection, for the dm-hybrid fault cases: the message
 * "fail_flush 1" makes the disk lose its volatile write cache until
 * "fail_flush 0": every write (and discard or write-zeroes) is
 * acknowledged without reaching the backing device, and every flush
 * fails with EIO, as when a drive drops its cache and reports it.
 */
#include <linux/device-mapper.h>
#include <linux/module.h>
#include <linux/init.h>
#include <linux/kthread.h>
#include <linux/slab.h>
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/minmax.h>

#define DM_MSG_PREFIX "hddsim"

#define HDDSIM_SEGS		4
#define HDDSIM_NCQ_WINDOW	32
#define HDDSIM_MAX_AGE_NS	(250 * NSEC_PER_MSEC)

struct hddsim_seg {
	sector_t lo;		/* start of what the segment holds */
	sector_t end;		/* one past its last sector */
	u64 used_ns;		/* for LRU replacement */
	bool write;
};

struct hddsim_io {
	struct list_head node;
	u64 arrive_ns;
	sector_t sector;	/* relative to the target's start */
};

struct hddsim_c {
	struct dm_dev *dev;
	sector_t start;
	sector_t len;

	/* model parameters, nanoseconds and sectors */
	u64 rev_ns;
	u64 t2t_ns;
	u64 full_read_ns;
	u64 full_write_ns;
	u64 cmd_ns;
	u64 ssd_read_ns;
	u64 ssd_write_ns;
	u32 mbps;
	u32 spt;		/* sectors per track */
	sector_t ra_sectors;
	bool ncq;
	bool ssd;
	/* the table's own values, for STATUSTYPE_TABLE */
	unsigned int rpm, seek_read_us, seek_write_us, t2t_us, ra_kib, cmd_us;
	unsigned int read_us, write_us;
	bool fail_flush;	/* the fail_flush message; read locklessly */

	/* queue: protected by lock; the thread is its only consumer */
	spinlock_t lock;
	struct list_head queue;
	wait_queue_head_t wait;
	struct task_struct *thread;

	/* head state and statistics: touched only by the thread */
	sector_t head;
	u64 free_ns;
	struct hddsim_seg segs[HDDSIM_SEGS];
	u64 reads, writes, media_ios, buffered_ios;
	u64 busy_ns, seek_ns, rot_ns;
};

static u64 hddsim_xfer_ns(struct hddsim_c *hc, sector_t sectors)
{
	return div_u64((u64)sectors * 512 * 1000, hc->mbps);
}

static u64 hddsim_seek_ns(struct hddsim_c *hc, sector_t from, sector_t to,
			  bool write)
{
	u64 d = from > to ? from - to : to - from;
	u64 full = write ? hc->full_write_ns : hc->full_read_ns;
	u64 frac;

	if (!d)
		return 0;
	/* same track: no arm movement, only rotation */
	if (d < hc->spt)
		return 0;
	/* sqrt(d / len) in 1/1024 units */
	frac = int_sqrt64(div64_u64(min_t(u64, d, hc->len) << 20, hc->len));
	return hc->t2t_ns + div_u64((full - hc->t2t_ns) * frac, 1024);
}

/* Time until @sector passes under the head, seen at time @t_ns. */
static u64 hddsim_rot_ns(struct hddsim_c *hc, sector_t sector, u64 t_ns)
{
	u64 angle_now, angle_to;
	u32 rem;

	div_u64_rem(t_ns, (u32)hc->rev_ns, &rem);
	angle_now = rem;
	angle_to = div_u64((u64)sector_div(sector, hc->spt) * hc->rev_ns,
			   hc->spt);
	return angle_to >= angle_now ? angle_to - angle_now :
	       hc->rev_ns - angle_now + angle_to;
}

/*
 * Modelled service time of one request starting at @now_ns; updates the
 * head and the cache segments.  Thread context only.
 */
static u64 hddsim_cost(struct hddsim_c *hc, sector_t sector,
		       sector_t sectors, bool write, u64 now_ns)
{
	sector_t end = sector + sectors;
	struct hddsim_seg *s, *lru = &hc->segs[0];
	u64 seek, rot;
	int i;

	if (hc->ssd) {
		hc->media_ios++;
		return (write ? hc->ssd_write_ns : hc->ssd_read_ns) +
		       hddsim_xfer_ns(hc, sectors);
	}
	for (i = 0; i < HDDSIM_SEGS; i++) {
		s = &hc->segs[i];
		if (s->used_ns < lru->used_ns)
			lru = s;
		if (s->end == s->lo)
			continue;
		if (write ? sector == s->end :
		    (sector >= s->lo && sector < s->end + hc->ra_sectors)) {
			/* stream hit: transfer what is new, at media rate */
			u64 t = hc->cmd_ns +
				hddsim_xfer_ns(hc, end > s->end ?
					       end - min(s->end, sector) : 0);

			s->end = max(s->end, end);
			if (s->end - s->lo > hc->ra_sectors)
				s->lo = s->end - hc->ra_sectors;
			s->used_ns = now_ns;
			s->write = write;
			hc->buffered_ios++;
			return t;
		}
	}

	seek = hddsim_seek_ns(hc, hc->head, sector, write);
	rot = hddsim_rot_ns(hc, sector, now_ns + hc->cmd_ns + seek);
	hc->seek_ns += seek;
	hc->rot_ns += rot;
	hc->media_ios++;
	hc->head = end;
	lru->lo = sector;
	lru->end = end;
	lru->used_ns = now_ns;
	lru->write = write;
	return hc->cmd_ns + seek + rot + hddsim_xfer_ns(hc, sectors);
}

static void hddsim_submit(struct hddsim_c *hc, struct bio *bio)
{
	struct hddsim_io *io = dm_per_bio_data(bio, sizeof(*io));

	bio_set_dev(bio, hc->dev->bdev);
	bio->bi_iter.bi_sector = hc->start + io->sector;
	submit_bio_noacct(bio);
}

static struct bio *hddsim_pick(struct hddsim_c *hc, u64 now_ns)
{
	struct hddsim_io *io, *best = NULL;
	u64 d, best_d = U64_MAX;
	int n = 0;

	lockdep_assert_held(&hc->lock);
	if (list_empty(&hc->queue))
		return NULL;
	best = list_first_entry(&hc->queue, struct hddsim_io, node);
	if (hc->ncq && !hc->ssd && now_ns - best->arrive_ns < HDDSIM_MAX_AGE_NS) {
		list_for_each_entry(io, &hc->queue, node) {
			sector_t s = io->sector;

			d = s > hc->head ? s - hc->head : hc->head - s;
			if (d < best_d) {
				best_d = d;
				best = io;
			}
			if (++n >= HDDSIM_NCQ_WINDOW)
				break;
		}
	}
	list_del(&best->node);
	return dm_bio_from_per_bio_data(best, sizeof(*best));
}

static int hddsim_thread(void *arg)
{
	struct hddsim_c *hc = arg;
	struct hddsim_io *io;
	struct bio *bio;

	while (!kthread_should_stop()) {
		u64 now, start, cost;
		ktime_t until;
		bool write;

		wait_event_idle(hc->wait, !list_empty(&hc->queue) ||
				kthread_should_stop());
		now = ktime_get_ns();
		spin_lock_irq(&hc->lock);
		bio = hddsim_pick(hc, now);
		spin_unlock_irq(&hc->lock);
		if (!bio)
			continue;

		write = op_is_write(bio_op(bio));
		if (write)
			hc->writes++;
		else
			hc->reads++;
		/*
		 * The head is free at free_ns.  A request that was already
		 * queued then starts at free_ns even if this thread woke up
		 * late: the thread's own overhead is not the disk's.
		 */
		io = dm_per_bio_data(bio, sizeof(*io));
		start = max(io->arrive_ns, hc->free_ns);
		cost = hddsim_cost(hc, io->sector, bio_sectors(bio), write,
				   start);
		hc->free_ns = start + cost;
		hc->busy_ns += cost;
		until = ns_to_ktime(hc->free_ns);
		while (ktime_before(ktime_get(), until)) {
			set_current_state(TASK_IDLE);
			schedule_hrtimeout_range(&until, 10 * NSEC_PER_USEC,
						 HRTIMER_MODE_ABS);
		}
		__set_current_state(TASK_RUNNING);
		hddsim_submit(hc, bio);
	}
	return 0;
}

/* fail_flush: a flush fails; a write is acknowledged and lost. */
static int hddsim_lose_cache(struct bio *bio)
{
	if (bio->bi_opf & REQ_PREFLUSH)
		return DM_MAPIO_KILL;
	bio_endio(bio);
	return DM_MAPIO_SUBMITTED;
}

static int hddsim_map(struct dm_target *ti, struct bio *bio)
{
	struct hddsim_c *hc = ti->private;
	struct hddsim_io *io;
	unsigned long flags;

	if (unlikely(READ_ONCE(hc->fail_flush)) &&
	    (op_is_write(bio_op(bio)) || bio->bi_opf & REQ_PREFLUSH))
		return hddsim_lose_cache(bio);
	if (!bio_sectors(bio) ||
	    (bio_op(bio) != REQ_OP_READ && bio_op(bio) != REQ_OP_WRITE)) {
		bio_set_dev(bio, hc->dev->bdev);
		if (bio_sectors(bio))
			bio->bi_iter.bi_sector = hc->start +
				dm_target_offset(ti, bio->bi_iter.bi_sector);
		return DM_MAPIO_REMAPPED;
	}
	io = dm_per_bio_data(bio, sizeof(*io));
	io->arrive_ns = ktime_get_ns();
	io->sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	spin_lock_irqsave(&hc->lock, flags);
	list_add_tail(&io->node, &hc->queue);
	spin_unlock_irqrestore(&hc->lock, flags);
	wake_up(&hc->wait);
	return DM_MAPIO_SUBMITTED;
}

static int hddsim_parse_opts(struct dm_target *ti, struct hddsim_c *hc,
			     struct dm_arg_set *as)
{
	static const struct dm_arg nargs = { 0, 24, "Invalid number of optional args" };
	unsigned int n, v;
	const char *key, *val;
	int r;

	if (!as->argc)
		return 0;
	r = dm_read_arg_group(&nargs, as, &n, &ti->error);
	if (r)
		return r;
	if (n % 2) {
		ti->error = "Optional args come in key value pairs";
		return -EINVAL;
	}
	for (; n; n -= 2) {
		key = dm_shift_arg(as);
		val = dm_shift_arg(as);
		if (kstrtouint(val, 10, &v)) {
			ti->error = "Invalid optional arg value";
			return -EINVAL;
		}
		if (!strcasecmp(key, "rpm")) {
			hc->rpm = v;
		} else if (!strcasecmp(key, "seek_read_us")) {
			hc->seek_read_us = v;
		} else if (!strcasecmp(key, "seek_write_us")) {
			hc->seek_write_us = v;
		} else if (!strcasecmp(key, "t2t_us")) {
			hc->t2t_us = v;
		} else if (!strcasecmp(key, "mbps")) {
			hc->mbps = v;
		} else if (!strcasecmp(key, "ra_kib")) {
			hc->ra_kib = v;
		} else if (!strcasecmp(key, "cmd_us")) {
			hc->cmd_us = v;
		} else if (!strcasecmp(key, "ncq")) {
			hc->ncq = !!v;
		} else if (!strcasecmp(key, "ssd")) {
			hc->ssd = !!v;
		} else if (!strcasecmp(key, "read_us")) {
			hc->read_us = v;
		} else if (!strcasecmp(key, "write_us")) {
			hc->write_us = v;
		} else {
			ti->error = "Unknown optional arg";
			return -EINVAL;
		}
	}
	return 0;
}

static int hddsim_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as = { .argc = argc, .argv = argv };
	struct hddsim_c *hc;
	unsigned long long start;
	char dummy;
	int r;

	if (argc < 2) {
		ti->error = "Expected <dev> <offset> [<#opt> <opt>...]";
		return -EINVAL;
	}
	hc = kzalloc(sizeof(*hc), GFP_KERNEL);
	if (!hc) {
		ti->error = "Out of memory";
		return -ENOMEM;
	}
	hc->rpm = 7200;
	hc->seek_read_us = 8500;
	hc->seek_write_us = 9500;
	hc->t2t_us = 1000;
	hc->mbps = 0;
	hc->ra_kib = 1024;
	hc->cmd_us = 20;
	hc->ncq = true;
	hc->read_us = 100;
	hc->write_us = 100;

	if (sscanf(argv[1], "%llu%c", &start, &dummy) != 1) {
		ti->error = "Invalid offset";
		r = -EINVAL;
		goto bad;
	}
	hc->start = start;
	dm_consume_args(&as, 2);
	r = hddsim_parse_opts(ti, hc, &as);
	if (r)
		goto bad;
	/* 0: not given in the table; the default depends on the model */
	if (!hc->mbps)
		hc->mbps = hc->ssd ? 400 : 210;
	if (!hc->rpm || !hc->mbps || hc->seek_read_us < hc->t2t_us ||
	    hc->seek_write_us < hc->t2t_us) {
		ti->error = "Inconsistent model parameters";
		r = -EINVAL;
		goto bad;
	}
	r = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table), &hc->dev);
	if (r) {
		ti->error = "Device lookup failed";
		goto bad;
	}

	hc->len = max_t(sector_t, ti->len, 1);
	hc->rev_ns = div_u64(60ULL * NSEC_PER_SEC, hc->rpm);
	hc->t2t_ns = (u64)hc->t2t_us * NSEC_PER_USEC;
	/* mean of sqrt(|x - y|) over uniform x, y in [0, 1) is 8/15 */
	hc->full_read_ns = hc->t2t_ns +
		div_u64(((u64)hc->seek_read_us * NSEC_PER_USEC - hc->t2t_ns) * 15, 8);
	hc->full_write_ns = hc->t2t_ns +
		div_u64(((u64)hc->seek_write_us * NSEC_PER_USEC - hc->t2t_ns) * 15, 8);
	hc->cmd_ns = (u64)hc->cmd_us * NSEC_PER_USEC;
	hc->ssd_read_ns = (u64)hc->read_us * NSEC_PER_USEC;
	hc->ssd_write_ns = (u64)hc->write_us * NSEC_PER_USEC;
	hc->spt = max_t(u32, div_u64((u64)hc->mbps * 1000000 * 60, hc->rpm * 512), 1);
	hc->ra_sectors = (sector_t)hc->ra_kib * 2;

	spin_lock_init(&hc->lock);
	INIT_LIST_HEAD(&hc->queue);
	init_waitqueue_head(&hc->wait);
	hc->thread = kthread_run(hddsim_thread, hc, "hddsim");
	if (IS_ERR(hc->thread)) {
		r = PTR_ERR(hc->thread);
		ti->error = "Cannot start the head thread";
		dm_put_device(ti, hc->dev);
		goto bad;
	}

	ti->private = hc;
	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->per_io_data_size = sizeof(struct hddsim_io);
	return 0;
bad:
	kfree(hc);
	return r;
}

/* dm guarantees no bio is in flight here, so the queue is empty. */
static void hddsim_dtr(struct dm_target *ti)
{
	struct hddsim_c *hc = ti->private;

	kthread_stop(hc->thread);
	dm_put_device(ti, hc->dev);
	kfree(hc);
}

static void hddsim_status(struct dm_target *ti, status_type_t type,
			  unsigned int status_flags, char *result,
			  unsigned int maxlen)
{
	struct hddsim_c *hc = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		/* racy reads of thread-owned counters: fine for a report */
		DMEMIT("%llu %llu %llu %llu %llu %llu %llu",
		       READ_ONCE(hc->reads), READ_ONCE(hc->writes),
		       READ_ONCE(hc->media_ios), READ_ONCE(hc->buffered_ios),
		       div_u64(READ_ONCE(hc->busy_ns), NSEC_PER_MSEC),
		       div_u64(READ_ONCE(hc->seek_ns), NSEC_PER_MSEC),
		       div_u64(READ_ONCE(hc->rot_ns), NSEC_PER_MSEC));
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %llu 22 rpm %u seek_read_us %u seek_write_us %u",
		       hc->dev->name, (unsigned long long)hc->start, hc->rpm,
		       hc->seek_read_us, hc->seek_write_us);
		DMEMIT(" t2t_us %u mbps %u ra_kib %u cmd_us %u ncq %u",
		       hc->t2t_us, hc->mbps, hc->ra_kib, hc->cmd_us, hc->ncq);
		DMEMIT(" ssd %u read_us %u write_us %u", hc->ssd, hc->read_us,
		       hc->write_us);
		break;
	case STATUSTYPE_IMA:
		*result = '\0';
		break;
	}
}

/* fail_flush 0|1 */
static int hddsim_message(struct dm_target *ti, unsigned int argc,
			  char **argv, char *result, unsigned int maxlen)
{
	struct hddsim_c *hc = ti->private;
	bool on;

	if (argc != 2 || strcasecmp(argv[0], "fail_flush") ||
	    kstrtobool(argv[1], &on)) {
		DMERR("expected: fail_flush 0|1");
		return -EINVAL;
	}
	WRITE_ONCE(hc->fail_flush, on);
	return 0;
}

static int hddsim_iterate_devices(struct dm_target *ti,
				  iterate_devices_callout_fn fn, void *data)
{
	struct hddsim_c *hc = ti->private;

	return fn(ti, hc->dev, hc->start, ti->len, data);
}

/*
 * Transfer size limit: what a SATA disk gets on this kernel (max_sectors_kb
 * 1280, BLK_DEF_MAX_SECTORS_CAP), not the 127 KiB default that the RAM disk
 * below inherits.  The model charges cmd_us per bio, and dm caps each piece
 * of a target that sets max_io_len (dm-hybrid, dm-cache, dm-thin) at the
 * queue's max_sectors, while dm-linear passes bios whole: with the RAM
 * disk's limit a 512 KiB read paid the command overhead five times through
 * those targets and once through dm-linear.  The RAM disk is bio-based and
 * takes bios of any size.
 */
static void hddsim_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	limits->max_hw_sectors = BLK_DEF_MAX_SECTORS_CAP;
}

static struct target_type hddsim_target = {
	.name = "hddsim",
	.version = {1, 3, 0},
	.module = THIS_MODULE,
	.ctr = hddsim_ctr,
	.dtr = hddsim_dtr,
	.map = hddsim_map,
	.status = hddsim_status,
	.message = hddsim_message,
	.iterate_devices = hddsim_iterate_devices,
	.io_hints = hddsim_io_hints,
};

static int __init hddsim_init(void)
{
	return dm_register_target(&hddsim_target);
}

static void __exit hddsim_exit(void)
{
	dm_unregister_target(&hddsim_target);
}

module_init(hddsim_init);
module_exit(hddsim_exit);

MODULE_DESCRIPTION(DM_NAME " seek-aware hard disk model (test only)");
MODULE_LICENSE("GPL");
