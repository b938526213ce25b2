#!/usr/bin/env bash
# Installs the notebook toolchain and executes the notebooks headlessly.
#
#   bash notebooks/run.sh                 install if needed, run every notebook (outputs not saved)
#   bash notebooks/run.sh --write         … and save the executed outputs into the .ipynb files
#   bash notebooks/run.sh --selftest      check that the runner fails on the broken fixtures
#   bash notebooks/run.sh --install       install only
#   bash notebooks/run.sh [--write] notebooks/01-quickstart.ipynb …   run some notebooks
#
# Options: --timeout SECONDS per notebook (default 300).
#
# The toolchain, all from Debian and the Go module proxy (no PyPI):
#   - Debian jupyter-nbconvert, python3-nbclient, jupyter-client, run with /usr/bin/python3;
#   - GoNB v0.11.1 (the Go kernel, which compiles each cell as real Go) and
#     goimports v0.52.0 (GoNB needs it), built from the module cache:
#     `go install MODULE@VERSION` is refused by the proxy used here, so the
#     module is downloaded and installed from inside its directory;
#   - the kernel spec: `gonb --install --raw_error --force_deps` (gopls, for
#     auto-complete only, is optional).
# Every step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

GONB_VERSION=v0.11.1
TOOLS_VERSION=v0.52.0 # golang.org/x/tools, for goimports
PY=/usr/bin/python3

mode=run
write=()
timeout=300
notebooks=()
while (($#)); do
	case "$1" in
	--install) mode=install ;;
	--selftest) mode=selftest ;;
	--write) write=(--write) ;;
	--timeout)
		timeout="$2"
		shift
		;;
	--timeout=*) timeout="${1#--timeout=}" ;;
	-h | --help)
		sed -n '2,21p' "$0"
		exit 0
		;;
	-*)
		echo "run.sh: unknown option $1" >&2
		exit 2
		;;
	*) notebooks+=("$1") ;;
	esac
	shift
done

gobin="$(go env GOBIN)"
[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

# go_install_from_cache MODULE VERSION SUBDIR: downloads MODULE@VERSION into
# the module cache and runs `go install .` in its SUBDIR.
go_install_from_cache() {
	local tmp dir
	tmp="$(mktemp -d)"
	dir="$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
	rmdir "$tmp"
	if [[ -z "$dir" || ! -d "$dir/$3" ]]; then
		echo "run.sh: could not download $1@$2" >&2
		return 1
	fi
	(cd "$dir/$3" && GOFLAGS=-mod=mod go install .)
}

install() {
	if ! "$PY" -c 'import nbclient, nbformat, jupyter_client' 2>/dev/null || ! command -v jupyter-nbconvert >/dev/null; then
		echo "== installing Debian jupyter-nbconvert python3-nbclient jupyter-client"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq jupyter-nbconvert python3-nbclient jupyter-client >/dev/null
	fi
	if [[ "$(gonb -V 2>/dev/null || true)" != "$GONB_VERSION" ]]; then
		echo "== building GoNB $GONB_VERSION from the module cache"
		go_install_from_cache github.com/janpfeifer/gonb "$GONB_VERSION" .
	fi
	if ! command -v goimports >/dev/null; then
		echo "== building goimports (golang.org/x/tools $TOOLS_VERSION) from the module cache"
		go_install_from_cache golang.org/x/tools "$TOOLS_VERSION" cmd/goimports
	fi
	local spec
	spec="$(jupyter --data-dir)/kernels/gonb/kernel.json"
	if ! grep -q -- "$gobin/gonb\".*--raw_error" "$spec" 2>/dev/null; then
		echo "== installing the GoNB kernel spec"
		local out
		if ! out="$(cd /tmp && gonb --install --raw_error --force_deps 2>&1)"; then
			echo "$out" >&2
			return 1
		fi
	fi
	echo "== notebook toolchain: GoNB $(gonb -V), $(go version | cut -d' ' -f3), nbclient $("$PY" -c 'import nbclient; print(nbclient.__version__)')"
}

install
case "$mode" in
install) ;;
selftest)
	echo "== runner self-test: every broken fixture must fail"
	"$PY" notebooks/run_notebooks.py --expect-fail --timeout 120 notebooks/testdata/broken*.ipynb
	echo "== runner self-test: a cell over the time limit must fail"
	"$PY" notebooks/run_notebooks.py --expect-fail --timeout 5 notebooks/testdata/slow.ipynb
	echo "== runner self-test: a healthy notebook (stderr text alone) must pass"
	"$PY" notebooks/run_notebooks.py --timeout 120 notebooks/testdata/ok.ipynb
	;;
run)
	if ((${#notebooks[@]} == 0)); then
		notebooks=(notebooks/[0-9][0-9]-*.ipynb)
	fi
	"$PY" notebooks/run_notebooks.py "${write[@]}" --timeout "$timeout" "${notebooks[@]}"
	;;
esac
