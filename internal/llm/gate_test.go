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

// Waiters are served by priority: a waiter of priority p goes ahead of
// those that arrived up to 8p places before it (beyond theirs), in arrival
// order otherwise; a waiter that gives up leaves the queue, and one handed
// a slot as it gives up passes the slot on.
func TestSlotsServeByPriority(t *testing.T) {
	s := newSlots(1)
	ctx := context.Background()
	require.NoError(t, s.acquire(ctx, 0))
	order := make(chan int, 16)
	waitFor := func(n int) {
		require.Eventually(t, func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return len(s.waiters) == n
		}, 5*time.Second, time.Millisecond)
	}
	// Arrival place: priority. Keys (place - 8 × priority): 0: 0, 1: -7,
	// 2: 2, 3: -37, 4: -4, 5: -3, 6: 6, 7: -1, 8: 8, 9: 9, and 10 (priority
	// 9) gives up before it is served.
	prios := []int{0, 1, 0, 5, 1, 1, 0, 1, 0, 0, 9}
	gone, cancel := context.WithCancel(ctx)
	for i, p := range prios {
		c := ctx
		if i == len(prios)-1 {
			c = gone
		}
		go func() {
			if s.acquire(c, p) != nil {
				order <- -1
				return
			}
			order <- i
			s.release()
		}()
		waitFor(i + 1)
	}
	cancel()
	require.Equal(t, -1, <-order)
	waitFor(len(prios) - 1)
	s.release()
	var got []int
	for range len(prios) - 1 {
		got = append(got, <-order)
	}
	require.Equal(t, []int{3, 1, 4, 5, 7, 0, 2, 6, 8, 9}, got)
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
	w := heap.Pop(&s.waiters).(*waiter) // hand over to the first (priority 3) …
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
