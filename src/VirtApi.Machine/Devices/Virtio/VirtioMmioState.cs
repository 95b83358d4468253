using System.Collections.Immutable;
using VirtApi.Machine.Memory;

namespace VirtApi.Machine.Devices.Virtio;

/// <summary>
/// The saved <see cref="VirtioMmioTransport"/>: its registers, each queue, and its counters. The
/// device type's own state (console input not yet delivered) is saved beside it by the device;
/// the rings and buffers are guest RAM, saved with RAM; a disk's sectors live in its store.
/// </summary>
public sealed record VirtioMmioState
{
    /// <summary>The device ID of the device type, checked on restore.</summary>
    public required uint DeviceId { get; init; }

    /// <summary>The device status field, DEVICE_NEEDS_RESET included.</summary>
    public required uint Status { get; init; }

    public required uint DeviceFeaturesSel { get; init; }

    public required uint DriverFeaturesSel { get; init; }

    /// <summary>Feature bits 0 to 63 as the driver wrote them.</summary>
    public required ulong DriverFeatures { get; init; }

    /// <summary>The driver set a feature bit beyond 63, where nothing is offered.</summary>
    public required bool DriverFeaturesBeyond64 { get; init; }

    public required uint QueueSel { get; init; }

    /// <summary>Notifications not yet acknowledged; the interrupt line's level follows from it.</summary>
    public required uint InterruptStatus { get; init; }

    /// <summary>The virtqueues, by index.</summary>
    public required ImmutableArray<VirtqueueState> Queues { get; init; }

    public required VirtioCountersState Counters { get; init; }
}

/// <summary>The saved <see cref="SplitVirtqueue"/>: its registers and the device's two indices.</summary>
public sealed record VirtqueueState
{
    /// <summary>QueueNum.</summary>
    public required ushort Size { get; init; }

    /// <summary>QueueReady.</summary>
    public required bool Ready { get; init; }

    public required ulong DescriptorArea { get; init; }

    public required ulong DriverArea { get; init; }

    public required ulong DeviceArea { get; init; }

    /// <summary>The next available-ring index the device will take.</summary>
    public required ushort LastAvailIdx { get; init; }

    /// <summary>The used ring's idx as the device last wrote it.</summary>
    public required ushort UsedIdx { get; init; }
}

/// <summary>The saved <see cref="VirtioCounters"/>: a device's statistics travel with its snapshot.</summary>
public sealed record VirtioCountersState
{
    public required ulong RegisterAccesses { get; init; }

    public required ulong Notifications { get; init; }

    public required ulong Batches { get; init; }

    public required ulong Requests { get; init; }

    public required ulong BytesTransferred { get; init; }

    public required ulong InterruptsRaised { get; init; }

    public required ulong DeviceErrors { get; init; }
}

/// <summary>
/// What a restored <see cref="VirtioMmioTransport"/> is given: the device type (already restored),
/// guest memory, its interrupt line (a PLIC source, already restored) and the QueueNumMax it was built with.
/// </summary>
public sealed record VirtioMmioArgs(IVirtioDevice Device, IGuestMemory Memory, IInterruptLine Irq, ushort QueueNumMax = VirtioMmioTransport.DefaultQueueNumMax);
