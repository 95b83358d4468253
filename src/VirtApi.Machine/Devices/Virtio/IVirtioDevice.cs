namespace VirtApi.Machine.Devices.Virtio;

/// <summary>
/// A virtio device type behind a transport (virtio 1.2 §5): its ID, feature bits, virtqueues,
/// configuration space, and the handling of one descriptor chain. The transport owns the registers,
/// the queues and the interrupt; the device only turns requests into work. <see cref="VirtioBlock"/>
/// and <see cref="VirtioConsole"/> are the two there are.
/// </summary>
public interface IVirtioDevice
{
    /// <summary>The virtio device ID (§5: 2 block, 3 console).</summary>
    uint DeviceId { get; }

    /// <summary>The device-type feature bits offered; the transport adds VIRTIO_F_VERSION_1 (§6).</summary>
    ulong DeviceFeatures { get; }

    /// <summary>Virtqueues the device has, numbered from 0.</summary>
    int QueueCount { get; }

    /// <summary>Bytes of device configuration space (§2.5), at offset 0x100 of the MMIO window.</summary>
    int ConfigSize { get; }

    /// <summary>Fills <paramref name="destination"/> with configuration bytes from <paramref name="offset"/>; the transport has checked the range.</summary>
    void ReadConfig(int offset, Span<byte> destination);

    /// <summary>The driver writes configuration bytes; false refuses the access (a read-only field).</summary>
    bool WriteConfig(int offset, ReadOnlySpan<byte> source);

    /// <summary>Connects the device to its transport; called once, by the transport's constructor.</summary>
    void Attach(IVirtioTransport transport);

    /// <summary>
    /// Whether the device can take a chain from queue <paramref name="queueIndex"/> now. A receive queue
    /// holds buffers until there is something to put in them; request queues always can.
    /// </summary>
    bool CanConsume(int queueIndex);

    /// <summary>
    /// Handles one chain of queue <paramref name="queueIndex"/> to completion, setting
    /// <paramref name="written"/> to the bytes written into its writable buffers (the used element's
    /// len, §2.7.8). False when the chain is unusable and the device needs a reset (§2.1.2); a request
    /// the device can answer with an error status is not that.
    /// </summary>
    bool Process(int queueIndex, DescriptorChain chain, out uint written);
}

/// <summary>What a device can ask of its transport.</summary>
public interface IVirtioTransport
{
    /// <summary>The counters of this device's work.</summary>
    VirtioCounters Counters { get; }

    /// <summary>
    /// Processes queue <paramref name="queueIndex"/> now, as one batch, as if the driver had notified it
    /// (the device has something new for a receive queue). Nothing happens until the driver has set
    /// DRIVER_OK and made the queue ready; the transport does it then.
    /// </summary>
    void Service(int queueIndex);
}

/// <summary>
/// Where a device's back end runs (DESIGN.md "Device virtualization: split"): it hears of each batch the
/// back end completes, so a hypervisor can charge that work to the VMM (hosted) or the host's service
/// VM (bare-metal) at the moment it is done.
/// </summary>
public interface IVirtioBackEndObserver
{
    /// <summary>The back end completed <paramref name="requests"/> descriptor chains in one pass over a queue.</summary>
    void BatchServiced(int requests);
}
