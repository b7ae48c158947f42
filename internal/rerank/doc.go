// Package rerank holds the algorithms and prompts of LLM reranking, pure and deterministic, so that
// the Temporal activities that call models stay thin.
//
// Listwise (castorini/rank_llm semantics): SlidingWindows lists the windows in the order rank_llm
// runs them; ListwisePrompt builds the RankGPT / RankZephyr chat messages from the prompt files in
// prompts/ (data, hashed by PromptID for cache keys); PassageText formats and truncates a candidate
// (Tokenizer, NewTiktoken); ParsePermutation turns an answer into a permutation and counts its
// Repairs; ApplyWindow reorders the window.
//
// Pairwise PRP (ielab/llm-rankers semantics): PairwisePrompt and ParsePairwise for one prompt,
// Decide for the two prompts of a comparison; BubbleState is the resumable bubble sort (k passes,
// memoized, JSON checkpoints) with BubbleSort as a plain driver; AllPair is the all-pairs method.
package rerank
