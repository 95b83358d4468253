using Microsoft.EntityFrameworkCore;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence;

namespace VirtApi.Runtime;

/// <summary>
/// Persists VM state changes in the order the workers made them, so after a restart the database
/// says what each VM last did. One writer keeps the order; a change older than what is stored
/// (by the worker's sequence number) is never written over a newer one.
/// </summary>
internal sealed partial class VmStateRecorder(VmEventHub hub, IServiceScopeFactory scopes, TimeProvider time, ILogger<VmStateRecorder> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = hub.StateChanges;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                // Apply everything queued in one transaction; the latest change per VM wins.
                var latest = new Dictionary<Guid, VmStatus>();
                while (reader.TryRead(out var change))
                {
                    latest[change.VmId] = change.Status;
                }
                // Not cancelled by shutdown: these changes have left the channel, and a cancelled
                // write would lose them (a VM's final power-off would not survive a restart).
                await WriteAsync(latest, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // Drain what is left at shutdown so a final power-off is not lost.
        var rest = new Dictionary<Guid, VmStatus>();
        while (reader.TryRead(out var change))
        {
            rest[change.VmId] = change.Status;
        }
        if (rest.Count > 0)
        {
            await WriteAsync(rest, CancellationToken.None);
        }
    }

    private async Task WriteAsync(Dictionary<Guid, VmStatus> changes, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<VirtApiDbContext>();
            var ids = changes.Keys.ToList();
            var vms = await db.Vms.Where(v => ids.Contains(v.Id)).ToListAsync(cancellationToken);
            var now = time.GetUtcNow();
            foreach (var vm in vms)
            {
                var status = changes[vm.Id];
                if (status.Sequence < vm.StatusSequence)
                {
                    continue;
                }
                vm.State = status.State;
                vm.StateReason = status.Reason;
                vm.ExitCode = status.ExitCode;
                vm.InstructionsRetired = (long)status.InstructionsRetired;
                vm.StatusSequence = status.Sequence;
                vm.UpdatedAt = now;
            }
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is DbUpdateException or InvalidOperationException)
        {
            // A VM deleted while its last change was in flight has nothing left to update.
            LogWriteFailed(logger, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not persist VM state changes")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception);
}
