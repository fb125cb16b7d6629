// Pass 1 of highlighting (src/fts/highlight.h) on arbitrary bytes. Besides
// running clean under ASan + UBSan:
//   - words are non-empty, in order, within the text and do not overlap, and
//     splitting the text again between two words finds no word there;
//   - splitting is deterministic and the same from any word's start on;
//   - SelectFragments, with hits taken from the input, returns at most what
//     was asked, non-overlapping windows in text order, each within the text,
//     at most fragment_words long and (when there are hits) holding one;
//   - the word cache finds every word it was given, with its term.
#include "fts/highlight.h"
#include "fuzz_input.h"

#include <string_view>
#include <vector>

using namespace quarry;

namespace {

std::vector<fts::WordSpan>
Split(std::string_view text)
{
	std::vector<fts::WordSpan> out;
	fts::WordSplitter splitter(text);
	fts::WordSpan w;
	while (splitter.Next(w))
		out.push_back(w);
	return out;
}

void
CheckWords(std::string_view text, const std::vector<fts::WordSpan> &words)
{
	uint32_t after = 0;
	for (std::size_t i = 0; i < words.size(); i++)
	{
		const fts::WordSpan &w = words[i];
		if (w.start >= w.end || w.start < after || w.end > text.size())
			fuzz::Violated("a word is empty, out of order or outside the text");
		if (!Split(text.substr(after, w.start - after)).empty())
			fuzz::Violated("a word between two words");
		after = w.end;
	}
	if (!Split(text.substr(after)).empty())
		fuzz::Violated("a word after the last word");
}

void
CheckFragments(fuzz::FuzzInput &in, uint32_t word_count)
{
	const uint32_t fragment_words = 1 + in.Below(50);
	const std::size_t most = 1 + in.Below(6);
	const uint32_t terms = 1 + in.Below(8);
	std::vector<fts::WordHit> hits;
	for (uint32_t w = 0; w < word_count; w++)
		if (in.Below(4) == 0)
			hits.push_back({w, in.Below(terms)});
	std::vector<uint32_t> counts(terms, 0);
	std::vector<fts::Fragment> out(most);
	const std::size_t n = fts::SelectFragments(hits, word_count, fragment_words,
											   fts::FragmentScratch{counts.data(), terms}, out);
	if (n > most || (word_count > 0 && n == 0))
		fuzz::Violated("too many fragments, or none for a text with words");
	for (std::size_t i = 0; i < n; i++)
	{
		const fts::Fragment &f = out[i];
		if (f.first_word >= f.end_word || f.end_word > word_count || f.end_word - f.first_word > fragment_words)
			fuzz::Violated("a fragment outside the text or too long");
		if (i > 0 && out[i - 1].end_word > f.first_word)
			fuzz::Violated("fragments overlap or are out of order");
		bool holds = hits.empty();
		for (const fts::WordHit &h : hits)
			holds = holds || (h.word >= f.first_word && h.word < f.end_word);
		if (!holds)
			fuzz::Violated("a fragment without a hit");
	}
	for (uint32_t c : counts)
		if (c != 0)
			fuzz::Violated("the scratch counters are not left at zero");
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size)
{
	fuzz::FuzzInput in(data, size);
	const uint32_t split_at = in.Below(static_cast<uint32_t>(size) + 1);
	std::span<const uint8_t> rest = in.Rest();
	std::vector<char> bytes(rest.begin(), rest.end()); // exact size: ASan sees overreads
	std::string_view text(bytes.data(), bytes.size());
	std::vector<fts::WordSpan> words = Split(text);
	CheckWords(text, words);
	if (Split(text).size() != words.size())
		fuzz::Violated("splitting is not deterministic");
	if (!words.empty())
	{
		const fts::WordSpan &w = words[split_at % words.size()];
		if (Split(text.substr(w.start)).size() != words.size() - (split_at % words.size()))
			fuzz::Violated("splitting from a word's start finds other words");
	}
	mem::ScanArena arena(mem::HeapBlockSource());
	fts::WordTermCache cache;
	for (std::size_t i = 0; i < words.size(); i++)
		cache.Insert(static_cast<uint8_t>(i % 3), text.substr(words[i].start, words[i].end - words[i].start),
					 static_cast<int32_t>(i), arena);
	for (std::size_t i = 0; i < words.size(); i++)
	{
		int32_t term;
		if (!cache.Find(static_cast<uint8_t>(i % 3), text.substr(words[i].start, words[i].end - words[i].start), term))
			fuzz::Violated("the word cache lost a word");
	}
	fuzz::FuzzInput choices(data, size);
	CheckFragments(choices, static_cast<uint32_t>(words.size()));
	return 0;
}
