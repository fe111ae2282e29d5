#!/bin/bash
# Like Atlassian's stop-confluence.sh: run as CONF_USER from user.sh; the lab's Synchrony STAND-IN
# (a WebSocket endpoint on :8091, a second small Tomcat) is stopped with it, as Confluence does.
PRGDIR=$(cd "$(dirname "$0")" && pwd)
. "$PRGDIR/user.sh"
if [ -n "$CONF_USER" ] && [ "$(id -un)" != "$CONF_USER" ]; then
	exec runuser -u "$CONF_USER" -- "$PRGDIR/stop-confluence.sh" "$@"
fi
export CATALINA_HOME=$(dirname "$PRGDIR") CATALINA_BASE=$(dirname "$PRGDIR")
/opt/atlassian/confluence/synchrony-standin/ctl stop
pid=$(cat "$CATALINA_BASE/work/catalina.pid" 2>/dev/null)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then echo "Confluence is not running"; rm -f "$CATALINA_BASE/work/catalina.pid"; exit 0; fi
exec "$PRGDIR/catalina.sh" stop 20 -force "$@"
