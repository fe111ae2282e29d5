# Lab: small heap so many hosts fit on one machine; the pid file lets stop and status find Tomcat.
JIRA_HOME="/var/atlassian/application-data/jira"
CATALINA_PID="$CATALINA_BASE/work/catalina.pid"
CATALINA_OPTS="-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Djira.home=$JIRA_HOME -Djava.security.egd=file:/dev/./urandom $CATALINA_OPTS"
export JIRA_HOME CATALINA_PID CATALINA_OPTS
