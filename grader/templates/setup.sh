#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (this zip is unpacked in
# /autograder/source). It installs a Python >= 3.11 if the image has none, then PyTorch with its CPU pin
# first (so pip takes the CPU build, not GBs of CUDA), then the grader from the wheel in this zip: the
# version that grades is the one bundled. Everything goes into a venv beside this script.
# TORCH_INDEX (default: PyTorch's CPU wheels) is an extra index for torch; set it empty to use pip's own.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
torch_index="${TORCH_INDEX-https://download.pytorch.org/whl/cpu}"

recent_python() {
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

apt_install() {
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

python="$(recent_python)" || { apt_install python3.11 python3.11-venv && python=python3.11; }
echo "setup: using $(command -v "$python") ($("$python" --version))"
if ! "$python" -m venv "$here/venv"; then  # Debian and Ubuntu ship ensurepip apart, in python3.X-venv
    rm -rf "$here/venv"
    apt_install "$python-venv" && "$python" -m venv "$here/venv"
fi
"$here/venv/bin/python" -m pip install ${torch_index:+--extra-index-url "$torch_index"} "@torch@"
"$here/venv/bin/python" -m pip install "$here/@wheel@"
"$here/venv/bin/grade" --help >/dev/null
echo "setup: the grader is installed in $here/venv"
