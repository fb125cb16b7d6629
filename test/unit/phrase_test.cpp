#include "fts/phrase.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace quarry::fts;

namespace {

// A document as its words' positions (1-based), and a phrase over its words.
struct Doc {
	std::map<std::string, std::vector<uint32_t>> positions;
	std::vector<uint32_t> none;

	// Words separated by spaces; "a/b" puts two lexemes at one position.
	explicit Doc(const std::string &text)
	{
		std::istringstream words(text);
		std::string word;
		for (uint32_t p = 1; words >> word; p++)
		{
			std::istringstream alternatives(word);
			std::string lexeme;
			while (std::getline(alternatives, lexeme, '/'))
				positions[lexeme].push_back(p);
		}
	}

	// The phrase's terms: words with their offsets, term ids by word.
	std::vector<PhraseTerm>
	Phrase(const std::vector<std::pair<std::string, uint32_t>> &words) const
	{
		std::vector<PhraseTerm> terms;
		for (const auto &[word, offset] : words)
		{
			auto it = positions.find(word);
			const std::vector<uint32_t> &list = it == positions.end() ? none : it->second;
			terms.push_back({list, offset, static_cast<uint32_t>(std::hash<std::string>{}(word))});
		}
		return terms;
	}

	// "a b c": offsets 0, 1, 2.
	std::vector<PhraseTerm>
	Phrase(const std::string &text) const
	{
		std::vector<std::pair<std::string, uint32_t>> words;
		std::istringstream in(text);
		std::string word;
		for (uint32_t o = 0; in >> word; o++)
			words.push_back({word, o});
		return Phrase(words);
	}
};

// Exact phrase frequency by brute force: every anchor in a range wide enough.
uint32_t
BruteExact(const std::vector<PhraseTerm> &terms)
{
	uint32_t min_offset = terms[0].offset;
	for (const PhraseTerm &t : terms)
		min_offset = std::min(min_offset, t.offset);
	uint32_t count = 0;
	for (int64_t anchor = -200; anchor < 20000; anchor++)
	{
		bool all = true;
		for (const PhraseTerm &t : terms)
			all = all && std::binary_search(t.positions.begin(), t.positions.end(), anchor + t.offset - min_offset);
		count += all;
	}
	return count;
}

// Whether one occurrence per term exists, distinct occurrences for one lexeme
// (a (term, offset) pair given twice counted once), whose span of position
// minus offset is at most slop: the smallest such span, by brute force.
int64_t
BruteSmallestSpan(const std::vector<PhraseTerm> &all_terms)
{
	std::vector<PhraseTerm> terms;
	for (const PhraseTerm &t : all_terms)
		if (std::none_of(terms.begin(), terms.end(), [&](const PhraseTerm &u) {
				return u.term == t.term && u.offset == t.offset;
			}))
			terms.push_back(t);
	int64_t best = INT64_MAX;
	std::vector<std::size_t> pick(terms.size(), 0);
	for (;;)
	{
		bool distinct = true;
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		for (std::size_t i = 0; i < terms.size(); i++)
		{
			const int64_t p = terms[i].positions[pick[i]];
			for (std::size_t j = 0; j < i; j++)
				distinct = distinct && !(terms[j].term == terms[i].term && terms[j].positions[pick[j]] == p);
			lo = std::min(lo, p - terms[i].offset);
			hi = std::max(hi, p - terms[i].offset);
		}
		if (distinct)
			best = std::min(best, hi - lo);
		std::size_t i = 0;
		while (i < terms.size() && ++pick[i] == terms[i].positions.size())
			pick[i++] = 0;
		if (i == terms.size())
			return best;
	}
}

// A random document: each position holds a word of a small vocabulary, and
// sometimes a second lexeme.
Doc
RandomDoc(std::mt19937 &rng, uint32_t max_len, uint32_t vocabulary)
{
	std::string text;
	const uint32_t len = 1 + rng() % max_len;
	for (uint32_t p = 0; p < len; p++)
	{
		const char word = static_cast<char>('a' + rng() % vocabulary);
		const char second = static_cast<char>('a' + rng() % vocabulary);
		text += word;
		if (rng() % 7 == 0 && second != word) // a tsvector has no repeats below 16383
			text += std::string("/") + second;
		text += ' ';
	}
	return Doc(text);
}

// A random phrase of 2..4 words: offsets non-decreasing with holes and
// repeats, words repeating too.
std::vector<std::pair<std::string, uint32_t>>
RandomPhrase(std::mt19937 &rng, uint32_t vocabulary)
{
	std::vector<std::pair<std::string, uint32_t>> words;
	const uint32_t k = 2 + rng() % 3;
	uint32_t offset = rng() % 3;
	for (uint32_t i = 0; i < k; i++)
	{
		words.push_back({std::string(1, static_cast<char>('a' + rng() % vocabulary)), offset});
		const uint32_t r = rng() % 10;
		offset += r < 2 ? 0 : r < 8 ? 1 : 2 + rng() % 2;
	}
	return words;
}

// The terms, for a failure message.
std::string
Describe(const std::vector<PhraseTerm> &terms)
{
	std::string out;
	for (const PhraseTerm &t : terms)
	{
		out += "\n  term " + std::to_string(t.term % 1000) + " @" + std::to_string(t.offset) + ":";
		for (uint32_t p : t.positions)
			out += " " + std::to_string(p);
	}
	return out;
}

} // namespace

