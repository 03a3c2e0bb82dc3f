#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot the lab VM once under QEMU (TCG).  Used by tests/run; also handy by
# hand:
#   vm.sh --kernel BZIMAGE --initrd CPIO [--disk NAME=FILE]... [--log FILE]
#         [--timeout SECONDS] [--cut-after-arm SECONDS] [--interactive]
#
# Disks are raw files attached as virtio-blk with serial=NAME; the guest
# links them as /dev/lab/NAME.  Exit status: 0 when the guest powered off,
# 124 on timeout, 137 when the power was cut (as asked), else QEMU's.
set -euo pipefail

QEMU=${QEMU:-qemu-system-x86_64}
VM_MEM=${VM_MEM:-1024}
VM_CPUS=${VM_CPUS:-2}
# No 5-level paging: with la57, the KASAN kernel under TCG sometimes reports a
# wild-memory-access from an interrupt taken during early boot.
VM_CPU=${VM_CPU:-max,la57=off}
# Benchmarks may ask for instruction counting: VM_ACCEL=tcg,thread=single
# VM_CPUS=1 VM_ICOUNT=shift=1,sleep=on (guest time = instructions executed).
VM_ACCEL=${VM_ACCEL:-tcg,thread=multi}
VM_ICOUNT=${VM_ICOUNT:-}

vm_args() {
	local kernel=$1 initrd=$2 append=$3
	shift 3
	# shellcheck disable=SC2054 # commas belong to QEMU options
	local args=(-machine q35 -accel "$VM_ACCEL" -cpu "$VM_CPU"
		-m "$VM_MEM" -smp "$VM_CPUS" -no-reboot ${VM_ICOUNT:+-icount "$VM_ICOUNT"}
		-kernel "$kernel" -initrd "$initrd" -append "$append")
	local i=0 d name file
	for d in "$@"; do
		name=${d%%=*} file=${d#*=}
		args+=(-drive "file=$file,if=none,id=d$i,format=raw,cache=writeback,aio=threads"
			-device "virtio-blk-pci,drive=d$i,serial=$name")
		i=$((i + 1))
	done
	printf '%s\0' "${args[@]}"
}

# vm_boot LOG TIMEOUT CUT KERNEL INITRD APPEND DISK...
#   CUT: seconds after the guest prints DMH-CUT-ARM to kill QEMU, or "".
vm_boot() {
	local log=$1 timeout=$2 cut=$3 kernel=$4 initrd=$5 append=$6
	shift 6
	local -a args
	mapfile -d '' args < <(vm_args "$kernel" "$initrd" "$append" "$@")
	: > "$log"
	"$QEMU" "${args[@]}" -display none -monitor none -serial stdio \
		</dev/null >>"$log" 2>&1 &
	local pid=$! start=$SECONDS armed="" rc
	while kill -0 "$pid" 2>/dev/null; do
		if [ -n "$cut" ] && [ -z "$armed" ] && grep -q '^DMH-CUT-ARM' "$log"; then
			armed=$SECONDS
		fi
		if [ -n "$armed" ] && [ $((SECONDS - armed)) -ge "$cut" ]; then
			kill -9 "$pid"
			wait "$pid" 2>/dev/null || true
			printf '\nDMH-HOST: power cut %ss after arm\n' "$cut" >> "$log"
			return 137
		fi
		if [ $((SECONDS - start)) -ge "$timeout" ]; then
			kill -9 "$pid"
			wait "$pid" 2>/dev/null || true
			printf '\nDMH-HOST: timeout after %ss\n' "$timeout" >> "$log"
			return 124
		fi
		sleep 0.2
	done
	rc=0
	wait "$pid" || rc=$?
	return $rc
}

vm_interactive() {
	local kernel=$1 initrd=$2 append=$3
	shift 3
	local -a args
	mapfile -d '' args < <(vm_args "$kernel" "$initrd" "$append" "$@")
	exec "$QEMU" "${args[@]}" -nographic
}

vm_main() {
	local kernel="" initrd="" log=/dev/stdout timeout=600 cut="" inter=""
	local append="console=ttyS0 panic=-1 oops=panic"
	local -a disks=()
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel) kernel=$2; shift ;;
		--initrd) initrd=$2; shift ;;
		--disk) disks+=("$2"); shift ;;
		--log) log=$2; shift ;;
		--timeout) timeout=$2; shift ;;
		--cut-after-arm) cut=$2; shift ;;
		--append) append="$append $2"; shift ;;
		--interactive) inter=1 ;;
		*) echo "vm.sh: unknown argument $1" >&2; exit 2 ;;
		esac
		shift
	done
	[ -n "$kernel" ] && [ -n "$initrd" ] || { echo "vm.sh: --kernel and --initrd needed" >&2; exit 2; }
	if [ -n "$inter" ]; then
		vm_interactive "$kernel" "$initrd" "$append" "${disks[@]}"
	fi
	vm_boot "$log" "$timeout" "$cut" "$kernel" "$initrd" "$append" "${disks[@]}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	vm_main "$@"
fi
