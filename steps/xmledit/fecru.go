package xmledit

import (
	"fmt"
	"strconv"
	"strings"
)

// FecruEdit is the change frontdoor makes to Fisheye/Crucible's config.xml: the web context on
// <web-server context=...> and the proxy settings on the <http> listener serving Port.
type FecruEdit struct {
	Context     string // "" (root) or "/fisheye"
	Port        int    // the <http bind=":PORT"> listener to edit
	ProxyHost   string
	ProxyPort   int
	ProxyScheme string
	// ReplacePlaceholders allows overwriting a ${...} value; see PlaceholderError.
	ReplacePlaceholders bool
}

// EditFecruConfig applies e to a config.xml and returns the new bytes and the spans it changed.
func EditFecruConfig(src []byte, e FecruEdit) ([]byte, []Span, error) {
	d, err := Parse(src)
	if err != nil {
		return nil, nil, err
	}
	var ws []*Element
	for _, el := range d.Elements {
		if el.Name == "web-server" && under(el, "config") {
			ws = append(ws, el)
		}
	}
	web, err := d.one(ws, "no <web-server> element inside <config>: write one, e.g. <web-server><http bind=\":8060\"/></web-server>", "<web-server> elements", "to edit")
	if err != nil {
		return nil, nil, err
	}
	var https []*Element
	var others []string
	for _, el := range d.Elements {
		if el.Name != "http" || !under(el, "web-server") || el.Start < web.Start {
			continue
		}
		b, _ := el.Attr("bind")
		if strings.HasSuffix(b.Value(), ":"+strconv.Itoa(e.Port)) {
			https = append(https, el)
		} else {
			others = append(others, fmt.Sprintf("%q (line %d)", b.Value(), d.Line(el.Start)))
		}
	}
	none := fmt.Sprintf("no <http bind=\"...:%d\"> inside <web-server>", e.Port)
	if len(others) > 0 {
		none += "; found bind=" + strings.Join(others, ", ") + ": set the app's port in the playbook to one of them"
	}
	http, err := d.one(https, none, fmt.Sprintf("<http> listeners on port %d", e.Port), "to edit")
	if err != nil {
		return nil, nil, err
	}
	var spans []Span
	var ctx AttrSet
	if _, ok := web.Attr("context"); ok || e.Context != "" {
		ctx.Set("context", e.Context)
	}
	s, err := d.SetAttrs(web, ctx, e.ReplacePlaceholders)
	if err != nil {
		return nil, nil, err
	}
	spans = append(spans, s...)
	var px AttrSet
	px.Set("proxy-host", e.ProxyHost)
	px.Set("proxy-port", strconv.Itoa(e.ProxyPort))
	px.Set("proxy-scheme", e.ProxyScheme)
	if s, err = d.SetAttrs(http, px, e.ReplacePlaceholders); err != nil {
		return nil, nil, err
	}
	spans = append(spans, s...)
	if len(spans) == 0 {
		return src, nil, nil
	}
	out := Splice(src, spans)
	if _, err := Parse(out); err != nil {
		return nil, nil, fmt.Errorf("internal error: edited file does not parse: %w", err)
	}
	return out, spans, nil
}
