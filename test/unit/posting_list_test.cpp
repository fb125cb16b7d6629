#include "fts/posting_list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

using namespace quarry::fts;

namespace {

struct List {
	std::vector<DocId> docs;
	std::vector<uint32_t> tfs;
	std::vector<uint32_t> lens;
	std::vector<uint8_t> bytes;
	ImpactSummary impacts;

	void
	Encode()
	{
		bytes.assign(EncodedPostingListSize(docs, tfs), 0xCC);
		impacts = EncodePostingList(docs, tfs, lens, bytes);
	}
};

List
RandomList(std::mt19937 &rng, std::size_t n, uint32_t max_gap, uint32_t max_tf)
{
	List l;
	DocId d = rng() % 5;
	for (std::size_t i = 0; i < n; i++)
	{
		l.docs.push_back(d);
		l.tfs.push_back(1 + rng() % max_tf);
		l.lens.push_back(l.tfs.back() + rng() % 200);
		d += 1 + rng() % max_gap;
	}
	l.Encode();
	return l;
}

} // namespace

TEST(PostingList, HeaderAndSkipLayout)
{
	std::mt19937 rng(1);
	List l = RandomList(rng, 300, 10, 4);
	PostingListHeader h;
	std::memcpy(&h, l.bytes.data(), sizeof h);
	EXPECT_EQ(h.doc_count, 300u);
	EXPECT_EQ(h.block_count, 3u);
	SkipEntry e[3];
	std::memcpy(e, l.bytes.data() + sizeof h, sizeof e);
	EXPECT_EQ(e[0].count, 128);
	EXPECT_EQ(e[2].count, 300 - 256);
	EXPECT_EQ(e[0].last_doc, l.docs[127]);
	EXPECT_EQ(e[2].last_doc, l.docs.back());
	EXPECT_EQ(e[0].payload_offset, 0u);
	// The impacts of block 1 include its largest tf and its smallest length
	// (the frontier's two ends), and dominate every document of the block.
	uint16_t max_tf = *std::max_element(l.tfs.begin() + 128, l.tfs.begin() + 256);
	uint16_t min_len = *std::min_element(l.lens.begin() + 128, l.lens.begin() + 256);
	ASSERT_GE(e[1].impact_count, 1);
	ASSERT_LE(e[1].impact_count, kBlockImpacts);
	EXPECT_EQ(e[1].impact_tf[0], max_tf);
	EXPECT_EQ(e[1].impact_doc_len[e[1].impact_count - 1], min_len);
	for (std::size_t d = 128; d < 256; d++)
	{
		bool dominated = false;
		for (int i = 0; i < e[1].impact_count; i++)
			dominated |= e[1].impact_tf[i] >= l.tfs[d] && e[1].impact_doc_len[i] <= l.lens[d];
		EXPECT_TRUE(dominated) << d;
	}
}

TEST(PostingList, CursorWalksEveryDocAndTf)
{
	std::mt19937 rng(2);
	for (std::size_t n : {1u, 5u, 127u, 128u, 129u, 1000u, 5000u})
	{
		List l = RandomList(rng, n, 1 + rng() % 1000, 1 + rng() % 50);
		MemoryPostingBytes bytes(l.bytes.data(), l.bytes.size());
		PostingCursor c;
		ASSERT_TRUE(c.Open(&bytes));
		EXPECT_EQ(c.doc_count(), n);
		for (std::size_t i = 0; i < n; i++)
		{
			ASSERT_EQ(c.doc(), l.docs[i]) << i;
			ASSERT_EQ(c.Tf(), l.tfs[i]) << i;
			c.Next();
		}
		EXPECT_EQ(c.doc(), kEndDoc);
		EXPECT_FALSE(c.failed());
	}
}

TEST(PostingList, NextGeqMatchesLowerBound)
{
	std::mt19937 rng(3);
	List l = RandomList(rng, 3000, 40, 9);
	for (int trial = 0; trial < 200; trial++)
	{
		MemoryPostingBytes bytes(l.bytes.data(), l.bytes.size());
		PostingCursor c;
		ASSERT_TRUE(c.Open(&bytes));
		DocId target = 0;
		while (true)
		{
			target += rng() % 500;
			c.NextGeq(target);
			auto it = std::lower_bound(l.docs.begin(), l.docs.end(), target);
			if (it == l.docs.end())
			{
				ASSERT_EQ(c.doc(), kEndDoc);
				break;
			}
			ASSERT_EQ(c.doc(), *it);
			ASSERT_EQ(c.Tf(), l.tfs[it - l.docs.begin()]);
			target = c.doc();
		}
	}
}

