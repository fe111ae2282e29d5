#!/bin/bash
# Like Crowd's stop_crowd.sh: Tomcat in apache-tomcat/ (CATALINA_HOME = CATALINA_BASE), as user crowd.
PRGDIR=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -un)" != crowd ]; then exec runuser -u crowd -- "$PRGDIR/stop_crowd.sh" "$@"; fi
export CATALINA_HOME="$PRGDIR/apache-tomcat" CATALINA_BASE="$PRGDIR/apache-tomcat"
export CATALINA_PID="$CATALINA_BASE/work/catalina.pid"
export CATALINA_OPTS="-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.security.egd=file:/dev/./urandom"
pid=$(cat "$CATALINA_PID" 2>/dev/null)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then echo "Crowd is not running"; rm -f "$CATALINA_PID"; exit 0; fi
exec "$CATALINA_HOME/bin/catalina.sh" stop 20 -force
