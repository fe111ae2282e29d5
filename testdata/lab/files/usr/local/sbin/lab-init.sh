#!/bin/bash
# PID 1 of a lab host booted without systemd (LAB_INIT=sysv): starts the rc2.d services the way
# sysvinit would, then reaps orphans forever. The name ends in .sh so tools see "no systemd".
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
for s in /etc/rc2.d/S*; do
	[ -x "$s" ] && "$s" start >>/var/log/lab-init.log 2>&1
done
echo "lab-init: all services started" >>/var/log/lab-init.log
trap 'exit 0' TERM
while :; do wait -n 2>/dev/null || sleep 1; done
