#include "fts/highlight.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

using namespace quarry::fts;
using quarry::mem::HeapBlockSource;
using quarry::mem::ScanArena;

namespace {

std::vector<std::string>
Words(std::string_view text)
{
	std::vector<std::string> out;
	WordSplitter splitter(text);
	WordSpan w;
	while (splitter.Next(w))
	{
		EXPECT_LT(w.start, w.end);
		EXPECT_LE(w.end, text.size());
		out.emplace_back(text.substr(w.start, w.end - w.start));
	}
	return out;
}

std::vector<Fragment>
Select(const std::vector<WordHit> &hits, uint32_t words, uint32_t fragment_words, std::size_t most,
	   uint32_t terms = 4)
{
	std::vector<uint32_t> counts(terms, 0);
	std::vector<Fragment> out(most);
	std::size_t n = SelectFragments(hits, words, fragment_words, FragmentScratch{counts.data(), terms}, out);
	out.resize(n);
	for (uint32_t c : counts)
		EXPECT_EQ(c, 0u) << "scratch not left zeroed";
	return out;
}

} // namespace

TEST(WordSplitter, AsciiPunctuationAndSpaces)
{
	EXPECT_EQ(Words("The whale-ship's 42 harpoons, x42!"),
			  (std::vector<std::string>{"The", "whale", "ship", "s", "42", "harpoons", "x42"}));
	EXPECT_EQ(Words(""), std::vector<std::string>{});
	EXPECT_EQ(Words("  ...  "), std::vector<std::string>{});
	EXPECT_EQ(Words("foo_bar"), (std::vector<std::string>{"foo", "bar"}));
}

TEST(WordSplitter, Utf8LettersAndPunctuation)
{
	// Letters of any script stay in words; dashes, quotes, NBSP, CJK and
	// fullwidth punctuation separate.
	EXPECT_EQ(Words("Größere café—bar “naïve” Ελληνικά\xC2\xA0γράμματα 日本語。テスト！ok"),
			  (std::vector<std::string>{"Größere", "café", "bar", "naïve", "Ελληνικά", "γράμματα", "日本語", "テスト",
										"ok"}));
}

TEST(WordSplitter, MalformedUtf8IsLetters)
{
	// A stray continuation byte, a truncated sequence: letters of their own,
	// never a read past the end.
	std::string text = "a\x80" "b \xE2\x80";
	EXPECT_EQ(Words(text), (std::vector<std::string>{"a\x80" "b", "\xE2\x80"}));
	EXPECT_EQ(Words("\xF0"), (std::vector<std::string>{"\xF0"}));
}

TEST(SelectFragments, NoHitGivesTheStart)
{
	auto f = Select({}, 100, 10, 3);
	ASSERT_EQ(f.size(), 1u);
	EXPECT_EQ(f[0].first_word, 0u);
	EXPECT_EQ(f[0].end_word, 10u);
	EXPECT_EQ(Select({}, 4, 10, 3)[0].end_word, 4u);
	EXPECT_TRUE(Select({}, 0, 10, 3).empty());
}

TEST(SelectFragments, PrefersDistinctTermsThenHits)
{
	// Term 0 three times near the start; terms 0 and 1 once each later.
	std::vector<WordHit> hits{{2, 0}, {3, 0}, {4, 0}, {50, 0}, {52, 1}};
	auto f = Select(hits, 100, 10, 1);
	ASSERT_EQ(f.size(), 1u);
	EXPECT_LE(f[0].first_word, 50u);
	EXPECT_GE(f[0].end_word, 53u);
	EXPECT_EQ(f[0].end_word - f[0].first_word, 10u);
	EXPECT_EQ(f[0].distinct_terms, 2u);
}

TEST(SelectFragments, SeveralFragmentsDoNotOverlapAndComeInTextOrder)
{
	std::vector<WordHit> hits{{5, 0}, {40, 1}, {41, 2}, {80, 0}, {81, 3}};
	auto f = Select(hits, 90, 10, 3);
	ASSERT_EQ(f.size(), 3u);
	for (std::size_t i = 0; i < f.size(); i++)
	{
		EXPECT_LE(f[i].end_word - f[i].first_word, 10u);
		EXPECT_LE(f[i].end_word, 90u);
		if (i > 0)
		{
			EXPECT_LE(f[i - 1].end_word, f[i].first_word);
		}
	}
	// Fewer windows with hits than asked for: only those.
	EXPECT_EQ(Select({{5, 0}}, 90, 10, 3).size(), 1u);
}

// Randomized: every fragment holds at least one hit, lies in the text, is at
// most fragment_words long, and none overlap.
TEST(SelectFragments, RandomizedInvariants)
{
	std::mt19937 rng(7);
	for (int round = 0; round < 2000; round++)
	{
		const uint32_t words = 1 + rng() % 300;
		const uint32_t fragment_words = 1 + rng() % 40;
		const std::size_t most = 1 + rng() % 5;
		std::vector<WordHit> hits;
		for (uint32_t w = 0; w < words; w++)
			if (rng() % 10 == 0)
				hits.push_back({w, static_cast<uint32_t>(rng() % 4)});
		auto f = Select(hits, words, fragment_words, most);
		ASSERT_LE(f.size(), most);
		for (std::size_t i = 0; i < f.size(); i++)
		{
			ASSERT_LT(f[i].first_word, f[i].end_word);
			ASSERT_LE(f[i].end_word, words);
			ASSERT_LE(f[i].end_word - f[i].first_word, fragment_words);
			if (i > 0)
			{
				ASSERT_LE(f[i - 1].end_word, f[i].first_word);
			}
			if (!hits.empty())
			{
				ASSERT_TRUE(std::any_of(hits.begin(), hits.end(), [&](const WordHit &h) {
					return h.word >= f[i].first_word && h.word < f[i].end_word;
				}));
			}
		}
	}
}

TEST(WordTermCache, FindsWhatWasInsertedAcrossGrowth)
{
	ScanArena arena(HeapBlockSource());
	WordTermCache cache;
	int32_t term;
	EXPECT_FALSE(cache.Find(1, "whale", term));
	for (int i = 0; i < 5000; i++)
		cache.Insert(static_cast<uint8_t>(i % 3), "w" + std::to_string(i), i, arena);
	EXPECT_EQ(cache.size(), 5000u);
	for (int i = 0; i < 5000; i++)
	{
		ASSERT_TRUE(cache.Find(static_cast<uint8_t>(i % 3), "w" + std::to_string(i), term));
		ASSERT_EQ(term, i);
		ASSERT_FALSE(cache.Find(static_cast<uint8_t>((i + 1) % 3), "w" + std::to_string(i), term));
	}
	cache.Insert(1, "", -1, arena);
	ASSERT_TRUE(cache.Find(1, "", term));
	EXPECT_EQ(term, -1);
	arena.Reset();
	cache.Clear();
	EXPECT_FALSE(cache.Find(0, "w0", term));
}
