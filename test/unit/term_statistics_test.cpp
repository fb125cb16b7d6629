// BM25 statistics carried with a query (src/fts/term_statistics.h): parsing the
// text form, every rejection, lookups by term bytes (compared unsigned), and
// sums of several indexes' statistics checked against a std::map reference.
#include "fts/term_statistics.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using namespace quarry::fts;
using namespace std::string_literals;

namespace {

constexpr uint64_t kMax = 9223372036854775807ull; // 2^63 - 1

TermStatistics
MustParse(std::string_view text)
{
	TermStatistics stats;
	const char *error = nullptr;
	EXPECT_TRUE(TermStatistics::Parse(text, &stats, &error)) << "[" << text << "]: " << (error ? error : "");
	return stats;
}

// The error Parse gives `text` ("" when it accepts it).
std::string
ParseError(std::string_view text)
{
	TermStatistics stats;
	const char *error = nullptr;
	if (TermStatistics::Parse(text, &stats, &error))
		return "";
	return error == nullptr ? "(no message)" : error;
}

std::optional<uint64_t>
FindDf(const TermStatistics &stats, std::string_view term)
{
	uint64_t df = 12345;
	if (!stats.Find(term, &df))
	{
		EXPECT_EQ(df, 12345u) << "a miss wrote the df";
		return std::nullopt;
	}
	return df;
}

// The reference: terms as unsigned bytes, so that the order is the bytes'
// whatever char's signedness or std::string's comparison.
using Bytes = std::vector<unsigned char>;
using RefTerms = std::map<Bytes, uint64_t>;

struct RefStats {
	uint64_t n = 0;
	uint64_t len = 0;
	std::vector<uint64_t> fields; // empty, or 2..8 lengths
	RefTerms terms;
};

std::string
RefHex(const Bytes &bytes)
{
	std::string out;
	for (unsigned char c : bytes)
	{
		out += "0123456789abcdef"[c / 16];
		out += "0123456789abcdef"[c % 16];
	}
	return out;
}

std::string
RefFormat(const RefStats &s)
{
	std::string out = "n=" + std::to_string(s.n) + " len=" + std::to_string(s.len);
	for (std::size_t f = 0; f < s.fields.size(); f++)
		out += (f == 0 ? " fields=" : ",") + std::to_string(s.fields[f]);
	out += " df=";
	const char *sep = "";
	for (const auto &[term, df] : s.terms)
	{
		out += sep + RefHex(term) + ":" + std::to_string(df);
		sep = ",";
	}
	return out;
}

std::string
AsString(const Bytes &bytes)
{
	return std::string(bytes.begin(), bytes.end());
}

} // namespace

// --- parsing ---------------------------------------------------------------

TEST(TermStatistics, ParsesTotalsWithoutFields)
{
	TermStatistics s = MustParse("n=3 len=17 df=6361:2,646f67:1");
	EXPECT_EQ(s.doc_count, 3u);
	EXPECT_EQ(s.total_length, 17u);
	EXPECT_EQ(s.field_count, 1u);
	for (uint32_t f = 0; f < kMaxStatisticsFields; f++)
		EXPECT_EQ(s.field_length[f], 0u);
	EXPECT_EQ(s.terms, "6361:2,646f67:1");
}

TEST(TermStatistics, ParsesFieldLengths)
{
	TermStatistics s = MustParse("n=4 len=30 fields=10,20 df=61:4");
	EXPECT_EQ(s.doc_count, 4u);
	EXPECT_EQ(s.total_length, 30u);
	ASSERT_EQ(s.field_count, 2u);
	EXPECT_EQ(s.field_length[0], 10u);
	EXPECT_EQ(s.field_length[1], 20u);
	EXPECT_EQ(s.terms, "61:4");

	s = MustParse("n=1 len=36 fields=1,2,3,4,5,6,7,8 df=");
	ASSERT_EQ(s.field_count, 8u);
	for (uint32_t f = 0; f < 8; f++)
		EXPECT_EQ(s.field_length[f], f + 1);
	EXPECT_EQ(s.terms, "");

	s = MustParse("n=0 len=0 fields=0,0,0 df=");
	EXPECT_EQ(s.field_count, 3u);
}

