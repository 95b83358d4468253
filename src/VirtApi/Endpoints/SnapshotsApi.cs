using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VirtApi.Contracts;
using VirtApi.Devices;
using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;
using VirtApi.Problems;
using VirtApi.Runtime;
using VirtApi.Snapshots;
using VirtApi.Vms;

namespace VirtApi.Endpoints;

/// <summary>Snapshots (DESIGN.md "Snapshots"): take, list, read, delete, restore, export and import.</summary>
public static class SnapshotsApi
{
    public static IEndpointRouteBuilder MapSnapshots(this IEndpointRouteBuilder app)
    {
        var ofVm = app.MapGroup("/api/v1/vms/{id:guid}/snapshots").WithTags("Snapshots");
        ofVm.MapPost("/", CreateSnapshot)
            .WithName(nameof(CreateSnapshot))
            .WithSummary("Take a snapshot of a VM")
            .WithDescription("A running VM is captured at an instruction boundary and runs on; a paused one as it is; one without a machine (created, stopped, crashed) gives a snapshot of its definition only. A diff holds the pages written since the VM's last snapshot (its parent). The definition includes the device list (not disk contents); a VM with a passthrough device, or one that is migrating, cannot be snapshotted (409).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        ofVm.MapGet("/", ListVmSnapshots)
            .WithName(nameof(ListVmSnapshots))
            .WithSummary("A VM's snapshots, oldest first")
            .ProducesProblem(StatusCodes.Status404NotFound);

        var snapshots = app.MapGroup("/api/v1/snapshots").WithTags("Snapshots");
        snapshots.MapGet("/", ListSnapshots)
            .WithName(nameof(ListSnapshots))
            .WithSummary("Every snapshot, oldest first (also those of deleted VMs, and imported ones)");
        snapshots.MapGet("/{id:guid}", GetSnapshot)
            .WithName(nameof(GetSnapshot))
            .WithSummary("Get a snapshot")
            .ProducesProblem(StatusCodes.Status404NotFound);
        snapshots.MapDelete("/{id:guid}", DeleteSnapshot)
            .WithName(nameof(DeleteSnapshot))
            .WithSummary("Delete a snapshot and the pages nothing else references")
            .WithDescription("Refused with 409 naming the diffs that depend on it.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        snapshots.MapPost("/{id:guid}/restore", RestoreSnapshot)
            .WithName(nameof(RestoreSnapshot))
            .WithSummary("Restore a snapshot into its VM")
            .WithDescription("The VM must not be running or migrating and must have the definition (devices included) the snapshot was taken under. Every page is checked against its hash first; a damaged one answers 422 and nothing changes. The VM is then paused at the saved point (stopped, for a snapshot without a machine).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        snapshots.MapGet("/{id:guid}/export", ExportSnapshot)
            .WithName(nameof(ExportSnapshot))
            .WithSummary("The snapshot and its whole chain as one versioned file")
            .Produces(StatusCodes.Status200OK, contentType: SnapshotArchive.ContentType)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        snapshots.MapPost("/import", ImportSnapshot)
            .WithName(nameof(ImportSnapshot))
            .WithSummary("Import an exported snapshot file (application/octet-stream)")
            .WithDescription("Every snapshot of the file's chain is added with a new id; its image is matched by content or added. Clone the returned snapshot with POST /api/v1/vms {fromSnapshotId}.")
            .Accepts<byte[]>(SnapshotArchive.ContentType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return app;
    }

    public static async Task<Results<Created<SnapshotResponse>, ValidationProblem, ProblemHttpResult>> CreateSnapshot(
        Guid id, CreateSnapshotRequest request, VirtApiDbContext db, VmSupervisor supervisor, SnapshotStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (SnapshotRules.CheckName(request.Name) is { } nameError)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["name"] = [nameError] });
        }
        var vm = await db.Vms.AsNoTracking().WithDefinition().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return ApiProblem.NotFound("VM", id);
        }
        if (DeviceRules.Blockers(vm.Devices) is { Count: > 0 } blockers)
        {
            return DeviceRules.Blocked(vm, blockers, "be snapshotted");
        }
        var image = await db.Images.AsNoTracking().FirstAsync(i => i.Id == vm.ImageId, cancellationToken);
        var worker = supervisor.Worker(vm, image);
        var kind = request.Kind ?? SnapshotKind.Full;
        var now = time.GetUtcNow();
        var snapshotId = Guid.CreateVersion7(now);
        var answer = await worker.SendAsync(new CaptureCommand(snapshotId, kind == SnapshotKind.Full ? SnapshotScope.Full : SnapshotScope.Diff));
        if (!answer.Accepted || answer.Capture is not { } capture)
        {
            if (answer.Status.State == VmState.Migrating)
            {
                return VmLifecycleApi.StateConflict(vm.WithStatus(answer.Status), "be snapshotted");
            }
            return answer.Refusal is { } refusal
                ? ApiProblem.Conflict(ProblemCode.SnapshotNoParent, $"Cannot take a diff of VM '{vm.Name}': {refusal}.")
                : ApiProblem.NotFound("VM", id); // the worker retired: the VM was deleted meanwhile
        }

        var snapshot = SnapshotRules.From(vm, snapshotId, request.Name!, kind, now);
        snapshot.ParentId = capture.Parent;
        snapshot.VmState = capture.State;
        snapshot.InstructionsRetired = (long)(capture.Machine?.State.Board.InstructionsRetired ?? answer.Status.InstructionsRetired);
        bool stored;
        try
        {
            stored = await store.SaveAsync(db, snapshot, capture.Machine, cancellationToken);
        }
        catch
        {
            // Nothing was stored, so the dirty log the capture started matches no snapshot.
            await worker.SendAsync(new CaptureAbandonedCommand(snapshotId));
            throw;
        }
        if (!stored)
        {
            await worker.SendAsync(new CaptureAbandonedCommand(snapshotId));
            return ApiProblem.Conflict(ProblemCode.SnapshotNoParent, $"Cannot take a diff of VM '{vm.Name}': its parent snapshot {capture.Parent} was deleted; take a full snapshot.");
        }
        return TypedResults.Created($"/api/v1/snapshots/{snapshot.Id}", SnapshotRules.ToResponse(snapshot));
    }

