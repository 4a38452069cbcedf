// Go net/http peer for the nethttp benchmark suite: the same three routes
// as bench/servers/*, with every net/http default left on.
//
// Usage: hello PORT (or PORT in the environment); hello -version prints the
// Go version it was built with. run.py sets GOMAXPROCS=1 and pins the process
// to one core, so this is one core's worth of Go.
package main

import (
	"io"
	"log"
	"net/http"
	"os"
	"runtime"
	"strings"
)

var big = []byte(strings.Repeat("x", 1<<20))

func hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("Hello, World!"))
}

func echo(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(data)
}

func bigHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(big)
}

func main() {
	port := os.Getenv("PORT")
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		os.Stdout.WriteString(runtime.Version() + "\n")
		return
	}
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	if port == "" {
		port = "8080"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", hello)
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/big", bigHandler)
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, mux))
}
