# shellcheck shell=bash
# Shared settings and helpers of the frontdoor test lab. Sourced by build, up, down, status, exec.
# Everything the lab creates is named here, so down can find it again and nothing else is touched.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_ROOT=${LAB_ROOT:-/var/lib/frontdoor-lab}   # rootfs cache, keys, per-host state, run files
LAB_BASE=$LAB_ROOT/rootfs-base                 # shared read-only lower layer (debootstrap)
LAB_RUN=$LAB_ROOT/run                          # inventory, known_hosts, pid files of what runs
LAB_BR=${LAB_BR:-fdlab0}                       # bridge on the machine
LAB_NET=${LAB_NET:-10.77.0}                    # /24; the machine is .1, host i is .(10+i)
LAB_NS_PREFIX=fdlab-h                          # network namespace of host i: fdlab-h<i>
LAB_MIRROR=${LAB_MIRROR:-http://deb.debian.org/debian}
LAB_SUITE=bookworm
LAB_MAX_HOSTS=200

die() { echo "lab: $*" >&2; exit 1; }
log() { echo "lab: $*" >&2; }

host_name() { echo "jira$1"; }
host_ip() { echo "$LAB_NET.$((10 + $1))"; }
host_ns() { echo "$LAB_NS_PREFIX$1"; }
host_dir() { echo "$LAB_ROOT/hosts/$(host_name "$1")"; }

# need_root_and_netns checks what every command that changes the machine needs, before any change.
need_root_and_netns() {
	[ "$(id -u)" = 0 ] || die "must run as root (it creates network namespaces, mounts and a bridge); try: sudo $0 $*"
	command -v ip >/dev/null || die "'ip' not found: apt-get install iproute2"
	command -v unshare >/dev/null || die "'unshare' not found: apt-get install util-linux"
	[ -e /proc/self/ns/net ] || die "this kernel has no network namespaces (/proc/self/ns/net missing)"
	grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
	grep -qw overlay /proc/filesystems || die "this kernel has no overlayfs (not in /proc/filesystems)"
	# A throw-away namespace proves we may create them (a container without CAP_SYS_ADMIN may not).
	local probe="fdlab-probe-$$"
	ip netns add "$probe" 2>/dev/null || die "cannot create a network namespace (ip netns add failed): run on a machine or VM with CAP_SYS_ADMIN"
	ip netns del "$probe"
}

# pid_alive PID COMM: true when PID runs and its comm is COMM (guards against recycled PIDs).
pid_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

# ns_init_pid NS: the PID (on the machine) of the init process of the host living in netns NS.
ns_init_pid() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do
		# NSpid lists the pid in every nested pid namespace; the host's init is 1 in the innermost.
		if awk '/^NSpid:/ { exit !($NF == 1 && NF > 2) }' "/proc/$p/status" 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

running_hosts() {
	local f
	for f in "$LAB_RUN"/pids/*.pid; do
		[ -e "$f" ] || continue
		basename "$f" .pid
	done
}
