using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VirtApi.Contracts;
using VirtApi.Hosts;
using VirtApi.Persistence;
using VirtApi.Problems;

namespace VirtApi.Endpoints;

/// <summary>Hosts: the physical machines VMs are placed on (<c>/api/v1/hosts</c>).</summary>
public static class HostsApi
{
    public static RouteGroupBuilder MapHosts(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/hosts").WithTags("Hosts");

        group.MapGet("/", ListHosts)
            .WithName(nameof(ListHosts))
            .WithSummary("List hosts")
            .WithDescription("Every host with its capacity, usage and physical devices (each with the VM it is passed through to, if any), ordered by name.");
        group.MapPost("/", CreateHost)
            .WithName(nameof(CreateHost))
            .WithSummary("Add a host")
            .WithDescription("Adds a physical host with its devices (block, net, console; a block device has a size, default 64 MiB). The name must be a unique DNS label.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{id:guid}", GetHost)
            .WithName(nameof(GetHost))
            .WithSummary("Get a host")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id:guid}", DeleteHost)
            .WithName(nameof(DeleteHost))
            .WithSummary("Remove a host")
            .WithDescription("Removes a host and its device inventory; refused with 409 while VMs are placed on it.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    public static async Task<Ok<List<HostResponse>>> ListHosts(VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var hosts = await db.Hosts.AsNoTracking().Include(h => h.Devices).OrderBy(h => h.Name).ToListAsync(cancellationToken);
        var holders = await HoldersAsync(db, null, cancellationToken);
        return TypedResults.Ok(hosts.Select(h => HostRules.ToResponse(h, holders)).ToList());
    }

    public static async Task<Results<Created<HostResponse>, ValidationProblem, ProblemHttpResult>> CreateHost(
        CreateHostRequest request, VirtApiDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = HostRules.Validate(request);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        if (await db.Hosts.AnyAsync(h => h.Name == request.Name, cancellationToken))
        {
            return NameTaken(request.Name!);
        }
        var host = HostRules.ToEntity(request, fromConfiguration: false, time.GetUtcNow());
        db.Hosts.Add(host);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another request created the same name between our check and our insert; the unique
            // index caught it. Anything else is a real fault and goes on to the exception handler.
            db.ChangeTracker.Clear();
            if (await db.Hosts.AnyAsync(h => h.Name == request.Name, cancellationToken))
            {
                return NameTaken(request.Name!);
            }
            throw;
        }
        return TypedResults.Created($"/api/v1/hosts/{host.Id}", HostRules.ToResponse(host, new Dictionary<Guid, Guid>()));
    }

    public static async Task<Results<Ok<HostResponse>, ProblemHttpResult>> GetHost(Guid id, VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var host = await db.Hosts.AsNoTracking().Include(h => h.Devices).FirstOrDefaultAsync(h => h.Id == id, cancellationToken);
        return host is null ? ApiProblem.NotFound("Host", id) : TypedResults.Ok(HostRules.ToResponse(host, await HoldersAsync(db, id, cancellationToken)));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteHost(Guid id, VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var host = await db.Hosts.FirstOrDefaultAsync(h => h.Id == id, cancellationToken);
        if (host is null)
        {
            return ApiProblem.NotFound("Host", id);
        }
        if (host.PlacedVms > 0)
        {
            return ApiProblem.Conflict(
                ProblemCode.HostInUse,
                $"Host '{host.Name}' has {host.PlacedVms} VM(s) placed on it; delete or migrate them first.",
                new Dictionary<string, object?> { ["vms"] = host.PlacedVms });
        }
        db.Hosts.Remove(host);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Which VM holds each assigned host device (of one host, or of all).</summary>
    private static Task<Dictionary<Guid, Guid>> HoldersAsync(VirtApiDbContext db, Guid? hostId, CancellationToken cancellationToken) =>
        db.VmDevices.AsNoTracking()
            .Where(d => d.HostDeviceId != null && (hostId == null || d.HostDevice!.HostId == hostId))
            .ToDictionaryAsync(d => d.HostDeviceId!.Value, d => d.VmId, cancellationToken);

    private static ProblemHttpResult NameTaken(string name) =>
        ApiProblem.Conflict(ProblemCode.HostNameTaken, $"A host named '{name}' already exists.", new Dictionary<string, object?> { ["name"] = name });
}
