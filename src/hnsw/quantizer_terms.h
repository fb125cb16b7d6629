// The element-by-element terms of the code kernels (quantizer.h): how a code
// is read, decoded (x^ = fma(step, code, lo)) and combined with the query.
// The portable kernels are these terms from the first element; the AVX2 and
// AVX-512 kernels take them for the elements after their last full vector,
// so every kernel treats an element alike. Internal to src/hnsw.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace quarry::hnsw::detail {

/// What a code kernel sums: (q - x^)^2, q x^, or |q - x^|.
enum class CodeOp { kL2, kDot, kL1 };

/// Code `i` of a stored vector (8 or 4 bits; 4-bit codes: element 2j in the
/// low nibble of byte j, 2j + 1 in the high one).
template <int Bits>
inline unsigned
CodeAt(const std::uint8_t *codes, std::size_t i)
{
	if constexpr (Bits == 8)
		return codes[i];
	else
		return (codes[i / 2] >> ((i & 1) * 4)) & 0x0F;
}

/// `sum` plus the terms of elements [from, n), one at a time, in order.
template <int Bits, CodeOp K>
inline float
AddCodeTerms(const float *q, const std::uint8_t *codes, std::size_t from, std::size_t n, float lo, float step,
			 float sum)
{
	for (std::size_t i = from; i < n; i++)
	{
		const float x = std::fma(step, static_cast<float>(CodeAt<Bits>(codes, i)), lo);
		if constexpr (K == CodeOp::kL2)
			sum = std::fma(q[i] - x, q[i] - x, sum);
		else if constexpr (K == CodeOp::kDot)
			sum = std::fma(q[i], x, sum);
		else
			sum += std::fabs(q[i] - x);
	}
	return sum;
}

} // namespace quarry::hnsw::detail
