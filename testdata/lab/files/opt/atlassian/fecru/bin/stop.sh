#!/bin/bash
# Lab STAND-IN for FeCru's bin/stop.sh (see standin-common.sh).
. "$(dirname "$0")/standin-common.sh"
pid=$(cat "$CATALINA_PID" 2>/dev/null)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then echo "FishEye is not running"; rm -f "$CATALINA_PID"; exit 0; fi
exec "$CATALINA_HOME/bin/catalina.sh" stop 20 -force
