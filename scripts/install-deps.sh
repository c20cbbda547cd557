#!/usr/bin/env bash
# Installs every Debian package Ficus needs, idempotently: packages already
# present are skipped, and `apt-get update` runs only when something is missing.
# Usage: scripts/install-deps.sh [group...]   groups: build php db tools browser cql (default: all)
set -euo pipefail

declare -A groups=(
  [build]="cmake ninja-build g++ ccache pkg-config clang clang-format clang-tidy libclang-rt-14-dev
           libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
           libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libxxhash-dev libexpected-dev
           libgtest-dev libgmock-dev librocksdb-dev libmariadb-dev libssl-dev
           libgoogle-perftools-dev"
  [php]="php8.2-fpm php8.2-cli php8.2-mysql php8.2-apcu php8.2-mbstring php8.2-xml phpunit nginx-light"
  [db]="mariadb-server mariadb-client etcd-server"
  [tools]="wrk haproxy curl procps psmisc python3 jq strace openssl"
  [browser]="chromium"
  [cql]="python3-cassandra"
)

# The dashboard's npm packages need node and npm. The machine image ships
# them (nodejs with npm bundled); where they are absent, Debian's own.
if ! command -v npm >/dev/null 2>&1; then
  groups[browser]+=" nodejs npm"
fi

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(build php db tools browser cql)

missing=()
for g in "${wanted[@]}"; do
  [ -n "${groups[$g]+x}" ] || { echo "install-deps: unknown group '$g'" >&2; exit 2; }
  for p in ${groups[$g]}; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Keep package post-install scripts from starting system services: Ficus runs
# its own mysqld, php-fpm and nginx under .run/.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  created_policy=1
fi
trap '[ $created_policy -eq 1 ] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
