// Command etcd is the upstream etcd server: the same entry point as etcd's own
// main.go, which lives in a module (go.etcd.io/etcd/v3) that `go build` cannot
// use from outside because of its replace lines.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
