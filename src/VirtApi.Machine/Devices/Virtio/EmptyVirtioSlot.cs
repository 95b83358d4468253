using VirtApi.Machine.Bus;

namespace VirtApi.Machine.Devices.Virtio;

/// <summary>
/// A virtio-mmio slot with no device behind it, as QEMU <c>virt</c> answers one: the magic value,
/// version 2 and the vendor, DeviceID 0 ("reserved (invalid)", virtio 1.2 §4.2.2), and zero for every
/// other register; writes are ignored. A driver probing the eight slots finds out which hold devices
/// without faulting (§4.2.3.1.1: a driver MUST ignore a device with DeviceID 0).
/// </summary>
public sealed class EmptyVirtioSlot : IMmioDevice
{
    public bool Read(ulong offset, int size, out ulong value)
    {
        value = offset switch
        {
            0x000 => VirtioMmioTransport.MagicValue,
            0x004 => VirtioMmioTransport.Version,
            0x00c => VirtioMmioTransport.VendorId,
            _ => 0,
        };
        return size == 4 && offset % 4 == 0;
    }

    public bool Write(ulong offset, int size, ulong value) => size == 4 && offset % 4 == 0;
}
