// Highlighting (quarry_snippet): where a text's words are, and which windows
// of words make the best fragments. PostgreSQL-free: which words match a
// query is the access method's job (it tokenizes with the index's text search
// configuration, src/am/bm25/bm25_highlight.cpp).
//
// Two passes, so that a long text costs little more than a scan of its bytes:
//   1. WordSplitter cuts the text into words (runs of letters and digits;
//      UTF-8 decoded, punctuation of Latin-1, general punctuation, CJK and
//      fullwidth blocks separate). The caller tells which words match the
//      query (a per-query cache of each distinct word's lexemes), and
//      SelectFragments picks the windows of `fragment_words` words holding the
//      most distinct query terms, then the most matches.
//   2. The caller tokenizes only the chosen windows exactly, with the
//      configuration's parser and dictionaries, and marks what matches there.
// Pass 1 only chooses windows; the marks are pass 2's.
#pragma once

#include "memory/scan_arena.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace quarry::fts {

/// A word of pass 1: bytes [start, end) of the text.
struct WordSpan {
	uint32_t start;
	uint32_t end;
};

/// Cuts a text into words, left to right. Any byte sequence is valid input:
/// a malformed UTF-8 byte counts as a letter of its own.
class WordSplitter {
public:
	explicit WordSplitter(std::string_view text) : text_(text) {}

	/// The next word, false at the end of the text.
	bool Next(WordSpan &word);

private:
	// The length of the character at pos_ (1 to 4), and whether it is part of
	// a word.
	std::size_t CharAt(std::size_t pos, bool &word_char) const;

	std::string_view text_;
	std::size_t pos_ = 0;
};

/// Pass 1's memory of what each distinct word (with its token type) matched:
/// an open-addressing table whose slots and words live in a scan arena.
/// Trivially destructible; Clear() after the arena is reset.
class WordTermCache {
public:
	/// The term cached for (type, word), if any.
	bool Find(uint8_t type, std::string_view word, int32_t &term) const;
	/// Caches a word's term (a copy of the word goes into `arena`).
	void Insert(uint8_t type, std::string_view word, int32_t term, mem::ScanArena &arena);
	uint32_t size() const { return count_; }
	void Clear();

private:
	struct Slot {
		uint64_t hash;
		const char *text; // nullptr: empty
		uint32_t bytes;
		int32_t term;
	};
	static uint64_t Hash(uint8_t type, std::string_view word);
	void Grow(mem::ScanArena &arena);

	Slot *slots_ = nullptr;
	uint32_t capacity_ = 0; // a power of 2, or 0
	uint32_t count_ = 0;
};

/// A word of pass 1 that matches query term `term` (0 <= term < term_count).
struct WordHit {
	uint32_t word; // index of the word in the text
	uint32_t term;
};

/// A fragment: words [first_word, end_word) of the text.
struct Fragment {
	uint32_t first_word;
	uint32_t end_word;
	uint32_t distinct_terms; // how many query terms it holds (0: no match)
	uint32_t hits;
};

/// Scratch of SelectFragments: `term_count` counters.
struct FragmentScratch {
	uint32_t *term_counts;
	uint32_t term_count;
};

/// Picks at most out.size() non-overlapping windows of at most
/// `fragment_words` words of a text of `word_count` words: each time the
/// window with the most distinct terms, then the most hits, then the earliest,
/// centred on its hits where the text allows. `hits` are in word order. With
/// no hit, one window at the start of the text. Returns how many, in text
/// order.
std::size_t SelectFragments(std::span<const WordHit> hits, uint32_t word_count, uint32_t fragment_words,
							FragmentScratch scratch, std::span<Fragment> out);

} // namespace quarry::fts
