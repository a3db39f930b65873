# Shared by bin/demo and bin/test: find Python 3.12+, make .venv, install the locked dependencies.
# Re-installs only when pyproject.toml or requirements.lock changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.12 python3 python3.13; do
    [[ -n "$candidate" ]] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if (3, 12) <= sys.version_info[:2] < (3, 14) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "zoomadmin needs Python 3.12 or 3.13 (set PYTHON=/path/to/python3.12)." >&2
  return 1
}

bootstrap_venv() {  # $1: extras, e.g. "dev" or ""
  local extras="$1" stamp=".venv/.installed${1:+-$1}" want
  want="$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)"
  if [[ ! -x .venv/bin/python ]]; then
    echo "==> Creating .venv"
    "$(find_python)" -m venv .venv
  fi
  # A dev install (bin/test) also serves the demo.
  if [[ -z "$extras" && -f .venv/.installed-dev && "$(cat .venv/.installed-dev)" == "$want" ]]; then
    stamp=.venv/.installed-dev
  fi
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "==> Installing dependencies (locked in requirements.lock)"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -c requirements.lock -e ".${extras:+[$extras]}"
    echo "$want" > "$stamp"
  fi
  export PATH="$ROOT/.venv/bin:$PATH"
}
