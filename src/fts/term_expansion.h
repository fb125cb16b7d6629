// Prefix and fuzzy terms of the query syntax (query_syntax.h), the part that
// needs no index: the edit distance, the boost of a fuzzy match, and which
// expansions a clause keeps.
//
// A prefix ('replic*') or fuzzy ('colour~1') lexeme expands to the index's
// terms that start with it, or lie within the distance of it, and is scored
// as Lucene's TopTermsBlendedFreqScoringRewrite scores FuzzyQuery (and as
// Elasticsearch scores `fuzzy` and, with rewrite top_terms_blended_freqs_N,
// `prefix`): each kept term is a SHOULD clause of its own, weighted by its
// boost, and every kept term of one lexeme is scored with the same document
// frequency, the largest among them ("blended"), so that a rare misspelling
// does not outrank the word it misspells.
//
// Edit distance: optimal string alignment (Damerau-Levenshtein where an
// adjacent transposition counts one edit and no substring is edited twice:
// what Lucene's LevenshteinAutomata with transpositions accept), over
// characters (code points), not bytes.
//
// Which terms are kept, at most max_expansions of them:
//   - fuzzy: fewest edits first, then the most documents, then byte order
//     (Lucene keeps the best boosts, and boost falls with edits);
//   - prefix: the most documents first, then byte order (for search as you
//     type, the common completions; Lucene keeps the first in byte order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace quarry::fts {

/// Largest distance a fuzzy term may ask for (Lucene's LevenshteinAutomata
/// limit, and Elasticsearch's `fuzziness`).
inline constexpr uint32_t kMaxFuzzyDistance = 2;

/// The optimal-string-alignment distance of `a` and `b` when it is at most
/// `max`, else max + 1. `scratch` holds at least 3 * (b.size() + 1) values.
uint32_t BoundedEditDistance(std::span<const uint32_t> a, std::span<const uint32_t> b, uint32_t max,
							 std::span<uint32_t> scratch);

/// Lucene's FuzzyTermsEnum boost of a term `edits` away from the query's
/// lexeme: 1 - edits / min(characters of each); 0 or less means "rejected".
double FuzzyBoost(uint32_t edits, std::size_t query_chars, std::size_t term_chars);

/// A dictionary term an expansion may keep. The same text may appear several
/// times (one per segment, per pending row): SelectExpansions adds them up.
struct ExpansionCandidate {
	std::string_view text;
	uint64_t doc_freq;
	uint32_t edits; // 0 for a prefix
	double boost;	// 1 for a prefix
};

enum class ExpansionOrder : uint8_t {
	kByEdits,	  // fuzzy
	kByFrequency, // prefix
};

/// Merges candidates of equal text (document frequencies added), orders them
/// as `order` says and keeps the first `max`: they end up at the front of
/// `candidates`, in that order. Returns how many were kept.
std::size_t SelectExpansions(std::span<ExpansionCandidate> candidates, ExpansionOrder order, std::size_t max);

/// The largest document frequency among `kept` (the blended frequency).
uint64_t BlendedDocFreq(std::span<const ExpansionCandidate> kept);

} // namespace quarry::fts
