// Rows ordered scans returned last (see returned_rows.h).
#include "am/returned_rows.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace quarry::am {

struct ReturnedRow {
	MemoryContext owner; // nullptr: a free slot
	Oid index;
	uint32_t tag;
	char *key; // a copy in owner's memory
	uint32_t bytes;
	ItemPointerData tid;
	double value;
	bool null;
	bool valid; // a row was returned since the last rescan
	MemoryContextCallback forget;
};
static_assert(std::is_trivially_destructible_v<ReturnedRow>);

namespace {

constexpr int kReturnedSlots = 8;
ReturnedRow returned[kReturnedSlots];

void
Forget(void *arg)
{
	static_cast<ReturnedRow *>(arg)->owner = nullptr;
}

} // namespace

ReturnedRow *
RegisterRankingScan(MemoryContext owner, Oid index, uint32_t tag, std::string_view key)
{
	ReturnedRow *slot = nullptr;
	for (ReturnedRow &r : returned)
	{
		if (r.owner == owner)
		{
			slot = &r; // a rescan: the callback is registered already
			break;
		}
		if (r.owner == nullptr && slot == nullptr)
			slot = &r;
	}
	if (slot == nullptr)
		return nullptr;
	if (slot->owner != owner)
	{
		slot->owner = owner;
		slot->forget.func = Forget;
		slot->forget.arg = slot;
		MemoryContextRegisterResetCallback(owner, &slot->forget);
		slot->key = nullptr;
	}
	if (slot->key != nullptr)
		pfree(slot->key);
	slot->key = static_cast<char *>(MemoryContextAlloc(owner, std::max<std::size_t>(key.size(), 1)));
	std::memcpy(slot->key, key.data(), key.size());
	slot->bytes = static_cast<uint32_t>(key.size());
	slot->index = index;
	slot->tag = tag;
	slot->valid = false;
	return slot;
}

void
NoteReturnedRow(ReturnedRow *slot, ItemPointer tid, double value, bool null)
{
	slot->tid = *tid;
	slot->value = value;
	slot->null = null;
	slot->valid = true;
}

bool
ValueOfReturnedRow(Oid index, uint32_t tag, std::string_view key, ItemPointer tid, double *value, bool *null)
{
	for (const ReturnedRow &r : returned)
	{
		if (r.owner == nullptr || !r.valid || r.index != index || r.tag != tag ||
			!ItemPointerEquals(const_cast<ItemPointer>(&r.tid), tid) || r.bytes != key.size() ||
			std::memcmp(r.key, key.data(), key.size()) != 0)
			continue;
		*value = r.value;
		*null = r.null;
		return true;
	}
	return false;
}

} // namespace quarry::am
