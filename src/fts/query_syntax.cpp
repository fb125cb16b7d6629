#include "fts/query_syntax.h"

#include <algorithm>

namespace quarry::fts {

namespace {

bool
OnlySpace(std::string_view text)
{
	return std::all_of(text.begin(), text.end(), IsQuerySpace);
}

bool
HasSpace(std::string_view text)
{
	return std::any_of(text.begin(), text.end(), IsQuerySpace);
}

bool
IsDigit(char c)
{
	return c >= '0' && c <= '9';
}

// Where a fuzzy suffix ('~' and digits) starts in `word`; npos if none.
std::size_t
FuzzySuffix(std::string_view word)
{
	std::size_t tilde = word.rfind('~');
	if (tilde == std::string_view::npos)
		return tilde;
	for (std::size_t i = tilde + 1; i < word.size(); i++)
		if (!IsDigit(word[i]))
			return std::string_view::npos;
	return tilde;
}

// Whether a words clause's text, written bare, would read as a prefix or
// fuzzy clause.
bool
ReadsAsExpansion(std::string_view text)
{
	return !text.empty() && (text.back() == '*' || FuzzySuffix(text) != std::string_view::npos);
}

// The length of the field name `s` starts with ('name:' followed by a
// non-whitespace byte: an ASCII letter or '_', then letters, digits or '_'),
// or 0 when it starts with none.
std::size_t
FieldPrefixLength(std::string_view s)
{
	auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
	auto digit = [](char c) { return c >= '0' && c <= '9'; };
	if (s.empty() || !letter(s[0]))
		return 0;
	std::size_t end = 1;
	while (end < s.size() && (letter(s[end]) || digit(s[end])))
		end++;
	return end + 1 < s.size() && s[end] == ':' && !IsQuerySpace(s[end + 1]) ? end : 0;
}

// Whether a text, written bare right after its operator, would start with a
// field prefix.
bool
ReadsAsField(std::string_view text)
{
	return FieldPrefixLength(text) != 0;
}

// The distance of a fuzzy suffix's digits (none: the default), saturating.
uint8_t
ParseDistance(std::string_view digits)
{
	if (digits.empty())
		return kDefaultFuzzyDistance;
	unsigned value = 0;
	for (char c : digits)
		value = std::min(255u, value * 10 + static_cast<unsigned>(c - '0'));
	return static_cast<uint8_t>(value);
}

} // namespace

// A word token (operator removed): a fuzzy, prefix or words clause.
Clause
ClauseReader::WordClause(Occur occur, std::string_view word)
{
	std::size_t tilde = FuzzySuffix(word);
	if (tilde != std::string_view::npos)
		return Clause{occur, word.substr(0, tilde), ClauseKind::kFuzzy, ParseDistance(word.substr(tilde + 1))};
	if (!word.empty() && word.back() == '*')
	{
		std::size_t end = word.find_last_not_of('*');
		return Clause{occur, word.substr(0, end == std::string_view::npos ? 0 : end + 1), ClauseKind::kPrefix, 0};
	}
	return Clause{occur, word, ClauseKind::kWords, 0};
}

// At the opening quote: a phrase (closed at the end of its token, or by a
// '~digits' suffix, or not closed), or else a words clause of the group's
// text and what follows the closing quote up to the next whitespace.
Clause
ClauseReader::ReadGroup(Occur occur)
{
	const std::size_t start = ++pos_;
	const std::size_t close = input_.find('"', start);
	if (close == std::string_view::npos)
	{
		pos_ = input_.size();
		return Clause{occur, input_.substr(start), ClauseKind::kPhrase, 0};
	}
	pos_ = close + 1;
	while (pos_ < input_.size() && !IsQuerySpace(input_[pos_]))
		pos_++;
	const std::string_view inside = input_.substr(start, close - start);
	if (pos_ == close + 1)
		return Clause{occur, inside, ClauseKind::kPhrase, 0};
	const std::string_view after = input_.substr(close + 1, pos_ - close - 1);
	if (after[0] == '~' && FuzzySuffix(after) == 0)
		return Clause{occur, inside, ClauseKind::kPhrase, ParseDistance(after.substr(1))};
	return Clause{occur, input_.substr(start, pos_ - start), ClauseKind::kWords, 0};
}

std::string_view
ClauseReader::ReadWord()
{
	const std::size_t start = pos_;
	while (pos_ < input_.size() && !IsQuerySpace(input_[pos_]))
		pos_++;
	return input_.substr(start, pos_ - start);
}

// A field prefix ('title:') at the current position: its name, and the
// position moved past the ':'; empty (position kept) if there is none.
std::string_view
ClauseReader::ReadField()
{
	const std::size_t length = FieldPrefixLength(input_.substr(pos_));
	if (length == 0)
		return {};
	const std::string_view name = input_.substr(pos_, length);
	pos_ += length + 1;
	return name;
}

bool
ClauseReader::Next(Clause &out)
{
	for (;;)
	{
		while (pos_ < input_.size() && IsQuerySpace(input_[pos_]))
			pos_++;
		if (pos_ == input_.size())
			return false;
		Occur occur = Occur::kShould;
		if (input_[pos_] == '+' || input_[pos_] == '-')
			occur = input_[pos_++] == '+' ? Occur::kMust : Occur::kMustNot;
		const std::string_view field = ReadField();
		const bool group = pos_ < input_.size() && input_[pos_] == '"';
		Clause clause = group ? ReadGroup(occur) : WordClause(occur, ReadWord());
		clause.field = field;
		if ((clause.kind == ClauseKind::kWords || clause.kind == ClauseKind::kPhrase) && OnlySpace(clause.text))
			continue; // a lone operator, or an empty group
		out = clause;
		return true;
	}
}

void
AppendCanonical(const Clause &clause, std::string &out)
{
	if (clause.occur == Occur::kMust)
		out += '+';
	else if (clause.occur == Occur::kMustNot)
		out += '-';
	if (!clause.field.empty())
	{
		out += clause.field;
		out += ':';
	}
	std::string_view text = clause.text;
	if (clause.kind == ClauseKind::kPhrase)
	{
		out += '"';
		out += text;
		out += '"';
		if (clause.distance > 0)
			out += '~' + std::to_string(clause.distance);
		return;
	}
	if (clause.kind != ClauseKind::kWords)
	{
		// A word token's text: no whitespace, no leading quote; a leading
		// operator byte can only follow an operator.
		out += text;
		if (clause.kind == ClauseKind::kPrefix)
			out += '*';
		else
			out += '~' + std::to_string(clause.distance);
		return;
	}
	const char first = text.empty() ? '\0' : text.front();
	const bool reads_as_operator =
		clause.field.empty() && clause.occur == Occur::kShould && (first == '+' || first == '-');
	if (!HasSpace(text) && first != '"' && !reads_as_operator && !ReadsAsExpansion(text) &&
		(!clause.field.empty() || !ReadsAsField(text)))
	{
		out += text;
		return;
	}
	out += '"';
	out += text;
	// A text holding a quote already holds its group's closing quote.
	if (text.find('"') == std::string_view::npos)
		out += '"';
}

} // namespace quarry::fts
