// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI tables in the reserved area below 1 MiB (the guest also finds the
 * RSDP through boot_params.acpi_rsdp_addr): RSDP -> XSDT -> FADT
 * (hardware-reduced ACPI: no PM timer, no SCI, no GPE blocks; sleep
 * control and status registers and a reset register in port space),
 * MADT (a local APIC per VP, no IOAPIC, no 8259s), and the DSDT that
 * iasl compiled from dsdt.asl at build time.
 */
#include <string.h>

#include "vidvm.h"
#include "dsdt.hex"

#define RSDP_OFF	0x000
#define XSDT_OFF	0x040
#define FADT_OFF	0x100
#define MADT_OFF	0x300
#define DSDT_OFF	0x1000

#define HDR_SIZE	36
#define FADT_SIZE	276	/* ACPI 6.x */
#define FADT_REVISION	6
#define FADT_MINOR	3

/* FADT flags and IA-PC boot architecture flags. */
#define FADT_RESET_REG_SUP	BIT(10)
#define FADT_HW_REDUCED_ACPI	BIT(20)
#define IAPC_VGA_NOT_PRESENT	BIT(2)
#define IAPC_MSI_NOT_SUPPORTED	BIT(3)
#define IAPC_CMOS_RTC_NOT_PRESENT BIT(5)

#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_BYTE		1

#define MADT_LAPIC		0
#define MADT_LAPIC_LEN		8
#define MADT_LAPIC_ENABLED	1
#define LAPIC_BASE		0xfee00000U

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return -sum;
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "VID   ", 6);
	memcpy(t + 16, "VIDVM   ", 8);
	put32(t + 24, 1);
	memcpy(t + 28, "VIDV", 4);
	put32(t + 32, 1);
}

static void finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* A generic address structure for one byte in port space. */
static void gas_port(uint8_t *g, uint16_t port)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = 8;
	g[2] = 0;
	g[3] = GAS_ACCESS_BYTE;
	put64(g + 4, port);
}

static void build_fadt(uint8_t *t, uint64_t dsdt)
{
	memset(t, 0, FADT_SIZE);
	header(t, "FACP", FADT_SIZE, FADT_REVISION);
	put32(t + 40, (uint32_t)dsdt);
	/*
	 * No RTC device: the guest's rtc_cmos driver would want an
	 * interrupt. The wall clock at boot still comes from ports 0x70/71.
	 */
	put16(t + 109, IAPC_VGA_NOT_PRESENT | IAPC_MSI_NOT_SUPPORTED |
		       IAPC_CMOS_RTC_NOT_PRESENT);
	put32(t + 112, FADT_HW_REDUCED_ACPI | FADT_RESET_REG_SUP);
	gas_port(t + 116, PORT_ACPI_RESET);
	t[128] = ACPI_RESET_VALUE;
	t[131] = FADT_MINOR;
	put64(t + 140, dsdt);
	gas_port(t + 244, PORT_ACPI_SLEEP_CTL);
	gas_port(t + 256, PORT_ACPI_SLEEP_STS);
	memcpy(t + 268, "VIDVM\0\0\0", 8);
	finish(t, FADT_SIZE);
}

static uint32_t build_madt(uint8_t *t, unsigned int nr_cpus)
{
	uint32_t len = HDR_SIZE + 8 + nr_cpus * MADT_LAPIC_LEN;
	uint8_t *e = t + HDR_SIZE + 8;
	unsigned int i;

	memset(t, 0, len);
	header(t, "APIC", len, 3);
	put32(t + HDR_SIZE, LAPIC_BASE);
	put32(t + HDR_SIZE + 4, 0);	/* no PC-AT 8259s */
	for (i = 0; i < nr_cpus; i++, e += MADT_LAPIC_LEN) {
		e[0] = MADT_LAPIC;
		e[1] = MADT_LAPIC_LEN;
		e[2] = i;		/* ACPI processor UID */
		e[3] = i;		/* APIC id = VP index (vid's CPUID) */
		put32(e + 4, MADT_LAPIC_ENABLED);
	}
	finish(t, len);
	return len;
}

uint64_t acpi_build(uint8_t *ram, unsigned int nr_cpus)
{
	uint8_t *base = ram + GPA_ACPI, *rsdp = base + RSDP_OFF;
	uint8_t *xsdt = base + XSDT_OFF;
	uint32_t xsdt_len = HDR_SIZE + 2 * 8;

	_Static_assert(MADT_OFF + HDR_SIZE + 8 +
		       VIDVM_MAX_CPUS * MADT_LAPIC_LEN <= DSDT_OFF,
		       "MADT overlaps the DSDT");
	_Static_assert(DSDT_OFF + sizeof(dsdt_aml_code) <=
		       GPA_ACPI_END - GPA_ACPI, "DSDT too big");

	memset(base, 0, GPA_ACPI_END - GPA_ACPI);
	memcpy(base + DSDT_OFF, dsdt_aml_code, sizeof(dsdt_aml_code));
	build_fadt(base + FADT_OFF, GPA_ACPI + DSDT_OFF);
	build_madt(base + MADT_OFF, nr_cpus);

	header(xsdt, "XSDT", xsdt_len, 1);
	put64(xsdt + HDR_SIZE, GPA_ACPI + FADT_OFF);
	put64(xsdt + HDR_SIZE + 8, GPA_ACPI + MADT_OFF);
	finish(xsdt, xsdt_len);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "VID   ", 6);
	rsdp[15] = 2;			/* ACPI 2.0+: XSDT */
	put32(rsdp + 20, 36);
	put64(rsdp + 24, GPA_ACPI + XSDT_OFF);
	rsdp[8] = checksum(rsdp, 20);
	rsdp[32] = checksum(rsdp, 36);
	return GPA_ACPI + RSDP_OFF;
}
