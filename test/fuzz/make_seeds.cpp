// Writes well-formed inputs for the fuzz targets into test/fuzz/corpus/<target>
// (valid posting lists, positions blocks and dictionary pages under the
// "garbage" mode, so that mutations start from real structures; phrases with
// holes, repeats and a shared offset). Built with the fuzz targets; run by
// hand when the formats change: build/fuzz/make_seeds test/fuzz/corpus
#include "fts/dict_page.h"
#include "fts/positions.h"
#include "fts/posting_list.h"

#include <algorithm>
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

void
PositionsSeeds(const std::string &dir, std::mt19937 &rng)
{
	// (documents, largest tf, largest first position)
	const uint32_t shapes[][3] = {{1, 1, 60}, {5, 3, 60}, {128, 2, 60}, {128, 300, 60}, {40, 3, 16383}};
	for (const auto &[docs, max_tf, max_first] : shapes)
	{
		std::vector<uint32_t> tfs, positions;
		for (uint32_t d = 0; d < docs; d++)
		{
			tfs.push_back(1 + rng() % max_tf);
			uint32_t p = 1 + rng() % max_first;
			for (uint32_t i = 0; i < tfs.back(); i++, p = std::min(16383u, p + static_cast<uint32_t>(rng() % 9)))
				positions.push_back(p);
		}
		std::vector<uint8_t> block(fts::EncodedPositionsSize(tfs, positions));
		fts::EncodePositions(tfs, positions, block);
		std::vector<uint8_t> input{0, static_cast<uint8_t>(docs)}; // the "garbage" mode
		for (uint32_t tf : tfs)
		{
			input.push_back(static_cast<uint8_t>(tf));
			input.push_back(static_cast<uint8_t>(tf >> 8));
		}
		input.push_back(0); // no huge tf
		input.insert(input.end(), block.begin(), block.end());
		Write(dir + "/positions/block_" + std::to_string(docs) + "_" + std::to_string(max_tf) + "_" +
				  std::to_string(max_first),
			  input);
	}
}

void
PhraseSeeds(const std::string &dir)
{
	// flags, k, slop, 6 lexemes' lists (length, positions), then per term the
	// offset increment and the lexeme (see phrase_fuzz.cpp).
	const std::vector<std::vector<uint8_t>> seeds{
		// "cat in the hat": cat@0 hat@3 in "the cat sat in the hat".
		{0, 2, 0, 1, 2, 1, 6, 0, 0, 0, 0, 0, 0, 3, 1},
		// "a b"~2 in "x a b a y": a = lexeme 0, b = lexeme 1.
		{0, 2, 2, 2, 2, 4, 1, 3, 0, 0, 0, 0, 0, 0, 1, 1},
		// "h h h h"~2 in "h h h x x x h h h": a repeated lexeme.
		{0, 4, 2, 6, 1, 2, 3, 7, 8, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0},
		// two lexemes at one offset: an e-mail/mail now.
		{0, 4, 0, 1, 2, 1, 3, 1, 3, 1, 4, 0, 0, 0, 0, 1, 1, 0, 2, 1, 3},
		// offsets in any order, a slop of 2^32 - 1.
		{6, 3, 255, 255, 255, 255, 3, 1, 5, 9, 3, 2, 6, 10, 0, 0, 0, 0, 7, 0, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0},
	};
	for (std::size_t i = 0; i < seeds.size(); i++)
		Write(dir + "/phrase/seed" + std::to_string(i + 1), seeds[i]);
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
	PositionsSeeds(argv[1], rng);
	PhraseSeeds(argv[1]);
	return 0;
}
