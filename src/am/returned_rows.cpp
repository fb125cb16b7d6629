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
	char *key; // a copy of key and extra, one after the other, in owner's memory
	uint32_t bytes; // of key
	uint32_t extra_bytes;
	ItemPointerData tid;
	double value;
	bool null;
	bool valid; // a row was returned since the last rescan
	ComputeReturnedValue compute; // not nullptr: `value` is still to be computed
	void *scan_state;
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
RegisterRankingScan(MemoryContext owner, Oid index, uint32_t tag, std::string_view key, std::string_view extra)
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
	slot->key = static_cast<char *>(MemoryContextAlloc(owner, std::max<std::size_t>(key.size() + extra.size(), 1)));
	if (!key.empty())
		std::memcpy(slot->key, key.data(), key.size());
	if (!extra.empty()) // data() may be nullptr: not for memcpy, even for 0 bytes
		std::memcpy(slot->key + key.size(), extra.data(), extra.size());
	slot->bytes = static_cast<uint32_t>(key.size());
	slot->extra_bytes = static_cast<uint32_t>(extra.size());
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
	slot->compute = nullptr;
}

void
NoteReturnedRowLazily(ReturnedRow *slot, ItemPointer tid, ComputeReturnedValue compute, void *scan_state)
{
	slot->tid = *tid;
	slot->null = false;
	slot->valid = true;
	slot->compute = compute;
	slot->scan_state = scan_state;
}

void
ForgetReturnedRow(ReturnedRow *slot)
{
	slot->valid = false;
}

bool
ValueOfReturnedRow(Oid index, uint32_t tag, std::string_view key, ItemPointer tid, double *value, bool *null,
				   std::string_view extra)
{
	for (ReturnedRow &r : returned)
	{
		if (r.owner == nullptr || !r.valid || r.index != index || r.tag != tag ||
			!ItemPointerEquals(const_cast<ItemPointer>(&r.tid), tid) || r.bytes != key.size() ||
			r.extra_bytes != extra.size() || (!key.empty() && std::memcmp(r.key, key.data(), key.size()) != 0) ||
			(!extra.empty() && std::memcmp(r.key + key.size(), extra.data(), extra.size()) != 0))
			continue;
		if (r.compute != nullptr)
		{
			// Once: the value, or (false) no value for this row; an error
			// inside leaves no value behind either.
			const ComputeReturnedValue compute = r.compute;
			r.compute = nullptr;
			r.valid = false;
			double computed;
			if (!compute(r.scan_state, &computed))
				return false;
			r.value = computed;
			r.valid = true;
		}
		*value = r.value;
		*null = r.null;
		return true;
	}
	return false;
}

} // namespace quarry::am
