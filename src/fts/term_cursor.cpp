#include "fts/term_cursor.h"

#include "fts/composite_cursor.h"

namespace quarry::fts {

void
TermCursor::Init(Part *parts, uint32_t part_count, const TermScorer *scorer, double upper_bound, uint32_t term_index)
{
	parts_ = parts;
	part_count_ = part_count;
	current_ = 0;
	scorer_ = scorer;
	upper_bound_ = upper_bound;
	term_index_ = term_index;
	shallow_part_ = 0;
	shallow_last_ = kEndDoc;
	shallow_bound_ = 0;
	shallow_valid_ = false;
	composite_ = nullptr;
	Settle();
}

void
TermCursor::InitComposite(CompositeCursor *composite, const TermScorer *scorer, double upper_bound,
						  uint32_t term_index)
{
	Init(nullptr, 0, scorer, upper_bound, term_index);
	composite_ = composite;
	doc_ = composite->doc();
}

double
TermCursor::Freq()
{
	return composite_ != nullptr ? composite_->freq() : static_cast<double>(Tf());
}

bool
TermCursor::Positions(std::span<uint32_t> out)
{
	if (current_ >= part_count_ || parts_[current_].positions == nullptr)
		return false;
	return parts_[current_].positions->PositionsAt(*parts_[current_].cursor, out);
}

void
TermCursor::Rewind()
{
	for (uint32_t i = 0; i < part_count_; i++)
		parts_[i].cursor->Reopen();
	current_ = 0;
	shallow_part_ = 0;
	shallow_valid_ = false;
	Settle();
}

double
TermCursor::ShallowBoundWith(const TermScorer &scorer) const
{
	if (shallow_part_ >= part_count_ || shallow_last_ == kEndDoc)
		return 0;
	return parts_[shallow_part_].cursor->ShallowBound(scorer);
}

bool
TermCursor::failed() const
{
	if (composite_ != nullptr)
		return composite_->failed();
	for (uint32_t i = 0; i < part_count_; i++)
		if (parts_[i].cursor->failed())
			return true;
	return false;
}

// Moves past exhausted parts and recomputes doc_.
void
TermCursor::Settle()
{
	while (current_ < part_count_)
	{
		DocId local = parts_[current_].cursor->doc();
		if (local != kEndDoc)
		{
			doc_ = parts_[current_].base + local;
			return;
		}
		current_++;
	}
	doc_ = kEndDoc;
}

void
TermCursor::Next()
{
	if (composite_ != nullptr)
	{
		composite_->Next();
		doc_ = composite_->doc();
		return;
	}
	if (current_ >= part_count_)
		return;
	parts_[current_].cursor->Next();
	Settle();
}

void
TermCursor::NextGeq(DocId target)
{
	if (doc_ >= target)
		return;
	if (composite_ != nullptr)
	{
		composite_->NextGeq(target);
		doc_ = composite_->doc();
		return;
	}
	// Parts whose documents all lie below the target are done.
	while (current_ < part_count_ && parts_[current_].last < target)
		current_++;
	if (current_ < part_count_)
	{
		const Part &part = parts_[current_];
		part.cursor->NextGeq(target > part.base ? target - part.base : 0);
	}
	Settle();
}

void
TermCursor::ShallowSeek(DocId target)
{
	// Targets never decrease (block-max WAND's pivot only moves forward), so a
	// block that ends at or after the target is still the right block.
	if (composite_ != nullptr)
	{
		composite_->ShallowSeek(target);
		shallow_last_ = composite_->ShallowLastDoc();
		shallow_bound_ = composite_->ShallowBound();
		return;
	}
	if (shallow_valid_ && target <= shallow_last_)
		return;
	shallow_valid_ = true;
	if (shallow_part_ < current_)
		shallow_part_ = current_;
	while (shallow_part_ < part_count_ && parts_[shallow_part_].last < target)
		shallow_part_++;
	if (shallow_part_ >= part_count_)
	{
		shallow_last_ = kEndDoc;
		shallow_bound_ = 0;
		return;
	}
	const Part &part = parts_[shallow_part_];
	PostingCursor *c = part.cursor;
	c->ShallowSeek(target > part.base ? target - part.base : 0);
	DocId local_last = c->ShallowLastDoc();
	shallow_last_ = local_last == kEndDoc ? part.last : part.base + local_last;
	shallow_bound_ = c->ShallowBound(*scorer_);
}

bool
TermCursor::Contains(DocId doc)
{
	if (composite_ != nullptr)
		return composite_->Contains(doc);
	for (uint32_t i = 0; i < part_count_; i++)
	{
		const Part &part = parts_[i];
		if (doc < part.base)
			return false;
		if (doc <= part.last)
			return part.cursor->Contains(doc - part.base);
	}
	return false;
}

} // namespace quarry::fts
