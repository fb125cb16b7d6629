// Compressed vector layouts: per-vector scalar quantization with an error
// bound, for quarry_hnsw's storage = 'sq8' and 'sq4'.
//
// Each vector x (already normalised under cosine) is stored as
//   CodeHeader {lo, step, err, norm} | codes[dims] of `bits` bits each
// with lo = min x[i], step = (max x[i] - lo) / (2^bits - 1) and
// code[i] = round((x[i] - lo) / step). The decoded vector is
// x^[i] = fma(step, code[i], lo). This is the "locally-adaptive" scalar
// quantization of LVQ (C. Aguerrebere, I. Bhati, M. Hildebrand, M. Tepper,
// T. Willke, "Similarity search in the blink of an eye with compressed
// indices", VLDB 2023) without its mean-centering (which would need a
// global statistic that inserts into an empty index do not have): the
// bounds are per vector, so no training, no global state, and an insert
// never needs the index rebuilt.
//
// `err` is the stored vector's own quantization error, |x - x^| (Euclidean,
// or taxicab under L1), rounded up, and `norm` is |x^| rounded up. They turn
// the distance to the codes into a *lower bound* of the exact distance
// (triangle and Cauchy-Schwarz inequalities):
//   L2      |q - x|  >= |q - x^| - err
//   IP      -q.x     >= -q.x^ - |q| err
//   cosine  as IP over unit vectors
//   L1      |q - x|1 >= |q - x^|1 - err1
// which PostgreSQL's ORDER BY reorder queue (xs_recheckorderby) needs to
// rerank with exact distances from the heap (src/am/hnsw/README.md).
//
// PostgreSQL-free (see README.md here).
#pragma once

#include "hnsw/distance.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace quarry::hnsw {

/// How an index stores vectors. On-disk values: never renumber.
enum class Storage : std::uint8_t {
	kFull = 0, // float32, as given (normalised under cosine)
	kSq8 = 1,  // 8-bit codes
	kSq4 = 2,  // 4-bit codes, two per byte (low nibble first)
};

/// Whether `value` names a Storage.
bool IsValidStorage(int value);

/// "full", "sq8", "sq4".
const char *StorageName(Storage storage);

/// The Storage a name spells, or false.
bool ParseStorage(const char *name, Storage *out);

/// Bits per code (0 for kFull).
int StorageBits(Storage storage);

/// What precedes the codes of a stored vector.
struct CodeHeader {
	float lo;	// decoded value of code 0
	float step; // value of one code step (0: every element equals lo)
	float err;	// |x - x^| (L1 norm under L1, else L2), rounded up
	float norm; // |x^|, rounded up
};
static_assert(sizeof(CodeHeader) == 16, "on-disk format");

/// Bytes of the codes of `dims` elements, padded to a multiple of 4.
std::size_t CodeBytes(Storage storage, std::size_t dims);

/// Bytes a stored vector takes in a node record: 4 * dims for kFull, the
/// header and the codes otherwise. A multiple of 4.
std::size_t StoredVectorBytes(Storage storage, std::size_t dims);

/// Encodes `x` (finite) into `out` (StoredVectorBytes bytes; padding zeroed).
/// Deterministic: equal vectors give equal bytes. `metric` picks the norm of
/// `err`.
void Encode(Storage storage, Metric metric, std::span<const float> x, std::span<std::uint8_t> out);

/// Decodes stored bytes (kSq8 or kSq4) into x^ (`out`, dims floats).
void Decode(Storage storage, std::span<const std::uint8_t> stored, std::span<float> out);

/// What a stored vector's bytes may hold: header fields finite, err and norm
/// not negative, step not negative, padding zero. Empty if sound, else why.
const char *CheckStored(Storage storage, std::span<const std::uint8_t> stored, std::size_t dims);

/// A kernel over a float query and codes decoded on the fly (x^[i] =
/// fma(step, code[i], lo)): sum (q - x^)^2, sum q x^, or sum |q - x^|.
using CodeKernelFn = float (*)(const float *query, const std::uint8_t *codes, std::size_t n, float lo, float step);

struct CodeKernels {
	Isa isa;
	CodeKernelFn l2_squared[2]; // [0]: 8-bit codes, [1]: 4-bit codes
	CodeKernelFn dot[2];
	CodeKernelFn l1[2];
};

/// The code kernels of the best instruction set this CPU supports.
const CodeKernels &BestCodeKernels();

/// The code kernels of `isa`, or nullptr when this CPU (or build) lacks it.
const CodeKernels *CodeKernelsFor(Isa isa);

/// Internal distances (distance.h) from a float query to stored codes.
class CodeDistance {
public:
	CodeDistance() = default;
	CodeDistance(const CodeKernels &k, Storage storage, Metric metric, std::size_t dims);

	/// The internal distance of `metric` between `query` and x^; under
	/// cosine between `query` and x^ / |x^| (the stored vectors are unit
	/// vectors, their decoded codes not quite: 4-bit codes of a 100-d unit
	/// vector have norms a few percent off, enough to reorder near
	/// neighbours, which the graph walk then misses).
	float Approximate(const float *query, const std::uint8_t *stored) const;

	/// A lower bound of the internal distance between `query` and the
	/// vector x that was encoded, given |query| (`query_norm`). Rounding in
	/// this kernel and in the SQL operators is covered by a relative margin
	/// of kBoundMargin.
	float LowerBound(const float *query, float query_norm, const std::uint8_t *stored) const;

	static constexpr float kBoundMargin = 1e-4f;

	/// The relative margin LowerBound takes off for `dims` dimensions: at
	/// least kBoundMargin, and 2 * dims * FLT_EPSILON, the worst-case relative
	/// error of two float sums of `dims` terms (the SQL operator's and this
	/// kernel's: Higham, Accuracy and Stability of Numerical Algorithms,
	/// section 4.2).
	static float MarginFor(std::size_t dims);

private:
	float margin_ = kBoundMargin;
	CodeKernelFn fn_ = nullptr;
	Metric metric_ = Metric::kL2;
	std::size_t dims_ = 0;
};

namespace detail {
/// The AVX2+FMA code kernels, or nullptr (quantizer_x86.cpp).
const CodeKernels *Avx2CodeKernels();
/// The AVX-512F code kernels, or nullptr (quantizer_x86.cpp).
const CodeKernels *Avx512CodeKernels();
} // namespace detail

} // namespace quarry::hnsw
