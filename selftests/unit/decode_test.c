// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the MMIO instruction decoder (hvcore/decode.c), built as
 * userspace C. The encodings are written out by hand; each was checked
 * once against binutils (objdump -D -b binary -mi386:x86-64, -mi386, or
 * -mi8086 with the bytes in a file), whose output each case's text gives,
 * with a note in parentheses where the encoding is the point. (objdump
 * shows a REX prefix that a later prefix cancels as an instruction of its
 * own; the CPU ignores it, as the decoder does.)
 *
 * Every input is placed so that its last byte ends a page followed by an
 * inaccessible one: a decoder that reads one byte too far crashes the
 * test, with or without the sanitizers the unit build adds.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../../hvcore/decode.h"

/* The bytes of a case, and their number. */
#define B(...) .n = sizeof((u8[]){ __VA_ARGS__ }), .b = { __VA_ARGS__ }

/*
 * An instruction the decoder must accept, all @n bytes of it. Expected
 * fields left zero: .rsz defaults to .size, the rest are false or 0.
 */
struct dcase {
	const char *text;
	int mode;
	unsigned int n;
	u8 b[HV_INSN_MAX_LEN + 1];
	u8 size, rsz, reg;
	bool w, imm_src, hi, zx, sx;
	u64 imm;
};

