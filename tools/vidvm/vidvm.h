/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vidvm: the reference VM worker (the VMWP role) over libvid. It boots a
 * Linux bzImage as a child partition: guest RAM, the x86 boot protocol's
 * 64-bit entry, ACPI tables, a 16550 console and the few legacy ports a
 * Linux guest still probes.
 *
 * Files: main.c (options, checks, the partition and its VP threads),
 * loader.c (bzImage, boot_params, e820, boot page tables), acpi.c
 * (RSDP, XSDT, FADT, MADT, the DSDT from dsdt.asl), io.c (the port and
 * MMIO dispatch table, RCU-protected), devices.c (UART, reset, power,
 * legacy probes), vcpu.c (the VP run loop: intercept messages).
 */
#ifndef VIDVM_H
#define VIDVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define BIT(n)			(1U << (n))
#define BIT_ULL(n)		(1ULL << (n))

#define VIDVM_MAX_CPUS		64
#define VIDVM_MIN_MEM_MIB	64
/* RAM is one range from GPA 0, below the 32-bit MMIO hole. */
#define VIDVM_MAX_MEM_MIB	3072

/* Guest physical layout of what vidvm puts into RAM. */
#define GPA_GDT			0x1000ULL
#define GPA_PML4		0x2000ULL
#define GPA_PDPT		0x3000ULL
#define GPA_PD			0x4000ULL	/* 4 pages: 4 GiB of 2 MiB pages */
#define GPA_BOOT_STACK		0xf000ULL	/* grows down from here */
#define GPA_ZERO_PAGE		0x10000ULL
#define GPA_CMDLINE		0x20000ULL
#define GPA_EBDA		0x9fc00ULL	/* reserved from here to 1 MiB */
#define GPA_ACPI		0xe0000ULL	/* RSDP first: the guest scans here */
#define GPA_ACPI_END		0x100000ULL
#define GPA_HIGH_RAM		0x100000ULL

/* Ports vidvm's ACPI tables name. */
#define PORT_ACPI_SLEEP_CTL	0x600
#define PORT_ACPI_SLEEP_STS	0x601
#define PORT_PCI_CONFIG		0xcf8	/* 8 ports, reset register inside */
#define PORT_ACPI_RESET		0xcf9
#define ACPI_RESET_VALUE	0x06
#define ACPI_S5_TYPE		5	/* \_S5's SLP_TYP, dsdt.asl */

/* Why the VM stopped (vm_stop()); the first reason wins. */
enum vm_exit {
	VM_RUNNING = 0,
	VM_POWEROFF,
	VM_RESET,
	VM_CRASH,
	VM_ERROR,
	VM_SIGNAL,
};

struct vm {
	int vid_fd;
	int part_fd;
	unsigned int nr_cpus;
	uint64_t mem_size;
	uint8_t *ram;
	int vp_fd[VIDVM_MAX_CPUS];
	bool verbose;
	bool run_complete;	/* VID_CAP_RUN_COMPLETE */
};

extern struct vm vm;

/* Stop every VP thread; the first caller's reason is the exit status. */
void vm_stop(enum vm_exit why);
enum vm_exit vm_exit_reason(void);

/* loader.c */
struct boot_image {
	uint8_t *kernel;	/* the whole bzImage file */
	size_t kernel_size;
	size_t setup_size;	/* real-mode part, (setup_sects + 1) * 512 */
	uint64_t load_addr;	/* where the protected-mode part goes */
	uint64_t init_size;	/* memory it needs from load_addr */
	uint8_t *initrd;
	size_t initrd_size;
	uint64_t initrd_addr;
	const char *cmdline;
};

/* Read and check the files; nothing is created. 0 or -1 with a message. */
int boot_image_load(struct boot_image *img, const char *kernel,
		    const char *initrd, const char *cmdline,
		    uint64_t mem_size);
/* Place everything into vm.ram; returns the 64-bit entry point. */
uint64_t boot_image_place(const struct boot_image *img);
void boot_image_free(struct boot_image *img);

/* acpi.c: the tables at GPA_ACPI; returns the RSDP's address. */
uint64_t acpi_build(uint8_t *ram, unsigned int nr_cpus);

/* io.c: the dispatch table (port and MMIO ranges). */
struct io_handler {
	/* @size is 1, 2, 4 (8 for MMIO); @offset from the range's base. */
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned int size);
	void (*write)(void *opaque, uint64_t offset, unsigned int size,
		      uint64_t value);
	void *opaque;
	const char *name;
};

enum io_space { IO_PORT, IO_MMIO };

int io_init(void);
int io_register(enum io_space space, uint64_t base, uint64_t len,
		const struct io_handler *h);
/* From a VP thread (registered with io_thread_online()). */
uint64_t io_read(enum io_space space, uint64_t addr, unsigned int size);
void io_write(enum io_space space, uint64_t addr, unsigned int size,
	      uint64_t value);
void io_thread_online(void);
void io_thread_offline(void);
void io_exit(void);

/* devices.c */
int devices_init(void);
void devices_flush(void);

/* vcpu.c */
int vcpu_setup_bsp(int vp_fd, uint64_t entry);
int vcpu_setup_ap(int vp_fd);
void *vcpu_thread(void *arg);
/* Print a VP's main registers to stderr (the VP must be stopped). */
void vcpu_dump(unsigned int index, int vp_fd);

#endif /* VIDVM_H */
