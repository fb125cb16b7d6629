#include "fts/inverter.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

using namespace quarry::fts;
using quarry::mem::BuildArena;

TEST(Inverter, InvertsRandomDocumentsExactly)
{
	BuildArena arena;
	std::mt19937 rng(3);
	std::vector<std::string> vocabulary;
	for (int i = 0; i < 3000; i++)
		vocabulary.push_back("t" + std::to_string(i * 7919 % 100003) + std::string(i % 5, 'x'));
	std::map<std::string, std::vector<std::pair<DocId, uint32_t>>> expected;
	std::vector<uint32_t> lengths;
	{
		Inverter inv(arena);
		for (DocId d = 0; d < 20000; d++)
		{
			std::map<std::string, uint32_t> doc;
			int n = rng() % 30;
			for (int k = 0; k < n; k++)
				doc[vocabulary[std::min<uint32_t>(rng() % 3000, rng() % 3000)]] += 1 + (rng() % 100 == 0 ? 300 : 0);
			std::vector<TermFreq> terms;
			uint32_t len = 0;
			for (auto &[t, tf] : doc)
			{
				terms.push_back({t, tf});
				expected[t].emplace_back(d, tf);
				len += tf;
			}
			ASSERT_EQ(inv.AddDocument(terms, len, 1000 + d), d);
			lengths.push_back(len);
		}
		EXPECT_EQ(inv.doc_count(), 20000u);
		EXPECT_EQ(inv.term_count(), expected.size());
		EXPECT_EQ(inv.row_ids()[17], 1017u);
		EXPECT_EQ(std::vector<uint32_t>(inv.lengths().begin(), inv.lengths().end()), lengths);

		auto sorted = inv.SortedTerms();
		ASSERT_EQ(sorted.size(), expected.size());
		auto it = expected.begin();
		std::vector<DocId> docs;
		std::vector<uint32_t> tfs;
		for (uint32_t term : sorted)
		{
			ASSERT_EQ(inv.TermText(term), it->first); // byte order, as std::map orders strings
			ASSERT_EQ(inv.DocFreq(term), it->second.size());
			docs.resize(inv.DocFreq(term));
			tfs.resize(inv.DocFreq(term));
			inv.Postings(term, docs, tfs);
			ASSERT_EQ(docs.size(), it->second.size());
			for (std::size_t i = 0; i < docs.size(); i++)
			{
				ASSERT_EQ(docs[i], it->second[i].first);
				ASSERT_EQ(tfs[i], it->second[i].second);
			}
			++it;
		}
		EXPECT_GT(inv.memory_bytes(), 0u);
		EXPECT_LE(inv.memory_bytes(), arena.bytes_allocated() + 4096);
	}
	EXPECT_EQ(arena.bytes_allocated(), 0u) << "the inverter's arrays went back to the arena";
}

TEST(Inverter, RareTermsCostLittle)
{
	BuildArena arena;
	Inverter inv(arena);
	std::vector<std::string> words;
	for (int i = 0; i < 100000; i++)
		words.push_back("w" + std::to_string(i));
	for (int i = 0; i < 100000; i++)
	{
		TermFreq tf{words[i], 1};
		inv.AddDocument({&tf, 1}, 1, i);
	}
	// 100k distinct terms of one posting each: a 56-byte record (in a vector
	// that grows by doubling), a 16-byte slice, the text and a table slot.
	EXPECT_LT(inv.memory_bytes(), 100000u * 160);
}

// With positions: every document's positions of every term read back in
// order, including the clamped 16383 repeated; and an inverter without
// positions stores none (the same postings as before).
TEST(Inverter, KeepsPositionsWhenAsked)
{
	BuildArena arena;
	std::mt19937 rng(5);
	std::map<std::string, std::vector<std::vector<uint32_t>>> expected; // term -> per doc
	Inverter inv(arena, Inverter::kDefaultSlabBytes, true);
	ASSERT_TRUE(inv.with_positions());
	for (DocId d = 0; d < 3000; d++)
	{
		const uint32_t words = 1 + rng() % 120;
		std::map<std::string, std::vector<uint32_t>> doc;
		for (uint32_t w = 1; w <= words; w++)
		{
			const uint32_t position = d % 97 == 0 ? std::min<uint32_t>(16380 + w, 16383) : w;
			doc["w" + std::to_string(std::min<uint32_t>(rng() % 400, rng() % 400))].push_back(position);
		}
		std::vector<TermFreq> terms;
		for (auto &[t, ps] : doc)
		{
			terms.push_back({t, static_cast<uint32_t>(ps.size()), ps});
			expected[t].push_back(ps);
		}
		inv.AddDocument(terms, words, d);
	}
	for (uint32_t term : inv.SortedTerms())
	{
		const auto &want = expected.at(std::string(inv.TermText(term)));
		std::vector<DocId> docs(inv.DocFreq(term));
		std::vector<uint32_t> tfs(inv.DocFreq(term));
		std::size_t total = 0;
		for (const auto &ps : want)
			total += ps.size();
		std::vector<uint32_t> positions(total);
		inv.Postings(term, docs, tfs, positions);
		std::size_t at = 0;
		for (std::size_t i = 0; i < want.size(); i++)
		{
			ASSERT_EQ(tfs[i], want[i].size());
			for (uint32_t p : want[i])
				ASSERT_EQ(positions[at++], p) << inv.TermText(term) << " doc " << docs[i];
		}
		// Without a positions buffer the postings still decode.
		std::vector<uint32_t> tfs_again(inv.DocFreq(term));
		inv.Postings(term, docs, tfs_again);
		ASSERT_EQ(tfs_again, tfs);
	}
}
