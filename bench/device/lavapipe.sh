#!/usr/bin/env bash
# For developers without a GPU: fetches Mesa 25's lavapipe (a Vulkan driver running on the CPU) from
# Debian bookworm-backports into .cache/lavapipe/ (no system change: a private apt state, dpkg -x),
# so that Dawn (webgpu@0.4.0) finds a (software) WebGPU adapter. Debian 12's own lavapipe (Mesa 22.3)
# lacks shaderUniform*ArrayDynamicIndexing, which Dawn requires. Prints the two variables to export:
#   eval "$(bash bench/device/lavapipe.sh)" && npm test
set -euo pipefail
cd "$(dirname "$0")/../.."
L=$PWD/.cache/lavapipe
mkdir -p "$L/apt/lists/partial" "$L/apt/cache/archives/partial" "$L/debs" "$L/root"
echo 'deb http://deb.debian.org/debian bookworm-backports main' > "$L/apt/sources.list"
APT=(-o "Dir::Etc::sourcelist=$L/apt/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$L/apt/lists" -o "Dir::Cache=$L/apt/cache")
if [ ! -f "$L/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" ]; then
  apt-get "${APT[@]}" update -q >&2
  (cd "$L/debs" && apt-get "${APT[@]}" download mesa-vulkan-drivers libdrm2 libdrm-amdgpu1 >&2 && apt-get download libvulkan1 >&2)
  for f in "$L"/debs/*.deb; do dpkg -x "$f" "$L/root"; done
fi
sed "s#\"libvulkan_lvp.so\"#\"$L/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so\"#" "$L/root/usr/share/vulkan/icd.d/lvp_icd.json" > "$L/lvp_icd.json"
echo "export LD_LIBRARY_PATH=$L/root/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
echo "export VK_DRIVER_FILES=$L/lvp_icd.json"
