// Integer codecs for posting lists: frame-of-reference bit packing of blocks of
// 32-bit integers (the "FOR" codec of Lucene, Tantivy and PISA) and LEB128
// varints.
//
// Bit packing writes `count` values of `bits` bits each as one little-endian bit
// stream: value i occupies bits [i*bits, (i+1)*bits). Decoding a block of 128
// values dispatches once on the width to a loop with compile-time shifts.
//
// Every decoder takes the length of its input and never reads past it, so a
// corrupted page yields a wrong number or a failure, never an out-of-bounds read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace quarry::fts {

/// Number of bits needed for the largest of `values` (0 for all zeros).
uint8_t BitsNeeded(std::span<const uint32_t> values);

/// Bytes that `count` values of `bits` bits occupy.
constexpr std::size_t
PackedBytes(std::size_t count, uint8_t bits)
{
	return (count * bits + 7) / 8;
}

/// Writes values[i] & ((1 << bits) - 1) for every i into out[0 .. PackedBytes).
/// `bits` is 0..32.
void Pack(std::span<const uint32_t> values, uint8_t bits, uint8_t *out);

/// Reads `out.size()` values of `bits` bits from `in`. Returns false (and writes
/// nothing reliable) when `in` is shorter than PackedBytes(out.size(), bits) or
/// bits > 32.
bool Unpack(std::span<const uint8_t> in, uint8_t bits, std::span<uint32_t> out);

/// out[i] = base + sum_{j <= i} (gaps[j] + 1) - 1: turns "gap minus one" deltas
/// back into strictly increasing ids, starting after `base - 1`. Returns false
/// when an id would overflow 32 bits.
bool PrefixSumGaps(std::span<uint32_t> gaps_to_ids, uint32_t base);

/// Maximum bytes of one varint of a 64-bit value.
inline constexpr std::size_t kMaxVarintBytes = 10;

/// Appends `value` as a LEB128 varint at `out`; returns the bytes written.
std::size_t PutVarint(uint64_t value, uint8_t *out);

/// Reads a varint at `pos` (advanced past it). Returns false if the input ends
/// first or the varint is longer than 10 bytes.
bool GetVarint(std::span<const uint8_t> in, std::size_t &pos, uint64_t &value);

} // namespace quarry::fts
