# Lab: small heap so many hosts fit on one machine; the pid file lets stop and status find Tomcat.
BAMBOO_HOME="/var/atlassian/application-data/bamboo"
CATALINA_PID="$CATALINA_BASE/work/catalina.pid"
CATALINA_OPTS="-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Djava.security.egd=file:/dev/./urandom $CATALINA_OPTS"
export BAMBOO_HOME CATALINA_PID CATALINA_OPTS
