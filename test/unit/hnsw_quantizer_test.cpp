// Scalar-quantized layouts (quantizer.h): encoding, decoding, the stored
// error and norm, the code kernels of every instruction set against the
// scalar ones and a double reference, and the lower bounds against exact
// float distances.
#include "hnsw/quantizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

using namespace quarry::hnsw;

namespace {

constexpr Storage kCoded[] = {Storage::kSq8, Storage::kSq4};
constexpr Metric kMetrics[] = {Metric::kL2, Metric::kInnerProduct, Metric::kCosine, Metric::kL1};

std::vector<float>
RandomVector(std::mt19937 &rng, std::size_t n, float lo, float hi)
{
	std::uniform_real_distribution<float> dist(lo, hi);
	std::vector<float> v(n);
	for (float &x : v)
		x = dist(rng);
	return v;
}

std::vector<float>
Unit(std::vector<float> v)
{
	double s = 0;
	for (float x : v)
		s += static_cast<double>(x) * x;
	for (float &x : v)
		x = static_cast<float>(x / std::sqrt(s));
	return v;
}

std::vector<std::uint8_t>
EncodeVector(Storage storage, Metric metric, const std::vector<float> &x)
{
	std::vector<std::uint8_t> out(StoredVectorBytes(storage, x.size()));
	Encode(storage, metric, x, out);
	return out;
}

std::vector<float>
DecodeVector(Storage storage, const std::vector<std::uint8_t> &stored, std::size_t dims)
{
	std::vector<float> out(dims);
	Decode(storage, stored, out);
	return out;
}

CodeHeader
HeaderOf(const std::vector<std::uint8_t> &stored)
{
	CodeHeader h;
	std::memcpy(&h, stored.data(), sizeof h);
	return h;
}

double
ExactInternal(Metric metric, const std::vector<float> &q, const std::vector<float> &x)
{
	double s = 0;
	for (std::size_t i = 0; i < q.size(); i++)
	{
		const double d = static_cast<double>(q[i]) - x[i];
		s += metric == Metric::kL2 ? d * d : metric == Metric::kL1 ? std::fabs(d) : -static_cast<double>(q[i]) * x[i];
	}
	return s;
}

} // namespace

TEST(HnswQuantizer, SizesArePaddedToFourBytes)
{
	EXPECT_EQ(StoredVectorBytes(Storage::kFull, 784), 3136u);
	EXPECT_EQ(StoredVectorBytes(Storage::kSq8, 784), 16u + 784u);
	EXPECT_EQ(StoredVectorBytes(Storage::kSq4, 784), 16u + 392u);
	EXPECT_EQ(CodeBytes(Storage::kSq8, 1), 4u);
	EXPECT_EQ(CodeBytes(Storage::kSq4, 9), 8u);
	EXPECT_EQ(CodeBytes(Storage::kSq4, 8), 4u);
}

TEST(HnswQuantizer, NamesRoundTrip)
{
	for (Storage s : {Storage::kFull, Storage::kSq8, Storage::kSq4})
	{
		Storage parsed;
		ASSERT_TRUE(ParseStorage(StorageName(s), &parsed));
		EXPECT_EQ(parsed, s);
		EXPECT_TRUE(IsValidStorage(static_cast<int>(s)));
	}
	Storage parsed;
	EXPECT_FALSE(ParseStorage("sq3", &parsed));
	EXPECT_FALSE(ParseStorage("", &parsed));
	EXPECT_FALSE(IsValidStorage(3));
}

// Integer pixels 0..255 (Fashion-MNIST) are exact in 8 bits when a vector
// spans the whole range: step 1, error 0.
TEST(HnswQuantizer, Sq8IsExactOnBytePixels)
{
	std::mt19937 rng(7);
	std::vector<float> x(784);
	for (float &v : x)
		v = static_cast<float>(rng() % 256);
	x[0] = 0;
	x[1] = 255;
	const auto stored = EncodeVector(Storage::kSq8, Metric::kL2, x);
	EXPECT_EQ(HeaderOf(stored).err, 0.0f);
	EXPECT_EQ(DecodeVector(Storage::kSq8, stored, x.size()), x);
}

