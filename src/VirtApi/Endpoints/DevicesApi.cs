using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VirtApi.Contracts;
using VirtApi.Devices;
using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;
using VirtApi.Problems;
using VirtApi.Runtime;
using VirtApi.VmMigration;

namespace VirtApi.Endpoints;

/// <summary>A VM's devices (<c>/api/v1/vms/{id}/devices</c>): list, read, attach and detach (DESIGN.md "Device virtualization").</summary>
public static class DevicesApi
{
    public static RouteGroupBuilder MapDevices(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/vms/{id:guid}/devices").WithTags("Devices");

        group.MapGet("/", ListVmDevices)
            .WithName(nameof(ListVmDevices))
            .WithSummary("A VM's devices, by slot")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{deviceId:guid}", GetVmDevice)
            .WithName(nameof(GetVmDevice))
            .WithSummary("One device of a VM")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/", AttachDevice)
            .WithName(nameof(AttachDevice))
            .WithSummary("Attach a device to a VM that is not running")
            .WithDescription("A split device takes the lowest free virtio slot (0-7), an emulated or passthrough one the lowest free legacy slot (0-3); its name follows (virtio-blk0, ata1, uart2 ...). A passthrough device is a free device of the VM's host. Refused with 409 while the VM is running, paused or migrating, when the slots are full or the host device is held; 422 for a kind without a device model (net).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapDelete("/{deviceId:guid}", DetachDevice)
            .WithName(nameof(DetachDevice))
            .WithSummary("Detach a device from a VM that is not running")
            .WithDescription("Frees its slot (no other device moves) and its host device; a VM-private disk's file is deleted. Refused with 409 while the VM is running, paused or migrating.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    public static async Task<Results<Ok<VmDeviceList>, ProblemHttpResult>> ListVmDevices(Guid id, VirtApiDbContext db, CancellationToken cancellationToken)
    {
        if (!await db.Vms.AnyAsync(v => v.Id == id, cancellationToken))
        {
            return ApiProblem.NotFound("VM", id);
        }
        var devices = await db.VmDevices.AsNoTracking().Where(d => d.VmId == id).ToListAsync(cancellationToken);
        return TypedResults.Ok(new VmDeviceList([.. DeviceRules.Ordered(devices).Select(DeviceRules.ToResponse)]));
    }

    public static async Task<Results<Ok<VmDeviceResponse>, ProblemHttpResult>> GetVmDevice(Guid id, Guid deviceId, VirtApiDbContext db, CancellationToken cancellationToken)
    {
        if (!await db.Vms.AnyAsync(v => v.Id == id, cancellationToken))
        {
            return ApiProblem.NotFound("VM", id);
        }
        var device = await db.VmDevices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deviceId && d.VmId == id, cancellationToken);
        return device is null ? DeviceNotFound(id, deviceId) : TypedResults.Ok(DeviceRules.ToResponse(device));
    }

    public static async Task<Results<Created<VmDeviceResponse>, ValidationProblem, ProblemHttpResult>> AttachDevice(
        Guid id, AttachDeviceRequest request, VirtApiDbContext db, VmSupervisor supervisor, MigrationRecorder migrations, TimeProvider time, CancellationToken cancellationToken)
    {
        await SettledAsync(id, db, supervisor, migrations, cancellationToken);
        // One write transaction from the first read: the free slots and host devices seen are still
        // free when the device is stored.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var vm = await db.Vms.WithDefinition().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return ApiProblem.NotFound("VM", id);
        }
        var errors = new Dictionary<string, string[]>();
        DeviceRules.Validate(request, "", errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        if (DeviceRules.KindProblem([request]) is { } kindProblem)
        {
            return kindProblem;
        }
        if (Changeable(vm, supervisor, "attach a device") is { } stateProblem)
        {
            return stateProblem;
        }
        if (await MigrationRules.MigratingAsync(db, vm, "attach a device", cancellationToken) is { } migrating)
        {
            return migrating;
        }
        var now = time.GetUtcNow();
        var plan = await DeviceAssignment.PlanAsync(db, vm.Name, vm.HostId, vm.Devices, [request], _ => "", now, cancellationToken);
        if (plan.Errors is { } fieldErrors)
        {
            return ApiProblem.Validation(fieldErrors);
        }
        if (plan.Problem is { } problem)
        {
            return problem;
        }
        var device = plan.Devices[0];
        // Added explicitly: a new entity with its key set, reached only through a tracked VM, would be taken for an update.
        db.VmDevices.Add(device);
        vm.Devices.Add(device);
        vm.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        if (await ReconfigureAsync(vm, db, supervisor, "attach a device", cancellationToken) is { } refused)
        {
            await transaction.RollbackAsync(cancellationToken);
            return refused;
        }
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/vms/{id}/devices/{device.Id}", DeviceRules.ToResponse(device));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DetachDevice(
        Guid id, Guid deviceId, VirtApiDbContext db, VmSupervisor supervisor, MigrationRecorder migrations, DeviceFiles files, TimeProvider time, CancellationToken cancellationToken)
    {
        await SettledAsync(id, db, supervisor, migrations, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var vm = await db.Vms.WithDefinition().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return ApiProblem.NotFound("VM", id);
        }
        var device = vm.Devices.FirstOrDefault(d => d.Id == deviceId);
        if (device is null)
        {
            return DeviceNotFound(id, deviceId);
        }
        if (Changeable(vm, supervisor, "detach a device") is { } stateProblem)
        {
            return stateProblem;
        }
        if (await MigrationRules.MigratingAsync(db, vm, "detach a device", cancellationToken) is { } migrating)
        {
            return migrating;
        }
        vm.Devices.Remove(device);
        db.VmDevices.Remove(device);
        vm.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        if (await ReconfigureAsync(vm, db, supervisor, "detach a device", cancellationToken) is { } refused)
        {
            await transaction.RollbackAsync(cancellationToken);
            return refused;
        }
        await transaction.CommitAsync(cancellationToken);
        if (device.Kind == DeviceKind.Block && device.Model != DeviceModel.Passthrough)
        {
            files.DeleteVmDisk(id, device.Id);
        }
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Before the write transaction: a VM whose state allows a change may have a cold migration that
    /// has just ended and is being recorded; the device goes with the host the VM ends up on. (A
    /// running, paused or migrating VM is refused in the transaction, without waiting for anything.)
    /// </summary>
    private static async Task SettledAsync(Guid id, VirtApiDbContext db, VmSupervisor supervisor, MigrationRecorder migrations, CancellationToken cancellationToken)
    {
        if (supervisor.Find(id)?.Status.State is not (VmState.Running or VmState.Paused or VmState.Migrating))
        {
            await migrations.SettledAsync(db, id, cancellationToken);
        }
    }

    /// <summary>The 409 when the VM's live state does not allow its devices to change; null when it does.</summary>
    private static ProblemHttpResult? Changeable(VmEntity vm, VmSupervisor supervisor, string what)
    {
        var live = VmsApi.Live(vm, supervisor);
        return live.State is VmState.Running or VmState.Paused or VmState.Migrating ? VmLifecycleApi.StateConflict(live, what) : null;
    }

    /// <summary>
    /// Gives the VM's worker, if it has one, the new definition (as PATCH does); the worker refuses it
    /// if the VM was booted meanwhile, and then the caller rolls back. Null when accepted.
    /// </summary>
    private static async Task<ProblemHttpResult?> ReconfigureAsync(VmEntity vm, VirtApiDbContext db, VmSupervisor supervisor, string what, CancellationToken cancellationToken)
    {
        if (supervisor.Find(vm.Id) is not { } worker)
        {
            return null;
        }
        var image = await db.Images.AsNoTracking().FirstAsync(i => i.Id == vm.ImageId, cancellationToken);
        var answer = await worker.SendAsync(new ReconfigureCommand(supervisor.Spec(vm, image)));
        return answer.Accepted ? null : VmLifecycleApi.StateConflict(vm.WithStatus(answer.Status), what);
    }

    private static ProblemHttpResult DeviceNotFound(Guid vmId, Guid deviceId) =>
        ApiProblem.NotFoundDetail($"VM {vmId} has no device with id '{deviceId}'.");
}
