# Ficus: the one interface. See README.md.
SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps build-all test run stop bench fmt lint clean

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS)

build-all: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build-all
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

run: build-all
	@scripts/run.sh start

stop:
	@scripts/run.sh stop

bench: build-all
	@bench/run-all.sh

fmt:
	@git ls-files --cached --others --exclude-standard '*.cc' '*.h' | xargs -r clang-format -i

lint: deps $(BUILD_DIR)/build.ninja
	@JOBS=$(JOBS) scripts/lint.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
