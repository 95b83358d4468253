using VirtApi.Machine.Hart;
using VirtApi.Machine.Memory;

namespace VirtApi.Hypervisor.Memory;

/// <summary>
/// One shadow page table: a real Sv39 tree in machine memory, VA → MA, that the hart walks while
/// the guest runs (DESIGN.md "Memory virtualization: shadow"). Filled one 4 KiB page per hidden fault
/// (guest superpages are shadowed page by page, because the P2M is per frame); every leaf is a
/// U-mode page, because the guest runs deprivileged, with A and D preset so the hart never writes
/// back into it. Its frames come from the VMM's own pool and go back there when it is released.
/// </summary>
public sealed class ShadowPageTable
{
    private readonly MachineFramePool _pool;
    private readonly SparseRam _ram;
    private readonly List<ulong> _frames = [];

    private ShadowPageTable(MachineFramePool pool, SparseRam ram, ulong root)
    {
        _pool = pool;
        _ram = ram;
        Root = root;
        _frames.Add(root);
    }

    /// <summary>A new, empty table; null when the pool has no frame for its root.</summary>
    public static ShadowPageTable? Create(MachineFramePool pool, SparseRam ram) =>
        pool.TryAllocate(out var root) ? new ShadowPageTable(pool, ram, root) : null;

    /// <summary>The root table's machine address (what the real satp points at).</summary>
    public ulong Root { get; }

    /// <summary>The real satp value that makes the hart walk this table.</summary>
    public ulong Satp => (Sv39.SatpMode << 60) | (Root >> 12);

    /// <summary>
    /// Maps the 4 KiB page of <paramref name="virtualAddress"/> to the machine page of
    /// <paramref name="machineAddress"/> with <paramref name="permissions"/> (R, W, X). False when the pool
    /// has no frame for an intermediate table.
    /// </summary>
    public bool TryMap(ulong virtualAddress, ulong machineAddress, ulong permissions)
    {
        var table = Root;
        for (var level = 2; level > 0; level--)
        {
            var entryAddress = table + Sv39.PteOffset(virtualAddress, level);
            var entry = _ram.Read(entryAddress, 8);
            if ((entry & Sv39.PteV) == 0)
            {
                if (!_pool.TryAllocate(out var next))
                {
                    return false;
                }
                _frames.Add(next);
                entry = ((next >> 12) << 10) | Sv39.PteV;
                _ram.Write(entryAddress, 8, entry);
            }
            table = Sv39.Ppn(entry) << 12;
        }
        var leaf = ((machineAddress >> 12) << 10) | permissions | Sv39.PteV | Sv39.PteU | Sv39.PteA | Sv39.PteD;
        _ram.Write(table + Sv39.PteOffset(virtualAddress, 0), 8, leaf);
        return true;
    }

    /// <summary>Removes the page of <paramref name="virtualAddress"/>, if mapped.</summary>
    public void Unmap(ulong virtualAddress)
    {
        var table = Root;
        for (var level = 2; level > 0; level--)
        {
            var entry = _ram.Read(table + Sv39.PteOffset(virtualAddress, level), 8);
            if ((entry & Sv39.PteV) == 0)
            {
                return;
            }
            table = Sv39.Ppn(entry) << 12;
        }
        _ram.Write(table + Sv39.PteOffset(virtualAddress, 0), 8, 0);
    }

    /// <summary>Gives every frame back to the pool; the table must not be used again.</summary>
    public void Release()
    {
        foreach (var frame in _frames)
        {
            _pool.Free(frame);
        }
        _frames.Clear();
    }
}
