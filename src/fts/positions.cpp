#include "fts/positions.h"

#include "fts/codec.h"

#include <algorithm>

namespace quarry::fts {

namespace {

// Values in chunk `chunk` of a stream of `total` values.
std::size_t
ChunkLength(std::size_t total, std::size_t chunk)
{
	return std::min(kPositionChunk, total - chunk * kPositionChunk);
}

// Fills values[0 .. len) with the deltas of positions [from, from + len) of the
// concatenated stream: a document's first position, then its gaps.
void
ChunkDeltas(std::span<const uint32_t> tfs,
			std::span<const uint32_t> positions,
			std::size_t from,
			std::size_t len,
			uint32_t *values)
{
	// Where the document holding `from` starts.
	std::size_t doc_start = 0, doc = 0;
	while (doc < tfs.size() && doc_start + tfs[doc] <= from)
		doc_start += tfs[doc++];
	std::size_t next_start = doc < tfs.size() ? doc_start + tfs[doc] : positions.size();
	for (std::size_t i = 0; i < len; i++)
	{
		std::size_t v = from + i;
		while (v >= next_start && doc + 1 < tfs.size())
		{
			doc_start = next_start;
			next_start += tfs[++doc];
		}
		values[i] = v == doc_start ? positions[v] : positions[v] - positions[v - 1];
	}
}

// Sum of the tfs (the number of positions).
std::size_t
TotalPositions(std::span<const uint32_t> tfs)
{
	std::size_t n = 0;
	for (uint32_t tf : tfs)
		n += tf;
	return n;
}

} // namespace

std::size_t
EncodedPositionsSize(std::span<const uint32_t> tfs, std::span<const uint32_t> positions)
{
	const std::size_t n = TotalPositions(tfs);
	const std::size_t chunks = (n + kPositionChunk - 1) / kPositionChunk;
	std::size_t bytes = chunks;
	uint32_t values[kPositionChunk];
	for (std::size_t c = 0; c < chunks; c++)
	{
		const std::size_t len = ChunkLength(n, c);
		ChunkDeltas(tfs, positions, c * kPositionChunk, len, values);
		bytes += PackedBytes(len, BitsNeeded({values, len}));
	}
	return bytes;
}

void
EncodePositions(std::span<const uint32_t> tfs, std::span<const uint32_t> positions, std::span<uint8_t> out)
{
	const std::size_t n = TotalPositions(tfs);
	const std::size_t chunks = (n + kPositionChunk - 1) / kPositionChunk;
	std::size_t pos = chunks;
	uint32_t values[kPositionChunk];
	for (std::size_t c = 0; c < chunks; c++)
	{
		const std::size_t len = ChunkLength(n, c);
		ChunkDeltas(tfs, positions, c * kPositionChunk, len, values);
		const uint8_t bits = BitsNeeded({values, len});
		out[c] = bits;
		Pack({values, len}, bits, out.data() + pos);
		pos += PackedBytes(len, bits);
	}
}

bool
PositionsBlockReader::Open(std::span<const uint8_t> in, std::span<const uint32_t> tfs)
{
	doc_count_ = 0;
	loaded_chunk_ = 0xFFFFFFFF;
	if (tfs.empty() || tfs.size() > kBlockSize)
		return false;
	uint64_t n = 0;
	doc_start_[0] = 0;
	for (std::size_t d = 0; d < tfs.size(); d++)
	{
		if (tfs[d] == 0)
			return false;
		n += tfs[d];
		if (n > 0xFFFFFFFFull)
			return false;
		doc_start_[d + 1] = static_cast<uint32_t>(n);
	}
	const uint64_t chunks = (n + kPositionChunk - 1) / kPositionChunk;
	if (chunks > in.size())
		return false; // the widths alone run past the input
	std::size_t pos = chunks;
	for (uint32_t c = 0; c < chunks; c++)
	{
		if (in[c] > 32)
			return false;
		if (c <= kCachedChunks)
			chunk_start_[c] = pos;
		pos += PackedBytes(ChunkLength(n, c), in[c]);
		if (pos > in.size())
			return false;
	}
	if (chunks <= kCachedChunks)
		chunk_start_[chunks] = pos;
	in_ = in.data();
	in_size_ = in.size();
	bytes_used_ = pos;
	value_count_ = static_cast<uint32_t>(n);
	chunk_count_ = static_cast<uint32_t>(chunks);
	doc_count_ = static_cast<uint32_t>(tfs.size());
	return true;
}

// Byte offset of a chunk: cached for the first kCachedChunks, summed from the
// widths after them (Open checked that every chunk lies inside the input).
std::size_t
PositionsBlockReader::ChunkStart(uint32_t chunk) const
{
	if (chunk <= kCachedChunks)
		return chunk_start_[chunk];
	std::size_t pos = chunk_start_[kCachedChunks];
	for (uint32_t c = kCachedChunks; c < chunk; c++)
		pos += PackedBytes(kPositionChunk, in_[c]);
	return pos;
}

// Unpacks chunk `chunk` into values_ (unless it is there already).
bool
PositionsBlockReader::LoadChunk(uint32_t chunk)
{
	if (chunk == loaded_chunk_)
		return true;
	if (chunk >= chunk_count_)
		return false;
	const std::size_t start = ChunkStart(chunk);
	const std::size_t len = ChunkLength(value_count_, chunk);
	if (start > in_size_ || !Unpack({in_ + start, in_size_ - start}, in_[chunk], {values_, len}))
		return false;
	loaded_chunk_ = chunk;
	return true;
}

bool
PositionsBlockReader::Positions(uint32_t doc, std::span<uint32_t> out)
{
	if (doc >= doc_count_)
		return false;
	const uint32_t first = doc_start_[doc];
	const uint32_t tf = doc_start_[doc + 1] - first;
	if (out.size() < tf)
		return false;
	uint64_t position = 0;
	for (uint32_t i = 0; i < tf;)
	{
		const uint32_t v = first + i;
		const uint32_t chunk = static_cast<uint32_t>(v / kPositionChunk);
		if (!LoadChunk(chunk))
			return false;
		// Copy what this chunk holds of the document, summing as we go.
		const uint32_t in_chunk = static_cast<uint32_t>(v % kPositionChunk);
		const uint32_t take = std::min<uint32_t>(tf - i, static_cast<uint32_t>(kPositionChunk) - in_chunk);
		for (uint32_t j = 0; j < take; j++, i++)
		{
			position += values_[in_chunk + j];
			if (position > 0xFFFFFFFFull)
				return false;
			out[i] = static_cast<uint32_t>(position);
		}
	}
	return true;
}

} // namespace quarry::fts
