// PhraseCursor: the documents where a phrase occurs, and its frequency there,
// over the TermCursors of its member lexemes (which read their positions).
//
// A phrase is scored as one term, as Lucene's PhraseQuery is: its frequency
// in a document is its tf (exact: the number of places it occurs, as
// ExactPhraseFreq counts; sloppy: Lucene's sloppy frequency, the sum of
// 1 / (1 + match length)), its IDF the sum of its members' (the caller's
// scorer). Documents come from a leapfrog intersection of the members (the
// rarest first), each candidate checked on positions.
//
// Bounds (block-max WAND): an exact phrase's frequency in a document is at
// most each member's tf there, so a member's block impacts, scored with the
// phrase's scorer, bound the phrase over the member's block; the phrase's
// block bound is the smallest of them over the blocks all members are in. A
// sloppy phrase's frequency is not bounded by a member's tf, so its bound is
// the scorer's largest score, everywhere.
//
// Random access (Contains, for required and excluded phrases) uses a second
// set of member cursors ("probes"), reopened when asked for a document
// behind them, so the forward cursors are never moved by it.
#pragma once

#include "fts/composite_cursor.h"

#include "fts/phrase.h"
#include "fts/term_cursor.h"
#include "fts/term_positions.h"

#include <cstdint>
#include <span>
#include <type_traits>

namespace quarry::fts {

class PhraseCursor final : public CompositeCursor {
public:
	struct Member {
		TermCursor *cursor; // forward
		TermCursor *probe;	// random access
		uint32_t offset;	// position in the phrase
		uint32_t term;		// lexeme id: equal ids are one lexeme
	};

	/// `members` (rarest first, 2..kMaxPhraseTerms; kept by the caller) with
	/// their cursors open; `positions` a buffer per member the caller grows
	/// through `buffers` when a document needs more. slop 0: an exact phrase.
	void Init(Member *members, uint32_t count, uint32_t slop, const TermScorer *scorer, BufferSource buffers);

	DocId doc() const override { return doc_; }
	double freq() const override { return freq_; }
	/// A list of a member (forward or probe) or its positions turned out unreadable.
	bool failed() const override;
	void Next() override { NextGeq(doc_ == kEndDoc ? kEndDoc : doc_ + 1); }
	void NextGeq(DocId target) override;
	bool Contains(DocId doc) override;

	void ShallowSeek(DocId target) override;
	DocId ShallowLastDoc() const override { return shallow_last_; }
	double ShallowBound() const override { return shallow_bound_; }
	/// Bound over every document (rounded up).
	double UpperBound(std::span<const double> member_bounds) const;

private:
	// The phrase's frequency in `doc`, where every member in `use` (the
	// forward cursors or the probes) is positioned; 0 if it does not occur or
	// a list is unreadable.
	double FreqAt(bool probes);
	bool ReadPositions(TermCursor &cursor, uint32_t member);

	Member *members_ = nullptr;
	uint32_t count_ = 0;
	uint32_t slop_ = 0;
	const TermScorer *scorer_ = nullptr;
	BufferSource buffers_;
	DocId doc_ = kEndDoc;
	double freq_ = 0;
	bool failed_ = false;
	DocId shallow_last_ = kEndDoc;
	double shallow_bound_ = 0;
	bool shallow_valid_ = false;
	// Per member: its positions in the document being checked.
	uint32_t *buffer_[kMaxPhraseTerms] = {};
	std::size_t buffer_size_[kMaxPhraseTerms] = {};
	PhraseTerm terms_[kMaxPhraseTerms] = {};
};
static_assert(std::is_trivially_destructible_v<PhraseCursor>, "lives in a scan arena");

} // namespace quarry::fts