TEST(Phrase, ExactMatchesPostgresSemantics)
{
	Doc d("the cat sat in the hat and the cat in the hat sat");
	EXPECT_EQ(ExactPhraseFreq(d.Phrase("cat sat")), 1u);
	EXPECT_EQ(ExactPhraseFreq(d.Phrase("the cat")), 2u);
	EXPECT_EQ(ExactPhraseFreq(d.Phrase("sat cat")), 0u);
	// 'cat in the hat' with "in" and "the" stop words: 'cat' <3> 'hat'.
	EXPECT_EQ(ExactPhraseFreq(d.Phrase({{"cat", 0}, {"hat", 3}})), 1u);
	EXPECT_EQ(ExactPhraseFreq(d.Phrase({{"cat", 0}, {"hat", 4}})), 1u);
	EXPECT_EQ(ExactPhraseFreq(d.Phrase({{"cat", 0}, {"hat", 2}})), 0u);
	// Two lexemes at one position (offset given twice).
	Doc e("send an e-mail/mail now");
	EXPECT_EQ(ExactPhraseFreq(e.Phrase({{"an", 0}, {"e-mail", 1}, {"mail", 1}, {"now", 2}})), 1u);
	EXPECT_EQ(ExactPhraseFreq(e.Phrase({{"an", 0}, {"e-mail", 1}, {"send", 1}})), 0u);
	// A repeated word: "h h" in "h h h" starts twice.
	Doc h("h h h x h");
	EXPECT_EQ(ExactPhraseFreq(h.Phrase("h h")), 2u);
	EXPECT_EQ(ExactPhraseFreq(h.Phrase("h h h")), 1u);
	EXPECT_EQ(ExactPhraseFreq(h.Phrase("h x h")), 1u);
	// Offsets need not start at 0; a missing word matches nothing.
	EXPECT_EQ(ExactPhraseFreq(d.Phrase({{"cat", 7}, {"sat", 8}})), 1u);
	EXPECT_EQ(ExactPhraseFreq(d.Phrase("cat dog")), 0u);
	EXPECT_EQ(ExactPhraseFreq({}), 0u);
}

