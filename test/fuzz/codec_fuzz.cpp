// The block codec and varints (src/fts/codec.h) on arbitrary bytes: decoding
// never reads outside its input or crashes; what was packed unpacks equal.
#include "fts/codec.h"
#include "fuzz_input.h"

#include <vector>

using namespace quarry;

namespace {

constexpr uint32_t kMaxBlock = 256; // more than a posting block holds

void
DecodeGarbage(fuzz::FuzzInput &in)
{
	const uint8_t bits = static_cast<uint8_t>(in.Below(40));
	const uint32_t count = in.Below(kMaxBlock + 1);
	std::span<const uint8_t> bytes = in.Bytes(in.Below(1024));
	// A copy of exactly that many bytes, so ASan sees any overread.
	std::vector<uint8_t> exact(bytes.begin(), bytes.end());
	std::vector<uint32_t> out(count);
	if (fts::Unpack(exact, bits, out) && fts::PackedBytes(count, bits) > exact.size())
		fuzz::Violated("Unpack accepted fewer bytes than the block needs");
	fts::PrefixSumGaps(out, in.Take<uint32_t>());
	std::size_t pos = 0;
	uint64_t value;
	while (pos < exact.size() && fts::GetVarint(exact, pos, value))
	{
	}
}

void
RoundTrip(fuzz::FuzzInput &in)
{
	const uint32_t count = in.Below(kMaxBlock + 1);
	const uint32_t mask = in.Take<uint32_t>();
	std::vector<uint32_t> values(count);
	for (uint32_t &v : values)
		v = in.Take<uint32_t>() & mask;
	const uint8_t bits = fts::BitsNeeded(values);
	std::vector<uint8_t> packed(fts::PackedBytes(count, bits));
	fts::Pack(values, bits, packed.data());
	std::vector<uint32_t> back(count);
	if (!fts::Unpack(packed, bits, back) || back != values)
		fuzz::Violated("Pack/Unpack round trip");
	for (uint32_t v : values)
	{
		uint8_t buf[fts::kMaxVarintBytes];
		std::size_t n = fts::PutVarint(v, buf), pos = 0;
		uint64_t got;
		if (!fts::GetVarint({buf, n}, pos, got) || got != v || pos != n)
			fuzz::Violated("varint round trip");
	}
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size)
{
	fuzz::FuzzInput in(data, size);
	if (in.Take<uint8_t>() & 1)
		RoundTrip(in);
	else
		DecodeGarbage(in);
	return 0;
}
