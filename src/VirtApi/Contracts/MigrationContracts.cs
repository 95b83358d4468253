using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Contracts;

/// <summary>Move a VM to another host.</summary>
public sealed record CreateMigrationRequest
{
    /// <summary>The host to move the VM to (not the one it is on).</summary>
    public Guid? TargetHostId { get; init; }

    /// <summary><c>live</c>: iterative pre-copy while the VM runs (it must be running); <c>cold</c>: the VM is not running (created, paused, stopped, crashed) and moves at once.</summary>
    /// <example>live</example>
    public MigrationMode? Mode { get; init; }

    /// <summary>Live only: pre-copy rounds at most, round 0 included, 1–100; default from <c>Migration:DefaultMaxRounds</c> (30).</summary>
    /// <example>30</example>
    public int? MaxRounds { get; init; }

    /// <summary>Live only: pre-copy ends when a round leaves at most this many pages dirty, 0–1000000; default from <c>Migration:DefaultStopCopyPages</c> (50).</summary>
    /// <example>50</example>
    public int? StopCopyPages { get; init; }
}

/// <summary>A migration.</summary>
/// <param name="Id">Its id.</param>
/// <param name="VmId">The VM it moves.</param>
/// <param name="Mode">live or cold.</param>
/// <param name="Phase">pre-copy, stop-and-copy, completed, failed or cancelled.</param>
/// <param name="SourceHostId">The host the VM was on when it started.</param>
/// <param name="TargetHostId">The host the VM moves to; charged the VM's memory from the start.</param>
/// <param name="MaxRounds">Pre-copy rounds at most (live).</param>
/// <param name="StopCopyPages">Pre-copy ends when a round leaves at most this many pages dirty (live).</param>
/// <param name="Rounds">The pre-copy rounds completed so far (none for cold).</param>
/// <param name="StopAndCopy">What crossed while the guest was paused; null until the stop-and-copy is done.</param>
/// <param name="TotalPagesSent">Every page sent: the rounds' and the stop-and-copy's.</param>
/// <param name="Downtime">How long the guest was paused; null until the stop-and-copy is done.</param>
/// <param name="Error">Why it failed (the VM goes on on the source), or what cancelled it other than a client; null otherwise.</param>
/// <param name="CreatedAt">When it was asked for.</param>
/// <param name="EndedAt">When it completed, failed or was cancelled; null while it runs.</param>
public sealed record MigrationResponse(
    Guid Id,
    Guid VmId,
    MigrationMode Mode,
    MigrationPhase Phase,
    Guid SourceHostId,
    Guid TargetHostId,
    int MaxRounds,
    int StopCopyPages,
    IReadOnlyList<MigrationRoundResponse> Rounds,
    MigrationStopAndCopyResponse? StopAndCopy,
    long TotalPagesSent,
    MigrationDowntimeResponse? Downtime,
    string? Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset? EndedAt);

/// <summary>One pre-copy round.</summary>
/// <param name="Number">0 for the first round (every touched page), then 1, 2, …</param>
/// <param name="PagesSent">Pages the round sent.</param>
/// <param name="PagesDirtied">Pages the guest dirtied while the round was sent: the next round's set.</param>
/// <param name="GuestInstructions">Instructions the guest retired during the round.</param>
/// <param name="LinkInstructions">The round's duration on the link, in guest-instruction time.</param>
/// <param name="DurationMs">The round's duration on the host's wall clock, in milliseconds.</param>
public sealed record MigrationRoundResponse(int Number, int PagesSent, int PagesDirtied, long GuestInstructions, long LinkInstructions, double DurationMs);

/// <summary>The stop-and-copy: the guest paused while the rest crossed.</summary>
/// <param name="PagesSent">Pages sent while the guest was paused (for cold, every page).</param>
/// <param name="StateBytes">The CPU, device and VMM state sent with them, in bytes.</param>
public sealed record MigrationStopAndCopyResponse(int PagesSent, long StateBytes);

/// <summary>The guest's downtime: from its pause on the source to its resumption on the target.</summary>
/// <param name="Instructions">On the link, in guest-instruction time.</param>
/// <param name="Milliseconds">On the host's wall clock.</param>
public sealed record MigrationDowntimeResponse(long Instructions, double Milliseconds);

/// <summary>Migrations, oldest first.</summary>
public sealed record MigrationList(IReadOnlyList<MigrationResponse> Items);

/// <summary>Whether a VM can be migrated to a host now, and every reason it cannot.</summary>
/// <param name="VmId">The VM.</param>
/// <param name="TargetHostId">The host asked about.</param>
/// <param name="Mode">live or cold.</param>
/// <param name="Allowed">True when nothing stands in the way (POST would be accepted unless something changes meanwhile).</param>
/// <param name="Blockers">Every reason it cannot, each with the code POST would answer with.</param>
public sealed record MigrationCheckResponse(Guid VmId, Guid TargetHostId, MigrationMode Mode, bool Allowed, IReadOnlyList<MigrationBlockerResponse> Blockers);

/// <summary>One reason a VM cannot be migrated; the fields beyond code and detail are set for the codes they belong to.</summary>
/// <param name="Code">passthrough-device-attached, migration-same-host, host-capacity or invalid-state: the problem code POST answers with.</param>
/// <param name="Detail">The reason in words.</param>
/// <param name="DeviceId">passthrough-device-attached: the VM device.</param>
/// <param name="DeviceName">passthrough-device-attached: its name (ata0).</param>
/// <param name="HostDeviceId">passthrough-device-attached: the host device it passes through.</param>
/// <param name="MemoryFreeMiB">host-capacity: the target's free memory.</param>
/// <param name="MemoryNeededMiB">host-capacity: the VM's memory.</param>
/// <param name="State">invalid-state: the VM's state.</param>
/// <param name="MigrationId">invalid-state: the migration of the VM that is under way.</param>
public sealed record MigrationBlockerResponse(
    string Code,
    string Detail,
    Guid? DeviceId = null,
    string? DeviceName = null,
    Guid? HostDeviceId = null,
    long? MemoryFreeMiB = null,
    long? MemoryNeededMiB = null,
    VmState? State = null,
    Guid? MigrationId = null);
