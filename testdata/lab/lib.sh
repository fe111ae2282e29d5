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
LAB_MIRROR_PORT=8077                           # the lab's package mirror on $LAB_NET.1 (internal/labmirror)
LAB_MAX_HOSTS=200
# sudo password of user "ops" in every host: distinctive, so tests can search argv and output for it.
LAB_OPS_PASSWORD=frontdoor-ops-pw-7Q2x

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

# ---- starting and stopping one host (used by up and reset) ----

hostkeys() { # the host's SSH keys are made once per name and kept, so known_hosts stays valid
	local k=$LAB_ROOT/keys/hostkeys/$(host_name "$1") t
	mkdir -p "$k"
	for t in ed25519 ecdsa rsa; do
		[ -e "$k/ssh_host_${t}_key" ] || ssh-keygen -q -t "$t" -N '' -C "root@$(host_name "$1")" -f "$k/ssh_host_${t}_key"
	done
}

# host_mode I: the init mode of host i (LAB_INIT_OF_<i> overrides LAB_INIT).
host_mode() {
	local v=LAB_INIT_OF_$1
	echo "${!v:-${LAB_INIT:-systemd}}"
}

# host_products I: the products host i runs: jira always; LAB_PRODUCTS_OF_<i> may add
# confluence (with its Synchrony stand-in) and bitbucket, e.g. "jira confluence bitbucket".
host_products() {
	local v=LAB_PRODUCTS_OF_$1
	echo "${!v:-jira}"
}

# host_flavor I: the platform host i plays: debian (default) or rocky (LAB_FLAVOR_OF_<i>=rocky:
# the CentOS layout around Debian's Apache binary, Rocky's os-release, SELinux tools emulated).
host_flavor() {
	local v=LAB_FLAVOR_OF_$1
	echo "${!v:-debian}"
}

# flavor_rocky D: turns host dir D's upper layer into a CentOS-layout host. Real: the CentOS
# files (httpd.conf, 00-proxy.conf from the fixtures), Rocky 9's os-release, Apache 2.4 itself.
# Emulated, and named so in each file: httpd/apachectl (Debian's binary on /etc/httpd),
# getenforce/getsebool/setsebool (state in /etc/selinux/lab-emulated-state, nothing enforced).
flavor_rocky() {
	local d=$1 p
	cp -a "$LAB_DIR/flavors/rocky/." "$d/upper/"
	mkdir -p "$d/upper/etc/httpd/conf.d" "$d/upper/var/log/httpd" "$d/upper/etc/systemd/system/multi-user.target.wants" \
		"$d/upper/etc/pki/tls/certs" "$d/upper/etc/pki/tls/private" # RHEL's certificate folders (ca-certificates, openssl)
	ln -s /usr/lib/apache2/modules "$d/upper/etc/httpd/modules"
	ln -s /var/log/httpd "$d/upper/etc/httpd/logs"
	ln -s /run/httpd "$d/upper/etc/httpd/run"
	# Debian's Apache layout and tools hidden (overlayfs whiteouts), its service masked.
	for p in etc/apache2 etc/init.d/apache2 usr/sbin/apache2ctl usr/sbin/a2enmod usr/sbin/a2dismod usr/sbin/a2ensite \
		usr/sbin/a2dissite usr/sbin/a2enconf usr/sbin/a2disconf usr/sbin/a2query; do
		mkdir -p "$(dirname "$d/upper/$p")" && mknod "$d/upper/$p" c 0 0
	done
	ln -s /dev/null "$d/upper/etc/systemd/system/apache2.service"
	ln -s ../httpd.service "$d/upper/etc/systemd/system/multi-user.target.wants/httpd.service"
	# RHEL's httpd runs as apache (uid 48).
	{ cat "$LAB_BASE/etc/passwd"; echo 'apache:x:48:48:Apache:/usr/share/httpd:/usr/sbin/nologin'; } >"$d/upper/etc/passwd"
	{ cat "$LAB_BASE/etc/group"; echo 'apache:x:48:'; } >"$d/upper/etc/group"
}

