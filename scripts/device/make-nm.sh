#!/usr/bin/env bash
# Builds .devcarry/nm.tar.xz: the pruned node_modules that `node bench/run.mjs` needs in Node on
# linux-x64 (Dawn, tfjs-core/-cpu/-webgpu and the @tensorflow/tfjs union package with what their
# Node bundles require), plus the workspace links @tessera/{core,webgpu,node,nn} -> ../../packages/*.
#   scripts/device/make-nm.sh [NODE_MODULES_DIR]     (default: the repo's node_modules; only read)
# The file list comes from an strace of a real run (bench/run.mjs with all peers); node-fetch and its
# deps are added because tfjs-core requires them lazily when no global fetch exists.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/.devcarry
mkdir -p "$HERE"
NM=$(cd "${1:-$REPO/node_modules}" && pwd)
STAGE=$(mktemp -d); trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/node_modules"
cd "$NM"
files=(webgpu/package.json webgpu/index.js webgpu/LICENSE.md webgpu/dist/linux-x64/dawn.node
       long/package.json long/src/long.js long/LICENSE
       seedrandom/package.json seedrandom/index.js seedrandom/seedrandom.js
       node-fetch/package.json node-fetch/lib/index.js node-fetch/LICENSE.md
       tr46/package.json tr46/index.js tr46/lib/mappingTable.json
       webidl-conversions/package.json webidl-conversions/lib/index.js)
files+=(seedrandom/lib/*.js whatwg-url/package.json whatwg-url/lib/*.js)
for p in tfjs tfjs-core tfjs-backend-cpu tfjs-backend-webgpu tfjs-backend-webgl tfjs-converter tfjs-data tfjs-layers; do
  main=$(sed -n 's/^ *"main": *"\([^"]*\)".*/\1/p' "@tensorflow/$p/package.json" | head -1)
  files+=("@tensorflow/$p/package.json" "@tensorflow/$p/$main")
done
for f in "${files[@]}"; do
  case $f in *.min.js) continue;; esac
  [[ -e $f ]] || { echo "make-nm.sh: missing $NM/$f" >&2; exit 2; }
  mkdir -p "$STAGE/node_modules/$(dirname "$f")"; cp -p "$f" "$STAGE/node_modules/$f"
done
mkdir -p "$STAGE/node_modules/@tessera"
for p in core webgpu node nn; do ln -s "../../packages/$p" "$STAGE/node_modules/@tessera/$p"; done
echo "pruned node_modules for bench/run.mjs, made by scripts/device/make-nm.sh" > "$STAGE/node_modules/.devcarry-nm"
tar -C "$STAGE" --owner=0 --group=0 -cf - node_modules | xz -9 -T0 > "$HERE/nm.tar.xz.tmp"
mv "$HERE/nm.tar.xz.tmp" "$HERE/nm.tar.xz"
echo "nm.tar.xz: $(du -sh "$STAGE/node_modules" | cut -f1) unpacked, $(stat -c %s "$HERE/nm.tar.xz") bytes packed"
