# SPDX-License-Identifier: GPL-2.0
#
# vid — top-level entry points:
#   make            build vid.ko for KDIR (default: the running kernel's
#                   build tree, else the newest Debian linux-headers)
#   make run        the demo: boot a TCG VM, load vid.ko, use a partition
#   make check      every test: unit, build, style, kselftests on 6.1+6.12
#   make bench      benchmarks (BENCH lines)
#   make fuzz       the libFuzzer targets, FUZZ_SECONDS (20) each
#   make style      checkpatch --strict and sparse over the module sources
#   make install    install vid.ko for KDIR's kernel (modules_install)

REPO     := $(CURDIR)
BUILD    := $(REPO)/build
LINUX_SRC ?= $(BUILD)/linux-src

KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))

MOD_SRCS := Kbuild $(wildcard hvcore/*.[ch] hvcore/*/*.[chS] vid/*.[ch] sched/*.[ch] synic/*.[ch] \
	vmbus/*.[ch] uapi/linux/*.h)

CFLAGS_USER := -O2 -Wall -Werror -static -pthread -Iuapi -Itools/libvid

.PHONY: all module clean run check bench style install tools unit deps fuzz

all: module

module:
	$(MAKE) -C $(KDIR) M=$(REPO) W=1 modules

install: module
	$(MAKE) -C $(KDIR) M=$(REPO) modules_install

# Per-kernel out-of-tree copy, so both kernels' objects can coexist:
# build/<kver>/src is the module tree, build/<kver>/stage what the
# initramfs carries (scripts/run-suite.sh).
build/%/stage/vid.ko: $(MOD_SRCS)
	@mkdir -p build/$*/src build/$*/stage
	@cp -a --parents $(MOD_SRCS) build/$*/src/
	$(MAKE) -C /usr/src/linux-headers-$* M=$(BUILD)/$*/src W=1 modules
	cp build/$*/src/vid.ko $@

tools: build/bin/vidctl build/bin/vidbench build/bin/vidvm

build/bin/vidctl: tools/vidctl.c tools/libvid/libvid.c tools/libvid/libvid.h uapi/linux/vid.h
	@mkdir -p build/bin
	$(CC) $(CFLAGS_USER) -o $@ tools/vidctl.c tools/libvid/libvid.c

unit: build/unit/pool_test build/unit/decode_test build/unit/hcall_input_test \
		build/unit/vmbus_ring_test
	build/unit/pool_test
	ASAN_OPTIONS=detect_leaks=0 build/unit/decode_test
	ASAN_OPTIONS=detect_leaks=0 build/unit/hcall_input_test
	ASAN_OPTIONS=detect_leaks=0 build/unit/vmbus_ring_test

build/unit/pool_test: selftests/unit/pool_test.c hvcore/pool.c hvcore/pool.h
	@mkdir -p build/unit
	$(CC) -O2 -Wall -Werror -pthread -Iselftests/unit \
		-I$(LINUX_SRC)/tools/testing/selftests -o $@ \
		selftests/unit/pool_test.c hvcore/pool.c

# The decoder parses guest bytes: its tests run under ASan and UBSan.
UNIT_SAN ?= -fsanitize=address,undefined -fno-sanitize-recover=all

build/unit/decode_test: selftests/unit/decode_test.c hvcore/decode.c hvcore/decode.h
	@mkdir -p build/unit
	$(CC) -O2 -g -Wall -Werror $(UNIT_SAN) -Iselftests/unit \
		-I$(LINUX_SRC)/tools/testing/selftests -o $@ \
		selftests/unit/decode_test.c hvcore/decode.c

# Hypercall input decoding parses guest values: ASan and UBSan as well.
build/unit/hcall_input_test: selftests/unit/hcall_input_test.c hvcore/hcall_input.c \
		hvcore/hcall_input.h
	@mkdir -p build/unit
	$(CC) -O2 -g -Wall -Werror $(UNIT_SAN) -Iselftests/unit \
		-I$(LINUX_SRC)/tools/testing/selftests -o $@ \
		selftests/unit/hcall_input_test.c hvcore/hcall_input.c

# libFuzzer target for the same code; scripts/fuzz.sh (make fuzz, make
# check) runs it for a bounded time from selftests/fuzz/corpus/hcall_input.
build/fuzz/hcall_input_fuzz: selftests/fuzz/hcall_input_fuzz.c hvcore/hcall_input.c \
		hvcore/hcall_input.h
	@mkdir -p build/fuzz
	clang -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Iselftests/unit -o $@ selftests/fuzz/hcall_input_fuzz.c \
		hvcore/hcall_input.c

# VMBus rings are guest memory: ASan and UBSan, guard pages in the test.
build/unit/vmbus_ring_test: selftests/unit/vmbus_ring_test.c vmbus/ring.c vmbus/ring.h \
		selftests/unit/kshim.h selftests/unit/kshim_shmem.h
	@mkdir -p build/unit
	$(CC) -O2 -g -Wall -Werror $(UNIT_SAN) -pthread -Iselftests/unit \
		-I$(LINUX_SRC)/tools/testing/selftests -o $@ \
		selftests/unit/vmbus_ring_test.c vmbus/ring.c

# The ring reader under libFuzzer; scripts/fuzz.sh (make fuzz, make check)
# runs it for a bounded time from selftests/fuzz/corpus/vmbus_ring.
build/fuzz/vmbus_ring_fuzz: selftests/fuzz/vmbus_ring_fuzz.c vmbus/ring.c vmbus/ring.h \
		selftests/unit/kshim.h selftests/unit/kshim_shmem.h
	@mkdir -p build/fuzz
	clang -O1 -g -Wall -Werror -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -Iselftests/unit -o $@ \
		selftests/fuzz/vmbus_ring_fuzz.c vmbus/ring.c

fuzz:
	scripts/fuzz.sh

# Native ring throughput (scripts/bench.sh): not in build/bin, which the
# test VMs carry.
build/bench/ring_bench: tools/ring_bench.c vmbus/ring.c vmbus/ring.h \
		selftests/unit/kshim.h selftests/unit/kshim_shmem.h
	@mkdir -p build/bench
	$(CC) -O2 -g -Wall -Werror -pthread -Iselftests/unit -o $@ \
		tools/ring_bench.c vmbus/ring.c

style:
	scripts/style.sh

deps:
	scripts/deps.sh

run:
	scripts/demo.sh

check:
	scripts/check.sh

bench:
	scripts/bench.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(REPO) clean
	rm -rf build

build/bin/vidbench: tools/vidbench.c tools/libvid/libvid.c tools/libvid/libvid.h uapi/linux/vid.h
	@mkdir -p build/bin
	$(CC) $(CFLAGS_USER) -Itools/libvid -o $@ tools/vidbench.c tools/libvid/libvid.c

# The VMBus channel-management server (vmbus/server*.c) parses guest
# messages: its tests (a model of Linux's hv_vmbus as the guest, a fake
# embedder) run under ASan and UBSan, and it has a libFuzzer target that
# scripts/fuzz.sh runs from selftests/fuzz/corpus/vmbus_msg.
VMBUS_SERVER_SRCS := vmbus/server.c vmbus/server_channel.c vmbus/server_gpadl.c \
	selftests/unit/vmbus_server_check.c
VMBUS_SERVER_DEPS := $(VMBUS_SERVER_SRCS) vmbus/server.h vmbus/server_int.h \
	vmbus/msg.h selftests/unit/kshim.h selftests/unit/kshim_uuid.h

.PHONY: unit-vmbus-server
unit: unit-vmbus-server
unit-vmbus-server: build/unit/vmbus_server_test
	ASAN_OPTIONS=detect_leaks=0 build/unit/vmbus_server_test

build/unit/vmbus_server_test: selftests/unit/vmbus_server_test.c $(VMBUS_SERVER_DEPS)
	@mkdir -p build/unit
	$(CC) -O2 -g -Wall -Werror $(UNIT_SAN) -Iselftests/unit \
		-I$(LINUX_SRC)/tools/testing/selftests -o $@ \
		selftests/unit/vmbus_server_test.c $(VMBUS_SERVER_SRCS)

build/fuzz/vmbus_msg_fuzz: selftests/fuzz/vmbus_msg_fuzz.c $(VMBUS_SERVER_DEPS)
	@mkdir -p build/fuzz
	clang -O1 -g -Wall -Werror -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -Iselftests/unit -o $@ \
		selftests/fuzz/vmbus_msg_fuzz.c $(VMBUS_SERVER_SRCS)

# libvid's VMBus part: the userspace channel helper (tools/libvid/vmbus_chan.c,
# over the root-side ring code vmbus/ring.c built as userspace with the
# shims in selftests/unit/) and the integration services on top of it
# (tools/libvid/vmbus_ic*.c). A tool using them compiles these sources with
# LIBVID_VMBUS_CFLAGS.
LIBVID_VMBUS_SRCS := tools/libvid/vmbus_chan.c tools/libvid/vmbus_ic.c \
	tools/libvid/vmbus_ic_host.c tools/libvid/vmbus_ic_cmd.c vmbus/ring.c
LIBVID_VMBUS_DEPS := $(LIBVID_VMBUS_SRCS) tools/libvid/vmbus_chan.h \
	tools/libvid/vmbus_ic.h vmbus/ring.h uapi/linux/vid_vmbus.h \
	selftests/unit/kshim.h selftests/unit/kshim_shmem.h
LIBVID_VMBUS_CFLAGS := -Iuapi -Itools/libvid -Iselftests/unit

# They parse guest answers: tests under ASan and UBSan, with a model of
# Linux's hv_utils and hv_kvp_daemon as the guest.
.PHONY: unit-vmbus-ic
unit: unit-vmbus-ic
unit-vmbus-ic: build/unit/vmbus_ic_test
	ASAN_OPTIONS=detect_leaks=0 build/unit/vmbus_ic_test

build/unit/vmbus_ic_test: selftests/unit/vmbus_ic_test.c $(LIBVID_VMBUS_DEPS)
	@mkdir -p build/unit
	$(CC) -O2 -g -Wall -Werror $(UNIT_SAN) -pthread $(LIBVID_VMBUS_CFLAGS) \
		-I$(LINUX_SRC)/tools/testing/selftests -o $@ \
		selftests/unit/vmbus_ic_test.c $(LIBVID_VMBUS_SRCS)

# VMBus ring throughput and signal latency from inside a C guest
# (scripts/modes/bench.sh): the selftests' guest library and VMBus client,
# built as they are (-mno-red-zone: guest code takes interrupts on its
# stack).
VMBUS_BENCH_SRCS := tools/vmbus_bench.c selftests/lib_vmbus_guest.c \
	selftests/lib_guest.c selftests/vid_test_util.c tools/libvid/libvid.c
tools: build/bin/vmbus_bench
build/bin/vmbus_bench: $(VMBUS_BENCH_SRCS) selftests/lib_vmbus_guest.h \
		selftests/lib_guest.h selftests/lib_cguest.h \
		selftests/vid_test_util.h tools/libvid/libvid.h \
		uapi/linux/vid.h uapi/linux/vid_vmbus.h vmbus/vsp_echo.h
	@mkdir -p build/bin
	$(CC) -O2 -Wall -Wextra -Wno-sign-compare -Werror -static -pthread \
		-mno-red-zone -Iuapi -Itools/libvid -Iselftests -o $@ \
		$(VMBUS_BENCH_SRCS)

# vidvm, the VM worker: its DSDT is ASL compiled by iasl (acpica-tools)
# into a C array; the MMIO decoder is the hypervisor's own (hvcore/decode.c,
# userspace through selftests/unit/kshim.h); the dispatch table uses
# liburcu (liburcu-dev, static); the integration services are libvid's.
VIDVM_SRCS := $(wildcard tools/vidvm/*.c) hvcore/decode.c tools/libvid/libvid.c \
	$(LIBVID_VMBUS_SRCS)

build/vidvm/dsdt.hex: tools/vidvm/dsdt.asl
	@mkdir -p build/vidvm
	iasl -p build/vidvm/dsdt -tc $< >build/vidvm/iasl.log 2>&1 || \
		{ cat build/vidvm/iasl.log; exit 1; }

build/bin/vidvm: $(VIDVM_SRCS) $(wildcard tools/vidvm/*.h) hvcore/decode.h \
		tools/libvid/libvid.h uapi/linux/vid.h build/vidvm/dsdt.hex \
		$(LIBVID_VMBUS_DEPS)
	@mkdir -p build/bin
	$(CC) $(CFLAGS_USER) -Wextra -Wno-unused-parameter -Iselftests/unit \
		-Ibuild/vidvm -o $@ $(VIDVM_SRCS) -lurcu -lurcu-common
