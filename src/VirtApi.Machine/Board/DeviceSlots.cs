using VirtApi.Machine.Bus;

namespace VirtApi.Machine.Board;

/// <summary>
/// Where a VM's devices sit on the <c>virt</c> board (DESIGN.md "The machine", docs/decisions.md 14).
/// Virtio-mmio devices take QEMU's eight slots, so guests built for QEMU find them where they look;
/// register-level devices (the ATA controller, extra 16550 UARTs) take VirtApi's four legacy slots in
/// the pages after them, on PLIC sources QEMU <c>virt</c> leaves unused.
/// </summary>
public static class DeviceSlots
{
    /// <summary>Virtio-mmio slots: 0x1000_1000 + n·0x1000, PLIC source 1 + n (QEMU hw/riscv/virt.c: VIRT_VIRTIO, VIRTIO_COUNT, VIRTIO_IRQ).</summary>
    public const int VirtioSlotCount = 8;

    public const ulong VirtioBase = 0x1000_1000;

    public const int FirstVirtioInterrupt = 1;

    /// <summary>Legacy slots: 0x1000_9000 + n·0x1000, PLIC source 12 + n.</summary>
    public const int LegacySlotCount = 4;

    public const ulong LegacyBase = 0x1000_9000;

    public const int FirstLegacyInterrupt = 12;

    /// <summary>Every slot is one 4 KiB page, so a hypervisor can map or unmap each on its own.</summary>
    public const ulong SlotSize = 0x1000;

    /// <summary>The MMIO window of virtio-mmio slot <paramref name="slot"/>.</summary>
    public static AddressRange Virtio(int slot) => new(VirtioBase + (Check(slot, VirtioSlotCount) * SlotSize), SlotSize);

    /// <summary>The PLIC source of virtio-mmio slot <paramref name="slot"/>.</summary>
    public static int VirtioInterrupt(int slot) => FirstVirtioInterrupt + (int)Check(slot, VirtioSlotCount);

    /// <summary>The MMIO window of legacy slot <paramref name="slot"/>.</summary>
    public static AddressRange Legacy(int slot) => new(LegacyBase + (Check(slot, LegacySlotCount) * SlotSize), SlotSize);

    /// <summary>The PLIC source of legacy slot <paramref name="slot"/>.</summary>
    public static int LegacyInterrupt(int slot) => FirstLegacyInterrupt + (int)Check(slot, LegacySlotCount);

    private static ulong Check(int slot, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, count);
        return (ulong)slot;
    }
}
