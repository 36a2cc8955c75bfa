#!/usr/bin/env bash
# Runs Tessera's benchmark suite on an offline machine with an NVIDIA GPU, from the repo root,
# with what .devcarry/ and .gl/ hold (copied there with the repo: the machine has no internet
# and no Node):
#   .gl/*.deb            Vulkan/GL loaders (dpkg -x into /, as the device README says)
#   .devcarry/node.tar.xz  bin/node (Node 20)            -> $NODE_DIR (default /tmp/node)
#   .devcarry/nm.tar.xz    pruned node_modules            -> ./node_modules
#   .devcarry/dist.tar.xz  packages/{core,webgpu,node,nn}/dist (make-bundle.sh) -> ./packages
#   .devcarry/vt.tar.xz    optional: vitest and friends, to run tests/core, cnn, nn on the GPU
#
#   bash scripts/device/device.sh [--torch-cuda] [--] [bench/run.mjs options: --quick, --only RE, --peers LIST, --budget S]
#
# --torch-cuda  runs the PyTorch peer on the GPU (TORCH_DEVICE=cuda; column "PyTorch CUDA").
# Environment: OUT (results folder; default /tmp/device-out), DEVICE_BUDGET_S (hard limit on this
# whole script, default 360), DEVICE_SKIP_GL=1 (do not unpack .gl: for a local test),
# TESSERA_BENCH_REQUIRE_GPU (default 1: fail when Dawn falls back to a CPU adapter),
# NODE_DIR (default /tmp/node), TESSERA_BENCH_PYTHON (else the first python3 that imports torch).
# Writes $OUT/device.log (this output) and $OUT/gpu/{<adapter>-<date>.json,table.md,bench.log,env.txt}.
set -uo pipefail
T0=$(date +%s)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO" || exit 2
OUT=${OUT:-/tmp/device-out}
mkdir -p "$OUT/gpu"
exec > >(tee -a "$OUT/device.log") 2>&1
BUDGET=${DEVICE_BUDGET_S:-360}
NODE_DIR=${NODE_DIR:-/tmp/node}
export TESSERA_BENCH_REQUIRE_GPU=${TESSERA_BENCH_REQUIRE_GPU:-1}
TORCH_CUDA=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --torch-cuda) TORCH_CUDA=1; shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done
ARGS=("$@")
el() { echo $(( $(date +%s) - T0 )); }
say() { echo "[device.sh +$(el)s] $*"; }
fail() { say "FAILED: $*"; say "SUMMARY: failed before the suite ran ($*); took $(el) s"; exit 2; }
say "repo $REPO; out $OUT; budget ${BUDGET} s; run.mjs args: ${ARGS[*]:-(none: full mode)}; torch on $([[ $TORCH_CUDA == 1 ]] && echo cuda || echo cpu)"
[[ -f .devcarry/dist.stamp ]] && say "dist: $(cat .devcarry/dist.stamp)"

# Never clobber a real node_modules or dist (e.g. if run by mistake in a developer's checkout).
if [[ -e node_modules && ! -f node_modules/.devcarry-nm ]]; then
  [[ ${DEVICE_FORCE:-0} == 1 ]] || fail "./node_modules exists and was not made by device.sh; refusing to replace it (DEVICE_FORCE=1 to override)"
fi

# --- 1. Vulkan loader ---------------------------------------------------------------------------
if [[ ${DEVICE_SKIP_GL:-0} == 1 ]]; then
  say "1/6 .gl: skipped (DEVICE_SKIP_GL=1)"
else
  ls .gl/*.deb >/dev/null 2>&1 || fail "no .gl/*.deb (copy .gl/ with the repo)"
  for f in .gl/*.deb; do dpkg -x "$f" / || fail "dpkg -x $f"; done
  ldconfig
  VK=$(ldconfig -p 2>/dev/null | grep 'libvulkan.so.1 ' | head -1 | sed 's/^\s*//')
  say "1/6 .gl: unpacked $(ls .gl/*.deb | wc -l) debs; ${VK:-libvulkan.so.1 NOT in the ldconfig cache}"
fi

