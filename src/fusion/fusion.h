// Rank fusion for hybrid search (PostgreSQL-free core): two ranked candidate
// lists of one table's rows, a BM25 ranking and a vector ranking, fused into
// one list, as am/hybrid's executor node does and as the two-CTE recipe does
// in SQL (README "Hybrid search").
//
// Methods:
//   reciprocal rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009):
//     fused = 1 / (k + text_rank) + 1 / (k + vector_rank)
//   a weighted sum of min-max normalised scores (Elasticsearch's `linear`
//   retriever with the `minmax` normalizer):
//     fused = w · norm_text + (1 − w) · norm_vector
//     norm_text   = (score − min) / (max − min)            over the text side
//     norm_vector = (max_dist − dist) / (max_dist − min_dist) over the vector side
//     (a side whose values are all equal normalises to 1)
// A row absent from a side takes nothing from it. Ranks start at 1.
//
// Order of the result: fused score descending; ties by text rank (a row on the
// text side first, lower rank first), then by vector rank likewise. Each side
// ranks a row at most once, so the order is total.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace quarry::fusion {

/// One side's candidate: a row (an opaque 64-bit id, a packed heap TID) and
/// the value the side ranked it by (BM25 score: higher is better; vector
/// distance: lower is better). A side's candidates are given in rank order.
struct Candidate {
	uint64_t row;
	double value;
};

/// A fused row. A rank of 0 means the row is absent from that side (its
/// value is then 0 and meaningless).
struct Fused {
	uint64_t row;
	double score;
	uint32_t text_rank;
	uint32_t vector_rank;
	double text_score;
	double vector_distance;
};

enum class Method : uint8_t { kRrf, kLinear };

struct Options {
	Method method = Method::kRrf;
	double k = 60;        // RRF's rank constant, above 0
	double weight = 0.5;  // linear: the text side's weight, the vector side's is 1 − weight
};

/// Nullptr when the options are valid, else what is wrong with them.
const char *Validate(const Options &options);

/// Fuses `text` (BM25 scores, best first) and `vector` (distances, nearest
/// first) into `out` (at least text.size() + vector.size() entries), in the
/// fused order. Returns how many rows it wrote (each row once).
std::size_t Fuse(std::span<const Candidate> text, std::span<const Candidate> vector, const Options &options,
				 std::span<Fused> out);

/// Strict "comes before" of the fused order.
bool FusedBefore(const Fused &a, const Fused &b);

/// Sorts `rows` by row id, for FindRow.
void SortByRow(std::span<Fused> rows);
/// The entry of `row` in rows sorted by SortByRow, or nullptr.
const Fused *FindRow(std::span<const Fused> sorted_by_row, uint64_t row);

} // namespace quarry::fusion
