// ScanArena: the bump allocator for per-scan scratch.
//
// A scan makes thousands of tiny allocations (candidates, heap entries, decoded
// blocks) that all die together at rescan or at the end of the scan. Allocation is
// a bounds check and a pointer bump; there is no per-object free.
//
// Blocks come from a BlockSource. In the server that is palloc in the scan's
// MemoryContext (src/pg/memory_glue.cpp), so an ERROR that unwinds the scan frees
// them with the context and no destructor needs to run.
//
// Reset() (amrescan) keeps one block and gives the others back. When a pass
// needed more than the kept block, Reset() replaces it with one block as large as
// the whole pass used (up to max_retained), so the next pass of the same size
// takes no block at all: after warm-up a query costs no allocation.
//
// Objects placed in the arena are never destroyed: only trivially destructible
// types may live here (Make/MakeArray check it).
#pragma once

#include "memory/memory_stats.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <type_traits>
#include <utility>

namespace quarry::mem {

/// Where a ScanArena gets its blocks. `allocate` returns nullptr when it has no
/// memory (it must not throw or longjmp); `release` gives a block back.
struct BlockSource {
	void *(*allocate)(void *state, std::size_t bytes) = nullptr;
	void (*release)(void *state, void *block) = nullptr;
	void *state = nullptr;
};

/// A BlockSource over operator new/delete, for tests and PostgreSQL-free users.
BlockSource HeapBlockSource();

class ScanArena {
public:
	static constexpr std::size_t kDefaultFirstBlock = 16 * 1024;
	static constexpr std::size_t kDefaultMaxRetained = 8 * 1024 * 1024;
	static constexpr std::size_t kMaxBlock = 64 * 1024 * 1024;

	/// Takes the first block from `source` at once; throws std::bad_alloc if it
	/// cannot.
	explicit ScanArena(BlockSource source,
					   std::size_t first_block = kDefaultFirstBlock,
					   std::size_t max_retained = kDefaultMaxRetained);
	~ScanArena();

	ScanArena(const ScanArena &) = delete;
	ScanArena &operator=(const ScanArena &) = delete;
	ScanArena(ScanArena &&) = delete;
	ScanArena &operator=(ScanArena &&) = delete;

	/// `bytes` bytes aligned to `align` (a power of two). Throws std::bad_alloc
	/// when the block source is out of memory.
	void *
	Allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t))
	{
		detail::scan_allocations++;
		std::uintptr_t p = (reinterpret_cast<std::uintptr_t>(cur_) + align - 1) & ~(align - 1);
		if (p + bytes > reinterpret_cast<std::uintptr_t>(end_) || p < reinterpret_cast<std::uintptr_t>(cur_))
			return AllocateSlow(bytes, align);
		cur_ = reinterpret_cast<char *>(p + bytes);
		return reinterpret_cast<void *>(p);
	}

	/// Bump arenas do not free single objects; present for allocator adapters.
	void Deallocate(void *, std::size_t, std::size_t = 0) noexcept {}

	template <typename T, typename... Args>
	T *
	Make(Args &&...args)
	{
		static_assert(std::is_trivially_destructible_v<T>, "arena objects are never destroyed");
		return new (Allocate(sizeof(T), alignof(T))) T(std::forward<Args>(args)...);
	}

	/// Uninitialised storage for `n` objects of a trivially destructible type.
	template <typename T>
	T *
	MakeArray(std::size_t n)
	{
		static_assert(std::is_trivially_destructible_v<T>, "arena objects are never destroyed");
		if (n > std::numeric_limits<std::size_t>::max() / sizeof(T))
			throw std::bad_array_new_length();
		return static_cast<T *>(Allocate(n * sizeof(T), alignof(T)));
	}

	/// Drops everything allocated so far. Keeps one block, grown to what the
	/// last pass used (up to max_retained), and releases the others.
	void Reset();

	/// Bytes handed out since construction or the last Reset (with padding).
	std::size_t bytes_used() const { return used_before_current_ + (cur_ - current_->data()); }
	/// Bytes held in blocks right now.
	std::size_t bytes_reserved() const { return reserved_; }
	/// Number of blocks held right now.
	std::size_t block_count() const { return blocks_; }

private:
	struct Block {
		Block *next;
		std::size_t size; // usable bytes after the header
		char *data() { return reinterpret_cast<char *>(this + 1); }
	};
	static_assert(sizeof(Block) % alignof(std::max_align_t) == 0, "block data stays max-aligned");

	void *AllocateSlow(std::size_t bytes, std::size_t align);
	Block *NewBlock(std::size_t usable);
	void ReleaseAll(Block *keep);
	void UseBlock(Block *b);

	BlockSource source_;
	std::size_t max_retained_;
	Block *first_ = nullptr;   // the kept block; head of the block list
	Block *current_ = nullptr; // block being bumped
	char *cur_ = nullptr;
	char *end_ = nullptr;
	std::size_t next_size_ = 0;
	std::size_t used_before_current_ = 0;
	std::size_t reserved_ = 0;
	std::size_t blocks_ = 0;
};

/// Standard-library allocator over a ScanArena (deallocate is a no-op).
template <typename T>
class ScanAllocator {
public:
	using value_type = T;

	explicit ScanAllocator(ScanArena &arena) noexcept : arena_(&arena) {}
	template <typename U>
	ScanAllocator(const ScanAllocator<U> &other) noexcept : arena_(other.arena())
	{
	}

	T *
	allocate(std::size_t n)
	{
		if (n > std::numeric_limits<std::size_t>::max() / sizeof(T))
			throw std::bad_array_new_length();
		return static_cast<T *>(arena_->Allocate(n * sizeof(T), alignof(T)));
	}
	void deallocate(T *, std::size_t) noexcept {}

	ScanArena *arena() const noexcept { return arena_; }

	template <typename U>
	bool
	operator==(const ScanAllocator<U> &other) const noexcept
	{
		return arena_ == other.arena();
	}

private:
	ScanArena *arena_;
};

} // namespace quarry::mem
