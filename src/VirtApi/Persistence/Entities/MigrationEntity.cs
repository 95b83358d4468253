using VirtApi.Hypervisor.Migration;

namespace VirtApi.Persistence.Entities;

/// <summary>
/// A migration of a VM from one host to another (DESIGN.md "Migration"): what was asked, where it is,
/// and what it moved. The target host is charged the VM's memory from the start (its reservation);
/// on completion the source's charge is released and the VM's host becomes the target, otherwise the
/// reservation is released.
/// </summary>
public sealed class MigrationEntity
{
    public Guid Id { get; set; }

    /// <summary>The VM; its migrations go with it when it is deleted.</summary>
    public Guid VmId { get; set; }

    /// <summary>The host the VM was on when the migration started. Not a foreign key: a host that is emptied may be deleted, its history stays.</summary>
    public Guid SourceHostId { get; set; }

    public Guid TargetHostId { get; set; }

    public MigrationMode Mode { get; set; }

    public MigrationPhase Phase { get; set; }

    public int MaxRounds { get; set; }

    public int StopCopyPages { get; set; }

    /// <summary>The memory charged to the target at the start (the VM's), released on one host or the other at the end.</summary>
    public int MemoryMiB { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>Why it failed (or <c>host-restart</c>), or what cancelled it.</summary>
    public string? Error { get; set; }

    /// <summary>Every page sent: the rounds' and the stop-and-copy's.</summary>
    public long TotalPagesSent { get; set; }

    /// <summary>Pages sent while the guest was paused; null until the stop-and-copy is done.</summary>
    public int? StopAndCopyPagesSent { get; set; }

    /// <summary>CPU, device and VMM state sent with them.</summary>
    public long? StateBytes { get; set; }

    /// <summary>The downtime on the link, in guest-instruction time.</summary>
    public long? DowntimeInstructions { get; set; }

    /// <summary>The downtime on the host's wall clock.</summary>
    public double? DowntimeMilliseconds { get; set; }

    /// <summary>The pre-copy rounds, as each completed (none for cold).</summary>
    public List<MigrationRoundEntity> Rounds { get; set; } = [];

    /// <summary>Whether the migration is over (completed, failed or cancelled).</summary>
    public static bool IsTerminal(MigrationPhase phase) => phase is MigrationPhase.Completed or MigrationPhase.Failed or MigrationPhase.Cancelled;
}

/// <summary>One pre-copy round of a live migration.</summary>
public sealed class MigrationRoundEntity
{
    public Guid MigrationId { get; set; }

    /// <summary>0 for the first round (every touched page), then 1, 2, …</summary>
    public int Number { get; set; }

    public int PagesSent { get; set; }

    /// <summary>Pages the guest dirtied while the round was sent: the next round's set.</summary>
    public int PagesDirtied { get; set; }

    public long GuestInstructions { get; set; }

    /// <summary>The round's duration on the link, in guest-instruction time.</summary>
    public long LinkInstructions { get; set; }

    /// <summary>The round's duration on the host's wall clock.</summary>
    public double HostMilliseconds { get; set; }
}
