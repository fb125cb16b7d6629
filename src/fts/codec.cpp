#include "fts/codec.h"

#include <array>
#include <bit>
#include <cstring>
#include <utility>

namespace quarry::fts {

namespace {

inline uint64_t
Load64(const uint8_t *p)
{
	uint64_t v;
	std::memcpy(&v, p, sizeof v);
	return v; // little-endian hosts only (x86-64, arm64); see static_assert below
}

static_assert(std::endian::native == std::endian::little, "the posting format is little-endian");

// Decodes n values of width B while an 8-byte window starting at the value's
// first byte lies inside the input; returns how many it decoded.
template <int B>
std::size_t
UnpackFast(const uint8_t *in, std::size_t in_len, uint32_t *out, std::size_t n)
{
	if constexpr (B == 0)
	{
		for (std::size_t i = 0; i < n; i++)
			out[i] = 0;
		return n;
	}
	else
	{
		constexpr uint64_t mask = (B == 32) ? 0xFFFFFFFFull : ((1ull << B) - 1);
		std::size_t i = 0;
		for (; i < n; i++)
		{
			std::size_t bit = i * B;
			std::size_t byte = bit >> 3;
			if (byte + 8 > in_len)
				break;
			out[i] = static_cast<uint32_t>((Load64(in + byte) >> (bit & 7)) & mask);
		}
		return i;
	}
}

using UnpackFn = std::size_t (*)(const uint8_t *, std::size_t, uint32_t *, std::size_t);

template <std::size_t... I>
constexpr std::array<UnpackFn, sizeof...(I)>
MakeUnpackTable(std::index_sequence<I...>)
{
	return {&UnpackFast<static_cast<int>(I)>...};
}

constexpr auto kUnpackTable = MakeUnpackTable(std::make_index_sequence<33>());

// Byte-at-a-time decode of values [from, n), for the tail where an 8-byte
// window would run past the input.
void
UnpackTail(const uint8_t *in, std::size_t in_len, uint8_t bits, uint32_t *out, std::size_t from, std::size_t n)
{
	uint64_t mask = bits == 32 ? 0xFFFFFFFFull : ((1ull << bits) - 1);
	for (std::size_t i = from; i < n; i++)
	{
		std::size_t bit = i * bits;
		std::size_t byte = bit >> 3;
		uint64_t window = 0;
		for (std::size_t k = 0; k < 8 && byte + k < in_len; k++)
			window |= static_cast<uint64_t>(in[byte + k]) << (8 * k);
		out[i] = static_cast<uint32_t>((window >> (bit & 7)) & mask);
	}
}

} // namespace

uint8_t
BitsNeeded(std::span<const uint32_t> values)
{
	uint32_t all = 0;
	for (uint32_t v : values)
		all |= v;
	return all == 0 ? 0 : static_cast<uint8_t>(32 - __builtin_clz(all));
}

void
Pack(std::span<const uint32_t> values, uint8_t bits, uint8_t *out)
{
	std::size_t bytes = PackedBytes(values.size(), bits);
	if (bytes == 0)
		return; // nothing to write (and `out` may be null)
	std::memset(out, 0, bytes);
	uint64_t mask = bits == 32 ? 0xFFFFFFFFull : ((1ull << bits) - 1);
	uint64_t acc = 0;
	unsigned filled = 0;
	std::size_t pos = 0;
	for (uint32_t v : values)
	{
		acc |= (static_cast<uint64_t>(v) & mask) << filled;
		filled += bits;
		while (filled >= 8)
		{
			out[pos++] = static_cast<uint8_t>(acc);
			acc >>= 8;
			filled -= 8;
		}
	}
	if (filled > 0)
		out[pos] = static_cast<uint8_t>(acc);
}

bool
Unpack(std::span<const uint8_t> in, uint8_t bits, std::span<uint32_t> out)
{
	if (bits > 32 || in.size() < PackedBytes(out.size(), bits))
		return false;
	std::size_t done = kUnpackTable[bits](in.data(), in.size(), out.data(), out.size());
	if (done < out.size())
		UnpackTail(in.data(), in.size(), bits, out.data(), done, out.size());
	return true;
}

bool
PrefixSumGaps(std::span<uint32_t> ids, uint32_t base)
{
	uint64_t next = base;
	for (uint32_t &v : ids)
	{
		uint64_t id = next + v;
		if (id > 0xFFFFFFFFull)
			return false;
		v = static_cast<uint32_t>(id);
		next = id + 1;
	}
	return true;
}

std::size_t
PutVarint(uint64_t value, uint8_t *out)
{
	std::size_t n = 0;
	while (value >= 0x80)
	{
		out[n++] = static_cast<uint8_t>(value | 0x80);
		value >>= 7;
	}
	out[n++] = static_cast<uint8_t>(value);
	return n;
}

bool
GetVarint(std::span<const uint8_t> in, std::size_t &pos, uint64_t &value)
{
	uint64_t result = 0;
	for (unsigned shift = 0, n = 0; n < kMaxVarintBytes; n++, shift += 7)
	{
		if (pos >= in.size())
			return false;
		uint8_t byte = in[pos++];
		result |= static_cast<uint64_t>(byte & 0x7F) << shift;
		if ((byte & 0x80) == 0)
		{
			value = result;
			return true;
		}
	}
	return false;
}

} // namespace quarry::fts
