// Posting lists (src/fts/posting_list.h) on arbitrary bytes and on lists built
// from arbitrary documents.
//   garbage: a cursor over any bytes never reads outside them or crashes; while
//     it has not failed, it moves forward only, NextGeq lands at or past its
//     target, and the block bounds it reports are finite.
//   round trip: a list encoded from strictly increasing documents reads back
//     the same documents and tfs, Contains finds each of them, and every
//     document's score is within its block's bound and the list's bound.
#include "fts/posting_list.h"
#include "fuzz_input.h"

#include <cmath>
#include <vector>

using namespace quarry;

namespace {

const fts::TermScorer kScorer(fts::Bm25Params{1.2, 0.75}, fts::CollectionStats{100000, 3000000}, 50, 1);

void
Garbage(fuzz::FuzzInput &in)
{
	std::span<const uint8_t> op_bytes = in.Bytes(64);
	std::vector<uint8_t> ops(op_bytes.begin(), op_bytes.end());
	std::span<const uint8_t> rest = in.Rest();
	std::vector<uint8_t> list(rest.begin(), rest.end()); // exact size for ASan
	fts::MemoryPostingBytes bytes(list.data(), list.size());
	fts::PostingCursor cursor;
	if (!cursor.Open(&bytes))
		return;
	fts::DocId last = 0;
	for (std::size_t i = 0; i < ops.size() && cursor.doc() != fts::kEndDoc; i++)
	{
		const fts::DocId target = last + ops[i] * 37u;
		switch (ops[i] % 6)
		{
		case 0: cursor.Next(); break;
		case 1:
			cursor.NextGeq(target);
			if (!cursor.failed() && cursor.doc() < target)
				fuzz::Violated("NextGeq stopped before its target");
			break;
		case 2:
			cursor.ShallowSeek(target);
			if (!std::isfinite(cursor.ShallowBound(kScorer)))
				fuzz::Violated("block bound is not finite");
			break;
		case 3: cursor.Contains(target); break;
		case 4:
			if (cursor.doc() != fts::kEndDoc)
				cursor.Tf();
			break;
		default: cursor.ForEachBefore(target, [](fts::DocId, uint32_t) {}); break;
		}
		if (cursor.failed())
			return;
		if (cursor.doc() < last)
			fuzz::Violated("the cursor moved backwards");
		last = cursor.doc();
	}
	cursor.LastDoc();
}

void
RoundTrip(fuzz::FuzzInput &in)
{
	const uint32_t n = 1 + in.Below(1000);
	std::vector<fts::DocId> docs;
	std::vector<uint32_t> tfs, lens;
	fts::DocId doc = in.Below(1u << 20);
	for (uint32_t i = 0; i < n; i++)
	{
		docs.push_back(doc);
		tfs.push_back(1 + in.Below(in.Take<uint8_t>() > 250 ? 100000 : 20));
		lens.push_back(tfs.back() + in.Below(in.Take<uint8_t>() > 250 ? 200000 : 300));
		const uint32_t gap = 1 + in.Below(in.Take<uint8_t>() > 240 ? 1u << 24 : 64);
		if (doc > fts::kEndDoc - 1 - gap)
			break;
		doc += gap;
	}
	std::vector<uint8_t> list(fts::EncodedPostingListSize(docs, tfs));
	const fts::ImpactSummary summary = fts::EncodePostingList(docs, tfs, lens, list);
	fts::MemoryPostingBytes bytes(list.data(), list.size());
	fts::PostingCursor cursor;
	if (!cursor.Open(&bytes))
		fuzz::Violated("a list just encoded does not open");
	const double list_bound = summary.Bound(kScorer);
	for (std::size_t i = 0; i < docs.size(); i++, cursor.Next())
	{
		if (cursor.doc() != docs[i] || cursor.Tf() != tfs[i])
			fuzz::Violated("round trip: documents or tfs differ");
		const double score = kScorer.Score(tfs[i], lens[i]);
		cursor.ShallowSeek(docs[i]);
		if (score > cursor.ShallowBound(kScorer) || score > list_bound)
			fuzz::Violated("a document scores above its bound");
	}
	if (cursor.doc() != fts::kEndDoc || cursor.failed())
		fuzz::Violated("round trip: the list does not end after its documents");
	fts::PostingCursor probe;
	probe.Open(&bytes);
	for (std::size_t i = 0; i < docs.size(); i += 1 + docs.size() / 64)
		if (!probe.Contains(docs[i]) || (docs[i] > 0 && i > 0 && docs[i] - 1 != docs[i - 1] && probe.Contains(docs[i] - 1)))
			fuzz::Violated("Contains is wrong");
	if (probe.LastDoc() != docs.back())
		fuzz::Violated("LastDoc is wrong");
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size)
{
	fuzz::FuzzInput in(data, size);
	if (in.Take<uint8_t>() & 1)
		RoundTrip(in);
	else
		Garbage(in);
	return 0;
}
