using VirtApi.Hypervisor.Vm;

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
    private readonly List<MigrationRound> _rounds = [];
    private readonly MigrationChannel _channel;
    private IReadOnlyList<ulong> _roundPages;
    private int _next;
    private ulong _roundStartInstret;
    private long _roundHostStart;
    private ulong _roundStartTime;
    private long _roundStartPages;

    private PreCopyMigration(MigrationPlan plan, IMigrationObserver observer, IMigrationTarget target, IGuestExecution source)
    {
        Plan = plan;
        Observer = observer;
        Target = target;
        _channel = new MigrationChannel(source, target, plan.Link);
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
                (int)(_channel.PagesSent - _roundStartPages),
                dirty.Count,
                source.InstructionsRetired - _roundStartInstret,
                _channel.Time - _roundStartTime,
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
        var chunkStart = _channel.Time;
        var end = Math.Min(_next + Plan.Link.ChunkPages, _roundPages.Count);
        for (; _next < end; _next++)
        {
            if (!_channel.TrySendPage(_roundPages[_next], out error))
            {
                return false;
            }
        }
        InstructionsUntilNextChunk = _channel.Time - chunkStart;
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
        return Move(_channel, _roundPages.Union(source.TakeDirtyLog()).Order().ToList(), console, out downtime, out error);
    }

    /// <summary>The report of the migration as it ended.</summary>
    public MigrationReport Report(MigrationPhase phase, MigrationStopAndCopy? stopAndCopy, string? error, VmStatus status) =>
        new(phase, [.. _rounds], stopAndCopy, _channel.PagesSent, error, status);

    /// <summary>
    /// Moves a VM whose guest does not run: <paramref name="pages"/> and its state cross
    /// <paramref name="channel"/>, and the target starts the VM. All of it is downtime, measured on the
    /// channel. Also a cold migration's whole work.
    /// </summary>
    public static IGuestExecution? Move(MigrationChannel channel, IReadOnlyList<ulong> pages, IConsoleOutput console, out MigrationStopAndCopy? downtime, out string? error)
    {
        var started = HostTimer.Start();
        var (startPages, startTime) = (channel.PagesSent, channel.Time);
        downtime = null;
        foreach (var address in pages)
        {
            if (!channel.TrySendPage(address, out error))
            {
                return null;
            }
        }
        var execution = channel.SendStateAndStart(console, out var stateBytes, out error);
        if (execution is not null)
        {
            downtime = new MigrationStopAndCopy((int)(channel.PagesSent - startPages), stateBytes, channel.Time - startTime, Milliseconds(started));
        }
        return execution;
    }

    private void BeginRound(IGuestExecution source)
    {
        _next = 0;
        _roundStartInstret = source.InstructionsRetired;
        _roundHostStart = HostTimer.Start();
        _roundStartTime = _channel.Time;
        _roundStartPages = _channel.PagesSent;
    }

    private static double Milliseconds(long started)
    {
        var timer = default(HostTimer);
        timer.Stop(started);
        return timer.Seconds * 1000;
    }
}
