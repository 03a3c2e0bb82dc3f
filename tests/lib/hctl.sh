# SPDX-License-Identifier: GPL-2.0-only
# The hybridctl cases' start (source after guest.sh and hybrid.sh): the
# tab at /etc/hybridtab, $H, the module loaded, and two helpers.
export HYBRIDTAB=/etc/hybridtab
H=hybridctl
command -v $H >/dev/null || fail "hybridctl is not in the initramfs"
load_dm_hybrid

# run CMD...: run, keep stdout+stderr in /tmp/out, return its status.
run() { "$@" >/tmp/out 2>&1; }
# refused WHAT TEXT CMD...: CMD fails and says something containing TEXT.
refused() {
	_w=$1 _t=$2
	shift 2
	if run "$@"; then
		not_ok "$_w" "was accepted: $(head -c 300 /tmp/out)"
	elif ! grep -qi -- "$_t" /tmp/out; then
		not_ok "$_w" "failed without saying \"$_t\": $(head -c 300 /tmp/out)"
	else
		ok "$_w"
		sed 's/^/    /' /tmp/out
	fi
}
