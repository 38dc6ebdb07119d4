#!/usr/bin/env bash
# Installs the Debian packages this project needs to build, test, run the demo and the load
# comparison. Idempotent: only packages that `dpkg -s` does not report as installed are installed,
# and `apt-get update` runs only when something is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config g++ clang libclang-rt-14-dev
  # libraries
  libuv1-dev node-llhttp libssl-dev librocksdb-dev libxxhash-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libre2-dev libhiredis-dev libmaxminddb-dev
  # HTTP/2 to viewers (nghttp2), and its tests and benchmark (nghttp, h2load, Python h2)
  libnghttp2-dev nghttp2-client python3-h2
  # tests, demo and benchmark tools
  python3 python3-pytest curl openssl ffmpeg nginx varnish wrk redis-server dnsutils
  # the audience simulator's plot (bench/viewers/plot.gp)
  gnuplot-nox
  libknot-dev knot-dnsutils libmaxmind-db-writer-perl
  # live ingest: SRT (libsrt, the origin's listener; srt-tools for manual checks)
  libsrt-openssl-dev
  srt-tools
  # the .deb (cpack runs dpkg-shlibdeps) and its units' checks (systemd-analyze), test_package.py
  dpkg-dev systemd
  # the fleet deployment test: the Ansible roles, their lint, Prometheus and the Redis exporter
  ansible ansible-lint prometheus prometheus-redis-exporter
  # the fleet page's browser check (tests/browser: playwright-core drives this chromium)
  chromium
)
# npm: the machine's own Node.js (NodeSource) brings it, and Debian's npm conflicts with that one,
# so Debian's nodejs and npm come in only where there is no npm at all.
if ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  # `dpkg -s` also succeeds for removed-but-configured packages; check the status line.
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    :
  else
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: missing packages (${missing[*]}) and not root, no sudo" >&2
    exit 1
  fi
fi

echo "install-deps: missing: ${missing[*]}"
echo "install-deps: apt-get update"
"${SUDO[@]}" apt-get update -q
echo "install-deps: apt-get install -y ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
echo "install-deps: done"
