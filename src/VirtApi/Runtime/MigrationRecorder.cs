using System.Collections.Concurrent;
using System.Data.Common;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using VirtApi.Hosts;
using VirtApi.Hypervisor.Migration;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;
using VirtApi.VmMigration;

namespace VirtApi.Runtime;

/// <summary>
/// Persists what the VM workers report of their migrations, in the order they report it: each phase,
/// each pre-copy round as it completes, and the end. The workers call it on their own threads, so it
/// only queues (<see cref="IMigrationObserver"/>); one writer applies the queue. The end moves the
/// host charge in one transaction: on completion the VM's host becomes the target and the source's
/// charge is released (the target was charged when the migration started); otherwise the target's
/// reservation is released. Endpoints and tests await an end being recorded with <see cref="WhenEnded"/>.
/// </summary>
public sealed partial class MigrationRecorder(IServiceScopeFactory scopes, TimeProvider time, ILogger<MigrationRecorder> logger) : BackgroundService, IMigrationObserver
{
    private readonly Channel<MigrationEvent> _events = Channel.CreateUnbounded<MigrationEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _ends = new();

    /// <summary>From now until its end is recorded, <see cref="WhenEnded"/> waits for migration <paramref name="id"/>; call it before the worker is asked.</summary>
    public void Track(Guid id) => _ends.TryAdd(id, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>The worker refused migration <paramref name="id"/>: nothing will be reported, and nobody should wait for it.</summary>
    public void Forget(Guid id)
    {
        if (_ends.TryRemove(id, out var end))
        {
            end.TrySetResult();
        }
    }

    /// <summary>Completes when the end of migration <paramref name="id"/> is in the database (at once if it is already, or was never tracked).</summary>
    public Task WhenEnded(Guid id) => _ends.TryGetValue(id, out var end) ? end.Task : Task.CompletedTask;

    /// <summary>
    /// Waits until every migration of the VM that the database still shows under way has its end
    /// recorded, so a caller about to change the VM's host charge or definition sees where it ended up.
    /// Callers make sure the VM is not migrating, or stop it first (a live migration would be waited out),
    /// and read the VM after it.
    /// </summary>
    public async Task SettledAsync(VirtApiDbContext db, Guid vmId, CancellationToken cancellationToken)
    {
        var underWay = await db.Migrations.AsNoTracking().UnderWay().Where(m => m.VmId == vmId).Select(m => m.Id).ToListAsync(cancellationToken);
        await Task.WhenAll(underWay.Select(WhenEnded)).WaitAsync(cancellationToken);
    }

    void IMigrationObserver.PhaseChanged(Guid migrationId, MigrationPhase phase) => _events.Writer.TryWrite(new PhaseEvent(migrationId, phase));

    void IMigrationObserver.RoundCompleted(Guid migrationId, MigrationRound round) => _events.Writer.TryWrite(new RoundEvent(migrationId, round));

    void IMigrationObserver.Ended(Guid migrationId, MigrationReport report) => _events.Writer.TryWrite(new EndEvent(migrationId, report));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _events.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                while (reader.TryRead(out var reported))
                {
                    // Not cancelled by shutdown: the event has left the queue, and an end half
                    // written would leave a host charged twice or not at all.
                    await ApplyAsync(reported, CancellationToken.None);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        while (reader.TryRead(out var reported))
        {
            await ApplyAsync(reported, CancellationToken.None);
        }
    }

    private async Task ApplyAsync(MigrationEvent reported, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<VirtApiDbContext>();
            switch (reported)
            {
                case PhaseEvent phase:
                    await db.Migrations.UnderWay().Where(m => m.Id == phase.Id)
                        .ExecuteUpdateAsync(s => s.SetProperty(m => m.Phase, phase.Phase), cancellationToken);
                    break;
                case RoundEvent round:
                    db.MigrationRounds.Add(ToEntity(round.Id, round.Round));
                    await db.SaveChangesAsync(cancellationToken);
                    break;
                case EndEvent end:
                    await EndAsync(db, end, cancellationToken);
                    break;
            }
        }
        catch (Exception exception) when (exception is DbUpdateException or DbException or InvalidOperationException)
        {
            // A migration whose VM was deleted meanwhile has no row left to update; a database that
            // cannot be written (busy, full) must not stop the recorder for every other migration.
            LogWriteFailed(logger, exception, reported.Id);
        }
        finally
        {
            if (reported is EndEvent)
            {
                Forget(reported.Id);
            }
        }
    }

