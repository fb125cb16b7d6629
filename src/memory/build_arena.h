// BuildArena: a private jemalloc arena for one index build.
//
// An index build makes large, mixed-size allocations that all live until the build
// ends. They come from an arena of their own (arenas.create), allocated with
// MALLOCX_ARENA | MALLOCX_TCACHE_NONE so that no thread cache ever holds a piece of
// it, and destroyed in one call (arena.<i>.destroy) that hands every page back to
// the operating system at once. The owner (src/pg/memory_glue.cpp) ties the
// arena's life to a PostgreSQL MemoryContext, so an ERROR or a cancel that aborts
// the build destroys it as well.
//
// Thread safety: Allocate/Deallocate may be called from several threads at once
// (jemalloc arenas are thread-safe; the byte counters are atomic). Create and
// Destroy are not concurrent with anything else.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>

namespace quarry::mem {

class BuildArena {
public:
	/// Creates the arena. Throws std::bad_alloc if jemalloc cannot create one.
	BuildArena();
	~BuildArena() { Destroy(); }

	BuildArena(const BuildArena &) = delete;
	BuildArena &operator=(const BuildArena &) = delete;
	BuildArena(BuildArena &&) = delete;
	BuildArena &operator=(BuildArena &&) = delete;

	/// Returns at least `bytes` bytes aligned to `align` (a power of two). Throws
	/// std::bad_alloc when jemalloc has no memory or the arena has been destroyed.
	void *Allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t));

	/// Gives back a block from Allocate; `bytes` and `align` as passed to it.
	void Deallocate(void *p, std::size_t bytes, std::size_t align = alignof(std::max_align_t)) noexcept;

	/// Returns every page of the arena to the operating system. Idempotent; after
	/// it, Allocate throws. Pointers from this arena become invalid.
	void Destroy() noexcept;

	bool alive() const { return alive_; }
	unsigned index() const { return index_; }

	/// Bytes currently allocated (jemalloc usable sizes) and the high-water mark.
	std::size_t bytes_allocated() const { return bytes_.load(std::memory_order_relaxed); }
	std::size_t peak_bytes() const { return peak_.load(std::memory_order_relaxed); }

	/// Pages jemalloc holds active for this arena, in bytes (jemalloc statistics).
	std::size_t ActiveBytes() const;

	/// Bytes of physically resident memory mapped by jemalloc in this process
	/// (stats.resident), for tests and diagnostics.
	static std::size_t ProcessResidentBytes();

private:
	int Flags(std::size_t align) const;
	void Count(std::int64_t delta) noexcept;

	unsigned index_ = 0;
	bool alive_ = false;
	std::atomic<std::size_t> bytes_{0};
	std::atomic<std::size_t> peak_{0};
};

/// Standard-library allocator over a BuildArena, so build-time containers
/// (std::vector, std::unordered_map, ...) draw from the build's arena.
template <typename T>
class BuildAllocator {
public:
	using value_type = T;

	explicit BuildAllocator(BuildArena &arena) noexcept : arena_(&arena) {}
	template <typename U>
	BuildAllocator(const BuildAllocator<U> &other) noexcept : arena_(other.arena())
	{
	}

	T *allocate(std::size_t n)
	{
		if (n > std::numeric_limits<std::size_t>::max() / sizeof(T))
			throw std::bad_array_new_length();
		return static_cast<T *>(arena_->Allocate(n * sizeof(T), alignof(T)));
	}
	void deallocate(T *p, std::size_t n) noexcept { arena_->Deallocate(p, n * sizeof(T), alignof(T)); }

	BuildArena *arena() const noexcept { return arena_; }

	template <typename U>
	bool operator==(const BuildAllocator<U> &other) const noexcept
	{
		return arena_ == other.arena();
	}

private:
	BuildArena *arena_;
};

} // namespace quarry::mem
