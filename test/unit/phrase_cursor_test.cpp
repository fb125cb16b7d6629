// PhraseCursor over real encoded lists with positions (two parts per word, as
// an index with a segment and a pending list): the documents and frequencies
// it yields, Contains, and its block bounds, against brute force.
#include "fts/phrase_cursor.h"
#include "fts/posting_list.h"
#include "fts/term_positions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

using namespace quarry::fts;

namespace {

uint8_t *
HeapBytes(void *state, std::size_t bytes)
{
	auto *owned = static_cast<std::vector<std::unique_ptr<uint8_t[]>> *>(state);
	owned->push_back(std::make_unique<uint8_t[]>(bytes));
	return owned->back().get();
}

// A collection: doc -> words (word ids at positions 1..n).
struct Docs {
	std::vector<std::vector<uint32_t>> words;
	std::vector<uint32_t> PositionsOf(uint32_t doc, uint32_t word) const
	{
		std::vector<uint32_t> p;
		for (uint32_t i = 0; i < words[doc].size(); i++)
			if (words[doc][i] == word)
				p.push_back(i + 1);
		return p;
	}
};

// One word's lists over `parts` contiguous ranges of documents, with cursors.
struct WordLists {
	std::vector<std::vector<uint8_t>> postings, positions;
	std::vector<MemoryPostingBytes> posting_bytes, position_bytes;
	std::vector<PostingCursor> cursors;
	std::vector<TermPositionsReader> readers;
	std::vector<TermCursor::Part> parts;
	TermCursor cursor;

	WordLists(const Docs &d, uint32_t word, uint32_t part_count, const TermScorer *scorer,
			  std::vector<std::unique_ptr<uint8_t[]>> &owned)
	{
		const uint32_t n = static_cast<uint32_t>(d.words.size());
		posting_bytes.reserve(part_count);
		position_bytes.reserve(part_count);
		cursors.resize(part_count);
		readers.resize(part_count);
		for (uint32_t p = 0; p < part_count; p++)
		{
			const uint32_t base = n * p / part_count, end = n * (p + 1) / part_count;
			std::vector<DocId> docs;
			std::vector<uint32_t> tfs, lens, pos;
			for (uint32_t doc = base; doc < end; doc++)
			{
				auto ps = d.PositionsOf(doc, word);
				if (ps.empty())
					continue;
				docs.push_back(doc - base);
				tfs.push_back(static_cast<uint32_t>(ps.size()));
				lens.push_back(static_cast<uint32_t>(d.words[doc].size()));
				pos.insert(pos.end(), ps.begin(), ps.end());
			}
			if (docs.empty())
				continue;
			postings.emplace_back(EncodedPostingListSize(docs, tfs));
			EncodePostingList(docs, tfs, lens, postings.back());
			positions.emplace_back(EncodedTermPositionsSize(tfs, pos));
			EncodeTermPositions(tfs, pos, positions.back());
			posting_bytes.emplace_back(postings.back().data(), postings.back().size());
			position_bytes.emplace_back(positions.back().data(), positions.back().size());
			const std::size_t i = parts.size();
			EXPECT_TRUE(cursors[i].Open(&posting_bytes.back()));
			readers[i].Init(&position_bytes.back(), static_cast<uint32_t>(positions.back().size()),
							cursors[i].block_count(), {HeapBytes, &owned});
			parts.push_back({&cursors[i], base, base + docs.back(), &readers[i]});
		}
		cursor.Init(parts.data(), static_cast<uint32_t>(parts.size()), scorer, 1e9, 0);
	}
};

} // namespace

TEST(PhraseCursor, MatchesBruteForceAndBoundsItsScores)
{
	std::mt19937 rng(21);
	for (int round = 0; round < 40; round++)
	{
		Docs d;
		const uint32_t vocabulary = 3 + rng() % 5;
		for (uint32_t doc = 0; doc < 700; doc++)
		{
			d.words.emplace_back(1 + rng() % 30);
			for (uint32_t &w : d.words.back())
				w = rng() % vocabulary;
		}
		// A phrase of 2-3 words (offsets with a hole sometimes), exact or sloppy.
		const uint32_t len = 2 + rng() % 2, slop = rng() % 3 == 0 ? rng() % 3 : 0;
		std::vector<uint32_t> words(len), offsets(len);
		for (uint32_t i = 0; i < len; i++)
		{
			words[i] = rng() % vocabulary;
			offsets[i] = i == 0 ? 0 : offsets[i - 1] + 1 + (rng() % 4 == 0);
		}
		TermScorer scorer(Bm25Params{}, CollectionStats{700, 700 * 15}, 50, 1);
		std::vector<std::unique_ptr<uint8_t[]>> owned;
		std::vector<std::unique_ptr<WordLists>> forward, probe;
		std::vector<PhraseCursor::Member> members;
		for (uint32_t i = 0; i < len; i++)
		{
			forward.push_back(std::make_unique<WordLists>(d, words[i], 2, &scorer, owned));
			probe.push_back(std::make_unique<WordLists>(d, words[i], 2, &scorer, owned));
			members.push_back({&forward.back()->cursor, &probe.back()->cursor, offsets[i], words[i]});
		}
		PhraseCursor phrase;
		phrase.Init(members.data(), len, slop, &scorer, {HeapBytes, &owned});
		// Brute force: every document's frequency.
		std::vector<double> want(d.words.size(), 0);
		for (uint32_t doc = 0; doc < d.words.size(); doc++)
		{
			std::vector<std::vector<uint32_t>> ps(len);
			std::vector<PhraseTerm> terms(len);
			for (uint32_t i = 0; i < len; i++)
			{
				ps[i] = d.PositionsOf(doc, words[i]);
				terms[i] = {ps[i], offsets[i], words[i]};
			}
			if (std::any_of(ps.begin(), ps.end(), [](const auto &v) { return v.empty(); }))
				continue;
			want[doc] = slop == 0 ? ExactPhraseFreq(terms) : SloppyPhrase(terms, slop).freq;
		}
		std::vector<uint32_t> random_docs;
		for (DocId doc = 0; doc < d.words.size(); doc++)
		{
			phrase.ShallowSeek(doc);
			if (want[doc] > 0)
			{
				ASSERT_GE(phrase.ShallowBound(), scorer.Score(want[doc], d.words[doc].size()))
					<< "round " << round << " doc " << doc;
			}
			if (rng() % 3 == 0)
				random_docs.push_back(doc);
		}
		std::vector<DocId> got_docs;
		for (; phrase.doc() != kEndDoc; phrase.Next())
		{
			ASSERT_DOUBLE_EQ(phrase.freq(), want[phrase.doc()]) << "round " << round;
			got_docs.push_back(phrase.doc());
		}
		std::vector<DocId> want_docs;
		for (DocId doc = 0; doc < d.words.size(); doc++)
			if (want[doc] > 0)
				want_docs.push_back(doc);
		ASSERT_EQ(got_docs, want_docs) << "round " << round << " slop " << slop;
		// Random access, in any order (probes rewind).
		std::shuffle(random_docs.begin(), random_docs.end(), rng);
		for (DocId doc : random_docs)
			ASSERT_EQ(phrase.Contains(doc), want[doc] > 0) << "round " << round << " doc " << doc;
		ASSERT_FALSE(phrase.failed());
	}
}
