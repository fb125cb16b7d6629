// The query syntax parser (src/fts/query_syntax.h) on arbitrary bytes. Besides
// running clean under ASan + UBSan, every parse must satisfy:
//   - determinism: a second parse gives the same clauses;
//   - every clause's text is a view into the input, after the previous one;
//     a words clause's is never empty nor only whitespace, a prefix or fuzzy
//     clause's never holds whitespace;
//   - a prefix clause's text is followed by '*'s, a fuzzy clause's by '~' and
//     digits that give its distance;
//   - the occurrence is what the byte before the text (or before its group's
//     opening quote) says: '+', '-', or whitespace / the start of the input;
//   - nothing is lost: every byte outside the clauses' texts and suffixes is
//     whitespace, '+', '-', '"', or the '~digits' of a dropped empty phrase;
//   - the canonical form reads back as the same clauses, and is a fixed point.
#include "fts/query_syntax.h"
#include "fuzz_input.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

using namespace quarry;
using fts::Clause;
using fts::Occur;

namespace {

std::vector<Clause>
Parse(std::string_view input)
{
	std::vector<Clause> out;
	fts::ClauseReader reader(input);
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
		fts::AppendCanonical(c, out);
	}
	return out;
}

bool
Special(char c)
{
	return fts::IsQuerySpace(c) || c == '+' || c == '-' || c == '"';
}

// Whether the byte at i is part of a field prefix ('name:') that a dropped
// empty group follows ('title:""', 'title:"' at the end): the name starts a
// token (after whitespace or an operator) and ':"' ends it.
bool
InDroppedFieldPrefix(std::string_view input, std::size_t i)
{
	auto name_byte = [](char ch) {
		return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || (ch >= '0' && ch <= '9');
	};
	std::size_t start = i;
	if (input[i] == ':')
	{
		if (i == 0)
			return false;
		start = i - 1;
	}
	else if (!name_byte(input[i]))
		return false;
	while (start > 0 && name_byte(input[start - 1]))
		start--;
	if (start > 0 && !Special(input[start - 1]))
		return false;
	if (!((input[start] >= 'a' && input[start] <= 'z') || (input[start] >= 'A' && input[start] <= 'Z') ||
		  input[start] == '_'))
		return false;
	std::size_t end = start;
	while (end < input.size() && name_byte(input[end]))
		end++;
	return end + 1 < input.size() && input[end] == ':' && input[end + 1] == '"' && i <= end;
}

// Whether the byte at i may lie outside every clause: whitespace, an
// operator, a quote, or the '~digits' suffix of a dropped empty phrase ('""~2').
bool
Droppable(std::string_view input, std::size_t i)
{
	if (Special(input[i]) || InDroppedFieldPrefix(input, i))
		return true;
	const bool suffix_byte = input[i] == '~' || (input[i] >= '0' && input[i] <= '9');
	if (!suffix_byte || i == 0)
		return false;
	const char before = input[i - 1];
	return before == '"' ? input[i] == '~' : (before == '~' || (before >= '0' && before <= '9')) && input[i] != '~';
}

// The occurrence the bytes before a clause's text give it.
Occur
OccurBefore(std::string_view input, std::size_t pos)
{
	if (pos > 0 && input[pos - 1] == '"')
		pos--; // a group: the operator, if any, precedes its opening quote
	if (pos == 0 || fts::IsQuerySpace(input[pos - 1]))
		return Occur::kShould;
	const char op = input[pos - 1];
	if (op != '+' && op != '-')
		fuzz::Violated("a clause starts after a byte that is no separator, operator or quote");
	if (pos >= 2 && !fts::IsQuerySpace(input[pos - 2]))
		fuzz::Violated("an operator that does not start a token");
	return op == '+' ? Occur::kMust : Occur::kMustNot;
}

