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

} // namespace

// At the opening quote: the group's text, up to the closing quote (or the
// end), plus what follows the closing quote up to the next whitespace.
std::string_view
ClauseReader::ReadGroup()
{
	const std::size_t start = ++pos_;
	const std::size_t close = input_.find('"', start);
	if (close == std::string_view::npos)
	{
		pos_ = input_.size();
		return input_.substr(start);
	}
	pos_ = close + 1;
	while (pos_ < input_.size() && !IsQuerySpace(input_[pos_]))
		pos_++;
	// A closing quote that ends the token is not part of the text.
	const std::size_t end = pos_ == close + 1 ? close : pos_;
	return input_.substr(start, end - start);
}

std::string_view
ClauseReader::ReadWord()
{
	const std::size_t start = pos_;
	while (pos_ < input_.size() && !IsQuerySpace(input_[pos_]))
		pos_++;
	return input_.substr(start, pos_ - start);
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
		const bool group = pos_ < input_.size() && input_[pos_] == '"';
		std::string_view text = group ? ReadGroup() : ReadWord();
		if (OnlySpace(text))
			continue; // a lone operator, or an empty group
		out = Clause{occur, text};
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
	std::string_view text = clause.text;
	const char first = text.empty() ? '\0' : text.front();
	const bool reads_as_operator = clause.occur == Occur::kShould && (first == '+' || first == '-');
	if (!HasSpace(text) && first != '"' && !reads_as_operator)
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
