#include "fts/dict_page.h"

#include <cstring>

namespace quarry::fts {

namespace {

constexpr std::size_t kHeaderBytes = 4;

uint16_t
Load16(const uint8_t *p)
{
	return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

void
Store16(uint8_t *p, uint16_t v)
{
	p[0] = static_cast<uint8_t>(v);
	p[1] = static_cast<uint8_t>(v >> 8);
}

} // namespace

DictPageBuilder::DictPageBuilder(std::span<uint8_t> content, uint16_t payload_bytes)
	: content_(content), payload_bytes_(payload_bytes), items_start_(content.size())
{
	Store16(content_.data(), 0);
	Store16(content_.data() + 2, payload_bytes);
}

bool
DictPageBuilder::Add(std::string_view key, const void *payload)
{
	if (key.size() > 0xFFFF)
		return false;
	std::size_t item = 2 + key.size() + payload_bytes_;
	std::size_t offsets_end = kHeaderBytes + 2 * (count_ + 1);
	if (items_start_ < item || items_start_ - item < offsets_end)
		return false;
	items_start_ -= item;
	uint8_t *p = content_.data() + items_start_;
	Store16(p, static_cast<uint16_t>(key.size()));
	std::memcpy(p + 2, key.data(), key.size());
	std::memcpy(p + 2 + key.size(), payload, payload_bytes_);
	Store16(content_.data() + kHeaderBytes + 2 * count_, static_cast<uint16_t>(items_start_));
	count_++;
	Store16(content_.data(), count_);
	return true;
}

uint16_t
DictPageReader::count() const
{
	if (content_.size() < kHeaderBytes || Load16(content_.data() + 2) != payload_bytes_)
		return 0;
	return Load16(content_.data());
}

bool
DictPageReader::KeyAt(uint16_t i, std::string_view &key, std::size_t &payload_at) const
{
	std::size_t slot = kHeaderBytes + 2 * static_cast<std::size_t>(i);
	if (slot + 2 > content_.size())
		return false;
	std::size_t at = Load16(content_.data() + slot);
	if (at + 2 > content_.size())
		return false;
	std::size_t len = Load16(content_.data() + at);
	if (at + 2 + len + payload_bytes_ > content_.size())
		return false;
	key = {reinterpret_cast<const char *>(content_.data() + at + 2), len};
	payload_at = at + 2 + len;
	return true;
}

bool
DictPageReader::Valid() const
{
	if (content_.size() < kHeaderBytes || Load16(content_.data() + 2) != payload_bytes_)
		return false;
	uint16_t n = count();
	if (kHeaderBytes + 2 * std::size_t{n} > content_.size())
		return false;
	std::string_view prev;
	for (uint16_t i = 0; i < n; i++)
	{
		std::string_view key;
		std::size_t at;
		if (!KeyAt(i, key, at))
			return false;
		if (i > 0 && !(prev < key))
			return false;
		prev = key;
	}
	return true;
}

bool
DictPageReader::Item(uint16_t i, std::string_view &key, void *payload) const
{
	std::size_t at;
	if (i >= count() || !KeyAt(i, key, at))
		return false;
	std::memcpy(payload, content_.data() + at, payload_bytes_);
	return true;
}

int
DictPageReader::UpperBound(std::string_view key) const
{
	int lo = 0, hi = count();
	while (lo < hi)
	{
		int mid = lo + (hi - lo) / 2;
		std::string_view k;
		std::size_t at;
		if (!KeyAt(static_cast<uint16_t>(mid), k, at))
			return -1;
		if (k <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool
DictPageReader::Find(std::string_view key, void *payload) const
{
	int ub = UpperBound(key);
	if (ub <= 0)
		return false;
	std::string_view k;
	if (!Item(static_cast<uint16_t>(ub - 1), k, payload))
		return false;
	return k == key;
}

bool
DictPageReader::FindFloor(std::string_view key, void *payload) const
{
	int ub = UpperBound(key);
	if (ub <= 0)
		return false;
	std::string_view k;
	return Item(static_cast<uint16_t>(ub - 1), k, payload);
}

} // namespace quarry::fts
