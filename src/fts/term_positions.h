// The positions of one term's posting list: what follows the list in a
// segment, one positions block (positions.h) per posting block, behind a table
// of where each starts, so that a phrase query reads the positions of the
// blocks it visits and no others.
//
// Layout (little-endian):
//
//   uint32_t block_start[block_count]   offset of block b from the section's start
//   block 0, block 1, ...               EncodePositions of each posting block's documents
//
// block_count is the posting list's (ceil(doc_freq / kBlockSize)); block b's
// tfs are the posting block's, so its positions decode with them.
#pragma once

#include "fts/positions.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace quarry::fts {

/// Bytes of the positions section of a list with these tfs (one per document,
/// posting order) and positions (sum(tfs) of them, document after document).
std::size_t EncodedTermPositionsSize(std::span<const uint32_t> tfs, std::span<const uint32_t> positions);

/// Writes the section into `out` (exactly EncodedTermPositionsSize bytes).
void EncodeTermPositions(std::span<const uint32_t> tfs, std::span<const uint32_t> positions, std::span<uint8_t> out);

/// Where a TermPositionsReader gets a larger buffer (a scan arena in the
/// server); nullptr when there is no memory.
struct BufferSource {
	uint8_t *(*allocate)(void *state, std::size_t bytes) = nullptr;
	void *state = nullptr;
};

/// Reads a term's positions section block by block, through PostingBytes
/// (pinned pages in the server): a block's bytes are copied into the reader's
/// buffer (grown from `buffers` when a block needs more), so a block may span
/// pages. Trivially destructible.
class TermPositionsReader {
public:
	/// `bytes` reads the section (offset 0 is its start), `section_bytes` long,
	/// for a list of `block_count` blocks.
	void Init(PostingBytes *bytes, uint32_t section_bytes, uint32_t block_count, BufferSource buffers);

	/// Opens posting block `block` with its documents' tfs; false if the
	/// section is malformed there.
	bool OpenBlock(uint32_t block, std::span<const uint32_t> tfs);
	uint32_t open_block() const { return block_; }

	/// The positions of document `doc` of the open block into out[0 .. tf).
	bool Positions(uint32_t doc, std::span<uint32_t> out) { return reader_.Positions(doc, out); }

	/// The positions of `cursor`'s document (this reader is over the same
	/// list's section) into out[0 .. its tf), opening its block if another is
	/// open; false if unreadable.
	bool PositionsAt(PostingCursor &cursor, std::span<uint32_t> out)
	{
		if (block_ != cursor.block() && !OpenBlock(cursor.block(), cursor.BlockTfs()))
			return false;
		return reader_.Positions(cursor.index_in_block(), out);
	}

private:
	bool Copy(uint32_t start, uint32_t end);

	PostingBytes *bytes_ = nullptr;
	BufferSource buffers_;
	uint8_t *buffer_ = nullptr;
	std::size_t buffer_bytes_ = 0;
	uint32_t section_bytes_ = 0;
	uint32_t block_count_ = 0;
	uint32_t block_ = 0xFFFFFFFF;
	PositionsBlockReader reader_;
};
static_assert(std::is_trivially_destructible_v<TermPositionsReader>, "lives in a scan arena");

} // namespace quarry::fts
