# pincer - build, test, install.
#
#   make            build ./pincer
#   make run        install deps, build, start the gateway on 127.0.0.1:18789
#   make test       install deps, build, run every test (unit + end-to-end)
#   make asan       ASan + UBSan build, then the whole test suite against it
#   make fuzz       build the libFuzzer targets and run each briefly
#   make bench      start-up, memory, WebSocket, agent-turn and exec figures (bench/*)
#   make install    PREFIX=/usr/local: binary, man page, bash completion
#   make format     clang-format every source file in place

PREFIX  ?= /usr/local
CC      ?= cc
PKGS    := jansson libuv libwebsockets libcrypto libcurl yaml-0.1 sqlite3
# Headers only: src/tools/html.c dlopen()s libxml2 on the first HTML fetch,
# so that no other process pays for loading it and the ICU it pulls in.
DLPKGS  := libxml-2.0
VERSION := $(shell cat VERSION)
GITREV  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wno-missing-field-initializers -Wformat=2 -Wvla
CFLAGS  ?= -O2 -g
# Deferred (=), and quiet: on a fresh machine pkg-config and the libraries
# arrive only when scripts/deps.sh has run, which is why run/test/asan
# build through a second make invocation after it.
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Isrc \
             -DPINCER_VERSION='"$(VERSION)"' -DPINCER_GITREV='"$(GITREV)"' \
             $(shell pkg-config --cflags $(PKGS) $(DLPKGS) 2>/dev/null)
# dlopen is in libc since glibc 2.34; older C libraries need -ldl.
LIBDL   := $(shell printf '\043include <dlfcn.h>\nint main(void) { return !dlopen; }\n' | \
             $(CC) -x c -o /dev/null - 2>/dev/null || echo -ldl)
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(LIBDL) -lm

BUILD   ?= build
BIN     ?= pincer

SRCS    := $(sort $(wildcard src/*.c src/*/*.c))
# Files compiled into the binary (scripts/embed.sh): the workspace templates
# and the Control UI (ui/**, with gzip copies of its text assets).
TEMPLATES := $(sort $(wildcard templates/*))
UI_FILES  := $(shell find ui -type f ! -name '.*' 2>/dev/null | LC_ALL=C sort)
UI_DIRS   := $(shell find ui -type d 2>/dev/null)
GEN_OBJS  := $(BUILD)/gen/templates.o $(BUILD)/gen/ui.o
OBJS    := $(SRCS:%.c=$(BUILD)/%.o) $(GEN_OBJS)
LIBOBJS := $(filter-out $(BUILD)/src/main.o,$(OBJS))

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))

BENCH_BINS := $(BUILD)/bench/wsload

.PHONY: all deps run test unit e2e asan fuzz install uninstall format clean bench

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(LIBOBJS) $(LIBS) $(shell pkg-config --libs cmocka 2>/dev/null)

# Generated sources: rebuilt when an embedded file or the generator changes.
# (The more specific pattern below wins over $(BUILD)/%.o for these.)
$(BUILD)/gen/templates.c: scripts/embed.sh $(TEMPLATES)
	@mkdir -p $(dir $@)
	scripts/embed.sh embed_templates templates > $@.tmp && mv $@.tmp $@

# The folders are prerequisites too, so that a removed file rebuilds it.
$(BUILD)/gen/ui.c: scripts/embed.sh $(UI_FILES) $(UI_DIRS)
	@mkdir -p $(dir $@)
	scripts/embed.sh -z embed_ui ui > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(OBJS:.o=.d)

deps:
	@scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory $(BIN)
	./$(BIN) gateway run

unit: $(BIN) $(UNIT_BINS)

test: deps
	@$(MAKE) --no-print-directory $(BIN) unit
	@tests/run.sh ./$(BIN) $(BUILD)/tests

asan:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory BUILD=build-asan BIN=build-asan/pincer CC=clang \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" build-asan/pincer unit
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		tests/run.sh build-asan/pincer build-asan/tests

fuzz:
	@scripts/deps.sh
	@scripts/fuzz.sh $(FUZZ_SRCS)

# Load clients of the benchmarks: plain C, no project code.
$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $<

bench: $(BIN) $(BENCH_BINS)
	@bench/startup.sh ./$(BIN)
	@bench/ws.sh ./$(BIN) $(BUILD)/bench/wsload
	@bench/agent.py ./$(BIN)
	@bench/memory.py ./$(BIN)
	@bench/exec.py ./$(BIN)
	@bench/ui.py ./$(BIN)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/pincer
	install -m 0644 man/pincer.1 $(DESTDIR)$(PREFIX)/share/man/man1/pincer.1
	install -m 0644 completion/pincer.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pincer
	install -d $(DESTDIR)$(PREFIX)/share/pincer
	cp -R skills $(DESTDIR)$(PREFIX)/share/pincer/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pincer $(DESTDIR)$(PREFIX)/share/man/man1/pincer.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/pincer
	rm -rf $(DESTDIR)$(PREFIX)/share/pincer/skills

format:
	clang-format -i $(SRCS) $(wildcard src/*/*.h) $(UNIT_SRCS) $(FUZZ_SRCS)

clean:
	rm -rf build build-asan build-fuzz $(BIN)
