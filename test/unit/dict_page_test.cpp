#include "fts/dict_page.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace quarry::fts;

namespace {

struct Payload {
	uint32_t a;
	uint32_t b;
};

std::vector<std::string>
SortedKeys(std::mt19937 &rng, std::size_t n, std::size_t max_len)
{
	std::vector<std::string> keys;
	for (std::size_t i = 0; i < n; i++)
	{
		std::string k(1 + rng() % max_len, 'a');
		for (char &c : k)
			c = static_cast<char>('a' + rng() % 26);
		keys.push_back(k);
	}
	std::sort(keys.begin(), keys.end());
	keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
	return keys;
}

} // namespace

TEST(DictPage, BuildsFindsAndIterates)
{
	std::mt19937 rng(1);
	std::vector<uint8_t> page(8152);
	auto keys = SortedKeys(rng, 400, 20);
	DictPageBuilder builder(page, sizeof(Payload));
	std::size_t added = 0;
	for (; added < keys.size(); added++)
	{
		Payload p{static_cast<uint32_t>(added), static_cast<uint32_t>(keys[added].size())};
		if (!builder.Add(keys[added], &p))
			break;
	}
	ASSERT_GT(added, 100u);
	DictPageReader reader(page, sizeof(Payload));
	ASSERT_TRUE(reader.Valid());
	ASSERT_EQ(reader.count(), added);
	for (std::size_t i = 0; i < added; i++)
	{
		Payload p{};
		ASSERT_TRUE(reader.Find(keys[i], &p)) << keys[i];
		EXPECT_EQ(p.a, i);
		std::string_view k;
		ASSERT_TRUE(reader.Item(static_cast<uint16_t>(i), k, &p));
		EXPECT_EQ(k, keys[i]);
	}
	Payload p{};
	EXPECT_FALSE(reader.Find("", &p));
	EXPECT_FALSE(reader.Find(keys[0] + "\x01", &p) && keys[1] != keys[0] + "\x01");
}

TEST(DictPage, FindFloorForInnerNodes)
{
	std::vector<uint8_t> page(8152);
	DictPageBuilder builder(page, sizeof(uint32_t));
	std::vector<std::string> separators{"b", "d", "dz", "m", "q"};
	for (uint32_t i = 0; i < separators.size(); i++)
		ASSERT_TRUE(builder.Add(separators[i], &i));
	DictPageReader reader(page, sizeof(uint32_t));
	uint32_t child = 99;
	EXPECT_FALSE(reader.FindFloor("a", &child)); // before the first separator
	ASSERT_TRUE(reader.FindFloor("b", &child));
	EXPECT_EQ(child, 0u);
	ASSERT_TRUE(reader.FindFloor("c", &child));
	EXPECT_EQ(child, 0u);
	ASSERT_TRUE(reader.FindFloor("dy", &child));
	EXPECT_EQ(child, 1u);
	ASSERT_TRUE(reader.FindFloor("zzz", &child));
	EXPECT_EQ(child, 4u);
}

TEST(DictPage, RejectsItemsThatDoNotFit)
{
	std::vector<uint8_t> page(100);
	DictPageBuilder builder(page, 40);
	std::string big(60, 'x');
	EXPECT_FALSE(builder.Add(big, std::string(40, '\0').data()));
	EXPECT_EQ(builder.count(), 0);
	EXPECT_TRUE(builder.Add("ok", std::string(40, '\0').data()));
}

TEST(DictPage, MalformedPagesFailWithoutOverreading)
{
	std::mt19937 rng(9);
	std::vector<uint8_t> good(8152);
	DictPageBuilder builder(good, sizeof(Payload));
	for (const auto &k : SortedKeys(rng, 300, 12))
	{
		Payload p{1, 2};
		if (!builder.Add(k, &p))
			break;
	}
	for (int trial = 0; trial < 2000; trial++)
	{
		std::vector<uint8_t> bad = good;
		for (int i = 0; i < 1 + trial % 8; i++)
			bad[rng() % (trial % 3 == 0 ? 64 : bad.size())] = static_cast<uint8_t>(rng());
		std::size_t size = trial % 5 == 0 ? rng() % bad.size() : bad.size();
		auto *copy = new uint8_t[size + 1];
		std::memcpy(copy, bad.data(), size);
		DictPageReader reader({copy, size}, sizeof(Payload));
		reader.Valid();
		Payload p;
		reader.Find("abc", &p);
		reader.FindFloor("mmm", &p);
		std::string_view k;
		for (uint16_t i = 0; i < 50; i++)
			reader.Item(i, k, &p);
		delete[] copy;
	}
	// Reaching here means no crash; the sanitizer build also checks that no byte
	// outside the page was read or written. And a page claiming another payload
	// size is refused outright:
	DictPageReader wrong_size(good, sizeof(Payload) + 1);
	EXPECT_FALSE(wrong_size.Valid());
	EXPECT_EQ(wrong_size.count(), 0);
}