static const struct dcase good[] = {
	/* 64-bit: plain loads and stores, every operand size */
	{ "mov (%rdi),%eax", 64, B(0x8b, 0x07), .size = 4 },
	{ "mov %eax,(%rcx)", 64, B(0x89, 0x01), .size = 4, .w = 1 },
	{ "mov (%rdi),%rax", 64, B(0x48, 0x8b, 0x07), .size = 8 },
	{ "mov %rsi,(%rdi)", 64, B(0x48, 0x89, 0x37), .size = 8, .w = 1,
	  .reg = 6 },
	{ "mov (%rdi),%ax", 64, B(0x66, 0x8b, 0x07), .size = 2 },
	{ "mov %dx,(%rdi)", 64, B(0x66, 0x89, 0x17), .size = 2, .w = 1,
	  .reg = 2 },
	{ "mov (%rdi),%cl", 64, B(0x8a, 0x0f), .size = 1, .reg = 1 },
	{ "mov %bl,(%rdi)", 64, B(0x88, 0x1f), .size = 1, .w = 1, .reg = 3 },
	/* REX.R: r8..r15; REX.W wins over 66 */
	{ "mov (%rdi),%r8", 64, B(0x4c, 0x8b, 0x07), .size = 8, .reg = 8 },
	{ "mov (%r15),%r8d", 64, B(0x45, 0x8b, 0x07), .size = 4, .reg = 8 },
	{ "mov %r15w,(%rax)", 64, B(0x66, 0x44, 0x89, 0x38), .size = 2,
	  .w = 1, .reg = 15 },
	{ "mov (%rdi),%rax (66 REX.W)", 64, B(0x66, 0x48, 0x8b, 0x07),
	  .size = 8 },
	{ "mov (%rdi),%eax (REX 40)", 64, B(0x40, 0x8b, 0x07), .size = 4 },
	/* byte registers: AH..BH without REX, SPL..DIL with any REX */
	{ "mov (%rdi),%ah", 64, B(0x8a, 0x27), .size = 1, .reg = 0, .hi = 1 },
	{ "mov %bh,(%rdi)", 64, B(0x88, 0x3f), .size = 1, .w = 1, .reg = 3,
	  .hi = 1 },
	{ "mov %ch,(%rdi)", 64, B(0x88, 0x2f), .size = 1, .w = 1, .reg = 1,
	  .hi = 1 },
	{ "mov (%rdi),%dh", 64, B(0x8a, 0x37), .size = 1, .reg = 2, .hi = 1 },
	{ "mov (%rdi),%spl", 64, B(0x40, 0x8a, 0x27), .size = 1, .reg = 4 },
	{ "mov %dil,(%rdi)", 64, B(0x40, 0x88, 0x3f), .size = 1, .w = 1,
	  .reg = 7 },
	{ "mov %spl,(%r8)", 64, B(0x41, 0x88, 0x20), .size = 1, .w = 1,
	  .reg = 4 },
	{ "mov %r8b,(%rdi)", 64, B(0x44, 0x88, 0x07), .size = 1, .w = 1,
	  .reg = 8 },
	{ "mov (%rdi),%r12b", 64, B(0x44, 0x8a, 0x27), .size = 1, .reg = 12 },
	{ "mov (%rdi),%bpl (REX.W)", 64, B(0x48, 0x8a, 0x2f), .size = 1,
	  .reg = 5 },
	/* ModRM forms: disp8, disp32, RIP-relative, SIB in all its forms */
	{ "mov 0x10(%rdi),%eax", 64, B(0x8b, 0x47, 0x10), .size = 4 },
	{ "mov 0x100(%rdi),%eax", 64, B(0x8b, 0x87, 0x00, 0x01, 0x00, 0x00),
	  .size = 4 },
	{ "mov 0x12345678(%rip),%eax", 64,
	  B(0x8b, 0x05, 0x78, 0x56, 0x34, 0x12), .size = 4 },
	{ "mov 0x12345678(%rip),%eax (REX.B)", 64,
	  B(0x41, 0x8b, 0x05, 0x78, 0x56, 0x34, 0x12), .size = 4 },
	{ "mov 0x0(%r13),%eax", 64, B(0x41, 0x8b, 0x45, 0x00), .size = 4 },
	{ "mov (%r12),%eax", 64, B(0x41, 0x8b, 0x04, 0x24), .size = 4 },
	{ "mov (%rdi,%rcx,4),%eax", 64, B(0x8b, 0x04, 0x8f), .size = 4 },
	{ "mov 0x8(%rbp),%eax (SIB)", 64, B(0x8b, 0x44, 0x25, 0x08),
	  .size = 4 },
	{ "mov 0x100(%rdi,%rcx,4),%eax", 64,
	  B(0x8b, 0x84, 0x8f, 0x00, 0x01, 0x00, 0x00), .size = 4 },
	{ "mov 0x1000(,%rcx,4),%eax", 64,
	  B(0x8b, 0x04, 0x8d, 0x00, 0x10, 0x00, 0x00), .size = 4 },
	{ "mov 0x12345678,%eax (SIB, REX.B)", 64,
	  B(0x41, 0x8b, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12), .size = 4 },
	{ "mov 0x0(%r13,%r9,8),%r10 (REX.WRXB)", 64,
	  B(0x4f, 0x8b, 0x54, 0xcd, 0x00), .size = 8, .reg = 10 },
	/* xAPIC accesses as Linux compiles them (fixmap, SIB disp32) */
	{ "mov %edx,0xffffffffff5fb0b0", 64,
	  B(0x89, 0x14, 0x25, 0xb0, 0xb0, 0x5f, 0xff), .size = 4, .w = 1,
	  .reg = 2 },
	{ "mov 0xffffffffff5fb030,%eax", 64,
	  B(0x8b, 0x04, 0x25, 0x30, 0xb0, 0x5f, 0xff), .size = 4 },
	/* 67: 32-bit addressing, same forms */
	{ "mov (%edi),%eax", 64, B(0x67, 0x8b, 0x07), .size = 4 },
	{ "mov 0x12345678(%eip),%eax", 64,
	  B(0x67, 0x8b, 0x05, 0x78, 0x56, 0x34, 0x12), .size = 4 },
	/* segment overrides, prefixes in any order, REX after them */
	{ "mov %gs:0x10,%eax", 64,
	  B(0x65, 0x8b, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00), .size = 4 },
	{ "mov %fs:(%rax),%rax", 64, B(0x64, 0x48, 0x8b, 0x00), .size = 8 },
	{ "cs/ss/ds/es mov (%rax),%eax", 64,
	  B(0x2e, 0x36, 0x3e, 0x26, 0x8b, 0x00), .size = 4 },
	{ "mov %gs:(%edi),%ax", 64, B(0x66, 0x67, 0x65, 0x8b, 0x07),
	  .size = 2 },
	{ "mov (%rdi),%ax (REX.W then 66: REX ignored)", 64,
	  B(0x48, 0x66, 0x8b, 0x07), .size = 2 },
	{ "mov (%rdi),%ah (REX then 3e: REX ignored)", 64,
	  B(0x40, 0x3e, 0x8a, 0x27), .size = 1, .hi = 1 },
	{ "mov (%r15),%eax (REX.W then REX.B: last wins)", 64,
	  B(0x48, 0x41, 0x8b, 0x07), .size = 4 },
	/* stores of immediates */
	{ "movb $0x12,(%rdi)", 64, B(0xc6, 0x07, 0x12), .size = 1, .w = 1,
	  .imm_src = 1, .imm = 0x12 },
	{ "movb $0xff,0x10(%rdi)", 64, B(0xc6, 0x47, 0x10, 0xff), .size = 1,
	  .w = 1, .imm_src = 1, .imm = 0xff },
	{ "movl $0x12345678,(%rdi)", 64,
	  B(0xc7, 0x07, 0x78, 0x56, 0x34, 0x12), .size = 4, .w = 1,
	  .imm_src = 1, .imm = 0x12345678 },
	{ "movl $0x80000000,(%rdi)", 64,
	  B(0xc7, 0x07, 0x00, 0x00, 0x00, 0x80), .size = 4, .w = 1,
	  .imm_src = 1, .imm = 0x80000000 },
	{ "movw $0x1234,(%rdi)", 64, B(0x66, 0xc7, 0x07, 0x34, 0x12),
	  .size = 2, .w = 1, .imm_src = 1, .imm = 0x1234 },
	{ "movq $0x12345678,(%rdi)", 64,
	  B(0x48, 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12), .size = 8, .w = 1,
	  .imm_src = 1, .imm = 0x12345678 },
	{ "movq $0xffffffff80000000,(%rdi)", 64,
	  B(0x48, 0xc7, 0x07, 0x00, 0x00, 0x00, 0x80), .size = 8, .w = 1,
	  .imm_src = 1, .imm = 0xffffffff80000000ULL },
	{ "movq $0xffffffffffffffff,(%rdi)", 64,
	  B(0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff), .size = 8, .w = 1,
	  .imm_src = 1, .imm = ~0ULL },
	{ "movl $0x1,0x12345678(%rip)", 64,
	  B(0xc7, 0x05, 0x78, 0x56, 0x34, 0x12, 0x01, 0x00, 0x00, 0x00),
	  .size = 4, .w = 1, .imm_src = 1, .imm = 1 },
	{ "movl $0xdeadbeef,0x100(%rdi,%rcx,4)", 64,
	  B(0xc7, 0x84, 0x8f, 0x00, 0x01, 0x00, 0x00, 0xef, 0xbe, 0xad, 0xde),
	  .size = 4, .w = 1, .imm_src = 1, .imm = 0xdeadbeef },
	{ "movw $0xabcd,0x8(%r9,%r10,2)", 64,
	  B(0x66, 0x43, 0xc7, 0x44, 0x51, 0x08, 0xcd, 0xab), .size = 2,
	  .w = 1, .imm_src = 1, .imm = 0xabcd },
	/* MOVZX, MOVSX: the register is wider than the access */
	{ "movzbl (%rdi),%eax", 64, B(0x0f, 0xb6, 0x07), .size = 1, .rsz = 4,
	  .zx = 1 },
	{ "movzwl (%rdi),%eax", 64, B(0x0f, 0xb7, 0x07), .size = 2, .rsz = 4,
	  .zx = 1 },
	{ "movzbq (%rdi),%rax", 64, B(0x48, 0x0f, 0xb6, 0x07), .size = 1,
	  .rsz = 8, .zx = 1 },
	{ "movzwq (%rdi),%r11", 64, B(0x4c, 0x0f, 0xb7, 0x1f), .size = 2,
	  .rsz = 8, .reg = 11, .zx = 1 },
	{ "movzbw (%rdi),%ax", 64, B(0x66, 0x0f, 0xb6, 0x07), .size = 1,
	  .rsz = 2, .zx = 1 },
	{ "movzbl (%rdi),%esp (no high byte)", 64, B(0x0f, 0xb6, 0x27),
	  .size = 1, .rsz = 4, .reg = 4, .zx = 1 },
	{ "movzwl 0x12345678(%rip),%r8d", 64,
	  B(0x44, 0x0f, 0xb7, 0x05, 0x78, 0x56, 0x34, 0x12), .size = 2,
	  .rsz = 4, .reg = 8, .zx = 1 },
	{ "movsbl (%rdi),%eax", 64, B(0x0f, 0xbe, 0x07), .size = 1, .rsz = 4,
	  .sx = 1 },
	{ "movswq (%rdi),%rax", 64, B(0x48, 0x0f, 0xbf, 0x07), .size = 2,
	  .rsz = 8, .sx = 1 },
	{ "movsbw (%rdi),%cx", 64, B(0x66, 0x0f, 0xbe, 0x0f), .size = 1,
	  .rsz = 2, .reg = 1, .sx = 1 },
	/* moffs: eight address bytes, four with 67 */
	{ "movabs 0x1122334455667788,%eax", 64,
	  B(0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), .size = 4 },
	{ "movabs %rax,0x1122334455667788", 64,
	  B(0x48, 0xa3, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11),
	  .size = 8, .w = 1 },
	{ "movabs 0x1122334455667788,%al", 64,
	  B(0xa0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), .size = 1 },
	{ "movabs %ax,0x1122334455667788", 64,
	  B(0x66, 0xa3, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11),
	  .size = 2, .w = 1 },
	{ "addr32 mov %al,0x11223344", 64,
	  B(0x67, 0xa2, 0x44, 0x33, 0x22, 0x11), .size = 1, .w = 1 },
	/* 15 bytes is the limit, and allowed */
	{ "data16 movq $0xffffffffdeadbeef,%gs:0x100(%edi,%ecx,4)", 64,
	  B(0x65, 0x66, 0x67, 0x48, 0xc7, 0x84, 0x8f, 0x00, 0x01, 0x00, 0x00,
	    0xef, 0xbe, 0xad, 0xde), .size = 8, .w = 1, .imm_src = 1,
	  .imm = 0xffffffffdeadbeefULL },
	{ "13 ds prefixes, mov (%rax),%eax", 64,
	  B(0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e,
	    0x3e, 0x3e, 0x8b, 0x00), .size = 4 },

	/* 32-bit code */
	{ "mov (%eax),%eax", 32, B(0x8b, 0x00), .size = 4 },
	{ "mov (%eax),%ax", 32, B(0x66, 0x8b, 0x00), .size = 2 },
	{ "mov (%esi),%dh", 32, B(0x8a, 0x36), .size = 1, .reg = 2, .hi = 1 },
	{ "mov %edx,0xfee000b0", 32, B(0x89, 0x15, 0xb0, 0x00, 0xe0, 0xfe),
	  .size = 4, .w = 1, .reg = 2 },
	{ "mov 0xfee00030,%eax (moffs)", 32,
	  B(0xa1, 0x30, 0x00, 0xe0, 0xfe), .size = 4 },
	{ "mov %eax,0xfee000b0 (moffs)", 32,
	  B(0xa3, 0xb0, 0x00, 0xe0, 0xfe), .size = 4, .w = 1 },
	{ "mov %ax,0xfee000b0 (moffs)", 32,
	  B(0x66, 0xa3, 0xb0, 0x00, 0xe0, 0xfe), .size = 2, .w = 1 },
	{ "addr16 mov 0x1234,%eax (moffs)", 32, B(0x67, 0xa1, 0x34, 0x12),
	  .size = 4 },
	{ "mov 0x1000(,%ecx,4),%eax", 32,
	  B(0x8b, 0x04, 0x8d, 0x00, 0x10, 0x00, 0x00), .size = 4 },
	{ "mov 0x8(%ebp),%ecx", 32, B(0x8b, 0x4d, 0x08), .size = 4, .reg = 1 },
	{ "mov (%bx),%eax (67)", 32, B(0x67, 0x8b, 0x07), .size = 4 },
	{ "mov 0x1234,%eax (67)", 32, B(0x67, 0x8b, 0x06, 0x34, 0x12),
	  .size = 4 },
	{ "movl $0x0,0xfee000b0", 32,
	  B(0xc7, 0x05, 0xb0, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00),
	  .size = 4, .w = 1, .imm_src = 1 },
	{ "movw $0x1234,(%eax)", 32, B(0x66, 0xc7, 0x00, 0x34, 0x12),
	  .size = 2, .w = 1, .imm_src = 1, .imm = 0x1234 },
	{ "movzbl (%eax),%eax", 32, B(0x0f, 0xb6, 0x00), .size = 1, .rsz = 4,
	  .zx = 1 },
	{ "movswl %fs:0x4(%ebx),%edi", 32, B(0x64, 0x0f, 0xbf, 0x7b, 0x04),
	  .size = 2, .rsz = 4, .reg = 7, .sx = 1 },

	/* 16-bit code */
	{ "mov (%bx),%ax", 16, B(0x8b, 0x07), .size = 2 },
	{ "mov (%bx),%eax", 16, B(0x66, 0x8b, 0x07), .size = 4 },
	{ "mov (%bx,%si),%ax", 16, B(0x8b, 0x00), .size = 2 },
	{ "mov 0x1234,%ax", 16, B(0x8b, 0x06, 0x34, 0x12), .size = 2 },
	{ "mov 0x2(%bp),%cx", 16, B(0x8b, 0x4e, 0x02), .size = 2, .reg = 1 },
	{ "mov 0x1234(%bx),%ax", 16, B(0x8b, 0x87, 0x34, 0x12), .size = 2 },
	{ "mov %bh,(%di)", 16, B(0x88, 0x3d), .size = 1, .w = 1, .reg = 3,
	  .hi = 1 },
	{ "mov %es:(%bx),%ax", 16, B(0x26, 0x8b, 0x07), .size = 2 },
	{ "mov %fs:(%bx),%ax", 16, B(0x64, 0x8b, 0x07), .size = 2 },
	{ "mov 0x1000(,%ecx,4),%ax (67)", 16,
	  B(0x67, 0x8b, 0x04, 0x8d, 0x00, 0x10, 0x00, 0x00), .size = 2 },
	{ "mov 0x12345678,%ax (67)", 16,
	  B(0x67, 0x8b, 0x05, 0x78, 0x56, 0x34, 0x12), .size = 2 },
	{ "mov 0x1234,%ax (moffs)", 16, B(0xa1, 0x34, 0x12), .size = 2 },
	{ "mov %eax,0x1234 (moffs)", 16, B(0x66, 0xa3, 0x34, 0x12), .size = 4,
	  .w = 1 },
	{ "mov 0x12345678,%ax (67 moffs)", 16,
	  B(0x67, 0xa1, 0x78, 0x56, 0x34, 0x12), .size = 2 },
	{ "movw $0xabcd,0x1234", 16, B(0xc7, 0x06, 0x34, 0x12, 0xcd, 0xab),
	  .size = 2, .w = 1, .imm_src = 1, .imm = 0xabcd },
	{ "movl $0x12345678,0x1234", 16,
	  B(0x66, 0xc7, 0x06, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12), .size = 4,
	  .w = 1, .imm_src = 1, .imm = 0x12345678 },
	{ "movb $0xff,0x1234", 16, B(0xc6, 0x06, 0x34, 0x12, 0xff), .size = 1,
	  .w = 1, .imm_src = 1, .imm = 0xff },
	{ "movzbw (%bx),%ax", 16, B(0x0f, 0xb6, 0x07), .size = 1, .rsz = 2,
	  .zx = 1 },
	{ "movzwl (%bx),%eax", 16, B(0x66, 0x0f, 0xb7, 0x07), .size = 2,
	  .rsz = 4, .zx = 1 },
	{ "movsbw 0x10(%bp,%di),%dx", 16, B(0x0f, 0xbe, 0x53, 0x10),
	  .size = 1, .rsz = 2, .reg = 2, .sx = 1 },
};

