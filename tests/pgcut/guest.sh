#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of the database power-cut case (tests/pgcut/run), run by
# dmh-pgcut.service once systemd has the system up.  The host passes, on
# the kernel command line: dmh_boot=N, dmh_last=0|1 (the last boot shuts
# down clean instead of being cut), dmh_pgacked=A (the highest commit the
# previous boot acknowledged on the console) and dmh_pgbreak=MODE (a
# deliberately broken run, see tests/pgcut/run).
#
# Boot 1 makes the pool (small SSD, block tier with write staging,
# migration knobs that keep chunks moving), a volume with ext4 and a
# PostgreSQL 15 cluster on it, and a second volume for churn.  Every
# later boot finds the pool activated by hybridctl.service from
# /etc/hybridtab, mounts the file system (journal recovery), starts
# PostgreSQL (WAL recovery) and prints what the table holds against A.
# Then, but on the last boot, a client commits numbered transactions, one
# at a time (INSERT of n, autocommit, synchronous_commit on) and prints
# "DMH-PG-ACK n" after each commit returned, while a churn job writes and
# reads the second volume so that chunks get promoted and demoted and the
# block tier stages writes all the time; the host kills QEMU at a random
# moment.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
arg() { sed -n "s/.*$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
n=$(arg dmh_boot) last=$(arg dmh_last) acked=$(arg dmh_pgacked) brk=$(arg dmh_pgbreak)
D=/dev/disk/by-id
MNT=/srv/pg
PGDATA=$MNT/data
PGBIN=/usr/lib/postgresql/15/bin
VOL=/dev/mapper/pgdata
CHURN=/dev/mapper/churn

say() { echo "dmh-pg: $*"; }
fail() {
	say "FAILED: $*"
	echo "DMH-PG-RESULT: FAIL"
	sync
	systemctl --no-block poweroff
	exit 1
}
as_pg() { runuser -u postgres -- "$@"; }
sql() { as_pg psql -X -qAt -v ON_ERROR_STOP=1 -d dmh -c "$1"; }
wait_for() {	# wait_for SECONDS CMD...
	local t=$1
	shift
	until "$@"; do
		[ "$t" -gt 0 ] || return 1
		t=$((t - 1))
		sleep 1
	done
}

# make_pool: the pool, the volume, ext4 and the cluster (boot 1 only).
# 48 MiB of SSD against 512 MiB of HDD: the 400 + 96 MiB of volumes cannot
# sit on the SSD, and with promote_threshold 1, no hysteresis and a 2-tick heat
# half-life any written chunk is a candidate to move.
make_pool() {
	hybridctl pool create pool0 --metadata $D/virtio-meta --ssd $D/virtio-ssd \
		--hdd $D/virtio-hdd --chunk-size 256K --block-tier 4M --write-staging &&
		hybridctl pool set pool0 migration on &&
		hybridctl pool set pool0 tick_ms 100 &&
		hybridctl pool set pool0 migration_rate 0 &&
		hybridctl pool set pool0 promote_threshold 1 &&
		hybridctl pool set pool0 hysteresis 0 &&
		hybridctl pool set pool0 heat_half_life 2 &&
		hybridctl vol create pool0 pgdata 400M &&
		hybridctl vol create pool0 churn 96M &&
		dd if=/dev/zero of=$CHURN bs=1M count=96 oflag=direct status=none &&
		mkfs.ext4 -q -L pgdata $VOL &&
		mkdir -p $MNT && mount $VOL $MNT &&
		chown postgres:postgres $MNT && mkdir -p $PGDATA && chown postgres:postgres $PGDATA &&
		as_pg $PGBIN/initdb -D $PGDATA -E UTF8 --locale=C.UTF-8 --auth=trust --no-instructions >/dev/null &&
		pg_conf
}

# pg_conf: durability as shipped (fsync, synchronous_commit and
# full_page_writes on), checkpoints every 30 s so that cuts also land in
# checkpoints; the broken mode turns fsync off.
pg_conf() {
	cat >> $PGDATA/postgresql.conf <<-EOF
		listen_addresses = ''
		unix_socket_directories = '/run/postgresql'
		shared_buffers = 16MB
		fsync = on
		synchronous_commit = on
		full_page_writes = on
		checkpoint_timeout = 30s
		max_wal_size = 64MB
		logging_collector = off
	EOF
	if [ "$brk" = fsync-off ]; then
		echo "fsync = off" >> $PGDATA/postgresql.conf
	fi
}

pg_start() {
	mkdir -p /run/postgresql && chown postgres:postgres /run/postgresql &&
		as_pg $PGBIN/pg_ctl -D $PGDATA -l $MNT/server.log -w -t 600 start >/dev/null
}

# report: what the table holds against the acknowledged A, one line the
# host judges: lost = acknowledged commits missing, gaps = numbers missing
# below the highest present, extra = rows above A (commits in flight, or
# acknowledged lines the console lost with the power).
report() {
	local a=${acked:-0} r
	r=$(sql "SELECT count(*), coalesce(max(n), 0), count(*) FILTER (WHERE n <= $a),
		count(*) FILTER (WHERE n > $a) FROM t") || return 1
	IFS='|' read -r cnt max below extra <<< "$r"
	echo "DMH-PG-TABLE boot=$n acked=$a rows=$cnt max=$max lost=$((a - below)) gaps=$((max - cnt)) extra=$extra"
}

# churn: a second volume of the pool, as another VM's disk would be, filled
# by one stream at boot 1 (streams go to the HDD): 4 KiB O_DIRECT writes
# with no flush (the ones write staging keeps in the block tier) and reads
# at random places, so that slots fill and chunks
# keep moving; a line of the pool's migration and staging figures every
# 50 rounds shows it on the console before each cut.
churn() {
	local i=0
	while :; do
		dd if=/dev/urandom of=$CHURN bs=4k count=1 seek=$((RANDOM % 24576)) \
			oflag=direct conv=notrunc status=none
		dd if=$CHURN of=/dev/null bs=4k count=1 skip=$((RANDOM % 4096)) \
			iflag=direct status=none
		i=$((i + 1))
		[ $((i % 50)) = 0 ] && hybridctl pool status pool0 |
			sed -n 's/^ *\(migration\|block tier\|staging\): */dmh-pg: \1: /p'
	done
}

# client FROM: commits FROM, FROM+1, ... one at a time through one psql
# session; psql runs each line after the one before it returned, and its
# output is the console (a tty: line-buffered), so an ACK line is printed
# only after its INSERT's commit came back.  DMH-CUT-ARM (the host's cut
# clock starts) follows the first ACK, so no cut lands before the client
# has connected.
client() {
	local i=$1
	while :; do
		printf "INSERT INTO t VALUES (%d, repeat('x', 1000));\n\\\\echo DMH-PG-ACK %d\n" "$i" "$i"
		[ "$i" = "$1" ] && printf '\\echo DMH-CUT-ARM\n'
		i=$((i + 1))
	done | as_pg psql -X -q -v ON_ERROR_STOP=1 -d dmh
}

say "boot $n, last=$last, acked=${acked:-0}, break=${brk:-none}, $(uname -r)"
modprobe dm_hybrid || fail "modprobe dm_hybrid"
if [ "$n" = 1 ]; then
	make_pool || fail "pool, volume, ext4 or initdb"
	pg_start || { tail -n 30 $MNT/server.log; fail "postgres start"; }
	as_pg createdb dmh || fail createdb
	sql "CREATE TABLE t (n integer PRIMARY KEY, pad text)" || fail "create table"
else
	wait_for 120 test -b $VOL -a -b $CHURN || fail "no $VOL after boot (hybridctl.service)"
	mkdir -p $MNT
	mount $VOL $MNT || fail "mount after cut $((n - 1))"
	pg_start || { tail -n 30 $MNT/server.log; fail "postgres recovery after cut $((n - 1))"; }
	tail -n 8 $MNT/server.log | sed 's/^/dmh-pg: server.log: /'
	if [ "$brk" = delete-row ] && [ "${acked:-0}" -gt 0 ]; then
		sql "DELETE FROM t WHERE n = $acked" && say "broken run: deleted row $acked"
	fi
	report || fail "query after cut $((n - 1))"
fi
hybridctl pool status pool0 | sed 's/^/dmh-pg: /'
if [ "$last" = 1 ]; then
	as_pg $PGBIN/pg_ctl -D $PGDATA -m fast -w stop >/dev/null || fail "postgres stop"
	umount $MNT || fail umount
	echo "DMH-PG-RESULT: DONE"
	sync
	systemctl --no-block poweroff
	exit 0
fi
top=$(sql "SELECT coalesce(max(n), 0) FROM t") || fail "max(n)"
churn &
say "client starts at $((top + 1))"
sync
client $((top + 1))
fail "the client stopped before the power cut"
