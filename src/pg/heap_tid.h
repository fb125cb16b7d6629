// Heap TIDs as quarry stores them: packed in 48 bits (block << 16 | offset),
// the form the PostgreSQL-free cores carry (fts row ids, hnsw scan payloads),
// and as three 16-bit words in on-disk records (no padding, any alignment).
// One encoding for both index types.
#pragma once

#include "pg/postgres_api.h"

extern "C" {
#include "storage/itemptr.h"
}

#include <cstdint>

namespace quarry::pg {

/// Bit 63 and above are free: callers may keep flags there.
inline constexpr uint64_t kTidBits = 48;

inline uint64_t
PackTid(ItemPointer tid)
{
	return (uint64_t{ItemPointerGetBlockNumberNoCheck(tid)} << 16) | ItemPointerGetOffsetNumberNoCheck(tid);
}

/// The TID of the low 48 bits of `packed` (higher bits are ignored).
inline void
UnpackTid(uint64_t packed, ItemPointer tid)
{
	ItemPointerSetBlockNumber(tid, static_cast<BlockNumber>((packed >> 16) & 0xFFFFFFFFu));
	ItemPointerSetOffsetNumber(tid, static_cast<OffsetNumber>(packed & 0xFFFF));
}

/// An on-disk TID: ItemPointerData's three 16-bit words.
inline void
StoreTid(uint16_t out[3], ItemPointer tid)
{
	out[0] = tid->ip_blkid.bi_hi;
	out[1] = tid->ip_blkid.bi_lo;
	out[2] = tid->ip_posid;
}

inline void
LoadTid(const uint16_t in[3], ItemPointer tid)
{
	tid->ip_blkid.bi_hi = in[0];
	tid->ip_blkid.bi_lo = in[1];
	tid->ip_posid = in[2];
}

/// The packed form of an on-disk TID.
inline uint64_t
PackTid(const uint16_t in[3])
{
	return (uint64_t{in[0]} << 32) | (uint64_t{in[1]} << 16) | in[2];
}

/// A packed TID as an on-disk TID (the inverse of the above).
inline void
StorePackedTid(uint16_t out[3], uint64_t packed)
{
	out[0] = static_cast<uint16_t>(packed >> 32);
	out[1] = static_cast<uint16_t>(packed >> 16);
	out[2] = static_cast<uint16_t>(packed);
}

/// Bytes of a packed TID written little-endian (quarry_bm25's row-id pages).
inline constexpr uint32_t kPackedTidBytes = 6;

inline void
WritePackedTid(uint8_t out[kPackedTidBytes], uint64_t packed)
{
	for (uint32_t b = 0; b < kPackedTidBytes; b++)
		out[b] = static_cast<uint8_t>(packed >> (8 * b));
}

inline uint64_t
ReadPackedTid(const uint8_t in[kPackedTidBytes])
{
	uint64_t packed = 0;
	for (uint32_t b = 0; b < kPackedTidBytes; b++)
		packed |= uint64_t{in[b]} << (8 * b);
	return packed;
}

} // namespace quarry::pg
