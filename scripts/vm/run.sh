#!/usr/bin/env bash
# Boots the image from scripts/vm/build-image.sh with qemu-system-x86_64:
#   - KVM when it works, else TCG (boots in minutes instead of seconds): with /dev/kvm present, the kernel is first
#     booted under KVM for a few seconds and must print its first console line (a host with partial nested KVM
#     either kills qemu at once, e.g. "failed to set MSR 0x10a", or spins the guest without a line); says which;
#   - a swtpm TPM 2.0 attached as tpm-tis (the agent uses /dev/tpmrm0 in the guest);
#   - the device config folder (EVE config: server, root-certificate.pem, onboard.*) shared read-only over 9p;
#   - user-mode networking with restrict=on: the guest reaches nothing but the controller, which it sees at
#     10.0.2.100:PORT; each guest connection is forwarded (guestfwd + socat) to 127.0.0.1:PORT on the host only.
# Start the controller first with `--listen 127.0.0.1:PORT --advertise 10.0.2.100:PORT` and export the device
# config from it, so its `server` file and TLS cert name 10.0.2.100.
#
# Usage: scripts/vm/run.sh --device-config DIR --controller-port PORT [--image-dir build/vm] [--work-dir DIR]
#                          [--memory MiB] [--console FILE] [--persist] [--accel auto|kvm|tcg]
#                          [--probe-seconds N] [--console-timeout N]
#   --console FILE         write the serial console to FILE (default: this terminal; Ctrl-A X quits qemu); with a
#                          FILE, run.sh fails fast: qemu's own error and exit code when qemu exits, and an error when
#                          the console is still empty after --console-timeout seconds (default 60 KVM, 300 TCG)
#   --persist              keep the guest's writes in the image (default: -snapshot, the image stays pristine)
#   --accel auto|kvm|tcg   auto (default): probe KVM, else TCG
#   --probe-seconds N      how long the KVM probe waits for the first console line (default 10)
# Needs: qemu-system-x86_64, swtpm, socat (as root: scripts/vm/deps.sh). EDGESIM_VM_KVM_DEV overrides /dev/kvm.
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE_DIR=build/vm
WORK=""
CONFIG=""
PORT=""
MEMORY=2048
CONSOLE=""
SNAPSHOT=(-snapshot)
ACCEL_MODE=auto
PROBE_SECONDS=10
CONSOLE_TIMEOUT=""
KVM_DEV=${EDGESIM_VM_KVM_DEV:-/dev/kvm}
while (($#)); do
  case "$1" in
    --device-config) CONFIG=$2; shift 2 ;;
    --controller-port) PORT=$2; shift 2 ;;
    --image-dir) IMAGE_DIR=$2; shift 2 ;;
    --work-dir) WORK=$2; shift 2 ;;
    --memory) MEMORY=$2; shift 2 ;;
    --console) CONSOLE=$2; shift 2 ;;
    --persist) SNAPSHOT=(); shift ;;
    --accel) ACCEL_MODE=$2; shift 2 ;;
    --probe-seconds) PROBE_SECONDS=$2; shift 2 ;;
    --console-timeout) CONSOLE_TIMEOUT=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "run: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$CONFIG" ] && [ -d "$CONFIG" ] || { echo "run: --device-config DIR is required (an exported EVE config folder)" >&2; exit 2; }
[[ "$PORT" =~ ^[0-9]+$ ]] || { echo "run: --controller-port PORT is required (the controller's 127.0.0.1 port)" >&2; exit 2; }
[[ "$ACCEL_MODE" =~ ^(auto|kvm|tcg)$ ]] || { echo "run: --accel must be auto, kvm or tcg, got \"$ACCEL_MODE\"" >&2; exit 2; }
[[ "$PROBE_SECONDS" =~ ^[0-9]+$ ]] && ((PROBE_SECONDS > 0)) || { echo "run: --probe-seconds must be a positive integer, got \"$PROBE_SECONDS\"" >&2; exit 2; }
[ -z "$CONSOLE_TIMEOUT" ] || { [[ "$CONSOLE_TIMEOUT" =~ ^[0-9]+$ ]] && ((CONSOLE_TIMEOUT > 0)); } || { echo "run: --console-timeout must be a positive integer, got \"$CONSOLE_TIMEOUT\"" >&2; exit 2; }
for f in edgesim.raw vmlinuz initrd.img; do
  [ -f "$IMAGE_DIR/$f" ] || { echo "run: $IMAGE_DIR/$f missing; run scripts/vm/build-image.sh first" >&2; exit 1; }
done
for cmd in qemu-system-x86_64 swtpm socat; do
  command -v "$cmd" >/dev/null || { echo "run: $cmd not found (apt-get install qemu-system-x86 swtpm socat)" >&2; exit 1; }
done

