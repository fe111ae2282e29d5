# Lab: as Atlassian's installer writes it.
BITBUCKET_USER="atlbitbucket"
