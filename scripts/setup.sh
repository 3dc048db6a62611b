#!/usr/bin/env bash
# Installs everything edgesim needs on Debian 12 or 13, idempotently:
# system packages (swtpm, tpm2-tools, etcd, iproute2, kubectl, chromium) and the npm dependencies, then builds.
# Safe to run repeatedly; does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v swtpm >/dev/null        || need_pkgs+=(swtpm swtpm-tools)
command -v tpm2_sign >/dev/null    || need_pkgs+=(tpm2-tools)
command -v etcd >/dev/null         || need_pkgs+=(etcd-server)
command -v etcdctl >/dev/null      || need_pkgs+=(etcd-client)
command -v ip >/dev/null           || need_pkgs+=(iproute2)
command -v kubectl >/dev/null      || need_pkgs+=(kubernetes-client)
command -v openssl >/dev/null      || need_pkgs+=(openssl)
# Debian's Chromium: the dashboard's browser tests drive it headless (test/helpers/browser.ts).
command -v chromium >/dev/null     || need_pkgs+=(chromium)

if ((${#need_pkgs[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${need_pkgs[*]}" >&2
  $SUDO apt-get update -qq
  # kubernetes-client is optional (kubectl tests skip without it); everything else is required.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${need_pkgs[@]}" | grep -v kubernetes-client) >/dev/null
  if printf '%s\n' "${need_pkgs[@]}" | grep -q kubernetes-client; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null \
      || echo "setup: kubernetes-client unavailable; kubectl checks will be skipped" >&2
  fi
fi

# Debian starts etcd-server as a system service on install; edgesim runs its own members.
if command -v systemctl >/dev/null && systemctl is-active --quiet etcd 2>/dev/null; then
  systemctl stop etcd 2>/dev/null || true
fi

stamp=node_modules/.edgesim-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

npm run --silent build
