using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Memory;

namespace VirtApi.Hypervisor.Migration;

/// <summary>
/// The link between the two hosts as one migration uses it: it copies pages from the source to the
/// target and the state across, and counts as it carries them the pages sent and the time they took
/// on the link, in guest instructions (<see cref="MigrationLink"/>'s speed). Rounds, chunks and the
/// downtime read their figures from it as differences of its counts.
/// </summary>
internal sealed class MigrationChannel(IGuestExecution source, IMigrationTarget target, MigrationLink link)
{
    private readonly byte[] _page = new byte[SparseRam.FrameSize];

    /// <summary>Pages sent so far.</summary>
    public long PagesSent { get; private set; }

    /// <summary>The link's time so far, in guest instructions.</summary>
    public ulong Time { get; private set; }

    /// <summary>Copies guest page <paramref name="address"/> to the target; false with <paramref name="error"/> when the target has no frame left for it.</summary>
    public bool TrySendPage(ulong address, out string? error)
    {
        source.ReadPage(address, _page);
        if (!target.TryReceive(address, _page))
        {
            error = $"the target host ran out of machine memory for the guest after {target.FramesInUse} frames (page 0x{address:x} had none)";
            return false;
        }
        PagesSent++;
        Time += link.InstructionsPerPage;
        error = null;
        return true;
    }

    /// <summary>
    /// Sends the source's state (harts, devices, VMM) as the snapshot format's bytes and starts the VM
    /// on the target from what it reads back: what crosses is what a restore would read. Returns the
    /// target's VM and the bytes sent, or null with <paramref name="error"/> when the target cannot
    /// start it.
    /// </summary>
    public IGuestExecution? SendStateAndStart(IConsoleOutput console, out long stateBytes, out string? error)
    {
        var state = SnapshotFormat.Serialize(source.SaveState());
        stateBytes = state.Length;
        Time += (((ulong)state.Length * link.InstructionsPerPage) + SparseRam.FrameSize - 1) / SparseRam.FrameSize;
        try
        {
            var execution = target.Start(SnapshotFormat.Deserialize(state), console);
            error = null;
            return execution;
        }
        catch (Exception exception) when (exception is SnapshotFormatException or ArgumentException or InvalidOperationException or IOException)
        {
            // A state the target cannot take, or a disk it cannot open: the VM stays on the source.
            error = $"the target could not start the VM: {exception.Message}";
            return null;
        }
    }
}