TEST(PostingList, ShallowSeekGivesTheBlockOfTheTarget)
{
	std::mt19937 rng(4);
	List l = RandomList(rng, 2000, 30, 20);
	MemoryPostingBytes bytes(l.bytes.data(), l.bytes.size());
	PostingCursor c;
	ASSERT_TRUE(c.Open(&bytes));
	for (DocId target = 0; target < l.docs.back() + 100; target += 1 + rng() % 97)
	{
		c.ShallowSeek(target);
		auto it = std::lower_bound(l.docs.begin(), l.docs.end(), target);
		if (it == l.docs.end())
		{
			EXPECT_EQ(c.ShallowLastDoc(), kEndDoc);
			continue;
		}
		std::size_t block = (it - l.docs.begin()) / kBlockSize;
		std::size_t last = std::min(l.docs.size(), (block + 1) * kBlockSize) - 1;
		EXPECT_EQ(c.ShallowLastDoc(), l.docs[last]);
		// The block bound covers every document of the block and is no looser
		// than the (max tf, min length) bound.
		TermScorer scorer(Bm25Params{}, CollectionStats{100000, 100000 * 80}, 300, 1);
		uint32_t max_tf = 0, min_len = ~0u;
		double best = 0;
		for (std::size_t i = block * kBlockSize; i <= last; i++)
		{
			max_tf = std::max(max_tf, l.tfs[i]);
			min_len = std::min(min_len, l.lens[i]);
			best = std::max(best, scorer.Score(l.tfs[i], l.lens[i]));
		}
		EXPECT_GE(c.ShallowBound(scorer), best);
		EXPECT_LE(c.ShallowBound(scorer), scorer.Bound(max_tf, min_len));
		// The forward position did not move.
		EXPECT_EQ(c.doc(), l.docs[0]);
	}
}

TEST(PostingList, ContainsIsRandomAccess)
{
	std::mt19937 rng(5);
	List l = RandomList(rng, 1000, 7, 3);
	MemoryPostingBytes bytes(l.bytes.data(), l.bytes.size());
	PostingCursor c;
	ASSERT_TRUE(c.Open(&bytes));
	for (DocId d = 0; d <= l.docs.back() + 3; d++)
		ASSERT_EQ(c.Contains(d), std::binary_search(l.docs.begin(), l.docs.end(), d)) << d;
	EXPECT_EQ(c.doc(), l.docs[0]);
}

TEST(PostingList, SaturatesLargeTfAndLengthSafely)
{
	List l;
	l.docs = {3, 9};
	l.tfs = {70000, 2};
	l.lens = {100000, 90000};
	l.Encode();
	SkipEntry e;
	std::memcpy(&e, l.bytes.data() + sizeof(PostingListHeader), sizeof e);
	EXPECT_EQ(e.impact_tf[0], kSaturated16); // means "65535 or more"
	for (int i = 0; i < e.impact_count; i++)
		EXPECT_EQ(e.impact_doc_len[i], kSaturated16); // a lower bound of the true lengths
	MemoryPostingBytes bytes(l.bytes.data(), l.bytes.size());
	PostingCursor c;
	ASSERT_TRUE(c.Open(&bytes));
	EXPECT_EQ(c.Tf(), 70000u); // the tf itself is exact
	// The bound covers the real score.
	TermScorer scorer(Bm25Params{}, CollectionStats{10, 1000}, 2, 1);
	c.ShallowSeek(0);
	EXPECT_GE(c.ShallowBound(scorer), scorer.Score(70000, 100000));
	EXPECT_GE(l.impacts.Bound(scorer), scorer.Score(70000, 100000));
}

TEST(PostingList, ImpactSummaryDominatesEveryBlock)
{
	std::mt19937 rng(6);
	for (int trial = 0; trial < 50; trial++)
	{
		List l = RandomList(rng, 128 * (1 + rng() % 40), 3, 1 + rng() % 30);
		ASSERT_LE(l.impacts.count, kMaxImpacts);
		for (double k1 : {0.0, 0.9, 1.2, 3.0})
		{
			for (double b : {0.0, 0.4, 0.75, 1.0})
			{
				TermScorer scorer(Bm25Params{k1, b}, CollectionStats{100000, 100000 * (50 + rng() % 100)}, 50, 1);
				double bound = l.impacts.Bound(scorer);
				for (std::size_t i = 0; i < l.docs.size(); i++)
					ASSERT_GE(bound, scorer.Score(l.tfs[i], l.lens[i]));
			}
		}
	}
}

TEST(PostingList, CorruptedBytesFailCleanly)
{
	std::mt19937 rng(7);
	List good = RandomList(rng, 700, 20, 5);
	// Truncations and random byte flips: the cursor may fail or read wrong ids,
	// but never reads outside the buffer (ASan) and always terminates.
	for (int trial = 0; trial < 300; trial++)
	{
		std::vector<uint8_t> bytes = good.bytes;
		if (trial % 2 == 0)
			bytes.resize(rng() % bytes.size());
		else
			for (int k = 0; k < 3; k++)
				bytes[rng() % bytes.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
		MemoryPostingBytes src(bytes.data(), bytes.size());
		PostingCursor c;
		c.Open(&src);
		std::size_t steps = 0;
		DocId prev = 0;
		bool first = true;
		while (c.doc() != kEndDoc && steps < 10000)
		{
			ASSERT_TRUE(first || c.doc() > prev) << "cursor went backwards";
			prev = c.doc();
			first = false;
			c.Tf();
			c.Next();
			steps++;
		}
		ASSERT_LT(steps, 10000u);
	}
}

// df counts rows VACUUM removed until their segment merges, so it can exceed
// N; the IDF must stay positive (a zero or negative term weight would drop the
// rows holding the term from rankings).
TEST(Bm25Score, TermScoresStayPositiveWhenDfExceedsDocCount)
{
	EXPECT_GT(Idf(100, 100), 0.0);
	EXPECT_EQ(Idf(100, 150), Idf(100, 100));
	EXPECT_GT(Idf(0, 3), 0.0);
	TermScorer scorer(Bm25Params{}, CollectionStats{100, 500}, 160, 1);
	EXPECT_GT(scorer.Score(1, 5), 0.0);
	EXPECT_GT(scorer.Score(3, 50), scorer.Score(1, 50));
}
