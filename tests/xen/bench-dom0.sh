#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench-xen, Dom0 side (tests/xen/bench-xen.sh boots it through
# tests/xen/run under -icount): the paper's experiment in real PV guests.
# A benchmark, not a test: it prints DMH-BENCH table rows and fails only
# when a run broke.
#
# Emulated disks in Dom0, as tests/cases/bench/bench-setups.sh makes them: an SSD
# (dm-hddsim flash mode) and an HDD (dm-hddsim, 7200 rpm model) over Dom0
# RAM disks, with bench.sh's parameters.  Up to four PV guests are created
# once (as N grows), each with xvda = phy:/dev/mapper/vmN and a control disk xvdb =
# phy:/dev/mapper/ctlN (tests/xen/bench-guest-init).  The set-ups are
# swapped in under the guests by reloading vmN's table (a dm-linear onto):
#   hdd     a slice of the HDD
#   ssd     a slice of the SSD
#   hybrid  a dm-hybrid volume hvN of a pool with SSD = 50 % of the N
#           volumes, HDD = 100 %, 1 MiB chunks, pool defaults (migration
#           on), as bench-setups' "hybrid"
#   hybrid-256k  the same pool with 256 KiB chunks (the chunk size the
#           rst recommends for small random I/O), as bench-setups'
# For each N (guests at once), set-up and workload: the set-up is made,
# every volume written once end to end (1 MiB sequential writes) from
# Dom0, then PASSES passes; in each, Dom0 writes the command into the
# control disks of guests 1..N (guest N+1 is created when N grows, so no
# guest idles through a pass) and waits for their acknowledgements.  Pass 1 is cold (it warms dm-hybrid), pass 2
# is the measured one, pass 3 repeats it (the spread).  Execution time of
# a pass = the slowest guest's fio runtime (guest time, which -icount
# makes a function of instructions executed and the disk models' timers).
# shellcheck disable=SC2046 # word splitting of counters and results is wanted
. /lib/dmh/guest.sh
. /lib/dmh/hybrid.sh
. /lib/dmh/bench.sh
. /lib/dmh/xen/lib-dom0.sh

B=/lib/dmh/bench
VMS="1 2 3 4"
SETUPS="hdd ssd hybrid hybrid-256k"
WORKLOADS="websearch oltp"
PASSES=3
VOL_MB=64
OLTP_IOS=300
QD=8
PASS_TIMEOUT=300	# seconds (Dom0 time) for one pass
[ -f $B/config ] && . $B/config
VOL=$((VOL_MB * 2048))
HALF=$((VOL / 2))
NMAX=1
for n in $VMS; do [ "$n" -gt "$NMAX" ] && NMAX=$n; done
ALL=""
k=1
while [ $k -le $NMAX ]; do ALL="$ALL $k"; k=$((k + 1)); done

stamp dom0-init
xen_up
load_dm_hybrid
# ram0: SSD model, ram1: HDD model, ram2: pool metadata (16 MiB at 0) and
# the guests' control disks (1 MiB each from 32 MiB).
bench_ram 3 $((NMAX * VOL_MB + 40)) || fail "brd"
SSDDEV=$(make_bench_ssd ssdsim /dev/ram0) || fail "ssd model"
HDDDEV=$(make_bench_hdd hddsim /dev/ram1) || fail "hdd model"
bench "config: vms='$VMS' setups='$SETUPS' workloads='$WORKLOADS' passes=$PASSES vol=${VOL_MB}MiB qd=$QD oltp_ios=$OLTP_IOS"
bench "HDD model: $(dmsetup table hddsim)"
bench "SSD model: $(dmsetup table ssdsim)"

park() { echo "0 $VOL zero"; }
for k in $ALL; do
	make_linear ctl$k /dev/ram2 2048 $(((32 + k) * 2048)) >/dev/null || fail "ctl$k"
	dd if=/dev/zero of=/dev/mapper/ctl$k bs=512 count=16 oflag=direct 2>/dev/null
	dmsetup create vm$k --table "$(park)" || fail "vm$k"
	dmsetup mknodes vm$k
done

# swap K TABLE: reload vmK under its (paused or idle) guest.
swap() { dmsetup suspend vm$1 && dmsetup load vm$1 --table "$2" && dmsetup resume vm$1; }

