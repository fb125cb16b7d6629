// The boolean part of a query with clauses (query_syntax.h): a document
// qualifies when it holds every required term (the lexemes of MUST clauses)
// and none of the excluded ones (the lexemes of MUST_NOT clauses).
//
// It is checked with the cursors' random-access Contains, which leaves their
// forward positions alone, so a required term's cursor can be the very cursor
// block-max WAND or MaxScore is moving. Used as the DocAdmission of a ranked
// run it keeps the run rank-safe: the threshold only ever holds admitted
// documents, so pruning drops no document that belongs in the top k of the
// admitted ones (wand_test.cpp checks it against brute force).
#pragma once

#include "fts/term_cursor.h"
#include "fts/wand.h"

#include <span>

namespace quarry::fts {

struct ClauseFilter {
	std::span<TermCursor *const> required; // rarest first: the likeliest to reject
	std::span<TermCursor *const> excluded;

	bool empty() const { return required.empty() && excluded.empty(); }

	bool
	Matches(DocId doc) const
	{
		for (TermCursor *c : required)
			if (!c->Contains(doc))
				return false;
		for (TermCursor *c : excluded)
			if (c->Contains(doc))
				return false;
		return true;
	}
};

/// Admits what `base` admits (everything when it is null) and `filter`
/// matches. Trivially destructible: it lives in a scan arena.
class FilteredAdmission final : public DocAdmission {
public:
	FilteredAdmission(DocAdmission *base, ClauseFilter filter) : base_(base), filter_(filter) {}

	bool
	Admit(DocId doc) override
	{
		return (base_ == nullptr || base_->Admit(doc)) && filter_.Matches(doc);
	}

private:
	DocAdmission *base_;
	ClauseFilter filter_;
};

} // namespace quarry::fts