// The stored error and norm bound what decodes, in every layout and metric,
// and the padding is zero (CheckStored accepts it).
TEST(HnswQuantizer, StoredErrorAndNormAreUpperBounds)
{
	std::mt19937 rng(11);
	for (Storage storage : kCoded)
		for (Metric metric : kMetrics)
			for (std::size_t dims : {1u, 7u, 8u, 9u, 33u, 100u, 785u})
			{
				const auto x = RandomVector(rng, dims, -3.0f, 5.0f);
				const auto stored = EncodeVector(storage, metric, x);
				EXPECT_STREQ(CheckStored(storage, stored, dims), "");
				const auto y = DecodeVector(storage, stored, dims);
				double err = 0, norm = 0, max_diff = 0;
				for (std::size_t i = 0; i < dims; i++)
				{
					const double d = static_cast<double>(x[i]) - y[i];
					err += metric == Metric::kL1 ? std::fabs(d) : d * d;
					norm += static_cast<double>(y[i]) * y[i];
					max_diff = std::max(max_diff, std::fabs(d));
				}
				const CodeHeader h = HeaderOf(stored);
				EXPECT_GE(h.err, metric == Metric::kL1 ? err : std::sqrt(err));
				EXPECT_GE(h.norm, std::sqrt(norm));
				EXPECT_LE(max_diff, h.step * 0.5 * (1 + 1e-5) + 1e-6) << StorageName(storage) << " dims " << dims;
			}
}

TEST(HnswQuantizer, ConstantVectorHasZeroStep)
{
	const std::vector<float> x(10, 2.5f);
	for (Storage storage : kCoded)
	{
		const auto stored = EncodeVector(storage, Metric::kL2, x);
		EXPECT_EQ(HeaderOf(stored).step, 0.0f);
		EXPECT_EQ(HeaderOf(stored).err, 0.0f);
		EXPECT_EQ(DecodeVector(storage, stored, x.size()), x);
	}
}

TEST(HnswQuantizer, EqualVectorsEncodeAlike)
{
	std::mt19937 rng(3);
	const auto x = RandomVector(rng, 50, -1, 1);
	for (Storage storage : kCoded)
		EXPECT_EQ(EncodeVector(storage, Metric::kL2, x), EncodeVector(storage, Metric::kL2, std::vector<float>(x)));
}

TEST(HnswQuantizer, CheckStoredRejectsGarbage)
{
	std::mt19937 rng(5);
	const auto x = RandomVector(rng, 9, -1, 1);
	for (Storage storage : kCoded)
	{
		auto stored = EncodeVector(storage, Metric::kL2, x);
		auto bad = stored;
		const float nan = std::nanf("");
		std::memcpy(bad.data() + 4, &nan, 4); // step
		EXPECT_STRNE(CheckStored(storage, bad, 9), "");
		bad = stored;
		const float negative = -1.0f;
		std::memcpy(bad.data() + 8, &negative, 4); // err
		EXPECT_STRNE(CheckStored(storage, bad, 9), "");
		bad = stored;
		bad.back() = 0xFF; // padding
		EXPECT_STRNE(CheckStored(storage, bad, 9), "");
	}
}

// Every code kernel of this CPU against the scalar ones (to float rounding)
// and against a double-precision reference over the decoded vector.
TEST(HnswQuantizer, KernelsAgreeWithReference)
{
	std::mt19937 rng(13);
	for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512})
	{
		const CodeKernels *k = CodeKernelsFor(isa);
		if (k == nullptr)
			continue;
		for (Storage storage : kCoded)
			for (Metric metric : kMetrics)
				for (std::size_t dims : {1u, 5u, 8u, 15u, 16u, 17u, 31u, 100u, 784u, 1001u})
				{
					const auto q = RandomVector(rng, dims, -2, 2);
					const auto x = RandomVector(rng, dims, -1, 3);
					const auto stored = EncodeVector(storage, metric, x);
					const auto y = DecodeVector(storage, stored, dims);
					const CodeDistance cd(*k, storage, metric, dims);
					double want = ExactInternal(metric, q, y);
					if (metric == Metric::kCosine) // against x^ / |x^| (|x^| as stored: rounded up)
					{
						CodeHeader h;
						std::memcpy(&h, stored.data(), sizeof h);
						if (h.norm > 0)
							want /= h.norm;
					}
					const float got = cd.Approximate(q.data(), stored.data());
					EXPECT_NEAR(got, want, 1e-4 * (std::fabs(want) + dims)) << IsaName(isa) << " " << dims;
					const CodeDistance scalar(*CodeKernelsFor(Isa::kScalar), storage, metric, dims);
					EXPECT_NEAR(got, scalar.Approximate(q.data(), stored.data()), 1e-4 * (std::fabs(want) + dims));
				}
	}
}

