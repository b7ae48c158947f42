package platform

import (
	"os"
	"runtime"
)

// RaiseProcs gives a process that polls the LLM queue twice as many Ps
// (GOMAXPROCS) as the CPUs Go found, unless GOMAXPROCS is set in the
// environment; it returns the count before and after. An LLM worker mostly
// waits on HTTP: with one P per CPU, a burst of CPU work (prompts, JSON,
// audit records, garbage collection) kept every P busy while answers that
// had arrived waited for the scheduler to poll the network, which it then
// does only every 10 ms. Each request held its concurrency slot 3 to 7 ms
// past the server's answer (measured on 2 CPUs, 32 in flight at 100 ms);
// with spare Ps the kernel runs the goroutine an answer wakes at once.
// CPU-bound work gains nothing from Ps beyond the CPUs; it shares them as
// before.
func RaiseProcs(q Queues) (before, after int) {
	before = runtime.GOMAXPROCS(0)
	if !q.llm() || os.Getenv("GOMAXPROCS") != "" {
		return before, before
	}
	runtime.GOMAXPROCS(2 * before)
	return before, 2 * before
}
