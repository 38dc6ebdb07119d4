#!/bin/bash
# The package's life on a host without systemd, in a sandbox: run by test_package.py under
# `unshare --mount`, it lays overlays over /usr, /etc and /var (their changes land in WORK) and a
# tmpfs on /run, so apt, dpkg and the maintainer scripts act on a throwaway copy of this machine.
# Steps: purge any installed cdn and its user (in the copy), apt-get install the .deb (postinst
# creates user cdn), cdn-service start an edge as that user, upgrade to the second .deb (the
# instance keeps running until restarted), restart it, purge (prerm stops it, postrm removes its
# state and logs). Prints "key=value" facts for the test; exit 77 when the sandbox cannot be made.
#   package_sandbox.sh DEB DEB_UPGRADE PORT ADMIN_PORT WORK
set -euo pipefail
DEB="$1" DEB2="$2" PORT="$3" ADMIN="$4" WORK="$5"
UNIT=cdn-edge@sbx

for d in usr etc var; do
  mkdir -p "$WORK/upper/$d" "$WORK/work/$d"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$WORK/upper/$d,workdir=$WORK/work/$d" "/$d" || exit 77
done
mount -t tmpfs tmpfs /run || exit 77
# Nothing below may run unless every overlay is in place: it would change the real host.
for d in /usr /etc /var; do
  [ "$(findmnt -n -o FSTYPE --mountpoint "$d" | tail -n 1)" = overlay ] || { echo "no overlay on $d" >&2; exit 77; }
done
trap 'for f in /run/cdn/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; true' EXIT

fact() { printf '%s=%s\n' "$1" "$2"; }
pid_of() { cat "/run/cdn/cdn-edge-sbx.pid" 2>/dev/null || true; }
uid_of() { awk '/^Uid:/ {print $2}' "/proc/$1/status"; }

# A fresh host: no cdn package, no cdn user (this machine may have both).
if dpkg -s cdn >/dev/null 2>&1; then dpkg --purge cdn >/dev/null; fi
if getent passwd cdn >/dev/null; then userdel -f cdn 2>/dev/null || true; fi
fact user_before "$(getent passwd cdn | cut -d: -f1)"

apt-get install -y -q "$DEB" >"$WORK/apt.log" 2>&1 && fact install ok || fact install "failed: $(tail -n 3 "$WORK/apt.log")"
fact version "$(dpkg-query -W -f '${Version}' cdn)"
fact user "$(getent passwd cdn | cut -d: -f1,7)"
fact user_uid "$(id -u cdn)"
fact var_lib_owner "$(stat -c %U /var/lib/cdn)"
fact var_log_owner "$(stat -c %U /var/log/cdn)"

cat >/etc/cdn/cdn-edge-sbx.yaml <<EOF
tier: edge
workers: 1
listen: [{address: 127.0.0.1:$PORT}]
admin: {listen: 127.0.0.1:$ADMIN, token: secret}
upstream: {servers: [{address: 127.0.0.1:9}]}
cache: {memory: 32MiB, disk_path: /var/lib/cdn/cdn-edge-sbx/cache}
timeouts: {drain: 5s}
access_log: /var/log/cdn/cdn-edge-sbx/access.log
EOF
cdn-service start "$UNIT" >/dev/null && fact start ok || fact start failed
first="$(pid_of)"
fact start_uid "$(uid_of "$first")"
fact state_owner "$(stat -c %U /var/lib/cdn/cdn-edge-sbx)"
fact healthz "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN/healthz")"

dpkg -i "$DEB2" >"$WORK/upgrade.log" 2>&1 && fact upgrade ok || fact upgrade "failed: $(tail -n 3 "$WORK/upgrade.log")"
fact upgraded_version "$(dpkg-query -W -f '${Version}' cdn)"
fact pid_after_upgrade_same "$([ "$(pid_of)" = "$first" ] && kill -0 "$first" && echo yes || echo no)"
cdn-service restart "$UNIT" >/dev/null && fact restart ok || fact restart failed
second="$(pid_of)"
fact restarted_new_pid "$([ -n "$second" ] && [ "$second" != "$first" ] && echo yes || echo no)"
fact healthz_after_restart "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN/healthz")"

dpkg --purge cdn >"$WORK/purge.log" 2>&1 && fact purge ok || fact purge "failed: $(tail -n 3 "$WORK/purge.log")"
fact instance_after_purge "$(if [ -n "$second" ] && [ -d "/proc/$second" ] && [ "$(awk '{print $3}' "/proc/$second/stat")" != Z ]; then echo running; else echo gone; fi)"
fact var_lib_after_purge "$([ -e /var/lib/cdn ] && echo present || echo gone)"
fact config_after_purge "$([ -e /etc/cdn/cdn-edge-sbx.yaml ] && echo kept || echo gone)"
fact binary_after_purge "$([ -e /usr/bin/cdn-edge ] && echo present || echo gone)"
fact user_after_purge "$(getent passwd cdn | cut -d: -f1)"
