#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of make check-boot (tests/boot/run), run by
# dmh-boottest.service once systemd has the system up.  The boot number
# comes from the kernel command line (dmh_boot=N); state between boots
# lives in /var/lib/dmh-boot on the root disk.  Prints "dmh-subtest: ok|not
# ok - what" lines, then DMH-BOOT-DONE, and powers the machine off.
# dm-hybrid comes from the Debian packages (/usr/sbin, DKMS module);
# boot 2 also saves the metrics for the host's promtool, and boot 4 purges
# the packages.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
n=$(sed -n 's/.*dmh_boot=\([0-9]*\).*/\1/p' /proc/cmdline)
S=/var/lib/dmh-boot
D=/dev/disk/by-id
mkdir -p "$S"

ok() { echo "dmh-subtest: ok - $1"; }
not_ok() { echo "dmh-subtest: not ok - $1"; }
check() {	# check WHAT CMD...
	local what=$1
	shift
	if "$@" >/tmp/check.out 2>&1; then ok "$what"; else not_ok "$what"; fi
	sed 's/^/    /' /tmp/check.out
}

# stamp VOL MIB OFFSET_MIB: random data, its sha256 kept in $S/VOL.
stamp() {
	head -c $(($2 << 20)) /dev/urandom > /tmp/stamp &&
		dd if=/tmp/stamp of="/dev/mapper/$1" bs=1M seek="$3" oflag=direct conv=fsync status=none &&
		echo "$2 $3 $(sha256sum < /tmp/stamp | cut -d' ' -f1)" > "$S/$1"
}
# same VOL: the volume holds what stamp wrote.
same() {
	local mib off sum
	read -r mib off sum < "$S/$1" || return 1
	[ "$(dd if="/dev/mapper/$1" bs=1M skip="$off" count="$mib" iflag=direct status=none |
		sha256sum | cut -d' ' -f1)" = "$sum" ]
}
unit_active() { systemctl is-active -q hybridctl.service; }
# wait_for SECONDS CMD...: CMD succeeds within SECONDS.
wait_for() {
	local t=$1
	shift
	until "$@"; do
		[ "$t" -gt 0 ] || return 1
		t=$((t - 1))
		sleep 1
	done
}
vols_present() { test -b /dev/mapper/vm-alpha && test -b /dev/mapper/vm-beta; }
names_listed() {
	hybridctl vol list pool0 | tee /dev/stderr | grep -q vm-alpha &&
		hybridctl vol list pool0 | grep -q vm-beta
}

# The packages: both installed, the module built by DKMS for this kernel.
PROM=/var/lib/prometheus/node-exporter/dm_hybrid.prom
pkgs_installed() {
	dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' dm-hybrid-dkms dm-hybrid-tools |
		tee /dev/stderr | grep -c ' ii ' | grep -qx 2
}
module_from_dkms() {
	modprobe dm_hybrid && dkms status dm-hybrid | tee /dev/stderr | grep -q "$(uname -r).*installed" &&
		modinfo -n dm_hybrid | tee /dev/stderr | grep -q "^/lib/modules/$(uname -r)/updates/dkms/"
}
# per_volume FILE: the per-volume series of both volumes, the write
# staging ones among them (a pool's block series need its block tier).
per_volume() {
	local v m
	for v in vm-alpha vm-beta; do
		for m in ios_total block_staged_writes_total block_dirty_bytes; do
			grep -Eq "^dm_hybrid_volume_$m\\{[^}]*volume=\"$v\"" "$1" || return 1
		done
	done
}
# scraped: node_exporter's /metrics carries the per-volume series, read
# from the textfile without error; its dm_hybrid lines go to $S/scrape.prom.
scraped() {
	curl -fsS http://127.0.0.1:9100/metrics > /tmp/metrics &&
		grep -Eq "^node_textfile_mtime_seconds\{file=\"($PROM|dm_hybrid.prom)\"\}" /tmp/metrics &&
		grep -qx 'node_textfile_scrape_error 0' /tmp/metrics &&
		grep -E '^(# (HELP|TYPE) )?dm_hybrid_' /tmp/metrics > "$S/scrape.prom" &&
		per_volume "$S/scrape.prom" &&
		grep -q '^dm_hybrid_pool_block_dirty_bytes{pool="pool0"} ' "$S/scrape.prom"
}
# What dm-hybrid left on the root file system: the packages' own files
# (listed before the purge), anything named after it, its enabled units.
leftovers() {
	local f
	while read -r f; do	# shared directories (/usr/sbin) stay
		[ -d "$f" ] && continue
		if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi
	done < "$S/pkg-files"
	find / -xdev \( -name '*dm[-_]hybrid*' -o -name 'hybridctl*' -o -name 'hybrid_*' \
		-o -name 'hybridtab*' \) ! -path "$S/*" ! -path /etc/hybridtab
	find /etc/systemd /lib/systemd -xtype l -name 'hybridctl*' 2>/dev/null
}
purge_checks() {
	dpkg-query -L dm-hybrid-dkms dm-hybrid-tools > "$S/pkg-files"
	sha256sum /etc/hybridtab > "$S/hybridtab.sum"
	# The harness's own files (the console drop-in) are not the packages'.
	xargs rm -rf < /usr/local/lib/dmh/harness-files
	systemctl daemon-reload
	check "apt purge dm-hybrid-tools dm-hybrid-dkms with the pool active" \
		env DEBIAN_FRONTEND=noninteractive apt -o APT::Cmd::Disable-Script-Warning=true \
		purge -y dm-hybrid-tools dm-hybrid-dkms
	check "no dm-hybrid device is left" eval '! dmsetup table | grep -E " hybrid(-pool)? "'
	check "the dm_hybrid module is unloaded" test ! -e /sys/module/dm_hybrid
	check "dpkg knows neither package any more" \
		eval '! dpkg-query -W dm-hybrid-dkms dm-hybrid-tools'
	check "no hybridctl unit is known to systemd" \
		eval '! systemctl list-unit-files "hybridctl*" | grep hybridctl'
	check "nothing of dm-hybrid is left but /etc/hybridtab" \
		eval '[ -z "$(leftovers | tee /dev/stderr)" ]'
	check "/etc/hybridtab is left as the admin had it" sha256sum -c "$S/hybridtab.sum"
}

