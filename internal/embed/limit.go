package embed

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/clirflow/clirflow/internal/llm"
)

// limiter is a token bucket on an llm.Clock, the same scheme as the chat
// client's (internal/llm keeps its bucket unexported). Embedding requests know
// their token count before the call, so no after-the-fact correction is made.
type limiter struct{ lim *rate.Limiter }

// newLimiter refills perMinute/60 tokens a second and holds at most burst.
func newLimiter(perMinute, burst int) *limiter {
	return &limiter{lim: rate.NewLimiter(rate.Limit(float64(perMinute)/60), max(burst, 1))}
}

// wait takes n tokens (at most the burst: a request larger than the bucket is
// charged the whole bucket), sleeping on clk; it returns the time slept.
func (l *limiter) wait(ctx context.Context, clk llm.Clock, n int) (time.Duration, error) {
	if n <= 0 {
		return 0, ctx.Err()
	}
	now := clk.Now()
	r := l.lim.ReserveN(now, min(n, l.lim.Burst()))
	d := r.DelayFrom(now)
	if d > 0 {
		if err := clk.Sleep(ctx, d); err != nil {
			r.CancelAt(clk.Now())
			return 0, err
		}
	}
	return d, nil
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
