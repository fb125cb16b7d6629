#include "fts/term_expansion.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

using namespace quarry::fts;

namespace {

std::vector<uint32_t>
Chars(std::string_view s)
{
	return std::vector<uint32_t>(s.begin(), s.end());
}

// The textbook optimal-string-alignment distance, whole matrix.
uint32_t
ReferenceDistance(const std::vector<uint32_t> &a, const std::vector<uint32_t> &b)
{
	const std::size_t n = a.size(), m = b.size();
	std::vector<std::vector<uint32_t>> d(n + 1, std::vector<uint32_t>(m + 1));
	for (std::size_t i = 0; i <= n; i++)
		d[i][0] = static_cast<uint32_t>(i);
	for (std::size_t j = 0; j <= m; j++)
		d[0][j] = static_cast<uint32_t>(j);
	for (std::size_t i = 1; i <= n; i++)
		for (std::size_t j = 1; j <= m; j++)
		{
			uint32_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
		}
	return d[n][m];
}

uint32_t
Distance(std::string_view a, std::string_view b, uint32_t max)
{
	std::vector<uint32_t> scratch(3 * (b.size() + 1));
	return BoundedEditDistance(Chars(a), Chars(b), max, scratch);
}

} // namespace

TEST(TermExpansion, EditDistanceExamples)
{
	EXPECT_EQ(Distance("colour", "color", 2), 1u);
	EXPECT_EQ(Distance("replication", "replicaiton", 2), 1u); // a transposition is one edit
	EXPECT_EQ(Distance("ca", "abc", 2), 3u);				  // OSA: 3 (true Damerau-Levenshtein: 2)
	EXPECT_EQ(Distance("kitten", "sitting", 2), 3u);		  // 3 > 2: reported as max + 1
	EXPECT_EQ(Distance("kitten", "sitting", 3), 3u);
	EXPECT_EQ(Distance("", "ab", 2), 2u);
	EXPECT_EQ(Distance("abc", "abc", 0), 0u);
	EXPECT_EQ(Distance("abcdef", "a", 2), 3u); // length gap alone exceeds the bound
}

// The bounded distance equals the textbook one when that is within the bound,
// and is max + 1 otherwise, on random short strings over a small alphabet.
TEST(TermExpansion, EditDistanceMatchesTheFullMatrix)
{
	std::mt19937 rng(11);
	for (int round = 0; round < 200000; round++)
	{
		std::string a(rng() % 8, 'a'), b(rng() % 8, 'a');
		for (char &c : a)
			c = static_cast<char>('a' + rng() % 3);
		for (char &c : b)
			c = static_cast<char>('a' + rng() % 3);
		const uint32_t max = rng() % 4;
		const uint32_t want = ReferenceDistance(Chars(a), Chars(b));
		ASSERT_EQ(Distance(a, b, max), std::min(want, max + 1)) << a << " / " << b << " max " << max;
	}
}

TEST(TermExpansion, FuzzyBoostIsLucenes)
{
	EXPECT_DOUBLE_EQ(FuzzyBoost(0, 5, 5), 1.0);
	EXPECT_DOUBLE_EQ(FuzzyBoost(1, 6, 5), 0.8);	 // 1 - 1/min(6, 5)
	EXPECT_DOUBLE_EQ(FuzzyBoost(2, 4, 8), 0.5);
	EXPECT_LE(FuzzyBoost(2, 2, 4), 0.0); // as many edits as characters: rejected
}

TEST(TermExpansion, SelectionMergesAndOrders)
{
	std::vector<ExpansionCandidate> c = {
		{"colour", 3, 1, 0.8}, {"color", 10, 0, 1.0}, {"colour", 4, 1, 0.8}, {"collar", 50, 2, 0.6},
		{"cooler", 50, 2, 0.6}, {"colors", 1, 1, 0.8},
	};
	std::size_t kept = SelectExpansions(c, ExpansionOrder::kByEdits, 4);
	ASSERT_EQ(kept, 4u);
	EXPECT_EQ(c[0].text, "color");
	EXPECT_EQ(c[1].text, "colour"); // 1 edit, 3 + 4 = 7 documents ...
	EXPECT_EQ(c[1].doc_freq, 7u);
	EXPECT_EQ(c[2].text, "colors"); // ... before 1 edit, 1 document
	EXPECT_EQ(c[3].text, "collar"); // 2 edits: the tie on documents goes to byte order
	EXPECT_EQ(BlendedDocFreq({c.data(), kept}), 50u);

	std::vector<ExpansionCandidate> p = {{"replica", 2, 0, 1}, {"replic", 9, 0, 1}, {"replay", 9, 0, 1},
										 {"replica", 2, 0, 1}};
	kept = SelectExpansions(p, ExpansionOrder::kByFrequency, 10);
	ASSERT_EQ(kept, 3u);
	EXPECT_EQ(p[0].text, "replay");
	EXPECT_EQ(p[1].text, "replic");
	EXPECT_EQ(p[2].text, "replica");
	EXPECT_EQ(p[2].doc_freq, 4u);
	EXPECT_EQ(SelectExpansions(std::span<ExpansionCandidate>(), ExpansionOrder::kByEdits, 50), 0u);
}
