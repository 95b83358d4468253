using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VirtApi.Contracts;
using VirtApi.Hosts;
using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;
using VirtApi.Problems;
using VirtApi.Runtime;
using VirtApi.VmMigration;

namespace VirtApi.Endpoints;

/// <summary>Migrations (DESIGN.md "Migration"): start, check, list, read and cancel.</summary>
public static class MigrationsApi
{
    /// <summary>4 KiB machine frames per MiB of guest memory: what the target host holds for the guest.</summary>
    private const ulong FramesPerMiB = 256;

    public static IEndpointRouteBuilder MapMigrations(this IEndpointRouteBuilder app)
    {
        var ofVm = app.MapGroup("/api/v1/vms/{id:guid}/migrations").WithTags("Migrations");
        ofVm.MapPost("/", CreateMigration)
            .WithName(nameof(CreateMigration))
            .WithSummary("Migrate a VM to another host")
            .WithDescription("live: the VM must be running; it is migrating during iterative pre-copy and runs on the target after a short stop-and-copy. cold: the VM must not be running; a paused VM's machine moves whole and stays paused (reason migrated), one without a machine moves its definition. The target is charged the VM's memory at once; on completion the source's charge is released and the VM's hostId changes, on failure or cancel the VM goes on on the source as it was. Answers 202 with the migration to poll (a cold one has ended by then). Refused with 409 for a passthrough device, the VM's own host, a target without room, or a state the mode does not allow (GET .../migrations/check lists every reason at once).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        ofVm.MapGet("/", ListVmMigrations)
            .WithName(nameof(ListVmMigrations))
            .WithSummary("A VM's migrations, oldest first")
            .ProducesProblem(StatusCodes.Status404NotFound);
        ofVm.MapGet("/check", CheckMigration)
            .WithName(nameof(CheckMigration))
            .WithSummary("Whether a VM can be migrated to a host now, with every reason it cannot")
            .WithDescription("targetHostId is required; mode is live (default) or cold. Each blocker carries the problem code POST would answer with.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        var migrations = app.MapGroup("/api/v1/migrations").WithTags("Migrations");
        migrations.MapGet("/", ListMigrations)
            .WithName(nameof(ListMigrations))
            .WithSummary("Every migration, oldest first");
        migrations.MapGet("/{id:guid}", GetMigration)
            .WithName(nameof(GetMigration))
            .WithSummary("Get a migration: its phase, rounds, pages sent and downtime")
            .ProducesProblem(StatusCodes.Status404NotFound);
        migrations.MapDelete("/{id:guid}", CancelMigration)
            .WithName(nameof(CancelMigration))
            .WithSummary("Cancel a migration in pre-copy")
            .WithDescription("The VM goes on running on the source and the target's charge is released; answers the cancelled migration. Refused with 409 once the migration is in stop-and-copy or over.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    public static async Task<Results<Accepted<MigrationResponse>, ValidationProblem, ProblemHttpResult>> CreateMigration(
        Guid id,
        CreateMigrationRequest request,
        VirtApiDbContext db,
        VmSupervisor supervisor,
        MigrationRecorder recorder,
        IOptions<MigrationOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = MigrationRules.Validate(request);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        // One write transaction from the first read: the VM's host and memory, the target's room and
        // the migrations under way are what they were when the reservation and its row commit, so a
        // PATCH, a device change or another migration cannot slip between the checks and the charge.
        var mode = request.Mode!.Value;
        VmEntity? vm;
        HostEntity? target;
        MigrationEntity migration;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            vm = await db.Vms.AsNoTracking().WithDefinition().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
            if (vm is null)
            {
                return ApiProblem.NotFound("VM", id);
            }
            target = await db.Hosts.AsNoTracking().FirstOrDefaultAsync(h => h.Id == request.TargetHostId, cancellationToken);
            if (target is null)
            {
                return MigrationRules.UnknownTarget(request.TargetHostId!.Value);
            }
            var live = VmsApi.Live(vm, supervisor);
            if (await MigrationRules.BlockersAsync(db, live, target, mode, cancellationToken) is { Count: > 0 } blockers)
            {
                return await MigrationRules.ProblemAsync(db, live, target, blockers, cancellationToken);
            }
            if (await HostPlacement.ChargeAsync(db, target.Id, vm.MemoryMiB, cancellationToken) is null)
            {
                return await HostPlacement.CapacityProblemAsync(db, target.Id, vm.MemoryMiB, cancellationToken);
            }
            var now = time.GetUtcNow();
            migration = new MigrationEntity
            {
                Id = Guid.CreateVersion7(now),
                VmId = vm.Id,
                SourceHostId = vm.HostId,
                TargetHostId = target.Id,
                Mode = mode,
                Phase = mode == MigrationMode.Live ? MigrationPhase.PreCopy : MigrationPhase.StopAndCopy,
                MaxRounds = request.MaxRounds ?? options.Value.DefaultMaxRounds,
                StopCopyPages = request.StopCopyPages ?? options.Value.DefaultStopCopyPages,
                MemoryMiB = vm.MemoryMiB,
                CreatedAt = now,
            };
            db.Migrations.Add(migration);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        // The reservation is made: from here the request's cancellation is not heeded until the worker
        // has the migration (or refused it and the reservation is undone), or nothing would answer for it.
        var image = await db.Images.AsNoTracking().FirstAsync(i => i.Id == vm.ImageId, CancellationToken.None);
        var worker = supervisor.Worker(vm, image);
        recorder.Track(migration.Id);
        var plan = new MigrationPlan(
            migration.Id,
            mode,
            supervisor.Spec(vm, image) with { HostType = target.HypervisorType },
            migration.MaxRounds,
            migration.StopCopyPages,
            (ulong)vm.MemoryMiB * FramesPerMiB,
            options.Value.Link);
        var answer = await worker.SendAsync(new MigrateCommand(plan, recorder));
        if (!answer.Accepted)
        {
            recorder.Forget(migration.Id);
            await UndoAsync(db, migration, CancellationToken.None);
            return answer.Refusal is { } refusal
                ? VmLifecycleApi.InvalidState(vm.WithStatus(answer.Status), $"VM '{vm.Name}' cannot be migrated {EnumNames.ToName(mode)}: {refusal}.")
                : ApiProblem.NotFound("VM", id); // the worker retired: the VM was deleted meanwhile
        }
        if (mode == MigrationMode.Cold)
        {
            // A cold migration is done when the worker answers; its end is in the database a moment later.
            await recorder.WhenEnded(migration.Id).WaitAsync(cancellationToken);
        }
        var started = await db.Migrations.AsNoTracking().Include(m => m.Rounds).FirstOrDefaultAsync(m => m.Id == migration.Id, cancellationToken);
        if (started is null)
        {
            // The VM was deleted after the reservation was made, taking the row (and the reservation)
            // with it; a worker this request made for it afterwards goes too.
            await supervisor.RetireAsync(id);
            return ApiProblem.NotFound("VM", id);
        }
        return TypedResults.Accepted($"/api/v1/migrations/{migration.Id}", MigrationRules.ToResponse(started));
    }

    /// <summary>
    /// A migration the worker refused never started: its row goes, and with it the target's
    /// reservation. Whoever removes a row under way releases the reservation (a deleted VM takes its
    /// rows with it and releases them itself), so it is released once.
    /// </summary>
    private static async Task UndoAsync(VirtApiDbContext db, MigrationEntity migration, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await db.Migrations.UnderWay().Where(m => m.Id == migration.Id).ExecuteDeleteAsync(cancellationToken) == 1)
        {
            await HostPlacement.ReleaseAsync(db, migration.TargetHostId, migration.MemoryMiB, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public static async Task<Results<Ok<MigrationList>, ProblemHttpResult>> ListVmMigrations(Guid id, VirtApiDbContext db, CancellationToken cancellationToken)
    {
        if (!await db.Vms.AnyAsync(v => v.Id == id, cancellationToken))
        {
            return ApiProblem.NotFound("VM", id);
        }
        var items = await db.Migrations.AsNoTracking().Include(m => m.Rounds).Where(m => m.VmId == id).OrderBy(m => m.CreatedAt).ToListAsync(cancellationToken);
        return TypedResults.Ok(new MigrationList([.. items.Select(MigrationRules.ToResponse)]));
    }

    public static async Task<Results<Ok<MigrationCheckResponse>, ValidationProblem, ProblemHttpResult>> CheckMigration(
        Guid id, Guid? targetHostId, string? mode, VirtApiDbContext db, VmSupervisor supervisor, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (targetHostId is null)
        {
            errors["targetHostId"] = ["is required: the id of the host to move the VM to"];
        }
        var migrationMode = MigrationMode.Live;
        if (mode is not null && !EnumNames.TryParse(mode, out migrationMode))
        {
            errors["mode"] = [$"must be one of {string.Join(", ", EnumNames.All<MigrationMode>())}"];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var vm = await db.Vms.AsNoTracking().WithDefinition().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return ApiProblem.NotFound("VM", id);
        }
        var target = await db.Hosts.AsNoTracking().FirstOrDefaultAsync(h => h.Id == targetHostId, cancellationToken);
        if (target is null)
        {
            return MigrationRules.UnknownTarget(targetHostId!.Value);
        }
        var blockers = await MigrationRules.BlockersAsync(db, VmsApi.Live(vm, supervisor), target, migrationMode, cancellationToken);
        return TypedResults.Ok(new MigrationCheckResponse(vm.Id, target.Id, migrationMode, blockers.Count == 0, blockers));
    }

    public static async Task<Ok<MigrationList>> ListMigrations(VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var items = await db.Migrations.AsNoTracking().Include(m => m.Rounds).OrderBy(m => m.CreatedAt).ToListAsync(cancellationToken);
        return TypedResults.Ok(new MigrationList([.. items.Select(MigrationRules.ToResponse)]));
    }

    public static async Task<Results<Ok<MigrationResponse>, ProblemHttpResult>> GetMigration(Guid id, VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var migration = await db.Migrations.AsNoTracking().Include(m => m.Rounds).FirstOrDefaultAsync(m => m.Id == id, cancellationToken);
        return migration is null ? ApiProblem.NotFound("Migration", id) : TypedResults.Ok(MigrationRules.ToResponse(migration));
    }

    public static async Task<Results<Ok<MigrationResponse>, ProblemHttpResult>> CancelMigration(
        Guid id, VirtApiDbContext db, VmSupervisor supervisor, MigrationRecorder recorder, CancellationToken cancellationToken)
    {
        var migration = await db.Migrations.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, cancellationToken);
        if (migration is null)
        {
            return ApiProblem.NotFound("Migration", id);
        }
        if (migration.Phase != MigrationPhase.PreCopy || supervisor.Find(migration.VmId) is not { } worker)
        {
            return MigrationRules.NotCancellable(migration);
        }
        // Accepted only while the worker is in this migration's pre-copy; either way the migration has
        // ended in the worker when it answers (cancelled, or completed or failed just before).
        var answer = await worker.SendAsync(new CancelMigrationCommand(id));
        await recorder.WhenEnded(id).WaitAsync(cancellationToken);
        var ended = await db.Migrations.AsNoTracking().Include(m => m.Rounds).FirstOrDefaultAsync(m => m.Id == id, cancellationToken);
        if (ended is null)
        {
            return ApiProblem.NotFound("Migration", id); // its VM was deleted meanwhile
        }
        return answer.Accepted ? TypedResults.Ok(MigrationRules.ToResponse(ended)) : MigrationRules.NotCancellable(ended);
    }
}
