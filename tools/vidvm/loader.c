// SPDX-License-Identifier: GPL-2.0
/*
 * The Linux x86 boot protocol, 64-bit entry (Documentation/x86/boot.rst):
 * the protected-mode part of a bzImage at its preferred address,
 * boot_params (the "zero page") holding the image's setup header, the
 * command line, the initrd and the e820 map, then long mode with an
 * identity map of the low 4 GiB, a GDT with __BOOT_CS (0x10) and
 * __BOOT_DS (0x18), RSI = boot_params, at load address + 0x200.
 *
 * Every field of the file is checked before anything is placed: the
 * image is the user's input, not trusted to be a kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vidvm.h"

/* Setup header offsets in the file and in boot_params alike. */
#define HDR_SETUP_SECTS		0x1f1
#define HDR_SYSSIZE		0x1f4
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP		0x200	/* its second byte: header length - 2 */
#define HDR_MAGIC		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_KERNEL_ALIGNMENT	0x230
#define HDR_RELOCATABLE		0x234
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260
#define HDR_MIN_END		0x264	/* what protocol 2.12+ headers reach */

/* boot_params fields outside the setup header. */
#define BP_ACPI_RSDP_ADDR	0x070
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_E820_TABLE		0x2d0
#define BP_SIZE			0x1000

#define BOOT_FLAG_MAGIC		0xaa55
#define HDR_MAGIC_VALUE		0x53726448	/* "HdrS" */
#define MIN_PROTOCOL		0x020c	/* xloadflags, 64-bit entry */
#define XLF_KERNEL_64		0x1
#define LOADED_HIGH		0x1
#define LOADER_UNDEFINED	0xff
#define ENTRY64_OFFSET		0x200

#define E820_RAM		1
#define E820_RESERVED		2

#define SEL_BOOT_CS		0x10
#define SEL_BOOT_DS		0x18

static uint16_t get16(const uint8_t *p, size_t off)
{
	return p[off] | p[off + 1] << 8;
}

static uint32_t get32(const uint8_t *p, size_t off)
{
	return get16(p, off) | (uint32_t)get16(p, off + 2) << 16;
}

static uint64_t get64(const uint8_t *p, size_t off)
{
	return get32(p, off) | (uint64_t)get32(p, off + 4) << 32;
}

static void put16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = v;
	p[off + 1] = v >> 8;
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	put16(p, off, v);
	put16(p, off + 2, v >> 16);
}

static void put64(uint8_t *p, size_t off, uint64_t v)
{
	put32(p, off, v);
	put32(p, off + 4, v >> 32);
}

