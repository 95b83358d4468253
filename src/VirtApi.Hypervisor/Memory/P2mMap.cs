using VirtApi.Machine.Memory;

namespace VirtApi.Hypervisor.Memory;

/// <summary>
/// The physical-to-machine map (DESIGN.md "The hypervisor"): guest-physical frames (GPA) to machine
/// frames (MA) of the host's memory, filled on first touch. Only the guest's own RAM range has entries,
/// so a guest can never name another frame of the machine.
/// </summary>
public sealed class P2mMap
{
    private readonly MachineFramePool _pool;
    private readonly uint[] _machineFrame; // MA frame number + 1 per GPA frame; 0 = not touched yet

    // Log-dirty mode (a migration's dirty tracking, as Xen's shadow log-dirty): one bit per guest frame
    // written since the log period began; null while no log runs.
    private ulong[]? _dirtyLog;

    public P2mMap(ulong guestBase, ulong guestBytes, MachineFramePool pool)
    {
        GuestBase = guestBase;
        GuestBytes = guestBytes;
        _pool = pool;
        _machineFrame = new uint[guestBytes >> SparseRam.FrameShift];
    }

    public ulong GuestBase { get; }

    public ulong GuestBytes { get; }

    /// <summary>Machine frames allocated for the guest, counted at allocation.</summary>
    public ulong FramesAllocated { get; private set; }

    /// <summary>Whether <paramref name="guestPhysical"/> lies in the guest's RAM.</summary>
    public bool Contains(ulong guestPhysical) => guestPhysical - GuestBase < GuestBytes;

    /// <summary>The machine address of a guest-RAM address, allocating its frame on first touch; false outside guest RAM or when the host pool is exhausted.</summary>
    public bool TryTranslate(ulong guestPhysical, out ulong machine)
    {
        machine = 0;
        if (!Contains(guestPhysical))
        {
            return false;
        }
        var index = (guestPhysical - GuestBase) >> SparseRam.FrameShift;
        var entry = _machineFrame[index];
        if (entry == 0)
        {
            if (!_pool.TryAllocate(out var frame))
            {
                return false;
            }
            entry = (uint)(frame >> SparseRam.FrameShift) + 1;
            _machineFrame[index] = entry;
            FramesAllocated++;
        }
        machine = ((ulong)(entry - 1) << SparseRam.FrameShift) | (guestPhysical & (SparseRam.FrameSize - 1));
        return true;
    }

    /// <summary>The machine address if the frame was touched; false otherwise (it reads as zero).</summary>
    public bool TryLookup(ulong guestPhysical, out ulong machine)
    {
        machine = 0;
        if (!Contains(guestPhysical))
        {
            return false;
        }
        var entry = _machineFrame[(guestPhysical - GuestBase) >> SparseRam.FrameShift];
        if (entry == 0)
        {
            return false;
        }
        machine = ((ulong)(entry - 1) << SparseRam.FrameShift) | (guestPhysical & (SparseRam.FrameSize - 1));
        return true;
    }

    /// <summary>Every guest frame that has a machine frame: (guest-physical address, machine address) of its first byte, in guest order.</summary>
    public IEnumerable<(ulong GuestPhysical, ulong Machine)> Mappings()
    {
        for (var index = 0; index < _machineFrame.Length; index++)
        {
            if (_machineFrame[index] is var entry and not 0)
            {
                yield return (GuestBase + ((ulong)index << SparseRam.FrameShift), (ulong)(entry - 1) << SparseRam.FrameShift);
            }
        }
    }

    /// <summary>Whether log-dirty mode is on: the VMM then maps clean frames read-only so their first write comes to it.</summary>
    public bool LoggingDirty => _dirtyLog is not null;

    /// <summary>Starts log-dirty mode with an empty log (or empties the running one).</summary>
    public void StartDirtyLog() => _dirtyLog = FrameBitmap.Create((ulong)_machineFrame.Length);

    /// <summary>Ends log-dirty mode.</summary>
    public void StopDirtyLog() => _dirtyLog = null;

    /// <summary>Whether the guest frame holding <paramref name="guestPhysical"/> was written in this log period (false when no log runs).</summary>
    public bool IsLoggedDirty(ulong guestPhysical)
    {
        if (_dirtyLog is not { } log || !Contains(guestPhysical))
        {
            return false;
        }
        return FrameBitmap.IsSet(log, (guestPhysical - GuestBase) >> SparseRam.FrameShift);
    }

    /// <summary>Records a write to the guest frame holding <paramref name="guestPhysical"/>, when a log runs.</summary>
    public void LogDirty(ulong guestPhysical)
    {
        if (_dirtyLog is { } log && Contains(guestPhysical))
        {
            FrameBitmap.Set(log, (guestPhysical - GuestBase) >> SparseRam.FrameShift);
        }
    }

    /// <summary>
    /// Records a write by machine address (HTIF's, which watches the machine address of the guest's
    /// <c>tohost</c>), when a log runs. The P2M maps only guest to machine, so this looks the frame up
    /// among the guest's: a few microseconds, paid only while logging and only per HTIF command.
    /// </summary>
    public void LogDirtyMachine(ulong machine)
    {
        if (_dirtyLog is not { } log)
        {
            return;
        }
        var entry = (uint)(machine >> SparseRam.FrameShift) + 1;
        var index = Array.IndexOf(_machineFrame, entry);
        if (index >= 0)
        {
            FrameBitmap.Set(log, (ulong)index);
        }
    }

    /// <summary>The guest frames written in this log period (addresses of their first bytes, in order); a new period starts.</summary>
    public IReadOnlyList<ulong> TakeDirtyLog()
    {
        var log = _dirtyLog ?? throw new InvalidOperationException("no dirty log is running");
        return FrameBitmap.Drain(log, GuestBase);
    }

    /// <summary>The map and its pool, for a snapshot.</summary>
    public P2mMapState Save() => new()
    {
        Entries = [.. Mappings().Select(m => new P2mEntry((m.GuestPhysical - GuestBase) >> SparseRam.FrameShift, m.Machine >> SparseRam.FrameShift))],
        FramesAllocated = FramesAllocated,
        Pool = _pool.Save(),
    };

    /// <summary>The map <paramref name="state"/> was saved from; its pool (given empty) takes the saved pool's state.</summary>
    public static P2mMap Restore(P2mMapArgs args, P2mMapState state)
    {
        var map = new P2mMap(args.GuestBase, args.GuestBytes, args.Pool) { FramesAllocated = state.FramesAllocated };
        args.Pool.Restore(state.Pool);
        foreach (var (guestFrame, machineFrame) in state.Entries)
        {
            var machine = machineFrame << SparseRam.FrameShift;
            if (guestFrame >= (ulong)map._machineFrame.Length || !args.Pool.Owns(machine) || machineFrame >= uint.MaxValue)
            {
                throw new ArgumentException($"P2M entry {guestFrame:x} → {machineFrame:x} lies outside guest RAM or the machine pool", nameof(state));
            }
            map._machineFrame[guestFrame] = (uint)machineFrame + 1;
        }
        return map;
    }
}
