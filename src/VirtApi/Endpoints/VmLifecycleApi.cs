using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VirtApi.Contracts;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;
using VirtApi.Problems;
using VirtApi.Runtime;
using VirtApi.Vms;

namespace VirtApi.Endpoints;

/// <summary>Running VMs: lifecycle actions, console, statistics and events.</summary>
public static class VmLifecycleApi
{
    public static RouteGroupBuilder MapVmLifecycle(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/vms/{id:guid}").WithTags("Vm lifecycle");

        MapAction(group, "boot", nameof(BootVm), "Boot a VM (created, stopped or crashed); optionally up to a pause point", BootVm);
        MapAction(group, "pause", nameof(PauseVm), "Pause a running VM at an instruction boundary", PauseVm);
        MapAction(group, "resume", nameof(ResumeVm), "Resume a paused VM; optionally up to a pause point", ResumeVm);
        MapAction(group, "stop", nameof(StopVm), "Stop a running or paused VM", StopVm);
        MapAction(group, "reboot", nameof(RebootVm), "Reboot a running or paused VM from its image; optionally up to a pause point", RebootVm);

        group.MapGet("/console", GetConsole)
            .WithName(nameof(GetConsole))
            .WithSummary("Console output from an offset")
            .WithDescription("since=N (default 0) gives the bytes from offset N and the offset to ask from next; encoding=base64 gives them raw.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/console", SendConsoleInput)
            .WithName(nameof(SendConsoleInput))
            .WithSummary("Send input to the guest's UART")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/stats", GetVmStats)
            .WithName(nameof(GetVmStats))
            .WithSummary("The VM's counters")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/events", GetVmEvents)
            .WithName(nameof(GetVmEvents))
            .WithSummary("Server-sent events of one VM")
            .WithDescription("state (on every change), console (output as it is written), migration (a phase begun, a pre-copy round done, the end), stats (every second while running).")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/api/v1/events", GetAllEvents)
            .WithName(nameof(GetAllEvents))
            .WithTags("Vm lifecycle")
            .WithSummary("Server-sent events of every VM")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
        return group;
    }

    private static void MapAction(RouteGroupBuilder group, string path, string name, string summary, Delegate handler) =>
        group.MapPost($"/{path}", handler)
            .WithName(name)
            .WithSummary(summary)
            .WithDescription("Answers 409 with the current state and the actions it allows when the state does not allow this one.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

    public static Task<Results<Ok<VmResponse>, ValidationProblem, ProblemHttpResult>> BootVm(Guid id, RunRequest? request, VirtApiDbContext db, VmSupervisor supervisor, CancellationToken cancellationToken) =>
        ActAsync(id, VmAction.Boot, request, db, supervisor, cancellationToken);

    public static Task<Results<Ok<VmResponse>, ValidationProblem, ProblemHttpResult>> PauseVm(Guid id, VirtApiDbContext db, VmSupervisor supervisor, CancellationToken cancellationToken) =>
        ActAsync(id, VmAction.Pause, null, db, supervisor, cancellationToken);

    public static Task<Results<Ok<VmResponse>, ValidationProblem, ProblemHttpResult>> ResumeVm(Guid id, RunRequest? request, VirtApiDbContext db, VmSupervisor supervisor, CancellationToken cancellationToken) =>
        ActAsync(id, VmAction.Resume, request, db, supervisor, cancellationToken);

    public static Task<Results<Ok<VmResponse>, ValidationProblem, ProblemHttpResult>> StopVm(Guid id, VirtApiDbContext db, VmSupervisor supervisor, CancellationToken cancellationToken) =>
        ActAsync(id, VmAction.Stop, null, db, supervisor, cancellationToken);

    public static Task<Results<Ok<VmResponse>, ValidationProblem, ProblemHttpResult>> RebootVm(Guid id, RunRequest? request, VirtApiDbContext db, VmSupervisor supervisor, CancellationToken cancellationToken) =>
        ActAsync(id, VmAction.Reboot, request, db, supervisor, cancellationToken);

    private static async Task<Results<Ok<VmResponse>, ValidationProblem, ProblemHttpResult>> ActAsync(
        Guid id, VmAction action, RunRequest? request, VirtApiDbContext db, VmSupervisor supervisor, CancellationToken cancellationToken)
    {
        var vm = await db.Vms.AsNoTracking().WithDefinition().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return ApiProblem.NotFound("VM", id);
        }
        var image = await db.Images.AsNoTracking().FirstAsync(i => i.Id == vm.ImageId, cancellationToken);
        var worker = supervisor.Worker(vm, image);
        ulong? pauseAt = null;
        if (request?.PauseAtInstruction is { } point)
        {
            // Resuming continues the count; booting starts it from zero.
            var from = action == VmAction.Resume ? worker.Status.InstructionsRetired : 0;
            if (point <= 0 || (ulong)point <= from)
            {
                return ApiProblem.Validation(new Dictionary<string, string[]>
                {
                    ["pauseAtInstruction"] = [$"must be more than the {from} instructions the VM will have retired when it starts running, was {point}"],
                });
            }
            pauseAt = (ulong)point;
        }
        var answer = await worker.SendAsync(new LifecycleCommand(action, pauseAt));
        var live = vm.WithStatus(answer.Status);
        return answer.Accepted
            ? TypedResults.Ok(VmRules.ToResponse(live))
            : StateConflict(live, EnumNames.ToName(action));
    }

