using VirtApi.Hypervisor.Migration;

namespace VirtApi.Hypervisor.Vm;

/// <summary>Something a VM did that others watch: the API persists state changes and streams all of them as server-sent events.</summary>
public abstract record VmEvent(Guid VmId);

/// <summary>The VM's status changed (lifecycle, guest power-off, crash, budget).</summary>
public sealed record VmStateChanged(Guid VmId, VmStatus Status) : VmEvent(VmId);

/// <summary>The guest wrote console output starting at <paramref name="Offset"/>.</summary>
public sealed record VmConsoleOutput(Guid VmId, long Offset, byte[] Bytes) : VmEvent(VmId);

/// <summary>
/// A migration of the VM moved on: a phase began (<paramref name="Round"/> null), a pre-copy round
/// completed, or it ended (<paramref name="Phase"/> completed, failed or cancelled, with <paramref name="Error"/>).
/// </summary>
public sealed record VmMigrationProgress(Guid VmId, Guid MigrationId, MigrationPhase Phase, MigrationRound? Round = null, string? Error = null) : VmEvent(VmId);

/// <summary>Receives VM events; called on scheduler threads, so it must not block.</summary>
public interface IVmEventSink
{
    void Publish(VmEvent vmEvent);
}
