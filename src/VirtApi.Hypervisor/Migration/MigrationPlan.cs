using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Migration;

/// <summary>How a VM moves (DESIGN.md "Migration").</summary>
public enum MigrationMode
{
    /// <summary>Iterative pre-copy while the guest runs, then a short stop-and-copy (Clark et al., NSDI 2005).</summary>
    Live,

    /// <summary>The VM is not running: its whole state moves at once.</summary>
    Cold,
}

/// <summary>Where a migration is.</summary>
public enum MigrationPhase
{
    PreCopy,
    StopAndCopy,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>
/// The link between the two hosts, in the guest's virtual time: while one 4 KiB page crosses it, the
/// source guest retires <see cref="InstructionsPerPage"/> instructions. Pages go in chunks of
/// <see cref="ChunkPages"/>; the guest runs between two chunks for the time the chunk took. Time is the
/// guest's, never the wall clock's, so the rounds of a migration are the same on every run.
/// </summary>
public sealed record MigrationLink
{
    /// <summary>Guest instructions per page sent (the link's speed against the guest's).</summary>
    public ulong InstructionsPerPage { get; init; } = 100;

    /// <summary>Pages sent back to back before the guest runs again.</summary>
    public int ChunkPages { get; init; } = 64;
}

/// <summary>What the control plane asks of the source VM's worker.</summary>
/// <param name="MigrationId">The migration's id.</param>
/// <param name="Mode">Live or cold.</param>
/// <param name="Target">The VM's definition on the target host (its hypervisor type may differ).</param>
/// <param name="MaxRounds">Pre-copy rounds at most, round 0 included (live only).</param>
/// <param name="StopCopyPages">Pre-copy ends when a round leaves at most this many pages dirty (live only).</param>
/// <param name="TargetFrames">Machine frames the target host has for the guest; receiving more fails the migration.</param>
/// <param name="Link">The link's speed.</param>
public sealed record MigrationPlan(Guid MigrationId, MigrationMode Mode, VmSpec Target, int MaxRounds, int StopCopyPages, ulong TargetFrames, MigrationLink Link);

/// <summary>One pre-copy round.</summary>
/// <param name="Number">0 for the first round (every touched page), then 1, 2, …</param>
/// <param name="PagesSent">Pages the round sent.</param>
/// <param name="PagesDirtied">Pages the guest dirtied while the round was sent: the next round's set.</param>
/// <param name="GuestInstructions">Instructions the guest retired during the round.</param>
/// <param name="LinkInstructions">The round's duration on the link, in guest-instruction time.</param>
/// <param name="HostMilliseconds">The round's duration on the host's wall clock.</param>
public sealed record MigrationRound(int Number, int PagesSent, int PagesDirtied, ulong GuestInstructions, ulong LinkInstructions, double HostMilliseconds);

/// <summary>The stop-and-copy: the guest is paused while the rest of its pages and its state cross.</summary>
/// <param name="PagesSent">Pages sent while the guest was paused.</param>
/// <param name="StateBytes">The CPU, device and VMM state sent with them.</param>
/// <param name="DowntimeInstructions">The pause's length on the link, in guest-instruction time.</param>
/// <param name="DowntimeMilliseconds">The pause's length on the host's wall clock, from pause to resume on the target.</param>
public sealed record MigrationStopAndCopy(int PagesSent, long StateBytes, ulong DowntimeInstructions, double DowntimeMilliseconds);

/// <summary>How a migration ended.</summary>
/// <param name="Phase">Completed, failed or cancelled.</param>
/// <param name="Rounds">The pre-copy rounds (none for cold).</param>
/// <param name="StopAndCopy">The stop-and-copy, when it happened (and completed).</param>
/// <param name="TotalPagesSent">Every page sent: the rounds' and the stop-and-copy's.</param>
/// <param name="Error">Why it failed.</param>
/// <param name="Status">The VM's status when it ended: on the target when completed, on the source otherwise.</param>
public sealed record MigrationReport(MigrationPhase Phase, IReadOnlyList<MigrationRound> Rounds, MigrationStopAndCopy? StopAndCopy, long TotalPagesSent, string? Error, VmStatus Status);

/// <summary>
/// Told of a migration's progress, on the worker's thread: implementations queue and return at once.
/// </summary>
public interface IMigrationObserver
{
    void PhaseChanged(Guid migrationId, MigrationPhase phase);

    void RoundCompleted(Guid migrationId, MigrationRound round);

    /// <summary>The migration ended; called once, last.</summary>
    void Ended(Guid migrationId, MigrationReport report);
}
