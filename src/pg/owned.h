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

template <typename T>
struct OwnedHolder {
	T object; // first member: DestroyOwned finds the holder from the object
	MemoryContextCallback callback;
	bool alive;

	static void
	OnReset(void *arg) noexcept
	{
		auto *holder = static_cast<OwnedHolder *>(arg);
		if (!holder->alive)
			return;
		holder->alive = false;
		holder->object.~T();
	}
};

} // namespace detail

template <typename T, typename... Args>
T *
MakeOwned(MemoryContext context, Args &&...args)
{
	using Holder = detail::OwnedHolder<T>;
	static_assert(alignof(Holder) <= MAXIMUM_ALIGNOF, "palloc cannot align this type");
	static_assert(std::is_nothrow_destructible_v<T>, "destructors run in a reset callback");
	void *memory = MemoryContextAllocExtended(context, sizeof(Holder), MCXT_ALLOC_NO_OOM);
	if (memory == nullptr)
		throw std::bad_alloc();
	auto *holder = static_cast<Holder *>(memory);
	// If the constructor throws, the memory stays in `context` until it goes.
	new (&holder->object) T(std::forward<Args>(args)...);
	holder->alive = true;
	holder->callback.func = &Holder::OnReset;
	holder->callback.arg = holder;
	MemoryContextRegisterResetCallback(context, &holder->callback);
	return &holder->object;
}

template <typename T>
void
DestroyOwned(T *object) noexcept
{
	static_assert(offsetof(detail::OwnedHolder<T>, object) == 0);
	if (object == nullptr)
		return;
	detail::OwnedHolder<T>::OnReset(reinterpret_cast<detail::OwnedHolder<T> *>(object));
}

} // namespace quarry::pg