/* Complete instructions the decoder must refuse whatever follows them. */
struct bad {
	const char *text;
	int mode;
	unsigned int n;
	u8 b[HV_INSN_MAX_LEN + 2];
};

static const struct bad bad[] = {
	{ "lock mov %eax,(%rdi)", 64, B(0xf0, 0x89, 0x07) },
	{ "xrelease mov %eax,(%rdi)", 64, B(0xf3, 0x89, 0x07) },
	{ "repnz mov (%rdi),%eax", 64, B(0xf2, 0x8b, 0x07) },
	{ "mov %eax,%eax (mod 3)", 64, B(0x8b, 0xc0) },
	{ "mov %al,%al (mod 3)", 64, B(0x88, 0xc0) },
	{ "mov $0x1,%eax (C7 mod 3)", 64, B(0xc7, 0xc0, 1, 0, 0, 0) },
	{ "movzbl %al,%eax (mod 3)", 64, B(0x0f, 0xb6, 0xc0) },
	{ "xabort $0x0", 64, B(0xc6, 0xf8, 0x00) },
	{ "xbegin", 64, B(0xc7, 0xf8, 0, 0, 0, 0) },
	{ "C7 /1 (undefined)", 64, B(0xc7, 0x4f, 0x10, 0, 0, 0, 0) },
	{ "C6 /7 memory (undefined)", 64, B(0xc6, 0x38, 0x00) },
	{ "xchg %eax,(%rdi)", 64, B(0x87, 0x07) },
	{ "movsl", 64, B(0xa5) },
	{ "movsb", 64, B(0xa4) },
	{ "add %eax,(%rdi)", 64, B(0x01, 0x07) },
	{ "test %eax,(%rdi)", 64, B(0x85, 0x07) },
	{ "incl (%rdi)", 64, B(0xff, 0x07) },
	{ "mov (%rdi),%es", 64, B(0x8e, 0x07) },
	{ "mov %es,(%rdi)", 64, B(0x8c, 0x07) },
	{ "movnti %eax,(%rdi)", 64, B(0x0f, 0xc3, 0x07) },
	{ "sldt (%rdi)", 64, B(0x0f, 0x00, 0x07) },
	{ "vmovd (%rdi),%xmm0 (VEX)", 64, B(0xc5, 0xf9, 0x6e, 0x07) },
	{ "EVEX", 64, B(0x62, 0xf1, 0x7d, 0x48, 0x6f, 0x07) },
	{ "movsxd (%rdi),%rax", 64, B(0x48, 0x63, 0x07) },
	{ "REX alone before 0f 0f", 64, B(0x48, 0x0f, 0x0f, 0x07, 0x00) },
	{ "dec %eax; mov (%edi),%eax (48 in 32-bit)", 32,
	  B(0x48, 0x8b, 0x07) },
	{ "inc %eax (40 in 16-bit)", 16, B(0x40, 0x8b, 0x07) },
	{ "14 ds prefixes, mov (%rax),%eax: 16 bytes", 64,
	  B(0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e,
	    0x3e, 0x3e, 0x3e, 0x8b, 0x00) },
	{ "4 prefixes, REX.W C7 SIB disp32 imm32: 16 bytes", 64,
	  B(0x65, 0x3e, 0x66, 0x67, 0x48, 0xc7, 0x84, 0x8f, 0x00, 0x01, 0x00,
	    0x00, 0xef, 0xbe, 0xad, 0xde) },
	{ "only prefixes", 64,
	  B(0x66, 0x67, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x40, 0x48, 0x4f,
	    0x66, 0x67, 0x26, 0x2e, 0x36, 0x3e) },
};

