#!/bin/sh
# Gives this machine the PyTorch that the export tests (test/export) run the exported
# model.py and train.py with: Debian's python3-torch, with OpenBLAS's pthread build.
# Tests run it as /usr/bin/python3 (the system interpreter Debian's package is built for).
# Idempotent; does nothing when `import torch` already works. ONNX Runtime comes from npm
# (onnxruntime-node, a devDependency), so there is nothing to set up for it here.
set -eu

# OPENBLAS_* variables of the calling environment (a core type forced for another BLAS build)
# can make Debian's OpenBLAS refuse to start, so the check runs without them, as the tests do.
torch_ok() {
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 -c 'import torch' >/dev/null 2>&1
}

if torch_ok; then
  echo "setup-torch: torch $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 -c 'import torch; print(torch.__version__)') already installed"
  exit 0
fi
if [ ! -r /etc/os-release ] || ! grep -q '^ID=debian' /etc/os-release; then
  cat >&2 <<MSG
setup-torch: /usr/bin/python3 cannot import torch and this is not Debian, so I cannot install it for you.
Install PyTorch for /usr/bin/python3 (for instance your distribution's python3-torch), then run the command again.
MSG
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-torch: installing python3-torch needs root (apt-get). Run as root, or install python3-torch and libopenblas0-pthread yourself." >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
if ! torch_ok; then
  echo "setup-torch: python3-torch is installed but /usr/bin/python3 still cannot import torch:" >&2
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 -c 'import torch' >&2 || true
  exit 1
fi
echo "setup-torch: torch $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 -c 'import torch; print(torch.__version__)') installed"
