#include "memory/memory_stats.h"
#include "memory/scan_arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <numeric>
#include <unordered_map>
#include <vector>

using quarry::mem::BlockSource;
using quarry::mem::HeapBlockSource;
using quarry::mem::ReadMemoryStats;
using quarry::mem::ScanAllocator;
using quarry::mem::ScanArena;

namespace {

// A block source that counts what it hands out and can be told to fail.
struct CountingSource {
	int live = 0;
	int total = 0;
	bool fail = false;

	BlockSource
	Source()
	{
		BlockSource s;
		s.state = this;
		s.allocate = [](void *state, std::size_t bytes) -> void * {
			auto *self = static_cast<CountingSource *>(state);
			if (self->fail)
				return nullptr;
			self->live++;
			self->total++;
			return ::operator new(bytes, std::align_val_t{alignof(std::max_align_t)});
		};
		s.release = [](void *state, void *block) {
			static_cast<CountingSource *>(state)->live--;
			::operator delete(block, std::align_val_t{alignof(std::max_align_t)});
		};
		return s;
	}
};

bool
IsAligned(const void *p, std::size_t align)
{
	return reinterpret_cast<std::uintptr_t>(p) % align == 0;
}

} // namespace

TEST(ScanArena, AlignsEverySizeClass)
{
	ScanArena arena(HeapBlockSource());
	for (std::size_t align = 1; align <= 4096; align *= 2)
	{
		for (std::size_t size : {1u, 2u, 3u, 7u, 8u, 15u, 16u, 31u, 48u, 64u, 100u, 255u, 1024u, 4095u,
								 70000u})
		{
			void *p = arena.Allocate(size, align);
			ASSERT_TRUE(IsAligned(p, align)) << "size " << size << " align " << align;
			std::memset(p, 0xAB, size);
		}
	}
	// Default alignment is max_align_t's.
	for (int i = 0; i < 100; i++)
		EXPECT_TRUE(IsAligned(arena.Allocate(1 + i % 13), alignof(std::max_align_t)));
}

TEST(ScanArena, AllocationsDoNotOverlap)
{
	ScanArena arena(HeapBlockSource(), 1024);
	std::vector<std::pair<uint8_t *, std::size_t>> pieces;
	for (std::size_t i = 0; i < 20000; i++)
	{
		std::size_t size = 1 + (i * 7919) % 200;
		auto *p = static_cast<uint8_t *>(arena.Allocate(size, 1u << (i % 5)));
		std::memset(p, static_cast<int>(i & 0xFF), size);
		pieces.emplace_back(p, size);
	}
	for (std::size_t i = 0; i < pieces.size(); i++)
		for (std::size_t j = 0; j < pieces[i].second; j++)
			ASSERT_EQ(pieces[i].first[j], static_cast<uint8_t>(i & 0xFF)) << "piece " << i;
}

TEST(ScanArena, GrowsByAddingBlocks)
{
	CountingSource source;
	ScanArena arena(source.Source(), 4096);
	EXPECT_EQ(source.total, 1); // the first block, taken at construction
	EXPECT_EQ(arena.block_count(), 1u);
	for (int i = 0; i < 1000; i++)
		arena.Allocate(64);
	EXPECT_GT(arena.block_count(), 1u);
	EXPECT_EQ(arena.block_count(), static_cast<std::size_t>(source.live));
	// A request larger than any block so far gets a block of its own size.
	void *big = arena.Allocate(1 << 20);
	std::memset(big, 1, 1 << 20);
	EXPECT_GE(arena.bytes_reserved(), std::size_t{1} << 20);
}

TEST(ScanArena, ResetReusesMemoryForTheSameWork)
{
	CountingSource source;
	ScanArena arena(source.Source(), 4096);
	auto work = [&] {
		for (int i = 0; i < 5000; i++)
			arena.Allocate(8 + i % 56);
	};
	work(); // warm-up: needs blocks beyond the first
	int after_warmup = source.total;
	EXPECT_GT(after_warmup, 1);

	arena.Reset(); // keeps one block big enough for the whole pass
	EXPECT_EQ(arena.block_count(), 1u);
	EXPECT_EQ(source.live, 1);
	int after_reset = source.total;

	for (int pass = 0; pass < 10; pass++)
	{
		work();
		arena.Reset();
	}
	EXPECT_EQ(source.total, after_reset) << "the same work after a reset took new blocks";
	EXPECT_EQ(source.live, 1);
}

TEST(ScanArena, ResetWithoutGrowthKeepsTheFirstBlock)
{
	CountingSource source;
	ScanArena arena(source.Source(), 64 * 1024);
	void *first = arena.Allocate(100);
	arena.Reset();
	EXPECT_EQ(arena.Allocate(100), first);
	EXPECT_EQ(source.total, 1);
	EXPECT_EQ(arena.bytes_used(), 100u); // padding comes before the next piece, not after
}

