# Thin wrapper over CMake. The two set-up commands are `make run` and `make test`.
#   make            build the optimised tree (build/)
#   make test       install deps, build optimised + ASan/UBSan trees, run the whole suite in both
#   make run        install deps, build, start the service (web app, API, map) on the default
#                   models and the catalog CATALOG (default eosight-catalog.sqlite), port PORT
#   make fuzz       build libFuzzer targets with clang and run each for FUZZ_SECONDS (default 60)
#   make bench      run bench/compare (eosight vs ONNX Runtime vs PyTorch)
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CATALOG   ?= eosight-catalog.sqlite
CMAKE_ARGS ?=

.PHONY: all deps build build-asan test test-release test-asan run fuzz bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	@cmake --build build -j $(JOBS)

build-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DEOS_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)

test-release: build
	@cd build && ctest --output-on-failure -j $(JOBS)

# ASan reports leaks; oneDNN/OpenMP keep a few process-lifetime allocations that LSan must not flag.
test-asan: build-asan
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

test: test-release test-asan

run: build
	@echo "Starting eosight serve with the default models of models/ and the scene catalog $(CATALOG)"
	@echo "(docs/analysis.md, docs/catalog.md, docs/web.md); Ctrl-C stops it."
	@echo "Add scenes to the map:  ./build/eosight catalog add --db $(CATALOG) SCENE.tif ..."
	@echo "API:  curl -X POST --data-binary @image.jpg 'http://127.0.0.1:$${PORT:-8080}/v1/classify?top_k=3'"
	@./build/eosight serve --port $${PORT:-8080} --catalog $(CATALOG)

fuzz: deps
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DCMAKE_BUILD_TYPE=Debug -DEOS_FUZZ=ON -DEOS_WITH_DNNL=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@for f in build-fuzz/fuzz_*; do \
	  name=$$(basename $$f); corpus=tests/fuzz/corpus/$${name#fuzz_}; mkdir -p build-fuzz/corpus-$$name; \
	  echo "== $$name ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 build-fuzz/corpus-$$name $$( [ -d $$corpus ] && echo $$corpus ) || exit 1; \
	done

bench: build
	@bash bench/compare

clean:
	rm -rf build build-asan build-fuzz
