// The query syntax of quarry_query_parse(): a query string split into clauses,
// each with an occurrence, in the style of Lucene's and Elasticsearch's
// simple query syntax.
//
//   words            SHOULD    the words score, as in a plain query
//   +word  +"w1 w2"  MUST      every lexeme of the clause occurs in the row
//   -word  -"w1 w2"  MUST_NOT  no lexeme of the clause occurs in the row
//   word*            PREFIX    the index's terms that start with the word's lexeme
//   word~N  word~    FUZZY     the index's terms within N edits (0..2; ~ alone is ~2)
//   "w1 w2"          PHRASE    the lexemes at consecutive positions
//   "w1 w2"~N        PHRASE    within N positions of slop (Lucene's sloppy phrase)
//   title:word  title:"w1 w2"   the clause looks in one field only (an index
//                    of several columns; what a name means is the caller's)
//
// A prefix or fuzzy clause takes an operator like any other ('+replic*',
// '-colour~1'); what its expansion means is the caller's (bm25_clauses.cpp).
//
// Grammar (bytes; only the ASCII whitespace bytes space, \t, \n, \v, \f, \r
// separate tokens, and only '+', '-' and '"' are ever special):
//
//   query   = { ws } { clause { ws } }
//   clause  = [ "+" | "-" ] [ field ":" ] ( group | word )
//   field   = an ASCII letter or '_', then ASCII letters, digits or '_' (a
//             field prefix only when a non-whitespace byte follows the ':',
//             so 'note: x' is two words)
//   word    = a run of non-whitespace bytes          (not starting with '"')
//             a word ending in '*' is a prefix: its text is the word without
//             its trailing '*'s; else a word ending in '~' and 0 or more ASCII
//             digits is fuzzy: its text is what precedes the last '~', its
//             distance the digits (none: 2; saturating at 255)
//   group   = '"' { any byte but '"' } ( '"' { non-whitespace byte } | end of input )
//             a group closed by '"' at the end of its token, or by '"~' and 0
//             or more ASCII digits, or not closed at all, is a phrase: its
//             text is what the quotes hold, its slop the digits (none after
//             '~': 2; no '~': 0; saturating at 255); a closing quote followed
//             by other bytes ('"a b"c') leaves a words clause whose text runs
//             on to the next whitespace
//
// - An operator is the first byte of a whitespace-separated token, and only
//   that: "e-mail", "state-of-the-art", "c++" are plain words; "++a" is a MUST
//   clause whose text is "+a".
// - A '"' opens a group only at the start of a token (after its operator, if
//   any); anywhere else it is an ordinary byte. A group runs across whitespace
//   to the next '"', then on to the next whitespace, like any token: '"a b"c'
//   is one words clause with the words a, b, c. Inside a group nothing is an
//   operator.
//
// Recovery rules (every byte string is a query; nothing is an error):
//   - an unclosed group ends at the end of the input ('+"a b' is '+"a b"');
//   - a lone operator (followed by whitespace or the end) is dropped, so is a
//     words clause whose text is empty or only whitespace ('+', '- a', '+""',
//     '"  "');
//   - a prefix or fuzzy clause with nothing before its suffix ('*', '+~1') is
//     kept with an empty text, for the caller to reject: it is a mistake, not
//     a word;
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

enum class ClauseKind : uint8_t {
	kWords,	 // a word or a group: its lexemes
	kPrefix, // word*: the terms each lexeme is a prefix of
	kFuzzy,	 // word~N: the terms within `distance` edits of each lexeme
	kPhrase, // "w1 w2"~N: the lexemes at consecutive positions, `distance` of slop
};

struct Clause {
	Occur occur;
	// A substring of the input. A words clause's is never empty nor only
	// whitespace; a prefix or fuzzy clause's may be empty ('*' alone).
	std::string_view text;
	ClauseKind kind = ClauseKind::kWords;
	uint8_t distance = 0; // kFuzzy: the edit distance asked for; kPhrase: the slop (saturating)
	// 'name:word', 'name:"a phrase"': the field the clause is restricted to
	// (empty: every field). A substring of the input.
	std::string_view field = {};

	bool operator==(const Clause &) const = default;
};

/// The distance of 'word~' without digits (Lucene's default).
inline constexpr uint8_t kDefaultFuzzyDistance = 2;

/// Reads the clauses of a query string, left to right.
class ClauseReader {
public:
	explicit ClauseReader(std::string_view input) : input_(input) {}

	/// The next clause; false once the input is used up.
	bool Next(Clause &out);

private:
	Clause ReadGroup(Occur occur);
	std::string_view ReadWord();
	static Clause WordClause(Occur occur, std::string_view word);
	std::string_view ReadField();

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
