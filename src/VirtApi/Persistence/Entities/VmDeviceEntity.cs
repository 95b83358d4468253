using VirtApi.Hypervisor.Devices;

namespace VirtApi.Persistence.Entities;

/// <summary>
/// One device of a VM (DESIGN.md "Device virtualization"). Its slot is chosen when it is attached and
/// stored, never recomputed, so detaching one device never moves another; its name follows from its
/// kind, model and slot (<see cref="Devices.DeviceRules.NameOf"/>) and is stored with it.
/// </summary>
public sealed class VmDeviceEntity
{
    public Guid Id { get; set; }

    public Guid VmId { get; set; }

    public DeviceKind Kind { get; set; }

    public DeviceModel Model { get; set; }

    /// <summary>A virtio-mmio slot (0–7) for a split device; a legacy slot (0–3) for an emulated or passthrough one.</summary>
    public int Slot { get; set; }

    /// <summary>The device's name on the board and in statistics (<c>virtio-blk0</c>, <c>ata1</c>, <c>uart2</c> …).</summary>
    public required string Name { get; set; }

    /// <summary>A passthrough device's host device; null for emulated and split devices.</summary>
    public Guid? HostDeviceId { get; set; }

    /// <summary>The host device, when loaded (the spec needs its name and size).</summary>
    public HostDeviceEntity? HostDevice { get; set; }

    /// <summary>The size of an emulated or split block device's private disk; null otherwise.</summary>
    public int? SizeMiB { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
