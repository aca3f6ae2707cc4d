# The README's two commands: `make run` and `make test`.
# Everything else here is a convenience around CMake presets.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all setup build run test test-dev test-asan lint format tidy bench clean

all: build

setup:
	@scripts/setup.sh

build: setup
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)

# Start the hub for the current repository on the embedded SQLite store.
run: build
	./build/dev/coordhub serve $(ARGS)

# Set up, build and run the whole suite: formatting and banned functions,
# the dev build with clang-tidy, then the address+undefined sanitizer build.
test: setup
	scripts/lint.sh
	$(MAKE) --no-print-directory test-dev
	$(MAKE) --no-print-directory test-asan

test-dev:
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)
	scripts/tidy.sh build/dev
	ctest --preset dev -j $(JOBS)
	scripts/valgrind.sh build/dev

test-asan:
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

lint:
	scripts/lint.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

bench: build
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	bench/run.sh

clean:
	rm -rf build
