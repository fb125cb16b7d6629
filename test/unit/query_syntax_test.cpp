#include "fts/query_syntax.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using namespace quarry::fts;

namespace {

constexpr Occur S = Occur::kShould;
constexpr Occur M = Occur::kMust;
constexpr Occur N = Occur::kMustNot;

std::vector<Clause>
Parse(std::string_view input)
{
	std::vector<Clause> out;
	ClauseReader reader(input);
	Clause c;
	while (reader.Next(c))
		out.push_back(c);
	return out;
}

std::string
Canonical(const std::vector<Clause> &clauses)
{
	std::string out;
	for (const Clause &c : clauses)
	{
		if (!out.empty())
			out += ' ';
		AppendCanonical(c, out);
	}
	return out;
}

struct Expected {
	Occur occur;
	std::string text;
};

void
ExpectClauses(std::string_view input, const std::vector<Expected> &want)
{
	std::vector<Clause> got = Parse(input);
	ASSERT_EQ(got.size(), want.size()) << "input [" << input << "]";
	for (std::size_t i = 0; i < got.size(); i++)
	{
		EXPECT_EQ(got[i].occur, want[i].occur) << "input [" << input << "] clause " << i;
		EXPECT_EQ(got[i].text, want[i].text) << "input [" << input << "] clause " << i;
		// A view into the input.
		EXPECT_GE(got[i].text.data(), input.data());
		EXPECT_LE(got[i].text.data() + got[i].text.size(), input.data() + input.size());
	}
}

} // namespace

TEST(QuerySyntax, PlainWordsAreShouldClauses)
{
	ExpectClauses("griffith observatory", {{S, "griffith"}, {S, "observatory"}});
	ExpectClauses("  \t one\n\ntwo\r\v\fthree  ", {{S, "one"}, {S, "two"}, {S, "three"}});
	ExpectClauses("", {});
	ExpectClauses(" \t\n ", {});
}

TEST(QuerySyntax, Operators)
{
	ExpectClauses("+griffith +observatory", {{M, "griffith"}, {M, "observatory"}});
	ExpectClauses("+python -snake -monty", {{M, "python"}, {N, "snake"}, {N, "monty"}});
	ExpectClauses("jaguar -car +cat", {{S, "jaguar"}, {N, "car"}, {M, "cat"}});
}

TEST(QuerySyntax, OperatorsOnlyStartATokens)
{
	ExpectClauses("e-mail state-of-the-art c++", {{S, "e-mail"}, {S, "state-of-the-art"}, {S, "c++"}});
	ExpectClauses("a+b a-b", {{S, "a+b"}, {S, "a-b"}});
	ExpectClauses("-e-mail +c++", {{N, "e-mail"}, {M, "c++"}});
	// Only the first byte is the operator; the rest is the clause.
	ExpectClauses("++a --b +-c -+d", {{M, "+a"}, {N, "-b"}, {M, "-c"}, {N, "+d"}});
	ExpectClauses("-5 +3.14", {{N, "5"}, {M, "3.14"}});
}

TEST(QuerySyntax, LoneOperatorsAreDropped)
{
	ExpectClauses("+", {});
	ExpectClauses("-", {});
	ExpectClauses("+ - + -", {});
	ExpectClauses("a - b + c", {{S, "a"}, {S, "b"}, {S, "c"}});
	ExpectClauses("a -", {{S, "a"}});
	ExpectClauses("+\ta", {{S, "a"}});
}

TEST(QuerySyntax, QuotesGroupWords)
{
	ExpectClauses("+\"the who\" +uk", {{M, "the who"}, {M, "uk"}});
	ExpectClauses("-\"monty python\" snake", {{N, "monty python"}, {S, "snake"}});
	ExpectClauses("\"griffith observatory\"", {{S, "griffith observatory"}});
	// Inside a group nothing is an operator, whitespace included.
	ExpectClauses("+\"a -b +c\" d", {{M, "a -b +c"}, {S, "d"}});
	ExpectClauses("+\"\ta\n\"", {{M, "\ta\n"}});
}

TEST(QuerySyntax, QuotesInsideATokenAreOrdinary)
{
	ExpectClauses("don\"t 5\"", {{S, "don\"t"}, {S, "5\""}});
	ExpectClauses("+a\"b c\"", {{M, "a\"b"}, {S, "c\""}});
	ExpectClauses("++\"a b\"", {{M, "+\"a"}, {S, "b\""}});
}

TEST(QuerySyntax, AGroupRunsOnToTheNextWhitespace)
{
	ExpectClauses("\"a b\"c d", {{S, "a b\"c"}, {S, "d"}});
	ExpectClauses("+\"a b\"-c", {{M, "a b\"-c"}});
	ExpectClauses("\"a\"\"b\"", {{S, "a\"\"b\""}});
	ExpectClauses("\"\"x", {{S, "\"x"}});
	ExpectClauses("\"\"\"", {{S, "\"\""}});
}

