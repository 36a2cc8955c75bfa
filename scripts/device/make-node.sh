#!/usr/bin/env bash
# Builds .devcarry/node.tar.xz: this machine's Node binary as bin/node (the GPU machine has no
# Node; Debian's /usr/bin/node needs only glibc >= 2.28 and libstdc++). Run once.
#   scripts/device/make-node.sh [NODE]     (default: the node on PATH)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/.devcarry
NODE=$(readlink -f "${1:-$(command -v node)}")
STAGE=$(mktemp -d); trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$HERE" "$STAGE/bin"
cp "$NODE" "$STAGE/bin/node"
tar -C "$STAGE" --owner=0 --group=0 -cf - bin | xz -9 -T0 > "$HERE/node.tar.xz.tmp"
mv "$HERE/node.tar.xz.tmp" "$HERE/node.tar.xz"
echo "node.tar.xz: $("$NODE" -v), $(stat -c %s "$HERE/node.tar.xz") bytes"
