// Package distro owns what frontdoor knows about a target before it changes anything: one remote
// command (Script) gathers the platform facts and every file the checks will read, and pure
// parsers (ParseGather, ParseOSRelease, ParseVer, ParseSysteminfo) turn captured output into Facts.
// Per-family knowledge (where Apache keeps its configuration, how modules are enabled, which
// families are supported) lives here too, so steps never branch on the platform themselves.
package distro
