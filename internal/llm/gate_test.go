package llm

import (
	"context"
	"testing"

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
	rel1, err := a.Acquire(ctx)
	require.NoError(t, err)
	rel2, err := b.Acquire(ctx)
	require.NoError(t, err)

	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err = a.Acquire(done) // the gate is full
	require.ErrorContains(t, err, "waiting for a connection slot")
	require.Len(t, a.sem, 1, "the endpoint slot taken before the gate is given back")

	rel2()
	rel3, err := a.Acquire(ctx)
	require.NoError(t, err)
	require.Len(t, gate.ch, 2)
	rel1()
	rel3()
	require.Empty(t, gate.ch)
	require.Empty(t, a.sem)
	require.Nil(t, NewGate(0))
}
