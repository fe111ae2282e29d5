package distro

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/frontdoor-dev/frontdoor/target"
)

// HTTPReady is a command that waits up to seconds for any HTTP answer on 127.0.0.1:port (curl,
// or a TCP connect where curl is missing). Tomcat binds its Connector only after the webapp is
// deployed, so an answer means the app is up. The wait is measured on the host's clock (whole
// seconds: it lasts between seconds and seconds+1), not in tries (each try can take seconds).
func HTTPReady(port int, name string, seconds int) string {
	return fmt.Sprintf(`end=$(($(date +%%s) + %[3]d)); while [ "$(date +%%s)" -le "$end" ]; do
  if command -v curl >/dev/null 2>&1; then c=$(curl -s -o /dev/null -w '%%{http_code}' --max-time 3 http://127.0.0.1:%[1]d/ 2>/dev/null); [ -n "$c" ] && [ "$c" != 000 ] && exit 0
  elif (exec 3<>/dev/tcp/127.0.0.1/%[1]d) 2>/dev/null; then exit 0; fi
  sleep 0.5; done; echo %[2]s >&2; exit 1`, port, target.Quote(fmt.Sprintf("%s does not answer on port %d after %d s", name, port, seconds)), seconds)
}

// PortsFree is a command that waits up to seconds until no socket listens on any of ports (read
// from /proc/net/tcp and tcp6, so it needs no tool), and otherwise fails naming the ports still
// held and, where ss(8) is there, by what.
func PortsFree(ports []int, seconds int) string {
	sort.Ints(ports)
	var names []string
	for _, p := range ports {
		names = append(names, strconv.Itoa(p))
	}
	// A listening socket's line: "N: LOCALADDR:PORT 0...0:0000 0A ...", the port in upper hex.
	return fmt.Sprintf(`held() { h=""; for p in %[1]s; do x=$(printf '%%04X' "$p")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qE "^ *[0-9]+: [0-9A-F]+:$x [0-9A-F]+:0000 0A " && h="$h $p"; done; }
end=$(($(date +%%s) + %[2]d)); while [ "$(date +%%s)" -le "$end" ]; do held; [ -z "$h" ] && exit 0; sleep 0.2; done
echo "port$h still taken after %[2]d s by another process:" >&2; ss -ltnpH 2>/dev/null | grep -E ':(%[3]s) ' >&2; exit 1`,
		strings.Join(names, " "), seconds, strings.Join(names, "|"))
}