# --- set-ups: setup_<name> N points vm1..vmN at it; teardown_<name> N ----
setup_hdd() {
	for k in $(seq 1 "$1"); do swap $k "0 $VOL linear $HDDDEV $(((k - 1) * VOL))" || return 1; done
}
setup_ssd() {
	for k in $(seq 1 "$1"); do swap $k "0 $VOL linear $SSDDEV $(((k - 1) * VOL))" || return 1; done
}
park_all() { for k in $(seq 1 "$1"); do swap $k "$(park)" || return 1; done; }
teardown_hdd() { park_all "$1"; }
teardown_ssd() { park_all "$1"; }
# setup_hybrid N [CHUNK]: CHUNK in sectors, 1 MiB by default.
setup_hybrid() {
	make_linear hmeta /dev/ram2 32768 0 >/dev/null || return 1
	dd if=/dev/zero of=/dev/mapper/hmeta bs=1M count=16 oflag=direct 2>/dev/null
	make_linear hssd "$SSDDEV" $(($1 * HALF)) 0 >/dev/null || return 1
	make_linear hhdd "$HDDDEV" $(($1 * VOL)) 0 >/dev/null || return 1
	META=/dev/mapper/hmeta SSD=/dev/mapper/hssd HDD=/dev/mapper/hhdd make_pool pool "${2:-2048}" >/dev/null || return 1
	for k in $(seq 1 "$1"); do
		make_volume pool $k hv$k $VOL >/dev/null || return 1
		swap $k "0 $VOL linear /dev/mapper/hv$k 0" || return 1
	done
}
teardown_hybrid() {
	park_all "$1" || return 1
	for k in $(seq 1 "$1"); do dmsetup remove hv$k || return 1; done
	dmsetup remove pool && dmsetup remove hssd hhdd hmeta
}

# counters SETUP N: "<ssd-served ios> <all ios> <moved KiB>" (hybrid only).
counters() {
	case $1 in
	hybrid*)
		s=0 h=0
		for k in $(seq 1 "$2"); do
			s=$((s + $(vol_ssd_ios hv$k))) h=$((h + $(vol_hdd_ios hv$k)))
		done
		echo "$s $((s + h)) $(($(pool_moved_sectors pool) / 2))" ;;
	*) echo "0 0 0" ;;
	esac
}

prefill() {	# every volume written once end to end, all at once
	for k in $(seq 1 "$1"); do
		fio_terse --filename=/dev/mapper/vm$k --rw=write --bs=1M --iodepth=4 \
			--size=${VOL_MB}M >/dev/null &
	done
	wait
}