[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/edgesim-vm.XXXXXX)
mkdir -p "$WORK/tpm"
QEMU_PID=""
SWTPM_PID=""
cleanup() {
  [ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null || true
  [ -z "$SWTPM_PID" ] || kill "$SWTPM_PID" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

# Boots the kernel alone under KVM for up to PROBE_SECONDS; succeeds on its first console line. Sets PROBE_RESULT.
probe_kvm() {
  local log="$WORK/kvm-probe.console" err="$WORK/kvm-probe.err" pid tenths=0 code
  : >"$log"
  qemu-system-x86_64 -machine q35,accel=kvm -cpu host -m 256 -no-reboot -display none -serial "file:$log" \
    -kernel "$IMAGE_DIR/vmlinuz" -append "console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1" 2>"$err" &
  pid=$!
  while ((tenths < PROBE_SECONDS * 10)); do
    if (($(lines "$log") >= 1)); then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      PROBE_RESULT="first console line after $((tenths / 10)).$((tenths % 10)) s"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      code=0
      wait "$pid" 2>/dev/null || code=$?
      PROBE_RESULT="qemu exited ($code): $(head -c 400 "$err" | tr '\n' ' ')"
      return 1
    fi
    sleep 0.1
    tenths=$((tenths + 1))
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  PROBE_RESULT="no console line within $PROBE_SECONDS s"
  return 1
}

ACCEL=tcg
case "$ACCEL_MODE" in
  kvm) ACCEL=kvm; echo "run: accelerator KVM (--accel kvm, not probed)" >&2 ;;
  tcg) echo "run: accelerator TCG (--accel tcg)" >&2 ;;
  auto)
    if [ ! -w "$KVM_DEV" ]; then
      echo "run: accelerator TCG ($KVM_DEV missing or not writable; boots take minutes)" >&2
    elif probe_kvm; then
      ACCEL=kvm
      echo "run: accelerator KVM (probe: $PROBE_RESULT)" >&2
    else
      echo "run: accelerator TCG (the KVM probe failed: $PROBE_RESULT)" >&2
    fi ;;
esac
ACCEL_ARGS=(-machine q35,accel=tcg -cpu max)
[ "$ACCEL" = tcg ] || ACCEL_ARGS=(-machine q35,accel=kvm -cpu host)
[ -n "$CONSOLE_TIMEOUT" ] || { [ "$ACCEL" = kvm ] && CONSOLE_TIMEOUT=60 || CONSOLE_TIMEOUT=300; }

swtpm socket --tpm2 --tpmstate dir="$WORK/tpm" --ctrl type=unixio,path="$WORK/swtpm.sock" \
  --log file="$WORK/swtpm.log" &
SWTPM_PID=$!
for _ in $(seq 50); do [ -S "$WORK/swtpm.sock" ] && break; sleep 0.1; done

QEMU=(qemu-system-x86_64 "${ACCEL_ARGS[@]}" -m "$MEMORY" -smp 2 -no-reboot
  -kernel "$IMAGE_DIR/vmlinuz" -initrd "$IMAGE_DIR/initrd.img"
  -append "root=/dev/vda rw console=ttyS0 panic=-1 systemd.journald.forward_to_console=1"
  -drive "file=$IMAGE_DIR/edgesim.raw,format=raw,if=virtio" "${SNAPSHOT[@]}"
  -netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:$PORT-cmd:socat STDIO TCP:127.0.0.1:$PORT"
  -device virtio-net-pci,netdev=n0
  -chardev "socket,id=chrtpm,path=$WORK/swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0
  -virtfs "local,path=$CONFIG,mount_tag=edgesim-config,security_model=none,readonly=on")

if [ -z "$CONSOLE" ]; then
  "${QEMU[@]}" -nographic # interactive: qemu's errors and the console are on this terminal
  exit $?
fi

# With a console file: watch qemu and the console; fail fast instead of waiting out the caller's timeout.
: >"$CONSOLE"
"${QEMU[@]}" -display none -serial "file:$CONSOLE" 2>"$WORK/qemu.err" &
QEMU_PID=$!
started=$SECONDS
while kill -0 "$QEMU_PID" 2>/dev/null; do
  if (($(lines "$CONSOLE") == 0 && SECONDS - started >= CONSOLE_TIMEOUT)); then
    echo "run: the serial console stayed silent for $CONSOLE_TIMEOUT s under $ACCEL; stopping qemu (console: $CONSOLE)" >&2
    [ ! -s "$WORK/qemu.err" ] || echo "run: qemu said: $(head -c 600 "$WORK/qemu.err" | tr '\n' ' ')" >&2
    exit 1
  fi
  (($(lines "$CONSOLE") == 0)) || break
  sleep 0.2
done
code=0
wait "$QEMU_PID" || code=$?
QEMU_PID=""
if ((code != 0)); then
  echo "run: qemu exited with code $code: $(head -c 600 "$WORK/qemu.err" | tr '\n' ' ')" >&2
elif [ -s "$WORK/qemu.err" ]; then
  cat "$WORK/qemu.err" >&2
fi
exit "$code"
