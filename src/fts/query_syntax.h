// The query syntax of quarry_query_parse(): a query string split into clauses,
// each with an occurrence, in the style of Lucene's and Elasticsearch's
// simple query syntax.
//
//   words            SHOULD    the words score, as in a plain query
//   +word  +"w1 w2"  MUST      every lexeme of the clause occurs in the row
//   -word  -"w1 w2"  MUST_NOT  no lexeme of the clause occurs in the row
//
// Grammar (bytes; only the ASCII whitespace bytes space, \t, \n, \v, \f, \r
// separate tokens, and only '+', '-' and '"' are ever special):
//
//   query   = { ws } { clause { ws } }
//   clause  = [ "+" | "-" ] ( group | word )
//   word    = a run of non-whitespace bytes          (not starting with '"')
//   group   = '"' { any byte but '"' } ( '"' { non-whitespace byte } | end of input )
//
// - An operator is the first byte of a whitespace-separated token, and only
//   that: "e-mail", "state-of-the-art", "c++" are plain words; "++a" is a MUST
//   clause whose text is "+a".
// - A '"' opens a group only at the start of a token (after its operator, if
//   any); anywhere else it is an ordinary byte. A group runs across whitespace
//   to the next '"', then on to the next whitespace, like any token: '"a b"c'
//   is one clause with the words a, b, c. Inside a group nothing is an
//   operator. Quotes only group words: positions are not stored, so there are
//   no phrases.
//
// Recovery rules (every byte string is a query; nothing is an error):
//   - an unclosed group ends at the end of the input ('+"a b' is '+"a b"');
//   - a lone operator (followed by whitespace or the end) is dropped, so is a
//     clause whose text is empty or only whitespace ('+', '- a', '+""', '"  "');
//   - any other byte (control bytes, NUL, bytes >= 0x80, invalid UTF-8) is
//     part of a word; since every special byte is ASCII, a clause never splits
//     a multi-byte character.
// Parsing is linear in the input, allocates nothing and never recurses.
//
// A clause's text is a view into the input: the token without its operator
// and without the quotes of its group (a closing quote followed by more bytes
// stays in the text, where the text search parser takes it for a separator).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace quarry::fts {

enum class Occur : uint8_t {
	kShould,  // plain words: scored
	kMust,	  // '+': scored, and every lexeme must occur
	kMustNot, // '-': not scored; rows holding any lexeme are excluded
};

struct Clause {
	Occur occur;
	std::string_view text; // a substring of the input; never empty nor only whitespace

	bool operator==(const Clause &) const = default;
};

/// Reads the clauses of a query string, left to right.
class ClauseReader {
public:
	explicit ClauseReader(std::string_view input) : input_(input) {}

	/// The next clause; false once the input is used up.
	bool Next(Clause &out);

private:
	std::string_view ReadGroup();
	std::string_view ReadWord();

	std::string_view input_;
	std::size_t pos_ = 0;
};

/// Whether `c` separates tokens (ASCII whitespace).
constexpr bool
IsQuerySpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/// Appends the canonical form of a clause read by ClauseReader: its operator,
/// then its text, quoted when it holds whitespace or could read as an operator
/// or a group. Clauses joined by single spaces read back as the same clauses.
void AppendCanonical(const Clause &clause, std::string &out);

} // namespace quarry::fts
