package translate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/clirflow/clirflow/internal/httpx"
	"github.com/clirflow/clirflow/internal/inputerr"
)

func checkBaseURL(field, raw string) (string, error) {
	if raw == "" {
		return "", inputerr.Field(field, "is required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", inputerr.Field(field, "%q is not an http(s) URL", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// doHTTP sends req and decodes a 2xx JSON answer into v. Non-2xx answers are
// mapped by statusError (message taken from the body's JSON error fields when
// present); network errors are transient.
func doHTTP(client *http.Client, system string, req *http.Request, v any) error {
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", system, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s: reading answer: %w", system, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(system, resp.StatusCode, resp.Header, errorMessage(body), time.Now())
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: bad JSON answer (HTTP %d): %w: %.200s", system, resp.StatusCode, err, body)
	}
	return nil
}

// errorMessage extracts a server's error message from a JSON body
// ({"error": "..."}, {"error": {"message": ...}}, APy's {"explanation": ...},
// {"message": ...}) or returns the body itself.
func errorMessage(body []byte) string {
	return httpx.ErrorMessage(body, "explanation", "error", "message", "detail")
}

// parallel runs f(i) for i in [0,n) with at most conc in flight; it stops at
// the first error.
func parallel(ctx context.Context, n, conc int, f func(ctx context.Context, i int) error) error {
	if conc <= 0 {
		conc = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, conc)
	)
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(ctx, i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