    public static async Task<Results<Ok<SnapshotList>, ProblemHttpResult>> ListVmSnapshots(Guid id, VirtApiDbContext db, CancellationToken cancellationToken)
    {
        if (!await db.Vms.AnyAsync(v => v.Id == id, cancellationToken))
        {
            return ApiProblem.NotFound("VM", id);
        }
        var items = await db.Snapshots.AsNoTracking().Where(s => s.VmId == id).OrderBy(s => s.CreatedAt).ToListAsync(cancellationToken);
        return TypedResults.Ok(new SnapshotList([.. items.Select(SnapshotRules.ToResponse)]));
    }

    public static async Task<Ok<SnapshotList>> ListSnapshots(VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var items = await db.Snapshots.AsNoTracking().OrderBy(s => s.CreatedAt).ToListAsync(cancellationToken);
        return TypedResults.Ok(new SnapshotList([.. items.Select(SnapshotRules.ToResponse)]));
    }

    public static async Task<Results<Ok<SnapshotResponse>, ProblemHttpResult>> GetSnapshot(Guid id, VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var snapshot = await db.Snapshots.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
        return snapshot is null ? ApiProblem.NotFound("Snapshot", id) : TypedResults.Ok(SnapshotRules.ToResponse(snapshot));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteSnapshot(Guid id, VirtApiDbContext db, SnapshotStore store, CancellationToken cancellationToken)
    {
        var snapshot = await db.Snapshots.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (snapshot is null)
        {
            return ApiProblem.NotFound("Snapshot", id);
        }
        var (dependants, _) = await store.DeleteAsync(db, id, cancellationToken);
        if (dependants.Count > 0)
        {
            return ApiProblem.Conflict(
                ProblemCode.SnapshotHasDependants,
                $"Snapshot '{snapshot.Name}' is the parent of {dependants.Count} diff(s): {string.Join(", ", dependants.Select(d => $"'{d.Name}' ({d.Id})"))}; delete them first.",
                new Dictionary<string, object?> { ["dependants"] = dependants.Select(d => new { d.Id, d.Name }).ToArray() });
        }
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<VmResponse>, ProblemHttpResult>> RestoreSnapshot(
        Guid id, VirtApiDbContext db, VmSupervisor supervisor, SnapshotStore store, CancellationToken cancellationToken)
    {
        var snapshot = await db.Snapshots.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (snapshot is null)
        {
            return ApiProblem.NotFound("Snapshot", id);
        }
        var vm = await db.Vms.AsNoTracking().WithDefinition().FirstOrDefaultAsync(v => v.Id == snapshot.VmId, cancellationToken);
        if (vm is null)
        {
            return ApiProblem.Conflict(
                ProblemCode.SnapshotVmMissing,
                $"Snapshot '{snapshot.Name}' was taken of VM '{snapshot.VmName}' ({snapshot.VmId}), which no longer exists; clone it into a new VM with POST /api/v1/vms {{\"fromSnapshotId\": \"{snapshot.Id}\"}}.");
        }
        if (SnapshotRules.Differences(snapshot, vm) is { Count: > 0 } differences)
        {
            return ApiProblem.Conflict(
                ProblemCode.SnapshotDefinitionMismatch,
                $"VM '{vm.Name}' is no longer defined as when snapshot '{snapshot.Name}' was taken: {string.Join("; ", differences.Select(d => $"{d.Key}: {d.Value}"))}.",
                new Dictionary<string, object?> { ["differences"] = differences });
        }
        var image = await db.Images.AsNoTracking().FirstAsync(i => i.Id == vm.ImageId, cancellationToken);
        var worker = supervisor.Worker(vm, image);
        if (worker.Status.State is VmState.Running or VmState.Migrating)
        {
            return VmLifecycleApi.StateConflict(vm.WithStatus(worker.Status), "restore a snapshot into it");
        }
        var loaded = await store.LoadAsync(db, snapshot, cancellationToken);
        if (loaded.Damage is { } damage)
        {
            return SnapshotRules.Damaged(damage);
        }
        var answer = await worker.SendAsync(new RestoreCommand(snapshot.Id, loaded.State, loaded.Pages));
        if (!answer.Accepted)
        {
            return answer.Refusal is { } refusal && answer.Status.State != VmState.Migrating
                ? SnapshotRules.Damaged(new SnapshotDamage(snapshot.Id, null, null, refusal))
                : VmLifecycleApi.StateConflict(vm.WithStatus(answer.Status), "restore a snapshot into it");
        }
        return TypedResults.Ok(VmRules.ToResponse(vm.WithStatus(answer.Status)));
    }

    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> ExportSnapshot(Guid id, VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var snapshot = await db.Snapshots.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (snapshot is null)
        {
            return ApiProblem.NotFound("Snapshot", id);
        }
        var export = await SnapshotArchive.ExportAsync(db, snapshot, cancellationToken);
        if (export.Damage is { } damage)
        {
            return SnapshotRules.Damaged(damage);
        }
        return TypedResults.File(export.File!, SnapshotArchive.ContentType, $"{snapshot.Name}.virtsnap");
    }

    public static async Task<Results<Created<SnapshotImportResponse>, ProblemHttpResult>> ImportSnapshot(
        HttpRequest request, VirtApiDbContext db, SnapshotStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, cancellationToken);
        var parsed = SnapshotArchive.Parse(body.ToArray());
        if (parsed.Error is { } error)
        {
            return ApiProblem.Unprocessable(ProblemCode.InvalidSnapshotFile, error);
        }
        var imported = await store.ImportAsync(db, parsed.Archive!, time.GetUtcNow(), cancellationToken);
        var chain = imported.Chain.Select(SnapshotRules.ToResponse).ToList();
        return TypedResults.Created($"/api/v1/snapshots/{chain[^1].Id}", new SnapshotImportResponse(chain[^1], chain, imported.ImageId, imported.ImageCreated));
    }
}