    /// <summary>The 409 for an action the VM's state does not allow, naming the state and what it allows.</summary>
    internal static ProblemHttpResult StateConflict(VmEntity vm, string what)
    {
        var allowed = VmLifecycle.AllowedActions(vm.State).Select(EnumNames.ToName).ToArray();
        return InvalidState(vm, $"VM '{vm.Name}' is {EnumNames.ToName(vm.State)}, which does not allow it to {what}; allowed: {(allowed.Length > 0 ? string.Join(", ", allowed) : "none")}.");
    }

    /// <summary>
    /// The 409 <c>invalid-state</c> with <paramref name="detail"/>: its extensions name the VM's state,
    /// the actions it allows, and the migration under way when one is what stands in the way.
    /// </summary>
    internal static ProblemHttpResult InvalidState(VmEntity vm, string detail, Guid? migrationId = null)
    {
        var extensions = new Dictionary<string, object?>
        {
            ["state"] = EnumNames.ToName(vm.State),
            ["allowedActions"] = VmLifecycle.AllowedActions(vm.State).Select(EnumNames.ToName).ToArray(),
        };
        if (migrationId is not null)
        {
            extensions["migrationId"] = migrationId;
        }
        return ApiProblem.Conflict(ProblemCode.InvalidState, detail, extensions);
    }

