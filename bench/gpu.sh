#!/usr/bin/env bash
# Runs the Tessera benchmark suite on a Linux machine with an NVIDIA GPU and Vulkan, with no
# internet: everything comes with the repo (node_modules included) and a carried Node binary.
#
#   bench/gpu.sh OUT_DIR [NODE_DIR] [-- extra run.mjs options, e.g. --quick or --only matmul]
#   NODE_DIR=/opt/node-v20 bench/gpu.sh /results
#
# NODE_DIR is a Node.js (>= 20.19) install folder (with bin/node) or the folder holding `node`;
# without it, the `node` on PATH is used. The repo is the one this script lives in; it must
# carry node_modules (`npm install` done elsewhere: webgpu, @tensorflow/*), and packages/*/dist
# are built here if missing (offline: TypeScript is in node_modules).
#
# Writes to OUT_DIR: <adapter>-<date>.json (the results), table.md (the markdown table),
# bench.log (progress and diagnostics), env.txt (GPU, driver and Vulkan facts).
# Exit status: 0 on success; 2 on bad usage or a missing piece; the suite's status otherwise.
# Set TESSERA_BENCH_REQUIRE_GPU=1 to fail (status 3) when Dawn falls back to a CPU adapter.
set -euo pipefail

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "gpu.sh: $*" >&2; exit 2; }

[[ $# -ge 1 && $1 != -h && $1 != --help ]] || { usage; [[ $# -ge 1 ]] && exit 0; exit 2; }
OUT_DIR=$1; shift
if [[ $# -ge 1 && $1 != -- ]]; then NODE_DIR=$1; shift; fi
[[ $# -ge 1 && $1 == -- ]] && shift
EXTRA=("$@")

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
LOG="$OUT_DIR/bench.log"
: > "$LOG"
say() { echo "$*" | tee -a "$LOG" >&2; }

# --- Node -------------------------------------------------------------------------------------
NODE=""
if [[ -n ${NODE_DIR:-} ]]; then
  for c in "$NODE_DIR/bin/node" "$NODE_DIR/node"; do [[ -x $c ]] && NODE=$c && break; done
  [[ -n $NODE ]] || die "no executable node in $NODE_DIR/bin or $NODE_DIR"
else
  NODE=$(command -v node || true)
  [[ -n $NODE ]] || die "no node on PATH; pass NODE_DIR (a carried Node.js >= 20.19)"
fi
export PATH="$(dirname "$NODE"):$PATH"   # npm-style .bin scripts use `#!/usr/bin/env node`
NODE_VERSION=$("$NODE" -p 'process.versions.node')
"$NODE" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node $NODE_VERSION is too old: Vite and the suite need >= 20.19"
say "node: $NODE ($NODE_VERSION)"

# --- The repo and its node_modules --------------------------------------------------------------
cd "$REPO"
for m in webgpu @tensorflow/tfjs-core @tensorflow/tfjs-backend-webgpu @tensorflow/tfjs-backend-cpu; do
  [[ -e node_modules/$m/package.json ]] || die "node_modules/$m is missing: carry the repo with node_modules (npm install; npm install -w bench)"
done
if [[ ! -f packages/core/dist/index.js || ! -f packages/webgpu/dist/index.js || ! -f packages/node/dist/index.js || ! -f packages/nn/dist/index.js ]]; then
  say "building packages (offline)"
  "$NODE" scripts/embed-kernels.mjs >> "$LOG" 2>&1
  "$NODE" node_modules/typescript/bin/tsc -b packages/core packages/webgpu packages/node packages/nn >> "$LOG" 2>&1 \
    || [[ -f packages/core/dist/index.js ]] || die "build failed; see $LOG"
fi

# --- GPU and Vulkan facts (for the record; a missing tool is not an error) -----------------------
{
  echo "date: $(date -u +%FT%TZ)"
  echo "uname: $(uname -a)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: not found"
  echo "vulkan ICDs:"; ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d 2>/dev/null || true
  echo "libvulkan: $(ldconfig -p 2>/dev/null | grep -m1 'libvulkan.so.1' || echo 'not in ldconfig cache')"
  echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
} > "$OUT_DIR/env.txt" 2>&1
cat "$OUT_DIR/env.txt" >> "$LOG"

# @tessera/node itself puts installed hardware ICDs (e.g. nvidia_icd.json in /usr/share/vulkan/icd.d
# or /etc/vulkan/icd.d) before SwiftShader in VK_ICD_FILENAMES; set VK_ICD_FILENAMES to override.
ADAPTER=$("$NODE" --input-type=module -e "
  const { nodeGPU } = await import('@tessera/node');
  const a = await (await nodeGPU()).requestAdapter({ powerPreference: 'high-performance' });
  const i = a.info ?? {};
  console.log([i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' | '));
  process.exit(0);" 2>>"$LOG") || die "no WebGPU adapter (Dawn could not start); see $LOG and $OUT_DIR/env.txt"
say "adapter: $ADAPTER"
if grep -qi swiftshader <<<"$ADAPTER"; then
  say "WARNING: Dawn chose SwiftShader (a CPU implementation), not the GPU: check the NVIDIA Vulkan ICD (env.txt)"
  [[ ${TESSERA_BENCH_REQUIRE_GPU:-0} == 1 ]] && exit 3
fi

# --- The suite ------------------------------------------------------------------------------------
say "running: node bench/run.mjs --out $OUT_DIR ${EXTRA[*]:-}"
set +e
"$NODE" bench/run.mjs --out "$OUT_DIR" "${EXTRA[@]}" > "$OUT_DIR/table.md" 2> >(tee -a "$LOG" >&2)
STATUS=$?
set -e
cat "$OUT_DIR/table.md"
say "gpu.sh: suite exited with $STATUS; results in $OUT_DIR"
exit $STATUS
