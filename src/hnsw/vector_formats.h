// Vectors as other extensions store them: pgvector's `vector` and `halfvec`,
// read from their on-disk bytes without pgvector's code (quarry never links
// against it).
//
// Both types are varlenas whose body (after the 4-byte length word) is
//   int16 dim; int16 unused (0); then dim elements:
//     vector   float4 (IEEE single)
//     halfvec  uint16 (IEEE half: 1 sign, 5 exponent, 10 mantissa bits)
// pgvector's vector.h / halfvec.h; the layout has not changed since 0.1
// (vector) and 0.7 (halfvec). A halfvec is converted to floats at the
// boundary: every half is exactly a float, so nothing is rounded.
#pragma once

#include <cstddef>
#include <cstdint>

namespace quarry::hnsw {

/// How an index's values are stored in the table (an opclass's support
/// function 2; real[] when it has none).
enum class InputFormat : std::uint8_t {
	kRealArray = 1, // real[] (PostgreSQL's float4[])
	kVector = 2,	// pgvector's vector
	kHalfvec = 3,	// pgvector's halfvec
};

/// Whether `value` names an InputFormat.
bool IsValidInputFormat(int value);

/// Bytes of the header before the elements of a vector or halfvec body.
inline constexpr std::size_t kPgvectorHeaderBytes = 4;

/// Largest number of dimensions pgvector's vector and halfvec hold.
inline constexpr int kPgvectorMaxDimensions = 16000;

/// What is wrong with a body, if anything.
enum class PgvectorProblem {
	kNone,
	kTooShort,		// not even the header
	kBadDimensions, // dim < 1 or above kPgvectorMaxDimensions
	kBadLength,		// the body's length is not the header plus dim elements
};

/// Reads the header of the body of a `vector` (kVector) or `halfvec`
/// (kHalfvec) of `size` bytes (after the varlena length word) and checks that
/// the body holds exactly its elements. Sets `dims`; the elements start
/// kPgvectorHeaderBytes into the body.
PgvectorProblem ParsePgvector(InputFormat format, const unsigned char *body, std::size_t size, int &dims);

/// The float an IEEE half holds, exactly (subnormals, infinities and NaN too).
float HalfToFloat(std::uint16_t half);

/// The half that holds `f` exactly, if one does (false for a float a half
/// cannot hold without rounding, and for infinities and NaN): the way back
/// from HalfToFloat, for a value that came from a half.
bool FloatToHalfExact(float f, std::uint16_t *half);

/// Converts `n` halves (read with memcpy: `halves` need not be aligned) to
/// floats.
void HalvesToFloats(const unsigned char *halves, std::size_t n, float *out);

} // namespace quarry::hnsw
