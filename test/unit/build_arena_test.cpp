#include "memory/build_arena.h"
#include "memory/memory_stats.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

using quarry::mem::BuildAllocator;
using quarry::mem::BuildArena;
using quarry::mem::ReadMemoryStats;

namespace {

std::size_t
ProcessRss()
{
	FILE *f = std::fopen("/proc/self/statm", "r");
	if (f == nullptr)
		return 0;
	unsigned long size = 0, resident = 0;
	if (std::fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	std::fclose(f);
	return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

bool
IsAligned(const void *p, std::size_t align)
{
	return reinterpret_cast<std::uintptr_t>(p) % align == 0;
}

constexpr std::size_t kMiB = 1024 * 1024;

} // namespace

TEST(BuildArena, AlignsEverySizeClass)
{
	BuildArena arena;
	// jemalloc's small, large and huge size classes, with every alignment up to a page.
	for (std::size_t align = 1; align <= 4096; align *= 2)
	{
		for (std::size_t size = 1; size <= (8u << 20); size = size * 3 / 2 + 1)
		{
			void *p = arena.Allocate(size, align);
			ASSERT_TRUE(IsAligned(p, std::max<std::size_t>(align, 1))) << size << "/" << align;
			static_cast<char *>(p)[0] = 1;
			static_cast<char *>(p)[size - 1] = 2;
			arena.Deallocate(p, size, align);
		}
	}
	EXPECT_EQ(arena.bytes_allocated(), 0u);
}

TEST(BuildArena, CountsLiveAndPeakBytes)
{
	auto before = ReadMemoryStats();
	BuildArena arena;
	std::vector<void *> blocks;
	for (int i = 0; i < 100; i++)
		blocks.push_back(arena.Allocate(10000));
	EXPECT_GE(arena.bytes_allocated(), 100u * 10000);
	std::size_t peak = arena.bytes_allocated();
	for (void *p : blocks)
		arena.Deallocate(p, 10000);
	EXPECT_EQ(arena.bytes_allocated(), 0u);
	EXPECT_EQ(arena.peak_bytes(), peak);
	auto during = ReadMemoryStats();
	EXPECT_EQ(during.build_arenas_created - before.build_arenas_created, 1u);
	EXPECT_GE(during.build_bytes_peak, peak);
}

TEST(BuildArena, DestroyReturnsMemoryToTheOperatingSystem)
{
	std::size_t rss_before = ProcessRss();
	std::size_t resident_before = BuildArena::ProcessResidentBytes();
	auto stats_before = ReadMemoryStats();
	{
		BuildArena arena;
		// 512 MB of mixed sizes, all touched, as a build would.
		std::size_t done = 0;
		for (std::size_t i = 0; done < 512 * kMiB; i++)
		{
			std::size_t size = (i % 64 == 63) ? (256u << 10) : 64 + (i * 37) % 1500;
			std::memset(arena.Allocate(size), 0x5A, size);
			done += size;
		}
		EXPECT_GE(arena.ActiveBytes(), 500 * kMiB);
		EXPECT_GE(ProcessRss(), rss_before + 500 * kMiB);
		EXPECT_GE(BuildArena::ProcessResidentBytes(), resident_before + 500 * kMiB);
		arena.Destroy();
		EXPECT_FALSE(arena.alive());
		EXPECT_EQ(arena.ActiveBytes(), 0u);
		EXPECT_THROW(arena.Allocate(16), std::bad_alloc);
	}
	EXPECT_LT(ProcessRss(), rss_before + 32 * kMiB);
	EXPECT_LT(BuildArena::ProcessResidentBytes(), resident_before + 32 * kMiB);
	auto stats_after = ReadMemoryStats();
	EXPECT_EQ(stats_after.build_arenas_destroyed - stats_before.build_arenas_destroyed, 1u);
	EXPECT_EQ(stats_after.build_bytes_current, stats_before.build_bytes_current);
}

TEST(BuildArena, DestroyIsIdempotentAndLateFreesAreIgnored)
{
	auto before = ReadMemoryStats();
	BuildArena arena;
	void *p = arena.Allocate(1000);
	arena.Destroy();
	arena.Destroy();
	arena.Deallocate(p, 1000); // a container torn down after its arena: a no-op
	auto after = ReadMemoryStats();
	EXPECT_EQ(after.build_arenas_destroyed - before.build_arenas_destroyed, 1u);
}

TEST(BuildArena, WorkerArenasCountAsThisProcesss)
{
	// A parallel build's leader adds its workers' reports to its counters.
	auto before = ReadMemoryStats();
	quarry::mem::AddWorkerBuildArenas(2, 1);
	auto after = ReadMemoryStats();
	EXPECT_EQ(after.build_arenas_created, before.build_arenas_created + 2);
	EXPECT_EQ(after.build_arenas_destroyed, before.build_arenas_destroyed + 1);
	quarry::mem::AddWorkerBuildArenas(0, 1); // so that every arena counted is gone again
	EXPECT_EQ(ReadMemoryStats().build_arenas_destroyed, before.build_arenas_destroyed + 2);
}

TEST(BuildArena, ArenasAreIndependent)
{
	BuildArena a, b;
	EXPECT_NE(a.index(), b.index());
	void *pa = a.Allocate(1 << 20);
	std::memset(pa, 1, 1 << 20);
	b.Destroy(); // destroying b leaves a's memory alone
	EXPECT_EQ(static_cast<char *>(pa)[12345], 1);
	a.Deallocate(pa, 1 << 20);
}

TEST(BuildArena, AllocatorAdapterWithStandardContainers)
{
	BuildArena arena;
	{
		std::vector<uint64_t, BuildAllocator<uint64_t>> v{BuildAllocator<uint64_t>(arena)};
		for (uint64_t i = 0; i < 1000000; i++)
			v.push_back(i * i);
		EXPECT_EQ(v[999], 999u * 999u);
		EXPECT_GE(arena.bytes_allocated(), 1000000u * sizeof(uint64_t));

		using MapAlloc = BuildAllocator<std::pair<const uint32_t, std::vector<uint32_t>>>;
		std::unordered_map<uint32_t, std::vector<uint32_t>, std::hash<uint32_t>, std::equal_to<uint32_t>,
						   MapAlloc>
			postings(64, std::hash<uint32_t>(), std::equal_to<uint32_t>(), MapAlloc(arena));
		for (uint32_t doc = 0; doc < 10000; doc++)
			postings[doc % 97].push_back(doc);
		EXPECT_EQ(postings.size(), 97u);
		EXPECT_EQ(postings[0].size(), 104u);
	}
	// Every container gave its memory back through the adapter.
	EXPECT_EQ(arena.bytes_allocated(), 0u);
}

TEST(BuildArena, ThreadsAllocateConcurrently)
{
	BuildArena arena;
	auto work = [&arena] {
		std::vector<void *> mine;
		for (int i = 0; i < 20000; i++)
			mine.push_back(arena.Allocate(16 + i % 512));
		for (int i = 0; i < 20000; i++)
			arena.Deallocate(mine[i], 16 + i % 512);
	};
	std::thread t1(work), t2(work);
	t1.join();
	t2.join();
	EXPECT_EQ(arena.bytes_allocated(), 0u);
}
