package llm

import (
	"container/heap"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Connections sharing a gate hold at most its size of requests together;
// a slot given back is taken by the next request, and a request that gives
// up waiting holds nothing (not even its endpoint's slot).
func TestGateBoundsRequestsAcrossConnections(t *testing.T) {
	gate := NewGate(2)
	a, err := Dial(Endpoint{Name: "a", BaseURL: "http://127.0.0.1:1/v1", Model: "m", MaxConcurrency: 2}, "llm", nil, nil)
	require.NoError(t, err)
	b, err := Dial(Endpoint{Name: "b", BaseURL: "http://127.0.0.1:1/v1", Model: "m"}, "llm", nil, nil)
	require.NoError(t, err)
	a.UseGate(gate)
	b.UseGate(gate)
	ctx := context.Background()
	rel1, err := a.Acquire(ctx, 0)
	require.NoError(t, err)
	rel2, err := b.Acquire(ctx, 0)
	require.NoError(t, err)

	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err = a.Acquire(done, 0) // the gate is full
	require.ErrorContains(t, err, "waiting for a connection slot")
	require.Equal(t, 1, a.sem.free, "the endpoint slot taken before the gate is given back")

	rel2()
	rel3, err := a.Acquire(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, 0, gate.s.free)
	rel1()
	rel3()
	require.Equal(t, 2, gate.s.free)
	require.Equal(t, 2, a.sem.free)
	require.Nil(t, NewGate(0))
}

// Waiters are served by priority, higher first, then in arrival order; a
// waiter that gives up leaves the queue, and one handed a slot as it gives
// up passes the slot on.
func TestSlotsServeByPriority(t *testing.T) {
	s := newSlots(1)
	ctx := context.Background()
	require.NoError(t, s.acquire(ctx, 0))
	order := make(chan int, 8)
	waitFor := func(n int) {
		require.Eventually(t, func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return len(s.waiters) == n
		}, 5*time.Second, time.Millisecond)
	}
	// Arrivals: 1 (prio 1), 2 (prio 5), 3 (prio 1), 4 (prio 5), and 5
	// (prio 9) that gives up before it is served.
	gone, cancel := context.WithCancel(ctx)
	for i, p := range []int{1, 5, 1, 5, 9} {
		c := ctx
		if i == 4 {
			c = gone
		}
		go func() {
			if s.acquire(c, p) != nil {
				order <- -1
				return
			}
			order <- i + 1
			s.release()
		}()
		waitFor(i + 1)
	}
	cancel()
	require.Equal(t, -1, <-order)
	waitFor(4)
	s.release()
	var got []int
	for range 4 {
		got = append(got, <-order)
	}
	require.Equal(t, []int{2, 4, 1, 3}, got)
	require.Eventually(t, func() bool { return freeSlots(s) == 1 }, 5*time.Second, time.Millisecond)

	// Handed the slot just as its context ends: the slot goes to the next.
	require.NoError(t, s.acquire(ctx, 0))
	late, cancelLate := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- s.acquire(late, 3) }()
	waitFor(1)
	next := make(chan error, 1)
	go func() { next <- s.acquire(ctx, 0) }()
	waitFor(2)
	s.mu.Lock()
	w := heap.Pop(&s.waiters).(*waiter) // hand over to the first (prio 3) …
	s.mu.Unlock()
	cancelLate() // … whose context has ended first
	require.ErrorIs(t, <-errc, context.Canceled)
	close(w.ready)
	require.NoError(t, <-next, "the slot passed on")
	s.release()
	require.Equal(t, 1, freeSlots(s))
}

func freeSlots(s *slots) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.free
}
