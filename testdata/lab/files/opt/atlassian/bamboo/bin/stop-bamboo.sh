#!/bin/bash
# Like Atlassian's stop-bamboo.sh: catalina.sh stop as BAMBOO_USER, forcing after 20 s.
PRGDIR=$(cd "$(dirname "$0")" && pwd)
. "$PRGDIR/user.sh"
export CATALINA_HOME=$(dirname "$PRGDIR") CATALINA_BASE=$(dirname "$PRGDIR")
if [ -n "$BAMBOO_USER" ] && [ "$(id -un)" != "$BAMBOO_USER" ]; then
	exec runuser -u "$BAMBOO_USER" -- "$PRGDIR/stop-bamboo.sh" "$@"
fi
pid=$(cat "$CATALINA_BASE/work/catalina.pid" 2>/dev/null)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then echo "Bamboo is not running"; rm -f "$CATALINA_BASE/work/catalina.pid"; exit 0; fi
exec "$PRGDIR/catalina.sh" stop 20 -force "$@"