# --- 2. Node, node_modules, dist ----------------------------------------------------------------
for f in node nm dist; do [[ -f .devcarry/$f.tar.xz ]] || fail ".devcarry/$f.tar.xz is missing (make-bundle.sh; copy .devcarry/ with the repo)"; done
mkdir -p "$NODE_DIR" && tar -xJf .devcarry/node.tar.xz -C "$NODE_DIR" || fail "unpacking node"
NODE_V=$("$NODE_DIR/bin/node" --version) || fail "$NODE_DIR/bin/node does not run"
rm -rf node_modules && tar -xJf .devcarry/nm.tar.xz || fail "unpacking nm.tar.xz"
for p in core webgpu node nn; do rm -rf "packages/$p/dist"; done
tar -xJf .devcarry/dist.tar.xz -C packages || fail "unpacking dist.tar.xz"
say "2/6 node $NODE_V in $NODE_DIR; node_modules ($(du -sh node_modules | cut -f1)) and packages/*/dist ($(find packages/*/dist -name '*.js' | wc -l) .js) unpacked"

# --- 3. The NVIDIA Vulkan driver (ICD) ------------------------------------------------------------
ICD=""
for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d /usr/local/share/vulkan/icd.d /usr/local/nvidia/vulkan/icd.d; do
  for f in "$d"/nvidia*.json; do [[ -f $f ]] && { ICD=$f; break 2; }; done