# flavor_windows D: turns host dir D's upper layer into an EMULATED Windows host: internal/winemu
# (built by up) answers SSH and SFTP on :22 as Windows OpenSSH with cmd.exe does, over the
# directory /C: (drive C:). Real: Apache Lounge's httpd.conf (fixture, with CRLF as on Windows)
# loaded by the Apache 2.4 binary, Jira's Tomcat (its server.xml with CRLF, reached as
# C:\Program Files\Atlassian\JIRA), OpenSSH's protocol. See internal/winemu for what is emulated.
flavor_windows() {
	local d=$1 c
	c="$d/upper/C:"
	mkdir -p "$c/Apache24/conf/extra" "$c/Apache24/logs" "$c/Apache24/htdocs" "$c/Apache24/cgi-bin" "$c/Apache24/bin" \
		"$c/Program Files/Atlassian" "$c/ProgramData" "$d/upper/usr/local/sbin" "$d/upper/etc/systemd/system/multi-user.target.wants" \
		"$d/upper/opt/atlassian/jira/conf"
	sed 's/$/\r/' "$LAB_DIR/../fixtures/apache-distro/windows-apachelounge-2.4.56-original-httpd.conf" >"$c/Apache24/conf/httpd.conf"
	cp "$LAB_BASE/etc/mime.types" "$c/Apache24/conf/mime.types"
	printf '<html><body><h1>It works!</h1></body></html>\r\n' >"$c/Apache24/htdocs/index.html"
	ln -s /usr/lib/apache2/modules "$c/Apache24/modules"
	ln -s /opt/atlassian/jira "$c/Program Files/Atlassian/JIRA"
	# Jira's server.xml as the Windows installer leaves it: CRLF (same owner and mode).
	cp -a "$LAB_BASE/opt/atlassian/jira/conf/server.xml" "$d/upper/opt/atlassian/jira/conf/server.xml"
	sed 's/$/\r/' "$LAB_BASE/opt/atlassian/jira/conf/server.xml" >"$d/work/server.xml.crlf"
	cat "$d/work/server.xml.crlf" >"$d/upper/opt/atlassian/jira/conf/server.xml" && rm -f "$d/work/server.xml.crlf"
	cp "$LAB_ROOT/winemu" "$d/upper/usr/local/sbin/winemu"
	cat >"$d/upper/etc/systemd/system/winemu.service" <<'UNIT'
[Unit]
Description=EMULATED Windows host (frontdoor lab): SSH/SFTP on :22, services Apache2.4 and jira
After=network.target

[Service]
ExecStart=/usr/local/sbin/winemu
KillMode=process

[Install]
WantedBy=multi-user.target
UNIT
	ln -s ../winemu.service "$d/upper/etc/systemd/system/multi-user.target.wants/winemu.service"
	ln -s /dev/null "$d/upper/etc/systemd/system/ssh.service"
	ln -s /dev/null "$d/upper/etc/systemd/system/apache2.service"
}

# host_no_apache I: whether host i starts without Apache (LAB_NO_APACHE_OF_<i>=1): a fresh host for
# apache: {install: true}: on Debian its only apt repository is the lab's mirror (build's stage
# 2b); on the rocky flavor the EMULATED dnf installs it.
host_no_apache() {
	local v=LAB_NO_APACHE_OF_$1
	[ "${!v:-}" = 1 ]
}

