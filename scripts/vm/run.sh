#!/usr/bin/env bash
# Boots the image from scripts/vm/build-image.sh with qemu-system-x86_64:
#   - KVM when /dev/kvm exists, else TCG (works, boots in minutes instead of seconds);
#   - a swtpm TPM 2.0 attached as tpm-tis (the agent uses /dev/tpmrm0 in the guest);
#   - the device config folder (EVE config: server, root-certificate.pem, onboard.*) shared read-only over 9p;
#   - user-mode networking with restrict=on: the guest reaches nothing but the controller, which it sees at
#     10.0.2.100:PORT; each guest connection is forwarded (guestfwd + socat) to 127.0.0.1:PORT on the host only.
# Start the controller first with `--listen 127.0.0.1:PORT --advertise 10.0.2.100:PORT` and export the device
# config from it, so its `server` file and TLS cert name 10.0.2.100.
#
# Usage: scripts/vm/run.sh --device-config DIR --controller-port PORT [--image-dir build/vm] [--work-dir DIR]
#                          [--memory MiB] [--console FILE] [--persist]
#   --console FILE  write the serial console to FILE (default: this terminal; Ctrl-A X quits qemu)
#   --persist       keep the guest's writes in the image (default: -snapshot, the image stays pristine)
# Needs: qemu-system-x86_64, swtpm, socat (apt-get install qemu-system-x86 swtpm socat).
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE_DIR=build/vm
WORK=""
CONFIG=""
PORT=""
MEMORY=2048
CONSOLE=""
SNAPSHOT=(-snapshot)
while (($#)); do
  case "$1" in
    --device-config) CONFIG=$2; shift 2 ;;
    --controller-port) PORT=$2; shift 2 ;;
    --image-dir) IMAGE_DIR=$2; shift 2 ;;
    --work-dir) WORK=$2; shift 2 ;;
    --memory) MEMORY=$2; shift 2 ;;
    --console) CONSOLE=$2; shift 2 ;;
    --persist) SNAPSHOT=(); shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$CONFIG" ] && [ -d "$CONFIG" ] || { echo "run: --device-config DIR is required (an exported EVE config folder)" >&2; exit 2; }
[[ "$PORT" =~ ^[0-9]+$ ]] || { echo "run: --controller-port PORT is required (the controller's 127.0.0.1 port)" >&2; exit 2; }
for f in edgesim.raw vmlinuz initrd.img; do
  [ -f "$IMAGE_DIR/$f" ] || { echo "run: $IMAGE_DIR/$f missing; run scripts/vm/build-image.sh first" >&2; exit 1; }
done
for cmd in qemu-system-x86_64 swtpm socat; do
  command -v "$cmd" >/dev/null || { echo "run: $cmd not found (apt-get install qemu-system-x86 swtpm socat)" >&2; exit 1; }
done

[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/edgesim-vm.XXXXXX)
mkdir -p "$WORK/tpm"
swtpm socket --tpm2 --tpmstate dir="$WORK/tpm" --ctrl type=unixio,path="$WORK/swtpm.sock" \
  --log file="$WORK/swtpm.log" &
SWTPM_PID=$!
trap 'kill "$SWTPM_PID" 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -S "$WORK/swtpm.sock" ] && break; sleep 0.1; done

ACCEL=(-machine q35,accel=tcg -cpu max)
if [ -w /dev/kvm ]; then ACCEL=(-machine q35,accel=kvm -cpu host); fi
SERIAL=(-nographic)
[ -z "$CONSOLE" ] || SERIAL=(-display none -serial "file:$CONSOLE")

qemu-system-x86_64 "${ACCEL[@]}" -m "$MEMORY" -smp 2 -no-reboot "${SERIAL[@]}" \
  -kernel "$IMAGE_DIR/vmlinuz" -initrd "$IMAGE_DIR/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 panic=-1 systemd.journald.forward_to_console=1" \
  -drive "file=$IMAGE_DIR/edgesim.raw,format=raw,if=virtio" "${SNAPSHOT[@]}" \
  -netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:$PORT-cmd:socat STDIO TCP:127.0.0.1:$PORT" \
  -device virtio-net-pci,netdev=n0 \
  -chardev "socket,id=chrtpm,path=$WORK/swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
  -virtfs "local,path=$CONFIG,mount_tag=edgesim-config,security_model=none,readonly=on"