    private async Task EndAsync(VirtApiDbContext db, EndEvent end, CancellationToken cancellationToken)
    {
        // One write transaction (SQLite's BEGIN IMMEDIATE) from the first read: a VM deleted at the same
        // moment either sees the migration ended or finds it under way and releases the target itself.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var migration = await db.Migrations.Include(m => m.Rounds).FirstOrDefaultAsync(m => m.Id == end.Id, cancellationToken);
        if (migration is null || MigrationEntity.IsTerminal(migration.Phase))
        {
            return;
        }
        var report = end.Report;
        var now = time.GetUtcNow();
        // Rounds are recorded as they complete; the report has them all, in case one was not.
        foreach (var round in report.Rounds.Where(r => migration.Rounds.All(stored => stored.Number != r.Number)))
        {
            db.MigrationRounds.Add(ToEntity(migration.Id, round));
        }
        migration.Phase = report.Phase;
        migration.Error = report.Error;
        migration.EndedAt = now;
        migration.TotalPagesSent = report.TotalPagesSent;
        if (report.StopAndCopy is { } stopAndCopy)
        {
            migration.StopAndCopyPagesSent = stopAndCopy.PagesSent;
            migration.StateBytes = stopAndCopy.StateBytes;
            migration.DowntimeInstructions = (long)stopAndCopy.DowntimeInstructions;
            migration.DowntimeMilliseconds = stopAndCopy.DowntimeMilliseconds;
        }
        if (report.Phase == MigrationPhase.Completed)
        {
            await db.Vms.Where(v => v.Id == migration.VmId)
                .ExecuteUpdateAsync(s => s.SetProperty(v => v.HostId, migration.TargetHostId).SetProperty(v => v.UpdatedAt, now), cancellationToken);
            await HostPlacement.ReleaseAsync(db, migration.SourceHostId, migration.MemoryMiB, cancellationToken);
        }
        else
        {
            await HostPlacement.ReleaseAsync(db, migration.TargetHostId, migration.MemoryMiB, cancellationToken);
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (report.Error is { } error)
        {
            LogEndedWithError(logger, migration.Id, migration.VmId, report.Phase, error);
        }
        else
        {
            LogEnded(logger, migration.Id, migration.VmId, report.Phase);
        }
    }

    private static MigrationRoundEntity ToEntity(Guid migrationId, MigrationRound round) => new()
    {
        MigrationId = migrationId,
        Number = round.Number,
        PagesSent = round.PagesSent,
        PagesDirtied = round.PagesDirtied,
        GuestInstructions = (long)round.GuestInstructions,
        LinkInstructions = (long)round.LinkInstructions,
        HostMilliseconds = round.HostMilliseconds,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not persist a report of migration {MigrationId}")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, Guid migrationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Migration {MigrationId} of VM {VmId} ended: {Phase}")]
    private static partial void LogEnded(ILogger logger, Guid migrationId, Guid vmId, MigrationPhase phase);

    [LoggerMessage(Level = LogLevel.Information, Message = "Migration {MigrationId} of VM {VmId} ended: {Phase}, {Error}")]
    private static partial void LogEndedWithError(ILogger logger, Guid migrationId, Guid vmId, MigrationPhase phase, string error);

    private abstract record MigrationEvent(Guid Id);

    private sealed record PhaseEvent(Guid Id, MigrationPhase Phase) : MigrationEvent(Id);

    private sealed record RoundEvent(Guid Id, MigrationRound Round) : MigrationEvent(Id);

    private sealed record EndEvent(Guid Id, MigrationReport Report) : MigrationEvent(Id);
}