# without_apache D: removes Apache from host dir D's upper layer as apt-get purge --autoremove does
# (its packages, their configuration, its service), and points apt at the lab's mirror alone, with
# its key trusted and its lists fetched: what frontdoor's install then finds is a real Debian host
# without Apache. reset honours LAB_NO_APACHE_OF_<i> too (labtest.ResetWithoutApache).
without_apache() {
	local d=$1 script
	[ -s "$LAB_ROOT/mirror/apache-set" ] || die "the lab's mirror is not built: run testdata/lab/build"
	mkdir -p "$d/upper/etc/apt/keyrings"
	cp "$LAB_ROOT/mirror/frontdoor-lab-mirror.gpg" "$d/upper/etc/apt/keyrings/frontdoor-lab-mirror.gpg"
	# Run in the host's root: policy-rc.d keeps the purge from touching services on the machine.
	script=$(cat <<'SH'
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
apt-get purge -y -q $1 >/dev/null
rm -f /usr/sbin/policy-rc.d
rm -rf /etc/apache2 /var/lib/apache2 /var/www /var/lib/apt/lists/* /etc/apt/sources.list.d/* /etc/apt/sources.list
echo "deb [signed-by=/etc/apt/keyrings/frontdoor-lab-mirror.gpg] $2 ./" >/etc/apt/sources.list
apt-get update -qq 2>/dev/null # lists as a fresh host has them (up starts the mirror first)
SH
)
	unshare --mount --propagation private -- bash -euc '
		mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$2/merged"
		mount -t proc proc "$2/merged/proc"
		chroot "$2/merged" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -euc "$3" _ "$4" "$5"
	' _ "$LAB_BASE" "$d" "$script" "$(tr -s '\n' ' ' <"$LAB_ROOT/mirror/apache-set")" "http://$LAB_NET.1:$LAB_MIRROR_PORT" ||
		die "removing Apache from $d failed"
	touch "$d/no-apache"
}

# without_httpd D: the CentOS-layout host of dir D without Apache: its httpd "package" (the
# /etc/httpd layout, the unit, the emulated httpd and apachectl) moved into the EMULATED dnf's
# payload (/usr/share/frontdoor-lab/rpm/httpd), its service not enabled; dnf install httpd puts
# it back as RHEL's package would. The apache user stays, as RPM leaves users it created.
without_httpd() {
	local d=$1 r=$1/upper/usr/share/frontdoor-lab/rpm/httpd
	mkdir -p "$r/etc/systemd/system" "$r/usr/sbin" "$r/var/log"
	mv "$d/upper/etc/httpd" "$r/etc/httpd"
	mv "$d/upper/var/log/httpd" "$r/var/log/httpd"
	mv "$d/upper/etc/systemd/system/httpd.service" "$r/etc/systemd/system/httpd.service"
	rm -f "$d/upper/etc/systemd/system/multi-user.target.wants/httpd.service"
	mv "$d/upper/usr/sbin/httpd" "$d/upper/usr/sbin/apachectl" "$r/usr/sbin/"
	mknod "$d/upper/usr/sbin/apachectl" c 0 0 # Debian's apachectl symlink stays hidden (a whiteout)
	touch "$d/no-apache"
}

# product_port P: the HTTP port product P answers on in the lab (its shipped default).
product_port() {
	case $1 in jira) echo 8080 ;; confluence) echo 8090 ;; bitbucket) echo 7990 ;; bamboo) echo 8085 ;; fisheye) echo 8060 ;; crowd) echo 8095 ;; *) die "unknown product $1" ;; esac
}

# prepare_disk I N MODE PRODUCTS FLAVOR: host i's fresh disk (the overlay's upper layer): keys,
# names, machine id, the products' init scripts and the flavor's files.
prepare_disk() {
	local i=$1 n=$2 mode=$3 products=$4 flavor=$5 d name ip j p r
	d=$(host_dir "$i") name=$(host_name "$i") ip=$(host_ip "$i")
	rm -rf "$d" && mkdir -p "$d/upper/etc/ssh" "$d/work" "$d/merged"
	hostkeys "$i"
	cp "$LAB_ROOT/keys/hostkeys/$name/"ssh_host_* "$d/upper/etc/ssh/"
	echo "$name" >"$d/upper/etc/hostname"
	{
		printf '127.0.0.1\tlocalhost\n%s\t%s.lab.test %s\n' "$ip" "$name" "$name"
		for j in $(seq 1 "$n"); do [ "$j" = "$i" ] || printf '%s\t%s.lab.test %s\n' "$(host_ip "$j")" "$(host_name "$j")" "$(host_name "$j")"; done
	} >"$d/upper/etc/hosts"
	echo "nameserver 127.0.0.1" >"$d/upper/etc/resolv.conf" # DNS fails fast: hosts have no outside
	printf '%032x\n' "$((0xf00d0000 + i))" >"$d/upper/etc/machine-id"
	for p in $products; do # enable the extra products' init scripts in this host only
		[ "$p" = jira ] && continue
		product_port "$p" >/dev/null
		for r in 2 3 4 5; do mkdir -p "$d/upper/etc/rc$r.d" && ln -s "../init.d/$p" "$d/upper/etc/rc$r.d/S01$p"; done
	done
	echo "$products" >"$d/products"
	case $flavor in
	debian) ;;
	rocky) [ "$mode" = systemd ] || die "LAB_FLAVOR_OF_$i=rocky needs systemd (LAB_INIT_OF_$i=systemd)"; flavor_rocky "$d" ;;
	windows) [ "$mode" = systemd ] || die "LAB_FLAVOR_OF_$i=windows needs systemd (LAB_INIT_OF_$i=systemd)"
		[ -x "$LAB_ROOT/winemu" ] || die "the Windows emulator is not built: run testdata/lab/up"
		flavor_windows "$d" ;;
	*) die "LAB_FLAVOR_OF_$i must be debian, rocky or windows, got '$flavor'" ;;
	esac
	if host_no_apache "$i"; then
		case $flavor in
		debian) without_apache "$d" ;;
		rocky) without_httpd "$d" ;;
		*) die "LAB_NO_APACHE_OF_$i=1 is for a Debian or rocky host (LAB_FLAVOR_OF_$i is $flavor)" ;;
		esac
	fi
}

# start_host I N MODE PRODUCTS FLAVOR: fresh state for host i (of n, for /etc/hosts; kept with
# LAB_KEEP_DISK=1), network, boot.
start_host() {
	local i=$1 n=$2 mode=$3 products=$4 flavor=${5:-debian} ns ip d name veth
	ns=$(host_ns "$i") ip=$(host_ip "$i") d=$(host_dir "$i") name=$(host_name "$i") veth=fdlab-v$i
	mkdir -p "$LAB_RUN/pids"
	ip netns add "$ns"
	# A fixed MAC per host: after a reset the machine's ARP entry for the address stays right
	# (with a new random MAC, packets went to the old one for ~20 s).
	ip link add "$veth" type veth peer name eth0 address "$(printf '02:fd:1a:b0:%02x:%02x' $((i / 256)) $((i % 256)))" netns "$ns"
	ip link set "$veth" master "$LAB_BR" up
	ip -n "$ns" addr add "$ip/24" dev eth0
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$LAB_NET.1"
	ip neigh flush to "$ip" dev "$LAB_BR" 2>/dev/null || true

	# LAB_KEEP_DISK=1 (reboot): the host boots on the disk it had (its overlay's upper layer).
	[ -n "${LAB_KEEP_DISK:-}" ] || prepare_disk "$i" "$n" "$mode" "$products" "$flavor"

	if [ "$mode" = sysv ]; then
		setsid ip netns exec "$ns" unshare --mount --pid --uts --ipc --fork --kill-child \
			"$LAB_DIR/boot" sysv "$i" </dev/null >"$d/console.log" 2>&1 &
	else
		setsid unshare --mount "$LAB_DIR/boot" systemd "$i" </dev/null >"$d/console.log" 2>&1 &
	fi
	echo "$! - $mode" >"$LAB_RUN/pids/$name.pid"
}

# product_status P: the path of product P's /status in a fresh host (Crowd lives at /crowd).
product_status() {
	case $1 in crowd) echo /crowd/status ;; *) echo /status ;; esac
}

# host_ready IP PRODUCTS [NOAPACHE]: :22 and (unless NOAPACHE is 1) :80 accept, and each product's
# Tomcat says RUNNING.
host_ready() {
	local p
	timeout 2 bash -c "</dev/tcp/$1/22" 2>/dev/null || return 1
	[ "${3:-}" = 1 ] || timeout 2 bash -c "</dev/tcp/$1/80" 2>/dev/null || return 1
	for p in $2; do
		curl -fs --max-time 5 "http://$1:$(product_port "$p")$(product_status "$p")" 2>/dev/null | grep -q RUNNING || return 1
	done
}

# wait_hosts I...: waits until each host is ready, then records what its launcher became (boot
# execs nspawn), so down signals only that process.
wait_hosts() {
	local deadline=$(($(date +%s) + ${LAB_TIMEOUT:-180})) i pid mode f
	for i in "$@"; do
		f=$LAB_RUN/pids/$(host_name "$i").pid
		until host_ready "$(host_ip "$i")" "$(cat "$(host_dir "$i")/products")" "$([ -e "$(host_dir "$i")/no-apache" ] && echo 1)"; do
			read -r pid _ <"$f"
			[ -e "/proc/$pid" ] || die "host $(host_name "$i") died while booting; see $(host_dir "$i")/console.log"
			[ "$(date +%s)" -lt "$deadline" ] || die "host $(host_name "$i") not ready after ${LAB_TIMEOUT:-180}s (needs :22, :80 and each product's /status); see $(host_dir "$i")/console.log; stop with testdata/lab/down"
			sleep 0.3
		done
		read -r pid _ mode <"$f"
		echo "$pid $(cat "/proc/$pid/comm") $mode" >"$f"
	done
}

# stop_hosts NAME...: SIGKILL each host's init (taking its pid namespace down; for nspawn, killing
# nspawn alone would leave the container's systemd running) and launcher, waiting for all at once,
# then removes its namespace and veth.
stop_hosts() {
	local name pid comm mode i init p
	local -a pids=()
	for name in "$@"; do
		[ -e "$LAB_RUN/pids/$name.pid" ] || continue
		read -r pid comm mode <"$LAB_RUN/pids/$name.pid" || true
		i=${name#jira}
		if init=$(ns_init_pid "$(host_ns "$i")"); then kill -KILL "$init" 2>/dev/null && pids+=("$init"); fi
		if pid_alive "$pid" "$comm"; then kill -KILL "$pid" 2>/dev/null; pids+=("$pid"); fi
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 1 100); do [ -e "/proc/$p" ] || break; sleep 0.05; done
	done
	for name in "$@"; do
		i=${name#jira}
		ip netns del "$(host_ns "$i")" 2>/dev/null || true
		ip link del "fdlab-v$i" 2>/dev/null || true
		rm -f "$LAB_RUN/pids/$name.pid"
	done
}

# make_test_ca N: a TEST-ONLY certificate authority for https in the lab, made afresh at each up
# in $LAB_RUN/tls (0700): root.pem (trust it with tls.ca_file), intermediate.pem (the chain), and
# per host jiraI.pem and jiraI.key for *.jiraI.lab.test and jiraI.lab.test (P-256 keys, 90 days;
# the root's and the intermediate's keys stay in that folder). Nothing outside the lab trusts it,
# and its root may only vouch for names under lab.test (a name constraint).
make_test_ca() {
	local n=$1 tls=$LAB_RUN/tls i name ext
	command -v openssl >/dev/null || die "'openssl' not found: apt-get install openssl"
	rm -rf "$tls" && mkdir -p -m 0700 "$tls"
	ext=$tls/ext.cnf
	(
		umask 077
		newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
		sign() { # sign CSR-SUBJECT KEY OUT ISSUER-PEM ISSUER-KEY EXTENSIONS (self-signed when ISSUER-PEM is -)
			printf '%b' "$6" >"$ext"
			if [ "$4" = - ]; then
				openssl req -x509 -new -key "$2" -subj "$1" -days 90 -set_serial "0x$(openssl rand -hex 8)" -extensions v3 -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n[v3]\n%b' "$6") -out "$3"
			else
				openssl req -new -key "$2" -subj "$1" | openssl x509 -req -CA "$4" -CAkey "$5" -days 90 -set_serial "0x$(openssl rand -hex 8)" -extfile "$ext" -out "$3" 2>/dev/null
			fi
		}
		newkey "$tls/root.key" && sign "/CN=frontdoor lab TEST-ONLY root" "$tls/root.key" "$tls/root.pem" - - \
			'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nnameConstraints=critical,permitted;DNS:lab.test\n'
		newkey "$tls/intermediate.key" && sign "/CN=frontdoor lab TEST-ONLY intermediate" "$tls/intermediate.key" "$tls/intermediate.pem" "$tls/root.pem" "$tls/root.key" \
			'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n'
		for i in $(seq 1 "$n"); do
			name=$(host_name "$i")
			newkey "$tls/$name.key" && sign "/CN=*.$name.lab.test" "$tls/$name.key" "$tls/$name.pem" "$tls/intermediate.pem" "$tls/intermediate.key" \
				"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:*.$name.lab.test,DNS:$name.lab.test\nauthorityKeyIdentifier=keyid\n"
		done
	) || die "making the lab's test CA in $tls failed"
	rm -f "$ext"
	chmod 0644 "$tls"/*.pem
}
