package experiment

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/clirflow/clirflow/internal/artifact"
	"github.com/clirflow/clirflow/internal/config"
	"github.com/clirflow/clirflow/internal/dataset"
	"github.com/clirflow/clirflow/internal/inputerr"
	"github.com/clirflow/clirflow/internal/llm"
	"github.com/clirflow/clirflow/internal/rerank"
	"github.com/clirflow/clirflow/internal/trec"
)

const (
	candidatesVersion = "candidates-v2"
	assembleVersion   = "rerank-assemble-v1"
)

// CandidatesInput selects what a reranker sees: the top candidates of a
// first-stage run, their text (original or translated corpus), truncated.
type CandidatesInput struct {
	Run          artifact.Ref `json:"run"`
	Corpus       artifact.Ref `json:"corpus"`
	Topics       artifact.Ref `json:"topics"`
	Top          int          `json:"top"`
	MaxDocTokens int          `json:"max_doc_tokens"`
	// Pairwise renders passages as llm-rankers does ("{title} {text}", no
	// "[n]" rewriting) instead of rank_llm's "Title: … Content: …".
	Pairwise bool `json:"pairwise,omitempty"`
	// RerankKey identifies the reranker's settings and model; when a run with
	// the same candidates and key was assembled before, it is returned as
	// Previous and nothing is asked again.
	RerankKey string `json:"rerank_key"`
}

// CandidatesInfo lists the queries to rerank (in run order) with their
// number of candidates; passages live in the artifact.
type CandidatesInfo struct {
	Ref    artifact.Ref `json:"ref"`
	QIDs   []string     `json:"qids"`
	Counts []int        `json:"counts"`
	Cached bool         `json:"cached"`
	// Previous is the finished reranked run for these candidates and settings.
	Previous *AssembledRun `json:"previous,omitempty"`
}

// Candidates are a run's prepared candidates: per query, the query text, the
// top documents with their rendered passages, and the rest of the
// first-stage ranking (stored as a candidatesFile).
type Candidates struct {
	Queries []CandidateQuery `json:"queries"`
}

// CandidateQuery is one query's candidates.
type CandidateQuery struct {
	QID   string         `json:"qid"`
	Query string         `json:"query"`
	Docs  []CandidateDoc `json:"docs"`
	Rest  []string       `json:"rest,omitempty"`
	index map[string]int // doc id → position in Docs
}

// CandidateDoc is a document as the reranker sees it.
type CandidateDoc struct {
	ID      string `json:"id"`
	Passage string `json:"passage"`
}

// candidatesFile is the artifact's form: each passage once (a document is a
// candidate of many queries), queries by document id.
type candidatesFile struct {
	Passages map[string]string `json:"passages"`
	Queries  []candidatesQuery `json:"queries"`
}

type candidatesQuery struct {
	QID   string   `json:"qid"`
	Query string   `json:"query"`
	Docs  []string `json:"docs"`
	Rest  []string `json:"rest,omitempty"`
}

