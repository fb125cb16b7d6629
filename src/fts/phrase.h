// Phrase frequency in one document, from the positions of the phrase's terms.
//
// A phrase is k terms, each with its positions in the document (non-decreasing)
// and its offset in the phrase: its query position. PostgreSQL's
// phraseto_tsquery gives 'a b c' offsets 0, 1, 2; a stop word leaves a hole
// ('cat in the hat': cat@0, hat@3, the tsquery 'cat' <3> 'hat'); two lexemes
// of one word share an offset. Alternatives at one position (a dictionary that
// gives several lexemes for a word, which phraseto_tsquery ORs) are one term
// here whose positions are the union of theirs: the caller merges them.
//
// Exact phrases (ExactPhraseFreq) count the anchors p for which every term i
// occurs at p + offset_i: the documents with a count above 0 are exactly those
// PostgreSQL's TS_phrase_execute (tsvector_op.c) matches for
// 'a' <d1> 'b' <d2> 'c', which asks each next lexeme at exactly its distance.
// The intersection walks the rarest term's positions and moves a pointer per
// other term forward only, as Lucene's ExactPhraseMatcher: O(sum of the list
// lengths).
//
// Sloppy phrases follow Lucene's SloppyPhraseMatcher (lucene/core, search/
// SloppyPhraseMatcher.java, LUCENE-1310 and LUCENE-3215): each term's position
// minus its offset is its "phrase position"; a priority queue ordered by
// (phrase position, offset, term index) always advances the smallest, and a
// match is a state whose span, matchLength = max - min of the phrase positions,
// is at most the slop, minimized before it is reported. Slop is therefore an
// edit distance on positions: "a b"~1 does not match "b a", "a b"~2 does
// (matchLength 2). A term that occurs twice in the phrase (the same lexeme, by
// PhraseTerm::term) is a repeat group: its members start at distinct
// occurrences (the j-th by offset at its j-th occurrence) and a member that
// lands on another's position pushes the lesser of the two on, so a match never
// uses one occurrence twice; the queue is the same binary heap as Lucene's
// PriorityQueue (the order of re-queuing after such a push matters), so the
// matches, and their count, are Lucene's. Like Lucene's, the sweep does not
// report every valid combination ("a b c b a" scores differently for
// "a b c"~4 and "c b a"~4), but it finds a match whenever the smallest span is
// within the slop (test/unit/phrase_test.cpp checks this against brute force,
// repeats included; with slop 0 it matches exactly when ExactPhraseFreq does). Lucene's sloppy frequency is the sum of 1 / (1 +
// matchLength) over the matches (sloppyWeight); SloppyMatchCount counts them.
//
// Deviations: Lucene groups repeats by position in the first document (a
// synonym at the same position would be taken for a repeat); here the term
// ids say. A (term, offset) pair given twice is one constraint, kept once.
// Terms with one id must have the same list. A position repeated in a list
// (the clamp at 16383) is as many occurrences, which repeats may each take.
//
// Limits: at most kMaxPhraseTerms terms (more give 0); everything lives in
// fixed arrays on the stack, nothing is allocated. Positions are any uint32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace quarry::fts {

inline constexpr std::size_t kMaxPhraseTerms = 64;

/// One term of a phrase in one document.
struct PhraseTerm {
	std::span<const uint32_t> positions; // in the document, non-decreasing
	uint32_t offset = 0;				 // query position in the phrase
	uint32_t term = 0;					 // lexeme id: equal ids are one lexeme
};

/// Number of anchors p such that every term i occurs at p + offset_i (offsets
/// taken relative to the smallest). 0 when a list is empty or there are no or
/// more than kMaxPhraseTerms terms; a single term counts its distinct positions.
uint32_t ExactPhraseFreq(std::span<const PhraseTerm> terms);

/// What Lucene's sloppy matcher finds in one document.
struct SloppyPhraseResult {
	uint32_t matches = 0; // matches reported
	double freq = 0;	  // sum over them of 1 / (1 + matchLength)
};

/// Lucene's SloppyPhraseMatcher over the terms with this slop (see above).
/// 0 matches when a list is empty or there are no or more than kMaxPhraseTerms
/// terms; a single term matches once per distinct position.
SloppyPhraseResult SloppyPhrase(std::span<const PhraseTerm> terms, uint32_t slop);

/// SloppyPhrase(terms, slop).matches: the integer phrase frequency for BM25.
uint32_t SloppyMatchCount(std::span<const PhraseTerm> terms, uint32_t slop);

/// SloppyPhrase(terms, slop).freq: Lucene's sloppy frequency.
double SloppyFreq(std::span<const PhraseTerm> terms, uint32_t slop);

} // namespace quarry::fts
