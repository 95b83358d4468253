using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Memory;

namespace VirtApi.Hypervisor.Migration;

/// <summary>
/// The source side of a live migration by iterative pre-copy (Clark et al., "Live Migration of Virtual
/// Machines", NSDI 2005, section 3): round 0 sends every touched page while the guest runs; each later
/// round sends the pages the guest dirtied during the one before, from the dirty log of the
/// memory-virtualization layer. Pre-copy ends when a round leaves at most <see cref="MigrationPlan.StopCopyPages"/>
/// pages dirty, when <see cref="MigrationPlan.MaxRounds"/> rounds are done, or when a round dirtied as
/// many pages as it sent (the writable working set no longer shrinks); then <see cref="StopAndCopy"/>
/// sends the rest with the CPU and device state while the guest is paused. The VM's worker drives it
/// between guest slices: it sends a chunk, then runs the guest for the time the chunk took on the link.
/// </summary>
internal sealed class PreCopyMigration
{
    private readonly byte[] _page = new byte[SparseRam.FrameSize];
    private readonly List<MigrationRound> _rounds = [];
    private IReadOnlyList<ulong> _roundPages;
    private int _next;
    private ulong _roundStartInstret;
    private long _roundHostStart;
    private ulong _roundLinkTime;
    private long _pagesSent;

    private PreCopyMigration(MigrationPlan plan, IMigrationObserver observer, IMigrationTarget target, IGuestExecution source)
    {
        Plan = plan;
        Observer = observer;
        Target = target;
        source.StartDirtyLog();
        _roundPages = source.TouchedPages();
        BeginRound(source);
    }

    public MigrationPlan Plan { get; }

    public IMigrationObserver Observer { get; }

    public IMigrationTarget Target { get; }

    public Guid Id => Plan.MigrationId;

    /// <summary>Guest instructions to run before the next chunk is due: the last chunk's time on the link.</summary>
    public ulong InstructionsUntilNextChunk { get; private set; }

    /// <summary>The guest reached its pause point during pre-copy: it stays paused, and lands paused.</summary>
    public bool GuestHeld { get; set; }

    public IReadOnlyList<MigrationRound> Rounds => _rounds;

    /// <summary>Starts logging dirty pages on <paramref name="source"/> and begins round 0 with every touched page.</summary>
    public static PreCopyMigration Start(MigrationPlan plan, IMigrationObserver observer, IMigrationTarget target, IGuestExecution source)
    {
        observer.PhaseChanged(plan.MigrationId, MigrationPhase.PreCopy);
        return new PreCopyMigration(plan, observer, target, source);
    }

    /// <summary>The guest ran <paramref name="instructions"/> of the time the last chunk took.</summary>
    public void GuestRan(ulong instructions) => InstructionsUntilNextChunk -= Math.Min(instructions, InstructionsUntilNextChunk);

    /// <summary>The guest cannot use the link's time (idle, or held at its pause point): the chunk in flight arrives now.</summary>
    public void GuestWaits() => InstructionsUntilNextChunk = 0;

    /// <summary>
    /// Ends the round when its pages are all sent (and decides whether another follows), then sends the
    /// next chunk. Returns false with <paramref name="error"/> when the target could not take a page;
    /// sets <paramref name="stopAndCopy"/> when pre-copy is over.
    /// </summary>
    public bool Step(IGuestExecution source, out bool stopAndCopy, out string? error)
    {
        stopAndCopy = false;
        error = null;
        if (_next == _roundPages.Count)
        {
            var dirty = source.TakeDirtyLog();
            var round = new MigrationRound(
                _rounds.Count,
                _roundPages.Count,
                dirty.Count,
                source.InstructionsRetired - _roundStartInstret,
                _roundLinkTime,
                Milliseconds(_roundHostStart));
            _rounds.Add(round);
            Observer.RoundCompleted(Id, round);
            _roundPages = dirty;
            if (dirty.Count <= Plan.StopCopyPages || _rounds.Count >= Plan.MaxRounds || dirty.Count >= round.PagesSent)
            {
                stopAndCopy = true;
                return true;
            }
            BeginRound(source);
        }
        var end = Math.Min(_next + Plan.Link.ChunkPages, _roundPages.Count);
        var chunk = (ulong)(end - _next);
        for (; _next < end; _next++)
        {
            if (!Send(source, Target, _roundPages[_next], _page, out error))
            {
                return false;
            }
            _pagesSent++;
        }
        _roundLinkTime += chunk * Plan.Link.InstructionsPerPage;
        InstructionsUntilNextChunk = chunk * Plan.Link.InstructionsPerPage;
        return true;
    }

