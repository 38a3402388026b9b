#!/usr/bin/env bash
# Prepares what the GPU device machine needs in the git-ignored
# folder .cache/device/, run here (where Node, npm's node_modules and apt are):
#   node.xz       this machine's Node binary, xz-compressed (the device has no Node.js)
#   app.tar.xz    the project compiled to JavaScript (spec/ and bench/ included) with the runtime
#                 node_modules it needs: gpu.js (+ acorn, gpu-mock.js), webgpu@0.4.0 with only its
#                 linux-x64 Dawn build, fp-ts, io-ts, fast-check (+ pure-rand), benchmark (+ lodash,
#                 platform). No gl: the device runs WebGPU.
#   debs/         libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 (apt-get download)
# and checks that the whole folder stays under 64 MiB. Then, on the device (the `device` tool, with
# carry: [".cache/device"]):   bash bench/device/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
D=.cache/device
LIMIT_MIB=64

rm -rf "$D"
mkdir -p "$D/debs"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
APP=$STAGE/app

echo "prepare: node $(node --version) → $D/node.xz"
xz -T0 -9 -c "$(command -v node)" > "$D/node.xz"

echo "prepare: compiling the project to JavaScript"
# tsc emits even when a file elsewhere in the tree has a type error (another issue's work in
# progress); the files this script runs are checked below.
node node_modules/typescript/bin/tsc -p tsconfig.json --noEmit false --outDir "$APP" --rootDir . \
  --sourceMap false --declaration false --noEmitOnError false > "$STAGE/tsc.log" 2>&1 || {
  echo "prepare: tsc reported type errors (emitted anyway):"; head -5 "$STAGE/tsc.log"; }
for f in spec/conformance-gpujs-webgpu.test.js spec/gpujs-backend.test.js spec/gpujs-webgpu-queue.test.js spec/gpujs-training.test.js bench/device/bench.js bench/device/unet-step.js backends/gpujs/backend.js; do
  [ -f "$APP/$f" ] || { echo "prepare: $f was not emitted" >&2; exit 1; }
done
# the PyTorch peer of the UNet step (the device has python3 with CUDA PyTorch, no Node.js)
mkdir -p "$APP/bench/python" && cp bench/python/peers.py "$APP/bench/python/peers.py"
node -e 'const p = require("./package.json"); require("fs").writeFileSync(process.argv[1], JSON.stringify({ name: p.name, version: p.version, type: "module", private: true }, null, 2))' "$APP/package.json"

echo "prepare: runtime node_modules"
mkdir -p "$APP/node_modules"
for pkg in gpu.js acorn gpu-mock.js webgpu fp-ts io-ts fast-check pure-rand benchmark lodash platform; do
  [ -d "node_modules/$pkg" ] || { echo "prepare: node_modules/$pkg is missing (npm ci first)" >&2; exit 1; }
  cp -r "node_modules/$pkg" "$APP/node_modules/$pkg"
done
# gpu.js never loads its nested webgpu@0.2.9 (the npm override makes it 0.4.0 anyway) nor gl here
rm -rf "$APP/node_modules/gpu.js/node_modules" "$APP/node_modules/gpu.js/dist"
# webgpu: only the linux-x64 Dawn build
find "$APP/node_modules/webgpu/dist" -type f ! -name 'linux-x64.dawn.node' -delete
rm -rf "$APP/node_modules/webgpu/build" "$APP/node_modules/webgpu/example" "$APP/node_modules/webgpu/test"
rm -rf "$APP/node_modules/fp-ts/es6" "$APP/node_modules/io-ts/es6"
find "$APP/node_modules" \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.md' -o -name '*.ts.map' \) -type f -delete
find "$APP/node_modules" -type d \( -name docs -o -name doc -o -name test -o -name tests -o -name '__tests__' \) -prune -exec rm -rf {} +
[ -f "$APP/node_modules/webgpu/dist/linux-x64.dawn.node" ] || { echo "prepare: webgpu's linux-x64.dawn.node is missing" >&2; exit 1; }

echo "prepare: checking that the package runs without this repository's node_modules"
CHECK=$(mktemp -d)
cp -r "$APP" "$CHECK/app"
(cd "$CHECK/app" && node --input-type=module -e '
  const m = await import("./backends/gpujs/backend.js");
  const b = await m.createGpujsBackend({ mode: "webasm" });
  await b.dispose();
  await import("./spec/conformance-gpujs.js");
  await import("benchmark");
  console.log("prepare: package loads (gpujs:webasm starts)");
') || { rm -rf "$CHECK"; echo "prepare: the package does not load" >&2; exit 1; }
rm -rf "$CHECK"

tar -C "$STAGE" -cf - app | xz -T0 -9 > "$D/app.tar.xz"

echo "prepare: Debian packages for the Vulkan/GL loaders"
(cd "$D/debs" && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 2>&1 | grep -v 'unsandboxed' || true)
for p in libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2; do
  ls "$D/debs/${p}_"*.deb > /dev/null 2>&1 || { echo "prepare: apt-get download $p failed" >&2; exit 1; }
done

cp bench/device/run.sh "$D/run.sh"
BYTES=$(du -sb "$D" | cut -f1)
ls -la "$D" "$D/debs"
echo "prepare: $D is $((BYTES / 1024 / 1024)) MiB ($BYTES bytes; limit ${LIMIT_MIB} MiB)"
[ "$BYTES" -lt $((LIMIT_MIB * 1024 * 1024)) ] || { echo "prepare: too big for the device's 64 MiB carry" >&2; exit 1; }
echo "prepare: done. On the device: bash bench/device/run.sh (carry .cache/device); logs go to \$OUT"
