// Stored codes of the compressed layouts (src/hnsw/quantizer.h) on arbitrary
// bytes, as a corrupted node record would hand them over: CheckStored never
// reads outside the stored vector; codes it accepts decode to finite values,
// and the code kernels of every instruction set agree with the scalar ones
// on them.
#include "fuzz_input.h"
#include "hnsw/quantizer.h"

#include <cmath>
#include <vector>

using namespace quarry;

namespace {

// The kernel's value and the sum of the magnitudes of its terms, in double
// over the decoded vector: float kernels that sum in another order may differ
// by a few ulps of the magnitude (not of a result that cancels to near 0).
void
Reference(hnsw::Metric metric, const std::vector<float> &q, const std::vector<float> &x, double *value, double *magnitude)
{
	*value = *magnitude = 0;
	for (std::size_t i = 0; i < q.size(); i++)
	{
		const double d = static_cast<double>(q[i]) - x[i];
		const double term = metric == hnsw::Metric::kL2 ? d * d : metric == hnsw::Metric::kL1 ? std::fabs(d) : -static_cast<double>(q[i]) * x[i];
		*value += term;
		*magnitude += std::fabs(term);
	}
}

bool
Close(float got, double want, double magnitude)
{
	return std::fabs(static_cast<double>(got) - want) <= 1e-4 * magnitude + 1e-6;
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size)
{
	fuzz::FuzzInput in(data, size);
	const auto storage = in.Take<uint8_t>() % 2 == 0 ? hnsw::Storage::kSq8 : hnsw::Storage::kSq4;
	const std::size_t dims = 1 + in.Below(300);
	const std::size_t bytes = hnsw::StoredVectorBytes(storage, dims);
	// Exactly the stored vector's bytes, so ASan sees any overread.
	std::vector<uint8_t> stored(bytes);
	for (uint8_t &b : stored)
		b = in.Take<uint8_t>();
	const char *why = hnsw::CheckStored(storage, stored, dims);
	if (why[0] != '\0')
		return 0;
	std::vector<float> decoded(dims);
	hnsw::Decode(storage, stored, decoded);
	for (float x : decoded)
		if (!std::isfinite(x))
			fuzz::Violated("accepted codes decode to a value that is not finite");
	std::vector<float> query(dims);
	for (std::size_t i = 0; i < dims; i++)
		query[i] = static_cast<float>(static_cast<int8_t>(in.Take<uint8_t>())) / 16.0f;
	for (hnsw::Metric metric : {hnsw::Metric::kL2, hnsw::Metric::kInnerProduct, hnsw::Metric::kL1})
	{
		double want, magnitude;
		Reference(metric, query, decoded, &want, &magnitude);
		if (!(magnitude < 1e30)) // near float overflow: the summation order decides
			continue;
		for (hnsw::Isa isa : {hnsw::Isa::kScalar, hnsw::Isa::kAvx2, hnsw::Isa::kAvx512})
		{
			const hnsw::CodeKernels *kernels = hnsw::CodeKernelsFor(isa);
			if (kernels == nullptr) // not on this CPU
				continue;
			const hnsw::CodeDistance distance(*kernels, storage, metric, dims);
			if (!Close(distance.Approximate(query.data(), stored.data()), want, magnitude))
				fuzz::Violated("a code kernel disagrees with the double-precision reference");
		}
	}
	return 0;
}
