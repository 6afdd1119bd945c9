# Shouhou (售后). `make run` serves the demo; `make test` runs every test.
PORT ?= 8080
DB ?= data/shouhou.db
JOBS ?= $(shell nproc)

.PHONY: run test build bench clean web

run: ## install what is missing, build, seed demo data (fixed + generated small set), serve on :8080
	@scripts/deps.sh run
	@cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@ninja -C build/release -j$(JOBS) shouhou
	@scripts/web.sh
	@mkdir -p data
	PORT=$(PORT) ./build/release/shouhou --db $(DB) serve --web web/dist --demo --demo-scale small

test: ## unit, API (SQLite + PostgreSQL), kill and browser tests
	@scripts/deps.sh test
	@scripts/test.sh

build:
	@cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@ninja -C build/release -j$(JOBS)

bench: ## release build, micro benchmarks and wrk scenarios with ceilings; BENCH_SCALE=medium|large (docs/BENCHMARKS.md)
	@scripts/deps.sh bench
	@scripts/bench.sh

clean:
	rm -rf build web/dist
