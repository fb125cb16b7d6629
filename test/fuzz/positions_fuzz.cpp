// The positions codec of a posting block (src/fts/positions.h) on arbitrary
// bytes and on blocks built from arbitrary documents.
//   garbage: a reader over any bytes and any tfs never reads outside its input
//     or crashes; what it opens lies inside the input, and the positions it
//     returns for a document are non-decreasing.
//   round trip: a block encoded from valid documents (tf 1..300, positions
//     non-decreasing in 1..16383, the clamp included) has the size announced,
//     reads back the same positions in any order, and no shorter prefix opens.
#include "fts/positions.h"
#include "fuzz_input.h"

#include <algorithm>
#include <vector>

using namespace quarry;

namespace {

void
Garbage(fuzz::FuzzInput &in)
{
	const uint32_t docs = in.Take<uint8_t>() % (fts::kBlockSize + 3); // 0..130
	std::vector<uint32_t> tfs(docs);
	for (uint32_t &tf : tfs)
		tf = in.Take<uint16_t>();
	if (in.Take<uint8_t>() == 255 && docs > 0)
		tfs[0] = in.Take<uint32_t>(); // now and then a huge one
	std::span<const uint8_t> rest = in.Rest();
	std::vector<uint8_t> block(rest.begin(), rest.end()); // exact size for ASan
	fts::PositionsBlockReader reader;
	if (!reader.Open(block, tfs))
		return;
	if (reader.bytes_used() > block.size() || reader.doc_count() != docs)
		fuzz::Violated("Open accepted a block past its input");
	std::vector<uint32_t> out;
	for (uint32_t d = docs; d-- > 0;) // backwards: random access
	{
		if (reader.Tf(d) > (1u << 16))
			continue;
		out.assign(reader.Tf(d), 0);
		if (!reader.Positions(d, out))
			continue;
		for (std::size_t i = 1; i < out.size(); i++)
			if (out[i] < out[i - 1])
				fuzz::Violated("decoded positions decrease");
	}
}

void
RoundTrip(fuzz::FuzzInput &in)
{
	const uint32_t docs = 1 + in.Below(fts::kBlockSize);
	const bool large_tfs = in.Take<uint8_t>() > 200;
	std::vector<uint32_t> tfs, positions;
	for (uint32_t d = 0; d < docs; d++)
	{
		const uint32_t tf = 1 + in.Take<uint16_t>() % (large_tfs ? 300 : 4);
		uint32_t p = 1 + in.Take<uint16_t>() % 16383;
		tfs.push_back(tf);
		for (uint32_t i = 0; i < tf; i++, p = std::min(16383u, p + in.Take<uint8_t>() % 40))
			positions.push_back(p);
	}
	std::vector<uint8_t> block(fts::EncodedPositionsSize(tfs, positions));
	fts::EncodePositions(tfs, positions, block);
	fts::PositionsBlockReader reader;
	if (!reader.Open(block, tfs) || reader.bytes_used() != block.size())
		fuzz::Violated("a block just encoded does not open, or has another size");
	std::vector<uint32_t> out;
	std::size_t start = positions.size();
	for (uint32_t d = docs; d-- > 0;)
	{
		start -= tfs[d];
		out.assign(tfs[d], 0);
		if (!reader.Positions(d, out) ||
			!std::equal(out.begin(), out.end(), positions.begin() + static_cast<std::ptrdiff_t>(start)))
			fuzz::Violated("round trip: positions differ");
	}
	const std::size_t cut = in.Below(static_cast<uint32_t>(block.size()));
	std::vector<uint8_t> prefix(block.begin(), block.begin() + static_cast<std::ptrdiff_t>(cut));
	if (reader.Open(prefix, tfs))
		fuzz::Violated("a truncated block opens");
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size)
{
	fuzz::FuzzInput in(data, size);
	if (in.Take<uint8_t>() & 1)
		RoundTrip(in);
	else
		Garbage(in);
	return 0;
}
