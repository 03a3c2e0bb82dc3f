# SPDX-License-Identifier: GPL-2.0-only
#
# Test targets, included by the top Makefile.  All of them run
# scripts/setup.sh first (idempotent; quick once done).
#
#   make check         build, checkpatch, sparse, debug kernel (cached), KUnit
#                      and VM cases on the debug and the stock kernel
#   make check-long    every tier, soaks, the power-cut campaign [LONG_ROUNDS=200],
#                      PostgreSQL through power cuts [PG_CUTS=50]
#   make pg-powercut [PG_CUTS=50]  only the latter
#   make demo          the demo: a pool, four VM workloads, live stats, a chart
#   make debug-kernel  build (or reuse) the debug kernel
#   make vm-shell      interactive VM: VM_KERNEL=debian|debug (default debian)
#   make test-case CASES="glob..." [TEST_KERNEL=debian|debug|all]
#   make powercut-campaign [ROUNDS=20] [CAMPAIGN_KERNEL=debian]
#   make check-xen     Xen Dom0 + PV guests on dm-hybrid (not in make check)
#   make bench-xen     HDD only / dm-hybrid / SSD only in 1-4 Xen PV guests

TEST_KERNEL ?= all
VM_KERNEL ?= debian
CASES ?=

.PHONY: check check-long demo debug-kernel vm-shell test-case bench-datapath \
	bench bench-quick

check: setup
	tests/run --check --kernel all --tier quick

# Then the power-cut campaign, LONG_ROUNDS power cuts (issue 7 asks for
# hundreds; tests/powercut-campaign chains 10 cuts a run, one boot a cut;
# LONG_ROUNDS=0 skips it), then PG_CUTS power cuts of PostgreSQL on ext4 on
# dm-hybrid in check-boot's Debian image (tests/pgcut/run; PG_CUTS=0 skips
# it).  The reliability report (tests/reliability-report.sh) follows; the
# exit status is the first failure's: the run's, the campaign's, the
# database's, or the report's.
LONG_ROUNDS ?= 200
PG_CUTS ?= 50
check-long: setup
	tests/run --check --kernel all --tier all; rc=$$?; \
		if [ "$(LONG_ROUNDS)" -gt 0 ]; then \
			tests/powercut-campaign $(LONG_ROUNDS) debian || rc=$$((rc ? rc : 1)); fi; \
		if [ "$(PG_CUTS)" -gt 0 ]; then \
			tests/pgcut/run $(PG_CUTS) || rc=$$((rc ? rc : 1)); fi; \
		tests/reliability-report.sh || rc=$$((rc ? rc : 1)); exit $$rc

test-case: setup
	tests/run --kernel $(TEST_KERNEL) --tier all $(CASES)

demo: setup
	scripts/demo.sh

debug-kernel: setup
	tests/kernel/build-debug.sh

vm-shell: setup
	scripts/vm-shell.sh $(VM_KERNEL)

# Power-cut campaign (issue 7): ROUNDS power cuts of reliability-powercut on
# CAMPAIGN_KERNEL, each with a fresh seed; prints the tally.
ROUNDS ?= 20
CAMPAIGN_KERNEL ?= debian
.PHONY: powercut-campaign
powercut-campaign: setup
	tests/powercut-campaign $(ROUNDS) $(CAMPAIGN_KERNEL)

# Benchmarks (printed tables, not tests): the data-path overhead against
# dm-linear on the same SSD disk, 4k random IOPS at QD1 and QD32, on one
# vCPU under -icount (guest time = instructions; see bench/README.md).
bench-datapath: setup
	VM_ACCEL=tcg,thread=single VM_CPUS=1 VM_ICOUNT=shift=1,sleep=on \
		tests/run --kernel debian --tier bench bench-datapath
	@grep -h '^DMH-BENCH' tests/logs/debian/bench-datapath/boot1.log

# The benchmark suite (bench/README.md): calibration of the emulated disks,
# set-ups side by side, traces.  Writes bench/results/<date>/.
bench: setup
	bench/run.sh full

bench-quick: setup
	bench/run.sh quick

# The placement lab (bench/README.md): every trace of BENCH_TRACES (default
# ../shared/traces) through placement policies in user space, in seconds;
# writes bench/results/sim-<UTC date-time>/ (SIM_OUT overrides).  Needs
# only a C compiler, so no setup.
.PHONY: sim
sim:
	bench/sim/run.sh

# make check-xen: Xen 4.17 + the stock kernel as PV Dom0 in QEMU, PV guests
# on dm-hybrid volumes through blkback (Documentation/xen-lab.rst).  Not
# part of make check.
.PHONY: check-xen
check-xen: setup
	tests/xen/run $(XEN_CASES)

# make bench-xen: the paper's experiment (HDD only / dm-hybrid / SSD only,
# 1-4 PV guests at once) under the Xen lab, -icount; writes
# bench/results/<UTC date-time>-xen/report.md (Documentation/xen-lab.rst).
.PHONY: bench-xen
bench-xen: setup
	tests/xen/bench-xen.sh run

# make check-dkms: the DKMS flow in a throw-away tree for the stock kernel,
# then the lab VM boots the DKMS-built module (tests/dkms/run).  Not part
# of make check.
.PHONY: check-dkms
check-dkms: setup
	tests/dkms/run

# make check-boot: a Debian 12 image (mmdebstrap, cached) with dm-hybrid
# from "make deb" and "apt install ./*.deb", booted four times in QEMU
# with the stock kernel and systemd: pools from /etc/hybridtab come back
# at boot and shut down clean, node_exporter serves hybridctl's metrics
# (promtool checks them), and "apt purge" leaves only /etc/hybridtab
# (tests/boot/run).  Not part of make check.
.PHONY: check-boot
check-boot: setup
	tests/boot/run

# make pg-powercut [PG_CUTS=50]: only the database power cuts of make
# check-long (tests/pgcut/run; PGCUT_BREAK=fsync-off|delete-row breaks it
# on purpose).
.PHONY: pg-powercut
pg-powercut: setup
	tests/pgcut/run $(PG_CUTS)
