// AVX2+FMA kernels over scalar-quantized codes (quantizer.h): eight codes
// widened to floats per step, decoded with one FMA (x^ = step * code + lo)
// and combined with the query as the float kernels do. Compiled with
// __attribute__((target)), chosen at run time; elsewhere only "absent".
#include "hnsw/quantizer.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cmath>
#include <cstring>

namespace quarry::hnsw::detail {

#if defined(__x86_64__)

namespace {

enum class Op { kL2, kDot, kL1 };

__attribute__((target("avx2,fma"))) inline float
Sum256(__m256 v)
{
	__m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
	sum = _mm_add_ss(sum, _mm_shuffle_ps(sum, sum, 0x55));
	return _mm_cvtss_f32(sum);
}

// Codes i .. i + 7 as floats. 4-bit codes: element 2j is the low nibble of
// byte j; the nibbles are split and interleaved back into element order.
template <int Bits>
__attribute__((target("avx2,fma"))) inline __m256
LoadCodes(const std::uint8_t *codes, std::size_t i)
{
	__m128i bytes;
	if constexpr (Bits == 8)
	{
		bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(codes + i));
	}
	else
	{
		int32_t packed;
		std::memcpy(&packed, codes + i / 2, sizeof packed);
		const __m128i x = _mm_cvtsi32_si128(packed);
		const __m128i mask = _mm_set1_epi8(0x0F);
		bytes = _mm_unpacklo_epi8(_mm_and_si128(x, mask), _mm_and_si128(_mm_srli_epi16(x, 4), mask));
	}
	return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
}

template <Op K>
__attribute__((target("avx2,fma"))) inline __m256
Accumulate(__m256 acc, __m256 q, __m256 x)
{
	if constexpr (K == Op::kL2)
	{
		const __m256 d = _mm256_sub_ps(q, x);
		return _mm256_fmadd_ps(d, d, acc);
	}
	else if constexpr (K == Op::kDot)
		return _mm256_fmadd_ps(q, x, acc);
	else
		return _mm256_add_ps(acc, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(q, x)));
}

// Two accumulators of 8 lanes: 16 elements per iteration, then 8, then a
// scalar tail with the same formula.
template <int Bits, Op K>
__attribute__((target("avx2,fma"))) float
CodeKernelAvx2(const float *q, const std::uint8_t *codes, std::size_t n, float lo, float step)
{
	const __m256 vlo = _mm256_set1_ps(lo), vstep = _mm256_set1_ps(step);
	__m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
	std::size_t i = 0;
	for (; i + 16 <= n; i += 16)
	{
		const __m256 x0 = _mm256_fmadd_ps(vstep, LoadCodes<Bits>(codes, i), vlo);
		const __m256 x1 = _mm256_fmadd_ps(vstep, LoadCodes<Bits>(codes, i + 8), vlo);
		s0 = Accumulate<K>(s0, _mm256_loadu_ps(q + i), x0);
		s1 = Accumulate<K>(s1, _mm256_loadu_ps(q + i + 8), x1);
	}
	for (; i + 8 <= n; i += 8)
		s0 = Accumulate<K>(s0, _mm256_loadu_ps(q + i), _mm256_fmadd_ps(vstep, LoadCodes<Bits>(codes, i), vlo));
	float sum = Sum256(_mm256_add_ps(s0, s1));
	for (; i < n; i++)
	{
		const unsigned c = Bits == 8 ? codes[i] : (codes[i / 2] >> ((i & 1) * 4)) & 0x0F;
		const float x = std::fma(step, static_cast<float>(c), lo);
		if constexpr (K == Op::kL2)
			sum = std::fma(q[i] - x, q[i] - x, sum);
		else if constexpr (K == Op::kDot)
			sum = std::fma(q[i], x, sum);
		else
			sum += std::fabs(q[i] - x);
	}
	return sum;
}

constexpr CodeKernels kAvx2CodeKernels{
	Isa::kAvx2,
	{CodeKernelAvx2<8, Op::kL2>, CodeKernelAvx2<4, Op::kL2>},
	{CodeKernelAvx2<8, Op::kDot>, CodeKernelAvx2<4, Op::kDot>},
	{CodeKernelAvx2<8, Op::kL1>, CodeKernelAvx2<4, Op::kL1>},
};

} // namespace

const CodeKernels *
Avx2CodeKernels()
{
	static const bool supported = [] {
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	}();
	return supported ? &kAvx2CodeKernels : nullptr;
}

#else

const CodeKernels *
Avx2CodeKernels()
{
	return nullptr;
}

#endif

} // namespace quarry::hnsw::detail
