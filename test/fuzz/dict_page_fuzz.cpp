// Dictionary pages (src/fts/dict_page.h), the nodes of the term dictionary.
//   garbage: any bytes as a page: no read outside them, no crash; a page that
//     Valid() accepts yields every item, in increasing key order, and finds
//     each of its keys (exactly and as a floor).
//   round trip: keys taken from the input, built into a page, are all found
//     with their payloads; keys not added are not found.
#include "fts/dict_page.h"
#include "fuzz_input.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

using namespace quarry;

namespace {

constexpr std::size_t kContentBytes = 8192 - 24 - 16; // a page without header and special space

void
Garbage(fuzz::FuzzInput &in)
{
	const uint16_t payload_bytes = static_cast<uint16_t>(in.Below(64));
	std::span<const uint8_t> rest = in.Rest();
	std::vector<uint8_t> page(rest.begin(), rest.begin() + std::min(rest.size(), kContentBytes));
	fts::DictPageReader reader(page, payload_bytes);
	std::vector<uint8_t> payload(payload_bytes + 1);
	const bool valid = reader.Valid();
	std::string previous;
	for (uint16_t i = 0; i < reader.count(); i++)
	{
		std::string_view key;
		if (!reader.Item(i, key, payload.data()))
		{
			if (valid)
				fuzz::Violated("Valid() accepted a page with an unreadable item");
			continue;
		}
		std::string copy(key);
		if (valid)
		{
			if (i > 0 && !(previous < copy))
				fuzz::Violated("Valid() accepted keys out of order");
			if (!reader.Find(copy, payload.data()) || !reader.FindFloor(copy, payload.data()))
				fuzz::Violated("a key of a valid page is not found");
		}
		else
		{
			reader.Find(copy, payload.data());
			reader.FindFloor(copy, payload.data());
		}
		previous = copy;
	}
	reader.Find("", payload.data());
	reader.FindFloor("\xff\xff", payload.data());
}

void
RoundTrip(fuzz::FuzzInput &in)
{
	const uint16_t payload_bytes = static_cast<uint16_t>(1 + in.Below(40));
	std::set<std::string> keys;
	while (!in.empty() && keys.size() < 2000)
	{
		std::span<const uint8_t> k = in.Bytes(in.Below(24));
		keys.emplace(k.begin(), k.end());
	}
	std::vector<uint8_t> page(kContentBytes);
	fts::DictPageBuilder builder(page, payload_bytes);
	std::vector<std::string> added;
	std::vector<uint8_t> payload(payload_bytes);
	for (const std::string &key : keys)
	{
		std::memset(payload.data(), static_cast<int>(added.size() & 0xFF), payload_bytes);
		if (!builder.Add(key, payload.data()))
			break;
		added.push_back(key);
	}
	fts::DictPageReader reader(page, payload_bytes);
	if (!reader.Valid() || reader.count() != added.size())
		fuzz::Violated("a page just built is not valid");
	for (std::size_t i = 0; i < added.size(); i++)
	{
		if (!reader.Find(added[i], payload.data()) || payload[0] != static_cast<uint8_t>(i & 0xFF))
			fuzz::Violated("a key just added is not found with its payload");
	}
	const std::set<std::string> in_page(added.begin(), added.end());
	for (const std::string &key : keys)
		if (in_page.count(key) == 0 && reader.Find(key, payload.data()))
			fuzz::Violated("a key that did not fit is found");
	for (const std::string &key : added)
		if (in_page.count(key + '\x01') == 0 && reader.Find(key + '\x01', payload.data()))
			fuzz::Violated("a key never added is found");
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
