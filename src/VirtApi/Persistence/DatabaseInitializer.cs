using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VirtApi.Hosts;
using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Vm;
using VirtApi.Images;
using VirtApi.Persistence.Entities;
using VirtApi.VmMigration;

namespace VirtApi.Persistence;

/// <summary>
/// Brings the database up to date before the server takes requests: applies the migrations in
/// <c>migrations/</c>, switches SQLite to write-ahead logging, and seeds the default hosts of
/// <c>appsettings.json</c> and the built-in images, stops VMs a restart interrupted and fails the migrations it interrupted. Every step is idempotent, so a second start against the same file changes nothing.
/// </summary>
internal sealed partial class DatabaseInitializer(
    IServiceScopeFactory scopes,
    IOptions<List<HostSeed>> seeds,
    TimeProvider time,
    ILogger<DatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VirtApiDbContext>();
        await db.Database.MigrateAsync(cancellationToken);
        // WAL lets readers (GET endpoints, the dashboard) proceed while a writer commits; the mode is
        // stored in the file, so setting it on every start is a no-op after the first.
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        await SeedHostsAsync(db, cancellationToken);
        await BuiltInImages.SeedAsync(db, time, cancellationToken);
        await StopInterruptedVmsAsync(db, cancellationToken);
        await FailInterruptedMigrationsAsync(db, cancellationToken);
    }

    /// <summary>
    /// Migrations under way when the server went down cannot go on (the VM's machine, the pages sent
    /// and the target's frames lived in this process): they fail with reason host-restart and their
    /// target's reservation is released. The VM is stopped on the source, its host unchanged.
    /// </summary>
    private async Task FailInterruptedMigrationsAsync(VirtApiDbContext db, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var interrupted = await db.Migrations.UnderWay().ToListAsync(cancellationToken);
        if (interrupted.Count == 0)
        {
            return;
        }
        var now = time.GetUtcNow();
        foreach (var migration in interrupted)
        {
            await HostPlacement.ReleaseAsync(db, migration.TargetHostId, migration.MemoryMiB, cancellationToken);
            migration.Phase = MigrationPhase.Failed;
            migration.Error = StopReasons.HostRestart;
            migration.EndedAt = now;
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogMigrationsFailedByRestart(logger, interrupted.Count);
    }

    /// <summary>
    /// VMs that were running, paused or migrating when the server went down did not survive it
    /// (their machines lived in this process): they come back stopped, with the reason recorded.
    /// </summary>
    private async Task StopInterruptedVmsAsync(VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var interrupted = db.Vms.Where(v => v.State == VmState.Running || v.State == VmState.Paused || v.State == VmState.Migrating);
        if (!await interrupted.AnyAsync(cancellationToken))
        {
            return;
        }
        var now = time.GetUtcNow();
        var count = await db.Vms
            .Where(v => v.State == VmState.Running || v.State == VmState.Paused || v.State == VmState.Migrating)
            .ExecuteUpdateAsync(
                s => s.SetProperty(v => v.State, VmState.Stopped)
                      .SetProperty(v => v.StateReason, StopReasons.HostRestart)
                      .SetProperty(v => v.ExitCode, (int?)null)
                      .SetProperty(v => v.StatusSequence, v => v.StatusSequence + 1)
                      .SetProperty(v => v.UpdatedAt, now),
                cancellationToken);
        if (count > 0)
        {
            LogStoppedByRestart(logger, count);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task SeedHostsAsync(VirtApiDbContext db, CancellationToken cancellationToken)
    {
        foreach (var seed in seeds.Value)
        {
            var errors = HostRules.Validate(seed.ToRequest());
            if (errors.Count > 0)
            {
                throw new InvalidOperationException(
                    $"appsettings.json Hosts entry '{seed.Name}' is invalid: " +
                    string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
            }
            if (await db.Hosts.AnyAsync(h => h.Name == seed.Name, cancellationToken))
            {
                continue;
            }
            db.Hosts.Add(HostRules.ToEntity(seed.ToRequest(), fromConfiguration: true, time.GetUtcNow()));
            LogSeeded(logger, seed.Name!);
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} VM(s) were running when the server stopped; they are stopped with reason host-restart")]
    private static partial void LogStoppedByRestart(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} migration(s) were under way when the server stopped; they failed with reason host-restart and their targets' reservations are released")]
    private static partial void LogMigrationsFailedByRestart(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded default host {Name} from appsettings.json")]
    private static partial void LogSeeded(ILogger logger, string name);
}