TEST(TermStatistics, ParsesAnEmptyTermList)
{
	TermStatistics s = MustParse("n=0 len=0 df=");
	EXPECT_EQ(s.doc_count, 0u);
	EXPECT_EQ(s.total_length, 0u);
	EXPECT_EQ(s.field_count, 1u);
	EXPECT_TRUE(s.terms.empty());
	EXPECT_EQ(FindDf(s, "a"), std::nullopt);
	EXPECT_EQ(FindDf(s, ""), std::nullopt);
}

TEST(TermStatistics, ParsesASingleTerm)
{
	TermStatistics s = MustParse("n=10 len=100 df=77686174:7");
	EXPECT_EQ(FindDf(s, "what"), 7u);
	EXPECT_EQ(FindDf(s, "wha"), std::nullopt);
	EXPECT_EQ(FindDf(s, "whatever"), std::nullopt);
	EXPECT_EQ(FindDf(s, "a"), std::nullopt);
	EXPECT_EQ(FindDf(s, "z"), std::nullopt);
}

TEST(TermStatistics, ParsesTheLargestNumbersAndZeros)
{
	const std::string max = std::to_string(kMax);
	const std::string text = "n=" + max + " len=" + max + " fields=" + max + "," + max + " df=00:" + max + ",01:0";
	TermStatistics s = MustParse(text); // s.terms views into text
	EXPECT_EQ(s.doc_count, kMax);
	EXPECT_EQ(s.total_length, kMax);
	EXPECT_EQ(s.field_length[0], kMax);
	EXPECT_EQ(s.field_length[1], kMax);
	EXPECT_EQ(FindDf(s, "\x00"s), kMax);
	EXPECT_EQ(FindDf(s, "\x01"s), 0u);
}

TEST(TermStatistics, TermsAreOrderedAsUnsignedBytes)
{
	// 0x00 < 0x01 < 0x7f < 0x80 < 0xff, and a prefix before what extends it.
	TermStatistics s = MustParse("n=1 len=1 df=00:1,0000:2,01:3,7f:4,7fff:5,80:6,8000:7,c3a9:8,ff:9,ffff:10");
	EXPECT_EQ(FindDf(s, "\x00"s), 1u);
	EXPECT_EQ(FindDf(s, "\x00\x00"s), 2u);
	EXPECT_EQ(FindDf(s, "\x01"), 3u);
	EXPECT_EQ(FindDf(s, "\x7f"), 4u);
	EXPECT_EQ(FindDf(s, "\x7f\xff"), 5u);
	EXPECT_EQ(FindDf(s, "\x80"), 6u);
	EXPECT_EQ(FindDf(s, "\x80\x00"s), 7u);
	EXPECT_EQ(FindDf(s, "\xc3\xa9"), 8u); // é
	EXPECT_EQ(FindDf(s, "\xff"), 9u);
	EXPECT_EQ(FindDf(s, "\xff\xff"), 10u);
	EXPECT_EQ(FindDf(s, "\x00\x00\x00"s), std::nullopt);
	EXPECT_EQ(FindDf(s, "\x00\x01"s), std::nullopt);
	EXPECT_EQ(FindDf(s, "\x80\x01"), std::nullopt);
	EXPECT_EQ(FindDf(s, "\xc3"), std::nullopt);
	EXPECT_EQ(FindDf(s, "\xff\xff\xff"), std::nullopt);

	// The same bytes in signed-char order are not ascending.
	EXPECT_EQ(ParseError("n=1 len=1 df=80:1,7f:1"), "terms are not in strictly ascending order");
	EXPECT_EQ(ParseError("n=1 len=1 df=ff:1,00:1"), "terms are not in strictly ascending order");
	EXPECT_EQ(ParseError("n=1 len=1 df=0000:1,00:1"), "terms are not in strictly ascending order");
	EXPECT_EQ(ParseError("n=1 len=1 df=8000:1,7fff:1"), "terms are not in strictly ascending order");
}

// --- lookups ---------------------------------------------------------------