/* Read a whole regular file of at most @max bytes. */
static int read_file(const char *what, const char *path, size_t max,
		     uint8_t **data, size_t *size)
{
	struct stat st;
	ssize_t n;
	size_t done = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vidvm: %s %s: %s\n", what, path,
			strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "vidvm: %s %s: not a regular file\n", what,
			path);
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		fprintf(stderr,
			"vidvm: %s %s: %lld bytes, more than the %zu that fit\n",
			what, path, (long long)st.st_size, max);
		goto fail;
	}
	*size = st.st_size;
	*data = malloc(*size ? *size : 1);
	if (!*data) {
		fprintf(stderr, "vidvm: %s %s: out of memory\n", what, path);
		goto fail;
	}
	while (done < *size) {
		n = read(fd, *data + done, *size - done);
		if (n <= 0) {
			fprintf(stderr, "vidvm: %s %s: short read\n", what,
				path);
			free(*data);
			*data = NULL;
			goto fail;
		}
		done += n;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static int bad_kernel(const char *path, const char *why)
{
	fprintf(stderr, "vidvm: kernel %s: %s\n", path, why);
	return -1;
}

/* Check the bzImage's setup header; fills setup_size, load_addr, init_size. */
static int check_kernel(struct boot_image *img, const char *path,
			uint64_t mem_size)
{
	const uint8_t *k = img->kernel;
	unsigned int setup_sects;
	uint64_t payload, align;

	if (img->kernel_size < HDR_MIN_END)
		return bad_kernel(path, "too short to be a bzImage");
	if (get16(k, HDR_BOOT_FLAG) != BOOT_FLAG_MAGIC ||
	    get32(k, HDR_MAGIC) != HDR_MAGIC_VALUE)
		return bad_kernel(path, "not a bzImage (no boot header)");
	if (get16(k, HDR_VERSION) < MIN_PROTOCOL)
		return bad_kernel(path, "boot protocol older than 2.12");
	if (!(get16(k, HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return bad_kernel(path, "no 64-bit entry point");
	if (!(k[HDR_LOADFLAGS] & LOADED_HIGH))
		return bad_kernel(path, "not a bzImage (zImage)");
	setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
	img->setup_size = (size_t)(setup_sects + 1) * 512;
	payload = (uint64_t)get32(k, HDR_SYSSIZE) * 16;
	if (img->setup_size >= img->kernel_size ||
	    payload > img->kernel_size - img->setup_size || !payload)
		return bad_kernel(path, "truncated");
	if (HDR_JUMP + 2 + k[HDR_JUMP + 1] > (int)img->setup_size)
		return bad_kernel(path, "setup header runs past the setup code");
	img->load_addr = get64(k, HDR_PREF_ADDRESS);
	img->init_size = get32(k, HDR_INIT_SIZE);
	align = get32(k, HDR_KERNEL_ALIGNMENT);
	if (img->load_addr < GPA_HIGH_RAM || img->load_addr >= 1ULL << 32 ||
	    (align && (align & (align - 1))) ||
	    (align && img->load_addr % align))
		return bad_kernel(path, "bad preferred load address");
	if (img->init_size < img->kernel_size - img->setup_size)
		return bad_kernel(path, "init_size smaller than the kernel");
	if (img->load_addr + img->init_size > mem_size)
		return bad_kernel(path, "needs more memory than --mem gives");
	return 0;
}

int boot_image_load(struct boot_image *img, const char *kernel,
		    const char *initrd, const char *cmdline,
		    uint64_t mem_size)
{
	uint64_t kernel_end, top, max_addr;
	uint32_t cmdline_max;

	memset(img, 0, sizeof(*img));
	img->cmdline = cmdline;
	/* The zero page's fields are 32 bits; no kernel is near 1 GiB. */
	if (read_file("kernel", kernel, 1U << 30, &img->kernel,
		      &img->kernel_size))
		return -1;
	if (check_kernel(img, kernel, mem_size))
		goto fail;
	cmdline_max = get16(img->kernel, HDR_VERSION) >= 0x0206 ?
		      get32(img->kernel, HDR_CMDLINE_SIZE) : 255;
	if (strlen(cmdline) > cmdline_max ||
	    strlen(cmdline) >= GPA_EBDA - GPA_CMDLINE) {
		fprintf(stderr,
			"vidvm: command line of %zu bytes, the kernel takes %u\n",
			strlen(cmdline), cmdline_max);
		goto fail;
	}
	if (!initrd)
		return 0;

	/* The initrd goes at the top of RAM, above the kernel's init_size. */
	kernel_end = img->load_addr + img->init_size;
	max_addr = get32(img->kernel, HDR_INITRD_ADDR_MAX);
	top = mem_size;
	if (max_addr && max_addr + 1 < top)
		top = max_addr + 1;
	top &= ~0xfffULL;
	if (top <= kernel_end) {
		fprintf(stderr, "vidvm: no room for an initrd in %llu MiB\n",
			(unsigned long long)(mem_size >> 20));
		goto fail;
	}
	/*
	 * Half of what is left at most: the guest unpacks it into the
	 * rest, and a kernel without memory to do that only panics later.
	 */
	if (read_file("initrd", initrd, (top - kernel_end) / 2,
		      &img->initrd, &img->initrd_size))
		goto fail;
	img->initrd_addr = (top - img->initrd_size) & ~0xfffULL;
	return 0;
fail:
	boot_image_free(img);
	return -1;
}

void boot_image_free(struct boot_image *img)
{
	free(img->kernel);
	free(img->initrd);
	img->kernel = NULL;
	img->initrd = NULL;
}

static void e820_add(uint8_t *bp, uint64_t addr, uint64_t size,
		     uint32_t type)
{
	unsigned int n = bp[BP_E820_ENTRIES];
	uint8_t *e = bp + BP_E820_TABLE + n * 20;

	put64(e, 0, addr);
	put64(e, 8, size);
	put32(e, 16, type);
	bp[BP_E820_ENTRIES] = n + 1;
}

/* GDT and identity-mapped page tables for the first 4 GiB (2 MiB pages). */
static void place_long_mode_tables(uint8_t *ram)
{
	uint64_t *gdt = (uint64_t *)(ram + GPA_GDT);
	uint64_t *pml4 = (uint64_t *)(ram + GPA_PML4);
	uint64_t *pdpt = (uint64_t *)(ram + GPA_PDPT);
	uint64_t *pd = (uint64_t *)(ram + GPA_PD);
	unsigned int i;

	memset(gdt, 0, 0x1000);
	/* Flat 4 GiB: 64-bit code (L, P, S, type 0xb), data (G, D/B, 0x3). */
	gdt[SEL_BOOT_CS / 8] = 0x00af9b000000ffffULL;
	gdt[SEL_BOOT_DS / 8] = 0x00cf93000000ffffULL;
	pml4[0] = GPA_PDPT | 0x3;	/* present, writable */
	for (i = 0; i < 4; i++)
		pdpt[i] = (GPA_PD + i * 0x1000) | 0x3;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;	/* PS, RW, P */
}

uint64_t boot_image_place(const struct boot_image *img)
{
	uint8_t *ram = vm.ram, *bp = ram + GPA_ZERO_PAGE;
	size_t hdr_end = HDR_JUMP + 2 + img->kernel[HDR_JUMP + 1];
	uint64_t rsdp;

	place_long_mode_tables(ram);
	memcpy(ram + img->load_addr, img->kernel + img->setup_size,
	       img->kernel_size - img->setup_size);

	memset(bp, 0, BP_SIZE);
	memcpy(bp + HDR_SETUP_SECTS, img->kernel + HDR_SETUP_SECTS,
	       hdr_end - HDR_SETUP_SECTS);
	bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	bp[HDR_LOADFLAGS] |= LOADED_HIGH;

	strcpy((char *)ram + GPA_CMDLINE, img->cmdline);
	put32(bp, HDR_CMD_LINE_PTR, GPA_CMDLINE);
	put32(bp, BP_EXT_CMD_LINE_PTR, 0);

	if (img->initrd) {
		memcpy(ram + img->initrd_addr, img->initrd, img->initrd_size);
		put32(bp, HDR_RAMDISK_IMAGE, (uint32_t)img->initrd_addr);
		put32(bp, HDR_RAMDISK_SIZE, (uint32_t)img->initrd_size);
		put32(bp, BP_EXT_RAMDISK_IMAGE, img->initrd_addr >> 32);
		put32(bp, BP_EXT_RAMDISK_SIZE, (uint64_t)img->initrd_size >> 32);
	}

	rsdp = acpi_build(ram, vm.nr_cpus);
	put64(bp, BP_ACPI_RSDP_ADDR, rsdp);

	e820_add(bp, 0, GPA_EBDA, E820_RAM);
	e820_add(bp, GPA_EBDA, GPA_HIGH_RAM - GPA_EBDA, E820_RESERVED);
	e820_add(bp, GPA_HIGH_RAM, vm.mem_size - GPA_HIGH_RAM, E820_RAM);

	return img->load_addr + ENTRY64_OFFSET;
}
