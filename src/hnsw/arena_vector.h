// ArenaVector<T>: a growable array in a ScanArena, for per-scan scratch.
//
// Trivially destructible itself (it can live in the arena it allocates from),
// for trivially copyable T. Growing doubles the capacity and leaves the old
// storage to the arena, which frees everything at its next Reset(). It has the
// members search.h's heaps use: push_back, pop_back, front, back, begin, end,
// size, empty, clear, operator[].
#pragma once

#include "memory/scan_arena.h"

#include <cstddef>
#include <cstring>
#include <type_traits>

namespace quarry::hnsw {

template <typename T>
class ArenaVector {
	static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

public:
	ArenaVector(mem::ScanArena &arena, std::size_t capacity) : arena_(&arena) { Reserve(capacity < 4 ? 4 : capacity); }

	void
	push_back(const T &value)
	{
		if (size_ == capacity_)
			Reserve(capacity_ * 2);
		data_[size_++] = value;
	}
	void pop_back() { size_--; }
	void clear() { size_ = 0; }

	T &front() { return data_[0]; }
	const T &front() const { return data_[0]; }
	T &back() { return data_[size_ - 1]; }
	T *begin() { return data_; }
	T *end() { return data_ + size_; }
	const T *begin() const { return data_; }
	const T *end() const { return data_ + size_; }
	T &operator[](std::size_t i) { return data_[i]; }
	const T &operator[](std::size_t i) const { return data_[i]; }
	std::size_t size() const { return size_; }
	bool empty() const { return size_ == 0; }
	T *data() { return data_; }

	void
	Reserve(std::size_t capacity)
	{
		if (capacity <= capacity_)
			return;
		T *grown = arena_->MakeArray<T>(capacity);
		if (size_ > 0)
			std::memcpy(static_cast<void *>(grown), data_, size_ * sizeof(T));
		data_ = grown;
		capacity_ = capacity;
	}

private:
	mem::ScanArena *arena_;
	T *data_ = nullptr;
	std::size_t size_ = 0;
	std::size_t capacity_ = 0;
};

} // namespace quarry::hnsw
