#!/bin/bash
# demo.sh — `make run`: install what is needed, build, boot the stock
# Debian 6.1 kernel under QEMU TCG with an emulated AMD-V CPU, and run the
# guest-side demo (scripts/modes/run.sh) with its output streamed here.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
scripts/deps.sh
scripts/build-stage.sh >/dev/null || { scripts/build-stage.sh; exit 1; }
# The initramfs carries vidvm's guest (the same kernel) for the demo.
VID_GUEST=1 exec scripts/run-suite.sh run "$(scripts/kernels.sh list | sed -n 1p)"
