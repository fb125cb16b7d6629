// The boolean part of a query with clauses (query_syntax.h): a document
// qualifies when it holds a term of every required group and none of the
// excluded terms (the lexemes of MUST_NOT clauses, expansions included). A
// MUST clause's plain lexeme is a group of one; its prefix or fuzzy lexeme is
// the group of that lexeme's expansions (an empty group: nothing qualifies).
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

using CursorGroup = std::span<TermCursor *const>;

struct ClauseFilter {
	std::span<const CursorGroup> required; // rarest first: the likeliest to reject
	std::span<TermCursor *const> excluded;

	bool empty() const { return required.empty() && excluded.empty(); }

	bool
	Matches(DocId doc) const
	{
		for (CursorGroup group : required)
			if (!AnyContains(group, doc))
				return false;
		return !AnyContains(excluded, doc);
	}

private:
	static bool
	AnyContains(CursorGroup group, DocId doc)
	{
		for (TermCursor *c : group)
			if (c->Contains(doc))
				return true;
		return false;
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
