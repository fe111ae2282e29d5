BITBUCKET_HOME="/var/atlassian/application-data/bitbucket"
export BITBUCKET_HOME