// PrepareCandidates renders every query's top candidates once, so that LLM
// activities read small passages by reference instead of corpora.
func PrepareCandidates(ctx context.Context, s artifact.Store, tok rerank.Tokenizer, in CandidatesInput) (CandidatesInfo, error) {
	key := artifact.KeyOf(candidatesVersion, string(in.Run), string(in.Corpus), string(in.Topics), strconv.Itoa(in.Top), strconv.Itoa(in.MaxDocTokens), strconv.FormatBool(in.Pairwise))
	out, hit, err := lookup(ctx, s, key, func(o CandidatesInfo) []artifact.Ref { return []artifact.Ref{o.Ref} })
	if err != nil {
		return out, err
	}
	if hit {
		out.Cached = true
		prev, done, err := lookup(ctx, s, rerankDoneKey(out.Ref, in.RerankKey), func(o AssembledRun) []artifact.Ref { return []artifact.Ref{o.Run.Ref, o.Audit} })
		if err != nil {
			return out, err
		}
		if done {
			prev.Run.Cached = true
			out.Previous = &prev
		}
		return out, nil
	}
	// The corpus is decoded while the run (from memory when this worker
	// wrote it: readRun) and the topics are read: documents wait in a
	// bounded channel until the candidates' documents are known.
	dctx, cancel := context.WithCancel(ctx)
	defer cancel() // an early return stops the decoder
	docs := make(chan dataset.Document, 4096)
	decoded := make(chan error, 1)
	go func() {
		defer close(docs)
		decoded <- forEachDocument(dctx, s, in.Corpus, func(d dataset.Document) error {
			select {
			case docs <- d:
				return nil
			case <-dctx.Done():
				return dctx.Err()
			}
		})
	}()
	run, err := readRun(ctx, s, in.Run)
	if err != nil {
		return out, err
	}
	topics, err := LoadTopics(ctx, s, in.Topics)
	if err != nil {
		return out, err
	}
	// Queries in topic order; candidates in trec_eval's order (score desc,
	// docno desc), which is the first stage's ranking.
	var cands Candidates
	need := map[string]bool{}
	for _, t := range topics {
		res, ok := run.Entries[t.ID]
		if !ok {
			continue
		}
		if !trec.ResultsSorted(res) { // (a run's rankings are shared: sorted in a copy)
			res = append([]trec.Result(nil), res...)
			trec.SortResults(res)
		}
		q := CandidateQuery{QID: t.ID, Query: t.Query, Docs: make([]CandidateDoc, 0, min(len(res), in.Top))}
		for i, r := range res {
			if i < in.Top {
				q.Docs = append(q.Docs, CandidateDoc{ID: r.DocID})
				need[r.DocID] = true
			} else {
				q.Rest = append(q.Rest, r.DocID)
			}
		}
		cands.Queries = append(cands.Queries, q)
	}
	passages := make(map[string]string, len(need))
	for d := range docs {
		switch {
		case !need[d.ID]:
		case in.Pairwise:
			passages[d.ID] = rerank.PairwisePassageText(d.Title, d.Text, in.MaxDocTokens, tok)
		default:
			passages[d.ID] = rerank.PassageText(d.Title, d.Text, in.MaxDocTokens, tok)
		}
	}
	if err := <-decoded; err != nil {
		return out, err
	}
	for qi := range cands.Queries {
		for di, d := range cands.Queries[qi].Docs {
			p, ok := passages[d.ID]
			if !ok {
				return out, inputerr.Field("run", "document %q of query %s is not in the corpus", d.ID, cands.Queries[qi].QID)
			}
			cands.Queries[qi].Docs[di].Passage = p
		}
		out.QIDs = append(out.QIDs, cands.Queries[qi].QID)
		out.Counts = append(out.Counts, len(cands.Queries[qi].Docs))
	}
	file := candidatesFile{Passages: passages, Queries: make([]candidatesQuery, len(cands.Queries))}
	for qi, q := range cands.Queries {
		ids := make([]string, len(q.Docs))
		for di, d := range q.Docs {
			ids[di] = d.ID
		}
		file.Queries[qi] = candidatesQuery{QID: q.QID, Query: q.Query, Docs: ids, Rest: q.Rest}
	}
	// The windows' index of the candidates is built while they are stored.
	var loaded map[string]*CandidateQuery
	indexed := make(chan struct{})
	go func() {
		defer close(indexed)
		loaded = primable(file)
	}()
	b, err := file.encode()
	if err == nil {
		out.Ref, err = artifact.Put(ctx, s, b)
	}
	if err == nil {
		err = s.PutMemo(ctx, key, out)
	}
	<-indexed
	if err != nil {
		return out, err
	}
	primeLoaded(out.Ref, loaded)
	return out, nil
}

// encode is json.Marshal(f) (map keys sorted: the same bytes every time)
// written into one buffer of the right size: Marshal grew its buffer by
// doubling and then copied it, twice the artifact's size in garbage while
// a run's first requests wait.
func (f candidatesFile) encode() ([]byte, error) {
	ids := make([]string, 0, len(f.Passages))
	size := 0
	for id, p := range f.Passages {
		ids = append(ids, id)
		size += len(id) + len(p) + 6
	}
	slices.Sort(ids) // encoding/json's order for string keys
	queries, err := json.Marshal(f.Queries)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(size + size/16 + len(queries) + 32) // room for escapes
	// An Encoder writes each value with a newline, dropped here; its
	// scratch is reused, so a string costs no allocation.
	enc := json.NewEncoder(&buf)
	put := func(v string) error {
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1)
		return nil
	}
	buf.WriteString(`{"passages":{`)
	for i, id := range ids {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := put(id); err != nil {
			return nil, err
		}
		buf.WriteByte(':')
		if err := put(f.Passages[id]); err != nil {
			return nil, err
		}
	}
	buf.WriteString(`},"queries":`)
	buf.Write(queries)
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// candidatesCache keeps the candidates of the most recent runs loaded per
// worker: every window of every query of a run reads the same artifact.
// Concurrent windows of a run that is not loaded yet wait for one load
// (hundreds start together; each decoding the whole artifact cost more CPU
// than the LLM calls).
var candidatesCache = struct {
	sync.Mutex
	m     map[artifact.Ref]*candidatesEntry
	order []artifact.Ref // oldest first
}{m: map[artifact.Ref]*candidatesEntry{}}

// candidatesCacheRuns bounds the runs kept (a long-lived worker reranks many).
const candidatesCacheRuns = 8

type candidatesEntry struct {
	done    chan struct{} // closed when queries or err is set
	queries map[string]*CandidateQuery
	err     error
}

