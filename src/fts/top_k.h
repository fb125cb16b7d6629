// TopK: the collector at the end of the query pipeline (PISA's topk_queue).
//
// Order of results: higher score first; equal scores in ascending document id
// (the deterministic tie-break: documents indexed earlier come first). The
// collector is a binary min-heap of the k best seen so far, its root the worst of
// them; Threshold() is the root's score once k results are held, which is what
// block-max WAND must beat.
//
// Storage is provided by the caller (a scan arena), so collecting allocates
// nothing per candidate.
#pragma once

#include "fts/posting_list.h"

#include <algorithm>
#include <cstddef>
#include <span>

namespace quarry::fts {

struct ScoredDoc {
	double score;
	DocId doc;
};

/// Strict "ranks before": a is a better result than b.
inline bool
RanksBefore(const ScoredDoc &a, const ScoredDoc &b)
{
	return a.score > b.score || (a.score == b.score && a.doc < b.doc);
}

class TopK {
public:
	/// `storage` must hold at least k entries; k >= 1.
	TopK(ScoredDoc *storage, std::size_t k) : heap_(storage), k_(k) {}

	std::size_t size() const { return size_; }
	std::size_t capacity() const { return k_; }
	bool full() const { return size_ == k_; }

	/// The score a new document must exceed to enter (0 until k are held: every
	/// BM25 score is positive).
	double Threshold() const { return full() ? heap_[0].score : 0.0; }

	/// Whether `d` would enter the collector.
	bool
	WouldEnter(const ScoredDoc &d) const
	{
		return !full() || RanksBefore(d, heap_[0]);
	}

	void
	Push(const ScoredDoc &d)
	{
		if (!full())
		{
			heap_[size_++] = d;
			std::push_heap(heap_, heap_ + size_, RanksBefore);
			return;
		}
		if (!RanksBefore(d, heap_[0]))
			return;
		std::pop_heap(heap_, heap_ + size_, RanksBefore);
		heap_[size_ - 1] = d;
		std::push_heap(heap_, heap_ + size_, RanksBefore);
	}

	/// Sorts the collected results best first and returns them. The collector is
	/// no longer a heap afterwards.
	std::span<ScoredDoc>
	Finalize()
	{
		std::sort(heap_, heap_ + size_, RanksBefore);
		return {heap_, size_};
	}

private:
	ScoredDoc *heap_;
	std::size_t k_;
	std::size_t size_ = 0;
};

} // namespace quarry::fts
