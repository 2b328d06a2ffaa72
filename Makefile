# uvring: build, install and test a drop-in libuv.so.1.
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR    ?=
CARGO      ?= cargo
OUT        := target/release
VERSION    := 1.50.0

.PHONY: all lib install test FORCE check-format clippy unit abi suite hazards nvim-test node-test clean \
        install-test vendor deb deb-test bench-libuv bench-stream arm64
.PHONY: diff diff-long memcheck memcheck-full memcheck-probes helgrind drd

all: lib $(OUT)/libuv.pc $(OUT)/libuv-static.pc

lib:
	$(CARGO) build --release
	# A new file renamed into place: programs running on the old one keep their mapping.
	cp -f $(OUT)/libuv.so $(OUT)/libuv.so.1.0.0.new
	mv -f $(OUT)/libuv.so.1.0.0.new $(OUT)/libuv.so.1.0.0
	ln -sf libuv.so.1.0.0 $(OUT)/libuv.so.1

# The .pc files carry the paths of one build: their rule depends on a file holding those values,
# rewritten only when they change, so `make install PREFIX=/usr` after a plain `make` regenerates
# them with /usr (issue 15).
PC_PATHS := $(PREFIX)|$(LIBDIR)|$(INCLUDEDIR)|$(VERSION)
$(OUT)/pc-paths: FORCE
	@mkdir -p $(OUT)
	@echo '$(PC_PATHS)' | cmp -s - $@ || echo '$(PC_PATHS)' > $@

$(OUT)/%.pc: %.pc.in $(OUT)/pc-paths Makefile
	sed -e 's|@prefix@|$(PREFIX)|' -e 's|@libdir@|$(LIBDIR)|' \
	    -e 's|@includedir@|$(INCLUDEDIR)|' -e 's|@version@|$(VERSION)|' $< > $@

FORCE:

install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/uv
	install -m 0755 $(OUT)/libuv.so.1.0.0 $(DESTDIR)$(LIBDIR)/libuv.so.1.0.0
	ln -sf libuv.so.1.0.0 $(DESTDIR)$(LIBDIR)/libuv.so.1
	ln -sf libuv.so.1 $(DESTDIR)$(LIBDIR)/libuv.so
	install -m 0644 $(OUT)/libuv.a $(DESTDIR)$(LIBDIR)/libuv.a
	install -m 0644 $(OUT)/libuv.pc $(OUT)/libuv-static.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 0644 include/uv.h $(DESTDIR)$(INCLUDEDIR)/uv.h
	install -m 0644 include/uv/*.h $(DESTDIR)$(INCLUDEDIR)/uv/

# The test command README.md documents and .ci/run calls.
test: check-format clippy unit all abi suite hazards nvim-test node-test install-test deb-test kernels \
      diff memcheck

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

# Issue 15: `make` then `make install PREFIX=/usr ... DESTDIR=` installs .pc files with /usr paths.
install-test:
	compat/install/check.sh

# Debian packages (debian/): crates vendored into the git-ignored vendor/ (network), then
# dpkg-buildpackage offline in a copy of the tree; .debs in compat/deb/.cache/build/.
vendor: vendor/.stamp

vendor/.stamp: Cargo.lock
	rm -rf vendor
	$(CARGO) vendor --locked vendor >/dev/null
	touch $@

deb: vendor
	compat/deb/build.sh

# The packages built and checked: lintian, ELF (NEEDED, hardening, glibc versions, dbgsym),
# abidiff against Debian 13's libuv, whole Debian 13 and 12 systems (chroots) switched to them.
deb-test: vendor
	compat/deb/test.sh

# libuv 1.50's benchmark runner on uvring vs real libuv 1.50 (not part of test; root; REPS=5 takes hours).
bench-libuv: all
	bench/libuv/run.sh $(BENCH_ARGS)

# Queued stream writes, uvring vs real libuv 1.50 (not part of test; root; about a minute).
bench-stream: all
	bench/stream/run.sh $(OUT) "$$(compat/suite/baseline.sh 1.50.0 | tail -n 1)"

# aarch64 (compat/arm64): Debian 13 chroot, cross-build with Debian's rustc 1.85, the ABI check
# for aarch64, the epoll fallback and libuv 1.50's suite under qemu-user. Not in `test`: it
# takes longer than its CI budget (compat/arm64/README.md has the times).
arm64:
	compat/arm64/check.sh

# uvring in Debian's 5.10, 6.1 and 6.12 kernels, booted in QEMU (compat/kernels/README.md).
# kernels: CI's subset; kernels-full: the whole suite in every backend, and the Neovim storm on 6.1.
.PHONY: kernels kernels-full
kernels: all
	compat/kernels/run.sh

kernels-full: all
	compat/kernels/run.sh --full --storm

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
	compat/memcheck/probes.sh $(OUT)

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
