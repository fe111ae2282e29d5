// Command labmirror serves the frontdoor lab's Debian package mirror (TEST-ONLY): a flat apt
// repository of Apache's packages, signed with the lab's own key, that testdata/lab/build makes
// from the .deb files it downloads with the rootfs. testdata/lab/up starts it on the bridge
// address, so apt-get install apache2 on a lab host is real with no internet (issue 14).
//
// Usage: labmirror -listen 10.77.0.1:8077 -root DIR
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
)

func main() {
	listen := flag.String("listen", "10.77.0.1:8077", "TCP address to serve on")
	root := flag.String("root", "", "the repository's folder (Packages, InRelease, the .deb files)")
	flag.Parse()
	if st, err := os.Stat(*root); err != nil || !st.IsDir() {
		log.Fatalf("labmirror: -root %q is not a folder", *root)
	}
	files := http.FileServer(http.Dir(*root))
	log.Fatal(http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Each request is logged: a test can tell that a host fetched from the mirror.
		log.Printf("%s %s %s", r.RemoteAddr, r.Method, r.URL.Path)
		files.ServeHTTP(w, r)
	})))
}
