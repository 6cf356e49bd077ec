# Shared by the scripts: installs Debian packages that are missing, as root or through sudo.
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Creates .venv (python3 -m venv) with the given PyPI packages when it lacks any of them,
# and puts it first on PATH so that `python3` in tests and scripts finds them.
ensure_venv() {
  local imports="$1"; shift
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import $imports" 2>/dev/null; then
    echo "== setting up .venv ($*)"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check "$@"
  fi
  export PATH="$PWD/.venv/bin:$PATH"
}
