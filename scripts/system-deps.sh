#!/usr/bin/env bash
# Installs the Debian packages the terminal needs, only those missing, so `make` works on a fresh machine.
# Usage: scripts/system-deps.sh [test|demo]
set -euo pipefail
purpose=${1:-test}
pkgs=(fonts-noto-cjk espeak-ng libespeak-ng1 sox libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1
      libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
      libxcb-render-util0 libxcb-image0)
[ "$purpose" = demo ] && pkgs+=(xvfb xauth)
# The fleet dashboard's test drives Debian's chromium with Playwright (which then downloads no browser of its own).
[ "$purpose" = test ] && pkgs+=(chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing system packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
