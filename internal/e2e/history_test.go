package e2e

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/clirflow/clirflow/internal/artifact"
)

func fetchHistory(t testing.TB, c client.Client, id, runID string) *historypb.History {
	t.Helper()
	h := &historypb.History{}
	it := c.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	return h
}

// writeHistoryJSON records a history in the JSON form `temporal workflow show
// --output json` writes, for the replay test in workflows/.
// Child workflow ids derive from the parent's id, so the execution is
// recorded beside the history (PATH.execution.json) for the replayer.
func writeHistoryJSON(t testing.TB, h *historypb.History, path, id, runID string) {
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, artifact.WriteFileAtomic(path, b, ""))
	meta, err := json.Marshal(map[string]string{"workflow_id": id, "run_id": runID})
	require.NoError(t, err)
	require.NoError(t, artifact.WriteFileAtomic(strings.TrimSuffix(path, ".json")+".execution.json", meta, ""))
	t.Logf("recorded history of %d events to %s", len(h.Events), path)
	_ = os.Chmod(path, 0o644)
}
