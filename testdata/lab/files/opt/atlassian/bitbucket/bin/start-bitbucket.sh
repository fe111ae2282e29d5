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
mkdir -p "$BITBUCKET_HOME/log"
. /usr/local/lib/frontdoor-lab/standin-tomcat.sh
standin_tomcat_start Bitbucket "$BITBUCKET_HOME/shared/bitbucket.properties" "$port" "$ctx" /opt/atlassian/bitbucket/app \
	" scheme=\"$scheme\" secure=\"$secure\"$proxy"
