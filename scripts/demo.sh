#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# "make demo": boot the stock Debian kernel in the lab VM, load dm-hybrid,
# show its targets and (once the data path exists) a pool.
set -euo pipefail
cd "$(dirname "$0")/.."
DMH_CASES=$PWD/scripts/demo exec tests/run --kernel debian --tier all --console demo
