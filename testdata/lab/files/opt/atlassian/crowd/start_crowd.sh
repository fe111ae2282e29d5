#!/bin/bash
# Like Crowd's start_crowd.sh: Tomcat in apache-tomcat/ (CATALINA_HOME = CATALINA_BASE), as user crowd.
PRGDIR=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -un)" != crowd ]; then exec runuser -u crowd -- "$PRGDIR/start_crowd.sh" "$@"; fi
export CATALINA_HOME="$PRGDIR/apache-tomcat" CATALINA_BASE="$PRGDIR/apache-tomcat"
export CATALINA_PID="$CATALINA_BASE/work/catalina.pid"
export CATALINA_OPTS="-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.security.egd=file:/dev/./urandom"
pid=$(cat "$CATALINA_PID" 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "Crowd is already running ($pid)"; exit 0; fi
rm -f "$CATALINA_PID"
exec "$CATALINA_HOME/bin/catalina.sh" start
