using VirtApi.Machine.Memory;

namespace VirtApi.Hypervisor.Memory;

/// <summary>
/// A run of machine frames (MA) the VMM hands out: guest frames for the P2M, or frames for its own
/// tables. Frames are taken from the top of the run downwards and recycled through a free list, so
/// machine addresses never coincide with the guest-physical ones by accident.
/// </summary>
public sealed class MachineFramePool
{
    private readonly SparseRam _ram;
    private readonly ulong _start;
    private readonly ulong _frames;
    private readonly Stack<ulong> _free = new();
    private ulong _taken;

    public MachineFramePool(SparseRam ram, ulong start, ulong bytes)
    {
        if (start % SparseRam.FrameSize != 0 || bytes % SparseRam.FrameSize != 0 || !ram.Contains(start, 1) || !ram.Contains(start + bytes - 1, 1))
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "the pool must be whole frames inside RAM");
        }
        _ram = ram;
        _start = start;
        _frames = bytes / SparseRam.FrameSize;
    }

    /// <summary>Frames handed out and not returned.</summary>
    public ulong InUse { get; private set; }

    /// <summary>Frames the pool holds in all.</summary>
    public ulong Capacity => _frames;

    /// <summary>A zeroed machine frame, or false when the pool is exhausted.</summary>
    public bool TryAllocate(out ulong machineAddress)
    {
        if (_free.TryPop(out machineAddress))
        {
            InUse++;
            return true;
        }
        if (_taken == _frames)
        {
            machineAddress = 0;
            return false;
        }
        _taken++;
        machineAddress = _start + ((_frames - _taken) * SparseRam.FrameSize);
        InUse++;
        return true;
    }

    /// <summary>Whether <paramref name="machineAddress"/> is a frame of this pool.</summary>
    public bool Owns(ulong machineAddress) => machineAddress - _start < _frames * SparseRam.FrameSize;

    /// <summary>How far the pool has handed out frames, for a snapshot.</summary>
    public MachineFramePoolState Save() => new() { Taken = _taken, Free = [.. _free.Reverse()] };

    /// <summary>Takes a saved pool's state: an unused pool continues as the saved one would.</summary>
    public void Restore(MachineFramePoolState state)
    {
        if (_taken != 0 || InUse != 0 || state.Taken > _frames || (ulong)state.Free.Length > state.Taken || state.Free.Any(f => !Owns(f)))
        {
            throw new ArgumentException("the saved pool does not fit this pool, or this pool is in use", nameof(state));
        }
        _taken = state.Taken;
        InUse = state.Taken - (ulong)state.Free.Length;
        foreach (var frame in state.Free)
        {
            _free.Push(frame);
        }
    }

    /// <summary>Returns a frame; its contents are dropped, so the next user finds it zeroed.</summary>
    public void Free(ulong machineAddress)
    {
        _ram.Clear(machineAddress);
        _free.Push(machineAddress);
        InUse--;
    }
}