TEST(QuerySyntax, UnclosedGroupsEndAtTheEnd)
{
	ExpectClauses("+\"a b", {{M, "a b"}});
	ExpectClauses("a -\"b c  ", {{S, "a"}, {N, "b c  "}});
	ExpectClauses("\"", {});
	ExpectClauses("+\"", {});
	ExpectClauses("x \"", {{S, "x"}});
}

TEST(QuerySyntax, EmptyClausesAreDropped)
{
	ExpectClauses("+\"\" -\"\" \"\"", {});
	ExpectClauses("+\"   \" a", {{S, "a"}});
	ExpectClauses("\"\" \"\t\"", {});
}

TEST(QuerySyntax, AnyOtherByteIsPartOfAWord)
{
	const char raw[] = "+a\x01" "b -\x00z \xff\xfe +\xc3\xa9t\xc3\xa9";
	std::string input(raw, sizeof raw - 1);
	ExpectClauses(input, {{M, "a\x01" "b"}, {N, std::string("\x00z", 2)}, {S, "\xff\xfe"}, {M, "\xc3\xa9t\xc3\xa9"}});
	// Non-ASCII whitespace (U+00A0, U+3000) is not a separator.
	ExpectClauses("+a\xc2\xa0" "b c\xe3\x80\x80" "d", {{M, "a\xc2\xa0" "b"}, {S, "c\xe3\x80\x80" "d"}});
}

TEST(QuerySyntax, HugeInputsParseInOnePass)
{
	std::string input;
	for (int i = 0; i < 200000; i++)
		input += i % 3 == 0 ? "+a " : (i % 3 == 1 ? "-\"b c\" " : "d ");
	std::vector<Clause> got = Parse(input);
	ASSERT_EQ(got.size(), 200000u);
	EXPECT_EQ(got[3], (Clause{M, "a"}));
	EXPECT_EQ(got[4].text, "b c");
	std::string unclosed(1 << 20, 'x');
	unclosed[0] = '"';
	unclosed[5] = ' ';
	ASSERT_EQ(Parse(unclosed).size(), 1u);
	EXPECT_EQ(Parse(unclosed)[0].text.size(), unclosed.size() - 1);
}

TEST(QuerySyntax, CanonicalForm)
{
	EXPECT_EQ(Canonical(Parse("  +a   -\"b  c\"  d ")), "+a -\"b  c\" d");
	EXPECT_EQ(Canonical(Parse("+\"a b")), "+\"a b\"");
	EXPECT_EQ(Canonical(Parse("\"single\"")), "\"single\"");
	EXPECT_EQ(Canonical(Parse("++a")), "++a");
	EXPECT_EQ(Canonical(Parse("\"\"x")), "\"\"x");
	EXPECT_EQ(Canonical(Parse("\"a b\"c")), "\"a b\"c");
	EXPECT_EQ(Canonical(Parse("\"+a\"")), "\"+a\"");
	EXPECT_EQ(Canonical(Parse("\"-a\" \"'x\"")), "\"-a\" \"'x\"");
}

// Random strings over the special bytes: the canonical form reads back as the
// same clauses, and is a fixed point.
TEST(QuerySyntax, CanonicalFormReadsBackOnRandomInputs)
{
	const char alphabet[] = {'+', '-', '"', ' ', '\t', 'a', 'b', '\0', '\x80', '*', '~', '1'};
	std::mt19937 rng(7);
	for (int round = 0; round < 20000; round++)
	{
		std::string input(rng() % 24, ' ');
		for (char &c : input)
			c = alphabet[rng() % sizeof alphabet];
		std::vector<Clause> clauses = Parse(input);
		for (const Clause &c : clauses)
		{
			ASSERT_TRUE(!c.text.empty() || c.kind != ClauseKind::kWords);
			ASSERT_GE(c.text.data(), input.data());
			ASSERT_LE(c.text.data() + c.text.size(), input.data() + input.size());
		}
		std::string canonical = Canonical(clauses);
		std::vector<Clause> again = Parse(canonical);
		ASSERT_EQ(again, clauses) << "input [" << input << "] canonical [" << canonical << "]";
		ASSERT_EQ(Canonical(again), canonical);
	}
}

namespace {

Clause
Expansion(Occur occur, std::string_view text, ClauseKind kind, uint8_t distance = 0)
{
	return Clause{occur, text, kind, distance};
}

} // namespace

TEST(QuerySyntax, PrefixClauses)
{
	const ClauseKind P = ClauseKind::kPrefix;
	EXPECT_EQ(Parse("replic* slot"), (std::vector<Clause>{Expansion(S, "replic", P), Clause{S, "slot"}}));
	EXPECT_EQ(Parse("+rep** -wal*"), (std::vector<Clause>{Expansion(M, "rep", P), Expansion(N, "wal", P)}));
	// Only a trailing '*' makes a prefix.
	EXPECT_EQ(Parse("a*b"), (std::vector<Clause>{Clause{S, "a*b"}}));
	// A lone '*' is kept, empty, for the caller to reject.
	EXPECT_EQ(Parse("* +**"), (std::vector<Clause>{Expansion(S, "", P), Expansion(M, "", P)}));
	// A group is never a prefix: "a*" is a phrase of the words of a*.
	EXPECT_EQ(Parse("\"a*\""), (std::vector<Clause>{Expansion(S, "a*", ClauseKind::kPhrase)}));
}

