# shellcheck shell=bash
# Sourced, not run: scripts/bootstrap, scripts/test and scripts/up call `bootstrap [--test]` in
# their own shell, so that the PATH and uv settings it exports reach the uv commands they run next.
# Expects the repository root as the working directory.
#
# It never installs into the system Python (Debian and Ubuntu refuse that, PEP 668): uv goes into a
# virtual environment of its own under $BOOTSTRAP_HOME, and system packages come from apt-get as
# root or through sudo. Whatever stops it ends in one paragraph naming what to install and how.

# pyproject.toml's requires-python (">=3.11,<3.13") as the Python minors `uv sync` accepts;
# tests/scripts checks that the two agree.
PYTHON_MINORS=(11 12)
# The uv that wrote uv.lock (lock revision 5): an older one may not read it, so a uv found on the
# machine is used only from this version on, and this one is installed when there is none.
UV_VERSION=0.13.9
BOOTSTRAP_HOME="${XDG_DATA_HOME:-${HOME:?HOME must be set}/.local/share}/service-runbooks"

say() { printf 'bootstrap: %s\n' "$*" >&2; }

# die <paragraph> [<command to run instead>...]: the one message a user sees when we cannot go on.
die() {
  printf '\nbootstrap: %s\n' "$1" >&2
  shift
  local line
  for line in "$@"; do printf '    %s\n' "$line" >&2; done
  exit 1
}

python_minors_text() {
  local text="" minor
  for minor in "${PYTHON_MINORS[@]}"; do text+="${text:+ or }3.$minor"; done
  printf '%s' "$text"
}

