using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;

namespace VirtApi.Api.Tests;

/// <summary>
/// Holds a migration POST just after its row and the target's reservation are committed, before the
/// VM's worker is asked: the window in which a change to the VM, or its deletion, can race the start.
/// Closed once with <see cref="Close"/>; the next commit that stored a migration waits there until
/// <see cref="Open"/>, and <see cref="Reached"/> says it is waiting.
/// </summary>
internal sealed class MigrationStartGate : DbTransactionInterceptor
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _closed;

    /// <summary>Completes when a migration POST is held at the gate.</summary>
    public Task Reached => _reached.Task;

    public void Close() => Volatile.Write(ref _closed, 1);

    public void Open() => _open.TrySetResult();

    public override async Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (eventData.Context?.ChangeTracker.Entries<MigrationEntity>().Any(e => e.Entity.EndedAt is null) == true
            && Interlocked.Exchange(ref _closed, 0) == 1)
        {
            _reached.TrySetResult();
            await _open.Task.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
        }
    }

    /// <summary>Puts the gate in front of the server's database.</summary>
    public static VirtApiFactory Install(VirtApiFactory factory, out MigrationStartGate gate)
    {
        var installed = new MigrationStartGate();
        gate = installed;
        return factory.WithServices(services => services.ConfigureDbContext<VirtApiDbContext>(options => options.AddInterceptors(installed)));
    }
}
