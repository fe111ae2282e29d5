package playbooks

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"sort"
	"strings"
)

// Select returns the hosts a --limit pattern names, in name order, with Ansible's semantics
// (ansible-core's InventoryManager.subset and get_hosts):
//   - "" selects every host;
//   - terms are separated by commas; without a comma, by colons (unless the whole pattern is
//     one host:port or IPv6 address);
//   - "@FILE" reads more terms from FILE, one per line (the retry file apply writes);
//   - the plain terms are united first, then each "&x" intersects and each "!x" removes, whatever
//     their order; with no plain term, "all" is implied ("!a1" is every host but a1);
//   - a term is a host or group name, a shell glob over both (a group's match includes its
//     children's hosts), or "~REGEX" matched from the start of the names.
func (inv *Inventory) Select(pattern string) ([]*Host, error) {
	terms, err := limitTerms(pattern)
	if err != nil {
		return nil, err
	}
	var chosen map[string]bool
	if len(terms) == 0 {
		chosen = map[string]bool{}
		for n := range inv.Hosts {
			chosen[n] = true
		}
	} else if chosen, err = inv.evaluate(terms); err != nil {
		return nil, err
	}
	var out []*Host
	for _, n := range inv.Names() {
		if chosen[n] {
			out = append(out, inv.Hosts[n])
		}
	}
	if len(out) == 0 {
		var groups []string
		for g := range inv.Groups {
			groups = append(groups, g)
		}
		sort.Strings(groups)
		return nil, fmt.Errorf("%q matches no host of the inventory (hosts: %s; groups: %s)", pattern, strings.Join(inv.Names(), ", "), strings.Join(groups, ", "))
	}
	return out, nil
}

// limitTerms splits a pattern as Ansible's split_host_pattern does and expands @FILE terms.
func limitTerms(pattern string) ([]string, error) {
	var parts []string
	switch {
	case strings.Contains(pattern, ","):
		parts = strings.Split(pattern, ",")
	case isAddress(pattern):
		parts = []string{pattern}
	default:
		// ':' separates, except inside a [..] range; blanks separate too.
		parts = colonTerms.FindAllString(pattern, -1)
	}
	var out []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if p[0] != '@' {
			out = append(out, p)
			continue
		}
		fi, err := os.Stat(p[1:])
		if err != nil {
			return nil, fmt.Errorf("%s: limit file: %w", p, err)
		}
		if fi.IsDir() {
			return nil, fmt.Errorf("%s: a limit starting with @ must be a file, not a directory", p)
		}
		data, err := os.ReadFile(p[1:])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
	}
	return out, nil
}

var colonTerms = regexp.MustCompile(`(?:[^\s:\[\]]|\[[^\]]*\])+`)

// hostPort is what Ansible's parse_address accepts besides IPv6 addresses: a name (with [x:y]
// ranges) and an optional numeric port; such a pattern is one term, not a colon-separated list.
var hostPort = regexp.MustCompile(`^(?:[A-Za-z0-9_.\-]|\[[^\]]*\])+(:[0-9]+)?$|^\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`)

func isAddress(p string) bool { return net.ParseIP(p) != nil || hostPort.MatchString(p) }

// evaluate applies Ansible's order_patterns and _evaluate_patterns.
func (inv *Inventory) evaluate(terms []string) (map[string]bool, error) {
	var regular, and, not []string
	for _, t := range terms {
		switch t[0] {
		case '!':
			not = append(not, t)
		case '&':
			and = append(and, t)
		default:
			regular = append(regular, t)
		}
	}
	if len(regular) == 0 {
		regular = []string{"all"}
	}
	hosts := map[string]bool{}
	for _, t := range append(append(regular, and...), not...) {
		if _, ok := inv.Hosts[t]; ok {
			hosts[t] = true
			continue
		}
		m, err := inv.matchOne(t)
		if err != nil {
			return nil, err
		}
		switch t[0] {
		case '!':
			for n := range m {
				delete(hosts, n)
			}
		case '&':
			for n := range hosts {
				if !m[n] {
					delete(hosts, n)
				}
			}
		default:
			for n := range m {
				hosts[n] = true
			}
		}
	}
	return hosts, nil
}

// subscript is Ansible's PATTERN_WITH_SUBSCRIPT: "web[0]", "web[1:3]".
var subscript = regexp.MustCompile(`^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$`)

// matchOne is Ansible's _match_one_pattern (the & or ! dropped): groups whose name matches
// (with their children's hosts), and hosts whose name matches when no group did or the term is a
// glob or a regex.
func (inv *Inventory) matchOne(term string) (map[string]bool, error) {
	if term[0] == '&' || term[0] == '!' {
		term = term[1:]
	}
	if term == "" {
		return nil, fmt.Errorf("%q: an empty name after & or !", term)
	}
	if term[0] != '~' && subscript.MatchString(term) {
		return nil, fmt.Errorf("%q: Ansible reads [N] and [N:M] at the end of a pattern as positions in a group, which frontdoor does not take: name the hosts (or use a glob such as web0?, or ~web0[1-3])", term)
	}
	re, err := patternRE(term)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	groupMatched := false
	for g, hs := range inv.Groups {
		if re.MatchString(g) {
			groupMatched = true
			for _, h := range hs {
				out[h] = true
			}
		}
	}
	if !groupMatched && (term == "all" || term == "ungrouped") {
		groupMatched = true // Ansible's built-in groups exist even when empty
	}
	if !groupMatched || term[0] == '~' || strings.ContainsAny(term, ".?*[") {
		for n := range inv.Hosts {
			if re.MatchString(n) {
				out[n] = true
			}
		}
	}
	return out, nil
}

// patternRE compiles a term as Ansible's _match_list does: "~REGEX" is matched from the start
// of the name (Python's re.match), anything else is an fnmatch glob of the whole name.
func patternRE(term string) (*regexp.Regexp, error) {
	expr := ""
	if term[0] == '~' {
		expr = `^(?:` + term[1:] + `)`
	} else {
		expr = `^(?s:` + fnmatchRE(term) + `)$`
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("%q: not a valid pattern: %v", term, err)
	}
	return re, nil
}

// fnmatchRE translates a shell glob as Python's fnmatch.translate does: * and ? match any
// character (/ included), [...] is a set ([!...] negated), a [ without its ] is literal.
func fnmatchRE(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := i + 1
			if j < len(p) && p[j] == '!' {
				j++
			}
			if j < len(p) && p[j] == ']' {
				j++
			}
			for j < len(p) && p[j] != ']' {
				j++
			}
			if j >= len(p) {
				b.WriteString(`\[`)
				continue
			}
			set := p[i+1 : j]
			i = j
			neg := strings.HasPrefix(set, "!")
			if neg {
				set = set[1:]
			}
			set = strings.ReplaceAll(set, `\`, `\\`)
			if neg {
				set = "^" + set
			} else if strings.HasPrefix(set, "^") {
				set = `\` + set
			}
			b.WriteString("[" + set + "]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}