// Past the suffix of an expansion clause whose text ends at `at`.
std::size_t
SkipSuffix(std::string_view input, std::size_t at, const Clause &c)
{
	if (c.kind == fts::ClauseKind::kWords)
		return at;
	if (c.kind == fts::ClauseKind::kPhrase)
	{
		if (at == input.size())
		{
			if (c.distance != 0)
				fuzz::Violated("an unclosed phrase with a slop");
			return at;
		}
		if (input[at] != '"')
			fuzz::Violated("a phrase's text not followed by its closing quote");
		at++;
		if (at == input.size() || fts::IsQuerySpace(input[at]))
		{
			if (c.distance != 0)
				fuzz::Violated("a phrase without '~' has a slop");
			return at;
		}
	}
	if (c.kind == fts::ClauseKind::kPrefix)
	{
		if (at == input.size() || input[at] != '*')
			fuzz::Violated("a prefix clause without its '*'");
		while (at < input.size() && input[at] == '*')
			at++;
	}
	else
	{
		if (at == input.size() || input[at] != '~')
			fuzz::Violated("a fuzzy clause or sloppy phrase without its '~'");
		unsigned value = 0;
		bool digits = false;
		for (at++; at < input.size() && input[at] >= '0' && input[at] <= '9'; at++, digits = true)
			value = std::min(255u, value * 10 + static_cast<unsigned>(input[at] - '0'));
		if ((digits ? value : fts::kDefaultFuzzyDistance) != c.distance)
			fuzz::Violated("a fuzzy clause's distance or a phrase's slop is not its digits'");
	}
	if (at < input.size() && !fts::IsQuerySpace(input[at]))
		fuzz::Violated("an expansion's suffix does not end its token");
	return at;
}

// A clause's field prefix ('name:'): a view into the input, a name of an
// ASCII letter or '_' then letters, digits or '_', followed by ':' and the
// clause's text (or its group's quote). Returns where the prefix starts.
std::size_t
FieldStart(std::string_view input, std::size_t covered, std::size_t text_pos, const Clause &c)
{
	if (c.field.data() < input.data() + covered || c.field.data() + c.field.size() > input.data() + text_pos)
		fuzz::Violated("a clause's field is not a view into the input before its text");
	const std::size_t start = static_cast<std::size_t>(c.field.data() - input.data());
	auto letter = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_'; };
	auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
	if (!letter(c.field[0]))
		fuzz::Violated("a field name that does not start with a letter or '_'");
	for (char ch : c.field)
		if (!letter(ch) && !digit(ch))
			fuzz::Violated("a field name with a byte other than a letter, digit or '_'");
	std::size_t after = start + c.field.size();
	if (input[after] != ':')
		fuzz::Violated("a field name not followed by ':'");
	after++;
	if (after < text_pos && input[after] == '"')
		after++;
	if (after != text_pos)
		fuzz::Violated("a clause's text does not follow its field prefix");
	return start;
}

void
CheckClauses(std::string_view input, const std::vector<Clause> &clauses)
{
	std::size_t covered = 0; // bytes before this offset are checked
	for (const Clause &c : clauses)
	{
		if (c.text.data() < input.data() + covered || c.text.data() + c.text.size() > input.data() + input.size())
			fuzz::Violated("a clause's text is not a view into the input after the previous clause");
		bool blank = true, spaced = false;
		for (char ch : c.text)
		{
			blank = blank && fts::IsQuerySpace(ch);
			spaced = spaced || fts::IsQuerySpace(ch);
		}
		if (c.kind == fts::ClauseKind::kWords || c.kind == fts::ClauseKind::kPhrase ? blank : spaced)
			fuzz::Violated("an empty or blank words clause, or an expansion holding whitespace");
		const std::size_t pos = static_cast<std::size_t>(c.text.data() - input.data());
		const std::size_t start = c.field.empty() ? pos : FieldStart(input, covered, pos, c);
		if (OccurBefore(input, start) != c.occur)
			fuzz::Violated("the occurrence differs from the operator before the clause");
		for (std::size_t i = covered; i < start; i++)
			if (!Droppable(input, i))
				fuzz::Violated("a byte outside every clause is not whitespace, an operator or a quote");
		covered = pos + c.text.size();
		covered = SkipSuffix(input, covered, c);
	}
	for (std::size_t i = covered; i < input.size(); i++)
		if (!Droppable(input, i))
			fuzz::Violated("a byte after the last clause is not whitespace, an operator or a quote");
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size)
{
	// An exact copy, so that ASan sees any read past the input.
	std::vector<char> bytes(data, data + size);
	std::string_view input(bytes.data(), bytes.size());
	std::vector<Clause> clauses = Parse(input);
	if (Parse(input) != clauses)
		fuzz::Violated("parsing is not deterministic");
	CheckClauses(input, clauses);
	std::string canonical = Canonical(clauses);
	std::vector<Clause> again = Parse(canonical);
	if (again != clauses)
		fuzz::Violated("the canonical form reads back as other clauses");
	if (Canonical(again) != canonical)
		fuzz::Violated("the canonical form is not a fixed point");
	return 0;
}
