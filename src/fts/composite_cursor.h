// CompositeCursor: postings derived from other cursors, behind a TermCursor.
//
// A phrase (PhraseCursor: its words' positions) and a term over several
// fields (FieldUnion: the term's list in each field) are not one posting
// list, but block-max WAND, MaxScore and the clause filter walk them as one:
// TermCursor::InitComposite puts such a cursor behind the TermCursor
// interface, with its frequency (freq()) as the tf it scores.
#pragma once

#include "fts/posting_list.h"

namespace quarry::fts {

class CompositeCursor {
public:
	virtual DocId doc() const = 0;
	/// The frequency to score doc() with.
	virtual double freq() const = 0;
	virtual bool failed() const = 0;
	virtual void Next() = 0;
	/// Moves to the first document >= target (never backwards).
	virtual void NextGeq(DocId target) = 0;
	/// Whether `doc` holds the postings (random access; does not move).
	virtual bool Contains(DocId doc) = 0;
	/// The block-max pointer (targets never decrease).
	virtual void ShallowSeek(DocId target) = 0;
	virtual DocId ShallowLastDoc() const = 0;
	virtual double ShallowBound() const = 0;

protected:
	~CompositeCursor() = default;
};

} // namespace quarry::fts
