# Lab: shared by the launcher STAND-INs of Bitbucket 5+ and Fisheye (not Atlassian code), which
# run the application stand-in on a plain Tomcat configured from the product's own config file.
# Needs CATALINA_HOME, CATALINA_BASE, CATALINA_PID in the environment.

# standin_tomcat_start NAME SOURCE PORT CONTEXT DOCBASE CONNECTOR_ATTRS: writes CATALINA_BASE's
# server.xml (one Connector, one Context) and starts Tomcat.
standin_tomcat_start() {
	local name=$1 source=$2 port=$3 ctx=$4 docbase=$5 attrs=$6
	mkdir -p "$CATALINA_BASE/conf" "$CATALINA_BASE/logs" "$CATALINA_BASE/work" "$CATALINA_BASE/temp" "$CATALINA_BASE/webapps"
	cp -n /usr/local/lib/frontdoor-lab/tomcat-conf/* "$CATALINA_BASE/conf/"
	cat >"$CATALINA_BASE/conf/server.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by the lab's $name stand-in from $source at each start. -->
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="$name">
    <Connector port="$port" protocol="HTTP/1.1" connectionTimeout="20000"$attrs/>
    <Engine name="$name" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false">
        <Context path="$ctx" docBase="$docbase"/>
      </Host>
    </Engine>
  </Service>
</Server>
XML
	exec "$CATALINA_HOME/bin/catalina.sh" start
}
