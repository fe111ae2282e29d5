#!/bin/bash
# Lab STAND-IN for Bitbucket's start-bitbucket.sh (see standin-common.sh).
. "$(dirname "$0")/standin-common.sh"
pid=$(cat "$CATALINA_PID" 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "Bitbucket is already running ($pid)"; exit 0; fi
rm -f "$CATALINA_PID"
port=$(prop server.port 7990) ctx=$(prop server.context-path "") name=$(prop server.proxy-name "")
pport=$(prop server.proxy-port "") scheme=$(prop server.scheme http) secure=$(prop server.secure false)
proxy=""
[ -n "$name" ] && proxy="$proxy proxyName=\"$name\""
[ -n "$pport" ] && proxy="$proxy proxyPort=\"$pport\""
mkdir -p "$CATALINA_BASE/conf" "$CATALINA_BASE/logs" "$CATALINA_BASE/work" "$CATALINA_BASE/temp" "$CATALINA_BASE/webapps" "$BITBUCKET_HOME/log"
cp -n /opt/atlassian/bitbucket/standin/conf/* "$CATALINA_BASE/conf/"
cat >"$CATALINA_BASE/conf/server.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by the lab's Bitbucket stand-in from $BITBUCKET_HOME/shared/bitbucket.properties at each start. -->
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Bitbucket">
    <Connector port="$port" protocol="HTTP/1.1" connectionTimeout="20000" scheme="$scheme" secure="$secure"$proxy/>
    <Engine name="Bitbucket" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false">
        <Context path="$ctx" docBase="/opt/atlassian/bitbucket/app"/>
      </Host>
    </Engine>
  </Service>
</Server>
XML
exec "$CATALINA_HOME/bin/catalina.sh" start
