using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Board;
using VirtApi.Machine.Memory;

namespace VirtApi.Hypervisor.Techniques.Native;

/// <summary>
/// A <c>native</c> VM arriving on a host: with no VMM, guest-physical is machine address, so the pages
/// land in the target's RAM at their own addresses, one machine frame each.
/// </summary>
internal sealed class NativeMigrationTarget(VmSpec spec, ulong machineFrames, IGuestExecutionFactory factory) : IMigrationTarget
{
    private SparseRam? _ram = new(VirtBoard.RamBase, (ulong)spec.MemoryMiB << 20);

    public ulong FramesInUse { get; private set; }

    public bool TryReceive(ulong guestPhysical, ReadOnlySpan<byte> bytes)
    {
        var ram = _ram ?? throw new ObjectDisposedException(nameof(NativeMigrationTarget));
        if (!ram.Contains(guestPhysical, SparseRam.FrameSize))
        {
            return false;
        }
        if (ram.FrameAt(guestPhysical) is null)
        {
            if (FramesInUse == machineFrames)
            {
                return false;
            }
            FramesInUse++;
        }
        ram.RestoreFrame(guestPhysical, bytes);
        return true;
    }

    public IGuestExecution Start(VmSnapshotState state, IConsoleOutput console)
    {
        var ram = _ram ?? throw new ObjectDisposedException(nameof(NativeMigrationTarget));
        // The frames are handed over as they are (no copy here); the board copies them into its RAM.
        var execution = factory.Restore(spec, state, ram.TouchedFrames().Select(f => new GuestPage(f.Address, ram.FrameAt(f.Address)!)), console);
        Dispose();
        return execution;
    }

    public void Dispose()
    {
        _ram = null;
        FramesInUse = 0;
    }
}
