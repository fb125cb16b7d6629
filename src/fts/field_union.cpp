#include "fts/field_union.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quarry::fts {

void
FieldUnion::Init(Member *members, uint32_t count, const TermScorer *scorer, double score_bound)
{
	members_ = members;
	count_ = count;
	scorer_ = scorer;
	score_bound_ = score_bound;
	shallow_last_ = kEndDoc;
	shallow_bound_ = score_bound;
	shallow_valid_ = false;
	Settle();
}

void
FieldUnion::ShallowSeek(DocId target)
{
	// Targets never decrease: a block that ends at or after the target holds.
	if (shallow_valid_ && target <= shallow_last_)
		return;
	shallow_valid_ = true;
	double freq = 0;
	DocId last = kEndDoc;
	bool any = false;
	for (uint32_t i = 0; i < count_; i++)
	{
		TermCursor &c = *members_[i].cursor;
		c.ShallowSeek(target);
		const double bound = c.ShallowBound();
		if (c.ShallowLastDoc() == kEndDoc && bound == 0)
			continue; // no block at or after the target: adds nothing
		any = true;
		freq += FreqBoundFromScore(c.scorer(), members_[i].norm, bound);
		last = std::min(last, c.ShallowLastDoc());
	}
	shallow_last_ = last;
	if (!any)
	{
		shallow_bound_ = 0;
		return;
	}
	const double s = std::isinf(freq) ? scorer_->weight() * (scorer_->k1() + 1.0) : scorer_->Score(freq, 0);
	shallow_bound_ = std::min(score_bound_, s * (1.0 + kBoundMargin));
}

// doc_: the smallest member document.
void
FieldUnion::Settle()
{
	doc_ = kEndDoc;
	for (uint32_t i = 0; i < count_; i++)
		if (members_[i].cursor->doc() < doc_)
			doc_ = members_[i].cursor->doc();
	freq_valid_ = false;
}

double
FieldUnion::freq() const
{
	if (freq_valid_)
		return freq_;
	double sum = 0;
	for (uint32_t i = 0; i < count_; i++)
	{
		const Member &m = members_[i];
		if (m.cursor->doc() == doc_)
			sum += m.norm.Freq(m.cursor->Freq(), m.lengths->Length(doc_));
	}
	freq_ = sum;
	freq_valid_ = true;
	return sum;
}

bool
FieldUnion::failed() const
{
	for (uint32_t i = 0; i < count_; i++)
		if (members_[i].cursor->failed())
			return true;
	return false;
}

void
FieldUnion::Next()
{
	if (doc_ == kEndDoc)
		return;
	const DocId at = doc_;
	for (uint32_t i = 0; i < count_; i++)
		if (members_[i].cursor->doc() == at)
			members_[i].cursor->Next();
	Settle();
}

void
FieldUnion::NextGeq(DocId target)
{
	if (doc_ >= target)
		return;
	for (uint32_t i = 0; i < count_; i++)
		members_[i].cursor->NextGeq(target);
	Settle();
}

bool
FieldUnion::Contains(DocId doc)
{
	for (uint32_t i = 0; i < count_; i++)
		if (members_[i].cursor->Contains(doc))
			return true;
	return false;
}

double
FreqBoundFromScore(const TermScorer &field_scorer, const FieldNorm &norm, double score_bound)
{
	// score = W (k1 + 1) x / (x + k1), x = tf / normaliser: x = k1 s / (k1 + 1 - s), s = score / W.
	const double w = field_scorer.weight();
	const double k1 = field_scorer.k1();
	if (w <= 0 || k1 <= 0)
		return std::numeric_limits<double>::infinity();
	const double s = score_bound / w;
	if (s >= k1 + 1.0)
		return std::numeric_limits<double>::infinity();
	const double x = k1 * s / (k1 + 1.0 - s);
	return norm.weight * x * (1.0 + kBoundMargin);
}

} // namespace quarry::fts
