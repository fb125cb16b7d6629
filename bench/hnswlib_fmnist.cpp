// The in-process ceiling for bench/run.sh: hnswlib (Debian libhnswlib-dev) on
// Fashion-MNIST, single thread, the same m and ef_construction as quarry.
//
//   g++ -O3 -march=native -std=c++17 bench/hnswlib_fmnist.cpp -lz -lpthread -o hnswlib_fmnist
//   hnswlib_fmnist DATA_DIR M EF_CONSTRUCTION EF...
//
// Prints "build <seconds>" then one line per ef: "ef <ef> recall <r> qps <q>",
// recall@10 counting ties (a result at the 10th true distance is a hit), over
// all 10,000 test images.
#include <hnswlib/hnswlib.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::vector<float>
ReadImages(const std::string &path, std::size_t &n, std::size_t &dims)
{
	gzFile f = gzopen(path.c_str(), "rb");
	if (f == nullptr)
		throw std::runtime_error("cannot open " + path);
	unsigned char header[16];
	if (gzread(f, header, 16) != 16)
		throw std::runtime_error("short header in " + path);
	auto be32 = [&](int at) {
		return (std::size_t(header[at]) << 24) | (header[at + 1] << 16) | (header[at + 2] << 8) | header[at + 3];
	};
	n = be32(4);
	dims = be32(8) * be32(12);
	std::vector<unsigned char> bytes(n * dims);
	if (gzread(f, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size()))
		throw std::runtime_error("short data in " + path);
	gzclose(f);
	return std::vector<float>(bytes.begin(), bytes.end());
}

template <typename T>
std::vector<std::vector<T>>
ReadVecs(const std::string &path, std::size_t k)
{
	std::ifstream in(path, std::ios::binary);
	std::vector<std::vector<T>> rows;
	int d;
	while (in.read(reinterpret_cast<char *>(&d), 4))
	{
		std::vector<T> row(d);
		in.read(reinterpret_cast<char *>(row.data()), 4 * d);
		row.resize(k);
		rows.push_back(row);
	}
	return rows;
}

double
Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b)
{
	return std::chrono::duration<double>(b - a).count();
}

} // namespace

int
main(int argc, char **argv)
{
	if (argc < 5)
	{
		std::fprintf(stderr, "usage: %s DATA_DIR M EF_CONSTRUCTION EF...\n", argv[0]);
		return 2;
	}
	const std::string dir = argv[1];
	const int m = std::atoi(argv[2]), efc = std::atoi(argv[3]);
	std::size_t n, dims, nq, qdims;
	std::vector<float> base = ReadImages(dir + "/train-images-idx3-ubyte.gz", n, dims);
	std::vector<float> queries = ReadImages(dir + "/t10k-images-idx3-ubyte.gz", nq, qdims);
	auto gt_dist = ReadVecs<float>(dir + "/gt_l2_k100_dist.fvecs", 10);

	hnswlib::L2Space space(dims);
	hnswlib::HierarchicalNSW<float> index(&space, n, m, efc, 100);
	auto t0 = std::chrono::steady_clock::now();
	for (std::size_t i = 0; i < n; i++)
		index.addPoint(base.data() + i * dims, i);
	auto t1 = std::chrono::steady_clock::now();
	std::printf("build %.3f\n", Seconds(t0, t1));

	for (int a = 4; a < argc; a++)
	{
		const int ef = std::atoi(argv[a]);
		index.setEf(ef);
		std::vector<std::vector<float>> found(nq);
		auto s0 = std::chrono::steady_clock::now();
		for (std::size_t q = 0; q < nq; q++)
		{
			auto result = index.searchKnn(queries.data() + q * dims, 10);
			while (!result.empty())
			{
				found[q].push_back(result.top().first); // squared L2
				result.pop();
			}
		}
		auto s1 = std::chrono::steady_clock::now();
		std::size_t hits = 0;
		for (std::size_t q = 0; q < nq; q++)
			for (float d : found[q])
				hits += d <= gt_dist[q][9] * (1 + 1e-6f) ? 1 : 0;
		std::printf("ef %d recall %.4f qps %.1f\n", ef, double(hits) / (nq * 10), nq / Seconds(s0, s1));
		std::fflush(stdout);
	}
	return 0;
}
