#!/bin/bash
# Like Atlassian's start-bamboo.sh: run as BAMBOO_USER from user.sh, then catalina.sh start.
PRGDIR=$(cd "$(dirname "$0")" && pwd)
. "$PRGDIR/user.sh"
export CATALINA_HOME=$(dirname "$PRGDIR") CATALINA_BASE=$(dirname "$PRGDIR")
if [ -n "$BAMBOO_USER" ] && [ "$(id -un)" != "$BAMBOO_USER" ]; then
	exec runuser -u "$BAMBOO_USER" -- "$PRGDIR/start-bamboo.sh" "$@"
fi
pid=$(cat "$CATALINA_BASE/work/catalina.pid" 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "Bamboo is already running ($pid)"; exit 0; fi
rm -f "$CATALINA_BASE/work/catalina.pid"
exec "$PRGDIR/catalina.sh" start "$@"
