package xmledit

import (
	"fmt"
	"strconv"
	"strings"
)

// Connector is what frontdoor sets on the plain HTTP Connector an app is served by.
type Connector struct {
	Port      int    // the Connector's port attribute (the app's port)
	Scheme    string // http or https
	ProxyName string
	ProxyPort int
}

// TomcatEdit is the change frontdoor makes to a Tomcat server.xml.
type TomcatEdit struct {
	ContextPath *string    // nil: leave the Context alone (Bitbucket 4, Crowd keep it elsewhere)
	Connector   *Connector // nil: leave the Connectors alone
	// ReplacePlaceholders allows overwriting a ${...} value; see PlaceholderError.
	ReplacePlaceholders bool
}

// EditServerXML applies e to a server.xml and returns the new bytes and the spans it changed.
// Already-right files come back unchanged with no spans.
func EditServerXML(src []byte, e TomcatEdit) ([]byte, []Span, error) {
	d, err := Parse(src)
	if err != nil {
		return nil, nil, err
	}
	var spans []Span
	var conn *Element
	if e.Connector != nil {
		if conn, err = d.HTTPConnector(e.Connector.Port); err != nil {
			return nil, nil, err
		}
	}
	if e.ContextPath != nil {
		// The app's Context is in the Service of its Connector: another Service's Context
		// belongs to another application.
		var service *Element
		if conn != nil {
			service = d.Ancestor(conn, "Service")
		}
		ctx, err := d.MainContext(service)
		if err != nil {
			return nil, nil, err
		}
		var set AttrSet
		set.Set("path", *e.ContextPath)
		s, err := d.SetAttrs(ctx, set, e.ReplacePlaceholders)
		if err != nil {
			return nil, nil, err
		}
		spans = append(spans, s...)
	}
	if e.Connector != nil {
		c := conn
		var set AttrSet
		set.Set("scheme", e.Connector.Scheme)
		set.Set("proxyName", e.Connector.ProxyName)
		set.Set("proxyPort", strconv.Itoa(e.Connector.ProxyPort))
		if e.Connector.Scheme == "https" {
			set.Set("secure", "true")
		} else if a, ok := c.Attr("secure"); ok && a.Value() != "false" {
			set.Set("secure", "false") // a leftover secure="true" would make Tomcat claim https
		}
		s, err := d.SetAttrs(c, set, e.ReplacePlaceholders)
		if err != nil {
			return nil, nil, err
		}
		spans = append(spans, s...)
	}
	if len(spans) == 0 {
		return src, nil, nil
	}
	out := Splice(src, spans)
	if _, err := Parse(out); err != nil { // cannot happen with escaped values; never write a broken file
		return nil, nil, fmt.Errorf("internal error: edited file does not parse: %w", err)
	}
	return out, spans, nil
}

// MainContext returns the application's Context under Server/Service/Engine/Host (within
// service, when given): the one that is not Confluence's /synchrony-proxy. Zero or several
// candidates are an error naming the lines.
func (d *Doc) MainContext(service *Element) (*Element, error) {
	var found []*Element
	for _, el := range d.Elements {
		if el.Name != "Context" || !under(el, "Host") || (service != nil && d.Ancestor(el, "Service") != service) {
			continue
		}
		if p, ok := el.Attr("path"); ok && strings.Contains(p.Value(), "synchrony-proxy") {
			continue
		}
		found = append(found, el)
	}
	return d.one(found, "no <Context> element inside <Host> (outside comments): this file does not set the context path",
		"<Context> elements inside <Host>", "the application's")
}

// one returns the single element found; none or several are an error naming their lines.
func (d *Doc) one(found []*Element, none, what, which string) (*Element, error) {
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, fmt.Errorf("%s", none)
	}
	lines := make([]string, len(found))
	for i, el := range found {
		lines[i] = strconv.Itoa(d.Line(el.Start))
	}
	return nil, fmt.Errorf("%d %s (lines %s): cannot tell which one is %s", len(found), what, strings.Join(lines, ", "), which)
}

// HTTPConnector returns the active plain-HTTP Connector on port: not AJP, not SSL-enabled.
func (d *Doc) HTTPConnector(port int) (*Element, error) {
	var found []*Element
	var others []string
	for _, el := range d.Elements {
		if el.Name != "Connector" || !under(el, "Service") {
			continue
		}
		if proto, ok := el.Attr("protocol"); ok && strings.Contains(strings.ToUpper(proto.Value()), "AJP") {
			continue
		}
		if ssl, ok := el.Attr("SSLEnabled"); ok && strings.EqualFold(ssl.Value(), "true") {
			continue
		}
		p, _ := el.Attr("port")
		if p.Value() != strconv.Itoa(port) {
			// Only plain HTTP Connectors are worth naming: an SSL or AJP one would be refused.
			if p.Value() != "" {
				others = append(others, fmt.Sprintf("%s (line %d)", p.Value(), d.Line(el.Start)))
			}
			continue
		}
		found = append(found, el)
	}
	none := fmt.Sprintf("no active plain HTTP <Connector port=\"%d\"> (outside comments)", port)
	if len(others) > 0 {
		none += "; Connectors found on ports " + strings.Join(others, ", ") + ": set the app's port in the playbook to one of them"
	}
	return d.one(found, none, fmt.Sprintf("plain HTTP Connectors on port %d", port), "to edit")
}

func under(el *Element, parent string) bool {
	return len(el.Path) > 0 && el.Path[len(el.Path)-1] == parent
}
