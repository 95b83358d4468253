using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VirtApi.Contracts;
using VirtApi.Devices;
using VirtApi.Endpoints;
using VirtApi.Hosts;
using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;
using VirtApi.Problems;

namespace VirtApi.VmMigration;

/// <summary>
/// What a migration request must be, what keeps a VM from being migrated (the same list for the check
/// endpoint and for POST, which answers the first), and the migration's response.
/// </summary>
public static class MigrationRules
{
    public const int MaxRounds = 100;
    public const int MaxStopCopyPages = 1_000_000;

    /// <summary>Field checks that need nothing but the request; each problem names its field.</summary>
    public static Dictionary<string, string[]> Validate(CreateMigrationRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.TargetHostId is null)
        {
            errors["targetHostId"] = ["is required: the id of the host to move the VM to"];
        }
        if (request.Mode is null)
        {
            errors["mode"] = [$"is required: one of {string.Join(", ", EnumNames.All<MigrationMode>())}"];
        }
        if (request.MaxRounds is < 1 or > MaxRounds)
        {
            errors["maxRounds"] = [$"must be between 1 and {MaxRounds}, was {request.MaxRounds}"];
        }
        if (request.StopCopyPages is < 0 or > MaxStopCopyPages)
        {
            errors["stopCopyPages"] = [$"must be between 0 and {MaxStopCopyPages}, was {request.StopCopyPages}"];
        }
        return errors;
    }

    /// <summary>The 400 for a target host that does not exist (as VMs treat an unknown <c>hostId</c>).</summary>
    public static ValidationProblem UnknownTarget(Guid targetHostId) =>
        ApiProblem.Validation(new Dictionary<string, string[]> { ["targetHostId"] = [$"no host has id '{targetHostId}'"] });

    /// <summary>The migrations that are not over (in pre-copy or stop-and-copy, as far as the database knows).</summary>
    public static IQueryable<MigrationEntity> UnderWay(this IQueryable<MigrationEntity> migrations) =>
        migrations.Where(m => m.Phase == MigrationPhase.PreCopy || m.Phase == MigrationPhase.StopAndCopy);

    /// <summary>The migration of the VM that is under way, as far as the database knows; null when none is.</summary>
    public static Task<Guid?> UnderWayAsync(VirtApiDbContext db, Guid vmId, CancellationToken cancellationToken) =>
        db.Migrations.AsNoTracking().UnderWay().Where(m => m.VmId == vmId).Select(m => (Guid?)m.Id).FirstOrDefaultAsync(cancellationToken);

    /// <summary>
    /// The 409 <c>invalid-state</c> for a change to the VM's definition while a migration of it is under
    /// way; null when none is. Called in the change's write transaction: a migration that has been
    /// started but not yet handed to the worker does not show in the VM's state, and the worker would
    /// move the definition it was given, on the host it was charged to.
    /// </summary>
    public static async Task<ProblemHttpResult?> MigratingAsync(VirtApiDbContext db, VmEntity vm, string what, CancellationToken cancellationToken) =>
        await UnderWayAsync(db, vm.Id, cancellationToken) is { } migrationId
            ? VmLifecycleApi.InvalidState(vm, $"VM '{vm.Name}' is being migrated (migration {migrationId}), which does not allow it to {what}; wait for the migration to end.", migrationId)
            : null;

    /// <summary>
    /// Every reason <paramref name="vm"/> (with its live status and definition) cannot be migrated to
    /// <paramref name="target"/> in <paramref name="mode"/> now: each passthrough device, the target
    /// being its own host, the target's free memory, and the VM's state (or a migration under way).
    /// Empty when nothing stands in the way.
    /// </summary>
    public static async Task<List<MigrationBlockerResponse>> BlockersAsync(
        VirtApiDbContext db, VmEntity vm, HostEntity target, MigrationMode mode, CancellationToken cancellationToken)
    {
        var blockers = new List<MigrationBlockerResponse>();
        foreach (var device in DeviceRules.Blockers(vm.Devices))
        {
            blockers.Add(new MigrationBlockerResponse(
                ProblemCode.PassthroughDeviceAttached,
                $"Device {device.Name} is passed through: {device.Reason}; detach it first.",
                DeviceId: device.DeviceId,
                DeviceName: device.Name,
                HostDeviceId: device.HostDeviceId));
        }
        if (target.Id == vm.HostId)
        {
            blockers.Add(new MigrationBlockerResponse(
                ProblemCode.MigrationSameHost,
                $"VM '{vm.Name}' is on host '{target.Name}' already; name another host."));
        }
        else if (target.MemoryMiB - target.MemoryChargedMiB < vm.MemoryMiB)
        {
            var free = target.MemoryMiB - target.MemoryChargedMiB;
            blockers.Add(new MigrationBlockerResponse(
                ProblemCode.HostCapacity,
                $"Host '{target.Name}' has {free} MiB free; the VM needs {vm.MemoryMiB} MiB.",
                MemoryFreeMiB: free,
                MemoryNeededMiB: vm.MemoryMiB));
        }
        var underWay = await UnderWayAsync(db, vm.Id, cancellationToken);
        if (StateReason(vm, mode, underWay) is { } reason)
        {
            blockers.Add(new MigrationBlockerResponse(ProblemCode.InvalidState, reason, State: vm.State, MigrationId: underWay));
        }
        return blockers;
    }

    /// <summary>Why the VM's state does not allow the migration; null when it does.</summary>
    private static string? StateReason(VmEntity vm, MigrationMode mode, Guid? underWay) =>
        underWay is { } other
            ? $"VM '{vm.Name}' is being migrated already (migration {other}); wait for it to end or cancel it."
            : VmLifecycle.MigrationRefusal(vm.State, mode) is { } refusal ? $"VM '{vm.Name}' cannot be migrated {EnumNames.ToName(mode)}: {refusal}." : null;

    /// <summary>
    /// The 409 POST answers for the first blocker, with the shape the same code has elsewhere: the
    /// passthrough devices all named, the target's free memory, the state and the actions it allows.
    /// </summary>
    public static async Task<ProblemHttpResult> ProblemAsync(
        VirtApiDbContext db, VmEntity vm, HostEntity target, IReadOnlyList<MigrationBlockerResponse> blockers, CancellationToken cancellationToken)
    {
        var first = blockers[0];
        return first.Code switch
        {
            ProblemCode.PassthroughDeviceAttached => DeviceRules.Blocked(vm, DeviceRules.Blockers(vm.Devices), "be migrated"),
            ProblemCode.HostCapacity => await HostPlacement.CapacityProblemAsync(db, target.Id, vm.MemoryMiB, cancellationToken),
            ProblemCode.InvalidState => VmLifecycleApi.InvalidState(vm, first.Detail, first.MigrationId),
            _ => ApiProblem.Conflict(first.Code, first.Detail, new Dictionary<string, object?> { ["hostId"] = target.Id }),
        };
    }

    /// <summary>The 409 for a cancel outside pre-copy.</summary>
    public static ProblemHttpResult NotCancellable(MigrationEntity migration) =>
        ApiProblem.Conflict(
            ProblemCode.MigrationNotCancellable,
            MigrationEntity.IsTerminal(migration.Phase)
                ? $"Migration {migration.Id} is {EnumNames.ToName(migration.Phase)} already; only a migration in pre-copy can be cancelled."
                : $"Migration {migration.Id} is in {EnumNames.ToName(migration.Phase)}: the VM is paused while its last pages cross, and it ends in a moment; only a migration in pre-copy can be cancelled.",
            new Dictionary<string, object?> { ["phase"] = EnumNames.ToName(migration.Phase) });

    public static MigrationResponse ToResponse(MigrationEntity m) => new(
        m.Id,
        m.VmId,
        m.Mode,
        m.Phase,
        m.SourceHostId,
        m.TargetHostId,
        m.MaxRounds,
        m.StopCopyPages,
        [.. m.Rounds.OrderBy(r => r.Number).Select(r => new MigrationRoundResponse(r.Number, r.PagesSent, r.PagesDirtied, r.GuestInstructions, r.LinkInstructions, r.HostMilliseconds))],
        m.StopAndCopyPagesSent is { } pages ? new MigrationStopAndCopyResponse(pages, m.StateBytes ?? 0) : null,
        m.TotalPagesSent,
        m.DowntimeInstructions is { } instructions ? new MigrationDowntimeResponse(instructions, m.DowntimeMilliseconds ?? 0) : null,
        m.Error,
        m.CreatedAt,
        m.EndedAt);
}
