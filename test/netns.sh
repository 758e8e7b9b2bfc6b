#!/usr/bin/env bash
# usage: bash test/netns.sh COMMAND [ARGS...]
#
# Runs COMMAND in a private network namespace that holds only `lo` and a veth
# pair (v0 198.18.0.1/24 <-> v1, both ends inside) with a default route into
# it. Nothing can leave the machine, yet Chromium and libjuice see a routable
# non-loopback interface, which they need to gather WebRTC ICE candidates
# (see ../shared/PLATFORM.md, "The network namespace for WebRTC tests").
#
# Sets WEFT_NETNS=1 inside. If we already are in such a namespace, COMMAND
# runs directly (no nesting). As root a plain `unshare -n` is used; otherwise
# a user namespace (`unshare -rn`) provides the privileges to create the veth.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"  # `ip` lives there; non-root PATHs may lack it

if [ "$#" -eq 0 ]; then
  echo "usage: bash test/netns.sh COMMAND [ARGS...]" >&2
  exit 2
fi

# Interfaces visible in *this process's* network namespace (/proc/net/dev
# follows the netns; /sys/class/net would show the namespace sysfs was mounted in).
only_private_ifaces () {
  local names
  names=$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev | sort | tr '\n' ' ')
  [ "$names" = "lo v0 v1 " ]
}

if [ "${WEFT_NETNS:-}" = "1" ] && only_private_ifaces; then
  exec "$@"
fi

for tool in unshare ip; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "test/netns.sh: '$tool' not found (apt-get install -y iproute2 util-linux)" >&2
    exit 127
  fi
done

if [ "$(id -u)" -eq 0 ]; then UNSHARE=(unshare -n); else UNSHARE=(unshare -rn); fi

exec "${UNSHARE[@]}" bash -c '
  set -e
  ip link set lo up
  ip link add v0 type veth peer name v1
  ip addr add 198.18.0.1/24 dev v0
  ip link set v1 up
  ip link set v0 up
  ip route add default dev v0
  export WEFT_NETNS=1
  exec "$@"
' netns "$@"