done
[[ -n $ICD ]] || ICD=$(find /usr/local/nvidia /usr/share /etc /usr/lib -maxdepth 6 -name 'nvidia_icd*.json' 2>/dev/null | head -1)
if [[ -n $ICD ]]; then
  export VK_ICD_FILENAMES=$ICD VK_DRIVER_FILES=$ICD
  LIB=$(sed -n 's/.*"library_path" *: *"\([^"]*\)".*/\1/p' "$ICD" | head -1)
  LDCACHE=$(ldconfig -p 2>/dev/null)
  LIBPATH=$LIB
  if [[ -n $LIB && $LIB != /* ]]; then
    LIBPATH=$(grep -F "$LIB " <<<"$LDCACHE" | head -1 | sed 's/.*=> //')
    if [[ -z $LIBPATH ]]; then
      for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
        [[ -e $d/$LIB ]] && LIBPATH=$d/$LIB && export LD_LIBRARY_PATH=$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} && break
      done
    fi
  fi
  say "3/6 Vulkan ICD: $ICD (library_path $LIB -> ${LIBPATH:-NOT FOUND}${LD_LIBRARY_PATH:+; LD_LIBRARY_PATH=$LD_LIBRARY_PATH})"
  [[ -n $LIBPATH && -e $LIBPATH ]] && ldd "$LIBPATH" 2>/dev/null | grep 'not found' | sed 's/^/    MISSING for the driver: /'
else
  say "3/6 Vulkan ICD: no nvidia_icd.json found; Dawn will use whatever the loader finds${VK_ICD_FILENAMES:+ (VK_ICD_FILENAMES=$VK_ICD_FILENAMES)}"
  ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1 | sed 's/^/    /'
  ldconfig -p | grep -i -E 'libvulkan|nvidia' | head -8 | sed 's/^/    /'
fi

# --- 4. The GPU ----------------------------------------------------------------------------------
if command -v nvidia-smi >/dev/null; then
  say "4/6 nvidia-smi:"; timeout 20 nvidia-smi 2>&1 | head -20 | sed 's/^/    /'
else
  say "4/6 nvidia-smi: not found"
fi

# --- 5. PyTorch ------------------------------------------------------------------------------------
if [[ -z ${TESSERA_BENCH_PYTHON:-} ]]; then
  for py in "$(command -v python3 || true)" /opt/torch/.venv/bin/python3 /usr/bin/python3; do
    [[ -n $py && -x $py ]] && timeout 60 "$py" -c 'import torch' >/dev/null 2>&1 && { export TESSERA_BENCH_PYTHON=$py; break; }
  done
fi
[[ $TORCH_CUDA == 1 ]] && export TORCH_DEVICE=cuda
if [[ -n ${TESSERA_BENCH_PYTHON:-} ]]; then
  say "5/6 PyTorch: $TESSERA_BENCH_PYTHON: $(timeout 60 "$TESSERA_BENCH_PYTHON" -c 'import torch; print(torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name() if torch.cuda.is_available() else "")' 2>&1 | tail -1); peer on ${TORCH_DEVICE:-cpu}"
else
  say "5/6 PyTorch: no python3 with torch found (the torch column will say so)"
fi

# --- 5b. The test suites on this adapter (vt.tar.xz: vitest and friends) ---------------------------
if [[ -f .devcarry/vt.tar.xz && ${DEVICE_TESTS:-1} == 1 ]]; then
  say "5b tests: unpacking vt.tar.xz over node_modules"
  xz -dc .devcarry/vt.tar.xz | tar -xf - --skip-old-files 2>&1 | tail -3
  "$NODE_DIR/bin/node" scripts/embed-kernels.mjs >/dev/null 2>&1 || say "embed-kernels failed"
  TT=${DEVICE_TEST_S:-150}
  say "5b tests: vitest run ${DEVICE_TEST_DIRS:-tests/core tests/cnn tests/nn} (timeout ${TT} s) -> $OUT/tests.log"
  timeout -k 5 "$TT" "$NODE_DIR/bin/node" node_modules/vitest/vitest.mjs run ${DEVICE_TEST_DIRS:-tests/core tests/cnn tests/nn} > "$OUT/tests.log" 2>&1
  say "5b tests: exit $?"
  grep -E "Test Files|Tests |FAIL|✗|×" "$OUT/tests.log" | sed 's/\x1b\[[0-9;]*m//g' | head -30 | sed 's/^/    /'
fi

# --- 5c. The LeNet-5 step profile on this adapter ---------------------------------------------------
if [[ ${DEVICE_PROFILE:-1} == 1 ]]; then
  say "5c profile: bench/lenet-step.mjs 64 10 -> $OUT/lenet-step.txt"
  timeout -k 5 60 "$NODE_DIR/bin/node" bench/lenet-step.mjs 64 10 > "$OUT/lenet-step.txt" 2>&1
  say "5c profile: exit $?"; grep -v XDG "$OUT/lenet-step.txt" | sed 's/^/    /'
fi

# --- 5d. Where a dispatch's time goes (JS enqueue vs device) ----------------------------------------
if [[ ${DEVICE_PROFILE:-1} == 1 ]]; then
  say "5d dispatch probe: bench/dispatch-probe.mjs -> $OUT/dispatch-probe.txt"
  timeout -k 5 60 "$NODE_DIR/bin/node" bench/dispatch-probe.mjs > "$OUT/dispatch-probe.txt" 2>&1
  grep -v XDG "$OUT/dispatch-probe.txt" | sed 's/^/    /'
fi

# --- 6. The suite ------------------------------------------------------------------------------------
LEFT=$(( BUDGET - $(el) - 10 ))
(( LEFT > 30 )) || fail "only $LEFT s of DEVICE_BUDGET_S=$BUDGET left for the suite"
say "6/6 running (timeout ${LEFT} s): TESSERA_BENCH_REQUIRE_GPU=$TESSERA_BENCH_REQUIRE_GPU bench/gpu.sh $OUT/gpu $NODE_DIR -- ${ARGS[*]:-}"
timeout -k 5 "$LEFT" bash bench/gpu.sh "$OUT/gpu" "$NODE_DIR" -- "${ARGS[@]}"
STATUS=$?

# If Dawn found no adapter, show what the Vulkan loader says (the suite did not run: worth a look).
if [[ $STATUS == 2 ]] && ! grep -q '^adapter:' "$OUT/gpu/bench.log" 2>/dev/null && (( BUDGET - $(el) > 25 )); then
  say "no WebGPU adapter: Vulkan loader diagnostics (VK_LOADER_DEBUG=error,warn,driver):"
  VK_LOADER_DEBUG=error,warn,driver timeout 20 "$NODE_DIR/bin/node" --input-type=module -e "
    const { create } = await import('webgpu');
    const a = await create([]).requestAdapter();
    console.log('adapter:', a ? JSON.stringify(a.info) : null); process.exit(0);" 2>&1 | tail -40 | sed 's/^/    /'
fi

# --- Summary -----------------------------------------------------------------------------------------
echo
case $STATUS in
  0) WHAT="suite finished" ;;
  124|137) WHAT="TIMED OUT after ${LEFT} s (DEVICE_BUDGET_S=$BUDGET); see gpu/bench.log for the rows done" ;;
  3) WHAT="Dawn fell back to a CPU adapter (TESSERA_BENCH_REQUIRE_GPU=1): see gpu/env.txt, gpu/bench.log" ;;
  *) WHAT="gpu.sh exited with $STATUS: see gpu/bench.log" ;;
esac
say "SUMMARY: $WHAT; took $(el) s"
say "  $(grep -m1 '^adapter:' "$OUT/gpu/bench.log" 2>/dev/null || echo 'adapter: unknown')"
grep -E '^  (tfjs-webgpu|tfjs-cpu|torch): ' "$OUT/gpu/bench.log" 2>/dev/null | sed 's/^/  /'
say "  rows measured: $(grep -cE '^  [a-z0-9x-]+ \([0-9.]+ s\): tessera' "$OUT/gpu/bench.log" 2>/dev/null || true)"
say "  files: $(cd "$OUT" && find . -type f | sed 's#^\./##' | sort | tr '\n' ' ')"
exit $STATUS
