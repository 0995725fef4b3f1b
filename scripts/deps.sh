# SPDX-License-Identifier: MIT
# Sourced by demo.sh and test.sh: installs what a fresh Debian 12 lacks, then nothing.
airlock_deps() {
	local pkgs=(gcc libc6-dev pkg-config meson ninja-build libpng-dev libjpeg62-turbo-dev libseccomp-dev
		libmagic-dev libmagic-mgc libsndfile1-dev libflac-dev libmpg123-dev libogg-dev libvorbis-dev libopus-dev
		libwebp-dev libgif-dev libtiff-dev liblcms2-dev libavformat-dev libavcodec-dev libavutil-dev libswscale-dev python3 "$@")
	local missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	echo "airlock: installing ${missing[*]}" >&2
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

airlock_build() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
}

# The interpreter the Python package is built and tested with must make
# virtual environments (Debian: python3-venv, for ensurepip) and have its C
# headers (Debian: python3-dev; pyenv and python.org builds ship them).
airlock_python_check() {
	local py=$1
	"$py" - <<'PY' >&2
import os, sys, sysconfig
missing = []
try:
    import ensurepip, venv  # noqa: F401
except ImportError:
    missing.append("venv/ensurepip (Debian: python3-venv)")
if not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")):
    missing.append("Python.h (Debian: python3-dev)")
if missing:
    sys.exit(f"airlock: {sys.executable} lacks " + " and ".join(missing))
PY
}
