# uvring: build, install and test a drop-in libuv.so.1.
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR    ?=
CARGO      ?= cargo
OUT        := target/release
VERSION    := 1.50.0

.PHONY: all lib install test check-format clippy unit abi suite hazards nvim-test node-test clean
.PHONY: diff diff-long memcheck memcheck-full memcheck-probes helgrind drd

all: lib $(OUT)/libuv.pc

lib:
	$(CARGO) build --release
	# A new file renamed into place: programs running on the old one keep their mapping.
	cp -f $(OUT)/libuv.so $(OUT)/libuv.so.1.0.0.new
	mv -f $(OUT)/libuv.so.1.0.0.new $(OUT)/libuv.so.1.0.0
	ln -sf libuv.so.1.0.0 $(OUT)/libuv.so.1

$(OUT)/libuv.pc: libuv.pc.in Makefile
	mkdir -p $(OUT)
	sed -e 's|@prefix@|$(PREFIX)|' -e 's|@libdir@|$(LIBDIR)|' \
	    -e 's|@includedir@|$(INCLUDEDIR)|' -e 's|@version@|$(VERSION)|' $< > $@

install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/uv
	install -m 0755 $(OUT)/libuv.so.1.0.0 $(DESTDIR)$(LIBDIR)/libuv.so.1.0.0
	ln -sf libuv.so.1.0.0 $(DESTDIR)$(LIBDIR)/libuv.so.1
	ln -sf libuv.so.1 $(DESTDIR)$(LIBDIR)/libuv.so
	install -m 0644 $(OUT)/libuv.a $(DESTDIR)$(LIBDIR)/libuv.a
	install -m 0644 $(OUT)/libuv.pc $(DESTDIR)$(LIBDIR)/pkgconfig/libuv.pc
	install -m 0644 include/uv.h $(DESTDIR)$(INCLUDEDIR)/uv.h
	install -m 0644 include/uv/*.h $(DESTDIR)$(INCLUDEDIR)/uv/

# The test command README.md documents and .ci/run calls.
test: check-format clippy unit all abi suite hazards nvim-test node-test diff memcheck

check-format:
	$(CARGO) fmt --check

clippy:
	$(CARGO) clippy --release --all-targets -- -D warnings

unit:
	$(CARGO) test --release

abi: all
	compat/abi/check.sh $(OUT)/libuv.so.1

suite: all
	compat/suite/check.sh $(OUT)

hazards: all
	compat/hazards/run.sh $(OUT)

# Real programs on the library (epoll, io_uring, and Debian's libuv for comparison), then storms.
nvim-test: all
	nvim-test/check.sh $(OUT)

node-test: all
	node-test/check.sh $(OUT)

# Differential tests against real libuv 1.50 (compat/diff/README.md); diff-long on demand.
diff: all
	compat/diff/run.sh $(OUT)

diff-long: all
	UVRING_DIFF_COUNT=$${UVRING_DIFF_COUNT:-2000000} UVRING_DIFF_SEED=$${UVRING_DIFF_SEED:-$$(date +%s)} \
	  compat/diff/run.sh $(OUT)

# libuv's suite under valgrind (compat/memcheck/README.md): CI's subset in both backends, the
# whole suite, the deliberate-bug probes, and the thread tests under helgrind / DRD.
memcheck: all
	compat/memcheck/run.sh --backend both $(OUT)

memcheck-full: all
	compat/memcheck/run.sh --backend both --full $(OUT)

memcheck-probes: all
	compat/memcheck/probes.sh $(OUT)

helgrind: all
	compat/memcheck/run.sh --tool helgrind --backend epoll --list compat/memcheck/thread-list.txt $(OUT)

drd: all
	compat/memcheck/run.sh --tool drd --backend epoll --list compat/memcheck/thread-list.txt $(OUT)

clean:
	$(CARGO) clean
