// Package hostile owns the hostile-input tests: every builder that puts a value from the
// inventory, the playbook or a host into a shell command is fed a corpus of hostile values, and
// each command is parsed by a real POSIX shell parser (mvdan.cc/sh) to prove the value stayed
// data: the command's structure (commands, substitutions, expansions, redirections) is the one it
// has for a harmless value. It has no code of its own.
package hostile
