// AVX2+FMA and AVX-512F kernels over scalar-quantized codes (quantizer.h):
// eight (sixteen) codes widened to floats per step, decoded with one FMA
// (x^ = step * code + lo) and combined with the query as the float kernels
// do. Compiled with __attribute__((target)), chosen at run time; elsewhere
// only "absent".
#include "hnsw/distance_isa.h"
#include "hnsw/quantizer.h"
#include "hnsw/quantizer_terms.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cmath>
#include <cstring>

namespace quarry::hnsw::detail {

#if defined(__x86_64__)

namespace {

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

// One step of kernel K over eight lanes: acc plus the terms of q and x^.
template <CodeOp K>
__attribute__((target("avx2,fma"))) inline __m256
Accumulate(__m256 acc, __m256 q, __m256 x)
{
	if constexpr (K == CodeOp::kL2)
	{
		const __m256 d = _mm256_sub_ps(q, x);
		return _mm256_fmadd_ps(d, d, acc);
	}
	else if constexpr (K == CodeOp::kDot)
		return _mm256_fmadd_ps(q, x, acc);
	else
		return _mm256_add_ps(acc, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(q, x)));
}

// Two accumulators of 8 lanes: 16 elements per iteration, then 8, then the
// scalar terms (quantizer_terms.h) for the rest.
template <int Bits, CodeOp K>
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
	return AddCodeTerms<Bits, K>(q, codes, i, n, lo, step, Sum256(_mm256_add_ps(s0, s1)));
}

// GCC 12's AVX-512 conversions and _mm512_reduce_add_ps expand to
// _mm512_undefined_*(), which initialise a variable with itself on purpose;
// -Wuninitialized (and GCC's -Wmaybe-uninitialized) flag it. Silenced for the
// AVX-512 kernels only (distance_x86.cpp does the same for its file).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// Codes i .. i + 15 as floats (4-bit codes as in LoadCodes).
template <int Bits>
__attribute__((target("avx512f"))) inline __m512
LoadCodes16(const std::uint8_t *codes, std::size_t i)
{
	__m128i bytes;
	if constexpr (Bits == 8)
	{
		bytes = _mm_loadu_si128(reinterpret_cast<const __m128i *>(codes + i));
	}
	else
	{
		long long packed;
		std::memcpy(&packed, codes + i / 2, sizeof packed);
		const __m128i x = _mm_cvtsi64_si128(packed);
		const __m128i mask = _mm_set1_epi8(0x0F);
		bytes = _mm_unpacklo_epi8(_mm_and_si128(x, mask), _mm_and_si128(_mm_srli_epi16(x, 4), mask));
	}
	return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes));
}

// One step of kernel K over sixteen lanes: acc plus the terms of q and x^.
template <CodeOp K>
__attribute__((target("avx512f"))) inline __m512
Accumulate16(__m512 acc, __m512 q, __m512 x)
{
	if constexpr (K == CodeOp::kL2)
	{
		const __m512 d = _mm512_sub_ps(q, x);
		return _mm512_fmadd_ps(d, d, acc);
	}
	else if constexpr (K == CodeOp::kDot)
		return _mm512_fmadd_ps(q, x, acc);
	else
		return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(q, x)));
}

// The AVX2 kernel's formula at twice the width: two accumulators of 16
// lanes, 32 elements per iteration, then 16, then the scalar terms.
template <int Bits, CodeOp K>
__attribute__((target("avx512f"))) float
CodeKernelAvx512(const float *q, const std::uint8_t *codes, std::size_t n, float lo, float step)
{
	const __m512 vlo = _mm512_set1_ps(lo), vstep = _mm512_set1_ps(step);
	__m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
	std::size_t i = 0;
	for (; i + 32 <= n; i += 32)
	{
		const __m512 x0 = _mm512_fmadd_ps(vstep, LoadCodes16<Bits>(codes, i), vlo);
		const __m512 x1 = _mm512_fmadd_ps(vstep, LoadCodes16<Bits>(codes, i + 16), vlo);
		s0 = Accumulate16<K>(s0, _mm512_loadu_ps(q + i), x0);
		s1 = Accumulate16<K>(s1, _mm512_loadu_ps(q + i + 16), x1);
	}
	for (; i + 16 <= n; i += 16)
		s0 = Accumulate16<K>(s0, _mm512_loadu_ps(q + i), _mm512_fmadd_ps(vstep, LoadCodes16<Bits>(codes, i), vlo));
	return AddCodeTerms<Bits, K>(q, codes, i, n, lo, step, _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)));
}

constexpr CodeKernels kAvx512CodeKernels{
	Isa::kAvx512,
	{CodeKernelAvx512<8, CodeOp::kL2>, CodeKernelAvx512<4, CodeOp::kL2>},
	{CodeKernelAvx512<8, CodeOp::kDot>, CodeKernelAvx512<4, CodeOp::kDot>},
	{CodeKernelAvx512<8, CodeOp::kL1>, CodeKernelAvx512<4, CodeOp::kL1>},
};

#pragma GCC diagnostic pop

constexpr CodeKernels kAvx2CodeKernels{
	Isa::kAvx2,
	{CodeKernelAvx2<8, CodeOp::kL2>, CodeKernelAvx2<4, CodeOp::kL2>},
	{CodeKernelAvx2<8, CodeOp::kDot>, CodeKernelAvx2<4, CodeOp::kDot>},
	{CodeKernelAvx2<8, CodeOp::kL1>, CodeKernelAvx2<4, CodeOp::kL1>},
};

} // namespace

// The code kernels need what the float kernels of the same instruction set
// need (distance_x86.cpp decides, once).
const CodeKernels *
Avx2CodeKernels()
{
	return Avx2Kernels() != nullptr ? &kAvx2CodeKernels : nullptr;
}

const CodeKernels *
Avx512CodeKernels()
{
	return Avx512Kernels() != nullptr ? &kAvx512CodeKernels : nullptr;
}

#else

const CodeKernels *
Avx2CodeKernels()
{
	return nullptr;
}

const CodeKernels *
Avx512CodeKernels()
{
	return nullptr;
}

#endif

} // namespace quarry::hnsw::detail