/*
 * @n bytes of @src copied to the end of a page whose successor is
 * inaccessible: reading one byte past them faults.
 */
static const u8 *guarded(const u8 *src, unsigned int n)
{
	static u8 *page;
	long psz = sysconf(_SC_PAGESIZE);

	if (!page) {
		page = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED ||
		    mprotect(page + psz, psz, PROT_NONE)) {
			perror("guard page");
			abort();
		}
	}
	memcpy(page + psz - n, src, n);
	return page + psz - n;
}

static int decode(const u8 *b, unsigned int n, int mode,
		  struct hv_mmio_insn *out)
{
	return hv_mmio_decode(guarded(b, n), n, mode, out);
}

/* Whether @d is what @c says; logs the first difference. */
static bool matches(const struct dcase *c, const struct hv_mmio_insn *d)
{
	u8 rsz = c->rsz ? c->rsz : c->size;
	const char *what = NULL;

	if (d->len != c->n)
		what = "len";
	else if (d->size != c->size)
		what = "size";
	else if (d->reg_size != rsz)
		what = "reg_size";
	else if (d->write != c->w)
		what = "write";
	else if (d->src_kind != (c->imm_src ? HV_MMIO_IMM : HV_MMIO_REG))
		what = "src_kind";
	else if (!c->imm_src && d->reg != c->reg)
		what = "reg";
	else if (d->high_byte != c->hi)
		what = "high_byte";
	else if (d->zero_extend != c->zx)
		what = "zero_extend";
	else if (d->sign_extend != c->sx)
		what = "sign_extend";
	else if (d->imm != c->imm)
		what = "imm";
	if (what)
		fprintf(stderr, "# %s (mode %d): wrong %s\n", c->text, c->mode,
			what);
	return !what;
}

