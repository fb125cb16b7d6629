// Reading pgvector's vector and halfvec bodies; see vector_formats.h.
#include "hnsw/vector_formats.h"

#include <bit>
#include <cstring>

namespace quarry::hnsw {

bool
IsValidInputFormat(int value)
{
	return value == static_cast<int>(InputFormat::kRealArray) || value == static_cast<int>(InputFormat::kVector) ||
		   value == static_cast<int>(InputFormat::kHalfvec);
}

PgvectorProblem
ParsePgvector(InputFormat format, const unsigned char *body, std::size_t size, int &dims)
{
	dims = 0;
	if (size < kPgvectorHeaderBytes)
		return PgvectorProblem::kTooShort;
	std::int16_t dim;
	std::memcpy(&dim, body, sizeof(dim));
	if (dim < 1 || dim > kPgvectorMaxDimensions)
		return PgvectorProblem::kBadDimensions;
	const std::size_t element = format == InputFormat::kHalfvec ? 2 : 4;
	if (size != kPgvectorHeaderBytes + element * static_cast<std::size_t>(dim))
		return PgvectorProblem::kBadLength;
	dims = dim;
	return PgvectorProblem::kNone;
}

float
HalfToFloat(std::uint16_t half)
{
	const std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
	const std::uint32_t exponent = (half >> 10) & 0x1Fu;
	std::uint32_t mantissa = half & 0x3FFu;
	std::uint32_t bits;
	if (exponent == 0x1F) // infinity, NaN (payload kept, quiet or not)
		bits = sign | 0x7F800000u | (mantissa << 13);
	else if (exponent != 0) // normal: rebias 15 -> 127
		bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
	else if (mantissa == 0) // signed zero
		bits = sign;
	else
	{
		// Subnormal half m * 2^-24: a normal float. Shift the leading 1 up to
		// bit 10; each shift lowers the exponent by one.
		int shift = std::countl_zero(mantissa) - 21; // 1..10
		mantissa = (mantissa << shift) & 0x3FFu;
		bits = sign | (static_cast<std::uint32_t>(113 - shift) << 23) | (mantissa << 13);
	}
	return std::bit_cast<float>(bits);
}

bool
FloatToHalfExact(float f, std::uint16_t *half)
{
	const std::uint32_t bits = std::bit_cast<std::uint32_t>(f);
	const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
	const int exponent = static_cast<int>((bits >> 23) & 0xFFu) - 127;
	const std::uint32_t mantissa = bits & 0x7FFFFFu;
	std::uint16_t out;
	if ((bits & 0x7FFFFFFFu) == 0) // signed zero
		out = sign;
	else if (exponent >= -14 && exponent <= 15) // a normal half: 10 mantissa bits, rebias 127 -> 15
	{
		if ((mantissa & 0x1FFFu) != 0)
			return false;
		out = static_cast<std::uint16_t>(sign | ((exponent + 15) << 10) | (mantissa >> 13));
	}
	else if (exponent >= -24 && exponent < -14) // a subnormal half m * 2^-24, m = significand * 2^(exponent + 1)
	{
		const std::uint32_t significand = mantissa | 0x800000u;
		const int shift = -(exponent + 1); // 14..23
		if ((significand & ((1u << shift) - 1)) != 0)
			return false;
		out = static_cast<std::uint16_t>(sign | (significand >> shift));
	}
	else // too large, too small, infinite or NaN
		return false;
	*half = out;
	return true;
}

void
HalvesToFloats(const unsigned char *halves, std::size_t n, float *out)
{
	for (std::size_t i = 0; i < n; i++)
	{
		std::uint16_t h;
		std::memcpy(&h, halves + 2 * i, sizeof(h));
		out[i] = HalfToFloat(h);
	}
}

} // namespace quarry::hnsw
