# kura - one non-recursive Makefile (STYLE.md "Build").
#
#   make            build ./kura (release flags, warnings are errors)
#   make deps       install the Debian packages the build and tests need
#   make check      deps + build + every test, then again under ASan+UBSan,
#                   then a short libFuzzer run of every fuzz target
#   make test       unit + integration tests of the current build only
#   make asan       build with AddressSanitizer + UBSan into build/asan
#   make fuzz       build the libFuzzer targets (clang) into build/fuzz
#   make fuzz-smoke run every fuzz target briefly
#   make bench      benchmarks (ratios against peers measured in the same run)
#   make install    PREFIX=/usr/local DESTDIR=
#   make lint       clang-format check, headers compile alone, banned.h

VARIANT ?= rel
PREFIX ?= /usr/local
WERROR ?= 1
CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libsodium libssh libarchive libmagic sqlite3 libcrypto libxml-2.0 libqpdf \
	libutf8proc zlib libseccomp

BUILD := build/$(VARIANT)

WARN := -Wall -Wextra -Wpedantic -Wformat=2 -Wconversion -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition -Wvla \
	-Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef
ifeq ($(WERROR),1)
WARN += -Werror
endif
HARDEN := -D_FORTIFY_SOURCE=3 -fstack-protector-strong \
	-fstack-clash-protection -fcf-protection -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -g -I. $(WARN) $(PKG_CFLAGS)

ifeq ($(VARIANT),asan)
OPT := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
OPT_LD := -fsanitize=address,undefined
else
OPT := -O2 $(HARDEN)
OPT_LD := $(HARDEN_LD)
endif

ALL_CFLAGS := $(BASE_CFLAGS) $(OPT) $(CFLAGS)
ALL_LDFLAGS := $(OPT_LD) $(LDFLAGS)
LIBS := $(PKG_LIBS) -lpthread

# Modules, lowest layer first: common -> crypto -> audit -> vault -> intake.
LIB_SRC := $(wildcard common/*.c crypto/*.c audit/*.c vault/*.c intake/*.c)
TOOL_SRC := $(wildcard tools/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_HELPERS := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
TOOL_OBJ := $(TOOL_SRC:%.c=$(BUILD)/%.o)
UNIT_HELPER_OBJ := $(UNIT_HELPERS:%.c=$(BUILD)/%.o)
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/helpers/%)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
KURA_BIN := $(BUILD)/kura

ifeq ($(V),1)
Q :=
else
Q := @
endif

.SECONDARY:
.PHONY: all deps check test unit integration asan fuzz fuzz-smoke bench bench-progs \
	install lint clean units
all: kura

kura: $(KURA_BIN)
ifeq ($(VARIANT),rel)
	$(Q)cp $(KURA_BIN) kura
endif

$(KURA_BIN): $(TOOL_OBJ) $(BUILD)/libkura.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(TOOL_OBJ) $(BUILD)/libkura.a $(LIBS)

$(BUILD)/libkura.a: $(LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $(LIB_OBJ)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_HELPER_OBJ) $(BUILD)/libkura.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(UNIT_HELPER_OBJ) \
		$(BUILD)/libkura.a $(LIBS)

units: $(UNIT_BIN) $(HELPER_BIN)

# Test helper programs (tests/helpers/*.c), used by integration tests
# through $KURA_TOP/build/$KURA_VARIANT/helpers/NAME.
$(BUILD)/helpers/%: tests/helpers/%.c $(BUILD)/libkura.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libkura.a $(LIBS)

deps:
	@sh scripts/deps.sh

# The tests of one build variant (no deps, no other variant).
test: kura units
	@sh tests/run.sh $(VARIANT)

asan:
	$(Q)$(MAKE) --no-print-directory VARIANT=asan build/asan/kura units

# Fuzz targets: clang, libFuzzer + ASan + UBSan, every module linked in.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -I. $(PKG_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(LIBS)
fuzz: $(FUZZ_BIN)
fuzz-smoke: fuzz
	@sh tests/fuzz/smoke.sh

check: deps
	@sh tests/check.sh

# Long runs, not part of `make check`: libFuzzer for FUZZ_SECONDS (default
# 15 min) per target, and kura serve under load for SOAK_MINUTES (10).
fuzz-long: fuzz
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-900} sh tests/fuzz/smoke.sh
soak: kura
	@sh tests/soak/serve-soak.sh rel

# Benchmark helpers: every tests/bench/*.c is a program linked with libkura.a.
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libkura.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libkura.a $(LIBS)
bench-progs: $(BENCH_BIN)

bench: kura bench-progs
	@sh tests/bench/run.sh

install: kura
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 kura $(DESTDIR)$(PREFIX)/bin/kura
	install -d $(DESTDIR)$(PREFIX)/share/doc/kura
	install -m 0644 README.md SECURITY.md $(DESTDIR)$(PREFIX)/share/doc/kura/

lint:
	@sh scripts/lint.sh

clean:
	rm -rf build kura

-include $(LIB_OBJ:.o=.d) $(TOOL_OBJ:.o=.d)

# The README's first command: install, build, start kura on a demo vault.
.PHONY: run
run: deps
	$(Q)$(MAKE) --no-print-directory kura
	./kura -d ./demo-vault demo