# version_at_least <version> <minimum>: dotted numeric comparison, enough for uv's x.y.z.
version_at_least() {
  local -a have want
  local i
  IFS=. read -r -a have <<<"${1%%[!0-9.]*}"
  IFS=. read -r -a want <<<"$2"
  for i in 0 1 2; do
    if ((10#${have[i]:-0} != 10#${want[i]:-0})); then
      ((10#${have[i]:-0} > 10#${want[i]:-0}))
      return
    fi
  done
  return 0
}

# run_logged <command>...: runs it with its output kept aside (apt-get and pip print screenfuls,
# mostly noise) and sets LOGGED_ERROR to the line that says what went wrong: the first error line,
# else the first warning (apt-get update succeeds when no mirror answers, only warning), else, on
# failure, the first line.
run_logged() {
  local log line status=0 error="" warning="" first=""
  log=$(mktemp)
  "$@" >"$log" 2>&1 || status=$?
  while IFS= read -r line; do
    if [[ -z $error && ($line == E:* || $line == ERROR:* || $line == error:*) ]]; then error=$line; fi
    if [[ -z $warning && $line == W:* ]]; then warning=$line; fi
    if [[ -z $first && -n $line ]]; then first=$line; fi
  done <"$log"
  rm -f "$log"
  LOGGED_ERROR=${error:-$warning}
  if ((status != 0)); then LOGGED_ERROR=${LOGGED_ERROR:-$first}; fi
  return "$status"
}

# --- Root access and Debian packages ------------------------------------------------------------

# root_access <what for>: sets SUDO to the prefix that runs a command as root, or returns 1 with
# the reason in NO_ROOT. A password prompt is fine at a terminal; without one (CI) it is not.
root_access() {
  SUDO=()
  if [[ $(id -u) -eq 0 ]]; then return 0; fi
  if ! command -v sudo >/dev/null 2>&1; then
    NO_ROOT="you are not root and sudo is not installed"
    return 1
  fi
  SUDO=(sudo)
  if sudo -n true 2>/dev/null; then return 0; fi
  if [[ -t 0 && -t 2 ]]; then
    say "sudo asks for your password to install $1"
    sudo -v && return 0
    NO_ROOT="sudo refused (is this user allowed to use it?)"
    return 1
  fi
  NO_ROOT="sudo needs a password and there is no terminal to ask for it"
  return 1
}

# apt_candidate <package>: prints the version apt would install; fails when there is none, which
# is also what empty package lists (a fresh container, apt-get update never run) look like.
apt_candidate() {
  local line
  while IFS= read -r line; do
    if [[ $line =~ Candidate:\ (.*) ]]; then
      [[ ${BASH_REMATCH[1]} != "(none)" ]] || return 1
      printf '%s\n' "${BASH_REMATCH[1]}"
      return 0
    fi
  done < <(apt-cache policy "$1" 2>/dev/null)
  return 1
}

apt_run() { run_logged "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y "$@"; }

# debian_install <why> <package>...: installs the packages, or ends the bootstrap saying how to.
debian_install() {
  local why=$1 package updated=no
  shift
  LOGGED_ERROR=""
  local instead="apt-get update && apt-get install -y --no-install-recommends $*"
  local noun="package $*, which"
  (($# == 1)) || noun="packages $*, which"
  local cannot="$why; it comes with the Debian $noun cannot be installed here"
  if ! command -v apt-get >/dev/null 2>&1; then
    die "$cannot: this machine has no apt-get (it is not Debian or Ubuntu). Install the equivalent with its package manager, then run $0 again."
  fi
  root_access "$*" || die "$cannot: $NO_ROOT. Run this as root, then $0 again:" "$instead"
  for package in "$@"; do
    if ! apt_candidate "$package" >/dev/null; then
      say "updating the apt package lists (apt knows no $package yet)"
      apt_run update || die "$cannot: apt-get update failed ($LOGGED_ERROR). Check the network and /etc/apt/sources.list*, then run this as root, and $0 again:" "$instead"
      updated=yes
      break
    fi
  done
  for package in "$@"; do
    apt_candidate "$package" >/dev/null || die "$cannot: $package is not in this machine's apt sources${LOGGED_ERROR:+ (apt-get update said: $LOGGED_ERROR)} (on Ubuntu it may need the universe component: add-apt-repository universe). Add it, then run this as root, and $0 again:" "$instead"
  done
  say "installing $* with apt-get ($why)"
  # Lists that are merely old name files the mirror has since dropped: refresh them once.
  if ! apt_run install --no-install-recommends "$@"; then
    if [[ $updated == yes ]] || ! apt_run update || ! apt_run install --no-install-recommends "$@"; then
      die "$cannot: apt-get install failed ($LOGGED_ERROR). Fix that, then run this as root, and $0 again:" "$instead"
    fi
  fi
}

# ensure_debian_package <command> <package> [<service>]: makes <command> (a name on PATH or an
# absolute path) available, installing the Debian <package> when it is missing. A <service> the
# package starts on installation is stopped and disabled: the tests start their own instances.
ensure_debian_package() {
  local command=$1 package=$2 service=${3:-}
  command -v "$command" >/dev/null 2>&1 && return 0
  debian_install "the command $command is missing" "$package"
  if [[ -n $service ]] && command -v systemctl >/dev/null 2>&1; then
    "${SUDO[@]}" systemctl disable --now "$service" >/dev/null 2>&1 || true
  fi
  command -v "$command" >/dev/null 2>&1 ||
    die "installed the Debian package $package, but $command is still not found (PATH=$PATH)."
}

# --- Python -------------------------------------------------------------------------------------

# probe_python <python>: sets PROBED_VERSION (x.y.z), PROBED_PREFIX (its installation's prefix:
# /usr for Debian's own) and PROBED_PATH, the base interpreter's binary. A virtual environment's
# python names the interpreter it was made from, a pyenv shim the real binary: handing uv sync
# that keeps an existing .venv, where the shim or the venv's own python makes uv rebuild it; and
# the same Python reads the same on every run, whichever name found it.
probe_python() {
  local out
  out=$("$1" -c 'import os, sys; print("%d.%d.%d" % sys.version_info[:3]); print(sys.base_prefix); print(os.path.realpath(getattr(sys, "_base_executable", "") or sys.executable))' 2>/dev/null) || return 1
  { read -r PROBED_VERSION && read -r PROBED_PREFIX && read -r PROBED_PATH; } <<<"$out" || return 1
  [[ $PROBED_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ && -n $PROBED_PATH ]]
}

python_fits() {
  local minor
  for minor in "${PYTHON_MINORS[@]}"; do
    [[ $PROBED_VERSION == "3.$minor."* ]] && return 0
  done
  return 1
}

# Sets PYTHON, PYTHON_VERSION and PYTHON_PREFIX to the first Python that fits among
# $RUNBOOKS_PYTHON alone when it is set; else the one .venv was made with (so it is kept),
# python3, then python3.12 and python3.11 on PATH. Otherwise FOUND_PYTHONS lists what did not fit.
find_python() {
  local candidate path i
  local -a candidates seen=()
  if [[ -n ${RUNBOOKS_PYTHON:-} ]]; then
    candidates=("$RUNBOOKS_PYTHON")
  else
    candidates=(.venv/bin/python python3)
    for ((i = ${#PYTHON_MINORS[@]} - 1; i >= 0; i--)); do
      candidates+=("python3.${PYTHON_MINORS[i]}")
    done
  fi
  for candidate in "${candidates[@]}"; do
    path=$(command -v "$candidate" 2>/dev/null) || continue
    probe_python "$path" || continue
    if python_fits; then
      PYTHON=$PROBED_PATH PYTHON_VERSION=$PROBED_VERSION PYTHON_PREFIX=$PROBED_PREFIX
      return 0
    fi
    seen+=("$candidate is $PROBED_VERSION ($path)")
  done
  FOUND_PYTHONS="none at all"
  if ((${#seen[@]} > 0)); then
    FOUND_PYTHONS=${seen[0]}
    for ((i = 1; i < ${#seen[@]}; i++)); do FOUND_PYTHONS+=", ${seen[i]}"; done
  fi
  return 1
}

# Installs Debian's own python3 when it fits (Debian 12: 3.11; Ubuntu 24.04: 3.12), else a
# python3.X package that does (Ubuntu 22.04 has python3.11 in universe), with its venv support.
install_debian_python() {
  local packages=() version minor
  if ! apt_candidate python3 >/dev/null; then
    say "updating the apt package lists to look for a Python $(python_minors_text)"
    apt_run update || return 1
  fi
  if version=$(apt_candidate python3); then
    for minor in "${PYTHON_MINORS[@]}"; do
      [[ $version == "3.$minor."* ]] && packages=(python3 python3-venv)
    done
  fi
  if ((${#packages[@]} == 0)); then
    for minor in "${PYTHON_MINORS[@]}"; do
      apt_candidate "python3.$minor" >/dev/null && packages=("python3.$minor" "python3.$minor-venv")
    done
  fi
  ((${#packages[@]} > 0)) || return 1
  debian_install "no Python $(python_minors_text) was found" "${packages[@]}"
}

ensure_python() {
  if [[ -n ${RUNBOOKS_PYTHON:-} ]]; then
    find_python || die "RUNBOOKS_PYTHON=$RUNBOOKS_PYTHON is not a Python $(python_minors_text) (found: $FOUND_PYTHONS), which the project needs (requires-python in pyproject.toml). Point RUNBOOKS_PYTHON at one, or unset it to let the bootstrap look on PATH, then run $0 again."
  elif ! find_python; then
    local found=$FOUND_PYTHONS why_not=""
    LOGGED_ERROR=""
    if ! command -v apt-get >/dev/null 2>&1; then
      why_not="this machine has no apt-get to install one with"
    elif ! root_access "Python"; then
      why_not=$NO_ROOT
    elif ! install_debian_python; then
      why_not="apt offers none${LOGGED_ERROR:+ (apt-get: $LOGGED_ERROR)}"
    elif ! find_python; then
      why_not="apt-get installed one, yet none is on PATH ($PATH)"
    fi
    [[ -z $why_not ]] || die "no Python $(python_minors_text) found, which the project needs (requires-python in pyproject.toml; found: $found), and $why_not. Install one as root, then run $0 again. On Debian 12 and Ubuntu 24.04 that is the system Python: apt-get update && apt-get install -y python3 python3-venv; on Ubuntu 22.04 (whose python3 is 3.10): apt-get update && apt-get install -y python3.11 python3.11-venv. Debian 13's python3 is 3.13, which the locked environment does not support: there, install a Python $(python_minors_text) another way (pyenv, or from source) and set RUNBOOKS_PYTHON to it. uv is not allowed to download one (UV_PYTHON_DOWNLOADS=never)."
  fi
  say "using Python $PYTHON_VERSION ($PYTHON)"
}

# --- uv -----------------------------------------------------------------------------------------

# Sets UV to a uv of at least UV_VERSION: on PATH, where its own installer or an earlier bootstrap
# put it, or the one this bootstrap installed.
find_uv() {
  local candidate version
  for candidate in "$(command -v uv 2>/dev/null || true)" "$HOME/.local/bin/uv" \
    "$HOME/.cargo/bin/uv" "$BOOTSTRAP_HOME/bin/uv"; do
    [[ -n $candidate && -x $candidate ]] || continue
    version=$("$candidate" --version 2>/dev/null) || continue
    version=${version#uv }
    if version_at_least "${version%% *}" "$UV_VERSION"; then
      UV=$candidate
      return 0
    fi
  done
  return 1
}

# Installs uv from PyPI with pip, into a virtual environment of its own made with the chosen
# Python; only a link to its uv goes on PATH, so that its python and pip shadow nothing.
install_uv() {
  local venv="$BOOTSTRAP_HOME/uv-venv" minor=${PYTHON_VERSION#3.}
  minor=${minor%%.*}
  say "installing uv $UV_VERSION from PyPI into $venv (the system Python stays untouched)"
  mkdir -p "$BOOTSTRAP_HOME/bin"
  if ! run_logged "$PYTHON" -m venv --clear "$venv"; then
    [[ $PYTHON_PREFIX == /usr ]] || die "Python $PYTHON_VERSION ($PYTHON) cannot make a virtual environment ($LOGGED_ERROR). Repair its venv module, or set RUNBOOKS_PYTHON to another Python $(python_minors_text), then run $0 again."
    # Debian ships venv's pip bootstrap (ensurepip) apart, in python3.X-venv.
    debian_install "Python $PYTHON_VERSION cannot make virtual environments" "python3.$minor-venv"
    run_logged "$PYTHON" -m venv --clear "$venv" ||
      die "Python $PYTHON_VERSION ($PYTHON) still cannot make a virtual environment after installing python3.$minor-venv ($LOGGED_ERROR)."
  fi
  run_logged "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "uv==$UV_VERSION" ||
    die "pip could not install uv $UV_VERSION from PyPI into $venv ($LOGGED_ERROR). Check that PyPI (or the index your pip configuration names) is reachable and run $0 again, or install uv $UV_VERSION or newer yourself and put it on PATH, e.g.:" "pipx install uv"
  ln -sfn ../uv-venv/bin/uv "$BOOTSTRAP_HOME/bin/uv"
  UV=$BOOTSTRAP_HOME/bin/uv
}

# --- The whole ----------------------------------------------------------------------------------

# bootstrap [--test]: a fitting Python, with --test the Debian packages the tests start for real,
# uv, and the locked environment in .venv. Leaves uv first on PATH and UV_PYTHON set, exported.
bootstrap() {
  local tests=no
  case "$*" in
    "") ;;
    --test) tests=yes ;;
    *) die "usage: $0 [--test]" ;;
  esac
  BOOTSTRAP_CALLER_PATH=$PATH
  # The environment is built on a Python of this machine: uv would otherwise fetch one from
  # GitHub, which may be unreachable (only PyPI and apt have to be).
  export UV_PYTHON_DOWNLOADS=never
  # Trust the machine's certificate store as apt does (a TLS-inspecting proxy's CA is added there
  # with update-ca-certificates), not only the roots uv bundles; a machine without the store
  # (no ca-certificates package) keeps those.
  if [[ -z ${UV_SYSTEM_CERTS:-} && -s /etc/ssl/certs/ca-certificates.crt ]]; then
    export UV_SYSTEM_CERTS=true
  fi
  ensure_python
  # `uv run` checks .venv against this and the uv sync below the same way.
  export UV_PYTHON=$PYTHON
  if [[ $tests == yes ]]; then
    # What the tests start for real, one line each: ensure_debian_package <command> <package>
    # [<service the package starts>]. Alertmanager: an upstream install names it alertmanager.
    command -v alertmanager >/dev/null 2>&1 ||
      ensure_debian_package prometheus-alertmanager prometheus-alertmanager prometheus-alertmanager
    # promtool checks and unit-tests the shipped alert rules (deploy/prometheus).
    ensure_debian_package promtool prometheus prometheus
    # kubectl renders the kustomize overlays (deploy/) and talks to the simulated cluster.
    ensure_debian_package kubectl kubectl
    # The high-availability tests run Prefect on PostgreSQL, as production does.
    ensure_debian_package pg_ctlcluster postgresql postgresql
  fi
  find_uv || install_uv
  if [[ $(command -v uv 2>/dev/null || true) != "$UV" ]]; then
    PATH="${UV%/*}:$PATH"
    export PATH
  fi
  uv sync --frozen --quiet --python "$PYTHON"
}

# For someone running the bootstrap by hand: where uv is, when their own shell would find another
# uv or none.
tell_where_uv_is() {
  local dir
  local -a dirs
  IFS=: read -r -a dirs <<<"$BOOTSTRAP_CALLER_PATH"
  for dir in "${dirs[@]}"; do
    if [[ -x $dir/uv ]]; then
      [[ $dir/uv -ef $UV ]] && return 0
      break
    fi
  done
  say "uv is $UV (scripts/test and scripts/up find it on their own); to run it yourself: export PATH=\"${UV%/*}:\$PATH\""
}