    /// <summary>
    /// The guest is paused: sends the pages the last round left dirty (and any written since) and the
    /// VM's state, and starts the VM on the target. Returns the target's VM, or null with
    /// <paramref name="error"/> when the target could not take it.
    /// </summary>
    public IGuestExecution? StopAndCopy(IGuestExecution source, IConsoleOutput console, out MigrationStopAndCopy? downtime, out string? error)
    {
        Observer.PhaseChanged(Id, MigrationPhase.StopAndCopy);
        var pages = _roundPages.Union(source.TakeDirtyLog()).Order().ToList();
        var started = Move(source, Target, pages, console, Plan.Link, out downtime, out error);
        if (downtime is not null)
        {
            _pagesSent += downtime.PagesSent;
        }
        return started;
    }

    /// <summary>The report of the migration as it ended.</summary>
    public MigrationReport Report(MigrationPhase phase, MigrationStopAndCopy? stopAndCopy, string? error, VmStatus status) =>
        new(phase, [.. _rounds], stopAndCopy, _pagesSent, error, status);

    /// <summary>
    /// Moves a VM whose guest does not run: <paramref name="pages"/> and its state cross the link (the
    /// state as bytes, in the snapshot format, read back on the target), and the target starts the VM.
    /// All of it is downtime. Also a cold migration's whole work.
    /// </summary>
    public static IGuestExecution? Move(
        IGuestExecution source, IMigrationTarget target, IReadOnlyList<ulong> pages, IConsoleOutput console, MigrationLink link, out MigrationStopAndCopy? downtime, out string? error)
    {
        var started = HostTimer.Start();
        downtime = null;
        var page = new byte[SparseRam.FrameSize];
        foreach (var address in pages)
        {
            if (!Send(source, target, address, page, out error))
            {
                return null;
            }
        }
        var state = SnapshotFormat.Serialize(source.SaveState());
        IGuestExecution execution;
        try
        {
            execution = target.Start(SnapshotFormat.Deserialize(state), console);
        }
        catch (Exception exception) when (exception is SnapshotFormatException or ArgumentException or InvalidOperationException or IOException)
        {
            // A state the target cannot take, or a disk it cannot open: the VM stays on the source.
            error = $"the target could not start the VM: {exception.Message}";
            return null;
        }
        var linkTime = ((ulong)pages.Count * link.InstructionsPerPage) + (((ulong)state.Length * link.InstructionsPerPage) + SparseRam.FrameSize - 1) / SparseRam.FrameSize;
        downtime = new MigrationStopAndCopy(pages.Count, state.Length, linkTime, Milliseconds(started));
        error = null;
        return execution;
    }

    private static bool Send(IGuestExecution source, IMigrationTarget target, ulong address, byte[] page, out string? error)
    {
        source.ReadPage(address, page);
        if (target.TryReceive(address, page))
        {
            error = null;
            return true;
        }
        error = $"the target host ran out of machine memory for the guest after {target.FramesInUse} frames (page 0x{address:x} had none)";
        return false;
    }

    private void BeginRound(IGuestExecution source)
    {
        _next = 0;
        _roundStartInstret = source.InstructionsRetired;
        _roundHostStart = HostTimer.Start();
        _roundLinkTime = 0;
    }

    private static double Milliseconds(long started)
    {
        var timer = default(HostTimer);
        timer.Stop(started);
        return timer.Seconds * 1000;
    }
}