    public static async Task<Results<Ok<ConsoleOutputResponse>, ValidationProblem, ProblemHttpResult>> GetConsole(
        Guid id, VirtApiDbContext db, VmSupervisor supervisor, long? since, string? encoding, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (since is < 0)
        {
            errors["since"] = ["must be 0 or more"];
        }
        if (encoding is not null and not "text" and not "base64")
        {
            errors["encoding"] = ["must be text or base64"];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        if (!await db.Vms.AnyAsync(v => v.Id == id, cancellationToken))
        {
            return ApiProblem.NotFound("VM", id);
        }
        var worker = supervisor.Find(id);
        var chunk = worker?.Console.Read(since ?? 0) ?? new ConsoleChunk(0, 0, [], 0, 0);
        var base64 = encoding == "base64";
        return TypedResults.Ok(new ConsoleOutputResponse(
            base64 ? Convert.ToBase64String(chunk.Bytes) : Encoding.UTF8.GetString(chunk.Bytes),
            base64 ? "base64" : "text",
            chunk.Offset,
            chunk.Next,
            worker?.Status.ConsoleStart ?? 0,
            chunk.Dropped,
            chunk.Missed));
    }

    public static async Task<Results<Ok<ConsoleInputResponse>, ValidationProblem, ProblemHttpResult>> SendConsoleInput(
        Guid id, ConsoleInputRequest request, VirtApiDbContext db, VmSupervisor supervisor, CancellationToken cancellationToken)
    {
        byte[]? bytes = null;
        var errors = new Dictionary<string, string[]>();
        if (request.Input is null)
        {
            errors["input"] = ["is required"];
        }
        else if (request.Encoding is null or "text")
        {
            bytes = Encoding.UTF8.GetBytes(request.Input);
        }
        else if (request.Encoding == "base64")
        {
            try
            {
                bytes = Convert.FromBase64String(request.Input);
            }
            catch (FormatException)
            {
                errors["input"] = ["is not valid base64"];
            }
        }
        else
        {
            errors["encoding"] = ["must be text or base64"];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var vm = await db.Vms.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return ApiProblem.NotFound("VM", id);
        }
        var worker = supervisor.Find(id);
        if (worker is null)
        {
            return StateConflict(vm, "take console input");
        }
        var answer = await worker.SendAsync(new ConsoleInputCommand(bytes!));
        return answer.Accepted
            ? TypedResults.Ok(new ConsoleInputResponse(answer.BytesAccepted))
            : StateConflict(vm.WithStatus(answer.Status), "take console input");
    }

    public static async Task<Results<Ok<VmStatsResponse>, ProblemHttpResult>> GetVmStats(
        Guid id, VirtApiDbContext db, VmSupervisor supervisor, CancellationToken cancellationToken)
    {
        var vm = await db.Vms.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return ApiProblem.NotFound("VM", id);
        }
        return TypedResults.Ok(Stats(vm, supervisor.Find(id)));
    }

    private static VmStatsResponse Stats(VmEntity vm, VmWorker? worker)
    {
        var stats = worker?.Statistics ?? VmStatistics.Empty;
        var state = worker?.Status.State ?? vm.State;
        return new VmStatsResponse(
            vm.Id,
            state,
            stats.InstructionsRetired,
            stats.InstructionsByPrivilege,
            stats.TrapsByCause,
            stats.InterruptsByCause,
            stats.TlbHits,
            stats.TlbMisses,
            stats.PageWalks,
            stats.FramesTouched,
            stats.HostSecondsRunning,
            worker?.Console.Written ?? 0,
            worker?.Console.Dropped ?? 0,
            stats.SilentFailures,
            stats.Vmm is { } vmm ? ToResponse(vmm) : null,
            stats.Devices ?? []);
    }

    private static VmmStatsResponse ToResponse(VmmStatistics vmm) => new(
        vmm.Traps,
        vmm.TrapsByCause,
        vmm.ReflectedTraps,
        vmm.EmulatedInstructions,
        new VmmMemoryStats(
            vmm.HiddenFaults,
            vmm.GuestPageFaults,
            vmm.ShadowFlushes,
            vmm.ShadowInvalidations,
            vmm.GuestPageWalks,
            vmm.GuestWalkReferences,
            vmm.MachineFramesAllocated,
            vmm.ShadowFrames,
            vmm.DirtyLogFaults),
        [.. vmm.Devices.Select(d => new DeviceStatsResponse(d.Name, d.Model, d.Exits, d.Bytes))],
        new VmmCostStats(vmm.GuestCycles, vmm.VmmCycles, vmm.HostSecondsInVmm, vmm.ServiceVmCycles));