TEST(TermStatistics, FindHitsAndMisses)
{
	// ab, abc, abd, b, ba
	TermStatistics s = MustParse("n=9 len=90 df=6162:5,616263:4,616264:3,62:2,6261:1");
	EXPECT_EQ(FindDf(s, "ab"), 5u);
	EXPECT_EQ(FindDf(s, "abc"), 4u);
	EXPECT_EQ(FindDf(s, "abd"), 3u);
	EXPECT_EQ(FindDf(s, "b"), 2u);
	EXPECT_EQ(FindDf(s, "ba"), 1u);

	EXPECT_EQ(FindDf(s, ""), std::nullopt);
	EXPECT_EQ(FindDf(s, "a"), std::nullopt);	// before the first, a prefix of it
	EXPECT_EQ(FindDf(s, "aa"), std::nullopt);	// before the first
	EXPECT_EQ(FindDf(s, "abb"), std::nullopt);	// between ab and abc
	EXPECT_EQ(FindDf(s, "abcd"), std::nullopt); // extends abc
	EXPECT_EQ(FindDf(s, "abe"), std::nullopt);	// between abd and b
	EXPECT_EQ(FindDf(s, "ac"), std::nullopt);	// between abd and b
	EXPECT_EQ(FindDf(s, "b\x00"s), std::nullopt); // between b and ba
	EXPECT_EQ(FindDf(s, "baa"), std::nullopt);	// after the last, extends it
	EXPECT_EQ(FindDf(s, "bb"), std::nullopt);	// after the last
	EXPECT_EQ(FindDf(s, "\xff"), std::nullopt); // after the last, high byte
}

TEST(TermStatistics, FindInAnIndexOfFields)
{
	TermStatistics s = MustParse("n=2 len=8 fields=3,5 df=0177:1,0277:2");
	EXPECT_EQ(FindDf(s, "\x01w"), 1u);
	EXPECT_EQ(FindDf(s, "\x02w"), 2u);
	EXPECT_EQ(FindDf(s, "w"), std::nullopt);
	EXPECT_EQ(FindDf(s, "\x03w"), std::nullopt);
}

// --- rejections ------------------------------------------------------------

TEST(TermStatistics, RejectsMissingParts)
{
	for (std::string_view text : {"", "n", "n=", "n=1", "n=1 ", "n=1 len", "n=1 len=", "n=1 len=2", "n=1 len=2 ",
								  "n=1 len=2 df", "len=2 n=1 df=", "df= n=1 len=2", "n=1 df=", "len=2 df=",
								  "n=1 len=2 fields= df=", "n=1 len=2 fields=1, df=", "n=1 len=2 fields=,1,2 df=",
								  "n=1 len=2 fields=1,,2 df=", "n=1  len=2 df=", "n=1 len=2  df=", " n=1 len=2 df=",
								  "N=1 len=2 df=", "n=1 LEN=2 df=", "n=1 len=2 DF=",
								  "n=1 len=2 fields=1,2 fields=1,2 df=",
								  "n=1 len=2 df=:1", "n=1 len=2 df=61", "n=1 len=2 df=61:", "n=1 len=2 df=61:,62:1",
								  "n=-1 len=2 df=", "n=+1 len=2 df=", "n= 1 len=2 df=", "n=1 len=2 df=61:-1",
								  "n=1.5 len=2 df="})
		EXPECT_NE(ParseError(text), "") << "[" << text << "]";
	EXPECT_EQ(ParseError(""), "it does not start with n=<rows>");
	EXPECT_EQ(ParseError("n=1"), "len=<total length> does not follow n=");
	EXPECT_EQ(ParseError("n=1 len=2"), "df= does not follow the totals");
	EXPECT_EQ(ParseError("n=1 len=2 df=61"), "a term's document frequency is missing or not a number");
	EXPECT_EQ(ParseError("n=1 len=2 fields= df="), "a field length is not a number");
}

TEST(TermStatistics, RejectsLeadingZeros)
{
	for (std::string_view text : {"n=01 len=2 df=", "n=00 len=2 df=", "n=1 len=02 df=", "n=1 len=000 df=",
								  "n=1 len=2 fields=01,2 df=", "n=1 len=2 fields=1,00 df=", "n=1 len=2 df=61:01",
								  "n=1 len=2 df=61:00", "n=1 len=2 df=61:1,62:007"})
		EXPECT_NE(ParseError(text), "") << "[" << text << "]";
	// A lone zero is a number.
	EXPECT_EQ(ParseError("n=0 len=0 fields=0,0 df=61:0"), "");
	EXPECT_EQ(ParseError("n=10 len=100 fields=10,90 df=61:10"), "");
}