# --- guests -----------------------------------------------------------------
# The bench init and the WebSearch iolog go on top of the lab's guest
# initramfs (later cpio entries replace earlier ones).
cat $B/guest-overlay.cpio >> $X/guest.cpio || fail "guest overlay"
start_guest() {
	cat > /tmp/vm$1.cfg <<-CFG
	name = "vm$1"
	type = "pv"
	kernel = "$X/vmlinuz"
	ramdisk = "$X/guest.cpio"
	extra = "console=hvc0 panic=-1 dmh_vm=$1 dmh_oltp_ios=$OLTP_IOS dmh_vol_mb=$VOL_MB dmh_qd=$QD"
	memory = 512
	vcpus = 1
	disk = ['phy:/dev/mapper/vm$1,xvda,w', 'phy:/dev/mapper/ctl$1,xvdb,w']
	on_poweroff = "destroy"
	on_crash = "destroy"
	CFG
	xl create /tmp/vm$1.cfg || { tail -n 30 /var/log/xen/*.log; return 1; }
	stamp guest-created-vm$1
}
con() { tr -d '\r' < /var/log/xen/console/guest-vm$1.log 2>/dev/null; }
ackd() {	# ackd K: the guest's acknowledgement (ctlK's sector 8)
	blockdev --flushbufs /dev/mapper/ctl$1
	dd if=/dev/mapper/ctl$1 bs=512 skip=8 count=1 2>/dev/null | head -n 1 | sed 's/ *$//'
}
send() {	# send K WORDS...: the command in ctlK's first sector
	_k=$1
	shift
	printf '%-511s\n' "$*" > /tmp/cmd
	# (buffered: busybox dd's buffer is not aligned for O_DIRECT; the
	# command's 4 KiB page and the ack's are apart)
	dd if=/tmp/cmd of=/dev/mapper/ctl$_k bs=512 count=1 conv=notrunc,fsync 2>/dev/null
}

# guests_upto N: guests 1..N exist and wait for commands (created as N
# grows, so no guest idles through a pass it takes no part in).
guests_upto() {
	for k in $(seq 1 "$1"); do
		xl list vm$k >/dev/null 2>&1 || start_guest $k || return 1
	done
	i=0
	until [ $i -ge 1200 ]; do
		r=0
		for k in $(seq 1 "$1"); do con $k | grep -q '^DMH-BX-READY' && r=$((r + 1)); done
		[ $r -eq "$1" ] && break
		for k in $(seq 1 "$1"); do
			xl list vm$k >/dev/null 2>&1 || { con $k | tail -n 40; echo "vm$k gone before ready"; return 1; }
		done
		sleep 1
		i=$((i + 1))
	done
	[ $i -lt 1200 ] || return 1
	for k in $(seq 1 "$1"); do con $k | grep '^DMH-BX-READY'; done
	stamp "guests-ready-$1"
	xl list
}

# --- passes -----------------------------------------------------------------
SEQ=0
# one_pass WORKLOAD SETUP N PASSNO: guests 1..N at once; one table row.
one_pass() {
	wl=$1 su=$2 n=$3 p=$4
	SEQ=$((SEQ + 1))
	set -- $(counters "$su" "$n")
	a0=$1 b0=$2 m0=$3
	t0=$(uptime_cs)
	for k in $(seq 1 "$n"); do send $k $SEQ "$wl" $((k * 7 + p)); done
	# The guests acknowledge in their control disk's sector 8:
	# ts = all started, t1 = all done (Dom0 time, 0.1 s polls).
	i=0 ts=""
	while :; do
		s=0 d=0
		for k in $(seq 1 "$n"); do
			case $(ackd $k) in
			"$SEQ start") s=$((s + 1)) ;;
			"$SEQ done") s=$((s + 1)) d=$((d + 1)) ;;
			esac
		done
		[ -z "$ts" ] && [ $s -eq "$n" ] && ts=$(uptime_cs)
		[ $d -eq "$n" ] && break
		i=$((i + 1))
		if [ $((i % 100)) -eq 0 ]; then
			echo "DMH-BX-WAIT seq=$SEQ polls=$i acks:$(for k in $(seq 1 "$n"); do printf ' [%s]' "$(ackd $k)"; done)"
			for k in $(seq 1 "$n"); do con $k | tail -n 5 | sed "s/^/vm$k| /"; done
		fi
		[ $i -le $((PASS_TIMEOUT * 10)) ] || { echo "pass timed out: $wl $su $n $p"; return 1; }
		sleep 0.1
	done
	t1=$(uptime_cs)
	echo "DMH-BX-SYNC seq=$SEQ all started after $(((ts - t0) * 10)) ms, all done after $(((t1 - t0) * 10)) ms (Dom0)"
	# the result lines reach the console log a moment later
	i=0
	until [ $i -ge 100 ] || [ "$(for k in $(seq 1 "$n"); do con $k | grep -c "^DMH-BX-DONE seq=$SEQ "; done | grep -c '^1$')" -eq "$n" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	set -- $(counters "$su" "$n")
	hit=$(awk -v a=$(($1 - a0)) -v b=$(($2 - b0)) 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }')
	mig=-
	case $su in hybrid*) mig=$((($3 - m0) / 1024))MiB ;; esac
	ms=0 tms="" tp="" lat="" sum=0
	for k in $(seq 1 "$n"); do
		line=$(con $k | grep "^DMH-BX-DONE seq=$SEQ " | tail -n 1)
		echo "vm$k| $line"
		case $line in *" rc=0 "*) ;; *) echo "guest vm$k failed: $line"; return 1 ;; esac
		set -- $(echo "${line##*terse=}" | tr ',' ' ')
		[ "${9:-0}" -gt 0 ] || { echo "no fio runtime from vm$k"; return 1; }
		[ "$9" -gt $ms ] && ms=$9
		tms="$tms $9" tp="$tp $(($1 + $5))" sum=$((sum + $1 + $5))
		lat="$lat $3/$4r,$7/$8w"
	done
	bench "| $wl | $n | $su | $p | $ms | $(((t1 - t0) * 10)) | $(echo "$tms" | sed 's/^ //; s/ /, /g') | $sum |$lat | $hit | $mig | $(jain $tp) |"
}

bench "| workload | guests | set-up | pass | exec time ms (slowest guest, fio) | Dom0 ms (commands sent to all done) | per-guest fio ms | IOPS (sum) | per-guest p50/p99 us | SSD hit | migrated | Jain (IOPS) |"
bench "|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in $VMS; do
	guests_upto "$n" || fail "guests 1..$n"
	for su in $SETUPS; do
		for wl in $WORKLOADS; do
			case $su in
			hybrid-256k) setup_hybrid "$n" 512 ;;
			*) setup_"$su" "$n" ;;
			esac || fail "set-up $su with $n guests"
			stamp "setup-$su-n$n-$wl"
			prefill "$n"
			stamp "prefilled-$su-n$n-$wl"
			p=1
			while [ $p -le "$PASSES" ]; do
				one_pass "$wl" "$su" "$n" $p || fail "pass $wl $su $n $p"
				p=$((p + 1))
			done
			case $su in hybrid*) dmsetup status pool ;; esac
			teardown_"${su%-256k}" "$n" || fail "teardown $su"
		done
	done
	stamp "done-n$n"
done

# --- the end: guests power off, no kernel report in any guest ------------
SEQ=$((SEQ + 1))
for k in $ALL; do send $k $SEQ exit; done
i=0
for k in $ALL; do
	while xl list vm$k >/dev/null 2>&1 && [ $i -lt 300 ]; do sleep 1; i=$((i + 1)); done
done
for k in $ALL; do
	xl list vm$k >/dev/null 2>&1 && { xl destroy vm$k; not_ok "vm$k still running"; }
	if con $k | grep -qE 'WARNING:|BUG:|Oops|Call Trace:|Kernel panic'; then
		con $k | grep -E -A 20 'WARNING:|BUG:|Oops|Call Trace:|Kernel panic' | head -n 60 | sed "s/^/vm$k| /"
		not_ok "vm$k: kernel report"
	fi
done
for k in $ALL; do dmsetup remove vm$k ctl$k || not_ok "remove vm$k"; done
dmsetup remove hddsim ssdsim || not_ok "remove models"
stamp finished
pass
