# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# Guest-side helpers for the benchmark cases (# tier: bench).  Benchmarks
# print tables (lines starting with DMH-BENCH, which `make bench` collects);
# they assert nothing but that their runs worked.

# make_hdd NAME DEV [SECTORS [OFFSET]]: the seek-aware hard disk model
# (tests/hddsim/dm-hddsim.c, Barracuda 7200.14 defaults) over DEV.
make_hdd() {
	need_mod dm-hddsim || return 1
	_off=${4:-0}
	_len=${3:-$(($(sectors "$2") - _off))}
	dmsetup create "$1" --table "0 $_len hddsim $2 $_off${HDDSIM_OPTS:+ $HDDSIM_OPTS}" || return 1
	dmsetup mknodes "$1" >/dev/null 2>&1 || true
	echo "/dev/mapper/$1"
}

# The benchmarks' two emulated disks, both dm-hddsim (bench/README.md, "The
# emulated disks", gives the sources and the fit).  HDD: the Barracuda
# 7200.14 defaults with a 1.35 ms command overhead; SSD: the flash model, one
# request at a time.  A case's /lib/dmh/bench/config may override them.
BENCH_HDD_OPTS=${BENCH_HDD_OPTS:-"2 cmd_us 1350"}
BENCH_SSD_OPTS=${BENCH_SSD_OPTS:-"8 ssd 1 read_us 290 write_us 300 mbps 320"}

# make_bench_hdd NAME DEV / make_bench_ssd NAME DEV: the whole of DEV.
# Both go over bench_ram's disks.
make_bench_hdd() {
	need_mod dm-hddsim || return 1
	dmsetup create "$1" --table "0 $(sectors "$2") hddsim $2 0 $BENCH_HDD_OPTS" || return 1
	dmsetup mknodes "$1" >/dev/null 2>&1 || true
	echo "/dev/mapper/$1"
}
make_bench_ssd() {
	need_mod dm-hddsim || return 1
	dmsetup create "$1" --table "0 $(sectors "$2") hddsim $2 0 $BENCH_SSD_OPTS" || return 1
	dmsetup mknodes "$1" >/dev/null 2>&1 || true
	echo "/dev/mapper/$1"
}

# bench_ram N MiB: N guest RAM disks of MiB each (/dev/ram0 ...) to back
# the models.  A virtio disk's completions go through the host's page
# cache and threads, whose delays leak into guest time (they made SSD-only
# passes vary 2x); RAM costs only guest instructions, so under -icount the
# whole run is a function of the guest's instructions and the models'
# timers.  The VM needs the memory (bench/run.sh sets VM_MEM).
bench_ram() {
	modprobe brd rd_nr="$1" rd_size=$(($2 * 1024)) max_part=0 || return 1
	[ -b /dev/ram$(($1 - 1)) ]
}

# bench_models MiB: three RAM disks of MiB each; the SSD model on the first
# ($SSDDEV), the HDD model on the second ($HDDDEV), the third for metadata
# ($METADEV); prints the two model tables as bench rows.  The set-up of
# bench-setups and bench-oltp-study.
bench_models() {
	bench_ram 3 "$1" || fail "brd"
	SSDDEV=$(make_bench_ssd ssdsim /dev/ram0) || fail "ssd model"
	HDDDEV=$(make_bench_hdd hddsim /dev/ram1) || fail "hddsim"
	METADEV=/dev/ram2
	bench "HDD model: $(dmsetup table hddsim)"
	bench "SSD model: $(dmsetup table ssdsim)"
}

# wipe DEV [MiB]: zero the start of DEV (default 4 MiB).
wipe() { dd if=/dev/zero of="$1" bs=1M count="${2:-4}" oflag=direct 2>/dev/null; }

# fio_terse ARGS...: run one fio job; prints
#   "<read iops> <read KiB/s> <read p50 us> <read p99 us>
#    <write iops> <write KiB/s> <write p50 us> <write p99 us> <runtime ms>"
# from fio's terse v3 output (p50 and p99 are completion latencies: the
# 7th and 13th entries of fio's default percentile list).
fio_terse() {
	fio --name=b --direct=1 --ioengine=libaio --output-format=terse \
		--terse-version=3 "$@" 2>/dev/null | awk -F';' '
		function pct(f) { sub(/.*=/, "", f); return f + 0 }
		$1 == 3 { rt = ($9 > $50) ? $9 : $50
			printf "%d %d %d %d %d %d %d %d %d\n", $8, $7, pct($24), pct($30),
				$49, $48, pct($65), pct($71), rt; exit }'
}

# fio_terse_jobs ARGS...: fio_terse's fields, one line per job, for a
# command line of several jobs (options before the first --name apply to
# all; --stonewall runs them one after the other).  Under TCG a fio start
# costs more wall time than a short job, so related jobs share one fio.
fio_terse_jobs() {
	fio --direct=1 --ioengine=libaio --output-format=terse --terse-version=3 \
		"$@" 2>/dev/null | awk -F';' '
		function pct(f) { sub(/.*=/, "", f); return f + 0 }
		$1 == 3 { rt = ($9 > $50) ? $9 : $50
			printf "%d %d %d %d %d %d %d %d %d\n", $8, $7, pct($24), pct($30),
				$49, $48, pct($65), pct($71), rt }'
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# ratio A B: A/B with two decimals (integers in, busybox awk).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# jain X...: Jain's fairness index of the numbers given.
jain() {
	echo "$@" | awk '{ s = 0; q = 0; for (i = 1; i <= NF; i++) { s += $i; q += $i * $i }
		if (q > 0) printf "%.3f", s * s / (NF * q); else print "-" }'
}

bench() { echo "DMH-BENCH $*"; }

# BENCH_DATA: the run's config and fio iologs.  bench/run.sh passes them in
# the boot's own cpio (DMH_CASE_DATA, /lib/dmh/data), which another run
# cannot replace; /lib/dmh/bench, in the shared base initramfs
# (DMH_BENCH_DIR), is what another tests/run rebuilt last.
# shellcheck disable=SC2034 # read by the cases
if [ -f /lib/dmh/data/config ]; then
	BENCH_DATA=/lib/dmh/data
else
	BENCH_DATA=/lib/dmh/bench
fi