/* Every table entry, as exactly its own bytes. */
TEST(accepts_table)
{
	struct hv_mmio_insn d;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		const struct dcase *c = &good[i];

		ASSERT_EQ(0, decode(c->b, c->n, c->mode, &d))
			TH_LOG("%s (mode %d) refused", c->text, c->mode);
		ASSERT_TRUE(matches(c, &d));
	}
}

/* Bytes after the instruction change nothing, up to 16 of them. */
TEST(trailing_bytes_ignored)
{
	static const u8 fill[] = { 0x00, 0x0f, 0x66, 0x8b, 0xff };
	struct hv_mmio_insn d;
	u8 buf[32];
	unsigned int i, f, extra;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		const struct dcase *c = &good[i];

		for (f = 0; f < ARRAY_SIZE(fill); f++) {
			for (extra = 1; extra <= 16; extra++) {
				memcpy(buf, c->b, c->n);
				memset(buf + c->n, fill[f], extra);
				ASSERT_EQ(0, decode(buf, c->n + extra, c->mode,
						    &d));
				ASSERT_TRUE(matches(c, &d));
			}
		}
	}
}

/* Every proper prefix of every instruction is refused, and read in bounds. */
TEST(truncated_at_every_length)
{
	struct hv_mmio_insn d;
	unsigned int i, n;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		const struct dcase *c = &good[i];

		for (n = 0; n < c->n; n++)
			ASSERT_EQ(-EINVAL, decode(c->b, n, c->mode, &d))
				TH_LOG("%s cut to %u bytes accepted", c->text,
				       n);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		const struct bad *c = &bad[i];

		for (n = 0; n <= c->n; n++)
			ASSERT_EQ(-EINVAL, decode(c->b, n, c->mode, &d))
				TH_LOG("%s cut to %u bytes accepted", c->text,
				       n);
	}
	/* No bytes at all: nothing may be read. */
	ASSERT_EQ(-EINVAL, hv_mmio_decode(NULL, 0, 64, &d));
}