TEST(Phrase, ExactHandlesTheClampAt16383)
{
	// Past position 16383 every word is clamped there: lists repeat 16383.
	std::vector<uint32_t> a{16381, 16383, 16383, 16383}, b{16382, 16383, 16383};
	std::vector<PhraseTerm> same{{a, 0, 1}, {b, 0, 2}};
	EXPECT_EQ(ExactPhraseFreq(same), 1u); // one anchor, 16383, counted once
	std::vector<PhraseTerm> next{{a, 0, 1}, {b, 1, 2}};
	EXPECT_EQ(ExactPhraseFreq(next), 1u); // 16381 -> 16382
	EXPECT_EQ(ExactPhraseFreq(next), BruteExact(next));
}

TEST(Phrase, ExactAgreesWithBruteForce)
{
	std::mt19937 rng(5);
	for (int trial = 0; trial < 20000; trial++)
	{
		const uint32_t vocabulary = 2 + rng() % 4;
		Doc d = RandomDoc(rng, 40, vocabulary);
		std::vector<PhraseTerm> terms = d.Phrase(RandomPhrase(rng, vocabulary));
		bool empty = std::any_of(terms.begin(), terms.end(), [](const PhraseTerm &t) { return t.positions.empty(); });
		ASSERT_EQ(ExactPhraseFreq(terms), empty ? 0u : BruteExact(terms)) << "trial " << trial;
	}
}

TEST(Phrase, SloppyFindsAMatchExactlyWhenOneFitsTheSlop)
{
	std::mt19937 rng(8);
	for (int trial = 0; trial < 20000; trial++)
	{
		const uint32_t vocabulary = 2 + rng() % 3;
		Doc d = RandomDoc(rng, 14, vocabulary);
		std::vector<PhraseTerm> terms = d.Phrase(RandomPhrase(rng, vocabulary));
		if (std::any_of(terms.begin(), terms.end(), [](const PhraseTerm &t) { return t.positions.empty(); }))
			continue;
		const int64_t span = BruteSmallestSpan(terms);
		for (uint32_t slop : {0u, 1u, 2u, 3u, 5u, 8u})
		{
			const SloppyPhraseResult r = SloppyPhrase(terms, slop);
			ASSERT_EQ(r.matches > 0, span <= slop) << "trial " << trial << " slop " << slop << " span " << span
												   << Describe(terms);
			ASSERT_LE(r.freq, r.matches);
			if (slop == 0)
			{
				ASSERT_EQ(r.matches > 0, ExactPhraseFreq(terms) > 0) << "trial " << trial;
			}
		}
	}
}

TEST(Phrase, SloppyCountsAsLucene)
{
	// SloppyPhraseMatcher's comment: "a b"~2 in "x a b a y" matches twice,
	// "a b" (distance 0) and "b a" (distance 2).
	Doc d("x a b a y");
	SloppyPhraseResult r = SloppyPhrase(d.Phrase("a b"), 2);
	EXPECT_EQ(r.matches, 2u);
	EXPECT_DOUBLE_EQ(r.freq, 1.0 + 1.0 / 3.0);
	EXPECT_EQ(SloppyMatchCount(d.Phrase("a b"), 1), 1u);
	EXPECT_DOUBLE_EQ(SloppyFreq(d.Phrase("a b"), 0), 1.0);
	// Reversed order needs slop 2.
	Doc ba("b a");
	EXPECT_EQ(SloppyMatchCount(ba.Phrase("a b"), 1), 0u);
	EXPECT_DOUBLE_EQ(SloppyFreq(ba.Phrase("a b"), 2), 1.0 / 3.0);
	// One word in between: span 1.
	Doc gap("a x b");
	EXPECT_EQ(SloppyMatchCount(gap.Phrase("a b"), 0), 0u);
	EXPECT_DOUBLE_EQ(SloppyFreq(gap.Phrase("a b"), 1), 0.5);
}

