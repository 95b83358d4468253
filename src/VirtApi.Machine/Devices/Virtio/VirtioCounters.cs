namespace VirtApi.Machine.Devices.Virtio;

/// <summary>
/// What one virtio device counted, each where the work happens (DESIGN.md "Statistics": per device
/// exits, notifications, requests, bytes). Plain properties: the device runs on its machine's thread.
/// </summary>
public sealed class VirtioCounters
{
    /// <summary>Reads and writes of the MMIO window, accepted or not: each is one exit for a trapping VMM.</summary>
    public ulong RegisterAccesses { get; set; }

    /// <summary>Writes to QueueNotify (available buffer notifications, §4.2.3.3).</summary>
    public ulong Notifications { get; set; }

    /// <summary>Passes over a queue's available ring that completed at least one chain.</summary>
    public ulong Batches { get; set; }

    /// <summary>Descriptor chains completed: returned in the used ring.</summary>
    public ulong Requests { get; set; }

    /// <summary>Payload bytes moved between guest memory and the device's back end (sectors, console bytes).</summary>
    public ulong BytesTransferred { get; set; }

    /// <summary>Times the interrupt line went from low to high (a notification while InterruptStatus is already set raises nothing new).</summary>
    public ulong InterruptsRaised { get; set; }

    /// <summary>Times the device set DEVICE_NEEDS_RESET because the driver broke the spec.</summary>
    public ulong DeviceErrors { get; set; }

    /// <summary>The counts so far, for a snapshot.</summary>
    public VirtioCountersState Save() => new()
    {
        RegisterAccesses = RegisterAccesses,
        Notifications = Notifications,
        Batches = Batches,
        Requests = Requests,
        BytesTransferred = BytesTransferred,
        InterruptsRaised = InterruptsRaised,
        DeviceErrors = DeviceErrors,
    };

    /// <summary>Counters that go on from <paramref name="state"/>.</summary>
    public static VirtioCounters Restore(VirtioCountersState state) => new()
    {
        RegisterAccesses = state.RegisterAccesses,
        Notifications = state.Notifications,
        Batches = state.Batches,
        Requests = state.Requests,
        BytesTransferred = state.BytesTransferred,
        InterruptsRaised = state.InterruptsRaised,
        DeviceErrors = state.DeviceErrors,
    };
}
