# Lab STAND-IN for Bitbucket 5+ (not Atlassian code). Bitbucket runs Spring Boot's embedded Tomcat,
# configured from <home>/shared/bitbucket.properties (server.port, server.context-path,
# server.proxy-name, server.proxy-port, server.scheme, server.secure). The stand-in reads the same
# keys the same way (the last active occurrence wins) and writes the server.xml of a plain Tomcat
# that runs the shared stand-in servlet as Bitbucket. Sourced by start- and stop-bitbucket.sh.
PRGDIR=$(cd "$(dirname "$0")" && pwd)
. "$PRGDIR/set-bitbucket-user.sh"
. "$PRGDIR/set-bitbucket-home.sh"
if [ -n "$BITBUCKET_USER" ] && [ "$(id -un)" != "$BITBUCKET_USER" ]; then
	exec runuser -u "$BITBUCKET_USER" -- "$0" "$@"
fi
export CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE="$BITBUCKET_HOME/standin-tomcat"
export CATALINA_PID="$BITBUCKET_HOME/log/bitbucket.pid" CATALINA_OUT="$BITBUCKET_HOME/log/catalina.out"
export CATALINA_OPTS="-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.security.egd=file:/dev/./urandom"
prop() { # prop KEY DEFAULT: the value of KEY's last active line in bitbucket.properties
	local v
	v=$(grep -E "^[[:space:]]*$1[[:space:]]*[=:]" "$BITBUCKET_HOME/shared/bitbucket.properties" 2>/dev/null | tail -n1 |
		sed -e "s/^[[:space:]]*$1[[:space:]]*[=:][[:space:]]*//" -e 's/\r$//')
	echo "${v:-$2}"
}
