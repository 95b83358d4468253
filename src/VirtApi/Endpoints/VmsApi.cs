using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VirtApi.Contracts;
using VirtApi.Devices;
using VirtApi.Hosts;
using VirtApi.Hypervisor.Vm;
using VirtApi.Images;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;
using VirtApi.Problems;
using VirtApi.Runtime;
using VirtApi.Snapshots;
using VirtApi.VmMigration;
using VirtApi.Vms;

namespace VirtApi.Endpoints;

/// <summary>VM definitions (<c>/api/v1/vms</c>): create, list, read, change and delete.</summary>
public static class VmsApi
{
    public const int MaxPageSize = 500;

    public static RouteGroupBuilder MapVms(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/vms").WithTags("Vms");

        group.MapPost("/", CreateVm)
            .WithName(nameof(CreateVm))
            .WithSummary("Define a VM")
            .WithDescription("Validates the image, vCPUs, memory, modes, name and devices, places the VM on the named host (or the host of its passthrough devices, or the least-loaded one) and charges its memory there. Devices are all attached or none: one invalid device refuses the VM.")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapGet("/", ListVms)
            .WithName(nameof(ListVms))
            .WithSummary("List VMs")
            .WithDescription("VMs by name, filtered by state and host, a page at a time (offset, limit up to 500).");
        group.MapGet("/{id:guid}", GetVm)
            .WithName(nameof(GetVm))
            .WithSummary("Get a VM")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPatch("/{id:guid}", UpdateVm)
            .WithName(nameof(UpdateVm))
            .WithSummary("Change a VM that is not running")
            .WithDescription("Name, vCPUs, memory, modes and budget; refused with 409 while the VM is running, paused or migrating.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapDelete("/{id:guid}", DeleteVm)
            .WithName(nameof(DeleteVm))
            .WithSummary("Delete a VM")
            .WithDescription("Stops it first if it runs, then frees its host memory and its passthrough devices and deletes its private disks.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public static async Task<Results<Created<VmResponse>, ValidationProblem, ProblemHttpResult>> CreateVm(
        CreateVmRequest request, VirtApiDbContext db, VmSupervisor supervisor, SnapshotStore store, DeviceFiles files, TimeProvider time, CancellationToken cancellationToken)
    {
        if (request.FromSnapshotId is not null)
        {
            return await CloneVmAsync(request, db, supervisor, store, files, time, cancellationToken);
        }
        var errors = VmRules.Validate(request.Name, request.Vcpus, request.MemoryMiB, request.InstructionBudget, nameRequired: true);
        if (request.ImageId is null)
        {
            errors["imageId"] = ["is required"];
        }
        var devices = request.Devices ?? [];
        for (var i = 0; i < devices.Count; i++)
        {
            DeviceRules.Validate(devices[i], $"devices[{i}].", errors);
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == request.ImageId, cancellationToken);
        if (image is null)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["imageId"] = [$"no image has id '{request.ImageId}'"] });
        }
        var (cpuMode, profile, memoryMode) = VmRules.Modes(request.Cpu, request.Memory);
        if (ModeProblem(cpuMode, profile, memoryMode) is { } modeProblem)
        {
            return modeProblem;
        }
        if (DeviceRules.KindProblem(devices) is { } kindProblem)
        {
            return kindProblem;
        }
        var required = VmRules.RequiredMemoryMiB(ImageRules.LoadEnd(image));
        var memory = request.MemoryMiB ?? Math.Max(VmRules.DefaultMemoryMiB, required);
        if (memory < required)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["memoryMiB"] = [$"must be at least {required} to hold image '{image.Name}'"] });
        }
        var plan = await DeviceAssignment.PlanAsync(db, request.Name!, request.HostId, [], devices, i => $"devices[{i}].", time.GetUtcNow(), cancellationToken);
        if (plan.Errors is { } deviceErrors)
        {
            return ApiProblem.Validation(deviceErrors);
        }
        if (plan.Problem is { } deviceProblem)
        {
            return deviceProblem;
        }
        var vm = new VmEntity
        {
            Name = request.Name!,
            ImageId = image.Id,
            Vcpus = request.Vcpus ?? 1,
            MemoryMiB = memory,
            CpuMode = cpuMode,
            CpuProfile = profile,
            MemoryMode = memoryMode,
            InstructionBudget = request.InstructionBudget is > 0 ? request.InstructionBudget : null,
            Devices = plan.Devices,
        };
        var created = await InsertAsync(db, vm, plan.HostId, time, cancellationToken);
        return created ?? TypedResults.Created($"/api/v1/vms/{vm.Id}", VmRules.ToResponse(vm));
    }

    /// <summary>
    /// A new VM from a snapshot: its definition, placed on the named or least-loaded host with room,
    /// and its machine restored. The snapshot is read back and checked before anything is created;
    /// if the machine cannot be restored after all, the new VM is removed again.
    /// </summary>
    private static async Task<Results<Created<VmResponse>, ValidationProblem, ProblemHttpResult>> CloneVmAsync(
        CreateVmRequest request, VirtApiDbContext db, VmSupervisor supervisor, SnapshotStore store, DeviceFiles files, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = VmRules.Validate(request.Name, null, null, null, nameRequired: true);
        foreach (var (field, given) in new (string, bool)[]
        {
            ("imageId", request.ImageId is not null), ("vcpus", request.Vcpus is not null), ("memoryMiB", request.MemoryMiB is not null),
            ("cpu", request.Cpu is not null), ("memory", request.Memory is not null), ("instructionBudget", request.InstructionBudget is not null),
            ("devices", request.Devices is not null),
        })
        {
            if (given)
            {
                errors[field] = ["must be left out when cloning: the clone gets the snapshot's definition"];
            }
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var snapshot = await db.Snapshots.AsNoTracking().FirstOrDefaultAsync(s => s.Id == request.FromSnapshotId, cancellationToken);
        if (snapshot is null)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["fromSnapshotId"] = [$"no snapshot has id '{request.FromSnapshotId}'"] });
        }
        var loaded = await store.LoadAsync(db, snapshot, cancellationToken);
        if (loaded.Damage is { } damage)
        {
            return SnapshotRules.Damaged(damage);
        }
        var vm = new VmEntity
        {
            Name = request.Name!,
            ImageId = snapshot.ImageId,
            Vcpus = snapshot.Vcpus,
            MemoryMiB = snapshot.MemoryMiB,
            CpuMode = snapshot.CpuMode,
            CpuProfile = snapshot.CpuProfile,
            MemoryMode = snapshot.MemoryMode,
            InstructionBudget = snapshot.InstructionBudget,
            // The same devices in the same slots, each block device with a new, empty disk: disk
            // contents are not part of a snapshot (docs/decisions.md 15).
            Devices = DeviceRules.FromSnapshot(snapshot.Devices, time.GetUtcNow()),
        };
        if (await InsertAsync(db, vm, request.HostId, time, cancellationToken) is { } problem)
        {
            return problem;
        }
        db.ChangeTracker.Clear();
        vm = await db.Vms.AsNoTracking().WithDefinition().FirstAsync(v => v.Id == vm.Id, cancellationToken);
        var image = await db.Images.AsNoTracking().FirstAsync(i => i.Id == vm.ImageId, cancellationToken);
        var answer = await supervisor.Worker(vm, image).SendAsync(new RestoreCommand(snapshot.Id, loaded.State, loaded.Pages));
        if (!answer.Accepted)
        {
            await RemoveAsync(db, supervisor, files, vm.Id, cancellationToken);
            return SnapshotRules.Damaged(new SnapshotDamage(snapshot.Id, null, null, answer.Refusal ?? "the snapshot's machine could not be restored"));
        }
        return TypedResults.Created($"/api/v1/vms/{vm.Id}", VmRules.ToResponse(vm.WithStatus(answer.Status)));
    }

    /// <summary>
    /// Stores a new VM (name, definition and devices set) on the named or least-loaded host with room,
    /// charging its memory there in the same transaction. Null on success; otherwise the problem, and nothing stored.
    /// </summary>
    private static async Task<Results<Created<VmResponse>, ValidationProblem, ProblemHttpResult>?> InsertAsync(
        VirtApiDbContext db, VmEntity vm, Guid? requestedHost, TimeProvider time, CancellationToken cancellationToken)
    {
        if (requestedHost is { } namedHost && !await db.Hosts.AnyAsync(h => h.Id == namedHost, cancellationToken))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["hostId"] = [$"no host has id '{namedHost}'"] });
        }
        if (await db.Vms.AnyAsync(v => v.Name == vm.Name, cancellationToken))
        {
            return NameTaken(vm.Name);
        }
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The devices were planned before the transaction; a host device taken since is refused here.
        if (await DeviceAssignment.HolderProblemAsync(db, vm.Devices.Select(d => d.HostDevice).OfType<HostDeviceEntity>(), cancellationToken) is { } held)
        {
            await transaction.RollbackAsync(cancellationToken);
            return held;
        }
        var hostId = await HostPlacement.ChargeAsync(db, requestedHost, vm.MemoryMiB, cancellationToken);
        if (hostId is null)
        {
            await transaction.RollbackAsync(cancellationToken);
            return await HostPlacement.CapacityProblemAsync(db, requestedHost, vm.MemoryMiB, cancellationToken);
        }
        var now = time.GetUtcNow();
        vm.Id = Guid.CreateVersion7(now);
        vm.HostId = hostId.Value;
        vm.State = VmState.Created;
        vm.CreatedAt = now;
        vm.UpdatedAt = now;
        db.Vms.Add(vm);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The unique name index caught a concurrent create; the host charge rolls back with it.
            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            if (await db.Vms.AnyAsync(v => v.Name == vm.Name, cancellationToken))
            {
                return NameTaken(vm.Name);
            }
            throw;
        }
        return null;
    }

    public static async Task<Results<Ok<VmPage>, ValidationProblem>> ListVms(
        VirtApiDbContext db, VmSupervisor supervisor, string? state, Guid? hostId, int? offset, int? limit, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        VmState? stateFilter = null;
        if (state is not null)
        {
            if (EnumNames.TryParse<VmState>(state, out var parsed))
            {
                stateFilter = parsed;
            }
            else
            {
                errors["state"] = [$"must be one of {string.Join(", ", EnumNames.All<VmState>())}"];
            }
        }
        if (offset is < 0)
        {
            errors["offset"] = ["must be 0 or more"];
        }
        if (limit is < 1 or > MaxPageSize)
        {
            errors["limit"] = [$"must be between 1 and {MaxPageSize}"];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var query = db.Vms.AsNoTracking().WithDefinition();
        if (hostId is not null)
        {
            query = query.Where(v => v.HostId == hostId);
        }
        // The live state is the worker's; the stored one can lag it by a moment, so filter after merging.
        var all = (await query.OrderBy(v => v.Name).ToListAsync(cancellationToken)).Select(v => Live(v, supervisor)).ToList();
        var matching = stateFilter is null ? all : all.Where(v => v.State == stateFilter).ToList();
        var skip = offset ?? 0;
        var take = limit ?? 50;
        return TypedResults.Ok(new VmPage(matching.Skip(skip).Take(take).Select(VmRules.ToResponse).ToList(), matching.Count, skip, take));
    }

    public static async Task<Results<Ok<VmResponse>, ProblemHttpResult>> GetVm(Guid id, VirtApiDbContext db, VmSupervisor supervisor, CancellationToken cancellationToken)
    {
        var vm = await db.Vms.AsNoTracking().WithDefinition().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        return vm is null ? ApiProblem.NotFound("VM", id) : TypedResults.Ok(VmRules.ToResponse(Live(vm, supervisor)));
    }

    public static async Task<Results<Ok<VmResponse>, ValidationProblem, ProblemHttpResult>> UpdateVm(
        Guid id, UpdateVmRequest request, VirtApiDbContext db, VmSupervisor supervisor, MigrationRecorder migrations, TimeProvider time, CancellationToken cancellationToken)
    {
        var vm = await db.Vms.WithDefinition().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return ApiProblem.NotFound("VM", id);
        }
        var errors = VmRules.Validate(request.Name, request.Vcpus, request.MemoryMiB, request.InstructionBudget, nameRequired: false);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var live = Live(vm, supervisor);
        if (live.State is VmState.Running or VmState.Paused or VmState.Migrating)
        {
            return VmLifecycleApi.StateConflict(live, "change its definition");
        }
        // A cold migration that has just ended moves the VM's charge when it is recorded; a memory
        // change is charged to the host the VM ends up on.
        await migrations.SettledAsync(db, id, cancellationToken);
        var (cpuMode, profile, memoryMode) = VmRules.Modes(request.Cpu, request.Memory, vm);
        if (ModeProblem(cpuMode, profile, memoryMode) is { } modeProblem)
        {
            return modeProblem;
        }
        var image = await db.Images.AsNoTracking().FirstAsync(i => i.Id == vm.ImageId, cancellationToken);
        var memory = request.MemoryMiB ?? vm.MemoryMiB;
        var required = VmRules.RequiredMemoryMiB(ImageRules.LoadEnd(image));
        if (memory < required)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["memoryMiB"] = [$"must be at least {required} to hold image '{image.Name}'"] });
        }
        if (request.Name is not null && request.Name != vm.Name && await db.Vms.AnyAsync(v => v.Name == request.Name, cancellationToken))
        {
            return NameTaken(request.Name);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Read again under the write lock: a migration may have moved the VM since the first read, or
        // be starting (its reservation made, the worker not yet asked), which a change must wait out.
        await db.Entry(vm).ReloadAsync(cancellationToken);
        if (db.Entry(vm).State == EntityState.Detached)
        {
            return ApiProblem.NotFound("VM", id); // deleted meanwhile
        }
        if (await MigrationRules.MigratingAsync(db, live, "change its definition", cancellationToken) is { } migrating)
        {
            return migrating;
        }
        if (memory != vm.MemoryMiB && !await HostPlacement.RechargeAsync(db, vm.HostId, memory - vm.MemoryMiB, cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            return await HostPlacement.CapacityProblemAsync(db, vm.HostId, memory - vm.MemoryMiB, cancellationToken);
        }
        vm.Name = request.Name ?? vm.Name;
        vm.Vcpus = request.Vcpus ?? vm.Vcpus;
        vm.MemoryMiB = memory;
        vm.CpuMode = cpuMode;
        vm.CpuProfile = profile;
        vm.MemoryMode = memoryMode;
        if (request.InstructionBudget is { } budget)
        {
            vm.InstructionBudget = budget > 0 ? budget : null;
        }
        vm.UpdatedAt = time.GetUtcNow();
        if (supervisor.Find(id) is { } worker)
        {
            var answer = await worker.SendAsync(new ReconfigureCommand(supervisor.Spec(vm, image)));
            if (!answer.Accepted)
            {
                await transaction.RollbackAsync(cancellationToken);
                return VmLifecycleApi.StateConflict(vm.WithStatus(answer.Status), "change its definition");
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(VmRules.ToResponse(Live(vm, supervisor)));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteVm(
        Guid id, VirtApiDbContext db, VmSupervisor supervisor, MigrationRecorder migrations, DeviceFiles files, CancellationToken cancellationToken)
    {
        var vm = await db.Vms.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return ApiProblem.NotFound("VM", id);
        }
        // Stopping the VM first ends any migration of it: one under way is cancelled by the worker (the
        // target's frames dropped). Its end, like one the worker reached a moment ago, moves or releases
        // a host charge when it is recorded; the delete waits for that, then releases the charge of the
        // host the VM ended up on.
        await supervisor.RetireAsync(id);
        await migrations.SettledAsync(db, id, cancellationToken);
        await RemoveAsync(db, supervisor, files, id, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Stops and retires the VM's worker, frees its host memory, deletes it with its devices (which
    /// frees its passthrough devices) and its migrations, and then its private disks' files (its
    /// snapshots stay).
    /// </summary>
    private static async Task RemoveAsync(VirtApiDbContext db, VmSupervisor supervisor, DeviceFiles files, Guid id, CancellationToken cancellationToken)
    {
        await supervisor.RetireAsync(id);
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            var vm = await db.Vms.FirstAsync(v => v.Id == id, cancellationToken);
            await HostPlacement.ReleaseAsync(db, vm.HostId, vm.MemoryMiB, cancellationToken);
            // A migration still under way here (one that raced the delete) goes with the VM: its
            // target's reservation is released with it, as the recorder would have on its end.
            foreach (var migration in await db.Migrations.AsNoTracking().UnderWay().Where(m => m.VmId == id).ToListAsync(cancellationToken))
            {
                await HostPlacement.ReleaseAsync(db, migration.TargetHostId, migration.MemoryMiB, cancellationToken);
            }
            db.Vms.Remove(vm);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        files.DeleteVmDisks(id);
    }

    /// <summary>The stored VM with the live status of its worker, when it has one.</summary>
    internal static VmEntity Live(VmEntity vm, VmSupervisor supervisor)
    {
        if (supervisor.Find(vm.Id) is not { } worker)
        {
            return vm;
        }
        return vm.WithStatus(worker.Status);
    }

    private static ProblemHttpResult? ModeProblem(Hypervisor.Techniques.CpuMode cpu, Hypervisor.Techniques.CpuProfile profile, Hypervisor.Techniques.MemoryMode memory) =>
        VmRules.CheckModes(cpu, profile, memory) is { } problem
            ? ApiProblem.Unprocessable(
                problem.Code,
                problem.Detail,
                new Dictionary<string, object?> { [problem.Code == ProblemCode.ModeUnavailable ? "unavailable" : "validCombinations"] = problem.Extension })
            : null;

    private static ProblemHttpResult NameTaken(string name) =>
        ApiProblem.Conflict(ProblemCode.VmNameTaken, $"A VM named '{name}' already exists.", new Dictionary<string, object?> { ["name"] = name });
}