// The lower bound never exceeds the exact distance to the encoded vector
// (which the SQL operators compute in float), over many random pairs, near
// pairs included, in every metric.
TEST(HnswQuantizer, LowerBoundsHold)
{
	std::mt19937 rng(17);
	const CodeKernels &k = BestCodeKernels();
	for (Storage storage : kCoded)
		for (Metric metric : kMetrics)
			for (int trial = 0; trial < 300; trial++)
			{
				const std::size_t dims = 1 + rng() % 300;
				auto x = RandomVector(rng, dims, -1, 1);
				auto q = x;
				for (float &v : q)
					v += (trial % 3 == 0 ? 1e-3f : 0.5f) * std::uniform_real_distribution<float>(-1, 1)(rng);
				if (metric == Metric::kCosine)
				{
					x = Unit(x);
					q = Unit(q);
				}
				const auto stored = EncodeVector(storage, metric, x);
				double qn = 0;
				for (float v : q)
					qn += static_cast<double>(v) * v;
				const CodeDistance cd(k, storage, metric, dims);
				const float bound = cd.LowerBound(q.data(), static_cast<float>(std::sqrt(qn)), stored.data());
				EXPECT_LE(bound, ExactInternal(metric, q, x)) << StorageName(storage) << " " << MetricName(metric);
			}
}

// The bound is close on 8-bit codes: within a few quantization errors of the
// exact distance, so PostgreSQL's reorder queue looks at few extra rows.
TEST(HnswQuantizer, Sq8BoundIsTight)
{
	std::mt19937 rng(19);
	const std::size_t dims = 128;
	const auto x = RandomVector(rng, dims, -1, 1);
	const auto q = RandomVector(rng, dims, -1, 1);
	const auto stored = EncodeVector(Storage::kSq8, Metric::kL2, x);
	const CodeDistance cd(BestCodeKernels(), Storage::kSq8, Metric::kL2, dims);
	const double exact = std::sqrt(ExactInternal(Metric::kL2, q, x));
	const double bound = std::sqrt(cd.LowerBound(q.data(), 0, stored.data()));
	EXPECT_LE(bound, exact);
	EXPECT_GE(bound, exact - 2.5 * HeaderOf(stored).err - 1e-3 * exact);
}

// The bound stays below the exact distance as an SQL operator computes it (a
// float sum, term after term, as pgvector's operators do) up to 16,000
// dimensions: on byte-valued vectors 8-bit codes are exact (no quantization
// error), so only the two float sums' rounding separates the kernel's value
// from the operator's, and the margin (MarginFor) must cover it.
TEST(HnswQuantizer, LowerBoundsHoldAgainstFloatSumsAtHighDimensions)
{
	std::mt19937 rng(23);
	const CodeKernels &k = BestCodeKernels();
	for (std::size_t dims : {784u, 4000u, 16000u})
		for (Metric metric : {Metric::kL2, Metric::kL1, Metric::kInnerProduct})
			for (int trial = 0; trial < 20; trial++)
			{
				std::vector<float> x(dims), q(dims);
				for (std::size_t i = 0; i < dims; i++)
				{
					x[i] = static_cast<float>(rng() % 256);
					q[i] = static_cast<float>(rng() % 256) + (trial % 2 ? 0.0f : 0.37f);
				}
				const auto stored = EncodeVector(Storage::kSq8, metric, x);
				float exact = 0, qn = 0;
				for (std::size_t i = 0; i < dims; i++)
				{
					const float d = q[i] - x[i];
					exact += metric == Metric::kL2 ? d * d : metric == Metric::kL1 ? std::fabs(d) : -q[i] * x[i];
					qn += q[i] * q[i];
				}
				const CodeDistance cd(k, Storage::kSq8, metric, dims);
				EXPECT_LE(cd.LowerBound(q.data(), std::sqrt(qn), stored.data()), exact)
					<< MetricName(metric) << " at " << dims << " dimensions";
			}
	EXPECT_GT(CodeDistance::MarginFor(16000), CodeDistance::kBoundMargin);
	EXPECT_EQ(CodeDistance::MarginFor(100), CodeDistance::kBoundMargin);
}
