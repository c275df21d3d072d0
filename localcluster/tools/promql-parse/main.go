// promql-parse reads JSON from stdin, [{"name": ..., "expr": ...}, ...], parses each expression with
// Prometheus's own PromQL parser (the one Prometheus and promtool run) and writes one JSON line per
// expression to stdout: {"name": ..., "error": "..."} ("" when it parses). Exit 0 when every
// expression parses, 1 when one does not, 2 on bad input. Built by build.sh for the tests in
// test/monitoring (the alert rules and the Grafana dashboard's queries); nothing in tailcar imports it.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/prometheus/prometheus/promql/parser"
)

type expression struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
}

type result struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "promql-parse: reading stdin: %v\n", err)
		os.Exit(2)
	}
	var list []expression
	if err := json.Unmarshal(input, &list); err != nil {
		fmt.Fprintf(os.Stderr, "promql-parse: stdin is not a JSON list of {\"name\", \"expr\"}: %v\n", err)
		os.Exit(2)
	}
	// The default options are a Prometheus server's: no experimental functions or modifiers.
	promql := parser.NewParser(parser.Options{})
	out := json.NewEncoder(os.Stdout)
	failed := false
	for _, e := range list {
		r := result{Name: e.Name}
		if _, err := promql.ParseExpr(e.Expr); err != nil {
			r.Error = err.Error()
			failed = true
		}
		if err := out.Encode(r); err != nil {
			fmt.Fprintf(os.Stderr, "promql-parse: writing stdout: %v\n", err)
			os.Exit(2)
		}
	}
	if failed {
		os.Exit(1)
	}
}