TEST(rejects_table)
{
	struct hv_mmio_insn d;
	unsigned int i;
	u8 buf[32];

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memcpy(buf, bad[i].b, bad[i].n);
		memset(buf + bad[i].n, 0, sizeof(buf) - bad[i].n);
		ASSERT_EQ(-EINVAL, decode(buf, sizeof(buf), bad[i].mode, &d))
			TH_LOG("%s accepted", bad[i].text);
	}
}

TEST(rejects_bad_mode)
{
	static const u8 b[] = { 0x8b, 0x07 };
	static const int modes[] = { 0, 8, 15, 17, 31, 33, 63, 65, -64 };
	struct hv_mmio_insn d;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		ASSERT_EQ(-EINVAL, decode(b, sizeof(b), modes[i], &d));
}

/* A load's result as x86 writes it to the destination register. */
TEST(merge)
{
	static const struct {
		const char *text;
		int mode;
		unsigned int n;
		u8 b[4];
		u64 old, val, want;
	} m[] = {
		{ "mov (%rdi),%rax", 64, B(0x48, 0x8b, 0x07),
		  ~0ULL, 0x1122334455667788ULL, 0x1122334455667788ULL },
		{ "mov (%rdi),%eax", 64, B(0x8b, 0x07),
		  ~0ULL, 0xaabbccdd12345678ULL, 0x12345678 },
		{ "mov (%rdi),%ax", 64, B(0x66, 0x8b, 0x07),
		  0x1111111111111111ULL, 0xffffabcd, 0x111111111111abcdULL },
		{ "mov (%rdi),%al", 64, B(0x8a, 0x07),
		  0x1111111111111111ULL, 0xffab, 0x11111111111111abULL },
		{ "mov (%rdi),%ah", 64, B(0x8a, 0x27),
		  0x1111111111111111ULL, 0xffab, 0x111111111111ab11ULL },
		{ "mov (%rdi),%spl", 64, B(0x40, 0x8a, 0x27),
		  0x1111111111111111ULL, 0xab, 0x11111111111111abULL },
		{ "movzbl (%rdi),%eax", 64, B(0x0f, 0xb6, 0x07),
		  ~0ULL, 0xff80, 0x80 },
		{ "movzbw (%rdi),%ax", 64, B(0x66, 0x0f, 0xb6, 0x07),
		  0x1111111111111111ULL, 0x80, 0x1111111111110080ULL },
		{ "movzwq (%rdi),%rax", 64, B(0x48, 0x0f, 0xb7, 0x07),
		  ~0ULL, 0x12348000, 0x8000 },
		{ "movsbl (%rdi),%eax", 64, B(0x0f, 0xbe, 0x07),
		  0, 0x80, 0xffffff80 },
		{ "movsbl (%rdi),%eax, positive", 64, B(0x0f, 0xbe, 0x07),
		  ~0ULL, 0x7f, 0x7f },
		{ "movsbq (%rdi),%rax", 64, B(0x48, 0x0f, 0xbe, 0x07),
		  0, 0x80, 0xffffffffffffff80ULL },
		{ "movsbw (%rdi),%ax", 64, B(0x66, 0x0f, 0xbe, 0x07),
		  0x1111111111111111ULL, 0x80, 0x111111111111ff80ULL },
		{ "movswq (%rdi),%rax", 64, B(0x48, 0x0f, 0xbf, 0x07),
		  0, 0x8000, 0xffffffffffff8000ULL },
		{ "movswl (%rdi),%eax", 64, B(0x0f, 0xbf, 0x07),
		  ~0ULL, 0x7fff, 0x7fff },
		{ "mov (%bx),%ax (16-bit)", 16, B(0x8b, 0x07),
		  0xffffffff00000000ULL, 0x1234, 0xffffffff00001234ULL },
		{ "mov (%bx),%eax (16-bit)", 16, B(0x66, 0x8b, 0x07),
		  0xffffffff00000000ULL, 0x12345678, 0x12345678 },
	};
	struct hv_mmio_insn d;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(m); i++) {
		ASSERT_EQ(0, decode(m[i].b, m[i].n, m[i].mode, &d));
		ASSERT_FALSE(d.write);
		EXPECT_EQ(m[i].want, hv_mmio_merge(m[i].old, &d, m[i].val))
			TH_LOG("%s", m[i].text);
	}
}

