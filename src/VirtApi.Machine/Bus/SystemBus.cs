using VirtApi.Machine.Memory;

namespace VirtApi.Machine.Bus;

/// <summary>
/// The physical address space: RAM on a fast path, then memory-mapped devices by half-open range.
/// Ranges may not overlap (checked at registration, like Firecracker's <c>BusError::Overlap</c>);
/// an access to no range is an access fault for the hart.
/// </summary>
public sealed class SystemBus
{
    private readonly List<(AddressRange Range, IMmioDevice Device)> _devices = [];
    private (AddressRange Range, IMmioDevice Device)[] _lookup = [];

    public SystemBus(SparseRam ram)
    {
        Ram = ram;
    }

    public SparseRam Ram { get; }

    /// <summary>The board's own watcher of RAM stores (LR/SC reservations of other harts, HTIF).</summary>
    public Action<ulong>? RamStoreObserver { get; set; }

    /// <summary>The hypervisor's watcher of device accesses and RAM stores, if one is attached.</summary>
    public IBusMonitor? Monitor { get; set; }

    /// <summary>Whether a RAM store must go through <see cref="Write"/> for someone to see it (the hart's hot path asks).</summary>
    internal bool RamStoresObserved => RamStoreObserver is not null || Monitor is not null;

    public void Register(AddressRange range, IMmioDevice device)
    {
        var ram = new AddressRange(Ram.Base, Ram.Size);
        if (range.Length == 0 || range.Overlaps(ram) || _devices.Any(d => d.Range.Overlaps(range)))
        {
            throw new ArgumentException($"device range {range} is empty or overlaps RAM or another device", nameof(range));
        }
        _devices.Add((range, device));
        _lookup = [.. _devices.OrderBy(d => d.Range.Start)];
    }

    /// <summary>The device whose range holds <paramref name="address"/>, if any (a VMM routing an access it trapped).</summary>
    public bool TryFindDevice(ulong address, out AddressRange range, out IMmioDevice? device)
    {
        foreach (var entry in _lookup)
        {
            if (entry.Range.Contains(address))
            {
                (range, device) = entry;
                return true;
            }
        }
        range = default;
        device = null;
        return false;
    }

    public bool Read(ulong address, int size, out ulong value)
    {
        if (Ram.Contains(address, size))
        {
            value = Ram.Read(address, size);
            return true;
        }
        foreach (var (range, device) in _lookup)
        {
            if (range.Contains(address, size))
            {
                var ok = device.Read(address - range.Start, size, out value);
                Monitor?.OnDeviceAccess(range, address - range.Start, size, write: false, value);
                return ok;
            }
        }
        value = 0;
        return false;
    }

    public bool Write(ulong address, int size, ulong value)
    {
        if (Ram.Contains(address, size))
        {
            Ram.Write(address, size, value);
            RamStoreObserver?.Invoke(address);
            Monitor?.OnRamStore(address, size);
            return true;
        }
        foreach (var (range, device) in _lookup)
        {
            if (range.Contains(address, size))
            {
                Monitor?.OnDeviceAccess(range, address - range.Start, size, write: true, value);
                return device.Write(address - range.Start, size, value);
            }
        }
        return false;
    }
}
