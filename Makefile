# cdp - a Customer Data Platform as Unix filters.
#
#   make            build the programs into cmd/
#   make check      unit and command-line tests, then again under ASan+UBSan
#   make demo       install what is missing, build, run the sample pipeline
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man

CC ?= cc
PKGS = jansson lmdb libxxhash libsodium libzstd libutf8proc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson -llmdb -lxxhash -lsodium -lzstd -lutf8proc)
WARN = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-function
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -Ilib $(PKG_CFLAGS) $(CFLAGS)
LIBS = $(PKG_LIBS) -lcsv -lm -pthread

PROGRAMS = cmd/cdp-ingest cmd/cdp-export cmd/cdp-segment cmd/cdp-consent cmd/cdp-predict cmd/cdp-merge
LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:.c=.o)
UNIT_TESTS = $(patsubst %.c,%,$(wildcard tests/unit/test_*.c))
MAN1 = $(wildcard man/*.1)
MAN5 = $(wildcard man/*.5)
MAN7 = $(wildcard man/*.7)

all: $(PROGRAMS) scripts/cdp-gen

lib/%.o: lib/%.c lib/*.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

lib/libcdp.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

cmd/%: cmd/%.c lib/libcdp.a
	$(CC) $(ALL_CFLAGS) -o $@ $< lib/libcdp.a $(LIBS)

tests/unit/test_%: tests/unit/test_%.c lib/libcdp.a tests/unit/check.h
	$(CC) $(ALL_CFLAGS) -o $@ $< lib/libcdp.a $(LIBS)

scripts/cdp-gen: scripts/cdp-gen.c
	$(CC) -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o $@ $< -lm

tests: $(UNIT_TESTS)

# The sanitizer build lives in its own tree so both can coexist.
SAN_DIR = build-san
san:
	$(MAKE) -s -f Makefile.san SAN_DIR=$(SAN_DIR)

check: all tests
	sh tests/run.sh
	$(MAKE) -s san
	CDP_BIN=$(SAN_DIR)/cmd CDP_UNIT=$(SAN_DIR)/tests/unit sh tests/run.sh

demo:
	sh scripts/demo.sh

deps:
	sh scripts/install-deps.sh

install: $(PROGRAMS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7
	install -m 755 $(PROGRAMS) $(DESTDIR)$(BINDIR)
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1)
	$(if $(MAN5),install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5)
	$(if $(MAN7),install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7)

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGRAMS)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(MAN7)))

format:
	clang-format -i cmd/*.c lib/*.c lib/*.h tests/unit/*.c tests/unit/*.h

clean:
	rm -f $(PROGRAMS) lib/*.o lib/libcdp.a $(UNIT_TESTS) scripts/cdp-gen
	rm -rf $(SAN_DIR)

.PHONY: all tests san check demo deps install uninstall format clean
