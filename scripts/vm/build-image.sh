#!/usr/bin/env bash
# Builds a Debian 12 VM image that boots straight into the edgesim agent under systemd:
#   <out>/edgesim.raw   ext4 root filesystem (no partition table; booted with the kernel beside it)
#   <out>/vmlinuz, <out>/initrd.img   the image's own Debian kernel and initramfs
# Inside: Debian's packages (debootstrap from Debian's mirror), this host's `node` binary (Node 20; Debian 12 ships
# 18) as /usr/bin/node, edgesim (bin, dist, proto, node_modules) in /usr/lib/edgesim, deploy/edgesim-agent.service
# enabled, systemd-networkd on DHCP. The device config (EVE config folder) is not baked in: scripts/vm/run.sh shares
# it read-only over 9p and the agent unit copies it to /etc/edgesim before each start.
#
# Usage: sudo scripts/vm/build-image.sh [--out DIR] [--size 3G] [--mirror URL]
# Needs: root, debootstrap, mke2fs (e2fsprogs) with -d; `npm run build` done (it runs it when dist/ is missing).
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=build/vm
SIZE=3G
MIRROR=http://deb.debian.org/debian
while (($#)); do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --mirror) MIRROR=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" -eq 0 ] || { echo "build-image: must run as root (debootstrap, chroot)" >&2; exit 1; }
for cmd in debootstrap mke2fs node; do
  command -v "$cmd" >/dev/null || { echo "build-image: $cmd not found (apt-get install debootstrap e2fsprogs)" >&2; exit 1; }
done
[ -f dist/src/cli/main.js ] || npm run --silent build

ROOT=$OUT/rootfs
rm -rf "$ROOT"
mkdir -p "$ROOT"
PKGS=systemd-sysv,udev,dbus,kmod,procps,iproute2,ca-certificates,libstdc++6,linux-image-amd64,tpm2-tools,libtss2-tcti-device0,etcd-server
echo "build-image: debootstrap bookworm into $ROOT" >&2
debootstrap --variant=minbase --include="$PKGS" bookworm "$ROOT" "$MIRROR" >"$OUT/debootstrap.log" 2>&1 \
  || { tail -20 "$OUT/debootstrap.log" >&2; exit 1; }

# Node and edgesim.
install -m 0755 "$(command -v node)" "$ROOT/usr/bin/node"
mkdir -p "$ROOT/usr/lib/edgesim"
cp -a package.json bin dist proto node_modules "$ROOT/usr/lib/edgesim/"
printf '#!/bin/sh\nexec /usr/bin/node /usr/lib/edgesim/bin/edgesim.cjs "$@"\n' >"$ROOT/usr/local/bin/edgesim"
chmod 0755 "$ROOT/usr/local/bin/edgesim"

# The agent unit, plus a VM drop-in: device config from the 9p share, the TPM that run.sh attaches (swtpm, tpm-tis).
install -m 0644 deploy/edgesim-agent.service "$ROOT/etc/systemd/system/edgesim-agent.service"
mkdir -p "$ROOT/etc/systemd/system/edgesim-agent.service.d" "$ROOT/etc/systemd/system/multi-user.target.wants"
cat >"$ROOT/etc/systemd/system/edgesim-agent.service.d/vm.conf" <<'UNIT'
[Unit]
RequiresMountsFor=/mnt/edgesim-config
[Service]
# '+': runs outside the sandbox, which keeps /etc read-only for the agent itself.
ExecStartPre=+/bin/cp -rT /mnt/edgesim-config /etc/edgesim
# tpm-udev makes /dev/tpmrm0 tss:tss 0660, and the unit's root has no CAP_DAC_OVERRIDE: open it through the group.
SupplementaryGroups=tss
UNIT
ln -sf ../edgesim-agent.service "$ROOT/etc/systemd/system/multi-user.target.wants/edgesim-agent.service"
cat >"$ROOT/etc/default/edgesim-agent" <<'ENV'
EDGESIM_TPM=device:/dev/tpmrm0
EDGESIM_AGENT_ARGS=--no-k3s
ENV
# Debian enables etcd on install; the k3s stand-in runs its own members.
rm -f "$ROOT/etc/systemd/system/multi-user.target.wants/etcd.service"

# Base system: root on /dev/vda, the config share, DHCP on the user-mode NIC, console login without password.
cat >"$ROOT/etc/fstab" <<'FSTAB'
/dev/vda / ext4 defaults 0 1
edgesim-config /mnt/edgesim-config 9p trans=virtio,version=9p2000.L,ro,nofail 0 0
FSTAB
mkdir -p "$ROOT/mnt/edgesim-config" "$ROOT/etc/systemd/network"
printf '[Match]\nName=en* eth*\n[Network]\nDHCP=ipv4\n' >"$ROOT/etc/systemd/network/10-dhcp.network"
ln -sf /lib/systemd/system/systemd-networkd.service "$ROOT/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
mkdir -p "$ROOT/etc/systemd/system/network-online.target.wants"
ln -sf /lib/systemd/system/systemd-networkd-wait-online.service \
  "$ROOT/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service"
echo edgesim-vm >"$ROOT/etc/hostname"
chroot "$ROOT" passwd -d root >/dev/null

cp "$ROOT"/boot/vmlinuz-* "$OUT/vmlinuz"
cp "$ROOT"/boot/initrd.img-* "$OUT/initrd.img"
rm -f "$OUT/edgesim.raw"
truncate -s "$SIZE" "$OUT/edgesim.raw"
mke2fs -q -F -t ext4 -L edgesim-root -d "$ROOT" "$OUT/edgesim.raw"
rm -rf "$ROOT"
echo "build-image: $OUT/edgesim.raw, $OUT/vmlinuz, $OUT/initrd.img" >&2
