// C++ objects whose lifetime is a PostgreSQL MemoryContext.
//
// MakeOwned<T>(context, args...) constructs a T in memory allocated from
// `context` and registers a reset callback that runs ~T() when the context is
// reset or deleted, on the normal path and when an ERROR aborts the work. Objects
// created later in the same context are destroyed first (callbacks run in reverse
// order of registration), so a build state made after its BuildArena is torn down
// before the arena.
//
// DestroyOwned(p) runs the destructor early; the callback then does nothing.
#pragma once

#include "pg/postgres_api.h"

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace quarry::pg {

namespace detail {

// Precedes the object in the same allocation.
struct OwnedHeader {
	MemoryContextCallback callback;
	void (*destroy)(void *object);
	bool alive;
};
inline constexpr std::size_t kOwnedHeaderBytes = MAXALIGN(sizeof(OwnedHeader));

inline void
RunOwnedDestructor(void *arg) noexcept
{
	auto *header = static_cast<OwnedHeader *>(arg);
	if (!header->alive)
		return;
	header->alive = false;
	header->destroy(static_cast<char *>(arg) + kOwnedHeaderBytes);
}

} // namespace detail

template <typename T, typename... Args>
T *
MakeOwned(MemoryContext context, Args &&...args)
{
	static_assert(alignof(T) <= MAXIMUM_ALIGNOF, "palloc cannot align this type");
	static_assert(std::is_nothrow_destructible_v<T>, "destructors run in a reset callback");
	void *memory = MemoryContextAllocExtended(context, detail::kOwnedHeaderBytes + sizeof(T), MCXT_ALLOC_NO_OOM);
	if (memory == nullptr)
		throw std::bad_alloc();
	auto *header = static_cast<detail::OwnedHeader *>(memory);
	// If the constructor throws, the memory stays in `context` until it goes.
	T *object = new (static_cast<char *>(memory) + detail::kOwnedHeaderBytes) T(std::forward<Args>(args)...);
	header->destroy = [](void *p) { static_cast<T *>(p)->~T(); };
	header->alive = true;
	header->callback.func = detail::RunOwnedDestructor;
	header->callback.arg = header;
	MemoryContextRegisterResetCallback(context, &header->callback);
	return object;
}

template <typename T>
void
DestroyOwned(T *object) noexcept
{
	if (object == nullptr)
		return;
	detail::RunOwnedDestructor(reinterpret_cast<char *>(object) - detail::kOwnedHeaderBytes);
}

} // namespace quarry::pg
