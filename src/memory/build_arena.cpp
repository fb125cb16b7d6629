// The only file of quarry that calls jemalloc. See build_arena.h for the contract.
#include "memory/build_arena.h"

#include "memory/memory_stats.h"

#include <jemalloc/jemalloc.h>

#include <cstdio>
#include <sys/types.h>

namespace quarry::mem {

namespace {

// Decay policy of a build arena.
//
// dirty_decay_ms = 1000: a page the build frees (a vector that grew, a buffer it
// is done with) stays mapped for up to a second so the build's next allocations can
// reuse it without a page fault, and is then purged (MADV_DONTNEED). A build that
// frees and reallocates in a loop does not pay a syscall per free, and one that
// frees a lot mid-build gives it back within a second.
//
// muzzy_decay_ms = 0: pages are never parked in the "muzzy" state (MADV_FREE).
// MADV_FREE'd pages keep counting in the process's RSS until the kernel is under
// memory pressure, which is exactly the RSS a shared database host should not see.
//
// At the end of the build (or when it is aborted) arena.<i>.destroy unmaps all of
// the arena's memory at once, whatever the decay settings.
constexpr ssize_t kDirtyDecayMs = 1000;
constexpr ssize_t kMuzzyDecayMs = 0;

bool
SetArenaOption(unsigned index, const char *name, ssize_t value)
{
	char key[64];
	std::snprintf(key, sizeof key, "arena.%u.%s", index, name);
	return qje_mallctl(key, nullptr, nullptr, &value, sizeof value) == 0;
}

void
RefreshStatistics()
{
	uint64_t epoch = 1;
	std::size_t size = sizeof epoch;
	qje_mallctl("epoch", &epoch, &size, &epoch, size);
}

} // namespace

BuildArena::BuildArena()
{
	std::size_t size = sizeof index_;
	if (qje_mallctl("arenas.create", &index_, &size, nullptr, 0) != 0)
		throw std::bad_alloc();
	alive_ = true;
	detail::NoteBuildArenaCreated();
	if (!SetArenaOption(index_, "dirty_decay_ms", kDirtyDecayMs) ||
		!SetArenaOption(index_, "muzzy_decay_ms", kMuzzyDecayMs))
	{
		Destroy();
		throw std::bad_alloc();
	}
}

int
BuildArena::Flags(std::size_t align) const
{
	int flags = MALLOCX_ARENA(index_) | MALLOCX_TCACHE_NONE;
	if (align > alignof(std::max_align_t))
		flags |= MALLOCX_ALIGN(align);
	return flags;
}

void
BuildArena::Count(std::int64_t delta) noexcept
{
	std::size_t now = bytes_.fetch_add(static_cast<std::size_t>(delta), std::memory_order_relaxed) +
					  static_cast<std::size_t>(delta);
	std::size_t peak = peak_.load(std::memory_order_relaxed);
	while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed))
	{
	}
	detail::AddBuildBytes(delta);
}

void *
BuildArena::Allocate(std::size_t bytes, std::size_t align)
{
	if (!alive_)
		throw std::bad_alloc();
	if (bytes == 0)
		bytes = 1;
	int flags = Flags(align);
	void *p = qje_mallocx(bytes, flags);
	if (p == nullptr)
		throw std::bad_alloc();
	Count(static_cast<std::int64_t>(qje_nallocx(bytes, flags)));
	return p;
}

void
BuildArena::Deallocate(void *p, std::size_t bytes, std::size_t align) noexcept
{
	if (p == nullptr || !alive_)
		return;
	if (bytes == 0)
		bytes = 1;
	int flags = Flags(align);
	Count(-static_cast<std::int64_t>(qje_nallocx(bytes, flags)));
	qje_sdallocx(p, bytes, flags);
}

void
BuildArena::Destroy() noexcept
{
	if (!alive_)
		return;
	alive_ = false;
	char key[64];
	std::snprintf(key, sizeof key, "arena.%u.destroy", index_);
	qje_mallctl(key, nullptr, nullptr, nullptr, 0);
	std::size_t left = bytes_.exchange(0, std::memory_order_relaxed);
	detail::AddBuildBytes(-static_cast<std::int64_t>(left));
	detail::NoteBuildArenaDestroyed();
}

std::size_t
BuildArena::ActiveBytes() const
{
	if (!alive_)
		return 0;
	RefreshStatistics();
	char key[64];
	std::snprintf(key, sizeof key, "stats.arenas.%u.pactive", index_);
	std::size_t pages = 0, page_size = 0;
	std::size_t size = sizeof pages;
	if (qje_mallctl(key, &pages, &size, nullptr, 0) != 0)
		return 0;
	size = sizeof page_size;
	if (qje_mallctl("arenas.page", &page_size, &size, nullptr, 0) != 0)
		return 0;
	return pages * page_size;
}

std::size_t
BuildArena::ProcessResidentBytes()
{
	RefreshStatistics();
	std::size_t resident = 0;
	std::size_t size = sizeof resident;
	if (qje_mallctl("stats.resident", &resident, &size, nullptr, 0) != 0)
		return 0;
	return resident;
}

} // namespace quarry::mem
