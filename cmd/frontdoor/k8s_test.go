package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// TestKubernetesManifest: the Indexed Job of docs/scale.md runs a command this frontdoor takes,
// once per index, each with a --shard of its own and the same run id.
func TestKubernetesManifest(t *testing.T) {
	data, err := os.ReadFile("../../docs/k8s/frontdoor-shards.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Kind string
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Template       struct {
				Spec struct {
					Containers []struct {
						Args []string
						Env  []struct {
							Name      string
							Value     string
							ValueFrom map[string]any `yaml:"valueFrom"`
						}
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal(data, &job); err != nil {
		t.Fatal(err)
	}
	if job.Kind != "Job" || job.Spec.CompletionMode != "Indexed" || job.Spec.Completions < 2 || len(job.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("not an Indexed Job of several completions with one container: %+v", job)
	}
	c := job.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
		if e.Name == "SHARD_INDEX" && !strings.Contains(fmt.Sprint(e.ValueFrom), "batch.kubernetes.io/job-completion-index") {
			t.Errorf("SHARD_INDEX is not the completion index: %v", e.ValueFrom)
		}
	}
	if env["FRONTDOOR_RUN_ID"] == "" || !strings.HasPrefix(env["FRONTDOOR_LEDGER"], "postgres://") || strings.Contains(env["FRONTDOOR_LEDGER"], ":@") {
		t.Errorf("each shard needs the same FRONTDOOR_RUN_ID and a postgres FRONTDOOR_LEDGER without its password: %v", env)
	}
	if w := ledgerTLSWarning(env["FRONTDOOR_LEDGER"]); w != "" {
		t.Errorf("the manifest's ledger: %s", w)
	}
	ref := regexp.MustCompile(`\$\((\w+)\)`)
	shards := map[string]bool{}
	for i := 0; i < job.Spec.Completions; i++ {
		env["SHARD_INDEX"] = fmt.Sprint(i)
		var args []string
		for _, a := range c.Args {
			args = append(args, ref.ReplaceAllStringFunc(a, func(m string) string { return env[ref.FindStringSubmatch(m)[1]] }))
		}
		got, err := parseCLI(args)
		if err != nil || got.cmd != "apply" {
			t.Fatalf("index %d: frontdoor %s: %+v %v", i, strings.Join(args, " "), got, err)
		}
		sh := ""
		for j, a := range args {
			if a == "--shard" && j+1 < len(args) {
				sh = args[j+1]
			}
		}
		s, err := parseShard(sh)
		if err != nil || s.I != i || s.N != job.Spec.Completions {
			t.Errorf("index %d runs --shard %q: want %d/%d", i, sh, i, job.Spec.Completions)
		}
		shards[sh] = true
	}
	if len(shards) != job.Spec.Completions {
		t.Errorf("shards %v: want one per completion", shards)
	}
}
