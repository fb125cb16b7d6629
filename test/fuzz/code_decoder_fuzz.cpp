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

bool
Close(float a, float b)
{
	if (!std::isfinite(a) || !std::isfinite(b))
		return std::isfinite(a) == std::isfinite(b) || std::isnan(a) || std::isnan(b);
	return std::fabs(a - b) <= 1e-3f * (std::fabs(a) + std::fabs(b)) + 1e-3f;
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
	const hnsw::CodeKernels &scalar = *hnsw::CodeKernelsFor(hnsw::Isa::kScalar);
	const hnsw::CodeKernels &best = hnsw::BestCodeKernels();
	for (hnsw::Metric metric : {hnsw::Metric::kL2, hnsw::Metric::kInnerProduct, hnsw::Metric::kL1})
	{
		const hnsw::CodeDistance a(scalar, storage, metric, dims), b(best, storage, metric, dims);
		if (!Close(a.Approximate(query.data(), stored.data()), b.Approximate(query.data(), stored.data())))
			fuzz::Violated("the best code kernel disagrees with the scalar one");
	}
	return 0;
}
