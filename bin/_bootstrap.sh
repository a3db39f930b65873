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

# Background services in process groups of their own: start them between `set -m` and `set +m`
# (each job then leads its own group, its pgid is its pid). A Ctrl-C then reaches only the script,
# whose trap stops every group with stop_groups, children included (gunicorn's workers, Celery's
# pool), instead of each service racing its own shutdown.

# stop_groups SECONDS PGID...: TERM every group, wait up to SECONDS for all of them to be gone, then
# KILL what is left. Graceful shutdowns (gunicorn's 30 s, Celery's warm shutdown that waits for its
# tasks) must not hold the exit past the deadline, however loaded the machine is.
stop_groups() {
  local grace="$1" pgid end
  shift
  for pgid in "$@"; do kill -TERM -- "-$pgid" 2>/dev/null || true; done
  end=$((SECONDS + grace))
  while ((SECONDS < end)) && groups_alive "$@"; do sleep 0.1; done
  groups_alive "$@" || return 0
  for pgid in "$@"; do kill -KILL -- "-$pgid" 2>/dev/null || true; done
  # SIGKILL cannot be ignored: this only waits for the kernel to tear the processes down.
  end=$((SECONDS + 2))
  while ((SECONDS < end)) && groups_alive "$@"; do sleep 0.1; done
}

groups_alive() {  # true while any process of any of the groups exists
  local pgid
  for pgid in "$@"; do
    if kill -0 -- "-$pgid" 2>/dev/null; then return 0; fi
  done
  return 1
}