TEST(TermStatistics, RejectsNumbersAbove2To63Minus1)
{
	const std::string max = "9223372036854775807";
	for (const std::string &big : {"9223372036854775808"s, "9223372036854775809"s, "9223372036854775810"s,
								   "18446744073709551615"s, "18446744073709551616"s, "99999999999999999999"s,
								   "92233720368547758070"s, "100000000000000000000000000000"s})
	{
		for (const std::string &text :
			 {"n=" + big + " len=1 df=", "n=1 len=" + big + " df=", "n=1 len=1 fields=" + big + ",1 df=",
			  "n=1 len=1 fields=1," + big + " df=", "n=1 len=1 df=61:" + big, "n=1 len=1 df=61:1,62:" + big})
			EXPECT_NE(ParseError(text), "") << "[" << text << "]";
	}
	EXPECT_EQ(ParseError("n=" + max + " len=" + max + " fields=" + max + "," + max + " df=61:" + max), "");
}

TEST(TermStatistics, RejectsMalformedHex)
{
	for (std::string_view text : {"n=1 len=2 df=a:1", "n=1 len=2 df=abc:1", "n=1 len=2 df=61:1,abc:1",
								  "n=1 len=2 df=AB:1", "n=1 len=2 df=aB:1", "n=1 len=2 df=Ab:1",
								  "n=1 len=2 df=61:1,6A:1", "n=1 len=2 df=gg:1", "n=1 len=2 df=0x61:1",
								  "n=1 len=2 df=6 1:1", "n=1 len=2 df=-61:1"})
		EXPECT_NE(ParseError(text), "") << "[" << text << "]";
	EXPECT_EQ(ParseError("n=1 len=2 df=abc:1"), "a term is not lowercase hexadecimal of whole bytes");
	EXPECT_EQ(ParseError("n=1 len=2 df=ab:1"), "");
}

TEST(TermStatistics, RejectsUnsortedOrDuplicateTerms)
{
	for (std::string_view text : {"n=1 len=2 df=62:1,61:1", "n=1 len=2 df=61:1,61:2", "n=1 len=2 df=61:1,61:1",
								  "n=1 len=2 df=6162:1,61:1", "n=1 len=2 df=61:1,63:1,62:1",
								  "n=1 len=2 df=61:1,62:1,62:1", "n=1 len=2 df=616263:1,6162:1"})
		EXPECT_EQ(ParseError(text), "terms are not in strictly ascending order") << "[" << text << "]";
	EXPECT_EQ(ParseError("n=1 len=2 df=61:1,6161:1,62:1"), "");
}

TEST(TermStatistics, RejectsOneOrNineFieldLengths)
{
	EXPECT_EQ(ParseError("n=1 len=2 fields=2 df="), "fewer than 2 field lengths");
	EXPECT_EQ(ParseError("n=1 len=2 fields=0 df="), "fewer than 2 field lengths");
	EXPECT_EQ(ParseError("n=1 len=9 fields=1,1,1,1,1,1,1,1,1 df="), "more than 8 field lengths");
	EXPECT_EQ(ParseError("n=1 len=9 fields=1,1,1,1,1,1,1,1,1,1,1 df="), "more than 8 field lengths");
	EXPECT_EQ(ParseError("n=1 len=8 fields=1,1,1,1,1,1,1,1 df="), "");
	EXPECT_EQ(ParseError("n=1 len=2 fields=1,1 df="), "");
}

TEST(TermStatistics, RejectsTrailingGarbageAndCommas)
{
	for (const std::string &text :
		 {"n=1 len=2 df= "s, "n=1 len=2 df=x"s, "n=1 len=2 df=\n"s, "n=1 len=2 df=61:1 "s, "n=1 len=2 df=61:1x"s,
		  "n=1 len=2 df=61:1\n"s, "n=1 len=2 df=61:1;62:1"s, "n=1 len=2 df=61:1 62:1"s, "n=1 len=2 df=61:1,"s,
		  "n=1 len=2 df=61:1,62:1,"s, "n=1 len=2 df=,"s, "n=1 len=2 df=,61:1"s, "n=1 len=2 df=61:1,,62:1"s,
		  "n=1 len=2 df=61:1:2"s, "n=1 len=2 df=61:1\0"s, "n=1 len=2 df=\0"s, "n=1 len=2 extra df="s,
		  "n=1x len=2 df="s, "n=1 len=2x df="s, "n=1 len=2 fields=1,2x df="s, "n=1 len=2 fields=1,2, df="s,
		  "n=1 len=2 fields=1,2,"s})
		EXPECT_NE(ParseError(text), "") << "[" << text << "]";
	EXPECT_EQ(ParseError("n=1 len=2 df=61:1,"), "a term is not lowercase hexadecimal of whole bytes");
	EXPECT_EQ(ParseError("n=1 len=2 df=61:1 "), "terms are not separated by commas");
}

