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
}