/* The data a store writes, from a register or an immediate. */
TEST(store_value)
{
	static const struct {
		const char *text;
		unsigned int n;
		u8 b[8];
		u64 reg, want;
	} s[] = {
		{ "mov %rsi,(%rdi)", B(0x48, 0x89, 0x37),
		  0x1122334455667788ULL, 0x1122334455667788ULL },
		{ "mov %eax,(%rcx)", B(0x89, 0x01),
		  0xaabbccdd12345678ULL, 0x12345678 },
		{ "mov %dx,(%rdi)", B(0x66, 0x89, 0x17),
		  0xaabbccdd12345678ULL, 0x5678 },
		{ "mov %bl,(%rdi)", B(0x88, 0x1f), 0x1234, 0x34 },
		{ "mov %bh,(%rdi)", B(0x88, 0x3f), 0x1234, 0x12 },
		{ "mov %dil,(%rdi)", B(0x40, 0x88, 0x3f), 0x1234, 0x34 },
		{ "movb $0x12,(%rdi)", B(0xc6, 0x07, 0x12), ~0ULL, 0x12 },
		{ "movw $0x1234,(%rdi)", B(0x66, 0xc7, 0x07, 0x34, 0x12),
		  ~0ULL, 0x1234 },
		{ "movl $0x80000000,(%rdi)",
		  B(0xc7, 0x07, 0x00, 0x00, 0x00, 0x80), ~0ULL, 0x80000000 },
		{ "movq $-1,(%rdi)", B(0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff),
		  0, ~0ULL },
	};
	struct hv_mmio_insn d;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(s); i++) {
		ASSERT_EQ(0, decode(s[i].b, s[i].n, 64, &d));
		ASSERT_TRUE(d.write);
		EXPECT_EQ(s[i].want, hv_mmio_store_value(&d, s[i].reg))
			TH_LOG("%s", s[i].text);
	}
}

