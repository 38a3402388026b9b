#!/usr/bin/env bash
# Runs on the GPU device machine (no Node.js, no registry): unpacks what bench/device/prepare.sh
# put in .cache/device/, installs the Vulkan/GL loader libraries, points Vulkan at the NVIDIA ICD,
# then runs with WebGPU (Dawn, webgpu@0.4.0):
#   1. the adapter probe and describe()
#   2. the conformance suite on gpujs:webgpu (values and gradients of every primitive vs cpu64)
#   3. the UNet-d3-b16 jit training step at 64², 128², 256² b8 (bench/device/unet-step.js), split
#      into host JavaScript, submission, GPU and read-back, with both convolution variants, and
#      PyTorch CUDA on the same model and arrays in the same call; ends with the summary table
#   with FULL=1 also:
#   4. the gpu.js benchmark on webgpu (matmul, conv2d, 50-op chain, UNet-d3-b16)
#   5. the backend tests (the gpu.js traps, lifetimes, the queue) and the training-step comparison
# Logs go to $OUT (default .cache/device-out). Without an adapter every step says so and the script
# still ends with exit status 0 and a summary. Each step has its own time limit; the default run
# stays under 6 minutes (the device tool allows 600 s per command).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
D=$ROOT/.cache/device
OUT=${OUT:-$ROOT/.cache/device-out}
mkdir -p "$OUT"
W=${TMPDIR:-/tmp}/boundary-seg-device
rm -rf "$W"
mkdir -p "$W"
LOG=$OUT/run.log
: > "$LOG"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$LOG"; }
STARTED=$(date +%s)

[ -f "$D/node.xz" ] && [ -f "$D/app.tar.xz" ] || { log "missing $D: run bench/device/prepare.sh first and carry .cache/device"; exit 1; }

unxz_to() { # file.xz → stdout, with xz or Python's lzma
  if command -v xz > /dev/null 2>&1; then xz -dc "$1"
  elif command -v python3 > /dev/null 2>&1; then python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"
  else log "neither xz nor python3 is available to unpack $1"; return 1; fi
}
unxz_to "$D/node.xz" > "$W/node" && chmod +x "$W/node"
unxz_to "$D/app.tar.xz" | tar -C "$W" -xf -
NODE=$W/node
log "node $("$NODE" --version) unpacked to $W"

# Vulkan/GL loaders (libvulkan.so.1 for Dawn)
# (DEVICE_LOCAL_LIBS=1 keeps them out of / when testing this script on a machine that is not the device)
if [ "$(id -u)" = 0 ] && command -v dpkg > /dev/null 2>&1 && [ "${DEVICE_LOCAL_LIBS:-0}" != 1 ]; then
  for f in "$D"/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig || true
  log "installed $(ls "$D"/debs | tr '\n' ' ')"
else
  mkdir -p "$W/root"
  for f in "$D"/debs/*.deb; do dpkg -x "$f" "$W/root" 2> /dev/null || (cd "$W/root" && ar p "$f" data.tar.xz | tar -xJf -); done
  export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$W/root/usr/lib/x86_64-linux-gnu"
  log "unpacked the loader libraries under $W/root (LD_LIBRARY_PATH)"
fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; break; fi
done
log "VK_DRIVER_FILES=${VK_DRIVER_FILES:-<none found: Dawn will look for any Vulkan driver>}"
(command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || echo "nvidia-smi: not available") | tee "$OUT/nvidia-smi.txt" | sed 's/^/  /' | tee -a "$LOG"

cd "$W/app"
step() { # name, seconds, command...
  local name=$1 limit=$2; shift 2
  local t0; t0=$(date +%s)
  log "== $name (limit ${limit} s)"
  timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  log "   $name: exit $rc after $(( $(date +%s) - t0 )) s (log: $name.log)"
  return 0
}

step probe 60 "$NODE" --input-type=module -e '
  import("./backends/gpujs/runtime.js").then(async (rt) => {
    const p = await rt.probeWebGpu();
    if (!p.adapter) { console.log(`no WebGPU adapter: ${p.problem}`); return; }
    const info = p.adapter.info ?? {};
    console.log(`adapter: ${JSON.stringify({ vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, fallback: info.isFallbackAdapter })}`);
    await rt.releaseWebGpu();
    const m = await import("./backends/gpujs/backend.js");
    const b = await m.createGpujsBackend({ mode: "webgpu" });
    console.log(`describe: ${JSON.stringify(await b.describe())}`);
    await b.dispose();
    const a = await m.createGpujsBackend({ mode: "auto" });
    console.log(`auto: ${JSON.stringify(await a.describe())}`);
    await a.dispose();
  });'
sed 's/^/  /' "$OUT/probe.log" | grep -v artificially | tee -a "$LOG"

step conformance-webgpu 150 "$NODE" --test --test-reporter=spec spec/conformance-gpujs-webgpu.test.js
grep -E "conformance:|SKIPPED|^# (pass|fail|skipped)|^ℹ (pass|fail|skipped)|✖" "$OUT/conformance-webgpu.log" | head -20 | sed 's/^/  /' | tee -a "$LOG"

step unet-step 300 "$NODE" bench/device/unet-step.js --sizes "${SIZES:-64,128,256}" --batch 8 --seconds "${SECONDS_PER_SIZE:-3}"
grep -vE "artificially|^ - While" "$OUT/unet-step.log" | sed 's/^/  /' | tee -a "$LOG"

if [ "${FULL:-0}" = 1 ]; then
  export BOUNDARY_SEG_GPUJS_MODES=${BOUNDARY_SEG_GPUJS_MODES:-webgpu}
  step bench-webgpu 270 "$NODE" bench/device/bench.js ${BENCH_ONLY:+--only "$BENCH_ONLY"}
  grep -vE "artificially|^ - While" "$OUT/bench-webgpu.log" | sed 's/^/  /' | tee -a "$LOG"

  step backend-tests 100 "$NODE" --test --test-reporter=spec spec/gpujs-backend.test.js spec/gpujs-webgpu-queue.test.js spec/gpujs-training.test.js
  grep -E "SKIPPED|losses|threaded|^ℹ (pass|fail|skipped)|✖" "$OUT/backend-tests.log" | head -30 | sed 's/^/  /' | tee -a "$LOG"
fi

log "done in $(( $(date +%s) - STARTED )) s; logs in $OUT"
exit 0
