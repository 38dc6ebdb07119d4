#!/usr/bin/env bash
# `./cdn bench NAME [args]` runs bench/NAME/run.sh; each benchmark lives in its own folder with its
# own run.sh, so adding one never touches this file. Without a name, the load comparison runs.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
name="${1:-load}"
case "$name" in -*) name=load ;; *) [ $# -eq 0 ] || shift ;; esac
if [ ! -x "$HERE/$name/run.sh" ]; then
  echo "cdn bench: no benchmark named '$name'; there are:" >&2
  for d in "$HERE"/*/run.sh; do echo "  $(basename "$(dirname "$d")")" >&2; done
  exit 2
fi
exec "$HERE/$name/run.sh" "$@"
