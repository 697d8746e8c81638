#!/bin/sh
# Regenerates the operator table of docs/engine.md from the conformance runner:
#   tests/engine/gen-operator-table.sh [BUILD_DIR]
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
table=$(mktemp)
"$build/tests/engine/engine-conformance" --markdown "$table" >/dev/null || true
/usr/bin/python3 - "$src/docs/engine.md" "$table" <<'PY'
import sys
doc, table = sys.argv[1], open(sys.argv[2]).read()
s = open(doc).read()
a = s.index("<!-- operators:begin -->") + len("<!-- operators:begin -->")
b = s.index("<!-- operators:end -->")
open(doc, "w").write(s[:a] + "\n" + table + s[b:])
PY
rm -f "$table"
