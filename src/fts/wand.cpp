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
		in.term_scores[c->term_index()] = c->scorer().Score(c->Freq(), length);
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

// The pivot: the first cursor at which the summed term bounds exceed the
// threshold, extended over the cursors on the same document; cursors.size()
// when no document can enter the top k any more.
std::size_t
FindPivot(std::span<TermCursor *const> cursors, double threshold)
{
	double upper = 0;
	for (std::size_t i = 0; i < cursors.size() && cursors[i]->doc() != kEndDoc; i++)
	{
		upper += cursors[i]->upper_bound();
		if (upper <= threshold)
			continue;
		std::size_t pivot = i;
		while (pivot + 1 < cursors.size() && cursors[pivot + 1]->doc() == cursors[pivot]->doc())
			pivot++;
		return pivot;
	}
	return cursors.size();
}

// The block-max bound of pivot_doc: the sum of the bounds of the blocks of
// cursors 0..pivot that may hold it (shallow seeks: no block is decoded).
double
BlockUpper(std::span<TermCursor *const> cursors, std::size_t pivot, DocId pivot_doc)
{
	double block_upper = 0;
	for (std::size_t i = 0; i <= pivot; i++)
	{
		cursors[i]->ShallowSeek(pivot_doc);
		block_upper += cursors[i]->ShallowBound();
	}
	return block_upper;
}

// No document up to the end of the pivot's blocks can make it: skips past the
// nearest block end (or to the next cursor beyond the pivot), moving the
// cursor with the largest bound.
void
SkipBlocks(std::span<TermCursor *> cursors, std::size_t pivot, DocId pivot_doc)
{
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

} // namespace

// Block-max WAND (Ding & Suel, SIGIR 2011): term bounds pick a pivot, block
// bounds decide whether the pivot's document is scored or its blocks skipped.
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
		const double threshold = top.Threshold();
		const std::size_t pivot = FindPivot(cursors, threshold);
		if (pivot == cursors.size())
			break;
		counters.pivots++;
		const DocId pivot_doc = cursors[pivot]->doc();

		if (BlockUpper(cursors, pivot, pivot_doc) <= threshold)
		{
			counters.block_skips++;
			SkipBlocks(cursors, pivot, pivot_doc);
			continue;
		}
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
