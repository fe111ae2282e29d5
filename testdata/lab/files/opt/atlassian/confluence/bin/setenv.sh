# Lab: small heap. Like Confluence's own setenv.sh, pass the Context path from server.xml as
# confluence.context.path (server.xml's synchrony-proxy Context is built from it).
CONFLUENCE_CONTEXT_PATH=$(sed -n 's/.*<Context path="\([^"$]*\)" docBase="..\/confluence".*/\1/p' "$CATALINA_BASE/conf/server.xml" | head -n1)
CATALINA_PID="$CATALINA_BASE/work/catalina.pid"
CATALINA_OPTS="-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dconfluence.context.path=$CONFLUENCE_CONTEXT_PATH -Djava.security.egd=file:/dev/./urandom $CATALINA_OPTS"
export CATALINA_PID CATALINA_OPTS
