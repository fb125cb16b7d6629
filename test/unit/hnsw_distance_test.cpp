// Distance kernels: every instruction set this CPU has against the scalar
// kernels and against a double-precision reference, at odd sizes and offsets.
#include "hnsw/distance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using namespace quarry::hnsw;

namespace {

std::vector<Isa>
AvailableIsas()
{
	std::vector<Isa> isas;
	for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512})
	{
		if (KernelsFor(isa) != nullptr)
			isas.push_back(isa);
	}
	return isas;
}

std::vector<float>
RandomVector(std::mt19937 &rng, std::size_t n, float scale = 1.0f)
{
	std::uniform_real_distribution<float> dist(-scale, scale);
	std::vector<float> v(n);
	for (float &x : v)
		x = dist(rng);
	return v;
}

double
ReferenceL2(const float *a, const float *b, std::size_t n)
{
	double s = 0;
	for (std::size_t i = 0; i < n; i++)
		s += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
	return s;
}

double
ReferenceL1(const float *a, const float *b, std::size_t n)
{
	double s = 0;
	for (std::size_t i = 0; i < n; i++)
		s += std::fabs(static_cast<double>(a[i]) - b[i]);
	return s;
}

double
ReferenceDot(const float *a, const float *b, std::size_t n)
{
	double s = 0;
	for (std::size_t i = 0; i < n; i++)
		s += static_cast<double>(a[i]) * b[i];
	return s;
}

} // namespace

TEST(DistanceKernels, ScalarAndBestAreAlwaysThere)
{
	ASSERT_NE(KernelsFor(Isa::kScalar), nullptr);
	EXPECT_EQ(KernelsFor(Isa::kScalar)->isa, Isa::kScalar);
	// The best kernels are those of the highest instruction set present.
	std::vector<Isa> isas = AvailableIsas();
	EXPECT_EQ(BestKernels().isa, isas.back());
	std::printf("instruction sets with kernels on this CPU:");
	for (Isa isa : isas)
		std::printf(" %s", IsaName(isa));
	std::printf("\n");
}

// Every size from 1 to 300 (all tails of 8-, 16-, 32- and 64-float loops) and a
// few large ones, at unaligned starting offsets.
TEST(DistanceKernels, EveryIsaMatchesTheReferenceAtOddSizes)
{
	std::mt19937 rng(7);
	std::vector<std::size_t> sizes;
	for (std::size_t n = 1; n <= 300; n++)
		sizes.push_back(n);
	for (std::size_t n : {511u, 784u, 1023u, 1536u, 4097u, 16000u})
		sizes.push_back(n);
	for (Isa isa : AvailableIsas())
	{
		const Kernels &k = *KernelsFor(isa);
		for (std::size_t n : sizes)
		{
			std::size_t offset = n % 3; // misaligned loads
			std::vector<float> a = RandomVector(rng, n + offset), b = RandomVector(rng, n + offset);
			const float *pa = a.data() + offset, *pb = b.data() + offset;
			double l2 = ReferenceL2(pa, pb, n), dot = ReferenceDot(pa, pb, n);
			// float accumulation: relative error grows like n * epsilon.
			double tolerance = 1e-5 * std::sqrt(static_cast<double>(n)) + 1e-6;
			EXPECT_NEAR(k.l2_squared(pa, pb, n), l2, tolerance * std::max(1.0, l2)) << IsaName(isa) << " n=" << n;
			double scale = 0;
			for (std::size_t i = 0; i < n; i++)
				scale += std::fabs(static_cast<double>(pa[i]) * pb[i]);
			EXPECT_NEAR(k.dot(pa, pb, n), dot, tolerance * std::max(1.0, scale)) << IsaName(isa) << " n=" << n;
			double l1 = ReferenceL1(pa, pb, n);
			EXPECT_NEAR(k.l1(pa, pb, n), l1, tolerance * std::max(1.0, l1)) << IsaName(isa) << " n=" << n;
			// And against the scalar kernels directly.
			const Kernels &scalar = *KernelsFor(Isa::kScalar);
			EXPECT_NEAR(k.l2_squared(pa, pb, n), scalar.l2_squared(pa, pb, n), tolerance * std::max(1.0, l2));
			EXPECT_NEAR(k.l1(pa, pb, n), scalar.l1(pa, pb, n), tolerance * std::max(1.0, l1));
		}
	}
}

