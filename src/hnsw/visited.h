// Visited sets of a graph search.
//
// VisitedEpochs (the build, nodes 0..n-1 in memory): one 16-bit tag per node,
// as hnswlib's VisitedList. A new search bumps the epoch instead of clearing;
// the array is only cleared when the tag wraps around.
//
// VisitedMap (scans and on-disk inserts, any node id): an open-addressing hash
// map from node id to a 64-bit payload (the heap TID read together with the
// node's vector), with storage from a ScanArena. It grows by doubling; the old
// table stays in the arena until the next reset.
#pragma once

#include "hnsw/candidates.h"
#include "memory/scan_arena.h"

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <vector>

namespace quarry::hnsw {

template <typename Allocator = std::allocator<std::uint16_t>>
class VisitedEpochs {
public:
	explicit VisitedEpochs(const Allocator &alloc = Allocator()) : tags_(alloc) {}

	/// Makes room for nodes 0..n-1.
	void
	Resize(std::size_t n)
	{
		if (n > tags_.size())
			tags_.resize(n, 0);
	}

	/// Starts a new search: every node becomes unvisited.
	void
	Clear()
	{
		if (++epoch_ == 0)
		{
			std::fill(tags_.begin(), tags_.end(), 0);
			epoch_ = 1;
		}
	}

	/// Marks `id` visited; true if it was not visited yet in this search.
	bool
	TryVisit(std::uint32_t id)
	{
		if (tags_[id] == epoch_)
			return false;
		tags_[id] = epoch_;
		return true;
	}

	bool Contains(std::uint32_t id) const { return tags_[id] == epoch_; }

	std::size_t memory_bytes() const { return tags_.capacity() * sizeof(std::uint16_t); }

private:
	std::vector<std::uint16_t, Allocator> tags_;
	std::uint16_t epoch_ = 1;
};

class VisitedMap {
public:
	/// An empty map with room for about `expected` nodes before it grows.
	VisitedMap(mem::ScanArena &arena, std::size_t expected) : arena_(&arena) { Allocate(CapacityFor(expected)); }

	/// Marks `id` visited (payload 0); true if it was not visited yet.
	bool
	TryVisit(std::uint32_t id)
	{
		if ((size_ + 1) * 2 > capacity_)
			Grow();
		std::size_t slot = Find(id);
		if (keys_[slot] == id)
			return false;
		keys_[slot] = id;
		payloads_[slot] = 0;
		size_++;
		return true;
	}

	bool Contains(std::uint32_t id) const { return keys_[Find(id)] == id; }

	/// Sets the payload of a visited node.
	void
	SetPayload(std::uint32_t id, std::uint64_t payload)
	{
		std::size_t slot = Find(id);
		if (keys_[slot] == id)
			payloads_[slot] = payload;
	}

	/// The payload of a visited node (0 if none was set or `id` is not visited).
	std::uint64_t
	Payload(std::uint32_t id) const
	{
		std::size_t slot = Find(id);
		return keys_[slot] == id ? payloads_[slot] : 0;
	}

	std::size_t size() const { return size_; }

private:
	static constexpr std::uint32_t kEmpty = kInvalidNode;

	static std::size_t
	CapacityFor(std::size_t expected)
	{
		std::size_t capacity = 64;
		while (capacity < expected * 2)
			capacity *= 2;
		return capacity;
	}

	static std::size_t
	Hash(std::uint32_t id)
	{
		return static_cast<std::size_t>((static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ull) >> 32);
	}

	std::size_t
	Find(std::uint32_t id) const
	{
		std::size_t mask = capacity_ - 1;
		std::size_t slot = Hash(id) & mask;
		while (keys_[slot] != kEmpty && keys_[slot] != id)
			slot = (slot + 1) & mask;
		return slot;
	}

	void
	Allocate(std::size_t capacity)
	{
		// Keys apart from payloads: probing touches only the keys.
		keys_ = arena_->MakeArray<std::uint32_t>(capacity);
		payloads_ = arena_->MakeArray<std::uint64_t>(capacity);
		std::fill(keys_, keys_ + capacity, kEmpty);
		capacity_ = capacity;
		size_ = 0;
	}

	void
	Grow()
	{
		std::uint32_t *old_keys = keys_;
		std::uint64_t *old_payloads = payloads_;
		std::size_t old_capacity = capacity_;
		Allocate(capacity_ * 2);
		for (std::size_t i = 0; i < old_capacity; i++)
		{
			if (old_keys[i] == kEmpty)
				continue;
			std::size_t slot = Find(old_keys[i]);
			keys_[slot] = old_keys[i];
			payloads_[slot] = old_payloads[i];
			size_++;
		}
	}

	mem::ScanArena *arena_;
	std::uint32_t *keys_ = nullptr;
	std::uint64_t *payloads_ = nullptr;
	std::size_t capacity_ = 0;
	std::size_t size_ = 0;
};

} // namespace quarry::hnsw