echo "dmh-boot: boot $n, $(uname -r), systemd $(systemctl --version | head -n1)"
case $n in
1)
	check "no /etc/hybridtab yet, hybridctl.service not active" eval '! unit_active'
	check "dm-hybrid-dkms and dm-hybrid-tools installed" pkgs_installed
	check "dm_hybrid loads, built by DKMS for this kernel" module_from_dkms
	check "prometheus-node-exporter running" systemctl is-active -q prometheus-node-exporter
	# A block tier with write staging, so that their series are scraped too.
	check "hybridctl pool create on /dev/disk/by-id names" \
		hybridctl pool create pool0 --metadata $D/virtio-meta --ssd $D/virtio-ssd \
		--hdd $D/virtio-hdd --chunk-size 256K --block-tier 4M --write-staging
	check "/etc/hybridtab lists pool0" grep -Eq '^pool0[[:space:]]+/dev/disk/by-id/virtio-meta[[:space:]]' /etc/hybridtab
	check "vol create vm-alpha 48M" hybridctl vol create pool0 vm-alpha 48M
	check "vol create vm-beta 32M" hybridctl vol create pool0 vm-beta 32M
	check "data written to vm-alpha" stamp vm-alpha 16 4
	check "data written to vm-beta" stamp vm-beta 8 0
	# Pools already active: activate --all must leave them as they are.
	check "systemctl start hybridctl.service with the pool active" \
		systemctl start hybridctl.service
	check "hybridctl.service active" unit_active
	check "volumes still there" vols_present
	check "systemctl enable --now hybridctl-metrics.service" \
		systemctl enable --now hybridctl-metrics.service
	check "it writes the per-volume series for node_exporter" wait_for 60 per_volume "$PROM"
	;;
2 | 3 | 4)
	check "hybridctl.service active after boot" unit_active
	check "/dev/mapper/vm-alpha and vm-beta present after boot" vols_present
	check "hybridctl vol list shows the names" names_listed
	check "vm-alpha holds the data of boot 1" same vm-alpha
	if [ "$n" = 2 ]; then
		check "vm-beta holds the data of boot 1" same vm-beta
		check "new data written to vm-beta" stamp vm-beta 12 16
		check "hybridctl-metrics.service started at boot" \
			systemctl is-active -q hybridctl-metrics.service
		check "node_exporter's /metrics carries the per-volume series" wait_for 60 scraped
		check "its textfile saved for the host's promtool" cp "$PROM" "$S/textfile.prom"
	else
		check "vm-beta holds the data of boot 2" same vm-beta
	fi
	[ "$n" = 4 ] && purge_checks
	;;
*)
	not_ok "boot number from the command line ($n)"
	;;
esac
dmsetup ls | sed 's/^/dmh-boot: dm: /'
sync
echo DMH-BOOT-DONE
systemctl --no-block poweroff