TEST(TermStatistics, RejectsEveryCutOfAValidText)
{
	const std::string text = "n=12 len=345 fields=300,45 df=00:1,61:12,6162:3,ff00:4";
	ASSERT_EQ(ParseError(text), "");
	for (std::size_t cut = 0; cut < text.size(); cut++)
	{
		const std::string prefix = text.substr(0, cut);
		// Cut at a digit boundary the rest may still be valid (a shorter number
		// or term list); otherwise it must be an error, never a partial read.
		TermStatistics s;
		const char *error = nullptr;
		if (TermStatistics::Parse(prefix, &s, &error))
		{
			EXPECT_TRUE(prefix.ends_with("df=") || (prefix.back() >= '0' && prefix.back() <= '9'))
				<< "[" << prefix << "]";
			EXPECT_TRUE(prefix.find(" df=") != std::string::npos) << "[" << prefix << "]";
		}
	}
}

// --- sums ------------------------------------------------------------------

TEST(TermStatistics, SumOfSeveralIndexes)
{
	StatisticsSum sum;
	const char *error = nullptr;
	for (std::string_view text : {"n=3 len=30 df=61:1,62:2,80:3", "n=0 len=0 df=", "n=5 len=7 df=00:4,62:5,ff:6",
								  "n=2 len=1 df=6161:7,80:1"})
		ASSERT_TRUE(sum.Add(MustParse(text), &error)) << error;
	EXPECT_EQ(sum.Format(), "n=10 len=38 df=00:4,61:1,6161:7,62:7,80:4,ff:6");
	EXPECT_EQ(ParseError(sum.Format()), "");
}

TEST(TermStatistics, SumOfIndexesOfFields)
{
	StatisticsSum sum;
	const char *error = nullptr;
	ASSERT_TRUE(sum.Add(MustParse("n=2 len=10 fields=4,6,0 df=0161:2,0261:1"), &error)) << error;
	ASSERT_TRUE(sum.Add(MustParse("n=3 len=15 fields=5,9,1 df=0161:1,0361:3"), &error)) << error;
	EXPECT_EQ(sum.Format(), "n=5 len=25 fields=9,15,1 df=0161:3,0261:1,0361:3");
}

TEST(TermStatistics, SumWithTheCallersOwnTerms)
{
	StatisticsSum sum;
	const char *error = nullptr;
	const uint64_t fields[] = {1, 2};
	ASSERT_TRUE(sum.AddTotals(4, 3, 2, fields, &error)) << error;
	ASSERT_TRUE(sum.AddTerm("b", 2, &error)) << error;
	ASSERT_TRUE(sum.AddTerm("\xe9", 1, &error)) << error;
	ASSERT_TRUE(sum.AddTerm("b", 1, &error)) << error;
	ASSERT_TRUE(sum.Add(MustParse("n=1 len=1 fields=0,1 df=61:1,62:1"), &error)) << error;
	EXPECT_EQ(sum.Format(), "n=5 len=4 fields=1,3 df=61:1,62:4,e9:1");
}

TEST(TermStatistics, EmptySum)
{
	StatisticsSum sum;
	EXPECT_EQ(sum.Format(), "n=0 len=0 df=");
	EXPECT_EQ(ParseError(sum.Format()), "");
}

