package distro

import (
	"fmt"

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
