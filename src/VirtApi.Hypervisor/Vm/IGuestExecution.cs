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
