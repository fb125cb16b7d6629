// A page of sorted (key, payload) items: the node format of the term
// dictionary's static B-tree (leaves: term -> TermInfo; inner nodes: first key of
// a child -> child page).
//
// Layout of the page's content area (little-endian):
//
//   uint16 count, uint16 payload_bytes
//   uint16 offset[count]               start of item i, ascending key order
//   ... free ...
//   items, packed from the end         uint16 key_bytes, key, payload
//
// Readers check every offset and length against the page size, so a damaged page
// makes a lookup fail instead of reading out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace quarry::fts {

class DictPageBuilder {
public:
	/// Starts an empty page in `content` (which it owns until Finish).
	DictPageBuilder(std::span<uint8_t> content, uint16_t payload_bytes);

	/// Appends an item; keys must come in increasing order. Returns false when the
	/// page has no room left (the page is unchanged).
	bool Add(std::string_view key, const void *payload);

	uint16_t count() const { return count_; }
	/// Bytes an item with this key needs (offset slot included).
	std::size_t ItemBytes(std::string_view key) const { return 2 + 2 + key.size() + payload_bytes_; }

private:
	std::span<uint8_t> content_;
	uint16_t payload_bytes_;
	uint16_t count_ = 0;
	std::size_t items_start_; // lowest byte used by items
};

/// Read access to a built page whose items carry `payload_bytes` of payload.
/// All functions fail (false) on a malformed page, including one whose header
/// claims another payload size; they never read outside `content` nor write
/// more than payload_bytes to a payload.
class DictPageReader {
public:
	DictPageReader(std::span<const uint8_t> content, uint16_t payload_bytes)
		: content_(content), payload_bytes_(payload_bytes)
	{
	}

	/// Checks the header, every offset and the key order (O(n)).
	bool Valid() const;
	/// Number of items; 0 for a page with a bad header.
	uint16_t count() const;

	/// Item i's key and payload (payload_bytes copied to `payload`).
	bool Item(uint16_t i, std::string_view &key, void *payload) const;

	/// Exact lookup. Returns false if absent or malformed.
	bool Find(std::string_view key, void *payload) const;

	/// The last item whose key is <= `key` (inner-node descent). Returns false if
	/// `key` sorts before the first item, or on a malformed page.
	bool FindFloor(std::string_view key, void *payload) const;

private:
	bool KeyAt(uint16_t i, std::string_view &key, std::size_t &payload_at) const;
	// First index whose key is > `key` (binary search); -1 if malformed.
	int UpperBound(std::string_view key) const;

	std::span<const uint8_t> content_;
	uint16_t payload_bytes_;
};

} // namespace quarry::fts
