# Atrium build. Plain Make + pkg-config over Debian 12 packages (c-stack.md §2.13).
#
#   make            build ./atrium (BUILD=debug by default; BUILD=release|asan)
#   make run        install what is missing, build, migrate, seed the demo, serve on 127.0.0.1:8080
#   make test       install what is missing, run every suite (unit, API on SQLite and PostgreSQL, e2e)
#   make test-asan  unit and API suites under ASan+UBSan
#   make fuzz       run the libFuzzer targets for a while (FUZZ_SECONDS, default 60 each)
#   make bench      run the HTTP benchmark (bench/http.sh)

BUILD ?= debug
CC ?= cc
OUT := build/$(BUILD)

PKGS := libmicrohttpd jansson sqlite3 libpq libsodium libcurl inih cairo-pdf libpng libjpeg libwebp
WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wpointer-arith -Wcast-qual \
        -Wsign-compare -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation -fno-common
BASE_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc -I$(OUT)/gen $(WARN) -MMD -MP \
               -fstack-protector-strong -fPIE
ifeq ($(BUILD),release)
  OPT := -O2 -g -D_FORTIFY_SOURCE=2 -DNDEBUG
else ifeq ($(BUILD),asan)
  OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
  OPT := -O2 -g -D_FORTIFY_SOURCE=2
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS_ALL = $(BASE_CFLAGS) $(OPT) $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(OPT) -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread -lm

LIB_SRC := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
LIB_OBJ := $(patsubst src/%.c,$(OUT)/obj/%.o,$(LIB_SRC))
GEN_OBJ := $(OUT)/gen/migrations.o $(OUT)/gen/assets_table.o $(OUT)/gen/assets.o $(OUT)/gen/openapi.o \
           $(OUT)/gen/catalog.o $(OUT)/gen/guides.o
