/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vidvm's DSDT: the devices a Linux guest finds through ACPI.
 *
 *  - \_S5: the soft-off sleep type the guest writes into the FADT's
 *    sleep control register (hardware-reduced ACPI) to power off.
 *  - \_SB.VMBS: the VMBus, which Linux's hv_vmbus matches by _HID
 *    "VMBUS" (returned by a method: the name is not a valid PNP or ACPI
 *    id, so iasl refuses it as a constant, as Hyper-V's own DSDT has
 *    it). Its _CRS is the MMIO window for VMBus devices' BARs, as an
 *    address descriptor (hv_vmbus reads only those).
 *  - \_SB.COM1: the 16550 at 0x3f8, with no interrupt, so the guest's
 *    8250 driver polls it: vidvm models no interrupt controller besides
 *    the local APICs.
 */
DefinitionBlock ("", "DSDT", 2, "VID", "VIDVM", 1)
{
    Name (\_S5, Package () { 5, 5, 0, 0 })

    Scope (\_SB)
    {
        Device (VMBS)
        {
            Method (_HID, 0, NotSerialized)
            {
                Return ("VMBUS")
            }
            Name (_UID, Zero)
            Name (_DDN, "VMBUS")
            Method (_STA, 0, NotSerialized)
            {
                Return (0x0F)
            }
            Name (_CRS, ResourceTemplate ()
            {
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
                             NonCacheable, ReadWrite, 0x00000000,
                             0xE0000000, 0xEFFFFFFF, 0x00000000, 0x10000000)
            })
        }

        Device (COM1)
        {
            Name (_HID, EisaId ("PNP0501"))
            Name (_UID, One)
            Method (_STA, 0, NotSerialized)
            {
                Return (0x0F)
            }
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
            })
        }
    }
}