TEST(QuerySyntax, FuzzyClauses)
{
	const ClauseKind F = ClauseKind::kFuzzy;
	EXPECT_EQ(Parse("colour~1 +hapen~ -x~0"),
			  (std::vector<Clause>{Expansion(S, "colour", F, 1), Expansion(M, "hapen", F, 2), Expansion(N, "x", F, 0)}));
	// The digits saturate; the caller rejects distances above 2.
	EXPECT_EQ(Parse("a~7 b~99999"), (std::vector<Clause>{Expansion(S, "a", F, 7), Expansion(S, "b", F, 255)}));
	// Only '~' and digits at the end: 'a~b' and 'a~1x' are words.
	EXPECT_EQ(Parse("a~b a~1x"), (std::vector<Clause>{Clause{S, "a~b"}, Clause{S, "a~1x"}}));
	EXPECT_EQ(Parse("~1 a*~1 a~1*"),
			  (std::vector<Clause>{Expansion(S, "", F, 1), Expansion(S, "a*", F, 1),
								   Expansion(S, "a~1", ClauseKind::kPrefix)}));
}

TEST(QuerySyntax, CanonicalFormOfExpansions)
{
	EXPECT_EQ(Canonical(Parse("  replic**  +a~  -b~01 ")), "replic* +a~2 -b~1");
	EXPECT_EQ(Canonical(Parse("\"a*\" \"b~1\" \"c~\"")), "\"a*\" \"b~1\" \"c~\"");
	EXPECT_EQ(Canonical(Parse("\"a b\"~ +\"c d\"~03 \"e f\"~0 \"g h")), "\"a b\"~2 +\"c d\"~3 \"e f\" \"g h\"");
	EXPECT_EQ(Canonical(Parse("* ~")), "* ~2");
}

TEST(QuerySyntax, Phrases)
{
	const ClauseKind P = ClauseKind::kPhrase;
	EXPECT_EQ(Parse("\"new york\" +\"big apple\"~2 -\"york city\"~"),
			  (std::vector<Clause>{Expansion(S, "new york", P), Expansion(M, "big apple", P, 2),
								   Expansion(N, "york city", P, 2)}));
	// Unclosed: a phrase to the end; '"a b"c' and '"a b"~1x' stay words clauses.
	EXPECT_EQ(Parse("x \"a b"), (std::vector<Clause>{Clause{S, "x"}, Expansion(S, "a b", P)}));
	EXPECT_EQ(Parse("\"a b\"c \"a b\"~1x"),
			  (std::vector<Clause>{Clause{S, "a b\"c"}, Clause{S, "a b\"~1x"}}));
	EXPECT_EQ(Parse("\"a b\"~999"), (std::vector<Clause>{Expansion(S, "a b", P, 255)}));
}

TEST(QuerySyntax, FieldPrefixes)
{
	auto c = Parse("title:whale +body:\"white whale\"~1 -title:ship* note: x 12:30 _a1:b~1 http://x.org");
	ASSERT_EQ(c.size(), 8u);
	EXPECT_EQ(c[0].field, "title");
	EXPECT_EQ(c[0].text, "whale");
	EXPECT_EQ(c[0].kind, ClauseKind::kWords);
	EXPECT_EQ(c[1].field, "body");
	EXPECT_EQ(c[1].occur, M);
	EXPECT_EQ(c[1].kind, ClauseKind::kPhrase);
	EXPECT_EQ(c[1].text, "white whale");
	EXPECT_EQ(c[1].distance, 1);
	EXPECT_EQ(c[2].field, "title");
	EXPECT_EQ(c[2].occur, N);
	EXPECT_EQ(c[2].kind, ClauseKind::kPrefix);
	EXPECT_EQ(c[2].text, "ship");
	// 'note:' followed by whitespace is a word, so is '12:30' (a name starts
	// with a letter or '_').
	EXPECT_TRUE(c[3].field.empty());
	EXPECT_EQ(c[3].text, "note:");
	EXPECT_TRUE(c[4].field.empty());
	EXPECT_EQ(c[5].text, "12:30");
	EXPECT_TRUE(c[5].field.empty());
	EXPECT_EQ(c[6].field, "_a1");
	EXPECT_EQ(c[6].kind, ClauseKind::kFuzzy);
	EXPECT_EQ(c[7].field, "http");
	EXPECT_EQ(c[7].text, "//x.org");
}

TEST(QuerySyntax, FieldPrefixesReadBack)
{
	for (std::string_view q : {"title:whale", "+body:\"a b\"~2 -title:x*", "\"title:x\"", "a:b:c"})
	{
		auto clauses = Parse(q);
		EXPECT_EQ(Parse(Canonical(clauses)), clauses) << q;
	}
	// A words clause whose text would read as a field prefix is quoted.
	std::string out;
	AppendCanonical(Clause{S, "title:x", ClauseKind::kWords, 0}, out);
	EXPECT_NE(Parse(out)[0].field, "title");
}
