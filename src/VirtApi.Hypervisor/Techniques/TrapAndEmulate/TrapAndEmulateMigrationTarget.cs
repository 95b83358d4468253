using System.Collections.Immutable;
using VirtApi.Hypervisor.Memory;
using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Board;
using VirtApi.Machine.Memory;

namespace VirtApi.Hypervisor.Techniques.TrapAndEmulate;

/// <summary>
/// A <c>trap-and-emulate</c> VM arriving on a host: the target's VMM builds a new P2M over its own
/// machine memory and gives each arriving guest page a machine frame from its pool, in arrival order,
/// so the guest's frames land at other machine addresses than on the source. The guest cannot tell:
/// it sees only guest-physical addresses. The few machine addresses in the saved state (HTIF's
/// <c>tohost</c> and <c>fromhost</c>, LR/SC reservations) are translated to the target's frames.
/// </summary>
internal sealed class TrapAndEmulateMigrationTarget : IMigrationTarget
{
    private readonly VmSpec _spec;
    private readonly ulong _machineFrames;
    private readonly IGuestExecutionFactory _factory;
    private SparseRam? _ram;
    private readonly P2mMap _p2m;
    private readonly MachineFramePool _pool;

    public TrapAndEmulateMigrationTarget(VmSpec spec, ulong machineFrames, IGuestExecutionFactory factory)
    {
        _spec = spec;
        _machineFrames = machineFrames;
        _factory = factory;
        var guestBytes = (ulong)spec.MemoryMiB << 20;
        _ram = new SparseRam(VirtBoard.RamBase, TrapAndEmulateExecution.MachineBytes(spec));
        _pool = new MachineFramePool(_ram, VirtBoard.RamBase, guestBytes);
        _p2m = new P2mMap(VirtBoard.RamBase, guestBytes, _pool);
    }

    public ulong FramesInUse => _ram is null ? 0 : _pool.InUse;

    public bool TryReceive(ulong guestPhysical, ReadOnlySpan<byte> bytes)
    {
        var ram = _ram ?? throw new ObjectDisposedException(nameof(TrapAndEmulateMigrationTarget));
        if (!_p2m.TryLookup(guestPhysical, out var machine) && (_pool.InUse == _machineFrames || !_p2m.TryTranslate(guestPhysical, out machine)))
        {
            return false;
        }
        ram.RestoreFrame(machine, bytes);
        return true;
    }

    public IGuestExecution Start(VmSnapshotState state, IConsoleOutput console)
    {
        var ram = _ram ?? throw new ObjectDisposedException(nameof(TrapAndEmulateMigrationTarget));
        var saved = state.TrapAndEmulate ?? throw new SnapshotFormatException("the state has no trap-and-emulate VMM");
        var sourceToGuest = saved.P2m.Entries.ToDictionary(e => e.MachineFrame, e => e.GuestFrame);
        var board = state.Board with
        {
            Tohost = ToTarget(state.Board.Tohost, sourceToGuest),
            Fromhost = ToTarget(state.Board.Fromhost, sourceToGuest),
            Harts = [.. state.Board.Harts.Select(h => h with { Reservation = h.Reservation is { } r ? ToTarget(r, sourceToGuest) : null })],
        };
        var arrived = state with { Board = board, TrapAndEmulate = saved with { P2m = _p2m.Save() } };
        var pages = _p2m.Mappings().Select(m => new GuestPage(m.GuestPhysical, ram.FrameAt(m.Machine) ?? new byte[SparseRam.FrameSize]));
        var execution = _factory.Restore(_spec, arrived, pages, console);
        Dispose();
        return execution;
    }

    /// <summary>
    /// A source machine address as the target's: back to guest-physical through the source's P2M, then
    /// through the target's. Its page is a touched page of the guest, so it has arrived and has a frame.
    /// </summary>
    private ulong ToTarget(ulong sourceMachine, Dictionary<ulong, ulong> sourceToGuest)
    {
        if (sourceMachine == 0)
        {
            return 0;
        }
        if (!sourceToGuest.TryGetValue(sourceMachine >> SparseRam.FrameShift, out var guestFrame)
            || !_p2m.TryLookup(_p2m.GuestBase + (guestFrame << SparseRam.FrameShift), out var machine))
        {
            throw new SnapshotFormatException($"machine address 0x{sourceMachine:x} of the source is not a frame of the guest");
        }
        return machine | (sourceMachine & (SparseRam.FrameSize - 1));
    }

    public void Dispose() => _ram = null;
}
