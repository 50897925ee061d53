#!/usr/bin/env bash
# Installs the Debian packages the local stack needs, only those whose command is missing.
# Runs apt-get update at most once, and only when something is missing. Needs root for
# that; without root it names the missing packages and fails.
set -euo pipefail

declare -A package_of=(
  [chromium]=chromium  # the console's browser test (Playwright drives the system build)
  [python3]=python3
  [java]=openjdk-17-jre-headless
  [mvn]=maven
  [node]=nodejs
  [npm]=npm
  [redis-server]=redis-server
  [g++]=g++          # arlocal's sqlite3 compiles from source
  [make]=make
)
missing=()
for command in "${!package_of[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${package_of[$command]}")
done
if ! command -v initdb >/dev/null 2>&1 && [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  missing+=(postgresql-15)
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
