#!/bin/sh
# Gives this machine a WebGPU adapter for Dawn's `webgpu` package when it has none.
# On a machine without a GPU we use Mesa's lavapipe (a CPU Vulkan driver). Debian 12's own Mesa
# (22.3) is too old for Dawn, so on Debian we take mesa-vulkan-drivers from the backports suite,
# whose source we derive from the machine's own Debian apt source (no host is named here).
# Idempotent; does nothing when a Vulkan driver is already installed.
set -eu

have_vulkan_icd() {
  ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json "${VK_DRIVER_FILES:-/nonexistent}" 2>/dev/null | grep -q .
}

lavapipe_ok() {
  # lvp_icd from Mesa >= 23 is new enough for Dawn.
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 23
}

if [ -n "${VK_DRIVER_FILES:-}" ] || { have_vulkan_icd && ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; }; then
  echo "setup-webgpu: a non-lavapipe Vulkan driver is configured; leaving it alone"
  exit 0
fi
if lavapipe_ok && ldconfig -p | grep -q libvulkan.so.1; then
  echo "setup-webgpu: lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed"
  exit 0
fi

if [ ! -r /etc/os-release ] || ! grep -q '^ID=debian' /etc/os-release; then
  cat >&2 <<MSG
setup-webgpu: no Vulkan driver found and this is not Debian, so I cannot install one for you.
Install a Vulkan driver: a GPU vendor driver, or Mesa's lavapipe (mesa-vulkan-drivers, Mesa >= 23)
plus the Vulkan loader (libvulkan1), then run the command again.
MSG
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-webgpu: installing lavapipe needs root (apt-get). Run as root, or install mesa-vulkan-drivers (>= 23) and libvulkan1 from ${VERSION_CODENAME:-your release}-backports yourself." >&2
  exit 1
fi

. /etc/os-release
suite="${VERSION_CODENAME}-backports"
if ! apt-cache policy mesa-vulkan-drivers 2>/dev/null | grep -q "$suite"; then
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    # First stanza of the machine's own deb822 source, pointed at the backports suite.
    awk 'BEGIN{RS="";ORS="\n\n"} NR==1' /etc/apt/sources.list.d/debian.sources \
      | sed "s/^Suites:.*/Suites: ${suite}/" > /etc/apt/sources.list.d/nnx-backports.sources
  elif [ -r /etc/apt/sources.list ]; then
    # One-line format: reuse the first deb line's mirror and components.
    grep -m1 '^deb ' /etc/apt/sources.list | awk -v s="$suite" '{ $3 = s; print }' \
      > /etc/apt/sources.list.d/nnx-backports.list
  else
    echo "setup-webgpu: found no Debian apt source to derive ${suite} from" >&2
    exit 1
  fi
  apt-get update -qq
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t "$suite" mesa-vulkan-drivers libvulkan1 >/dev/null
echo "setup-webgpu: lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) installed"