TEST(TermStatistics, SumRejectsAnotherFieldCount)
{
	const char *error = nullptr;
	{
		StatisticsSum sum;
		ASSERT_TRUE(sum.Add(MustParse("n=1 len=1 df=61:1"), &error));
		error = nullptr;
		EXPECT_FALSE(sum.Add(MustParse("n=1 len=1 fields=0,1 df=61:1"), &error));
		EXPECT_STREQ(error, "the indexes have different numbers of fields");
	}
	{
		StatisticsSum sum;
		ASSERT_TRUE(sum.Add(MustParse("n=1 len=1 fields=0,1 df=61:1"), &error));
		error = nullptr;
		EXPECT_FALSE(sum.Add(MustParse("n=1 len=1 fields=0,1,0 df=61:1"), &error));
		EXPECT_STREQ(error, "the indexes have different numbers of fields");
		error = nullptr;
		EXPECT_FALSE(sum.Add(MustParse("n=1 len=1 df=61:1"), &error));
		EXPECT_STREQ(error, "the indexes have different numbers of fields");
	}
	{
		// An empty index (n=0) of another field count is no exception.
		StatisticsSum sum;
		ASSERT_TRUE(sum.Add(MustParse("n=0 len=0 fields=0,0 df="), &error));
		error = nullptr;
		EXPECT_FALSE(sum.Add(MustParse("n=0 len=0 df="), &error));
		EXPECT_STREQ(error, "the indexes have different numbers of fields");
	}
	{
		StatisticsSum sum;
		const uint64_t fields[9] = {};
		EXPECT_FALSE(sum.AddTotals(1, 1, 0, fields, &error));
		EXPECT_FALSE(sum.AddTotals(1, 1, 9, fields, &error));
		EXPECT_STREQ(error, "bad number of fields");
	}
}

TEST(TermStatistics, SumRejectsOverflow)
{
	const std::string max = std::to_string(kMax);
	const std::string max1 = std::to_string(kMax - 1);
	struct Case {
		std::string a, b;
		bool overflows;
	};
	const Case cases[] = {
		{"n=" + max + " len=0 df=", "n=1 len=0 df=", true},
		{"n=" + max1 + " len=0 df=", "n=1 len=0 df=", false},
		{"n=" + max + " len=0 df=", "n=0 len=0 df=", false},
		{"n=0 len=" + max + " df=", "n=0 len=1 df=", true},
		{"n=0 len=0 fields=" + max + ",0 df=", "n=0 len=0 fields=1,0 df=", true},
		{"n=0 len=0 fields=0," + max + " df=", "n=0 len=0 fields=0,1 df=", true},
		{"n=0 len=0 fields=0," + max1 + " df=", "n=0 len=0 fields=0,1 df=", false},
		{"n=0 len=0 df=61:" + max, "n=0 len=0 df=61:1", true},
		{"n=0 len=0 df=61:" + max, "n=0 len=0 df=62:1", false},
		{"n=0 len=0 df=61:" + max1, "n=0 len=0 df=61:1", false},
		{"n=0 len=0 df=61:1,62:" + max, "n=0 len=0 df=61:1,62:" + max, true},
	};
	for (const Case &c : cases)
	{
		StatisticsSum sum;
		const char *error = nullptr;
		ASSERT_TRUE(sum.Add(MustParse(c.a), &error)) << c.a;
		const bool ok = sum.Add(MustParse(c.b), &error);
		EXPECT_EQ(ok, !c.overflows) << c.a << " + " << c.b;
		if (c.overflows)
			EXPECT_TRUE(std::string_view(error) == "a sum of statistics overflows" ||
						std::string_view(error) == "a sum of document frequencies overflows")
				<< error;
		else
			EXPECT_EQ(ParseError(sum.Format()), "") << sum.Format();
	}
	StatisticsSum sum;
	const char *error = nullptr;
	ASSERT_TRUE(sum.AddTerm("x", kMax, &error));
	EXPECT_FALSE(sum.AddTerm("x", 1, &error));
	EXPECT_STREQ(error, "a sum of document frequencies overflows");
}

