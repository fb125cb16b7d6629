#include "fts/term_positions.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace quarry::fts;

namespace {

uint8_t *
HeapBuffer(void *state, std::size_t bytes)
{
	auto *owned = static_cast<std::vector<std::vector<uint8_t>> *>(state);
	owned->emplace_back(bytes);
	return owned->back().data();
}

} // namespace

// A list's positions section reads back block by block, in any block order,
// with blocks far larger than a page; a truncated section is rejected.
TEST(TermPositions, RoundTripsBlockByBlock)
{
	std::mt19937 rng(9);
	for (int round = 0; round < 60; round++)
	{
		const uint32_t docs = 1 + rng() % 1000;
		std::vector<uint32_t> tfs(docs), positions;
		for (uint32_t d = 0; d < docs; d++)
		{
			tfs[d] = 1 + (rng() % 50 == 0 ? rng() % 3000 : rng() % 4);
			uint32_t p = 0;
			for (uint32_t i = 0; i < tfs[d]; i++)
				positions.push_back(p = std::min<uint32_t>(16383, p + 1 + rng() % 9));
		}
		std::vector<uint8_t> section(EncodedTermPositionsSize(tfs, positions));
		EncodeTermPositions(tfs, positions, section);
		MemoryPostingBytes bytes(section.data(), section.size());
		std::vector<std::vector<uint8_t>> owned;
		TermPositionsReader reader;
		const uint32_t blocks = (docs + kBlockSize - 1) / kBlockSize;
		reader.Init(&bytes, static_cast<uint32_t>(section.size()), blocks, {HeapBuffer, &owned});
		std::vector<std::size_t> doc_start(docs + 1, 0);
		for (uint32_t d = 0; d < docs; d++)
			doc_start[d + 1] = doc_start[d] + tfs[d];
		for (uint32_t k = 0; k < blocks; k++)
		{
			const uint32_t b = (k * 7 + round) % blocks; // not in order
			const uint32_t first = b * kBlockSize, n = std::min<uint32_t>(kBlockSize, docs - first);
			ASSERT_TRUE(reader.OpenBlock(b, {tfs.data() + first, n}));
			for (uint32_t i = 0; i < n; i++)
			{
				std::vector<uint32_t> got(tfs[first + i]);
				ASSERT_TRUE(reader.Positions(i, got));
				ASSERT_TRUE(std::equal(got.begin(), got.end(), positions.begin() + doc_start[first + i]));
			}
		}
		MemoryPostingBytes cut(section.data(), section.size() - 1);
		reader.Init(&cut, static_cast<uint32_t>(section.size()), blocks, {HeapBuffer, &owned});
		const uint32_t last = blocks - 1, n = docs - last * kBlockSize;
		std::vector<uint32_t> out(tfs.back());
		EXPECT_FALSE(reader.OpenBlock(last, {tfs.data() + last * kBlockSize, n}) && reader.Positions(n - 1, out));
		EXPECT_FALSE(reader.OpenBlock(blocks, {tfs.data(), 1}));
	}
}
