// Distance kernels for the HNSW core.
//
// Three float kernels do all the work: the squared Euclidean distance, the dot
// product and the L1 (taxicab) distance, over contiguous float arrays. Each has a portable scalar version and,
// on x86-64, AVX2+FMA and AVX-512 versions compiled with
// __attribute__((target(...))). The best one the CPU supports is chosen once at
// run time (__builtin_cpu_supports); there is no function-manager call per
// distance, only a plain function pointer.
//
// The graph orders nodes by an *internal* distance, smaller is nearer:
//   L2       squared Euclidean distance (monotone in the Euclidean distance)
//   IP       -dot(a, b)
//   cosine   -dot(a, b) over vectors normalised to unit length beforehand
//   L1       sum |a[i] - b[i]|
// SqlDistance() turns an internal distance into the value of the SQL operator
// (<->: sqrt, <#>: itself, <=>: 1 + it, <+>: itself), computed the same way the operators
// compute it, so an index scan reports exactly what the operator returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace quarry::hnsw {

/// Largest number of dimensions quarry_hnsw indexes.
inline constexpr std::size_t kMaxDimensions = 16000;

enum class Metric : std::uint8_t {
	kL2 = 1,
	kInnerProduct = 2,
	kCosine = 3,
	kL1 = 4,
};

/// Instruction sets with a kernel of their own.
enum class Isa : std::uint8_t {
	kScalar = 0,
	kAvx2 = 1,
	kAvx512 = 2,
};

using DistanceFn = float (*)(const float *a, const float *b, std::size_t n);

struct Kernels {
	Isa isa;
	DistanceFn l2_squared; // sum (a[i] - b[i])^2
	DistanceFn dot;		   // sum a[i] * b[i]
	DistanceFn l1;		   // sum |a[i] - b[i]|
};

/// The kernels of the best instruction set this CPU supports (chosen once).
const Kernels &BestKernels();

/// The kernels of `isa`, or nullptr when this CPU (or this build) lacks it.
const Kernels *KernelsFor(Isa isa);

const char *IsaName(Isa isa);

const char *MetricName(Metric metric);

/// Whether `value` names a Metric.
bool IsValidMetric(int value);

/// The internal distance of `metric` between `a` and `b` (equal sizes), with
/// the given kernels. For kCosine both must already be unit length.
inline float
InternalDistance(const Kernels &k, Metric metric, const float *a, const float *b, std::size_t n)
{
	if (metric == Metric::kL2)
		return k.l2_squared(a, b, n);
	if (metric == Metric::kL1)
		return k.l1(a, b, n);
	return -k.dot(a, b, n);
}

/// The function computing the internal distance of `metric` (see above), up
/// to the sign (NegatesKernel).
inline DistanceFn
InternalDistanceFn(const Kernels &k, Metric metric)
{
	return metric == Metric::kL2 ? k.l2_squared : metric == Metric::kL1 ? k.l1 : k.dot;
}

/// Whether the internal distance of `metric` is minus its kernel's value.
inline bool
NegatesKernel(Metric metric)
{
	return metric == Metric::kInnerProduct || metric == Metric::kCosine;
}

/// The metric a graph is *built* with. Inner product is not a metric (a vector
/// can be nearer to another than to itself), and Algorithm 4's heuristic then
/// prunes almost every link: on uniform positive data an inner-product graph
/// leaves most nodes unreachable. So inner-product indexes link their nodes by
/// Euclidean distance, which keeps the graph navigable and connected, and are
/// searched by inner product. L2, L1 and cosine (unit vectors, where L2 and
/// -dot order alike) build with their own metric.
inline Metric
ConstructionMetric(Metric metric)
{
	return metric == Metric::kInnerProduct ? Metric::kL2 : metric;
}

/// An internal distance function and its sign, ready to call.
struct MetricDistance {
	DistanceFn fn = nullptr;
	bool negate = false;
	std::size_t dims = 0;

	MetricDistance() = default;
	MetricDistance(const Kernels &k, Metric metric, std::size_t n)
		: fn(InternalDistanceFn(k, metric)), negate(NegatesKernel(metric)), dims(n)
	{
	}
	float
	operator()(const float *a, const float *b) const
	{
		float d = fn(a, b, dims);
		return negate ? -d : d;
	}
};

/// The SQL operator's value for an internal distance.
double SqlDistance(Metric metric, float internal);

/// What is wrong with a vector a graph may hold, if anything.
enum class VectorProblem {
	kNone,
	kNotFinite,		// a NaN or an infinite element
	kNormTooLarge,	// squared norm above kMaxSquaredNorm: distances could overflow
	kZeroNorm,		// the zero vector, under cosine
};

/// Vectors whose squared norm stays below this have distances and dot products
/// that fit in a float: |a - b|^2 <= (|a| + |b|)^2 <= 4 * kMaxSquaredNorm, with
/// room to spare for rounding.
inline constexpr float kMaxSquaredNorm = 3.4028234663852886e38f / 5;

/// Checks `v` for `metric`; also returns its squared norm in `squared_norm`.
/// Under cosine, a vector whose squared norm underflows to 0 in float but not
/// in double ('[1e-30, 0, 0]') has a direction: kNone, with squared_norm 0.
VectorProblem CheckVector(Metric metric, std::span<const float> v, float &squared_norm);

/// Writes v / |v| to `out` (same size). |v| must be > 0; a `squared_norm` of
/// 0 (CheckVector's underflow) means: compute |v| in double.
void Normalize(std::span<const float> v, float squared_norm, std::span<float> out);

} // namespace quarry::hnsw
