package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes Go profiles when FRONTDOOR_CPUPROFILE or FRONTDOOR_MEMPROFILE name a
// file: how the controller's cost at scale was found (docs/scale.md). The returned func ends
// them; os.Exit skips deferred calls, so main calls it before exiting.
func startProfiles() func() {
	cpu, mem := os.Getenv("FRONTDOOR_CPUPROFILE"), os.Getenv("FRONTDOOR_MEMPROFILE")
	var cf *os.File
	if cpu != "" {
		f, err := os.Create(cpu)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "frontdoor: WARNING: FRONTDOOR_CPUPROFILE:", err)
		} else {
			cf = f
		}
	}
	if mem != "" {
		runtime.MemProfileRate = 64 << 10
	}
	return func() {
		if cf != nil {
			pprof.StopCPUProfile()
			cf.Close()
		}
		if mem != "" {
			f, err := os.Create(mem)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "frontdoor: WARNING: FRONTDOOR_MEMPROFILE:", err)
			}
		}
	}
}
