#include "hnsw/distance.h"

#include "hnsw/distance_isa.h"

#include <cmath>

namespace quarry::hnsw {

namespace {

// Four partial sums, so that the scalar loop has some instruction-level
// parallelism without -ffast-math.
float
L2SquaredScalar(const float *a, const float *b, std::size_t n)
{
	float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	std::size_t i = 0;
	for (; i + 4 <= n; i += 4)
	{
		float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1];
		float d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
		s0 += d0 * d0;
		s1 += d1 * d1;
		s2 += d2 * d2;
		s3 += d3 * d3;
	}
	for (; i < n; i++)
	{
		float d = a[i] - b[i];
		s0 += d * d;
	}
	return (s0 + s1) + (s2 + s3);
}

float
DotScalar(const float *a, const float *b, std::size_t n)
{
	float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	std::size_t i = 0;
	for (; i + 4 <= n; i += 4)
	{
		s0 += a[i] * b[i];
		s1 += a[i + 1] * b[i + 1];
		s2 += a[i + 2] * b[i + 2];
		s3 += a[i + 3] * b[i + 3];
	}
	for (; i < n; i++)
		s0 += a[i] * b[i];
	return (s0 + s1) + (s2 + s3);
}

float
L1Scalar(const float *a, const float *b, std::size_t n)
{
	float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	std::size_t i = 0;
	for (; i + 4 <= n; i += 4)
	{
		s0 += std::fabs(a[i] - b[i]);
		s1 += std::fabs(a[i + 1] - b[i + 1]);
		s2 += std::fabs(a[i + 2] - b[i + 2]);
		s3 += std::fabs(a[i + 3] - b[i + 3]);
	}
	for (; i < n; i++)
		s0 += std::fabs(a[i] - b[i]);
	return (s0 + s1) + (s2 + s3);
}

constexpr Kernels kScalarKernels{Isa::kScalar, L2SquaredScalar, DotScalar, L1Scalar};

const Kernels *
ChooseBest()
{
	if (const Kernels *k = KernelsFor(Isa::kAvx512))
		return k;
	if (const Kernels *k = KernelsFor(Isa::kAvx2))
		return k;
	return &kScalarKernels;
}

} // namespace

const Kernels *
KernelsFor(Isa isa)
{
	switch (isa)
	{
		case Isa::kScalar:
			return &kScalarKernels;
		case Isa::kAvx2:
			return detail::Avx2Kernels();
		case Isa::kAvx512:
			return detail::Avx512Kernels();
	}
	return nullptr;
}

const Kernels &
BestKernels()
{
	static const Kernels *best = ChooseBest();
	return *best;
}

const char *
IsaName(Isa isa)
{
	switch (isa)
	{
		case Isa::kScalar:
			return "scalar";
		case Isa::kAvx2:
			return "avx2";
		case Isa::kAvx512:
			return "avx512";
	}
	return "unknown";
}

const char *
MetricName(Metric metric)
{
	switch (metric)
	{
		case Metric::kL2:
			return "l2";
		case Metric::kInnerProduct:
			return "inner_product";
		case Metric::kCosine:
			return "cosine";
		case Metric::kL1:
			return "l1";
	}
	return "unknown";
}

bool
IsValidMetric(int value)
{
	return value == static_cast<int>(Metric::kL2) || value == static_cast<int>(Metric::kInnerProduct) ||
		   value == static_cast<int>(Metric::kCosine) || value == static_cast<int>(Metric::kL1);
}

double
SqlDistance(Metric metric, float internal)
{
	switch (metric)
	{
		case Metric::kL2:
			return std::sqrt(static_cast<double>(internal));
		case Metric::kInnerProduct:
			return static_cast<double>(internal) + 0.0; // -0 (orthogonal) reads 0
		case Metric::kCosine:
			return 1.0 + static_cast<double>(internal);
		case Metric::kL1:
			return static_cast<double>(internal);
	}
	return static_cast<double>(internal);
}

namespace {

// The sum of squares in double: 0 only for the zero vector (a float squared
// is at least 1e-90, far above double's smallest).
double
SquaredNormInDouble(std::span<const float> v)
{
	double sum = 0;
	for (float x : v)
		sum += static_cast<double>(x) * static_cast<double>(x);
	return sum;
}

} // namespace

VectorProblem
CheckVector(Metric metric, std::span<const float> v, float &squared_norm)
{
	// Fast path: one SIMD pass. A NaN or an infinity anywhere makes the sum of
	// squares non-finite, and so does a norm beyond the float range.
	const float fast = BestKernels().dot(v.data(), v.data(), v.size());
	if (std::isfinite(fast) && fast <= kMaxSquaredNorm)
	{
		squared_norm = fast;
		if (metric == Metric::kCosine && fast == 0.0f && SquaredNormInDouble(v) == 0.0)
			return VectorProblem::kZeroNorm;
		return VectorProblem::kNone;
	}
	for (float x : v)
	{
		if (!std::isfinite(x))
			return VectorProblem::kNotFinite;
	}
	return VectorProblem::kNormTooLarge;
}

void
Normalize(std::span<const float> v, float squared_norm, std::span<float> out)
{
	// In double, so that each component is the correctly rounded float; a
	// squared norm that underflowed in float, from the components in double.
	const double squared = squared_norm > 0 ? static_cast<double>(squared_norm) : SquaredNormInDouble(v);
	const double inverse = 1.0 / std::sqrt(squared);
	for (std::size_t i = 0; i < v.size(); i++)
		out[i] = static_cast<float>(v[i] * inverse);
}

} // namespace quarry::hnsw
