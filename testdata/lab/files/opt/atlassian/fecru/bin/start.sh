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
mkdir -p "$FISHEYE_INST/var/log"
. /usr/local/lib/frontdoor-lab/standin-tomcat.sh
standin_tomcat_start FishEye "$FISHEYE_INST/config.xml" "${port:-8060}" "$ctx" /opt/atlassian/fecru/app "$proxy"
