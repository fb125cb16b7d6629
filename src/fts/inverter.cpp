#include "fts/inverter.h"

#include "fts/codec.h"

#include <algorithm>
#include <cstring>

namespace quarry::fts {

namespace {

constexpr uint8_t kMaxLevel = 8;
constexpr std::size_t kPointerBytes = sizeof(uint8_t *);

// Slice sizes by level: 16, 32, ... 4096 bytes (the last 8 hold the next pointer).
constexpr std::size_t
SliceBytes(uint8_t level)
{
	return std::size_t{16} << level;
}

// FNV-1a, 32 bits: the table only needs a fast, decent spread.
uint32_t
HashTerm(std::string_view s)
{
	uint32_t h = 2166136261u;
	for (unsigned char c : s)
	{
		h ^= c;
		h *= 16777619u;
	}
	return h;
}

} // namespace

Inverter::Inverter(mem::BuildArena &arena, std::size_t slab_bytes, bool with_positions)
	: with_positions_(with_positions), arena_(arena), terms_(mem::BuildAllocator<Term>(arena)), table_(mem::BuildAllocator<uint32_t>(arena)),
	  lengths_(mem::BuildAllocator<uint32_t>(arena)), field_lengths_(mem::BuildAllocator<uint32_t>(arena)), row_ids_(mem::BuildAllocator<uint64_t>(arena)),
	  sorted_(mem::BuildAllocator<uint32_t>(arena)), slabs_(mem::BuildAllocator<Slab>(arena)),
	  slab_size_(std::max<std::size_t>(slab_bytes, 4096))
{
	table_.assign(1024, 0);
}

Inverter::~Inverter()
{
	for (const Slab &slab : slabs_)
		arena_.Deallocate(slab.memory, slab.bytes);
}

uint8_t *
Inverter::SlabAllocate(std::size_t bytes, std::size_t align)
{
	auto p = reinterpret_cast<std::uintptr_t>(slab_cur_);
	p = (p + align - 1) & ~(align - 1);
	if (slab_cur_ == nullptr || p + bytes > reinterpret_cast<std::uintptr_t>(slab_end_))
	{
		std::size_t size = std::max(slab_size_, bytes + align);
		auto *slab = static_cast<uint8_t *>(arena_.Allocate(size));
		slabs_.push_back({slab, size});
		slab_bytes_ += size;
		slab_cur_ = slab;
		slab_end_ = slab + size;
		p = (reinterpret_cast<std::uintptr_t>(slab_cur_) + align - 1) & ~(align - 1);
	}
	slab_cur_ = reinterpret_cast<uint8_t *>(p + bytes);
	return reinterpret_cast<uint8_t *>(p);
}

std::size_t
Inverter::memory_bytes() const
{
	return slab_bytes_ + terms_.capacity() * sizeof(Term) + table_.capacity() * sizeof(uint32_t) +
		   (lengths_.capacity() + field_lengths_.capacity()) * sizeof(uint32_t) + row_ids_.capacity() * sizeof(uint64_t) +
		   sorted_.capacity() * sizeof(uint32_t);
}

void
Inverter::Grow()
{
	std::size_t size = table_.size() * 2;
	ArenaVector<uint32_t> bigger(size, 0, mem::BuildAllocator<uint32_t>(arena_));
	for (uint32_t slot : table_)
	{
		if (slot == 0)
			continue;
		std::size_t i = terms_[slot - 1].hash & (size - 1);
		while (bigger[i] != 0)
			i = (i + 1) & (size - 1);
		bigger[i] = slot;
	}
	table_.swap(bigger);
}

uint32_t
Inverter::FindOrAdd(std::string_view text)
{
	uint32_t hash = HashTerm(text);
	std::size_t mask = table_.size() - 1;
	std::size_t i = hash & mask;
	for (; table_[i] != 0; i = (i + 1) & mask)
	{
		const Term &t = terms_[table_[i] - 1];
		if (t.hash == hash && t.length == text.size() && std::memcmp(t.text, text.data(), text.size()) == 0)
			return table_[i] - 1;
	}
	Term t{};
	char *copy = reinterpret_cast<char *>(SlabAllocate(text.size(), 1));
	std::memcpy(copy, text.data(), text.size());
	t.text = copy;
	t.length = static_cast<uint32_t>(text.size());
	t.hash = hash;
	t.last_doc = kEndDoc;
	terms_.push_back(t);
	uint32_t id = static_cast<uint32_t>(terms_.size() - 1);
	table_[i] = id + 1;
	if (terms_.size() * 2 > table_.size())
		Grow();
	sorted_.clear();
	return id;
}

void
Inverter::NewSlice(Term &t)
{
	uint8_t level = t.head == nullptr ? 0 : std::min<uint8_t>(t.level + 1, kMaxLevel);
	std::size_t bytes = SliceBytes(level);
	uint8_t *slice = SlabAllocate(bytes, alignof(uint8_t *));
	std::memset(slice + bytes - kPointerBytes, 0, kPointerBytes);
	if (t.head == nullptr)
		t.head = slice;
	else
		std::memcpy(t.end, &slice, kPointerBytes); // link from the full slice
	t.level = level;
	t.write = slice;
	t.end = slice + bytes - kPointerBytes;
}

void
Inverter::Append(Term &t, uint64_t value)
{
	uint8_t buf[kMaxVarintBytes];
	std::size_t n = PutVarint(value, buf);
	for (std::size_t i = 0; i < n; i++)
	{
		if (t.write == t.end)
			NewSlice(t);
		*t.write++ = buf[i];
	}
}

DocId
Inverter::AddDocument(std::span<const TermFreq> terms, uint32_t length, uint64_t row_id,
					  std::span<const uint32_t> field_lengths)
{
	DocId doc = doc_count();
	for (const TermFreq &tf : terms)
	{
		Term &t = terms_[FindOrAdd(tf.term)];
		if (t.head == nullptr)
			NewSlice(t);
		DocId gap = t.last_doc == kEndDoc ? doc : doc - t.last_doc - 1;
		Append(t, gap);
		Append(t, tf.tf - 1);
		if (with_positions_)
			AppendPositions(t, tf);
		t.last_doc = doc;
		t.df++;
		t.tf_sum += tf.tf;
	}
	lengths_.push_back(length);
	row_ids_.push_back(row_id);
	total_length_ += length;
	for (uint32_t f = 0; f < field_lengths.size(); f++)
	{
		field_lengths_.push_back(field_lengths[f]);
		field_totals_[f] += field_lengths[f];
	}
	return doc;
}

// A document's positions of a term: the first, then the gaps (>= 0). A
// TermFreq without positions (or with fewer than tf) has none stored past
// what it gives: zeros, which read back as repeats of the last position.
void
Inverter::AppendPositions(Term &t, const TermFreq &tf)
{
	uint32_t previous = 0;
	for (uint32_t i = 0; i < tf.tf; i++)
	{
		const uint32_t p = i < tf.positions.size() ? std::max(tf.positions[i], previous) : previous;
		Append(t, p - previous);
		previous = p;
	}
}

std::span<const uint32_t>
Inverter::SortedTerms()
{
	if (sorted_.size() != terms_.size())
	{
		sorted_.resize(terms_.size());
		for (uint32_t i = 0; i < sorted_.size(); i++)
			sorted_[i] = i;
		std::sort(sorted_.begin(), sorted_.end(), [this](uint32_t a, uint32_t b) { return TermText(a) < TermText(b); });
	}
	return sorted_;
}

std::string_view
Inverter::TermText(uint32_t term) const
{
	return {terms_[term].text, terms_[term].length};
}

void
Inverter::Postings(uint32_t term, std::span<DocId> docs, std::span<uint32_t> tfs, std::span<uint32_t> positions) const
{
	const Term &t = terms_[term];
	const uint8_t *p = t.head;
	const uint8_t *end = t.head + SliceBytes(0) - kPointerBytes;
	uint8_t level = 0;
	auto next_byte = [&]() -> uint8_t {
		if (p == end)
		{
			std::memcpy(&p, end, kPointerBytes);
			level = std::min<uint8_t>(level + 1, kMaxLevel);
			end = p + SliceBytes(level) - kPointerBytes;
		}
		return *p++;
	};
	auto next_varint = [&]() {
		uint64_t v = 0;
		for (unsigned shift = 0;; shift += 7)
		{
			uint8_t b = next_byte();
			v |= static_cast<uint64_t>(b & 0x7F) << shift;
			if ((b & 0x80) == 0)
				return v;
		}
	};
	DocId doc = kEndDoc;
	std::size_t written = 0; // positions
	for (uint32_t i = 0; i < t.df; i++)
	{
		uint64_t gap = next_varint();
		doc = (doc == kEndDoc) ? static_cast<DocId>(gap) : static_cast<DocId>(doc + 1 + gap);
		docs[i] = doc;
		tfs[i] = static_cast<uint32_t>(next_varint()) + 1;
		uint32_t position = 0;
		for (uint32_t j = 0; with_positions_ && j < tfs[i]; j++)
		{
			position += static_cast<uint32_t>(next_varint());
			if (written < positions.size())
				positions[written++] = position;
		}
	}
}

} // namespace quarry::fts
