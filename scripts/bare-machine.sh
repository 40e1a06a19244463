#!/usr/bin/env bash
# Run the README's two commands (`npm ci`, `npm test`) in a fresh clone of this repository's
# committed HEAD, on this machine made "bare" without uninstalling anything: in a private mount
# namespace (needs root / unshare) the Debian Python packages (python3-onnx, torch, jupyter...),
# every system font and Debian's chromium are hidden, and HOME is a fresh folder. What is left is
# what the README assumes: Node >= 20, npm, Python >= 3.9 with venv, and the registries.
#
#   scripts/bare-machine.sh                      # npm ci, then the full npm test
#   scripts/bare-machine.sh test/onnx.test.ts    # npm ci, then only these test files (vitest args)
#   BARE_NOTEBOOK=01-the-inference-process.ipynb scripts/bare-machine.sh test/notebooks.test.ts
#                                                # the notebook test on that one notebook only
# The log goes to $BARE_WORK/bare-machine.log (default: a new /tmp/inference-lab-bare-* folder).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)

if [ "${INFERENCE_LAB_INSIDE_BARE:-}" != 1 ]; then
  WORK=${BARE_WORK:-$(mktemp -d /tmp/inference-lab-bare-XXXXXX)}
  mkdir -p "$WORK"
  echo "bare machine: work folder $WORK, log $WORK/bare-machine.log"
  exec unshare --mount --propagation private env INFERENCE_LAB_INSIDE_BARE=1 BARE_WORK="$WORK" REAL_HOME="$HOME" "$0" "$@"
fi

WORK=$BARE_WORK
LOG=$WORK/bare-machine.log
exec > >(tee -a "$LOG") 2>&1

hide_dir() { [ -d "$1" ] && mount -t tmpfs -o size=1m,mode=755 tmpfs "$1" && echo "hidden: $1"; return 0; }
hide_dir /usr/lib/python3/dist-packages   # Debian's python3-onnx, python3-torch, jupyter, numpy...
hide_dir /usr/share/fonts                 # fonts-dejavu-core and every other system font
hide_dir /usr/local/share/fonts
hide_dir /usr/lib/chromium                # Debian's chromium
# /usr/bin/chromium and any jupyter launcher: whiteouts in an overlay over /usr/bin.
mkdir -p "$WORK/usr-bin/upper" "$WORK/usr-bin/work"
for name in chromium chromium-browser jupyter jupyter-lab jupyter-notebook; do
  [ -e "/usr/bin/$name" ] && mknod "$WORK/usr-bin/upper/$name" c 0 0
done
mount -t overlay overlay -o "lowerdir=/usr/bin,upperdir=$WORK/usr-bin/upper,workdir=$WORK/usr-bin/work" /usr/bin
echo "hidden: /usr/bin/{chromium,jupyter*}"

export HOME=$WORK/home # no ~/.local kernelspecs, no unpacked browser, no user fonts
mkdir -p "$HOME"
export npm_config_cache=$REAL_HOME/.npm PIP_CACHE_DIR=$REAL_HOME/.cache/pip # caches only: the registries still answer
[ -d "$REAL_HOME/.pyenv" ] && export PYENV_ROOT=$REAL_HOME/.pyenv
export PYTHONNOUSERSITE=1
unset PYTHONPATH CHROMIUM_PATH FONTCONFIG_FILE FONTCONFIG_PATH ONNXRUNTIME_NODE_INSTALL npm_config_onnxruntime_node_install JUPYTER_PATH JUPYTER_DATA_DIR || true

echo "== the bare machine"
echo "node $(node --version), npm $(npm --version), $(python3 --version) at $(command -v python3)"
for py in python3 /usr/bin/python3; do
  if "$py" -c 'import onnx' 2>/dev/null; then echo "FAIL: $py still imports onnx"; exit 1; fi
  echo "$py: no onnx, torch: $("$py" -c 'import torch' 2>/dev/null && echo yes || echo no)"
done
echo "system fonts: $(fc-list 2>/dev/null | wc -l)"
echo "chromium: $(command -v chromium || echo none); jupyter: $(command -v jupyter || echo none)"

echo "== fresh clone of $(git -C "$REPO" rev-parse --short HEAD)"
rm -rf "$WORK/clone"
git clone -q "$REPO" "$WORK/clone"
cd "$WORK/clone"

echo "== npm ci"
start=$(date +%s)
npm ci 2>&1 | tee "$WORK/npm-ci.log"
echo "npm ci: $(( $(date +%s) - start )) s; 'Unknown project config' lines: $(grep -c 'Unknown project config' "$WORK/npm-ci.log" || true)"

echo "== npm test $*"
if [ -n "${BARE_NOTEBOOK:-}" ]; then
  mkdir -p notebooks-bare && cp "notebooks/$BARE_NOTEBOOK" notebooks-bare/
  export INFERENCE_LAB_NOTEBOOKS_DIR=$PWD/notebooks-bare
fi
start=$(date +%s)
set +e
if [ $# -gt 0 ]; then npm test -- "$@"; else npm test; fi
rc=$?
set -e
echo "npm test: exit $rc in $(( $(date +%s) - start )) s"
exit $rc
