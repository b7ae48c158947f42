package llm

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Clock is the time source of the rate limiters (only of them: latencies are
// always measured with the real clock). Tests pass a fake one whose Sleep
// advances its time, so limiting can be checked without timed assertions.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// bucket is a token bucket (golang.org/x/time/rate) whose charges can be
// corrected after the fact: an underestimate is charged on top (its debt
// delays later callers), an overestimate becomes a credit deducted from the
// next charge (rate.Limiter cannot give tokens back).
type bucket struct {
	lim *rate.Limiter
	mu  sync.Mutex
	cr  int // credit from overestimates
}

// newBucket refills perMinute/60 tokens a second and holds at most burst.
func newBucket(perMinute, burst int) *bucket {
	if burst < 1 {
		burst = 1
	}
	return &bucket{lim: rate.NewLimiter(rate.Limit(float64(perMinute)/60), burst)}
}

// wait takes n tokens (at most the burst), sleeping on clk as needed. It
// returns how long it slept and the tokens actually charged.
func (b *bucket) wait(ctx context.Context, clk Clock, n int) (time.Duration, int, error) {
	b.mu.Lock()
	use := min(b.cr, n)
	b.cr -= use
	n -= use
	b.mu.Unlock()
	if n <= 0 {
		return 0, 0, ctx.Err()
	}
	n = min(n, b.lim.Burst())
	now := clk.Now()
	r := b.lim.ReserveN(now, n)
	if !r.OK() { // cannot happen with n ≤ burst and a finite positive limit
		return 0, 0, nil
	}
	d := r.DelayFrom(now)
	if d > 0 {
		if err := clk.Sleep(ctx, d); err != nil {
			r.CancelAt(clk.Now())
			return 0, 0, err
		}
	}
	return d, n, nil
}

// correct adjusts a charge once the true count is known.
func (b *bucket) correct(clk Clock, charged, actual int) {
	switch diff := actual - charged; {
	case diff > 0:
		b.lim.ReserveN(clk.Now(), min(diff, b.lim.Burst())) // debt: delays the next callers
	case diff < 0:
		b.mu.Lock()
		b.cr = min(b.cr-diff, b.lim.Burst())
		b.mu.Unlock()
	}
}