static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Fields of an accepted decode that no input may get wrong. */
static bool sane(const struct hv_mmio_insn *d, unsigned int n)
{
	bool pow2 = d->size == 1 || d->size == 2 || d->size == 4 ||
		    d->size == 8;

	return d->len >= 1 && d->len <= n && d->len <= HV_INSN_MAX_LEN &&
	       pow2 && d->reg_size >= d->size && d->reg_size <= 8 &&
	       d->reg < 16 &&
	       (!d->high_byte || (d->reg < 4 && d->reg_size == 1)) &&
	       !(d->zero_extend && d->sign_extend) &&
	       (!(d->zero_extend || d->sign_extend) || !d->write) &&
	       (d->src_kind == HV_MMIO_REG || d->write) &&
	       (d->reg_size == d->size || d->zero_extend || d->sign_extend);
}

static bool same(const struct hv_mmio_insn *a, const struct hv_mmio_insn *b)
{
	return a->len == b->len && a->size == b->size &&
	       a->reg_size == b->reg_size && a->write == b->write &&
	       a->src_kind == b->src_kind && a->reg == b->reg &&
	       a->high_byte == b->high_byte &&
	       a->zero_extend == b->zero_extend &&
	       a->sign_extend == b->sign_extend && a->imm == b->imm;
}

/*
 * Random input, biased towards the bytes the decoder looks for: it never
 * reads past @n (the guard page), never claims more than @n bytes, and an
 * accepted instruction decodes the same from exactly its own bytes and
 * not at all from one byte less.
 */
TEST(fuzz)
{
	static const u8 hot[] = {
		0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2,
		0xf3, 0x40, 0x41, 0x44, 0x48, 0x4c, 0x4f, 0x88, 0x89, 0x8a,
		0x8b, 0xc6, 0xc7, 0xa0, 0xa1, 0xa2, 0xa3, 0x0f, 0xb6, 0xb7,
		0xbe, 0xbf, 0x04, 0x05, 0x06, 0x07, 0x24, 0x25, 0x44, 0x45,
		0x84, 0x85, 0xc0, 0xf8,
	};
	static const int modes[] = { 16, 32, 64 };
	struct hv_mmio_insn d, again;
	unsigned long iter, accepted = 0;
	u8 buf[HV_INSN_MAX_LEN + 5];
	unsigned int i, n;
	int mode, rc;

	for (iter = 0; iter < 2000000; iter++) {
		u64 r = rng();

		for (i = 0; i < sizeof(buf); i++)
			buf[i] = rng() & 1 ? hot[rng() % sizeof(hot)] : rng();
		n = r % (sizeof(buf) + 1);
		mode = modes[(r >> 8) % 3];

		rc = decode(buf, n, mode, &d);
		if (rc) {
			ASSERT_EQ(-EINVAL, rc);
			continue;
		}
		accepted++;
		ASSERT_TRUE(sane(&d, n));
		ASSERT_EQ(0, decode(buf, d.len, mode, &again));
		ASSERT_TRUE(same(&d, &again));
		ASSERT_EQ(-EINVAL, decode(buf, d.len - 1, mode, &again));
	}
	/* The bias works: a good share of inputs reach the end. */
	ASSERT_LT(20000UL, accepted);
	fprintf(stderr, "# fuzz: %lu of %lu inputs accepted\n", accepted, iter);
}

/*
 * Every one-byte opcode and every 0F opcode, with every ModRM byte, in
 * every mode, followed by 0..13 filler bytes.
 */
TEST(exhaustive_opcode_modrm)
{
	static const int modes[] = { 16, 32, 64 };
	struct hv_mmio_insn d;
	unsigned int m, op, x, n;
	u8 buf[32];

	for (m = 0; m < ARRAY_SIZE(modes); m++) {
		for (op = 0; op < 0x10000; op++) {
			for (x = 0; x < 2; x++) {
				memset(buf, 0x11, sizeof(buf));
				buf[0] = 0x0f;
				buf[x] = op >> 8;
				buf[x + 1] = op;
				n = x + 2 + op % 14;
				if (decode(buf, n, modes[m], &d))
					continue;
				ASSERT_TRUE(sane(&d, n));
			}
		}
	}
}

TEST_HARNESS_MAIN
