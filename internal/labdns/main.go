// Command labdns is the frontdoor lab's DNS server (TEST-ONLY): it answers A queries for each lab
// host's names (jiraI.lab.test and every name under it, such as jira.jiraI.lab.test) with that
// host's address, and NXDOMAIN for any other name, so the checks frontdoor makes before any change
// (does the public name resolve, and to this host?) run against real DNS in the lab. testdata/lab/up
// starts it on the bridge address; the lab inventory names it (dns_resolver).
//
// Usage: labdns -listen 10.77.0.1:53 -zone FILE, where FILE has lines "NAME ADDRESS".
package main

import (
	"bufio"
	"flag"
	"log"
	"net"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

func main() {
	listen := flag.String("listen", "10.77.0.1:53", "UDP address to answer on")
	zoneFile := flag.String("zone", "", `file of "NAME ADDRESS" lines: NAME and every name under it resolve to ADDRESS`)
	flag.Parse()
	zone, err := readZone(*zoneFile)
	if err != nil {
		log.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			log.Fatal(err)
		}
		if out, err := answer(zone, buf[:n]); err == nil {
			pc.WriteTo(out, from)
		}
	}
}

// readZone reads "NAME ADDRESS" lines (names without the trailing dot, lower case).
func readZone(path string) (map[string]netip.Addr, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zone := map[string]netip.Addr{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 2 {
			continue
		}
		a, err := netip.ParseAddr(fs[1])
		if err != nil {
			return nil, err
		}
		zone[strings.ToLower(fs[0])] = a
	}
	return zone, sc.Err()
}

// lookup finds name or the closest zone name it is under.
func lookup(zone map[string]netip.Addr, name string) (netip.Addr, bool) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for ; name != ""; name, _ = strings.CutPrefix(name[strings.IndexByte(name+".", '.'):], ".") {
		if a, ok := zone[name]; ok {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// answer builds the response to one query: the A record for a zone name, no record (but no
// error) for its other types, NXDOMAIN for any name outside the zone.
func answer(zone map[string]netip.Addr, query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	addr, ok := lookup(zone, q.Name.String())
	if !ok {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	if ok && q.Type == dnsmessage.TypeA && addr.Is4() {
		if err := b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: addr.As4()}); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}
