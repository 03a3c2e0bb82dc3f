#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Lab self-test of the runner's verdict: a kernel WARNING must fail a case
# even when the script says "pass".  The host reports "ok" only if its
# report detector (the same one every case goes through) failed this case
# for a kernel report.
# kernels: debug
# expect: kernel-report
# tier: quick
# timeout: 240
. /lib/dmh/guest.sh

need_mod lkdtm
echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT
pass