TEST(Phrase, SloppyHitsOfLuceneTestSloppyPhraseQuery)
{
	const std::string s1 = "A A A", s2 = "A 1 2 3 A 4 5 6 A";
	Doc doc1("X " + s1 + " Y"), doc2("X " + s2 + " Y"), doc3("X " + s1 + " A Y");
	Doc doc4("A A X A X B A X B B A A X B A A");
	Doc doc5_3("H H H X X X H H H X X X H H H"), doc5_4("H H H H");
	for (uint32_t slop = 0; slop < 30; slop++)
	{
		EXPECT_EQ(SloppyMatchCount(doc4.Phrase("X A A"), slop) > 0, slop >= 1) << slop;
		EXPECT_GT(SloppyMatchCount(doc1.Phrase(s1), slop), 0u) << slop;
		EXPECT_EQ(SloppyMatchCount(doc2.Phrase(s1), slop) > 0, slop >= 6) << slop;
		EXPECT_GT(SloppyMatchCount(doc2.Phrase(s2), slop), 0u) << slop;
		EXPECT_GT(SloppyMatchCount(doc3.Phrase(s1), slop), 0u) << slop;
		// The same text twice scores higher (testDoc1_Query1 and the others).
		Doc doc1_b("X " + s1 + " Y N N N N " + s1 + " Z"), doc3_b("X " + s1 + " A Y N N N N " + s1 + " A Y");
		EXPECT_GT(SloppyFreq(doc1_b.Phrase(s1), slop), SloppyFreq(doc1.Phrase(s1), slop));
		EXPECT_GT(SloppyFreq(doc3_b.Phrase(s1), slop), SloppyFreq(doc3.Phrase(s1), slop));
	}
	for (uint32_t slop = 0; slop < 3; slop++) // LUCENE-3412
	{
		EXPECT_GT(SloppyMatchCount(doc5_4.Phrase("H H H H"), slop), 0u);
		EXPECT_EQ(SloppyMatchCount(doc5_3.Phrase("H H H H"), slop), 0u);
	}
	// testSlopWithHoles (LUCENE-3215): drug@1 drug@4.
	const std::vector<std::string> lyrics{
		"drug drug", "drug druggy drug", "drug druggy druggy drug", "drug druggy drug druggy drug"};
	const uint32_t hits_by_slop[] = {1, 3, 4};
	for (uint32_t slop = 0; slop < 3; slop++)
	{
		uint32_t hits = 0;
		for (const std::string &text : lyrics)
			hits += SloppyMatchCount(Doc(text).Phrase({{"drug", 1}, {"drug", 4}}), slop) > 0;
		EXPECT_EQ(hits, hits_by_slop[slop]) << slop;
	}
}

TEST(Phrase, LimitsAndDegenerateInput)
{
	Doc d("a b a b");
	EXPECT_EQ(SloppyMatchCount({}, 3), 0u);
	EXPECT_EQ(SloppyMatchCount(d.Phrase("a"), 0), 2u); // one term: its positions
	EXPECT_EQ(ExactPhraseFreq(d.Phrase("a")), 2u);
	EXPECT_EQ(SloppyMatchCount(d.Phrase("a c"), 9), 0u); // a missing word
	// A (term, offset) pair given twice is one constraint.
	EXPECT_EQ(SloppyMatchCount(d.Phrase({{"a", 0}, {"a", 0}, {"b", 1}}), 0),
			  SloppyMatchCount(d.Phrase({{"a", 0}, {"b", 1}}), 0));
	// 64 terms are allowed, 65 are not.
	std::vector<uint32_t> ones{1};
	std::vector<PhraseTerm> many(kMaxPhraseTerms, PhraseTerm{ones, 0, 1});
	for (uint32_t i = 0; i < many.size(); i++)
		many[i].term = i;
	EXPECT_EQ(ExactPhraseFreq(many), 1u);
	EXPECT_EQ(SloppyMatchCount(many, 0), 1u);
	many.push_back(many.back());
	EXPECT_EQ(ExactPhraseFreq(many), 0u);
	EXPECT_EQ(SloppyMatchCount(many, 0), 0u);
}
