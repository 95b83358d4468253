namespace VirtApi.Hypervisor.Devices;

/// <summary>The kinds of device a VM can be given (DESIGN.md "Device virtualization").</summary>
public enum DeviceKind
{
    Console,
    Block,
    Net,
}

/// <summary>How a device is virtualized (DESIGN.md "Device virtualization: <c>devices[].model</c>").</summary>
public enum DeviceModel
{
    /// <summary>Hypervisor-direct: a legacy register-level device (UART 16550A, ATA PIO); every register access is a VMM exit.</summary>
    Emulated,

    /// <summary>Front end / back end: a virtio-mmio 1.x device; one notification per batch, the back end does the work.</summary>
    Split,

    /// <summary>A host physical device mapped straight into the guest: no VMM on the path.</summary>
    Passthrough,
}

/// <summary>
/// One device of a VM, resolved for the worker: what it is, how it is virtualized, where it sits and
/// what backs it.
/// </summary>
/// <param name="Id">The VM device's id.</param>
/// <param name="Name">Its name in statistics (<c>ata0</c>, <c>virtio-blk1</c>, <c>uart1</c> …).</param>
/// <param name="Kind">Console, block or net.</param>
/// <param name="Model">Emulated, split or passthrough.</param>
/// <param name="Slot">A virtio-mmio slot (0–7) for split devices; a legacy slot (0–3) for emulated and passthrough ones.</param>
/// <param name="Disk">The backing file of a block device; null for other kinds.</param>
public sealed record VmDeviceSpec(Guid Id, string Name, DeviceKind Kind, DeviceModel Model, int Slot, DiskBacking? Disk);

/// <summary>A block device's backing file: created with <paramref name="Bytes"/> bytes on first use, written on flush and on stop.</summary>
public sealed record DiskBacking(string Path, long Bytes);

/// <summary>How the host runs its VMs (DESIGN.md "Hosts").</summary>
public enum HypervisorType
{
    /// <summary>Type 1: the hypervisor owns the machine; device back ends run in a service VM.</summary>
    BareMetal,

    /// <summary>Type 2: the hypervisor runs on a host OS; device back ends run in the VMM.</summary>
    Hosted,
}
