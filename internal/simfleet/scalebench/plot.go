package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// plot draws how the controller's cost grows with the fleet, from the measured results alone:
// wall time (left) and CPU per host (right) against hosts, one line per kind of run. A plain SVG
// so docs/ can show it without a plotting library.
func plot(rs []Result) string {
	const w, h, pad, gap = 360, 240, 48, 40
	series := map[string][]Result{}
	var kinds []string
	for _, r := range rs {
		k := strings.SplitN(r.Run, " (", 2)[0]
		if _, ok := series[k]; !ok {
			kinds = append(kinds, k)
		}
		series[k] = append(series[k], r)
	}
	colors := []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}
	var b strings.Builder
	rows := (len(kinds) + 2) / 3
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", 2*w+gap, h+24+18*rows)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	panel := func(x0 int, title string, val func(Result) float64, unit string) {
		maxX, maxY := 0.0, 0.0
		for _, r := range rs {
			maxX = math.Max(maxX, float64(r.Hosts))
			maxY = math.Max(maxY, val(r))
		}
		maxY = niceCeil(maxY)
		px := func(v float64) float64 { return float64(x0+pad) + v/maxX*float64(w-pad-30) }
		py := func(v float64) float64 { return float64(h-pad+20) - v/maxY*float64(h-pad-10) }
		fmt.Fprintf(&b, `<text x="%d" y="14" font-weight="bold">%s</text>`+"\n", x0+pad, title)
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="black"/>`+"\n", px(0), py(0), px(maxX), py(0))
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="black"/>`+"\n", px(0), py(0), px(0), py(maxY))
		for i := 0; i <= 4; i++ {
			v := maxY * float64(i) / 4
			fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">%s</text>`+"\n", px(0)-4, py(v)+4, trim(v))
			fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#ddd"/>`+"\n", px(0), py(v), px(maxX), py(v))
		}
		var xs []int
		for _, r := range series[kinds[0]] {
			xs = append(xs, r.Hosts)
		}
		sort.Ints(xs)
		for _, x := range xs {
			fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">%d</text>`+"\n", px(float64(x)), py(0)+14, x)
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">hosts</text>`+"\n", px(maxX/2), py(0)+28)
		fmt.Fprintf(&b, `<text x="%d" y="%.0f" transform="rotate(-90 %d %.0f)" text-anchor="middle">%s</text>`+"\n", x0+12, py(maxY/2), x0+12, py(maxY/2), unit)
		for i, k := range kinds {
			var pts []string
			for _, r := range series[k] {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(float64(r.Hosts)), py(val(r))))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", colors[i%len(colors)], strings.Join(pts, " "))
		}
	}
	panel(0, "wall time", func(r Result) float64 { return r.WallS }, "seconds")
	panel(w+gap, "controller CPU per host", func(r Result) float64 { return r.CPUPerHost }, "ms per host")
	for i, k := range kinds {
		x, y := pad+(i%3)*250, h+18+18*(i/3)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", x, y, colors[i%len(colors)], x+14, y+9, k)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func trim(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}
