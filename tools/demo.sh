#!/usr/bin/env bash
# The main job, end to end on a real image: build a busybox image layout with umoci (from Debian's
# busybox-static, no Docker), then use the ocikit CLI to list, validate, copy, check and collect it,
# let skopeo and umoci read the copy ocikit wrote, push it to a real registry (Basic auth, started
# here), pull it back, and run containers from it with runc.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
registry_pid=
cleanup() {
  [ -z "$registry_pid" ] || kill "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ocikit() { node packages/cli/bin/ocikit.js "$@"; }
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

# A one-layer busybox image, written by umoci.
umoci init --layout "$work/src" >/dev/null
umoci new --image "$work/src:busybox" >/dev/null
umoci unpack --image "$work/src:busybox" "$work/bundle" >/dev/null
install -D -m 0755 /bin/busybox "$work/bundle/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$work/bundle/rootfs/bin/$applet"
done
mkdir -p "$work/bundle/rootfs/etc"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$work/bundle/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$work/bundle/rootfs/etc/group"
umoci repack --image "$work/src:busybox" "$work/bundle" >/dev/null
umoci config --image "$work/src:busybox" --config.cmd /bin/sh --config.workingdir / >/dev/null

step ocikit ls "oci:$work/src"
ocikit ls "oci:$work/src"

manifest=$(jq -r '.manifests[0].digest' "$work/src/index.json")
step ocikit validate --kind manifest "$work/src/blobs/${manifest/://}"
ocikit validate --kind manifest "$work/src/blobs/${manifest/://}"

step ocikit copy "oci:$work/src:busybox" "oci:$work/dst:busybox"
ocikit copy "oci:$work/src:busybox" "oci:$work/dst:busybox"

step ocikit fsck "oci:$work/dst"
ocikit fsck "oci:$work/dst"

step ocikit gc "oci:$work/src"
ocikit gc "oci:$work/src"

step ocikit digest "$work/dst/blobs/${manifest/://}"
ocikit digest "$work/dst/blobs/${manifest/://}"

step skopeo inspect "oci:$work/dst:busybox"
skopeo inspect "oci:$work/dst:busybox" | jq '{Digest, Architecture, Os, Layers}'

step umoci unpack --image "$work/dst:busybox" "$work/unpacked"
umoci unpack --image "$work/dst:busybox" "$work/unpacked" >/dev/null
ls "$work/unpacked/rootfs/bin" | head -n 5

# A real registry (CNCF distribution) with a password, on a free loopback port.
node --conditions=@ocikit/source tools/registry/src/cli.ts start --auth basic >"$work/registry.json" &
registry_pid=$!
for _ in $(seq 100); do [ -s "$work/registry.json" ] && break; sleep 0.1; done
host=$(jq -r .host "$work/registry.json")
user=$(jq -r .credentials.username "$work/registry.json")
export DOCKER_CONFIG="$work/docker"
root="$work/root"

step ocikit login -u "$user" --password-stdin "$host"
jq -r .credentials.password "$work/registry.json" | ocikit login -u "$user" --password-stdin "$host"

step ocikit push "oci:$work/dst:busybox" "$host/demo/busybox:1"
ocikit push "oci:$work/dst:busybox" "$host/demo/busybox:1"

step ocikit inspect "$host/demo/busybox:1"
ocikit inspect "$host/demo/busybox:1"

step ocikit --root "$root" pull "$host/demo/busybox:1"
ocikit --root "$root" pull "$host/demo/busybox:1"
ocikit --root "$root" images

step ocikit --root "$root" run --rm "$host/demo/busybox:1" sh -c 'echo "hello from $(hostname) as uid $(id -u)"'
ocikit --root "$root" run --rm "$host/demo/busybox:1" sh -c 'echo "hello from $(hostname) as uid $(id -u)"'

step ocikit --root "$root" run -d --name demo "$host/demo/busybox:1" sh -c 'echo ready; sleep 60'
ocikit --root "$root" run -d --name demo "$host/demo/busybox:1" sh -c 'echo ready; sleep 60' >/dev/null
sleep 0.5
ocikit --root "$root" ps
ocikit --root "$root" logs demo
ocikit --root "$root" exec demo sh -c 'echo "exec sees $(ls /bin | wc -l) applets"'
ocikit --root "$root" stop -t 1 demo
ocikit --root "$root" rm demo

printf '\ndemo: ok\n'
