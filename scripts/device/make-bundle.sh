#!/usr/bin/env bash
# Rebuilds .devcarry/dist.tar.xz (unpacked by device.sh into packages/) from the built JS of
# packages/{core,webgpu,node,nn}/dist: no .map, no .d.ts. Run it after `npm run build:packages`
# (or `npm run build`); it takes a second or two and only reads the packages.
#   scripts/device/make-bundle.sh [REPO]    (default: the repo this script sits in)
# It also writes .devcarry/dist.stamp (git revision and build time), which device.sh prints.
set -euo pipefail
REPO=$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/../..}" && pwd)
cd "$REPO"
HERE=$REPO/.devcarry
mkdir -p "$HERE"
PKGS=(core webgpu node nn)
for p in "${PKGS[@]}"; do
  [[ -f packages/$p/dist/index.js ]] || { echo "make-bundle.sh: packages/$p/dist/index.js is missing: run \`npm run build:packages\` first" >&2; exit 2; }
  newer=$(find "packages/$p/src" -type f -newer "packages/$p/dist/index.js" 2>/dev/null | head -3)
  [[ -z $newer ]] || echo "make-bundle.sh: WARNING: packages/$p/src has files newer than its dist (rebuild?): $(echo $newer)" >&2
done
newer=$(find kernels -type f -newer packages/webgpu/dist/index.js 2>/dev/null | head -3)
[[ -z $newer ]] || echo "make-bundle.sh: WARNING: kernels/ has files newer than packages/webgpu/dist (rebuild?): $(echo $newer)" >&2
tar -C packages --owner=0 --group=0 --exclude='*.map' --exclude='*.d.ts' -cf - "${PKGS[@]/%//dist}" | xz -6 -T0 > "$HERE/dist.tar.xz.tmp"
mv "$HERE/dist.tar.xz.tmp" "$HERE/dist.tar.xz"
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git status --porcelain --untracked-files=no 2>/dev/null) ]] || rev="$rev+dirty"
echo "tessera $rev; dist built $(date -u -r packages/core/dist/index.js +%FT%TZ) (core) $(date -u -r packages/webgpu/dist/index.js +%FT%TZ) (webgpu); bundled $(date -u +%FT%TZ) from $REPO" > "$HERE/dist.stamp"
echo "dist.tar.xz: $(tar -tJf "$HERE/dist.tar.xz" | grep -c '\.js$') .js files, $(stat -c %s "$HERE/dist.tar.xz") bytes; $(cat "$HERE/dist.stamp")"
