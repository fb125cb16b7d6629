#include "fts/phrase.h"

#include <algorithm>
#include <limits>

namespace quarry::fts {

namespace {

// Distinct values of a non-decreasing list.
uint32_t
DistinctCount(std::span<const uint32_t> list)
{
	uint32_t n = 0;
	for (std::size_t i = 0; i < list.size(); i++)
		n += i == 0 || list[i] != list[i - 1];
	return n;
}

// One term of a sloppy phrase: Lucene's PhrasePositions. `position` is the
// current occurrence minus the offset.
struct PhrasePositions {
	int64_t position = 0;
	int64_t offset = 0;
	const uint32_t *next = nullptr; // the occurrence after the current one
	const uint32_t *end = nullptr;
	uint32_t ord = 0;		// index in the phrase (after duplicates are dropped)
	uint32_t term = 0;		// lexeme id
	int32_t rpt_group = -1; // repeat group, -1 for a term that occurs once
	uint32_t rpt_ind = 0;	// index in the repeat group

	// Moves to the next occurrence; false when there is none.
	bool
	NextPosition()
	{
		if (next == end)
			return false;
		position = static_cast<int64_t>(*next++) - offset;
		return true;
	}
};

// Lucene's PhraseQueue: a binary min-heap (PriorityQueue's exact add, pop,
// upHeap and downHeap, 1-based) ordered by position, then offset, then ord.
// The exact layout matters: after a repeat collision, Lucene re-queues by
// popping, and what it pops depends on it.
class PhraseQueue {
public:
	void Clear() { size_ = 0; }
	uint32_t size() const { return size_; }
	PhrasePositions *Top() const { return heap_[1]; }

	// Adds pp (PriorityQueue.add).
	void
	Add(PhrasePositions *pp)
	{
		uint32_t i = ++size_;
		heap_[i] = pp;
		for (uint32_t j = i >> 1; j > 0 && Less(pp, heap_[j]); j >>= 1)
		{
			heap_[i] = heap_[j];
			i = j;
		}
		heap_[i] = pp;
	}

	// Removes and returns the least (PriorityQueue.pop); the queue is not empty.
	PhrasePositions *
	Pop()
	{
		PhrasePositions *result = heap_[1];
		heap_[1] = heap_[size_--];
		DownHeap();
		return result;
	}

private:
	// PhraseQueue.lessThan.
	static bool
	Less(const PhrasePositions *a, const PhrasePositions *b)
	{
		if (a->position != b->position)
			return a->position < b->position;
		if (a->offset != b->offset)
			return a->offset < b->offset;
		return a->ord < b->ord;
	}

	// Sifts heap_[1] down (PriorityQueue.downHeap).
	void
	DownHeap()
	{
		uint32_t i = 1;
		PhrasePositions *node = heap_[i];
		uint32_t j = i << 1;
		if (j + 1 <= size_ && Less(heap_[j + 1], heap_[j]))
			j++;
		while (j <= size_ && Less(heap_[j], node))
		{
			heap_[i] = heap_[j];
			i = j;
			j = i << 1;
			if (j + 1 <= size_ && Less(heap_[j + 1], heap_[j]))
				j++;
		}
		heap_[i] = node;
	}

	PhrasePositions *heap_[kMaxPhraseTerms + 1] = {};
	uint32_t size_ = 0;
};

// Lucene's SloppyPhraseMatcher for one document (terms given by one lexeme
// each: no multi-term positions, so only its simple repeat groups).
class SloppyMatcher {
public:
	// Takes the terms (at most kMaxPhraseTerms, none empty, no (term, offset)
	// given twice) and places them at their first match candidate (reset()).
	SloppyMatcher(std::span<const PhraseTerm> terms, int64_t slop);

	// Lucene's nextMatch(): advances to the next match; false when there is none.
	bool NextMatch();
	// The current match's span.
	int64_t match_length() const { return match_length_; }

private:
	void GatherRepeatGroups();
	bool AdvanceRepeatGroups();
	bool AdvancePP(PhrasePositions *pp);
	bool AdvanceRpts(PhrasePositions *pp);
	int32_t Collide(const PhrasePositions *pp) const;

	static int64_t TpPos(const PhrasePositions *pp) { return pp->position + pp->offset; }