TEST(TermStatistics, RandomRoundTripsAgainstAReference)
{
	std::mt19937_64 rng(20260311);
	auto below = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
	// A small alphabet with the signed/unsigned boundary, 0x00 and 0xff, so that
	// shards share terms and terms are prefixes of one another.
	const unsigned char alphabet[] = {0x00, 0x01, 0x61, 0x62, 0x7f, 0x80, 0x81, 0xfe, 0xff};
	auto random_term = [&]() {
		Bytes term(1 + below(4));
		for (unsigned char &c : term)
			c = below(4) == 0 ? static_cast<unsigned char>(rng()) : alphabet[below(sizeof alphabet)];
		return term;
	};
	auto random_number = [&]() -> uint64_t {
		switch (below(4))
		{
			case 0:
				return below(10);
			case 1:
				return below(1000000);
			case 2:
				return rng() >> 1 >> below(63);
			default:
				return below(kMax / 16);
		}
	};

	int compared = 0, overflowed = 0;
	for (int round = 0; round < 300; round++)
	{
		const std::size_t shards = 1 + below(5);
		const std::size_t field_count = below(3) == 0 ? 1 : 2 + below(7);
		RefStats total;
		total.fields.assign(field_count == 1 ? 0 : field_count, 0);
		StatisticsSum sum, sum_by_terms;
		const char *error = nullptr;
		bool overflow = false;
		for (std::size_t i = 0; i < shards; i++)
		{
			RefStats shard;
			shard.n = random_number();
			shard.len = random_number();
			for (std::size_t f = 0; f < total.fields.size(); f++)
				shard.fields.push_back(random_number());
			const std::size_t terms = below(3) == 0 ? below(3) : below(60);
			for (std::size_t t = 0; t < terms; t++)
				shard.terms[random_term()] = random_number();

			const std::string text = RefFormat(shard);
			TermStatistics parsed;
			ASSERT_TRUE(TermStatistics::Parse(text, &parsed, &error)) << text << ": " << error;
			EXPECT_EQ(parsed.doc_count, shard.n);
			EXPECT_EQ(parsed.total_length, shard.len);
			EXPECT_EQ(parsed.field_count, field_count);
			for (std::size_t f = 0; f < shard.fields.size(); f++)
				EXPECT_EQ(parsed.field_length[f], shard.fields[f]);
			for (const auto &[term, df] : shard.terms)
				EXPECT_EQ(FindDf(parsed, AsString(term)), df) << text << " term " << RefHex(term);
			for (int probe = 0; probe < 40; probe++)
			{
				const Bytes term = random_term();
				const auto it = shard.terms.find(term);
				const std::optional<uint64_t> want =
					it == shard.terms.end() ? std::nullopt : std::optional<uint64_t>(it->second);
				EXPECT_EQ(FindDf(parsed, AsString(term)), want) << text << " probe " << RefHex(term);
			}

			// The reference sum, with overflow as the text form defines it.
			auto add = [&](uint64_t &to, uint64_t v) {
				if (v > kMax - to)
					overflow = true;
				else
					to += v;
			};
			add(total.n, shard.n);
			add(total.len, shard.len);
			for (std::size_t f = 0; f < shard.fields.size(); f++)
				add(total.fields[f], shard.fields[f]);
			for (const auto &[term, df] : shard.terms)
				add(total.terms[term], df);

			const bool added = sum.Add(parsed, &error);
			// The same through the writer's calls.
			bool added_by_terms = sum_by_terms.AddTotals(shard.n, shard.len, static_cast<uint32_t>(field_count),
														 shard.fields.data(), &error);
			for (const auto &[term, df] : shard.terms)
				added_by_terms = added_by_terms && sum_by_terms.AddTerm(AsString(term), df, &error);
			if (overflow)
			{
				EXPECT_FALSE(added);
				EXPECT_FALSE(added_by_terms);
				break;
			}
			ASSERT_TRUE(added) << error;
			ASSERT_TRUE(added_by_terms) << error;
		}
		if (overflow)
		{
			overflowed++;
			continue;
		}
		compared++;
		const std::string want = RefFormat(total);
		ASSERT_EQ(sum.Format(), want);
		ASSERT_EQ(sum_by_terms.Format(), want);
		// Parse(Format()) reads back the same statistics, and a sum of that one
		// text formats to it again.
		TermStatistics again;
		ASSERT_TRUE(TermStatistics::Parse(want, &again, &error)) << want << ": " << error;
		StatisticsSum resum;
		ASSERT_TRUE(resum.Add(again, &error)) << error;
		EXPECT_EQ(resum.Format(), want);
		for (const auto &[term, df] : total.terms)
			EXPECT_EQ(FindDf(again, AsString(term)), df);
	}
	// The seed reaches both outcomes.
	EXPECT_GT(compared, 200);
	EXPECT_GT(overflowed, 0);
}
