// SPDX-License-Identifier: GPL-2.0
/*
 * The devices a Linux guest still touches when its timers and interrupts
 * are the Hyper-V enlightenments and the local APIC:
 *
 *  - COM1, a 16550A at 0x3f8 without an interrupt line (the DSDT gives
 *    it none, so the guest's 8250 driver polls): transmit goes to
 *    vidvm's stdout, a line at a time; nothing is ever received.
 *  - the hardware-reduced ACPI sleep control/status and reset registers
 *    the FADT names, and the i8042's reset command (0xfe to port 0x64):
 *    power off and reset stop the VM. PCI configuration mechanism 1 with
 *    no device on the bus.
 *  - an MC146818 RTC (ports 0x70/0x71) with the host's UTC time, so the
 *    guest's wall clock starts right.
 *  - ports probed by legacy code (8259s, PIT, POST, speaker): reads give
 *    0 ("nothing there, nothing pending"), writes are dropped.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vidvm.h"

/* ----- 16550A ----- */

#define UART_RBR_THR	0
#define UART_IER	1
#define UART_IIR_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define UART_LCR_DLAB	0x80
#define UART_IER_THRI	0x02
#define UART_IIR_NO_INT	0x01
#define UART_IIR_THRI	0x02
#define UART_IIR_FIFO	0xc0
#define UART_FCR_ENABLE	0x01
#define UART_LSR_IDLE	0x60	/* THRE | TEMT: the transmitter never fills */
#define UART_MSR_READY	0xb0	/* DCD | DSR | CTS */
#define UART_MCR_MASK	0x1f

#define UART_LINE_MAX	256

struct uart {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_irq;		/* the THR-empty condition IIR reports */
	size_t len;
	char line[UART_LINE_MAX];
};

static struct uart com1 = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.dll = 1,		/* 115200 baud */
	.thr_irq = true,
};

static void uart_flush_locked(struct uart *u)
{
	size_t done = 0;
	ssize_t n;

	while (done < u->len) {
		n = write(STDOUT_FILENO, u->line + done, u->len - done);
		if (n <= 0)
			break;	/* stdout gone: the guest's output is lost */
		done += n;
	}
	u->len = 0;
}

static void uart_tx(struct uart *u, uint8_t c)
{
	u->line[u->len++] = c;
	if (c == '\n' || u->len == UART_LINE_MAX)
		uart_flush_locked(u);
}

static uint8_t uart_iir(struct uart *u)
{
	uint8_t fifo = u->fcr & UART_FCR_ENABLE ? UART_IIR_FIFO : 0;

	if ((u->ier & UART_IER_THRI) && u->thr_irq) {
		/* Reading IIR acknowledges the THR-empty interrupt. */
		u->thr_irq = false;
		return fifo | UART_IIR_THRI;
	}
	return fifo | UART_IIR_NO_INT;
}

static uint64_t uart_read(void *opaque, uint64_t off, unsigned int size)
{
	struct uart *u = opaque;
	uint8_t v = 0;

	pthread_mutex_lock(&u->lock);
	switch (off) {
	case UART_RBR_THR:
		v = u->lcr & UART_LCR_DLAB ? u->dll : 0;
		break;
	case UART_IER:
		v = u->lcr & UART_LCR_DLAB ? u->dlm : u->ier;
		break;
	case UART_IIR_FCR:
		v = uart_iir(u);
		break;
	case UART_LCR:
		v = u->lcr;
		break;
	case UART_MCR:
		v = u->mcr;
		break;
	case UART_LSR:
		v = UART_LSR_IDLE;
		break;
	case UART_MSR:
		v = UART_MSR_READY;
		break;
	case UART_SCR:
		v = u->scr;
		break;
	}
	pthread_mutex_unlock(&u->lock);
	return v;
}

static void uart_write(void *opaque, uint64_t off, unsigned int size,
		       uint64_t value)
{
	struct uart *u = opaque;
	uint8_t v = value;

	pthread_mutex_lock(&u->lock);
	switch (off) {
	case UART_RBR_THR:
		if (u->lcr & UART_LCR_DLAB) {
			u->dll = v;
		} else {
			uart_tx(u, v);
			u->thr_irq = true;	/* sent at once: empty again */
		}
		break;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB) {
			u->dlm = v;
		} else {
			/* Enabling THRI with the THR empty raises it anew. */
			if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
				u->thr_irq = true;
			u->ier = v & 0x0f;
		}
		break;
	case UART_IIR_FCR:
		u->fcr = v;
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & UART_MCR_MASK;
		break;
	case UART_SCR:
		u->scr = v;
		break;
	}
	pthread_mutex_unlock(&u->lock);
}

void devices_flush(void)
{
	pthread_mutex_lock(&com1.lock);
	uart_flush_locked(&com1);
	pthread_mutex_unlock(&com1.lock);
}

/* ----- power and reset ----- */

#define ACPI_SLP_EN		0x20
#define ACPI_SLP_TYP(v)		(((v) >> 2) & 7)
#define I8042_CMD_RESET		0xfe

static void acpi_sleep_write(void *opaque, uint64_t off, unsigned int size,
			     uint64_t value)
{
	if (off == 0 && (value & ACPI_SLP_EN) &&
	    ACPI_SLP_TYP(value) == ACPI_S5_TYPE)
		vm_stop(VM_POWEROFF);
}

