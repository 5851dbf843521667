#!/bin/sh
# Prerequisites of the Makefile targets, checked with a message that says what to do.
#
#   tools/prereq.sh venv EXTRA   .venv ready with `pip install -e .[EXTRA]` (EXTRA: demo, dev, infra,
#                                live, lambda; "core" for no extra). Python 3.11 or later: $PYTHON when
#                                set, else the first of python3.13, python3.12, python3.11, python3 that
#                                runs and is recent enough. An existing .venv whose python does not run,
#                                is older than 3.11, has no pip, or (with $PYTHON set) is another
#                                version than $PYTHON, is rebuilt. Each extra has its own stamp
#                                (.venv/.installed-EXTRA holding a checksum of pyproject.toml): it is
#                                installed once, and again only when pyproject.toml changes.
#   tools/prereq.sh node         Node.js 18 or later on PATH (only `make synth` needs it).
set -eu
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

recent() {  # a command that runs Python 3.11 or later (pyenv shims of absent versions fail here)
  "$@" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

find_python() {
  if [ -n "${PYTHON:-}" ]; then
    if recent "$PYTHON"; then echo "$PYTHON"; return 0; fi
    echo "error: PYTHON=$PYTHON is not a working Python 3.11 or later." >&2
    return 1
  fi
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && recent "$candidate"; then echo "$candidate"; return 0; fi
  done
  found=$(python3 --version 2>&1 | head -n 1 || true)
  cat >&2 <<EOF
error: ecs-autopsy needs Python 3.11 or later; none was found (python3: ${found:-not found}).
  Install one (https://www.python.org/downloads/, \`sudo apt install python3.12 python3.12-venv\`,
  \`brew install python@3.12\`, \`pyenv install 3.12\`), or name it: make PYTHON=/path/to/python3.12 demo
EOF
  return 1
}

venv_problem() {  # empty when $VENV is usable, else why not
  py="$VENV/bin/python"
  [ -e "$VENV" ] || { echo "missing"; return 0; }
  [ -x "$py" ] || { echo "it has no bin/python"; return 0; }
  have=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || {
    echo "its python does not run (made on another machine, or its Python was removed)"; return 0; }
  recent "$py" || { echo "it was made by Python $have; ecs-autopsy needs 3.11 or later"; return 0; }
  "$py" -c 'import pip' >/dev/null 2>&1 || { echo "it has no pip"; return 0; }
  if [ -n "${PYTHON:-}" ]; then
    want=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
    [ "$want" = "$have" ] || { echo "it was made by Python $have, not PYTHON=$PYTHON ($want)"; return 0; }
  fi
  return 0
}

cmd_venv() {
  extra=${1:?usage: tools/prereq.sh venv EXTRA}
  problem=$(venv_problem)
  if [ -n "$problem" ]; then
    [ "$problem" = missing ] || echo "note: $VENV is stale, rebuilding it: $problem."
    python=$(find_python) || exit 1
    rm -rf "$VENV"
    if ! "$python" -m venv "$VENV" >/dev/null 2>&1; then
      rm -rf "$VENV"
      echo "error: \`$python -m venv\` failed. On Debian/Ubuntu install the venv module:" \
           "sudo apt install $(basename "$python")-venv" >&2
      exit 1
    fi
  fi
  sum=$(cksum < pyproject.toml)
  stamp="$VENV/.installed-$extra"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
    return 0
  fi
  spec="."
  [ "$extra" = core ] || spec=".[$extra]"
  echo "Installing $spec into $VENV ($("$VENV/bin/python" --version 2>&1)); first time only..."
  log="$VENV/pip-install.log"
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off -e "$spec" >"$log" 2>&1; then
    tail -n 25 "$log" >&2
    echo "error: \`pip install -e '$spec'\` failed (full output: $log)." >&2
    exit 1
  fi
  echo "$sum" > "$stamp"
}

cmd_node() {
  if ! command -v node >/dev/null 2>&1; then
    echo "error: \`make synth\` needs Node.js 18 or later (for the AWS CDK CLI); node is not on PATH." \
         "Install it from https://nodejs.org/ (or \`brew install node\`, \`sudo apt install nodejs npm\`)." >&2
    exit 1
  fi
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -lt 18 ]; then
    echo "error: \`make synth\` needs Node.js 18 or later; found $(node --version)." >&2
    exit 1
  fi
  command -v npm >/dev/null 2>&1 || { echo "error: \`make synth\` needs npm (it installs the CDK CLI)." >&2; exit 1; }
}

case "${1:-}" in
  venv) shift; cmd_venv "$@" ;;
  node) cmd_node ;;
  *) echo "usage: tools/prereq.sh venv EXTRA | node" >&2; exit 2 ;;
esac
