// Pass 1 of highlighting: words and fragment windows (see highlight.h).
#include "fts/highlight.h"

#include <algorithm>

namespace quarry::fts {

namespace {

// Whether code point `c` (outside ASCII) separates words: Latin-1 punctuation
// and symbols, general punctuation (dashes, quotes, ellipsis), CJK symbols and
// punctuation, fullwidth ASCII punctuation. Everything else is a letter.
bool
SeparatorCodePoint(uint32_t c)
{
	return (c >= 0x80 && c <= 0xBF) || c == 0xD7 || c == 0xF7 || (c >= 0x2000 && c <= 0x206F) ||
		   (c >= 0x3000 && c <= 0x303F) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF01 && c <= 0xFF0F) ||
		   (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65);
}

bool
AsciiWordChar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

} // namespace

std::size_t
WordSplitter::CharAt(std::size_t pos, bool &word_char) const
{
	const auto lead = static_cast<unsigned char>(text_[pos]);
	if (lead < 0x80)
	{
		word_char = AsciiWordChar(lead);
		return 1;
	}
	std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	if (length == 1 || length > text_.size() - pos)
	{
		word_char = true; // a stray byte: a letter of its own
		return 1;
	}
	uint32_t c = lead & (0x3F >> (length - 1));
	for (std::size_t i = 1; i < length; i++)
	{
		const auto b = static_cast<unsigned char>(text_[pos + i]);
		if ((b & 0xC0) != 0x80)
		{
			word_char = true;
			return 1;
		}
		c = (c << 6) | (b & 0x3F);
	}
	word_char = !SeparatorCodePoint(c);
	return length;
}

bool
WordSplitter::Next(WordSpan &word)
{
	bool word_char = false;
	while (pos_ < text_.size())
	{
		std::size_t length = CharAt(pos_, word_char);
		if (word_char)
			break;
		pos_ += length;
	}
	if (pos_ >= text_.size())
		return false;
	word.start = static_cast<uint32_t>(pos_);
	while (pos_ < text_.size())
	{
		std::size_t length = CharAt(pos_, word_char);
		if (!word_char)
			break;
		pos_ += length;
	}
	word.end = static_cast<uint32_t>(pos_);
	return true;
}

uint64_t
WordTermCache::Hash(uint8_t type, std::string_view word)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ type; // FNV-1a
	for (char c : word)
		h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

bool
WordTermCache::Find(uint8_t type, std::string_view word, int32_t &term) const
{
	if (capacity_ == 0)
		return false;
	const uint64_t h = Hash(type, word);
	for (uint32_t i = static_cast<uint32_t>(h) & (capacity_ - 1);; i = (i + 1) & (capacity_ - 1))
	{
		const Slot &s = slots_[i];
		if (s.text == nullptr)
			return false;
		if (s.hash == h && s.bytes == word.size() && std::equal(word.begin(), word.end(), s.text))
		{
			term = s.term;
			return true;
		}
	}
}

void
WordTermCache::Grow(mem::ScanArena &arena)
{
	Slot *old = slots_;
	const uint32_t old_capacity = capacity_;
	capacity_ = capacity_ == 0 ? 1024 : capacity_ * 2;
	slots_ = arena.MakeArray<Slot>(capacity_);
	std::fill(slots_, slots_ + capacity_, Slot{0, nullptr, 0, 0});
	for (uint32_t i = 0; i < old_capacity; i++)
	{
		if (old[i].text == nullptr)
			continue;
		uint32_t j = static_cast<uint32_t>(old[i].hash) & (capacity_ - 1);
		while (slots_[j].text != nullptr)
			j = (j + 1) & (capacity_ - 1);
		slots_[j] = old[i];
	}
}

void
WordTermCache::Insert(uint8_t type, std::string_view word, int32_t term, mem::ScanArena &arena)
{
	if ((count_ + 1) * 2 > capacity_)
		Grow(arena);
	const uint64_t h = Hash(type, word);
	uint32_t i = static_cast<uint32_t>(h) & (capacity_ - 1);
	while (slots_[i].text != nullptr)
		i = (i + 1) & (capacity_ - 1);
	char *copy = arena.MakeArray<char>(std::max<std::size_t>(word.size(), 1));
	std::copy(word.begin(), word.end(), copy);
	slots_[i] = Slot{h, copy, static_cast<uint32_t>(word.size()), term};
	count_++;
}

