// Writes well-formed inputs for the fuzz targets into test/fuzz/corpus/<target>
// (valid posting lists and dictionary pages under the "garbage" mode, so that
// mutations start from real structures). Built with the fuzz targets; run by
// hand when the formats change: build/fuzz/make_seeds test/fuzz/corpus
#include "fts/dict_page.h"
#include "fts/posting_list.h"

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace quarry;

namespace {

void
Write(const std::string &path, const std::vector<uint8_t> &bytes)
{
	FILE *f = std::fopen(path.c_str(), "wb");
	if (f == nullptr)
	{
		std::perror(path.c_str());
		std::exit(1);
	}
	std::fwrite(bytes.data(), 1, bytes.size(), f);
	std::fclose(f);
}

void
PostingSeeds(const std::string &dir, std::mt19937 &rng)
{
	const uint32_t sizes[] = {1, 5, 127, 128, 129, 300, 1000};
	for (uint32_t n : sizes)
	{
		std::vector<fts::DocId> docs;
		std::vector<uint32_t> tfs, lens;
		fts::DocId d = rng() % 100;
		for (uint32_t i = 0; i < n; i++, d += 1 + rng() % 50)
		{
			docs.push_back(d);
			tfs.push_back(1 + rng() % 5);
			lens.push_back(tfs.back() + rng() % 100);
		}
		std::vector<uint8_t> list(fts::EncodedPostingListSize(docs, tfs));
		fts::EncodePostingList(docs, tfs, lens, list);
		std::vector<uint8_t> input{0}; // the "garbage" mode
		for (int i = 0; i < 64; i++)
			input.push_back(static_cast<uint8_t>(rng()));
		input.insert(input.end(), list.begin(), list.end());
		Write(dir + "/posting/list_" + std::to_string(n), input);
	}
}

void
DictSeeds(const std::string &dir, std::mt19937 &rng)
{
	const uint16_t payloads[] = {4, 40};
	for (uint16_t payload_bytes : payloads)
	{
		std::vector<uint8_t> page(8192 - 40);
		fts::DictPageBuilder builder(page, payload_bytes);
		std::vector<uint8_t> payload(payload_bytes, 7);
		for (int i = 0; i < 400; i++)
		{
			char key[32];
			std::snprintf(key, sizeof key, "term%05d", i * 3);
			if (!builder.Add(key, payload.data()))
				break;
		}
		std::vector<uint8_t> input{0, static_cast<uint8_t>(payload_bytes), 0, 0, 0};
		input.insert(input.end(), page.begin(), page.end());
		Write(dir + "/dict_page/page_" + std::to_string(payload_bytes), input);
	}
	(void) rng;
}

} // namespace

int
main(int argc, char **argv)
{
	if (argc != 2)
	{
		std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	std::mt19937 rng(20261124);
	PostingSeeds(argv[1], rng);
	DictSeeds(argv[1], rng);
	return 0;
}
