// A module that pins the Prometheus Operator for its CRDs (the module's example/prometheus-operator-crd/
// folder): fetch.sh downloads it through the Go module proxy, go.sum checks it, and the tests install
// the ServiceMonitor, PodMonitor and PrometheusRule CRDs into the test API server. No Go is built here.
module tailcar.test/prometheus-operator-crds

go 1.26.5

require github.com/prometheus-operator/prometheus-operator v0.94.1
