using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Snapshots;

namespace VirtApi.Hypervisor.Vm;

/// <summary>
/// One boot of a guest under one technique: the seam where techniques plug in behind the worker.
/// The worker calls it from one thread at a time; nothing here knows about HTTP or the database.
/// Disposing it ends the boot: its disks are synced to their files and closed.
/// </summary>
public interface IGuestExecution : IDisposable
{
    /// <summary>Runs until the guest stops or <paramref name="maxInstructions"/> more have retired.</summary>
    GuestRunResult Run(ulong maxInstructions);

    /// <summary>Instructions retired by all harts since boot.</summary>
    ulong InstructionsRetired { get; }

    /// <summary>Feeds the console's receive FIFO; returns the bytes it took.</summary>
    int FeedConsole(ReadOnlySpan<byte> bytes);

    /// <summary>The counters as they are now (counted by the machine and the VMM where the work happens).</summary>
    VmStatistics CaptureStatistics();

    /// <summary>
    /// Saves the VM between two runs (an instruction boundary): its state, and copies of the guest pages
    /// <paramref name="scope"/> names. Starts a new dirty log, so the next <see cref="SnapshotScope.Diff"/>
    /// holds the pages written after this capture.
    /// </summary>
    VmCapture Capture(SnapshotScope scope);

    /// <summary>The VM's state without its memory (harts, devices, VMM), between two runs: what a migration's stop-and-copy sends.</summary>
    VmSnapshotState SaveState();

    /// <summary>Every guest page that holds data, by guest-physical address in address order.</summary>
    IReadOnlyList<ulong> TouchedPages();

    /// <summary>Copies the 4 KiB guest page at <paramref name="guestPhysical"/> (zeros if untouched).</summary>
    void ReadPage(ulong guestPhysical, Span<byte> destination);

    /// <summary>
    /// Starts (or restarts) the migration's dirty log at the memory-virtualization layer: the guest pages
    /// written from now on, by the guest, by the VMM on its behalf, or by a device back end's DMA.
    /// </summary>
    void StartDirtyLog();

    /// <summary>The guest pages written since the log started or was last taken, in address order; a new log period starts.</summary>
    IReadOnlyList<ulong> TakeDirtyLog();

    /// <summary>Ends the dirty log (a migration ended on this machine): writes are no longer traced.</summary>
    void StopDirtyLog();
}

/// <summary>Creates the execution of a VM for its technique.</summary>
public interface IGuestExecutionFactory
{
    /// <summary>Builds the machine and loads the image; console bytes go to <paramref name="console"/>.</summary>
    IGuestExecution Boot(VmSpec spec, IConsoleOutput console);

    /// <summary>
    /// Builds the machine <paramref name="state"/> was saved from, with guest memory
    /// <paramref name="pages"/> (every page that holds data; the rest read as zero), ready to run on
    /// exactly as the saved one would have. Throws <see cref="SnapshotFormatException"/> when the state
    /// does not fit <paramref name="spec"/>.
    /// </summary>
    IGuestExecution Restore(VmSpec spec, VmSnapshotState state, IEnumerable<GuestPage> pages, IConsoleOutput console);

    /// <summary>
    /// The receiving end of a migration of a VM defined by <paramref name="spec"/> (as it will be on the
    /// target host), with at most <paramref name="machineFrames"/> machine frames for its pages.
    /// </summary>
    IMigrationTarget PrepareTarget(VmSpec spec, ulong machineFrames);
}

/// <summary>Where a guest's console bytes go.</summary>
public interface IConsoleOutput
{
    void Write(byte value);
}

/// <summary>How a run slice ended.</summary>
public enum GuestRunOutcome
{
    /// <summary>The slice's instructions are done; the guest can go on.</summary>
    SliceDone,

    /// <summary>The guest powered off (test finisher or HTIF); see the exit code.</summary>
    PoweredOff,

    /// <summary>The guest asked for a reset.</summary>
    Reset,

    /// <summary>Every hart waits for an interrupt that only outside input (the console) can raise.</summary>
    Idle,

    /// <summary>The guest cannot go on; see the reason.</summary>
    Crashed,
}

/// <summary>The end of a run slice.</summary>
public readonly record struct GuestRunResult(GuestRunOutcome Outcome, int ExitCode = 0, string? Reason = null);
