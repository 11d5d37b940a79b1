#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/system-packages.txt (or in the list file given as the
# first argument, e.g. scripts/bench-packages.txt) that are missing.
# Idempotent: installs nothing when every package is present. Needs apt-get and root (or sudo).
set -euo pipefail
list="$(realpath "${1:-$(dirname "$0")/system-packages.txt}")"
[ -f "$list" ] || { echo "error: no package list at $list" >&2; exit 1; }
cd "$(dirname "$0")"
mapfile -t pkgs < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: apt-get not found; cannot install: ${missing[*]} (tests and benchmarks that read them will fail)" >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing system data packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
