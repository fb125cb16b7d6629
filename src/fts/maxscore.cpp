// Windowed MaxScore top-k (see wand.h). Rank-safe for the same reasons as
// block-max WAND: every pruning test compares a rounded-up bound with the
// threshold using ">", documents are offered in increasing id order, and the
// score a document is ranked by is the canonical one (summed in query term
// order from its term frequencies).
#include "fts/wand.h"

#include <algorithm>

namespace quarry::fts {

namespace {

constexpr uint32_t kInterruptEveryWindows = 16;

bool
ByUpperBound(const TermCursor *a, const TermCursor *b)
{
	if (a->upper_bound() != b->upper_bound())
		return a->upper_bound() < b->upper_bound();
	return a->term_index() < b->term_index();
}

// The term frequencies of the document at window offset `off`: one per
// cursor, side by side (MaxScoreScratch::tfs).
double *
DocTfs(const WandInput &in, const MaxScoreScratch &s, uint32_t off)
{
	return s.tfs + std::size_t{off} * in.cursors.size();
}

// The canonical score of the document at window offset `off`.
double
CanonicalScore(const WandInput &in, const MaxScoreScratch &s, uint32_t off, uint32_t length)
{
	std::fill(in.term_scores, in.term_scores + in.term_count, 0.0);
	const double *tfs = DocTfs(in, s, off);
	for (std::size_t t = 0; t < in.cursors.size(); t++)
	{
		double tf = tfs[t];
		if (tf != 0)
			in.term_scores[in.cursors[t]->term_index()] = in.cursors[t]->scorer().Score(tf, length);
	}
	return SumInTermOrder(in.term_scores, in.term_count);
}

// Probes the non-essential terms (cursors [0, first_essential)) for `doc`,
// highest bound first. Returns false as soon as the document cannot beat
// `threshold`; prefix[t] bounds what cursors [0, t) can add in the window.
bool
ProbeNonEssential(const WandInput &in, const MaxScoreScratch &s, const double *prefix, std::size_t first_essential,
				  DocId doc, uint32_t off, uint32_t length, double threshold)
{
	double got = s.partial[off];
	for (std::size_t t = first_essential; t-- > 0;)
	{
		TermCursor *c = in.cursors[t];
		c->NextGeq(doc);
		if (c->doc() == doc)
		{
			double tf = c->Freq();
			DocTfs(in, s, off)[t] = tf;
			got += c->scorer().Score(tf, length);
		}
		if (got * (1.0 + kBoundMargin) + prefix[t] <= threshold)
			return false;
	}
	return true;
}

void
Offer(const WandInput &in, TopK &top, double score, DocId doc, WandCounters &counters)
{
	counters.scored++;
	ScoredDoc candidate{score, doc};
	if (!top.WouldEnter(candidate) || !in.after.Allows(score, doc))
		return;
	if (in.admission != nullptr && !in.admission->Admit(doc))
		return;
	top.Push(candidate);
}

// Accumulates the essential terms' (cursors [first_essential, n)) scores over
// the window [start, start + lengths.size()): partial sums, tfs and marks.
void
AccumulateEssential(const WandInput &in, const MaxScoreScratch &s, std::size_t first_essential, DocId start,
					std::span<const uint32_t> lengths)
{
	const DocId end = start + static_cast<uint32_t>(lengths.size());
	for (std::size_t t = first_essential; t < in.cursors.size(); t++)
	{
		TermCursor *c = in.cursors[t];
		const TermScorer &scorer = c->scorer();
		c->ForEachBefore(end, [&](DocId doc, double tf) {
			uint32_t off = doc - start;
			s.marks[off >> 6] |= uint64_t{1} << (off & 63);
			s.partial[off] += scorer.Score(tf, lengths[off]);
			DocTfs(in, s, off)[t] = tf;
		});
	}
}

// Offers the window's marked documents in increasing order: each whose
// partial score plus the non-essential bounds (`prefix`, the window's) can
// beat the threshold is probed and, if it still can, scored canonically.
// Clears the window.
void
OfferWindow(const WandInput &in, const MaxScoreScratch &s, const double *prefix, std::size_t first_essential,
			DocId start, std::span<const uint32_t> lengths, TopK &top, WandCounters &counters)
{
	const uint32_t width = static_cast<uint32_t>(lengths.size());
	const double non_essential = prefix[first_essential];
	for (uint32_t word = 0; word < (width + 63) / 64; word++)
	{
		uint64_t bits = s.marks[word];
		s.marks[word] = 0;
		while (bits != 0)
		{
			uint32_t off = word * 64 + static_cast<uint32_t>(__builtin_ctzll(bits));
			bits &= bits - 1;
			DocId doc = start + off;
			double threshold = top.Threshold();
			if (s.partial[off] * (1.0 + kBoundMargin) + non_essential > threshold &&
				ProbeNonEssential(in, s, prefix, first_essential, doc, off, lengths[off], threshold))
				Offer(in, top, CanonicalScore(in, s, off, lengths[off]), doc, counters);
			else
				counters.block_skips++;
			s.partial[off] = 0;
			std::fill_n(DocTfs(in, s, off), in.cursors.size(), 0.0);
		}
	}
}

// The bound of `c`'s score over the documents [start, end): the largest
// block-max bound of the blocks that overlap them (rounded up, as every
// block bound), at most the term's own bound. Moves only the block-max
// pointer, forward.
double
WindowBound(TermCursor *c, DocId start, DocId end)
{
	c->ShallowSeek(start);
	double bound = c->ShallowBound();
	while (c->ShallowLastDoc() != kEndDoc && c->ShallowLastDoc() + 1 < end)
	{
		c->ShallowSeek(c->ShallowLastDoc() + 1);
		bound = std::max(bound, c->ShallowBound());
	}
	return std::min(bound, c->upper_bound());
}

// The window's partition: window_prefix[t] sums the window bounds of cursors
// [0, t) (in the global order), and the first cursor that must be iterated
// is the first past the longest prefix whose window bounds sum to at most
// the threshold (at least `first_essential`: the global prefix bounds it).
std::size_t
WindowPartition(const WandInput &in, const MaxScoreScratch &s, std::size_t first_essential, DocId start, DocId end,
				double threshold)
{
	const std::size_t n = in.cursors.size();
	s.window_prefix[0] = 0;
	for (std::size_t t = 0; t < n; t++)
		s.window_prefix[t + 1] = s.window_prefix[t] + WindowBound(in.cursors[t], start, end);
	std::size_t first = first_essential;
	while (first < n && s.window_prefix[first + 1] <= threshold)
		first++;
	return first;
}

} // namespace

// MaxScore (Turtle & Flood 1995) over windows of documents: terms whose
// bounds sum to at most the threshold are probed, not iterated.
WandCounters
MaxScoreTopK(const WandInput &in, const MaxScoreScratch &s, TopK &top)
{
	WandCounters counters;
	std::span<TermCursor *> cursors = in.cursors;
	const std::size_t n = cursors.size();
	std::sort(cursors.begin(), cursors.end(), ByUpperBound);
	s.prefix[0] = 0;
	for (std::size_t t = 0; t < n; t++)
		s.prefix[t + 1] = s.prefix[t] + cursors[t]->upper_bound();

	std::size_t first_essential = 0;
	for (uint32_t windows = 0;; windows++)
	{
		if (windows % kInterruptEveryWindows == 0 && in.interrupt.check != nullptr)
			in.interrupt.check(in.interrupt.arg);
		const double threshold = top.Threshold();
		while (first_essential < n && s.prefix[first_essential + 1] <= threshold)
			first_essential++;
		if (first_essential == n)
			break;
		DocId start = kEndDoc;
		for (std::size_t t = first_essential; t < n; t++)
			start = std::min(start, cursors[t]->doc());
		if (start == kEndDoc)
			break;

		std::span<const uint32_t> lengths = in.lengths->Window(start, s.capacity);
		lengths = lengths.first(std::min<std::size_t>(lengths.size(), s.capacity));
		const DocId end = start + static_cast<uint32_t>(lengths.size());
		counters.pivots++;
		const std::size_t essential = WindowPartition(in, s, first_essential, start, end, threshold);
		if (essential < n)
		{
			AccumulateEssential(in, s, essential, start, lengths);
			OfferWindow(in, s, s.window_prefix, essential, start, lengths, top, counters);
		}
		else
			counters.block_skips++;
		// Terms iterated globally but only probed in this window: past it,
		// so that the next window starts after it.
		for (std::size_t t = first_essential; t < essential; t++)
			cursors[t]->NextGeq(end);
	}
	return counters;
}

} // namespace quarry::fts