/*
 * 0xcf8-0xcff: PCI configuration mechanism 1 with no device behind it
 * (the address latch reads back, data reads all ones), and at 0xcf9 the
 * reset control register the FADT names, as on PC chipsets.
 */
static uint32_t pci_address;

static uint64_t pci_read(void *opaque, uint64_t off, unsigned int size)
{
	if (off == 0 && size == 4)
		return __atomic_load_n(&pci_address, __ATOMIC_RELAXED);
	return ~0ULL;
}

static void pci_write(void *opaque, uint64_t off, unsigned int size,
		      uint64_t value)
{
	if (off == 0 && size == 4)
		__atomic_store_n(&pci_address, (uint32_t)value,
				 __ATOMIC_RELAXED);
	else if (off == PORT_ACPI_RESET - PORT_PCI_CONFIG && size == 1 &&
		 (value & 0xff) == ACPI_RESET_VALUE)
		vm_stop(VM_RESET);
}

static void i8042_write(void *opaque, uint64_t off, unsigned int size,
			uint64_t value)
{
	if (off == 4 && (value & 0xff) == I8042_CMD_RESET)
		vm_stop(VM_RESET);
}

/* ----- RTC ----- */

#define RTC_INDEX_MASK	0x7f	/* bit 7 of the index is the NMI mask */
#define RTC_STATUS_A	0x0a
#define RTC_STATUS_B	0x0b
#define RTC_STATUS_D	0x0d
#define RTC_CENTURY	0x32
#define RTC_A_DEFAULT	0x26	/* 32.768 kHz, 1024 Hz, update not in progress */
#define RTC_B_24H	0x02	/* 24-hour, BCD */
#define RTC_D_VRT	0x80	/* battery good */

static uint8_t rtc_index;

static uint8_t bcd(unsigned int v)
{
	return (v / 10) << 4 | v % 10;
}

static uint64_t rtc_read(void *opaque, uint64_t off, unsigned int size)
{
	time_t now = time(NULL);
	struct tm tm;
	uint8_t i = __atomic_load_n(&rtc_index, __ATOMIC_RELAXED);

	if (off == 0)
		return 0xff;
	gmtime_r(&now, &tm);
	switch (i & RTC_INDEX_MASK) {
	case 0x00: return bcd(tm.tm_sec);
	case 0x02: return bcd(tm.tm_min);
	case 0x04: return bcd(tm.tm_hour);
	case 0x06: return bcd(tm.tm_wday + 1);
	case 0x07: return bcd(tm.tm_mday);
	case 0x08: return bcd(tm.tm_mon + 1);
	case 0x09: return bcd(tm.tm_year % 100);
	case RTC_CENTURY: return bcd((tm.tm_year + 1900) / 100);
	case RTC_STATUS_A: return RTC_A_DEFAULT;
	case RTC_STATUS_B: return RTC_B_24H;
	case RTC_STATUS_D: return RTC_D_VRT;
	default: return 0;
	}
}

static void rtc_write(void *opaque, uint64_t off, unsigned int size,
		      uint64_t value)
{
	if (off == 0)
		__atomic_store_n(&rtc_index, (uint8_t)value, __ATOMIC_RELAXED);
}

/* ----- ports nothing answers on but legacy probes ----- */

static uint64_t read_zero(void *opaque, uint64_t off, unsigned int size)
{
	return 0;
}

static void write_ignore(void *opaque, uint64_t off, unsigned int size,
			 uint64_t value)
{
}

int devices_init(void)
{
	static const struct io_handler uart = {
		uart_read, uart_write, &com1, "com1",
	};
	static const struct io_handler sleep = {
		read_zero, acpi_sleep_write, NULL, "acpi-sleep",
	};
	static const struct io_handler pci = {
		pci_read, pci_write, NULL, "pci-config",
	};
	static const struct io_handler i8042 = {
		read_zero, i8042_write, NULL, "i8042",
	};
	static const struct io_handler rtc = {
		rtc_read, rtc_write, NULL, "rtc",
	};
	static const struct io_handler quiet = {
		read_zero, write_ignore, NULL, "legacy",
	};
	static const struct {
		uint16_t base, len;
		const struct io_handler *h;
	} ports[] = {
		{ 0x3f8, 8, &uart },
		{ PORT_ACPI_SLEEP_CTL, 2, &sleep },
		{ PORT_PCI_CONFIG, 8, &pci },
		{ 0x60, 5, &i8042 },		/* 0x60 data, 0x64 command */
		{ 0x70, 2, &rtc },
		{ 0x20, 2, &quiet },		/* 8259 master */
		{ 0xa0, 2, &quiet },		/* 8259 slave */
		{ 0x40, 4, &quiet },		/* PIT */
		{ 0x80, 1, &quiet },		/* POST / io_delay */
		{ 0xed, 1, &quiet },		/* alternative io_delay */
		{ 0x4d0, 2, &quiet },		/* ELCR */
	};
	unsigned int i;
	int r;

	for (i = 0; i < ARRAY_SIZE(ports); i++) {
		r = io_register(IO_PORT, ports[i].base, ports[i].len,
				ports[i].h);
		if (r)
			return r;
	}
	return 0;
}
