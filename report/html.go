package report

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"io"
	"strings"
	"time"
)

//go:embed assets/page.html assets/report.css assets/report.js
var assets embed.FS

var (
	css = mustRead("assets/report.css")
	js  = mustRead("assets/report.js")
	// CSP lets the page run only its own inline script and style, and fetch nothing at all: a
	// report opened from a mail or a ticket makes no request, even if a host's text got past the
	// escaping. The hashes are of the exact bytes between the tags.
	CSP = "default-src 'none'; img-src data:; style-src '" + hash(css) + "'; script-src '" + hash(js) + "'; base-uri 'none'; form-action 'self'"

	pages = template.Must(template.New("").Funcs(template.FuncMap{
		"slug": func(s string) string { return strings.ReplaceAll(s, " ", "-") },
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "not recorded"
			}
			return t.Local().Format("2006-01-02 15:04:05 MST")
		},
	}).ParseFS(assets, "assets/page.html"))
)

func mustRead(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// frame is what both page templates get besides their content.
type frame struct {
	CSP, Generator, Title string
	CSS                   template.CSS
	JS                    template.JS
}

func newFrame(generator, title string) frame {
	if generator == "" {
		generator = "frontdoor"
	}
	return frame{CSP: CSP, Generator: generator, Title: title, CSS: template.CSS(css), JS: template.JS(js)}
}

// Write renders a run's page: one HTML document with its style and script inline and nothing
// else to load. Every text from the ledger is escaped by html/template.
func (p *Page) Write(w io.Writer) error {
	data := struct {
		frame
		P *Page
	}{newFrame(p.Opts.Generator, "frontdoor "+p.Run.Command+" "+p.Run.ID+": "+p.Status), p}
	return pages.ExecuteTemplate(w, "run", data)
}
