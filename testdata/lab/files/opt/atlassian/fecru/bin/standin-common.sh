# Lab STAND-IN for Fisheye/Crucible (not Atlassian code). FeCru runs Jetty configured from
# $FISHEYE_INST/config.xml: <web-server context="..."> and <http bind=":8060" proxy-host=".."
# proxy-port=".." proxy-scheme=".."/>. The stand-in reads those attributes and writes the server.xml
# of a plain Tomcat that runs the shared stand-in servlet as Fisheye. Sourced by start.sh and stop.sh.
PRGDIR=$(cd "$(dirname "$0")" && pwd)
FISHEYE_USER=fisheye FISHEYE_INST=/var/atlassian/application-data/fisheye
if [ "$(id -un)" != "$FISHEYE_USER" ]; then
	exec runuser -u "$FISHEYE_USER" -- "$0" "$@"
fi
export FISHEYE_INST CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE="$FISHEYE_INST/standin-tomcat"
export CATALINA_PID="$FISHEYE_INST/var/fisheye.pid" CATALINA_OUT="$FISHEYE_INST/var/log/catalina.out"
export CATALINA_OPTS="-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.security.egd=file:/dev/./urandom"
attr() { # attr ELEMENT NAME: the attribute's value on the first <ELEMENT ...> of config.xml
	tr '\n' ' ' <"$FISHEYE_INST/config.xml" | sed -e 's/<!--[^>]*-->//g' | grep -o "<$1[[:space:]][^>]*" | head -n1 |
		sed -n "s/.*[[:space:]]$2=\"\([^\"]*\)\".*/\1/p"
}
