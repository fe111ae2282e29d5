#!/bin/bash
# Lab STAND-IN for FeCru's bin/start.sh (see standin-common.sh).
. "$(dirname "$0")/standin-common.sh"
pid=$(cat "$CATALINA_PID" 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "FishEye is already running ($pid)"; exit 0; fi
rm -f "$CATALINA_PID"
bind=$(attr http bind) ctx=$(attr web-server context)
port=${bind##*:} host=$(attr http proxy-host) pport=$(attr http proxy-port) scheme=$(attr http proxy-scheme)
proxy=""
[ -n "$host" ] && proxy="$proxy proxyName=\"$host\""
[ -n "$pport" ] && proxy="$proxy proxyPort=\"$pport\""
[ -n "$scheme" ] && proxy="$proxy scheme=\"$scheme\""
mkdir -p "$CATALINA_BASE/conf" "$CATALINA_BASE/logs" "$CATALINA_BASE/work" "$CATALINA_BASE/temp" "$CATALINA_BASE/webapps" "$FISHEYE_INST/var/log"
cp -n /opt/atlassian/bitbucket/standin/conf/* "$CATALINA_BASE/conf/"
cat >"$CATALINA_BASE/conf/server.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by the lab's Fisheye stand-in from $FISHEYE_INST/config.xml at each start. -->
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="FishEye">
    <Connector port="${port:-8060}" protocol="HTTP/1.1" connectionTimeout="20000"$proxy/>
    <Engine name="FishEye" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false">
        <Context path="$ctx" docBase="/opt/atlassian/fecru/app"/>
      </Host>
    </Engine>
  </Service>
</Server>
XML
exec "$CATALINA_HOME/bin/catalina.sh" start