void
WordTermCache::Clear()
{
	slots_ = nullptr;
	capacity_ = 0;
	count_ = 0;
}

namespace {

// Whether word `w` lies in one of the chosen fragments.
bool
Taken(std::span<const Fragment> chosen, uint32_t w)
{
	for (const Fragment &f : chosen)
		if (w >= f.first_word && w < f.end_word)
			return true;
	return false;
}

// The first chosen fragment's start after word `w` (or `limit`).
uint32_t
NextTaken(std::span<const Fragment> chosen, uint32_t w, uint32_t limit)
{
	for (const Fragment &f : chosen)
		if (f.first_word > w)
			limit = std::min(limit, f.first_word);
	return limit;
}

// The window anchored at hits[i]: hits from i while they fit in
// [hits[i].word, end). Counts distinct terms in `scratch`, left zeroed.
Fragment
WindowAt(std::span<const WordHit> hits, std::size_t i, uint32_t end, FragmentScratch scratch)
{
	Fragment f{hits[i].word, hits[i].word + 1, 0, 0};
	std::size_t j = i;
	for (; j < hits.size() && hits[j].word < end; j++)
	{
		if (scratch.term_counts[hits[j].term]++ == 0)
			f.distinct_terms++;
		f.hits++;
		f.end_word = hits[j].word + 1;
	}
	for (std::size_t k = i; k < j; k++)
		scratch.term_counts[hits[k].term] = 0;
	return f;
}

bool
Better(const Fragment &a, const Fragment &b)
{
	if (a.distinct_terms != b.distinct_terms)
		return a.distinct_terms > b.distinct_terms;
	if (a.hits != b.hits)
		return a.hits > b.hits;
	return a.first_word < b.first_word;
}

// Widens a window's hits [first_word, end_word) to `fragment_words` words,
// centred, within [low, high).
Fragment
Centred(Fragment f, uint32_t fragment_words, uint32_t low, uint32_t high)
{
	const uint32_t span = f.end_word - f.first_word;
	const uint32_t slack = fragment_words > span ? fragment_words - span : 0;
	uint32_t start = f.first_word - std::min(slack / 2, f.first_word - low);
	uint32_t end = std::min(high, start + std::max(fragment_words, span));
	start = std::max(low, end >= fragment_words ? std::min(start, end - fragment_words) : low);
	f.first_word = start;
	f.end_word = end;
	return f;
}

} // namespace

std::size_t
SelectFragments(std::span<const WordHit> hits, uint32_t word_count, uint32_t fragment_words,
				FragmentScratch scratch, std::span<Fragment> out)
{
	if (out.empty() || word_count == 0 || fragment_words == 0)
		return 0;
	if (hits.empty())
	{
		out[0] = Fragment{0, std::min(word_count, fragment_words), 0, 0};
		return 1;
	}
	std::size_t chosen = 0;
	while (chosen < out.size())
	{
		std::span<const Fragment> taken(out.data(), chosen);
		Fragment best{0, 0, 0, 0};
		for (std::size_t i = 0; i < hits.size(); i++)
		{
			if ((i > 0 && hits[i].word == hits[i - 1].word) || Taken(taken, hits[i].word))
				continue;
			uint32_t end = NextTaken(taken, hits[i].word, hits[i].word + fragment_words);
			Fragment f = WindowAt(hits, i, end, scratch);
			if (best.hits == 0 || Better(f, best))
				best = f;
		}
		if (best.hits == 0)
			break;
		uint32_t low = 0;
		for (const Fragment &f : taken)
			if (f.end_word <= best.first_word)
				low = std::max(low, f.end_word);
		out[chosen++] = Centred(best, fragment_words, low, NextTaken(taken, best.first_word, word_count));
	}
	std::sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(chosen),
			  [](const Fragment &a, const Fragment &b) { return a.first_word < b.first_word; });
	return chosen;
}

} // namespace quarry::fts
