#!/usr/bin/env bash
# Fails, listing them, when tracked C++ files differ from what clang-format (the repo's
# .clang-format) makes of them. `git ls-files '*.cpp' '*.hpp' | xargs clang-format -i` fixes them.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h')
if ! clang-format --dry-run -Werror "${files[@]}" 2>/tmp/mlq-format.$$; then
  grep -oE '^[^ :]+\.(cpp|hpp|h):[0-9]+:[0-9]+: (error|warning)' /tmp/mlq-format.$$ | cut -d: -f1 |
    sort -u | sed 's/^/format: not clang-formatted: /'
  rm -f /tmp/mlq-format.$$
  echo "format: run: git ls-files '*.cpp' '*.hpp' | xargs clang-format -i" >&2
  exit 1
fi
rm -f /tmp/mlq-format.$$
echo "format: all ${#files[@]} C++ files are clang-formatted"
