using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Migration;

/// <summary>
/// The receiving end of a migration on the target host: machine frames of the target, filled as pages
/// arrive, and at the end the VM built over them from its final state. Disposing it before
/// <see cref="Start"/> gives its frames back (a cancelled or failed migration).
/// </summary>
public interface IMigrationTarget : IDisposable
{
    /// <summary>Machine frames the target holds for the guest.</summary>
    ulong FramesInUse { get; }

    /// <summary>
    /// Stores a guest page that arrived (a later copy of the same page replaces it); false when the target
    /// has no machine frame left for it.
    /// </summary>
    bool TryReceive(ulong guestPhysical, ReadOnlySpan<byte> bytes);

    /// <summary>
    /// The VM, built from <paramref name="state"/> (as it crossed the link) over the pages received, ready to run on
    /// exactly as the source would have. Throws <see cref="SnapshotFormatException"/> when the state does not fit.
    /// </summary>
    IGuestExecution Start(VmSnapshotState state, IConsoleOutput console);
}