    public static async Task<Results<ServerSentEventsResult<object>, ProblemHttpResult>> GetVmEvents(
        Guid id, VirtApiDbContext db, VmSupervisor supervisor, VmEventHub hub, CancellationToken cancellationToken)
    {
        var vm = await db.Vms.AsNoTracking().WithDefinition().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return ApiProblem.NotFound("VM", id);
        }
        return TypedResults.ServerSentEvents(Stream(hub.Subscribe(id), [vm], supervisor, cancellationToken));
    }

    public static async Task<ServerSentEventsResult<object>> GetAllEvents(
        VirtApiDbContext db, VmSupervisor supervisor, VmEventHub hub, CancellationToken cancellationToken)
    {
        var subscription = hub.Subscribe(null);
        var vms = await db.Vms.AsNoTracking().WithDefinition().OrderBy(v => v.Name).ToListAsync(cancellationToken);
        return TypedResults.ServerSentEvents(Stream(subscription, vms, supervisor, cancellationToken));
    }

    /// <summary>
    /// The event stream: each VM's current state first, then state, console and migration events as they happen,
    /// and each running VM's counters every second. The second tick is the API's wall clock, which is
    /// fine here: it decides only how often a client is told, never what a guest sees.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<object>> Stream(
        VmEventHub.Subscription subscription, List<VmEntity> vms, VmSupervisor supervisor, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var _ = subscription;
        var known = vms.ToDictionary(v => v.Id);
        foreach (var vm in vms)
        {
            yield return StateItem(VmsApi.Live(vm, supervisor));
        }
        using var ticker = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var tick = ticker.WaitForNextTickAsync(cancellationToken).AsTask();
        var next = subscription.Events.WaitToReadAsync(cancellationToken).AsTask();
        while (!cancellationToken.IsCancellationRequested)
        {
            Task done;
            try
            {
                done = await Task.WhenAny(tick, next);
                await done;
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            if (done == next)
            {
                if (!next.Result)
                {
                    yield break;
                }
                while (subscription.Events.TryRead(out var vmEvent))
                {
                    switch (vmEvent)
                    {
                        case VmStateChanged changed when known.TryGetValue(changed.VmId, out var vm):
                            yield return StateItem(vm.WithStatus(changed.Status));
                            break;
                        case VmStateChanged changed:
                            yield return new SseItem<object>(new { vmId = changed.VmId, state = EnumNames.ToName(changed.Status.State), reason = changed.Status.Reason, exitCode = changed.Status.ExitCode }, "state");
                            break;
                        case VmConsoleOutput output:
                            yield return new SseItem<object>(new { vmId = output.VmId, offset = output.Offset, output = Encoding.UTF8.GetString(output.Bytes) }, "console");
                            break;
                        case VmMigrationProgress migration:
                            yield return new SseItem<object>(MigrationItem(migration), "migration");
                            break;
                    }
                }
                next = subscription.Events.WaitToReadAsync(cancellationToken).AsTask();
            }
            else
            {
                foreach (var vm in known.Values)
                {
                    if (supervisor.Find(vm.Id) is { Status.State: VmState.Running } worker)
                    {
                        yield return new SseItem<object>(Stats(vm, worker), "stats");
                    }
                }
                tick = ticker.WaitForNextTickAsync(cancellationToken).AsTask();
            }
        }
    }

    /// <summary>A migration's step on the VM's stream: a phase begun, a round done (with its figures), or the end (with the error).</summary>
    private static object MigrationItem(VmMigrationProgress migration) => new
    {
        vmId = migration.VmId,
        migrationId = migration.MigrationId,
        phase = EnumNames.ToName(migration.Phase),
        // The same shape as a round of GET /api/v1/migrations/{id}.
        round = migration.Round is { } r
            ? new MigrationRoundResponse(r.Number, r.PagesSent, r.PagesDirtied, (long)r.GuestInstructions, (long)r.LinkInstructions, r.HostMilliseconds)
            : null,
        error = migration.Error,
    };

    private static SseItem<object> StateItem(VmEntity vm) => new(VmRules.ToResponse(vm), "state");
}
