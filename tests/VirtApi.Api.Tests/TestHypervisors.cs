using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Api.Tests;

/// <summary>
/// Test hypervisors: the real one, with one thing changed that a test needs to be certain of, put in
/// front of it in the server's services.
/// </summary>
internal static class TestHypervisors
{
    /// <summary>Puts <paramref name="wrap"/> around the server's hypervisor (the real <see cref="IGuestExecutionFactory"/>).</summary>
    public static IServiceCollection WrapHypervisor<T>(this IServiceCollection services, Func<IGuestExecutionFactory, T> wrap)
        where T : class, IGuestExecutionFactory
    {
        var real = services.Last(d => d.ServiceType == typeof(IGuestExecutionFactory));
        services.Remove(real);
        services.AddSingleton(provider => wrap((IGuestExecutionFactory)real.ImplementationFactory!(provider)));
        services.AddSingleton<IGuestExecutionFactory>(provider => provider.GetRequiredService<T>());
        return services;
    }
}

/// <summary>
/// Every migration target has only <paramref name="frames"/> machine frames for the guest, whatever the
/// VM's memory: a target host whose memory is short, which the ledger cannot see. The real target
/// refuses the page that does not fit, as it would on a host that ran out.
/// </summary>
internal sealed class ShortOfMemoryTargets(IGuestExecutionFactory real, ulong frames) : IGuestExecutionFactory
{
    public IGuestExecution Boot(VmSpec spec, IConsoleOutput console) => real.Boot(spec, console);

    public IGuestExecution Restore(VmSpec spec, VmSnapshotState state, IEnumerable<GuestPage> pages, IConsoleOutput console) =>
        real.Restore(spec, state, pages, console);

    public IMigrationTarget PrepareTarget(VmSpec spec, ulong machineFrames) => real.PrepareTarget(spec, Math.Min(frames, machineFrames));
}

/// <summary>
/// A VM a test holds is running but retires no instructions, as on a host whose scheduler has not
/// given it a turn yet; released, it runs exactly as it would have. This lets a test start a live
/// migration of a guest that would otherwise be over before the request arrives. A guest's results
/// do not depend on when it gets its turns (docs/decisions.md 5), so holding changes nothing it prints.
/// </summary>
internal sealed class HeldGuests(IGuestExecutionFactory real) : IGuestExecutionFactory
{
    private readonly ConcurrentDictionary<Guid, bool> _held = new();

    public void Hold(Guid vmId) => _held[vmId] = true;

    public void Release(Guid vmId) => _held.TryRemove(vmId, out _);

    public IGuestExecution Boot(VmSpec spec, IConsoleOutput console) => new HeldExecution(real.Boot(spec, console), () => _held.ContainsKey(spec.Id));

    public IGuestExecution Restore(VmSpec spec, VmSnapshotState state, IEnumerable<GuestPage> pages, IConsoleOutput console) =>
        real.Restore(spec, state, pages, console);

    public IMigrationTarget PrepareTarget(VmSpec spec, ulong machineFrames) => real.PrepareTarget(spec, machineFrames);

    private sealed class HeldExecution(IGuestExecution real, Func<bool> held) : IGuestExecution
    {
        public ulong InstructionsRetired => real.InstructionsRetired;

        public GuestRunResult Run(ulong maxInstructions)
        {
            if (held())
            {
                // No turn yet; the scheduler comes back to it.
                Thread.Yield();
                return new GuestRunResult(GuestRunOutcome.SliceDone);
            }
            return real.Run(maxInstructions);
        }

        public int FeedConsole(ReadOnlySpan<byte> bytes) => real.FeedConsole(bytes);

        public VmStatistics CaptureStatistics() => real.CaptureStatistics();

        public VmCapture Capture(SnapshotScope scope) => real.Capture(scope);

        public VmSnapshotState SaveState() => real.SaveState();

        public IReadOnlyList<ulong> TouchedPages() => real.TouchedPages();

        public void ReadPage(ulong guestPhysical, Span<byte> destination) => real.ReadPage(guestPhysical, destination);

        public void StartDirtyLog() => real.StartDirtyLog();

        public IReadOnlyList<ulong> TakeDirtyLog() => real.TakeDirtyLog();

        public void StopDirtyLog() => real.StopDirtyLog();

        public void Dispose() => real.Dispose();
    }
}
