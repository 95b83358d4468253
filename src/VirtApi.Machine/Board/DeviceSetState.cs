using System.Collections.Immutable;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Devices.Ata;
using VirtApi.Machine.Devices.Virtio;

namespace VirtApi.Machine.Board;

/// <summary>
/// The saved <see cref="DeviceSet"/>: each device's state by its name. Which devices there are, and
/// where, is the VM's definition, given again on restore; disks' contents live in their stores.
/// </summary>
public sealed record DeviceSetState
{
    public required ImmutableSortedDictionary<string, SavedDevice> Devices { get; init; }
}

/// <summary>One device's saved state: the part for its hardware type, and its count of direct accesses.</summary>
public sealed record SavedDevice(ulong DirectAccesses)
{
    public VirtioMmioState? Virtio { get; init; }

    /// <summary>A virtio-console's own state (input not yet delivered), beside its transport's.</summary>
    public VirtioConsoleState? Console { get; init; }

    public AtaState? Ata { get; init; }

    public UartState? Uart { get; init; }
}
