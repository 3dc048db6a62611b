#!/usr/bin/env bash
# Installs what scripts/vm/build-image.sh and run.sh need on a Debian/Ubuntu host, from the distribution's packages:
#   qemu-system-x86 (qemu-system-x86_64), debootstrap, e2fsprogs (mke2fs -d), swtpm + swtpm-tools (the guest's TPM),
#   socat (the guestfwd bridge from the guest's 10.0.2.100 to the host-loopback controller).
# Node 20 must already be installed: build-image.sh copies this host's `node` into the image.
# Usage: sudo scripts/vm/deps.sh
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "vm/deps: must run as root (apt-get)" >&2; exit 1; }
PKGS=(qemu-system-x86 debootstrap e2fsprogs swtpm swtpm-tools socat)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "vm/deps: ${PKGS[*]} installed" >&2