	PhrasePositions pps_[kMaxPhraseTerms];
	uint32_t count_ = 0;
	int64_t slop_ = 0;
	int64_t end_ = std::numeric_limits<int64_t>::min(); // largest position
	int64_t match_length_ = std::numeric_limits<int64_t>::max();
	bool positioned_ = false;
	bool has_rpts_ = false;
	PhraseQueue pq_;
	// Repeat groups: group g holds group_[group_start_[g] .. group_start_[g+1]),
	// sorted by offset.
	uint32_t group_count_ = 0;
	uint32_t group_start_[kMaxPhraseTerms + 1] = {};
	PhrasePositions *group_[kMaxPhraseTerms] = {};
};

SloppyMatcher::SloppyMatcher(std::span<const PhraseTerm> terms, int64_t slop) : slop_(slop)
{
	for (const PhraseTerm &t : terms)
	{
		PhrasePositions &pp = pps_[count_];
		pp.offset = t.offset;
		pp.next = t.positions.data();
		pp.end = t.positions.data() + t.positions.size();
		pp.ord = count_++;
		pp.term = t.term;
		pp.NextPosition(); // firstPosition(): the lists are not empty
	}
	GatherRepeatGroups();
	if (has_rpts_ && !AdvanceRepeatGroups())
		return; // not positioned: no match
	for (uint32_t i = 0; i < count_; i++) // fillQueue()
	{
		end_ = std::max(end_, pps_[i].position);
		pq_.Add(&pps_[i]);
	}
	positioned_ = true;
}

// gatherRptGroups() without multi-term positions: the terms that occur more
// than once in the phrase, a group per lexeme (in order of first occurrence),
// each sorted by offset (sortRptGroups, a stable sort).
void
SloppyMatcher::GatherRepeatGroups()
{
	uint32_t filled = 0;
	for (uint32_t i = 0; i < count_; i++)
	{
		if (pps_[i].rpt_group >= 0)
			continue;
		const uint32_t first = filled;
		for (uint32_t j = i + 1; j < count_; j++)
		{
			if (pps_[j].term != pps_[i].term)
				continue;
			if (filled == first)
			{
				pps_[i].rpt_group = static_cast<int32_t>(group_count_);
				group_[filled++] = &pps_[i];
			}
			pps_[j].rpt_group = static_cast<int32_t>(group_count_);
			group_[filled++] = &pps_[j];
		}
		if (filled == first)
			continue;
		std::stable_sort(group_ + first, group_ + filled, [](const PhrasePositions *a, const PhrasePositions *b) {
			return a->offset < b->offset;
		});
		for (uint32_t k = first; k < filled; k++)
			group_[k]->rpt_ind = k - first;
		group_start_[group_count_++] = first;
		group_start_[group_count_] = filled;
	}
	has_rpts_ = group_count_ > 0;
}

// advanceRepeatGroups() without multi-term positions: the j-th member of a
// group (by offset) moves to the term's j-th occurrence, so no two members
// start on one occurrence. False when a term has too few occurrences.
bool
SloppyMatcher::AdvanceRepeatGroups()
{
	for (uint32_t g = 0; g < group_count_; g++)
		for (uint32_t j = 1; j < group_start_[g + 1] - group_start_[g]; j++)
			for (uint32_t k = 0; k < j; k++)
				if (!group_[group_start_[g] + j]->NextPosition())
					return false;
	return true;
}

// advancePP(): the next occurrence of pp, keeping end_ the largest position.
bool
SloppyMatcher::AdvancePP(PhrasePositions *pp)
{
	if (!pp->NextPosition())
		return false;
	end_ = std::max(end_, pp->position);
	return true;
}

// collide(): the index in pp's group of another member on the same document
// position as pp, or -1.
int32_t
SloppyMatcher::Collide(const PhrasePositions *pp) const
{
	const uint32_t g = static_cast<uint32_t>(pp->rpt_group);
	for (uint32_t i = group_start_[g]; i < group_start_[g + 1]; i++)
		if (group_[i] != pp && TpPos(group_[i]) == TpPos(pp))
			return static_cast<int32_t>(group_[i]->rpt_ind);
	return -1;
}

// advanceRpts(): pp was just advanced; while it sits on the occurrence of
// another member of its group, advance the lesser (by position, then offset)
// of the two. Then re-queue the members that were moved while in the queue, as
// Lucene does: pop until all of them are out (a member of another group with
// the same index in its group also counts, as in Lucene), push back. False
// when a term runs out of occurrences.
bool
SloppyMatcher::AdvanceRpts(PhrasePositions *pp)
{
	if (pp->rpt_group < 0)
		return true;
	const uint32_t g = static_cast<uint32_t>(pp->rpt_group);
	const uint32_t group_size = group_start_[g + 1] - group_start_[g];
	const int32_t k0 = static_cast<int32_t>(pp->rpt_ind);
	uint64_t bits = 0; // group indexes to re-queue (a group has <= 64 members)
	for (int32_t k; (k = Collide(pp)) >= 0;)
	{
		PhrasePositions *other = group_[group_start_[g] + static_cast<uint32_t>(k)];
		const bool pp_lesser =
			pp->position < other->position || (pp->position == other->position && pp->offset < other->offset);
		pp = pp_lesser ? pp : other;
		if (!AdvancePP(pp))
			return false;
		if (k != k0)
			bits |= uint64_t{1} << k;
	}
	PhrasePositions *stack[kMaxPhraseTerms];
	uint32_t n = 0;
	while (bits != 0 && pq_.size() > 0)
	{
		PhrasePositions *pp2 = pq_.Pop();
		stack[n++] = pp2;
		if (pp2->rpt_group >= 0 && pp2->rpt_ind < group_size)
			bits &= ~(uint64_t{1} << pp2->rpt_ind);
	}
	while (n > 0)
		pq_.Add(stack[--n]);
	return true;
}

// nextMatch(): pops the least, advances it while it stays the least
// (minimizing the span), and reports the state if its span is within the slop.
bool
SloppyMatcher::NextMatch()
{
	if (!positioned_)
		return false;
	PhrasePositions *pp = pq_.Pop();
	match_length_ = end_ - pp->position;
	int64_t next = pq_.Top()->position;
	while (AdvancePP(pp))
	{
		if (has_rpts_ && !AdvanceRpts(pp))
			break; // exhausted
		if (pp->position > next)
		{
			pq_.Add(pp);
			if (match_length_ <= slop_)
				return true;
			pp = pq_.Pop();
			next = pq_.Top()->position;
			match_length_ = end_ - pp->position;
		}
		else
			match_length_ = std::min(match_length_, end_ - pp->position);
	}
	positioned_ = false;
	return match_length_ <= slop_;
}

// Copies the terms into `out` dropping a (term, offset) pair seen before;
// returns how many remain, or 0 when there are none, too many, or an empty
// list.
uint32_t
DistinctTerms(std::span<const PhraseTerm> terms, PhraseTerm *out)
{
	if (terms.empty() || terms.size() > kMaxPhraseTerms)
		return 0;
	uint32_t n = 0;
	for (const PhraseTerm &t : terms)
	{
		if (t.positions.empty())
			return 0;
		bool seen = false;
		for (uint32_t i = 0; i < n && !seen; i++)
			seen = out[i].term == t.term && out[i].offset == t.offset;
		if (!seen)
			out[n++] = t;
	}
	return n;
}

} // namespace

uint32_t
ExactPhraseFreq(std::span<const PhraseTerm> terms)
{
	if (terms.empty() || terms.size() > kMaxPhraseTerms)
		return 0;
	uint32_t min_offset = terms[0].offset;
	std::size_t lead = 0;
	for (std::size_t i = 0; i < terms.size(); i++)
	{
		if (terms[i].positions.empty())
			return 0;
		min_offset = std::min(min_offset, terms[i].offset);
		if (terms[i].positions.size() < terms[lead].positions.size())
			lead = i;
	}
	std::size_t at[kMaxPhraseTerms] = {};
	uint32_t count = 0;
	const int64_t lead_rel = int64_t{terms[lead].offset} - min_offset;
	std::span<const uint32_t> lead_list = terms[lead].positions;
	for (std::size_t p = 0; p < lead_list.size(); p++)
	{
		if (p > 0 && lead_list[p] == lead_list[p - 1])
			continue; // the same anchor again
		const int64_t anchor = int64_t{lead_list[p]} - lead_rel;
		bool all = true;
		for (std::size_t i = 0; i < terms.size() && all; i++)
		{
			if (i == lead)
				continue;
			const int64_t target = anchor + (int64_t{terms[i].offset} - min_offset);
			std::span<const uint32_t> list = terms[i].positions;
			while (at[i] < list.size() && int64_t{list[at[i]]} < target)
				at[i]++;
			if (at[i] == list.size())
				return count; // no later anchor can match either
			all = int64_t{list[at[i]]} == target;
		}
		count += all;
	}
	return count;
}

SloppyPhraseResult
SloppyPhrase(std::span<const PhraseTerm> terms, uint32_t slop)
{
	PhraseTerm distinct[kMaxPhraseTerms];
	const uint32_t n = DistinctTerms(terms, distinct);
	SloppyPhraseResult result;
	if (n == 1)
	{
		result.matches = DistinctCount(distinct[0].positions);
		result.freq = result.matches;
		return result;
	}
	if (n == 0)
		return result;
	SloppyMatcher matcher({distinct, n}, slop);
	while (matcher.NextMatch())
	{
		result.matches++;
		result.freq += 1.0 / (1.0 + static_cast<double>(matcher.match_length()));
	}
	return result;
}

uint32_t
SloppyMatchCount(std::span<const PhraseTerm> terms, uint32_t slop)
{
	return SloppyPhrase(terms, slop).matches;
}

double
SloppyFreq(std::span<const PhraseTerm> terms, uint32_t slop)
{
	return SloppyPhrase(terms, slop).freq;
}

} // namespace quarry::fts
