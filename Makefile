# Thin wrapper around CMake. `make demo` and `make test` are the README's two commands: each
# installs what it needs (scripts/install-deps.sh), builds, then runs.
BUILD ?= build
BUILD_TYPE ?= Release
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)

.PHONY: all deps configure build demo test bench clean format

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/promptlens demo --out out/demo

test: build
	@bash scripts/install-deps.sh --with-tests
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	@bash scripts/install-deps.sh --with-peers
	bash bench/bench_analysis.sh
	bash bench/bench_tokenizer.sh

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD)
