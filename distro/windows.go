package distro

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Windows hosts (OpenSSH Server, default shell cmd.exe or PowerShell): every command frontdoor
// sends is one PowerShell script, started as
//
//	powershell -NoProfile -NonInteractive -EncodedCommand <base64 of UTF-16LE>
//
// which both default shells run the same way and which needs no quoting. Each script starts with
// a marker line "# frontdoor:<verb> <JSON parameters>" and then reads its parameters from that JSON,
// so what a command does is visible in one line of it (and the lab's emulated Windows host answers
// by that line). Files travel over SFTP, whose paths on Windows are /C:/Program Files/...

// WinStateDir is where frontdoor keeps its lock and run journals on a Windows host.
const WinStateDir = `C:\ProgramData\frontdoor`

// WinParams are a Windows command's parameters (each verb uses some of them).
type WinParams struct {
	Files         []string `json:"files,omitempty"` // SFTP paths
	Ports         []int    `json:"ports,omitempty"`
	Services      []string `json:"services,omitempty"`
	ApacheRoot    string   `json:"apache_root,omitempty"` // native, e.g. C:\Apache24
	ApacheService string   `json:"apache_service,omitempty"`
	Lock          string   `json:"lock,omitempty"`  // owner line to take the lock with
	Owner         string   `json:"owner,omitempty"` // unlock: the content the lock must have
	StateDir      string   `json:"state_dir,omitempty"`
	Name          string   `json:"name,omitempty"`   // service
	Action        string   `json:"action,omitempty"` // service: start, stop, restart
	Path          string   `json:"path,omitempty"`   // mkdir (native)
	Port          int      `json:"port,omitempty"`   // ready
	Seconds       int      `json:"seconds,omitempty"`
	// Detect: product names whose Windows services the gather lists (by name or display name).
	Detect []string `json:"detect,omitempty"`
}

