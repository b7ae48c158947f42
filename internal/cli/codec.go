package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/clirflow/clirflow/internal/codec"
	"github.com/clirflow/clirflow/internal/platform"
)

// Codec implements `starter codec-key` (make a payload encryption key) and
// `starter codec-server` (decrypt payloads for the Temporal UI).
func Codec(cmd string, args []string, stdout, stderr io.Writer) int {
	if cmd == "codec-key" {
		return codecKey(args, stdout, stderr)
	}
	return codecServer(args, stdout, stderr)
}

func codecKey(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("codec-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "key file to create (mode 0600; an existing file is never overwritten)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, "codec-key: -out is required")
		return 2
	}
	id, err := codec.GenerateKeyFile(*out)
	if err != nil {
		fmt.Fprintln(stderr, "codec-key:", err)
		return 1
	}
	// The key itself is never printed: only its file and id.
	fmt.Fprintf(stdout, "wrote %s (key id %s); give it to workers and starters with -codec-key or $%s, and back it up: without it encrypted histories cannot be read\n",
		*out, id, platform.EnvCodecKeyFile)
	return 0
}

func codecServer(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("codec-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "payload encryption key file (default $"+platform.EnvCodecKeyFile+")")
	listen := fs.String("listen", "127.0.0.1:8234", "address to listen on (it decrypts for anyone who can reach it: keep it local)")
	origins := fs.String("cors-origin", platform.DefaultUI, "origin(s) of the Temporal UI allowed to call it, comma-separated")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if platform.CodecKeyFile(*keyFile) == "" {
		fmt.Fprintf(stderr, "codec-server: -key (or $%s) is required\n", platform.EnvCodecKeyFile)
		return 2
	}
	c, err := codec.Load(platform.CodecKeyFile(*keyFile))
	if err != nil {
		fmt.Fprintln(stderr, "codec-server:", err)
		return 1
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "codec-server:", err)
		return 1
	}
	allowed := strings.Split(*origins, ",")
	for i := range allowed {
		allowed[i] = strings.TrimRight(strings.TrimSpace(allowed[i]), "/") // browsers send origins without a slash
	}
	srv := &http.Server{Handler: codec.NewHTTPHandler(c, allowed...), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	endpoint := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "codec server on %s (key id %s) for %s\nstart the UI with: temporal server start-dev --ui-codec-endpoint %s\n",
		endpoint, c.KeyID(), strings.Join(allowed, ", "), endpoint)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "codec-server:", err)
		return 1
	}
	return 0
}
