using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VirtApi.Persistence;
using VirtApi.Problems;

namespace VirtApi.Hosts;

/// <summary>
/// Charges VM memory to hosts. Each charge is one conditional UPDATE (free memory checked and
/// taken in the same statement), so two requests racing for the last MiB cannot both win.
/// </summary>
public static class HostPlacement
{
    /// <summary>
    /// Charges <paramref name="memoryMiB"/> to the named host, or to the least-loaded host with room
    /// (most free memory, then name). Returns the host, or null when none has room.
    /// </summary>
    public static async Task<Guid?> ChargeAsync(VirtApiDbContext db, Guid? hostId, int memoryMiB, CancellationToken cancellationToken)
    {
        if (hostId is { } named)
        {
            return await TryChargeAsync(db, named, memoryMiB, cancellationToken) ? named : null;
        }
        var candidates = await db.Hosts.AsNoTracking()
            .Where(h => h.MemoryMiB - h.MemoryChargedMiB >= memoryMiB)
            .OrderByDescending(h => h.MemoryMiB - h.MemoryChargedMiB)
            .ThenBy(h => h.Name)
            .Select(h => h.Id)
            .ToListAsync(cancellationToken);
        foreach (var candidate in candidates)
        {
            if (await TryChargeAsync(db, candidate, memoryMiB, cancellationToken))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>Changes a placed VM's charge by <paramref name="deltaMiB"/> (positive needs room).</summary>
    public static async Task<bool> RechargeAsync(VirtApiDbContext db, Guid hostId, int deltaMiB, CancellationToken cancellationToken) =>
        await db.Hosts
            .Where(h => h.Id == hostId && h.MemoryMiB - h.MemoryChargedMiB >= deltaMiB)
            .ExecuteUpdateAsync(s => s.SetProperty(h => h.MemoryChargedMiB, h => h.MemoryChargedMiB + deltaMiB), cancellationToken) == 1;

    /// <summary>Returns a deleted VM's memory to its host.</summary>
    public static Task ReleaseAsync(VirtApiDbContext db, Guid hostId, int memoryMiB, CancellationToken cancellationToken) =>
        db.Hosts
            .Where(h => h.Id == hostId)
            .ExecuteUpdateAsync(
                s => s.SetProperty(h => h.MemoryChargedMiB, h => h.MemoryChargedMiB - memoryMiB)
                      .SetProperty(h => h.PlacedVms, h => h.PlacedVms - 1),
                cancellationToken);

    /// <summary>The 409 when no host (or not the named one) has room.</summary>
    public static async Task<ProblemHttpResult> CapacityProblemAsync(VirtApiDbContext db, Guid? hostId, int memoryMiB, CancellationToken cancellationToken)
    {
        if (hostId is { } named)
        {
            var host = await db.Hosts.AsNoTracking().FirstAsync(h => h.Id == named, cancellationToken);
            var free = host.MemoryMiB - host.MemoryChargedMiB;
            return ApiProblem.Conflict(
                ProblemCode.HostCapacity,
                $"Host '{host.Name}' has {free} MiB free; the VM needs {memoryMiB} MiB more.",
                new Dictionary<string, object?> { ["hostId"] = named, ["memoryFreeMiB"] = free, ["memoryNeededMiB"] = memoryMiB });
        }
        var most = await db.Hosts.AsNoTracking().Select(h => h.MemoryMiB - h.MemoryChargedMiB).OrderDescending().FirstOrDefaultAsync(cancellationToken);
        return ApiProblem.Conflict(
            ProblemCode.HostCapacity,
            $"No host has {memoryMiB} MiB free; the most any host has is {most} MiB.",
            new Dictionary<string, object?> { ["memoryFreeMiB"] = most, ["memoryNeededMiB"] = memoryMiB });
    }

    private static async Task<bool> TryChargeAsync(VirtApiDbContext db, Guid hostId, int memoryMiB, CancellationToken cancellationToken) =>
        await db.Hosts
            .Where(h => h.Id == hostId && h.MemoryMiB - h.MemoryChargedMiB >= memoryMiB)
            .ExecuteUpdateAsync(
                s => s.SetProperty(h => h.MemoryChargedMiB, h => h.MemoryChargedMiB + memoryMiB)
                      .SetProperty(h => h.PlacedVms, h => h.PlacedVms + 1),
                cancellationToken) == 1;
}
