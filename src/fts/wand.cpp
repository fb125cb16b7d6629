#include "fts/wand.h"

#include <algorithm>

namespace quarry::fts {

namespace {

constexpr uint32_t kInterruptEvery = 2048;

bool
ByDoc(const TermCursor *a, const TermCursor *b)
{
	return a->doc() < b->doc();
}

// Restores doc order after cursors[i] moved forward (it can only move right).
void
BubbleDown(std::span<TermCursor *> cursors, std::size_t i)
{
	for (; i + 1 < cursors.size() && cursors[i + 1]->doc() < cursors[i]->doc(); i++)
		std::swap(cursors[i], cursors[i + 1]);
}

void
MaybeInterrupt(const InterruptCheck &interrupt, uint32_t &ticks)
{
	if (++ticks < kInterruptEvery)
		return;
	ticks = 0;
	if (interrupt.check != nullptr)
		interrupt.check(interrupt.arg);
}

// Scores `doc` from the cursors positioned on it (the prefix cursors[0..n) all
// sit on doc), advances them, and offers the document to the collector.
void
ScoreAndAdvance(const WandInput &in, std::size_t n, DocId doc, TopK &top, WandCounters &counters)
{
	std::fill(in.term_scores, in.term_scores + in.term_count, 0.0);
	uint32_t length = in.lengths->Length(doc);
	for (std::size_t i = 0; i < n; i++)
	{
		TermCursor *c = in.cursors[i];
		in.term_scores[c->term_index()] = c->scorer().Score(c->Tf(), length);
		c->Next();
	}
	counters.scored++;
	ScoredDoc candidate{SumInTermOrder(in.term_scores, in.term_count), doc};
	if (!top.WouldEnter(candidate) || !in.after.Allows(candidate.score, doc))
		return;
	if (in.admission != nullptr && !in.admission->Admit(doc))
		return;
	top.Push(candidate);
}

// The number of cursors (from the front) sitting on the same document as the
// front one.
std::size_t
FrontGroup(std::span<TermCursor *> cursors)
{
	std::size_t n = 1;
	while (n < cursors.size() && cursors[n]->doc() == cursors[0]->doc())
		n++;
	return n;
}

} // namespace

WandCounters
BlockMaxWand(const WandInput &in, TopK &top)
{
	WandCounters counters;
	std::span<TermCursor *> cursors = in.cursors;
	std::sort(cursors.begin(), cursors.end(), ByDoc);
	uint32_t ticks = 0;

	for (;;)
	{
		MaybeInterrupt(in.interrupt, ticks);
		double threshold = top.Threshold();

		// Pivot: the first cursor at which the summed term bounds exceed the
		// threshold, extended over cursors on the same document.
		double upper = 0;
		std::size_t pivot = cursors.size();
		for (std::size_t i = 0; i < cursors.size() && cursors[i]->doc() != kEndDoc; i++)
		{
			upper += cursors[i]->upper_bound();
			if (upper > threshold)
			{
				pivot = i;
				while (pivot + 1 < cursors.size() && cursors[pivot + 1]->doc() == cursors[pivot]->doc())
					pivot++;
				break;
			}
		}
		if (pivot == cursors.size())
			break;
		counters.pivots++;
		DocId pivot_doc = cursors[pivot]->doc();

		// Block-max check: the bounds of the blocks that may hold pivot_doc.
		double block_upper = 0;
		for (std::size_t i = 0; i <= pivot; i++)
		{
			cursors[i]->ShallowSeek(pivot_doc);
			block_upper += cursors[i]->ShallowBound();
		}

		if (block_upper > threshold)
		{
			if (cursors[0]->doc() == pivot_doc)
			{
				ScoreAndAdvance(in, FrontGroup(cursors), pivot_doc, top, counters);
				std::sort(cursors.begin(), cursors.end(), ByDoc);
				continue;
			}
			// Bring the last cursor before the pivot's group up to the pivot.
			std::size_t move = pivot;
			while (cursors[move]->doc() == pivot_doc)
				move--;
			cursors[move]->NextGeq(pivot_doc);
			BubbleDown(cursors, move);
			continue;
		}

		// No document up to the end of these blocks can make it: skip past the
		// nearest block end (or to the next cursor beyond the pivot), moving the
		// cursor with the largest bound.
		counters.block_skips++;
		DocId next = kEndDoc;
		for (std::size_t i = 0; i <= pivot; i++)
		{
			DocId last = cursors[i]->ShallowLastDoc();
			if (last != kEndDoc && last + 1 < next)
				next = last + 1;
		}
		if (pivot + 1 < cursors.size() && cursors[pivot + 1]->doc() < next)
			next = cursors[pivot + 1]->doc();
		if (next <= pivot_doc)
			next = pivot_doc + 1;
		std::size_t move = 0;
		for (std::size_t i = 1; i <= pivot; i++)
			if (cursors[i]->upper_bound() > cursors[move]->upper_bound())
				move = i;
		cursors[move]->NextGeq(next);
		BubbleDown(cursors, move);
	}
	return counters;
}

WandCounters
ExhaustiveTopK(const WandInput &in, TopK &top)
{
	WandCounters counters;
	std::span<TermCursor *> cursors = in.cursors;
	uint32_t ticks = 0;
	for (;;)
	{
		MaybeInterrupt(in.interrupt, ticks);
		std::sort(cursors.begin(), cursors.end(), ByDoc);
		if (cursors.empty() || cursors[0]->doc() == kEndDoc)
			break;
		ScoreAndAdvance(in, FrontGroup(cursors), cursors[0]->doc(), top, counters);
	}
	return counters;
}

} // namespace quarry::fts
