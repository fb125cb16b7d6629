// BM25 scoring (Robertson & Zaragoza, "The Probabilistic Relevance Framework:
// BM25 and Beyond", 2009), with Lucene's non-negative IDF.
//
//   idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
//   score(d, q) = sum over query terms t of
//                 qtf(t) * idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b * |d| / avgdl))
//
// N is the number of indexed rows, avgdl their mean length in lexemes, df(t) the
// number of rows containing t (capped at N: rows VACUUM removed stay counted in
// df until their segment is merged, and an uncapped df > N would make the IDF
// negative and drop the rows holding the term from every ranking), tf(t,d) the occurrences of t in d, qtf(t) the
// occurrences of t in the query. Every term score is > 0, so every matching row
// has a positive score.
//
// Scores are computed in double. A document's score is always summed in query
// term order (terms it lacks add +0.0, which is exact), so the index scan and the
// standalone <@> operator produce bit-identical scores.
//
// Upper bounds (for WAND / block-max WAND pruning) are rounded up: a bound is
// multiplied by (1 + kBoundMargin). The margin (1e-9, relative) is ten million
// times larger than the rounding error of summing a few dozen doubles, so a
// computed bound is never below the computed score of a document it covers, and
// pruning never drops a document that belongs in the top k.
#pragma once

#include <cmath>
#include <cstdint>

namespace quarry::fts {

inline constexpr double kBoundMargin = 1e-9;

/// Term frequencies and document lengths kept in block metadata saturate at this
/// value: it means "this many or more".
inline constexpr uint32_t kSaturated16 = 0xFFFF;

struct Bm25Params {
	double k1 = 1.2;
	double b = 0.75;
};

struct CollectionStats {
	uint64_t doc_count = 0;		// N
	uint64_t total_length = 0;	// sum of document lengths
	double
	AverageLength() const
	{
		return doc_count == 0 ? 1.0 : static_cast<double>(total_length) / static_cast<double>(doc_count);
	}
};

inline double
Idf(uint64_t doc_count, uint64_t df)
{
	double n = static_cast<double>(doc_count);
	double d = static_cast<double>(df < doc_count ? df : doc_count);
	return std::log(1.0 + (n - d + 0.5) / (d + 0.5));
}

/// The score function of one query term: weight = qtf * idf.
class TermScorer {
public:
	TermScorer() = default;
	TermScorer(const Bm25Params &params, const CollectionStats &stats, uint64_t df, uint32_t query_tf)
		: weight_(query_tf * Idf(stats.doc_count, df)), k1_(params.k1), b_(params.b),
		  avgdl_(stats.AverageLength() > 0 ? stats.AverageLength() : 1.0)
	{
	}
	/// A term weighted by `boost` as well (a fuzzy expansion: weight = boost *
	/// qtf * idf, Lucene's BoostQuery).
	TermScorer(const Bm25Params &params, const CollectionStats &stats, uint64_t df, uint32_t query_tf, double boost)
		: TermScorer(params, stats, df, query_tf)
	{
		weight_ *= boost;
	}

	double weight() const { return weight_; }
	double k1() const { return k1_; }

	/// The term's contribution to a document with `tf` occurrences (a
	/// sloppy phrase's frequency may be fractional) and length `doc_len`.
	double
	Score(double tf, uint32_t doc_len) const
	{
		double f = tf;
		double norm = k1_ * (1.0 - b_ + b_ * static_cast<double>(doc_len) / avgdl_);
		return weight_ * (f * (k1_ + 1.0)) / (f + norm);
	}

	/// An upper bound of Score over documents with tf <= max_tf and length >=
	/// min_doc_len, rounded up. max_tf == kSaturated16 means unbounded tf.
	double
	Bound(uint32_t max_tf, uint32_t min_doc_len) const
	{
		double s = max_tf >= kSaturated16 ? weight_ * (k1_ + 1.0) : Score(max_tf, min_doc_len);
		return s * (1.0 + kBoundMargin);
	}

private:
	double weight_ = 0;
	double k1_ = 1.2;
	double b_ = 0.75;
	double avgdl_ = 1.0;
};

} // namespace quarry::fts
