// TermCursor: one query term's postings across every part of the index.
//
// An index is a sequence of parts (segments, then the pending list), each
// holding a contiguous range of document ids: part i's documents are numbered
// from `base_i` on, and bases increase. A term's postings in the whole index are
// the concatenation of its posting lists in the parts that contain it, each
// shifted by its base. TermCursor walks that concatenation and exposes the
// interface block-max WAND needs: doc(), Next(), NextGeq(), Tf(), and the
// block-max pointer (ShallowSeek, ShallowLastDoc, ShallowBound).
#pragma once

#include "fts/bm25.h"
#include "fts/posting_list.h"
#include "fts/term_positions.h"

#include <cstdint>

namespace quarry::fts {

class CompositeCursor;

/// A TermCursor is either a term's (its parts) or a composite's (a phrase, a
/// term over several fields: fts/composite_cursor.h, InitComposite): one
/// interface for block-max WAND, MaxScore and the clause filter, with the
/// composite's frequency as its tf.
class TermCursor {
public:
	struct Part {
		PostingCursor *cursor; // opened on the term's list in this part
		DocId base;			   // global id of the part's local doc 0
		DocId last;			   // global id of the list's last document
		TermPositionsReader *positions = nullptr; // its positions, if the index has them
	};

	TermCursor() = default;

	/// `parts` (base ascending, kept by the caller for the cursor's life) hold the
	/// term's lists. `term_index` is the term's position in the query.
	void Init(Part *parts, uint32_t part_count, const TermScorer *scorer, double upper_bound, uint32_t term_index);
	/// A composite's cursor (`composite` initialized, kept by the caller).
	void InitComposite(CompositeCursor *composite, const TermScorer *scorer, double upper_bound, uint32_t term_index);

	DocId doc() const { return doc_; }
	uint32_t term_index() const { return term_index_; }
	const TermScorer &scorer() const { return *scorer_; }
	/// Bound of the term's score over every document (rounded up).
	double upper_bound() const { return upper_bound_; }
	/// True if a part's list turned out corrupted.
	bool failed() const;

	void Next();
	void NextGeq(DocId target);
	uint32_t Tf() { return parts_[current_].cursor->Tf(); }
	/// The tf to score doc() with: Tf(), or a composite's frequency.
	double Freq();

	/// doc()'s positions of the term into out[0 .. Tf()); false if the index
	/// has none or they are unreadable.
	bool Positions(std::span<uint32_t> out);
	/// Back to the first document (reopens every part's list).
	void Rewind();
	/// The block-max pointer's block bound under another scorer (a phrase's).
	double ShallowBoundWith(const TermScorer &scorer) const;

	/// Moves the block-max pointer to the block that may contain `target`.
	/// Targets must not decrease from one call to the next.
	void ShallowSeek(DocId target);
	/// Last document the block-max pointer's block covers (kEndDoc at the end).
	DocId ShallowLastDoc() const { return shallow_last_; }
	/// Bound of the term's score over the block-max pointer's block.
	double ShallowBound() const { return shallow_bound_; }

	/// Whether the term occurs in `doc` (random access; does not move).
	bool Contains(DocId doc);

	/// Calls fn(doc, tf) for every posting from doc() up to (not including)
	/// `end`, and leaves the cursor at the first document >= end.
	template <typename Fn>
	void
	ForEachBefore(DocId end, Fn &&fn)
	{
		if (composite_ != nullptr)
		{
			for (; doc_ < end; Next())
				fn(doc_, Freq());
			return;
		}
		while (current_ < part_count_)
		{
			const Part &part = parts_[current_];
			if (end <= part.base)
				break;
			DocId base = part.base;
			part.cursor->ForEachBefore(end - base, [&](DocId local, uint32_t tf) { fn(base + local, tf); });
			if (part.cursor->doc() != kEndDoc)
				break;
			current_++;
		}
		Settle();
	}

private:
	void Settle();

	CompositeCursor *composite_ = nullptr;
	Part *parts_ = nullptr;
	uint32_t part_count_ = 0;
	uint32_t current_ = 0;
	DocId doc_ = kEndDoc;
	const TermScorer *scorer_ = nullptr;
	double upper_bound_ = 0;
	uint32_t term_index_ = 0;

	uint32_t shallow_part_ = 0;
	DocId shallow_last_ = kEndDoc;
	double shallow_bound_ = 0;
	bool shallow_valid_ = false;
};

} // namespace quarry::fts
