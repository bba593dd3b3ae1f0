#!/usr/bin/env bash
# Fails when a tracked file is larger than MAX_BYTES (default 1 MiB): build
# outputs and binaries belong in .gitignore, not in the repository.
set -euo pipefail
max=${MAX_BYTES:-1048576}
big=$(git ls-files -z | xargs -0 -r stat -c '%s %n' 2>/dev/null | awk -v max="$max" '$1 > max {print "  " $2 " (" $1 " bytes)"}')
if [ -n "$big" ]; then
  echo "tracked files larger than $max bytes (build outputs belong in .gitignore):"
  echo "$big"
  exit 1
fi