// primable indexes the candidates f as the windows load them, or returns
// nil when they must read the artifact instead. PrepareCandidates primes
// the cache with it (primeLoaded): when the windows run in this process,
// the first of them does not wait for the artifact to be read and decoded
// again (23 ms for 200 queries, before a run's first request).
func primable(f candidatesFile) map[string]*CandidateQuery {
	for _, p := range f.Passages {
		if !utf8.ValidString(p) {
			return nil // JSON stores it altered: the windows must see what was stored
		}
	}
	m, err := candidatesOf("", f)
	if err != nil {
		return nil // cannot happen (every passage was found); the windows load the artifact
	}
	return m
}

// primeLoaded caches the candidates m (nil: none) stored under ref.
func primeLoaded(ref artifact.Ref, m map[string]*CandidateQuery) {
	if m == nil {
		return
	}
	c := &candidatesCache
	c.Lock()
	defer c.Unlock()
	if _, ok := c.m[ref]; ok {
		return
	}
	e := &candidatesEntry{done: make(chan struct{}), queries: m}
	close(e.done)
	addCandidatesLocked(ref, e)
}

// addCandidatesLocked adds a run's entry to the cache, dropping the oldest
// beyond candidatesCacheRuns. Caller holds candidatesCache's lock.
func addCandidatesLocked(ref artifact.Ref, e *candidatesEntry) {
	c := &candidatesCache
	c.m[ref] = e
	c.order = append(c.order, ref)
	if len(c.order) > candidatesCacheRuns {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
}

// LoadQuery returns one query's candidates.
func LoadQuery(ctx context.Context, s artifact.Store, ref artifact.Ref, qid string) (*CandidateQuery, error) {
	c := &candidatesCache
	c.Lock()
	e, ok := c.m[ref]
	if !ok {
		e = &candidatesEntry{done: make(chan struct{})}
		addCandidatesLocked(ref, e)
	}
	c.Unlock()
	if !ok {
		e.queries, e.err = loadCandidates(ctx, s, ref)
		if e.err != nil {
			// Not kept: a later window tries again (the error may pass).
			c.Lock()
			if c.m[ref] == e {
				delete(c.m, ref)
				c.order = slices.DeleteFunc(c.order, func(r artifact.Ref) bool { return r == ref })
			}
			c.Unlock()
		}
		close(e.done)
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if e.err != nil {
		if ok && ctx.Err() == nil && (errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded)) {
			return LoadQuery(ctx, s, ref, qid) // the loader's call ended, not ours: load again
		}
		return nil, e.err
	}
	if q, ok := e.queries[qid]; ok {
		return q, nil
	}
	return nil, fmt.Errorf("query %s is not among the candidates %s", qid, ref)
}

func loadCandidates(ctx context.Context, s artifact.Store, ref artifact.Ref) (map[string]*CandidateQuery, error) {
	b, err := artifact.ReadAll(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	var f candidatesFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("candidates artifact %s is damaged: %w", ref, err)
	}
	return candidatesOf(ref, f)
}

// candidatesOf indexes a candidates file by query.
func candidatesOf(ref artifact.Ref, f candidatesFile) (map[string]*CandidateQuery, error) {
	m := make(map[string]*CandidateQuery, len(f.Queries))
	for _, fq := range f.Queries {
		q := &CandidateQuery{QID: fq.QID, Query: fq.Query, Rest: fq.Rest, Docs: make([]CandidateDoc, len(fq.Docs)), index: make(map[string]int, len(fq.Docs))}
		for j, id := range fq.Docs {
			p, ok := f.Passages[id]
			if !ok {
				return nil, fmt.Errorf("candidates artifact %s is damaged: no passage for document %q of query %s", ref, id, fq.QID)
			}
			q.Docs[j] = CandidateDoc{ID: id, Passage: p}
			q.index[id] = j
		}
		m[q.QID] = q
	}
	return m, nil
}

// IDs is the first-stage order of the query's top candidates.
func (q *CandidateQuery) IDs() []string {
	out := make([]string, len(q.Docs))
	for i, d := range q.Docs {
		out[i] = d.ID
	}
	return out
}

// Passage returns a candidate's passage.
func (q *CandidateQuery) Passage(id string) (string, bool) {
	i, ok := q.index[id]
	if !ok {
		return "", false
	}
	return q.Docs[i].Passage, true
}

// CallStats add up what LLM calls cost; one per window or pass, summed per
// query and per run.
type CallStats struct {
	Calls            int     `json:"calls"`
	CacheHits        int     `json:"cache_hits"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	Cost             float64 `json:"cost"`
	LatencyMS        int64   `json:"latency_ms"`
	// Repairs counts fixes to answers (duplicates, missing or out-of-range
	// ids, unparsable verdicts); Unusable counts answers with nothing usable.
	Repairs  int `json:"repairs"`
	Unusable int `json:"unusable"`
}

// Add accumulates o.
func (c *CallStats) Add(o CallStats) {
	c.Calls += o.Calls
	c.CacheHits += o.CacheHits
	c.PromptTokens += o.PromptTokens
	c.CompletionTokens += o.CompletionTokens
	c.Cost += o.Cost
	c.LatencyMS += o.LatencyMS
	c.Repairs += o.Repairs
	c.Unusable += o.Unusable
}

func statsOf(r llm.Response) CallStats {
	st := CallStats{Calls: 1, PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens, Cost: r.Cost, LatencyMS: r.Latency.Milliseconds()}
	if r.CacheHit {
		st.CacheHits = 1
	}
	return st
}

// Chatter is the slice of the LLM client the rerankers use.
type Chatter interface {
	Chat(ctx context.Context, req llm.Request) (llm.Response, error)
	ID() string
}

// WindowInput is one listwise window of one query.
type WindowInput struct {
	Candidates artifact.Ref    `json:"candidates"`
	QID        string          `json:"qid"`
	Order      []string        `json:"order"` // current order of the top candidates; empty: first-stage order
	Start      int             `json:"start"`
	End        int             `json:"end"`
	Prompt     string          `json:"prompt"`
	Endpoint   config.Endpoint `json:"endpoint"`
	// AuditLater: write no audit record; the result carries the answer and
	// the prompt's hash instead, and SaveQuery writes the query's records
	// together (one file per query instead of one per window). The result
	// then has no Order: the caller keeps the windows applied so far and
	// passes them in Applied (a few bytes each, where an order of 100 ids
	// recorded per window made most of the history).
	AuditLater bool `json:"audit_later,omitempty"`
	// Applied: the windows before this one, applied in turn to the
	// first-stage order to give this window's order (when Order is empty).
	Applied []AppliedWindow `json:"applied,omitempty"`
	// Save (with AuditLater): this is the query's last window. After its
	// answer the activity saves the query as SaveQuery does, from Steps (the
	// windows before this one, which then stand for Applied) and this one,
	// and returns the ranking in WindowResult.Ranking. A SaveQuery local
	// activity of its own waited behind every other query's queued windows.
	Save  bool         `json:"save,omitempty"`
	Steps []WindowStep `json:"steps,omitempty"`
}

// AppliedWindow is a window and the permutation its answer gave.
type AppliedWindow struct {
	Start       int   `json:"start"`
	End         int   `json:"end"`
	Permutation []int `json:"permutation"`
}

// applyAll applies windows in turn to order (field names them in errors).
func applyAll(order []string, windows []AppliedWindow, field string) ([]string, error) {
	for i, w := range windows {
		var err error
		if order, err = applyWindow(order, w, fmt.Sprintf("%s[%d]", field, i)); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// applyWindow applies w to order; a window outside it or a permutation that
// is not one is bad input in field.
func applyWindow(order []string, w AppliedWindow, field string) ([]string, error) {
	if w.Start < 0 || w.End > len(order) || w.Start >= w.End {
		return nil, inputerr.Field(field, "[%d,%d) outside %d candidates", w.Start, w.End, len(order))
	}
	if !rerank.IsPermutation(w.Permutation, w.End-w.Start) {
		return nil, inputerr.Field(field, "%v is not a permutation of a window of %d", w.Permutation, w.End-w.Start)
	}
	return rerank.ApplyWindow(order, rerank.Window{Start: w.Start, End: w.End}, w.Permutation), nil
}

// WindowResult is the new order and a compact account of the call; the full
// prompt and answer are in the audit record (Audit), or, with AuditLater,
// the answer, the time and the hash of the prompt are here for SaveQuery.
type WindowResult struct {
	Order       []string       `json:"order"`
	Permutation []int          `json:"permutation"`
	Repairs     rerank.Repairs `json:"repairs"`
	Stats       CallStats      `json:"stats"`
	Audit       artifact.Ref   `json:"audit"`
	Answer      string         `json:"answer,omitempty"`
	At          time.Time      `json:"at,omitzero"`
	PromptSHA   string         `json:"prompt_sha256,omitempty"`
	// Ranking: the query's saved ranking (WindowInput.Save).
	Ranking artifact.Ref `json:"ranking,omitempty"`
}

// AuditRecord is what one LLM call did, kept in the artifact store.
type AuditRecord struct {
	Kind        string         `json:"kind"` // window or comparison
	QID         string         `json:"qid"`
	Endpoint    string         `json:"endpoint"`
	Window      []int          `json:"window,omitempty"`
	Docs        []string       `json:"docs"`
	Messages    []llm.Message  `json:"messages"`
	Answer      string         `json:"answer"`
	Permutation []int          `json:"permutation,omitempty"`
	Verdict     string         `json:"verdict,omitempty"`
	Repairs     rerank.Repairs `json:"repairs,omitempty"`
	Repaired    bool           `json:"repaired,omitempty"`
	Stats       CallStats      `json:"stats"`
	At          time.Time      `json:"at"`
	// PromptSHA is the SHA-256 of the JSON of the messages sent, in the
	// records of a QueryAudit, which keeps no Messages (see
	// QueryAudit.Messages).
	PromptSHA string `json:"prompt_sha256,omitempty"`
}

// RerankWindow asks the model to order one window and applies its answer.
func RerankWindow(ctx context.Context, s artifact.Store, c Chatter, in WindowInput) (WindowResult, error) {
	q, err := LoadQuery(ctx, s, in.Candidates, in.QID)
	if err != nil {
		return WindowResult{}, err
	}
	applied, field := in.Applied, "applied"
	if in.Save {
		if !in.AuditLater || len(in.Applied) > 0 || len(in.Order) > 0 {
			return WindowResult{}, inputerr.Field("save", "a saving window takes audit_later and steps, not applied windows or an order")
		}
		applied, field = make([]AppliedWindow, len(in.Steps)), "steps"
		for i, st := range in.Steps {
			applied[i] = AppliedWindow{Start: st.Start, End: st.End, Permutation: st.Permutation}
		}
	}
	order := in.Order
	if len(order) == 0 {
		if order, err = applyAll(q.IDs(), applied, field); err != nil {
			return WindowResult{}, err
		}
	}
	if in.Start < 0 || in.End > len(order) || in.Start >= in.End {
		return WindowResult{}, inputerr.Field("window", "[%d,%d) outside %d candidates", in.Start, in.End, len(order))
	}
	docs := order[in.Start:in.End]
	msgs, err := windowPrompt(q, in.Prompt, docs)
	if err != nil {
		return WindowResult{}, err
	}
	resp, err := c.Chat(ctx, llm.Request{Messages: msgs, Temperature: 0})
	if err != nil {
		return WindowResult{}, err
	}
	perm, repairs := rerank.ParsePermutation(resp.Content, len(docs))
	out := WindowResult{Permutation: perm, Repairs: repairs, Stats: statsOf(resp)}
	out.Stats.Repairs = repairs.Total()
	if repairs.Missing == len(docs) {
		out.Stats.Unusable = 1
	}
	if in.AuditLater {
		out.Answer, out.At, out.PromptSHA = resp.Content, time.Now().UTC(), promptSHA(msgs)
		sentPrompts.put(windowKey(in.Candidates, in.QID, in.Prompt, docs), out.PromptSHA)
		if in.Save {
			// A retry after a failed save asks the response cache, not the
			// model; the record then shows that attempt's cache hit.
			steps := append(slices.Clip(in.Steps), out.Step(in.Start, in.End))
			out.Ranking, err = SaveQuery(ctx, s, c.ID(), SaveQueryInput{
				Candidates: in.Candidates, QID: in.QID, Prompt: in.Prompt, Endpoint: in.Endpoint, Windows: steps,
			})
			if err != nil {
				return WindowResult{}, err
			}
		}
		return out, nil
	}
	out.Order = rerank.ApplyWindow(order, rerank.Window{Start: in.Start, End: in.End}, perm)
	rec := AuditRecord{Kind: "window", QID: in.QID, Endpoint: c.ID(), Window: []int{in.Start, in.End}, Docs: docs,
		Messages: msgs, Answer: resp.Content, Permutation: perm, Repairs: repairs, Stats: out.Stats, At: time.Now().UTC()}
	if out.Audit, err = putJSON(ctx, s, rec); err != nil {
		return WindowResult{}, err
	}
	return out, nil
}

func promptSHA(msgs []llm.Message) string {
	sum, _ := llm.SumJSON(msgs) // cannot fail: strings
	return hex.EncodeToString(sum[:])
}

// sentPrompts holds the hashes of the listwise prompts this process
// rendered and sent with AuditLater, by what they were rendered from
// (windowKey). Candidates artifacts are immutable and templates are part of
// the binary, so rendering them again in this process gives the same
// prompt: SaveQuery checks only the windows that ran elsewhere (another
// worker, an older binary). Rendering and hashing every window again took
// 0.11 s of the worker's CPU in a 200-query run (pprof).
var sentPrompts = newFIFOCache[[32]byte, string](1 << 15)

// windowKey names a listwise window's prompt by what renders it: the
// candidates, the query, the template and the documents in window order.
func windowKey(candidates artifact.Ref, qid, prompt string, docs []string) [32]byte {
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	put(string(candidates))
	put(qid)
	put(prompt)
	for _, d := range docs {
		put(d)
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// WindowStep is what SaveQuery needs of a window run with AuditLater.
type WindowStep struct {
	Start       int            `json:"start"`
	End         int            `json:"end"`
	Permutation []int          `json:"permutation"`
	Repairs     rerank.Repairs `json:"repairs"`
	Stats       CallStats      `json:"stats"`
	Answer      string         `json:"answer"`
	At          time.Time      `json:"at"`
	PromptSHA   string         `json:"prompt_sha256"`
}

// Step is the part of r that SaveQuery needs.
func (r WindowResult) Step(start, end int) WindowStep {
	return WindowStep{Start: start, End: end, Permutation: r.Permutation, Repairs: r.Repairs, Stats: r.Stats,
		Answer: r.Answer, At: r.At, PromptSHA: r.PromptSHA}
}

// SaveQueryInput is the windows of a query, in the order they ran.
type SaveQueryInput struct {
	Candidates artifact.Ref    `json:"candidates"`
	QID        string          `json:"qid"`
	Prompt     string          `json:"prompt"`
	Endpoint   config.Endpoint `json:"endpoint"`
	Windows    []WindowStep    `json:"windows"`
}

// QueryAudit is the audit trail of a query's listwise windows, in order.
// Its records keep the hash of each prompt, not the prompt: the prompts are
// rendered again from the candidates artifact, the prompt template and the
// record's documents (Messages), and checked against the hash. Copies of the
// prompts were 130 KB per query (each passage in two windows), most of the
// cost of reranking a query but the LLM call.
type QueryAudit struct {
	QID        string        `json:"qid"`
	Candidates artifact.Ref  `json:"candidates"`
	Prompt     string        `json:"prompt"`
	Windows    []AuditRecord `json:"windows"`
}

// Messages renders the prompt of window i again and checks it against the
// hash recorded when it was sent.
func (a *QueryAudit) Messages(ctx context.Context, s artifact.Store, i int) ([]llm.Message, error) {
	if i < 0 || i >= len(a.Windows) {
		return nil, fmt.Errorf("query %s has no window %d", a.QID, i)
	}
	q, err := LoadQuery(ctx, s, a.Candidates, a.QID)
	if err != nil {
		return nil, err
	}
	rec := a.Windows[i]
	return renderWindow(q, a.Prompt, rec.Docs, rec.PromptSHA)
}

// windowPrompt is the listwise prompt of docs, candidates of q.
func windowPrompt(q *CandidateQuery, prompt string, docs []string) ([]llm.Message, error) {
	passages := make([]string, len(docs))
	for i, id := range docs {
		p, ok := q.Passage(id)
		if !ok {
			return nil, fmt.Errorf("document %q is not a candidate of query %s", id, q.QID)
		}
		passages[i] = p
	}
	msgs, err := rerank.ListwisePrompt(prompt, q.Query, passages)
	if err != nil {
		return nil, inputerr.Field("prompt", "%v", err)
	}
	return toLLM(msgs), nil
}

// renderWindow renders the listwise prompt of docs, which must hash to sha.
func renderWindow(q *CandidateQuery, prompt string, docs []string, sha string) ([]llm.Message, error) {
	lm, err := windowPrompt(q, prompt, docs)
	if err != nil {
		return nil, err
	}
	if got := promptSHA(lm); got != sha {
		return nil, fmt.Errorf("the prompt rendered now (sha256 %s) is not the one sent (%s)", got, sha)
	}
	return lm, nil
}

// SaveQuery writes a query's ranking, the first-stage order with the
// windows' permutations applied in turn, and the audit records of its
// windows in one artifact (a SavedQuery). Each window's prompt is rendered
// again from the candidates and the order before it, and must hash to what
// was sent. A mismatch (the prompt code changed between the call and now,
// or damaged input) is an error, never a record of a prompt that was not
// sent.
func SaveQuery(ctx context.Context, s artifact.Store, endpointID string, in SaveQueryInput) (artifact.Ref, error) {
	q, err := LoadQuery(ctx, s, in.Candidates, in.QID)
	if err != nil {
		return "", err
	}
	order := q.IDs()
	audit := QueryAudit{QID: in.QID, Candidates: in.Candidates, Prompt: in.Prompt, Windows: make([]AuditRecord, 0, len(in.Windows))}
	for i, w := range in.Windows {
		next, err := applyWindow(order, AppliedWindow{Start: w.Start, End: w.End, Permutation: w.Permutation}, fmt.Sprintf("windows[%d]", i))
		if err != nil {
			return "", err
		}
		docs := slices.Clone(order[w.Start:w.End])
		// The record is only worth keeping if its prompt can be rendered
		// again: check that now, unless this process rendered it from the
		// same candidates, template and documents and sent exactly that.
		if sha, ok := sentPrompts.get(windowKey(in.Candidates, in.QID, in.Prompt, docs)); !ok || sha != w.PromptSHA {
			if _, err := renderWindow(q, in.Prompt, docs, w.PromptSHA); err != nil {
				return "", inputerr.Field(fmt.Sprintf("windows[%d]", i), "query %s window [%d,%d): %v", in.QID, w.Start, w.End, err)
			}
		}
		audit.Windows = append(audit.Windows, AuditRecord{Kind: "window", QID: in.QID, Endpoint: endpointID, Window: []int{w.Start, w.End},
			Docs: docs, Answer: w.Answer, Permutation: w.Permutation, Repairs: w.Repairs, Stats: w.Stats, At: w.At, PromptSHA: w.PromptSHA})
		order = next
	}
	if len(in.Windows) == 0 { // a single candidate: nothing was asked
		return SaveRanking(ctx, s, QueryRanking{QID: in.QID})
	}
	ref, err := putJSON(ctx, s, SavedQuery{QID: in.QID, Order: order, Candidates: in.Candidates, Prompt: in.Prompt, Windows: audit.Windows})
	if err == nil {
		savedRankings.put(ref, QueryRanking{QID: in.QID, Order: order, Audit: []artifact.Ref{ref}})
	}
	return ref, err
}

// savedRankings keeps the rankings this process saved until AssembleRun
// takes them: when the run is assembled in the worker that reranked it, it
// reads and decodes none of its queries' files again (200 of them took
// 15-20 ms of the end of a run). Artifacts are immutable, so an entry is
// what the file holds; rankings saved elsewhere are read from the store.
var savedRankings = newFIFOCache[artifact.Ref, QueryRanking](1 << 12)

// SavedQuery is a listwise query's ranking with its windows' audit records:
// read as a QueryRanking it is the order (with no Audit: the artifact is
// its own), read as a QueryAudit the windows. One artifact, not a ranking
// naming an audit artifact as before: a new file cost the worker 0.2-0.5 ms
// of system CPU (ext4 on the 2-CPU benchmark machine) and an fsync, per
// query.
type SavedQuery struct {
	QID        string        `json:"qid"`
	Order      []string      `json:"order"`
	Candidates artifact.Ref  `json:"candidates"`
	Prompt     string        `json:"prompt"`
	Windows    []AuditRecord `json:"windows"`
}

func toLLM(ms []rerank.Message) []llm.Message {
	out := make([]llm.Message, len(ms))
	for i, m := range ms {
		out[i] = llm.Message{Role: m.Role, Content: m.Content}
	}
	return out
}

func putJSON(ctx context.Context, s artifact.Store, v any) (artifact.Ref, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return artifact.Put(ctx, s, b)
}

// QueryRanking is a query's final order, stored by reference.
type QueryRanking struct {
	QID   string         `json:"qid"`
	Order []string       `json:"order"`
	Audit []artifact.Ref `json:"audit"`
}

// SaveRanking stores a query's reranked order and its audit trail.
func SaveRanking(ctx context.Context, s artifact.Store, r QueryRanking) (artifact.Ref, error) {
	return putJSON(ctx, s, r)
}

// AssembleInput gathers every query's reranked order into one run.
type AssembleInput struct {
	Candidates artifact.Ref   `json:"candidates"`
	Rankings   []artifact.Ref `json:"rankings"`
	Tag        string         `json:"tag"`
	RerankKey  string         `json:"rerank_key"`
}

func rerankDoneKey(candidates artifact.Ref, rerankKey string) artifact.Key {
	return artifact.KeyOf("rerank-done-v1", string(candidates), rerankKey)
}

// AssembledRun is the reranked TREC run plus the audit index (qid → records).
type AssembledRun struct {
	Run   RunInfo      `json:"run"`
	Audit artifact.Ref `json:"audit"`
}

// AssembleRun writes the reranked run: each query's reranked top candidates,
// then the rest in first-stage order. Scores are rank-based and strictly
// decreasing, so trec_eval's tie-breaking cannot reorder anything.
func AssembleRun(ctx context.Context, s artifact.Store, in AssembleInput) (AssembledRun, error) {
	out, a, err := planAssembly(ctx, s, in)
	if err != nil || a == nil {
		return out, err
	}
	if out, err = a.store(ctx, s); err != nil {
		return out, err
	}
	return out, a.memo(ctx, s, out)
}

// assembly is a reranked run ready to be stored: its file's bytes and its
// audit index's, and the rankings they were written from.
type assembly struct {
	in       AssembleInput
	key      artifact.Key
	rankings []trec.Ranking // in the file's order
	run      []byte
	audit    []byte
}

// planAssembly returns the run assembled before (a nil assembly), or the
// assembly to store.
func planAssembly(ctx context.Context, s artifact.Store, in AssembleInput) (AssembledRun, *assembly, error) {
	parts := []string{assembleVersion, string(in.Candidates), in.Tag}
	for _, r := range in.Rankings {
		parts = append(parts, string(r))
	}
	key := artifact.KeyOf(parts...)
	out, hit, err := lookup(ctx, s, key, func(o AssembledRun) []artifact.Ref { return []artifact.Ref{o.Run.Ref, o.Audit} })
	if err != nil {
		return out, nil, err
	}
	if hit {
		out.Run.Cached = true
		return out, nil, nil
	}
	// The rankings, one small file per query, are read on a few goroutines:
	// the end of a reranked run waits for this step.
	read := make([]QueryRanking, len(in.Rankings))
	errs := make([]error, len(in.Rankings))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(4, len(in.Rankings)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(in.Rankings); i = int(next.Add(1) - 1) {
				if r, ok := savedRankings.take(in.Rankings[i]); ok {
					read[i] = r
					continue
				}
				read[i], errs[i] = readRanking(ctx, s, in.Rankings[i])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return out, nil, err // the first, in query order
		}
	}
	audit := map[string][]artifact.Ref{}
	var rankings []trec.Ranking
	for _, qr := range read {
		q, err := LoadQuery(ctx, s, in.Candidates, qr.QID)
		if err != nil {
			return out, nil, err
		}
		order := qr.Order
		if len(order) == 0 {
			order = q.IDs() // nothing to rerank (a single candidate)
		}
		ids := append(append([]string(nil), order...), q.Rest...)
		r := trec.Ranking{QID: qr.QID, Hits: make([]trec.Result, len(ids))}
		for i, id := range ids {
			r.Hits[i] = trec.Result{DocID: id, Score: float64(len(ids) - i)}
		}
		rankings = append(rankings, r)
		audit[qr.QID] = qr.Audit
	}
	sort.Slice(rankings, func(i, j int) bool { return rankings[i].QID < rankings[j].QID })
	a := &assembly{in: in, key: key, rankings: rankings}
	// Sized for the file (a rank of up to 6 digits, a score of up to 12
	// characters): growing it cost twice its size in garbage.
	size := 0
	for _, r := range rankings {
		for _, h := range r.Hits {
			size += len(r.QID) + len(h.DocID) + len(in.Tag) + 6 + 6 + 12
		}
	}
	var buf bytes.Buffer
	buf.Grow(size)
	if err := trec.WriteRun(&buf, in.Tag, rankings); err != nil {
		return out, nil, err
	}
	a.run = buf.Bytes()
	if a.audit, err = json.Marshal(audit); err != nil {
		return out, nil, err
	}
	return out, a, nil
}

// store writes the run and the audit index, both at once: one fsync's wait
// instead of two.
func (a *assembly) store(ctx context.Context, s artifact.Store) (AssembledRun, error) {
	var out AssembledRun
	var runErr, auditErr error
	var wg sync.WaitGroup
	wg.Go(func() { out.Run.Ref, runErr = artifact.Put(ctx, s, a.run) })
	wg.Go(func() { out.Audit, auditErr = artifact.Put(ctx, s, a.audit) })
	wg.Wait()
	out.Run.NumQueries = len(a.rankings)
	return out, errors.Join(runErr, auditErr)
}

// memo records out, the stored assembly, under its key and as the
// candidates' finished run for these settings (both at once).
func (a *assembly) memo(ctx context.Context, s artifact.Store, out AssembledRun) error {
	var memoErr, doneErr error
	var wg sync.WaitGroup
	wg.Go(func() { memoErr = s.PutMemo(ctx, a.key, out) })
	wg.Go(func() { doneErr = s.PutMemo(ctx, rerankDoneKey(a.in.Candidates, a.in.RerankKey), out) })
	wg.Wait()
	return errors.Join(memoErr, doneErr)
}

// parsed is the run as ParseRun would read it back from the file, stored
// as ref (trec.RunOf; nil when ParseRun would refuse it: the file is what
// counts).
func (a *assembly) parsed(ref artifact.Ref) *trec.Run {
	run, ok := trec.RunOf("run "+string(ref), a.in.Tag, a.rankings)
	if !ok {
		return nil
	}
	return run
}

// readRanking reads a query's ranking: a QueryRanking, or a SavedQuery,
// whose audit trail is the artifact itself.
func readRanking(ctx context.Context, s artifact.Store, ref artifact.Ref) (QueryRanking, error) {
	b, err := artifact.ReadAll(ctx, s, ref)
	if err != nil {
		return QueryRanking{}, err
	}
	// A SavedQuery names its candidates; its windows are skipped, not
	// decoded (they were a third of the time).
	var qr struct {
		QueryRanking
		Candidates artifact.Ref `json:"candidates"`
	}
	if err := json.Unmarshal(b, &qr); err != nil {
		return QueryRanking{}, fmt.Errorf("ranking artifact %s is damaged: %w", ref, err)
	}
	if qr.Audit == nil && qr.Candidates != "" {
		qr.Audit = []artifact.Ref{ref}
	}
	return qr.QueryRanking, nil
}