// WinPath turns an SFTP path (/C:/Program Files/x) into the native one (C:\Program Files\x).
func WinPath(sftpPath string) string {
	return strings.ReplaceAll(strings.TrimPrefix(sftpPath, "/"), "/", `\`)
}

// SFTPPath turns a native Windows path (C:\Program Files\x, or C:/...) into Windows OpenSSH's SFTP
// form (/C:/Program Files/x); a path already in that form is returned as it is.
func SFTPPath(native string) string {
	p := strings.ReplaceAll(native, `\`, "/")
	if len(p) >= 2 && p[1] == ':' {
		p = "/" + strings.ToUpper(p[:1]) + p[1:]
	}
	return p
}

// WinCommand is the command line that runs a verb's script with its parameters.
func WinCommand(verb string, p WinParams) string {
	js := asciiJSON(p)
	// The marker line says what the command is; the next one gives PowerShell the same JSON,
	// base64-encoded: no value is ever inside a PowerShell string literal (which Unicode quotes
	// such as U+2019 would end), and the JSON is ASCII, so the comment line holds no line break.
	script := "# frontdoor:" + verb + " " + js + "\n" +
		"$p = [Text.Encoding]::ASCII.GetString([Convert]::FromBase64String('" + base64.StdEncoding.EncodeToString([]byte(js)) + "')) | ConvertFrom-Json\n" +
		winPrelude + winBodies[verb]
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		b[2*i], b[2*i+1] = byte(r), byte(r>>8)
	}
	return "powershell -NoProfile -NonInteractive -EncodedCommand " + base64.StdEncoding.EncodeToString(b)
}

// asciiJSON is p as JSON with every non-ASCII character escaped (\uXXXX).
func asciiJSON(p WinParams) string {
	js, _ := json.Marshal(p)
	var b strings.Builder
	for _, r := range string(js) {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, "\\u%04x\\u%04x", r1, r2)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

// DecodeWinCommand returns the verb and parameters of a command WinCommand made (for the lab's
// emulated host and for tests).
func DecodeWinCommand(cmd string) (string, WinParams, error) {
	var p WinParams
	const pre = "powershell -NoProfile -NonInteractive -EncodedCommand "
	if !strings.HasPrefix(cmd, pre) {
		return "", p, fmt.Errorf("not a frontdoor PowerShell command")
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(cmd, pre))
	if err != nil || len(b)%2 != 0 {
		return "", p, fmt.Errorf("bad -EncodedCommand")
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	line, _, _ := strings.Cut(string(utf16.Decode(u)), "\n")
	verbJSON, ok := strings.CutPrefix(line, "# frontdoor:")
	if !ok {
		return "", p, fmt.Errorf("no frontdoor marker line")
	}
	verb, js, _ := strings.Cut(verbJSON, " ")
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		return "", p, fmt.Errorf("parameters: %w", err)
	}
	return verb, p, nil
}

// winPrelude stops at the first error and defines Native (SFTP path to native path).
const winPrelude = `$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
function Native($s) { ($s.TrimStart('/')) -replace '/', '\' }
# frontdoor's folders are readable and writable by SYSTEM and Administrators only (ProgramData's
# inherited ACL lets Users read and create): protected from inheritance, by SID (any language).
$Trusted = 'S-1-5-18', 'S-1-5-32-544'
function Protect($d) {
  New-Item -ItemType Directory -Force -Path $d | Out-Null
  $acl = New-Object System.Security.AccessControl.DirectorySecurity
  $acl.SetAccessRuleProtection($true, $false)
  foreach ($sid in $Trusted) { $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule((New-Object System.Security.Principal.SecurityIdentifier($sid)), 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow'))) }
  Set-Acl -LiteralPath $d -AclObject $acl
}
# Unsafe: who else the folder lets in, or that it inherits (empty when only the trusted have it).
function Unsafe($d) {
  $acl = Get-Acl -LiteralPath $d
  $others = $acl.Access | ForEach-Object { $_.IdentityReference.Translate([System.Security.Principal.SecurityIdentifier]).Value } | Where-Object { $Trusted -notcontains $_ }
  if (-not $acl.AreAccessRulesProtected) { $others = @($others) + 'inherited' }
  ($others | Sort-Object -Unique) -join ','
}
`

// winBodies are the PowerShell bodies of the verbs. gather prints the same sections as the POSIX
// gather script, so ParseGather reads both.
var winBodies = map[string]string{
	"gather": `'` + header + `'
'@@ kv'
$os = Get-CimInstance Win32_OperatingSystem
'family=windows'; "windows=$($os.Caption) $($os.Version)"; 'init=windows'; 'uid=0'
$conf = Join-Path $p.apache_root 'conf\httpd.conf'
$httpd = Join-Path $p.apache_root 'bin\httpd.exe'
if (Test-Path -LiteralPath $conf) { 'apache_layout=windows'; "apache_conf=/$($conf -replace '\\', '/')" }
$svc = Get-Service -Name $p.apache_service -ErrorAction SilentlyContinue
if ($svc -and $svc.Status -eq 'Running') { 'apache_running=1' } else { 'apache_running=0' }
if (Test-Path -LiteralPath $httpd) { 'bin=httpd'; "apache_version=$((& $httpd -v 2>&1 | Select-Object -First 1))" }
foreach ($f in $p.files) {
  "@@ file $f"
  $n = Native $f
  if (Test-Path -LiteralPath $n -PathType Leaf) { $b = [IO.File]::ReadAllBytes($n); "stat 644 0 0 $($b.Length)"; [Convert]::ToBase64String($b) } else { 'missing' }
}
'@@ listen'
Get-NetTCPConnection -State Listen | ForEach-Object { '{0:X4}' -f $_.LocalPort } | Sort-Object -Unique
'@@ services'
foreach ($s in $p.services) { if (Get-Service -Name $s -ErrorAction SilentlyContinue) { "$s=windows" } else { "$s=none" } }
'@@ winservices'
foreach ($n in $p.detect) { Get-Service | Where-Object { $_.Name -like "*$n*" -or $_.DisplayName -like "*$n*" } | ForEach-Object { "$n=$($_.Name)" } }
'@@ statedir'
if (Test-Path -LiteralPath $p.state_dir) { $u = Unsafe $p.state_dir; if ($u) { "$($p.state_dir) acl $u" } }
'@@ lock'
$lock = Join-Path $p.state_dir 'lock'
$bad = ''; if (Test-Path -LiteralPath $p.state_dir) { $bad = Unsafe $p.state_dir }
if ($p.lock -and -not $bad) {
  Protect $p.state_dir; New-Item -ItemType Directory -Force -Path (Join-Path $p.state_dir 'runs') | Out-Null
  try { $fs = [IO.File]::Open($lock, 'CreateNew', 'Write'); $w = New-Object IO.StreamWriter($fs); $w.Write($p.lock); $w.Close(); 'acquired' } catch { }
}
if (Test-Path -LiteralPath $lock) { [IO.File]::ReadAllText($lock) }
'@@ runs'
Get-ChildItem -Directory -Path (Join-Path $p.state_dir 'runs') -ErrorAction SilentlyContinue | ForEach-Object {
  $j = Join-Path $_.FullName 'journal.json'
  if (Test-Path $j) { "$($_.Name) $((Get-Content -Raw $j | ConvertFrom-Json).state)" }
}
'@@ end'
`,
	// service starts, stops or restarts a Windows service and waits for the state.
	"service": `switch ($p.action) {
  'start' { Start-Service -Name $p.name }
  'stop' { Stop-Service -Name $p.name -Force }
  'restart' { Restart-Service -Name $p.name -Force }
}
`,
	// configtest is httpd.exe -t; its "Syntax OK" goes to stderr, so both streams are kept.
	"configtest": `$httpd = Join-Path $p.apache_root 'bin\httpd.exe'
$out = & $httpd -t 2>&1 | Out-String
$out
if ($LASTEXITCODE -ne 0) { [Console]::Error.Write($out); exit 1 }
`,
	// ready waits until something answers HTTP on 127.0.0.1:port.
	"ready": `$deadline = (Get-Date).AddSeconds($p.seconds)
while ((Get-Date) -lt $deadline) {
  try { Invoke-WebRequest -UseBasicParsing -MaximumRedirection 0 -TimeoutSec 3 "http://127.0.0.1:$($p.port)/" | Out-Null; exit 0 }
  catch { if ($_.Exception.Response) { exit 0 } }
  Start-Sleep -Milliseconds 500
}
[Console]::Error.WriteLine("nothing answers on port $($p.port) after $($p.seconds) s"); exit 1
`,
	// script runs an application's own .bat (bin\start-jira.bat), as the guide says to.
	// The path goes to Start-Process as a parameter, never through cmd.exe's command line, whose
	// quote rules would strip the quotes of a path with parentheses (Program Files (x86)).
	"script": `$log = [IO.Path]::GetTempFileName()
$proc = Start-Process -FilePath $p.path -Wait -NoNewWindow -PassThru -RedirectStandardOutput $log
$out = Get-Content -Raw -LiteralPath $log; Remove-Item -LiteralPath $log
$out
if ($proc.ExitCode -ne 0) { [Console]::Error.Write($out); exit 1 }
`,
	// mkdir makes a folder for SYSTEM and Administrators only (frontdoor's state, uploaded keys).
	"mkdir": `Protect $p.path
`,
	// rmdir removes a folder frontdoor made, only when it is empty (a rollback has by then put
	// back or deleted the files in it; anything else there stays, with the folder).
	"rmdir": `if ((Test-Path -LiteralPath $p.path) -and -not (Get-ChildItem -Force -LiteralPath $p.path)) { Remove-Item -LiteralPath $p.path }
`,
	// unlock removes the lock only if it still holds the given owner line.
	"unlock": `$lock = Join-Path $p.state_dir 'lock'
if ((Test-Path -LiteralPath $lock) -and ([IO.File]::ReadAllText($lock) -eq $p.owner)) { Remove-Item -LiteralPath $lock }
elseif ($p.action -eq 'strict') { [Console]::Error.WriteLine('the lock changed'); exit 1 }
`,
}

// WinGather is the gather command of a Windows host; detect names the products whose services
// are looked for.
func WinGather(r Request, apacheRoot, apacheService string, detect []string) string {
	return WinCommand("gather", WinParams{Files: r.Files, Ports: r.Ports, Services: r.Services, ApacheRoot: apacheRoot,
		ApacheService: apacheService, Lock: r.Lock, StateDir: WinStateDir, Detect: detect})
}