PYTHON3 ?= /usr/bin/python3
UNIT_SRC := $(shell find tests/unit -name '*.c' 2>/dev/null | sort)
UNIT_OBJ := $(patsubst tests/unit/%.c,$(OUT)/unit/%.o,$(UNIT_SRC))
MIGRATIONS := $(sort $(wildcard src/store/schema/*.sql))
WEB_DIST := web/dist/index.html
WEB_SRC := $(shell find web/src web/public web/index.html web/package.json web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)
# SKIP_WEB=1 embeds whatever web/dist holds without rebuilding it (for C-only iterations).
ifeq ($(SKIP_WEB),1)
  WEB_SRC :=
endif

.PHONY: FORCE all run test test-unit test-api test-e2e test-asan fuzz bench deps deps-test web clean format docs
all: atrium

atrium: $(OUT)/atrium
	cp $< $@.$$$$ && mv -f $@.$$$$ $@

$(OUT)/atrium: $(OUT)/obj/main.o $(OUT)/libatrium.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(OUT)/libatrium.a: $(LIB_OBJ) $(GEN_OBJ)
	rm -f $@ && ar rcs $@ $^

$(OUT)/obj/%.o: src/%.c | $(OUT)/gen/migrations.c
	@mkdir -p $(dir $@)
	@echo '  CC    $<'
	@$(CC) $(CFLAGS_ALL) -c -o $@ $<

# Embedded migrations: every src/store/schema/NNNN_name.sql as a C string, in order.
# The list of migration names is a prerequisite too, so renaming or removing one (whose mtime does
# not change) still regenerates the embedded list; the file is rewritten only when the list changes.
$(OUT)/gen/migrations.list: FORCE
	@mkdir -p $(dir $@)
	@echo '$(notdir $(MIGRATIONS))' | cmp -s - $@ || echo '$(notdir $(MIGRATIONS))' > $@

$(OUT)/gen/migrations.c: $(MIGRATIONS) $(OUT)/gen/migrations.list scripts/embed-sql.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-sql.sh $(MIGRATIONS) > $@.$$$$ && mv $@.$$$$ $@

$(OUT)/gen/migrations.o: $(OUT)/gen/migrations.c
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

# The OpenAPI description, served at /api/v1/openapi.json: docs/openapi.yaml as a JSON string.
$(OUT)/gen/openapi.c: docs/openapi.yaml scripts/openapi-json.py
	@mkdir -p $(dir $@)
	$(PYTHON3) scripts/openapi-json.py --c openapi_json docs/openapi.yaml > $@.$$$$ && mv $@.$$$$ $@ || { rm -f $@.$$$$; exit 1; }

$(OUT)/gen/openapi.o: $(OUT)/gen/openapi.c
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

# The billing catalog shipped with Atrium (etc/billing.json), embedded as a compact JSON string.
$(OUT)/gen/catalog.c: etc/billing.json scripts/openapi-json.py
	@mkdir -p $(dir $@)
	$(PYTHON3) scripts/openapi-json.py --any --c billing_catalog_json etc/billing.json > $@.$$$$ && mv $@.$$$$ $@ || { rm -f $@.$$$$; exit 1; }

$(OUT)/gen/catalog.o: $(OUT)/gen/catalog.c
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

# The user guides (docs/guide/<section>.md), rendered to HTML pages for GET /guide/<section>.
GUIDES := $(sort $(wildcard docs/guide/*.md))
$(OUT)/gen/guides.c: $(GUIDES) scripts/guide-html.py
	@mkdir -p $(dir $@)
	$(PYTHON3) scripts/guide-html.py $(GUIDES) > $@.$$$$ && mv $@.$$$$ $@ || { rm -f $@.$$$$; exit 1; }

$(OUT)/gen/guides.o: $(OUT)/gen/guides.c
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

# Embedded web UI: web/dist (built by Vite when web/ exists) as .incbin data plus a lookup table.
$(OUT)/gen/assets.S $(OUT)/gen/assets_table.c &: scripts/embed-assets.sh $(wildcard web/dist/*) $(wildcard web/dist/assets/*) $(if $(WEB_SRC),$(WEB_DIST))
	@mkdir -p $(OUT)/gen
	sh scripts/embed-assets.sh web/dist $(OUT)/gen

$(OUT)/gen/assets.o: $(OUT)/gen/assets.S
	$(CC) $(OPT) -c -o $@ $<

$(OUT)/gen/assets_table.o: $(OUT)/gen/assets_table.c
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

$(WEB_DIST): $(WEB_SRC) web/package-lock.json
	cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build

web: $(WEB_DIST)

# Unit tests: one Criterion binary, so CI reads a single Synthesis line.
$(OUT)/unit-tests: $(UNIT_OBJ) $(OUT)/libatrium.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS) -lcriterion

$(OUT)/unit/%.o: tests/unit/%.c | $(OUT)/gen/migrations.c
	@mkdir -p $(dir $@)
	@echo '  CC    $<'
	@$(CC) $(CFLAGS_ALL) -Itests/unit -Wno-missing-prototypes -c -o $@ $<

deps:
	sh scripts/deps.sh run

deps-test:
	sh scripts/deps.sh test

run: deps
	$(MAKE) atrium BUILD=release
	ATRIUM_ENV=$${ATRIUM_ENV:-development} ATRIUM_SIGNUP=$${ATRIUM_SIGNUP:-true} ./atrium demo
	ATRIUM_ENV=$${ATRIUM_ENV:-development} ATRIUM_SIGNUP=$${ATRIUM_SIGNUP:-true} ./atrium serve

test: deps-test
	sh scripts/test.sh

test-unit: atrium $(OUT)/unit-tests
	sh scripts/test.sh unit

test-api: atrium
	sh scripts/test.sh api

test-e2e: atrium
	sh scripts/test.sh e2e

test-asan:
	sh scripts/test.sh asan

fuzz:
	sh fuzz/run.sh $${FUZZ_SECONDS:-60}

bench: deps-test
	$(MAKE) atrium BUILD=release
	sh bench/http.sh

docs: atrium
	./atrium config docs > docs/configuration.md
	./atrium policy docs > docs/security/authz.md

format:
	clang-format -i $$(find src tests/unit fuzz -name '*.[ch]')

clean:
	rm -rf build atrium web/dist

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