TEST(ScanArena, RetainedBlockIsCapped)
{
	CountingSource source;
	ScanArena arena(source.Source(), 4096, 64 * 1024);
	for (int i = 0; i < 100; i++)
		arena.Allocate(16 * 1024);
	arena.Reset();
	EXPECT_EQ(arena.block_count(), 1u);
	EXPECT_LE(arena.bytes_reserved(), 64u * 1024);
}

TEST(ScanArena, ManySmallAllocationsUseFewBlocks)
{
	CountingSource source;
	ScanArena arena(source.Source());
	for (int i = 0; i < 1000000; i++)
		arena.Allocate(16);
	// Geometric growth: 16 MB in far fewer than 100 blocks.
	EXPECT_LT(source.total, 20);
	EXPECT_GE(arena.bytes_used(), 16u * 1000000);
}

TEST(ScanArena, FailingSourceThrowsBadAlloc)
{
	CountingSource source;
	ScanArena arena(source.Source(), 1024);
	source.fail = true;
	EXPECT_THROW(
		{
			for (int i = 0; i < 1000; i++)
				arena.Allocate(64);
		},
		std::bad_alloc);
	// Reset still works when no bigger block can be had: it keeps the first one.
	arena.Reset();
	EXPECT_EQ(arena.block_count(), 1u);
	EXPECT_NE(arena.Allocate(64), nullptr);

	CountingSource empty;
	empty.fail = true;
	EXPECT_THROW(ScanArena(empty.Source()), std::bad_alloc);
}

TEST(ScanArena, DestructorReleasesEveryBlock)
{
	CountingSource source;
	{
		ScanArena arena(source.Source(), 1024);
		for (int i = 0; i < 10000; i++)
			arena.Allocate(100);
		EXPECT_GT(source.live, 1);
	}
	EXPECT_EQ(source.live, 0);
}

TEST(ScanArena, MakeConstructsTrivialObjects)
{
	struct Candidate {
		uint32_t id;
		float distance;
	};
	ScanArena arena(HeapBlockSource());
	Candidate *c = arena.Make<Candidate>(Candidate{7, 0.5f});
	EXPECT_EQ(c->id, 7u);
	EXPECT_FLOAT_EQ(c->distance, 0.5f);
	float *row = arena.MakeArray<float>(1000);
	EXPECT_TRUE(IsAligned(row, alignof(float)));
	EXPECT_THROW(arena.MakeArray<double>(SIZE_MAX / 2), std::bad_array_new_length);
}

TEST(ScanArena, AllocatorAdapterWithVector)
{
	ScanArena arena(HeapBlockSource(), 1024);
	std::vector<int, ScanAllocator<int>> v{ScanAllocator<int>(arena)};
	for (int i = 0; i < 100000; i++)
		v.push_back(i);
	EXPECT_EQ(std::accumulate(v.begin(), v.end(), 0LL), 99999LL * 100000 / 2);
	EXPECT_GE(arena.bytes_used(), 100000u * sizeof(int));
}

TEST(ScanArena, AllocatorAdapterWithUnorderedMap)
{
	ScanArena arena(HeapBlockSource(), 1024);
	using Alloc = ScanAllocator<std::pair<const uint32_t, float>>;
	std::unordered_map<uint32_t, float, std::hash<uint32_t>, std::equal_to<uint32_t>, Alloc> m(
		16, std::hash<uint32_t>(), std::equal_to<uint32_t>(), Alloc(arena));
	for (uint32_t i = 0; i < 10000; i++)
		m[i * 7] = static_cast<float>(i);
	ASSERT_EQ(m.size(), 10000u);
	for (uint32_t i = 0; i < 10000; i++)
		ASSERT_FLOAT_EQ(m.at(i * 7), static_cast<float>(i));
}

TEST(ScanArena, CountersTrackResetsBlocksAndAllocations)
{
	auto before = ReadMemoryStats();
	{
		ScanArena arena(HeapBlockSource(), 1024);
		for (int i = 0; i < 1000; i++)
			arena.Allocate(32);
		arena.Reset();
		arena.Reset();
	}
	auto after = ReadMemoryStats();
	EXPECT_EQ(after.scan_arenas_created - before.scan_arenas_created, 1u);
	EXPECT_EQ(after.scan_arena_resets - before.scan_arena_resets, 2u);
	EXPECT_EQ(after.scan_allocations - before.scan_allocations, 1000u);
	EXPECT_GT(after.scan_blocks_allocated - before.scan_blocks_allocated, 1u);
	EXPECT_GE(after.scan_bytes_peak, 32u * 1000);
}
