// Block-Max WAND top-k retrieval (Ding & Suel, "Faster Top-k Document Retrieval
// Using Block-Max Indexes", SIGIR 2011; WAND: Broder et al., CIKM 2003), and the
// exhaustive disjunction it must agree with.
//
// Rank safety: the result is exactly the k best documents by (score desc, doc
// asc) among those the admission check accepts, the same as scoring every
// matching document. Pruning compares upper bounds, which are rounded up
// (bm25.h), against the k-th best score with a strict ">", and documents are
// visited in increasing id, so a document that ties the k-th score loses the tie
// to the earlier one exactly as the exhaustive order says.
//
// Continuation: `after` restricts results to those ranking strictly after a
// (score, doc) position, so a scan that has returned its first k rows can ask
// for the next ones with a larger k and pick up where it stopped, even if rows
// were added to the index in between.
#pragma once

#include "fts/term_cursor.h"
#include "fts/top_k.h"

#include <cstdint>
#include <span>

namespace quarry::fts {

/// Document lengths, for scoring. Implementations live in a scan arena.
class DocLengths {
public:
	virtual uint32_t Length(DocId doc) = 0;
	/// The lengths of documents first, first + 1, ...: at least one and at most
	/// max_count of them, contiguous, valid until the next call on this object.
	virtual std::span<const uint32_t> Window(DocId first, uint32_t max_count) = 0;

protected:
	~DocLengths() = default;
};

/// Final say on whether a document may be returned (for example: it has not
/// been removed by VACUUM). Asked only for documents about to enter the top k.
class DocAdmission {
public:
	virtual bool Admit(DocId doc) = 0;

protected:
	~DocAdmission() = default;
};

struct ResumeAfter {
	bool active = false;
	double score = 0;
	DocId doc = 0;

	/// Whether d ranks strictly after this position.
	bool
	Allows(double s, DocId d) const
	{
		return !active || s < score || (s == score && d > doc);
	}
};

/// Called now and then during long runs; may throw to abandon the run (a
/// query cancel).
struct InterruptCheck {
	void (*check)(void *arg) = nullptr;
	void *arg = nullptr;
};

struct WandCounters {
	uint64_t scored = 0;	   // documents fully scored
	uint64_t pivots = 0;	   // pivot selections
	uint64_t block_skips = 0;  // times the block-max bound skipped ahead
};

struct WandInput {
	std::span<TermCursor *> cursors; // one per query term; reordered during the run
	uint32_t term_count = 0;		 // number of query terms (term_index < term_count)
	double *term_scores = nullptr;	 // scratch of term_count doubles
	DocLengths *lengths = nullptr;
	DocAdmission *admission = nullptr; // may be null: admit everything
	ResumeAfter after;
	InterruptCheck interrupt;
};

/// Runs block-max WAND over the cursors into `top`. Cursors must be freshly
/// positioned (at their first documents).
WandCounters BlockMaxWand(const WandInput &input, TopK &top);

/// Scores every document that contains at least one query term (the reference
/// block-max WAND must agree with; also used for small inputs).
WandCounters ExhaustiveTopK(const WandInput &input, TopK &top);

/// Scratch for MaxScoreTopK, zero-filled by the caller once; MaxScoreTopK
/// leaves it zeroed again. `capacity` is the window size.
struct MaxScoreScratch {
	uint32_t capacity;
	double *partial;   // capacity
	double *tfs;	   // capacity * term_count, a document's terms side by side (a sloppy phrase's frequency may be fractional)
	uint64_t *marks;   // (capacity + 63) / 64
	double *prefix;	   // term_count + 1
	double *window_prefix; // term_count + 1
};

/// Windowed MaxScore (Turtle & Flood 1995; Lucene 10's block-max MaxScore, in
/// windows of one page of document lengths): terms are ordered by upper bound;
/// the low-bound prefix whose bounds sum to at most the threshold is
/// "non-essential". In each window the partition is drawn again with the
/// terms' block-max bounds over the window (as Lucene's MaxScoreBulkScorer
/// does), which moves more terms to the probed side. Each window accumulates
/// the essential terms' postings straight from their decoded blocks, then
/// probes the other terms only for documents that can still beat the
/// threshold. Final scores are summed in query term order, so results are
/// bit-identical to BlockMaxWand's.
WandCounters MaxScoreTopK(const WandInput &input, const MaxScoreScratch &scratch, TopK &top);

/// The canonical score of `doc`: term_scores[i] holds term i's contribution
/// (0 for terms the document lacks); summed in term order.
inline double
SumInTermOrder(const double *term_scores, uint32_t term_count)
{
	double s = 0;
	for (uint32_t i = 0; i < term_count; i++)
		s += term_scores[i];
	return s;
}

} // namespace quarry::fts
