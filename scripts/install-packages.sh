#!/usr/bin/env bash
# Installs the Debian packages the local cluster runs besides the binaries build.sh makes: Prometheus and
# RabbitMQ (the real programs, started by the harness as plain processes on loopback ports in a temporary
# folder), and the tools the harness and CI use (openssl for certificates, flock for the build lock).
# Only what is missing is installed. The packages' own system services are never started: the harness runs
# its own instances, and a system RabbitMQ or Prometheus would only hold ports and memory.
set -euo pipefail

fail() {
  echo "install-packages.sh: error: $*" >&2
  exit 1
}

# package -> a file it installs
declare -A wanted=(
  [prometheus]=/usr/bin/prometheus
  [rabbitmq-server]=/usr/lib/rabbitmq/bin/rabbitmq-server
  [openssl]=/usr/bin/openssl
  [util-linux]=/usr/bin/flock
)
missing=()
for package in "${!wanted[@]}"; do
  [[ -e "${wanted[$package]}" ]] || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  echo "install-packages.sh: nothing to install"
  exit 0
fi
((EUID == 0)) || fail "run as root to install ${missing[*]} (or install them yourself)"

# Debian's maintainer scripts start a service through invoke-rc.d unless /usr/sbin/policy-rc.d exits 101.
# Put one in place for this install only and restore whatever was there before, even on failure.
policy=/usr/sbin/policy-rc.d
saved=""
if [[ -e "$policy" ]]; then
  saved="$(mktemp)"
  cp -p "$policy" "$saved"
fi
restore_policy() {
  if [[ -n "$saved" ]]; then
    mv -f "$saved" "$policy"
  else
    rm -f "$policy"
  fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# installed by mlautoscale install-packages.sh for the duration of an install\nexit 101\n' >"$policy"
chmod 755 "$policy"

echo "install-packages.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

for package in "${missing[@]}"; do
  [[ -e "${wanted[$package]}" ]] || fail "$package is installed but ${wanted[$package]} is missing"
done
echo "install-packages.sh: installed $(dpkg-query -W -f='${Package} ${Version}, ' "${missing[@]}" | sed 's/, $//')"
