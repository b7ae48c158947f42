package llm

import (
	"container/heap"
	"context"
	"sync"
)

// slots is a counting semaphore whose waiters are served by priority:
// a waiter of priority p goes ahead of those that arrived up to
// priorityLead × p places before it (beyond their own priority), so higher
// priorities go first while nobody waits for ever. Listwise reranking gives
// a window the number of windows its query has left: a query's windows run
// one after another, and serving the longest remaining chains first keeps
// every slot busy to the end of a run, where arrival order leaves the
// longest queries running alone.
type slots struct {
	mu      sync.Mutex
	free    int
	seq     uint64
	waiters waitHeap
}

func newSlots(n int) *slots { return &slots{free: n} }

// priorityLead: places gained per unit of priority. A top-100 query has at
// most 9 windows, so a window is overtaken by at most 64 later arrivals (two
// rounds of 32 slots); a simulation of the benchmark's 200 queries gave the
// same wall time as strict priority (1.007 of the ideal; arrival order 1.034)
// with the longest wait 0.7 s instead of 3.2 s.
const priorityLead = 8

type waiter struct {
	key   int64 // arrival place - priorityLead × priority; then seq
	seq   uint64
	index int           // in waiters; -1 once handed a slot
	ready chan struct{} // closed when handed a slot
}

// acquire takes a slot, waiting behind the waiters that go ahead of it.
func (s *slots) acquire(ctx context.Context, prio int) error {
	s.mu.Lock()
	if s.free > 0 {
		s.free-- // free slots and waiters never coexist (release hands over)
		s.mu.Unlock()
		return nil
	}
	w := &waiter{key: int64(s.seq) - priorityLead*int64(prio), seq: s.seq, ready: make(chan struct{})}
	s.seq++
	heap.Push(&s.waiters, w)
	s.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		if w.index < 0 {
			// Handed a slot as the context ended: pass it on.
			s.mu.Unlock()
			s.release()
			return ctx.Err()
		}
		heap.Remove(&s.waiters, w.index)
		s.mu.Unlock()
		return ctx.Err()
	}
}

// release hands the slot to the first waiter, or frees it.
func (s *slots) release() {
	s.mu.Lock()
	if len(s.waiters) == 0 {
		s.free++
		s.mu.Unlock()
		return
	}
	w := heap.Pop(&s.waiters).(*waiter)
	s.mu.Unlock()
	close(w.ready)
}

// waitHeap orders waiters by key, then arrival.
type waitHeap []*waiter

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, j int) bool {
	if h[i].key != h[j].key {
		return h[i].key < h[j].key
	}
	return h[i].seq < h[j].seq
}
func (h waitHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waitHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.index = -1
	return w
}
