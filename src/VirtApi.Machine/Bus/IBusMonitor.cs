namespace VirtApi.Machine.Bus;

/// <summary>
/// How a hypervisor watches the system bus: every access that reaches a device (a device exit in
/// the VMM's terms) and every store to RAM (dirty tracking, write-protected page tables).
/// </summary>
public interface IBusMonitor
{
    /// <summary>A read or write that reached the device mapped at <paramref name="range"/>.</summary>
    void OnDeviceAccess(AddressRange range, ulong offset, int size, bool write, ulong value);

    /// <summary>A store of <paramref name="size"/> bytes to RAM at physical <paramref name="address"/>.</summary>
    void OnRamStore(ulong address, int size);
}
