#include "fts/phrase_cursor.h"

#include <algorithm>

namespace quarry::fts {

void
PhraseCursor::Init(Member *members, uint32_t count, uint32_t slop, const TermScorer *scorer, BufferSource buffers)
{
	members_ = members;
	count_ = std::min<uint32_t>(count, kMaxPhraseTerms);
	slop_ = slop;
	scorer_ = scorer;
	buffers_ = buffers;
	doc_ = kEndDoc;
	freq_ = 0;
	failed_ = false;
	shallow_valid_ = false;
	NextGeq(0);
}

bool
PhraseCursor::failed() const
{
	if (failed_)
		return true;
	for (uint32_t m = 0; m < count_; m++)
		if (members_[m].cursor->failed() || members_[m].probe->failed())
			return true;
	return false;
}

// Reads member m's positions in its cursor's document into its buffer.
bool
PhraseCursor::ReadPositions(TermCursor &cursor, uint32_t m)
{
	const uint32_t tf = cursor.Tf();
	if (tf > buffer_size_[m])
	{
		const std::size_t grown = std::max<std::size_t>({tf, 2 * buffer_size_[m], 64});
		auto *bytes = buffers_.allocate == nullptr ? nullptr : buffers_.allocate(buffers_.state, grown * sizeof(uint32_t));
		if (bytes == nullptr)
			return false;
		buffer_[m] = reinterpret_cast<uint32_t *>(bytes);
		buffer_size_[m] = grown;
	}
	if (!cursor.Positions({buffer_[m], tf}))
		return false;
	terms_[m] = PhraseTerm{{buffer_[m], tf}, members_[m].offset, members_[m].term};
	return true;
}

double
PhraseCursor::FreqAt(bool probes)
{
	for (uint32_t m = 0; m < count_; m++)
		if (!ReadPositions(probes ? *members_[m].probe : *members_[m].cursor, m))
		{
			failed_ = true;
			return 0;
		}
	std::span<const PhraseTerm> terms(terms_, count_);
	if (slop_ == 0)
		return ExactPhraseFreq(terms);
	return SloppyPhrase(terms, slop_).freq;
}

void
PhraseCursor::NextGeq(DocId target)
{
	if (doc_ != kEndDoc && doc_ >= target && freq_ > 0)
		return;
	DocId d = target;
	while (d != kEndDoc && !failed_)
	{
		bool aligned = true;
		for (uint32_t m = 0; m < count_; m++)
		{
			TermCursor *c = members_[m].cursor;
			c->NextGeq(d);
			if (c->doc() != d)
			{
				d = c->doc(); // kEndDoc ends the loop
				aligned = false;
				break;
			}
		}
		if (!aligned)
			continue;
		freq_ = FreqAt(false);
		if (freq_ > 0)
		{
			doc_ = d;
			return;
		}
		d = d + 1;
	}
	doc_ = kEndDoc;
	freq_ = 0;
}

bool
PhraseCursor::Contains(DocId doc)
{
	if (doc == doc_)
		return doc_ != kEndDoc;
	for (uint32_t m = 0; m < count_; m++)
	{
		TermCursor *p = members_[m].probe;
		if (!p->Contains(doc))
			return false;
		if (p->doc() > doc)
			p->Rewind();
		p->NextGeq(doc);
		if (p->doc() != doc)
			return false;
	}
	return FreqAt(true) > 0;
}

void
PhraseCursor::ShallowSeek(DocId target)
{
	if (shallow_valid_ && target <= shallow_last_)
		return;
	shallow_valid_ = true;
	shallow_last_ = kEndDoc;
	shallow_bound_ = scorer_->Bound(kSaturated16, 1);
	for (uint32_t m = 0; m < count_; m++)
	{
		TermCursor *c = members_[m].cursor;
		c->ShallowSeek(target);
		shallow_last_ = std::min(shallow_last_, c->ShallowLastDoc());
		if (slop_ == 0)
			shallow_bound_ = std::min(shallow_bound_, c->ShallowBoundWith(*scorer_));
	}
}

double
PhraseCursor::UpperBound(std::span<const double> member_bounds) const
{
	double bound = scorer_->Bound(kSaturated16, 1);
	if (slop_ == 0)
		for (double b : member_bounds)
			bound = std::min(bound, b);
	return bound;
}

} // namespace quarry::fts