// Small integers: every kernel must be exact (all partial sums are exact floats).
TEST(DistanceKernels, ExactOnSmallIntegers)
{
	for (Isa isa : AvailableIsas())
	{
		const Kernels &k = *KernelsFor(isa);
		for (std::size_t n : {1u, 2u, 3u, 7u, 15u, 17u, 33u, 65u, 100u})
		{
			std::vector<float> a(n), b(n);
			double l2 = 0, dot = 0, l1 = 0;
			for (std::size_t i = 0; i < n; i++)
			{
				a[i] = static_cast<float>(static_cast<int>(i % 7) - 3);
				b[i] = static_cast<float>(static_cast<int>(i % 5) - 2);
				l2 += (a[i] - b[i]) * (a[i] - b[i]);
				dot += a[i] * b[i];
				l1 += std::fabs(a[i] - b[i]);
			}
			EXPECT_EQ(k.l1(a.data(), b.data(), n), static_cast<float>(l1)) << IsaName(isa) << " n=" << n;
			EXPECT_EQ(k.l2_squared(a.data(), b.data(), n), static_cast<float>(l2)) << IsaName(isa) << " n=" << n;
			EXPECT_EQ(k.dot(a.data(), b.data(), n), static_cast<float>(dot)) << IsaName(isa) << " n=" << n;
		}
	}
}

TEST(DistanceKernels, ReadNoFurtherThanN)
{
	// The masked AVX-512 tail and the scalar tails must not touch a[n]: put a
	// NaN there and check the result stays finite.
	for (Isa isa : AvailableIsas())
	{
		const Kernels &k = *KernelsFor(isa);
		for (std::size_t n = 1; n <= 70; n++)
		{
			std::vector<float> a(n + 16, std::numeric_limits<float>::quiet_NaN());
			std::vector<float> b(n + 16, std::numeric_limits<float>::quiet_NaN());
			for (std::size_t i = 0; i < n; i++)
				a[i] = b[i] = 1.0f;
			EXPECT_EQ(k.l2_squared(a.data(), b.data(), n), 0.0f) << IsaName(isa) << " n=" << n;
			EXPECT_EQ(k.dot(a.data(), b.data(), n), static_cast<float>(n)) << IsaName(isa) << " n=" << n;
			EXPECT_EQ(k.l1(a.data(), b.data(), n), 0.0f) << IsaName(isa) << " n=" << n;
		}
	}
}

TEST(Distance, InternalAndSqlValues)
{
	const Kernels &k = BestKernels();
	float a[] = {1, 2, 3}, b[] = {4, 6, 3};
	EXPECT_EQ(InternalDistance(k, Metric::kL2, a, b, 3), 25.0f);
	EXPECT_EQ(SqlDistance(Metric::kL2, 25.0f), 5.0);
	EXPECT_EQ(InternalDistance(k, Metric::kInnerProduct, a, b, 3), -25.0f); // 4 + 12 + 9
	EXPECT_EQ(SqlDistance(Metric::kInnerProduct, -25.0f), -25.0);
	EXPECT_EQ(InternalDistance(k, Metric::kL1, a, b, 3), 7.0f); // 3 + 4 + 0
	EXPECT_EQ(SqlDistance(Metric::kL1, 7.0f), 7.0);
	EXPECT_EQ(MetricDistance(k, Metric::kL1, 3)(a, b), 7.0f); // not negated
	EXPECT_EQ(ConstructionMetric(Metric::kL1), Metric::kL1);
	EXPECT_TRUE(IsValidMetric(4));
	EXPECT_FALSE(IsValidMetric(5));
	EXPECT_STREQ(MetricName(Metric::kL1), "l1");
	// Cosine of unit vectors: 1 - dot.
	float u[] = {1, 0}, v[] = {0, 1};
	EXPECT_EQ(SqlDistance(Metric::kCosine, InternalDistance(k, Metric::kCosine, u, v, 2)), 1.0);
	EXPECT_EQ(SqlDistance(Metric::kCosine, InternalDistance(k, Metric::kCosine, u, u, 2)), 0.0);
}

