#include "fts/term_positions.h"

#include <algorithm>
#include <cstring>

namespace quarry::fts {

namespace {

// Documents of posting block `b` of a list of `docs` documents.
std::size_t
BlockDocs(std::size_t docs, std::size_t b)
{
	return std::min(kBlockSize, docs - b * kBlockSize);
}

} // namespace

std::size_t
EncodedTermPositionsSize(std::span<const uint32_t> tfs, std::span<const uint32_t> positions)
{
	const std::size_t blocks = (tfs.size() + kBlockSize - 1) / kBlockSize;
	std::size_t bytes = blocks * sizeof(uint32_t);
	std::size_t at = 0;
	for (std::size_t b = 0; b < blocks; b++)
	{
		auto block_tfs = tfs.subspan(b * kBlockSize, BlockDocs(tfs.size(), b));
		std::size_t n = 0;
		for (uint32_t tf : block_tfs)
			n += tf;
		bytes += EncodedPositionsSize(block_tfs, positions.subspan(at, n));
		at += n;
	}
	return bytes;
}

void
EncodeTermPositions(std::span<const uint32_t> tfs, std::span<const uint32_t> positions, std::span<uint8_t> out)
{
	const std::size_t blocks = (tfs.size() + kBlockSize - 1) / kBlockSize;
	std::size_t write = blocks * sizeof(uint32_t);
	std::size_t at = 0;
	for (std::size_t b = 0; b < blocks; b++)
	{
		const auto start = static_cast<uint32_t>(write);
		std::memcpy(out.data() + b * sizeof(uint32_t), &start, sizeof start);
		auto block_tfs = tfs.subspan(b * kBlockSize, BlockDocs(tfs.size(), b));
		std::size_t n = 0;
		for (uint32_t tf : block_tfs)
			n += tf;
		auto block_positions = positions.subspan(at, n);
		const std::size_t bytes = EncodedPositionsSize(block_tfs, block_positions);
		EncodePositions(block_tfs, block_positions, out.subspan(write, bytes));
		write += bytes;
		at += n;
	}
}

void
TermPositionsReader::Init(PostingBytes *bytes, uint32_t section_bytes, uint32_t block_count, BufferSource buffers)
{
	bytes_ = bytes;
	buffers_ = buffers;
	section_bytes_ = section_bytes;
	block_count_ = block_count;
	block_ = 0xFFFFFFFF;
}

bool
TermPositionsReader::OpenBlock(uint32_t block, std::span<const uint32_t> tfs)
{
	if (block >= block_count_ || uint64_t{block_count_} * sizeof(uint32_t) > section_bytes_)
		return false;
	uint32_t start = 0, end = section_bytes_;
	const uint8_t *p = bytes_->Read(uint64_t{block} * sizeof(uint32_t), sizeof(uint32_t));
	if (p == nullptr)
		return false;
	std::memcpy(&start, p, sizeof start);
	if (block + 1 < block_count_)
	{
		p = bytes_->Read(uint64_t{block + 1} * sizeof(uint32_t), sizeof(uint32_t));
		if (p == nullptr)
			return false;
		std::memcpy(&end, p, sizeof end);
	}
	if (start < block_count_ * sizeof(uint32_t) || start > end || end > section_bytes_)
		return false;
	if (!Copy(start, end) || !reader_.Open({buffer_, end - start}, tfs))
		return false;
	block_ = block;
	return true;
}

// Copies section bytes [start, end) into the buffer, in pieces small enough
// for any PostingBytes to serve.
bool
TermPositionsReader::Copy(uint32_t start, uint32_t end)
{
	constexpr uint32_t kPiece = 1024;
	const std::size_t need = end - start;
	if (need > buffer_bytes_)
	{
		const std::size_t grown = std::max<std::size_t>({need, 2 * buffer_bytes_, 4096});
		uint8_t *bigger = buffers_.allocate == nullptr ? nullptr : buffers_.allocate(buffers_.state, grown);
		if (bigger == nullptr)
			return false;
		buffer_ = bigger;
		buffer_bytes_ = grown;
	}
	for (uint32_t at = start; at < end; at += kPiece)
	{
		const uint32_t len = std::min(kPiece, end - at);
		const uint8_t *p = bytes_->Read(at, len);
		if (p == nullptr)
			return false;
		std::memcpy(buffer_ + (at - start), p, len);
	}
	return true;
}

} // namespace quarry::fts
