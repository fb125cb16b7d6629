// BM25 statistics carried with a query: what several indexes (the shards of
// one distributed table) hold together, so that each scores with the table's
// statistics instead of its own (Elasticsearch's dfs_query_then_fetch).
//
// Text form (one line, ASCII; what quarry_bm25_term_statistics returns and a
// quarry_query carries):
//
//   n=<N> len=<total length>[ fields=<L1>,<L2>[,...]] df=[<term>:<df>[,...]]
//
// N is the number of indexed rows, the total length the sum of their lengths
// in lexemes; an index of fields has one total length per field (2..8 of
// them). Each term is the index's term in lowercase hexadecimal (an index of
// fields tags its terms with the field, bm25_fields.h), with the number of
// rows holding it; terms are strictly ascending by their bytes. Numbers are
// decimal without sign or leading zeros, at most 2^63 - 1.
//
// TermStatistics::Parse validates all of it (a malformed text is an error,
// never a partial read); Find looks a term up without allocating (the scan
// path: a query holds a few dozen terms at most). StatisticsSum adds up the
// statistics of several indexes (one per shard) into the text of their sum.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace quarry::fts {

inline constexpr uint32_t kMaxStatisticsFields = 8;

/// Validated statistics text: the totals, and the term section read on demand.
struct TermStatistics {
	uint64_t doc_count = 0;
	uint64_t total_length = 0;
	uint32_t field_count = 1; // 1: an index of one column (no fields= part)
	uint64_t field_length[kMaxStatisticsFields] = {};
	std::string_view terms; // "<hex>:<df>,...", validated

	/// Reads `text`; on failure returns false and sets `error` to a static
	/// message naming what is wrong.
	static bool Parse(std::string_view text, TermStatistics *out, const char **error);

	/// The document frequency of `term` (its bytes), if the statistics hold it.
	bool Find(std::string_view term, uint64_t *df) const;
};

/// The sum of several indexes' statistics, formatted back to text. After an
/// Add that failed the sum is partial: the caller discards it (it raises the
/// error).
class StatisticsSum {
public:
	/// Adds one index's statistics; false (with `error`) if its field count
	/// differs from those added before or a sum overflows.
	bool Add(const TermStatistics &stats, const char **error);
	/// Adds one term of the caller's own index (statistics being written).
	bool AddTerm(std::string_view term, uint64_t df, const char **error);
	/// Adds one index's totals (statistics being written).
	bool AddTotals(uint64_t doc_count, uint64_t total_length, uint32_t field_count, const uint64_t *field_length,
				   const char **error);
	std::string Format() const;

private:
	bool started_ = false;
	TermStatistics totals_;
	std::map<std::string, uint64_t> terms_;
};

} // namespace quarry::fts
