// Phrase frequencies (src/fts/phrase.h) on arbitrary phrases: any number of
// terms (0..70) over six lexemes' lists, offsets (in order or not) and slop
// never crash or read outside the lists; on small positions the exact frequency equals a brute
// force count of anchors; the sloppy frequency never exceeds the match count,
// and with slop 0 on strictly increasing lists the sloppy matcher matches
// exactly when the exact phrase does.
#include "fts/phrase.h"
#include "fuzz_input.h"

#include <algorithm>
#include <vector>

using namespace quarry;

namespace {

// Exact frequency by brute force over every anchor (positions below 256).
uint32_t
BruteExact(const std::vector<fts::PhraseTerm> &terms)
{
	if (terms.empty() || terms.size() > fts::kMaxPhraseTerms)
		return 0;
	uint32_t min_offset = terms[0].offset;
	for (const fts::PhraseTerm &t : terms)
		min_offset = std::min(min_offset, t.offset);
	uint32_t count = 0;
	for (int64_t anchor = 0; anchor < 256; anchor++)
	{
		bool all = true;
		for (const fts::PhraseTerm &t : terms)
			all = all && std::binary_search(t.positions.begin(), t.positions.end(), anchor + t.offset - min_offset);
		count += all;
	}
	return count;
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size)
{
	fuzz::FuzzInput in(data, size);
	const uint8_t flags = in.Take<uint8_t>();
	const bool wide = flags & 1;		   // positions and offsets of any size
	const bool any_offsets = flags & 2; // offsets not in order
	const uint32_t k = in.Take<uint8_t>() % 71;
	const uint32_t slop = (flags & 4) ? in.Take<uint32_t>() : in.Take<uint8_t>() % 8;
	// A list per lexeme: terms that name one lexeme share its positions.
	constexpr uint32_t kLexemes = 6;
	std::vector<std::vector<uint32_t>> lists(kLexemes);
	bool strict = true;
	for (std::vector<uint32_t> &list : lists)
	{
		const uint32_t len = in.Take<uint8_t>() % 24;
		for (uint32_t j = 0; j < len; j++)
			list.push_back(wide ? in.Take<uint32_t>() : in.Take<uint8_t>() % 48);
		std::sort(list.begin(), list.end());
		strict = strict && std::adjacent_find(list.begin(), list.end()) == list.end();
	}
	std::vector<fts::PhraseTerm> terms(k);
	uint32_t offset = 0;
	for (uint32_t i = 0; i < k; i++)
	{
		offset = any_offsets ? in.Take<uint32_t>() % (wide ? 0xFFFFFFFFu : 16) : offset + in.Take<uint8_t>() % 5;
		const uint32_t lexeme = in.Take<uint8_t>() % kLexemes;
		terms[i] = {lists[lexeme], offset, lexeme};
	}
	const uint32_t exact = fts::ExactPhraseFreq(terms);
	const fts::SloppyPhraseResult sloppy = fts::SloppyPhrase(terms, slop);
	if (sloppy.freq > sloppy.matches || sloppy.freq < 0)
		fuzz::Violated("sloppy freq above the match count");
	if (!wide && exact != BruteExact(terms))
		fuzz::Violated("exact phrase frequency differs from brute force");
	if (slop == 0 && strict && (exact > 0) != (sloppy.matches > 0))
		fuzz::Violated("slop 0 and the exact phrase disagree");
	return 0;
}