TEST(Distance, CheckVectorFindsEveryProblem)
{
	float norm2 = -1;
	std::vector<float> ok = {3, 4};
	EXPECT_EQ(CheckVector(Metric::kL2, ok, norm2), VectorProblem::kNone);
	EXPECT_EQ(norm2, 25.0f);
	std::vector<float> nan = {1, std::numeric_limits<float>::quiet_NaN()};
	EXPECT_EQ(CheckVector(Metric::kL2, nan, norm2), VectorProblem::kNotFinite);
	std::vector<float> inf = {-std::numeric_limits<float>::infinity(), 1};
	EXPECT_EQ(CheckVector(Metric::kInnerProduct, inf, norm2), VectorProblem::kNotFinite);
	std::vector<float> huge = {1e19f, 1e19f};
	EXPECT_EQ(CheckVector(Metric::kL2, huge, norm2), VectorProblem::kNormTooLarge);
	std::vector<float> squares_overflow = {1e20f, 1.0f}; // finite, but 1e40 is not
	EXPECT_EQ(CheckVector(Metric::kL2, squares_overflow, norm2), VectorProblem::kNormTooLarge);
	// Just below the limit is fine, and distances between such vectors stay finite.
	std::vector<float> big = {8e18f}, minus_big = {-8e18f};
	ASSERT_EQ(CheckVector(Metric::kL2, big, norm2), VectorProblem::kNone);
	ASSERT_EQ(CheckVector(Metric::kL2, minus_big, norm2), VectorProblem::kNone);
	EXPECT_TRUE(std::isfinite(BestKernels().l2_squared(big.data(), minus_big.data(), 1)));
	std::vector<float> zero = {0, 0, 0};
	EXPECT_EQ(CheckVector(Metric::kCosine, zero, norm2), VectorProblem::kZeroNorm);
	EXPECT_EQ(CheckVector(Metric::kL2, zero, norm2), VectorProblem::kNone);
}

TEST(Distance, NormalizeGivesUnitLength)
{
	std::vector<float> v = {3, 4}, out(2);
	float norm2 = 0;
	ASSERT_EQ(CheckVector(Metric::kCosine, v, norm2), VectorProblem::kNone);
	Normalize(v, norm2, out);
	EXPECT_FLOAT_EQ(out[0], 0.6f);
	EXPECT_FLOAT_EQ(out[1], 0.8f);
}

TEST(Distance, CosineOfAVectorWhoseFloatNormUnderflows)
{
	// 1e-30 squared underflows in float: the vector still has a direction
	// (pgvector computes its cosine distance), only the zero vector has none.
	const std::vector<float> tiny{1e-30f, 0.0f, -1e-30f};
	float squared_norm = -1;
	EXPECT_EQ(CheckVector(Metric::kCosine, tiny, squared_norm), VectorProblem::kNone);
	EXPECT_EQ(squared_norm, 0.0f);
	std::vector<float> unit(3);
	Normalize(tiny, squared_norm, unit);
	EXPECT_FLOAT_EQ(unit[0], static_cast<float>(1 / std::sqrt(2.0)));
	EXPECT_EQ(unit[1], 0.0f);
	EXPECT_FLOAT_EQ(unit[2], static_cast<float>(-1 / std::sqrt(2.0)));
	const std::vector<float> zero{0.0f, -0.0f, 0.0f};
	EXPECT_EQ(CheckVector(Metric::kCosine, zero, squared_norm), VectorProblem::kZeroNorm);
	// A vector of ordinary size normalises as before (from the float norm).
	const std::vector<float> v{3.0f, 4.0f};
	ASSERT_EQ(CheckVector(Metric::kCosine, v, squared_norm), VectorProblem::kNone);
	EXPECT_EQ(squared_norm, 25.0f);
	std::vector<float> u(2);
	Normalize(v, squared_norm, u);
	EXPECT_EQ(u[0], 0.6f);
	EXPECT_EQ(u[1], 0.8f);
}
