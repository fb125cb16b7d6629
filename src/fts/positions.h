// The term positions of one posting list block (up to kBlockSize documents),
// and the reader that decodes them one document at a time.
//
// Positions are what PostgreSQL's tsvector holds (uint32 in [1, 16383], 14
// bits; past 16383 every word is clamped to 16383, so the list of one document
// is non-decreasing rather than strictly increasing). A block stores, for its
// documents in block order, exactly tf positions each; the tfs themselves are
// not stored here (the posting block has them).
//
// Layout of a block's positions (all little-endian):
//
//   uint8_t width[C]            bit width of each chunk, 0..32
//   chunk 0, chunk 1, ...       PackedBytes(len_c, width[c]) bytes each
//
// The values are the concatenation over the documents of (first position, then
// the gaps p[i] - p[i-1] >= 0): n = sum(tfs) values, cut into C = ceil(n / 128)
// chunks of 128 (the last one shorter), each bit-packed with codec.h's Pack at
// the width of its largest value: frame of reference per chunk, as Lucene's
// postings (Lucene90PostingsFormat: blocks of 128 position deltas, PForUtil)
// and PISA's block codecs do. A chunk of 128 values takes exactly 16 * width
// bytes, so where a chunk starts follows from the widths alone, and where a
// document's values start (sum of the tfs before it) from the tfs: a document
// is decoded without decoding the ones before it (random access), by unpacking
// the chunks that hold its values (one, for most documents).
//
// Size: on synthetic paragraphs (Zipf vocabulary, 40..80 words, or 40..160
// with stop words, most tfs 1 or 2) a chunk is 6 to 8 bits wide: 0.93 to 1.03
// bytes per position, the width bytes and the tiny blocks of rare terms
// included; 1.12 with paragraphs of up to 400 words
// (test/unit/positions_test.cpp measures it).
//
// Decoding is bounded by the input: a block whose widths or chunks run past the
// input, a width above 32, or positions that overflow 32 bits are rejected
// (Open or Positions returns false); nothing is read outside the input.
#pragma once

#include "fts/posting_list.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace quarry::fts {

/// Values per chunk of the positions stream.
inline constexpr std::size_t kPositionChunk = 128;

/// Bytes EncodePositions writes for these documents. tfs: one per document of
/// the block (at most kBlockSize, each >= 1); positions: sum(tfs) values, every
/// document's positions in block order, non-decreasing within a document.
std::size_t EncodedPositionsSize(std::span<const uint32_t> tfs, std::span<const uint32_t> positions);

/// Writes the encoding of the block's positions into out (at least
/// EncodedPositionsSize bytes). Preconditions as for EncodedPositionsSize; a
/// document whose positions decrease encodes to a block the reader rejects.
void EncodePositions(std::span<const uint32_t> tfs, std::span<const uint32_t> positions, std::span<uint8_t> out);

/// Reads the positions of one block's documents. Keeps the prefix sums of the
/// tfs and one decoded chunk in fixed arrays: no allocation, trivially
/// destructible (it lives on a scan's stack or in its arena). Documents are
/// decoded lazily, each on demand; reading them in order unpacks every chunk
/// once.
class PositionsBlockReader {
public:
	/// Takes the block's bytes (trailing bytes past the block are allowed) and
	/// the tfs of its documents (1..kBlockSize of them, each >= 1). Returns false
	/// when the tfs are out of range or the input is too short or malformed.
	bool Open(std::span<const uint8_t> in, std::span<const uint32_t> tfs);

	/// Documents in the block.
	uint32_t doc_count() const { return doc_count_; }
	/// Occurrences (tf) of document `doc` of the block (doc < doc_count()).
	uint32_t Tf(uint32_t doc) const { return doc_start_[doc + 1] - doc_start_[doc]; }
	/// Bytes the block occupies at the start of the input.
	std::size_t bytes_used() const { return bytes_used_; }

	/// Writes the positions of document `doc` of the block (absolute, in
	/// order) into out[0 .. Tf(doc)). Returns false when doc is out of range,
	/// out is too small, or the positions overflow 32 bits.
	bool Positions(uint32_t doc, std::span<uint32_t> out);

private:
	// Chunks whose start offsets Open caches; the starts of later chunks (a
	// block with more than 8192 positions) are summed from the widths.
	static constexpr uint32_t kCachedChunks = 64;

	std::size_t ChunkStart(uint32_t chunk) const;
	bool LoadChunk(uint32_t chunk);

	const uint8_t *in_ = nullptr;
	std::size_t in_size_ = 0;
	std::size_t bytes_used_ = 0;
	uint32_t doc_count_ = 0;
	uint32_t value_count_ = 0; // sum of the tfs
	uint32_t chunk_count_ = 0;
	uint32_t doc_start_[kBlockSize + 1] = {}; // prefix sums of the tfs
	std::size_t chunk_start_[kCachedChunks + 1] = {};
	uint32_t loaded_chunk_ = 0xFFFFFFFF; // chunk decoded in values_
	uint32_t values_[kPositionChunk] = {};
};
static_assert(std::is_trivially_destructible_v<PositionsBlockReader>, "lives in a scan arena");

} // namespace quarry::fts
