using VirtApi.Hypervisor.Devices;

namespace VirtApi.Contracts;

/// <summary>A device to give a VM (<c>POST /api/v1/vms/{id}/devices</c>, or an entry of <c>devices</c> when a VM is created).</summary>
public sealed record AttachDeviceRequest
{
    /// <summary><c>console</c> or <c>block</c> (<c>net</c> has no device model in this build: 422).</summary>
    /// <example>block</example>
    public DeviceKind? Kind { get; init; }

    /// <summary><c>emulated</c> (ATA PIO, 16550 UART), <c>split</c> (virtio-mmio) or <c>passthrough</c> (a host device).</summary>
    /// <example>split</example>
    public DeviceModel? Model { get; init; }

    /// <summary>Passthrough only, and required there: a free device of the same kind in the inventory of the VM's host.</summary>
    public Guid? HostDeviceId { get; init; }

    /// <summary>Emulated and split block devices only: the size of the VM's private disk, 1–1024 MiB; default 16.</summary>
    /// <example>16</example>
    public int? SizeMiB { get; init; }
}

/// <summary>A device of a VM.</summary>
/// <param name="Id">The device's id.</param>
/// <param name="Kind">console or block.</param>
/// <param name="Model">emulated, split or passthrough.</param>
/// <param name="Slot">Its virtio-mmio slot (0–7, split) or legacy slot (0–3, emulated and passthrough); it never changes.</param>
/// <param name="Name">Its name on the board and in statistics: virtio-blk{slot}, virtio-console{slot}, ata{slot}, uart{slot+1}.</param>
/// <param name="HostDeviceId">A passthrough device's host device; null otherwise.</param>
/// <param name="SizeMiB">An emulated or split block device's private disk size; null otherwise (a passthrough disk has its host device's size).</param>
/// <param name="CreatedAt">When it was attached.</param>
public sealed record VmDeviceResponse(
    Guid Id,
    DeviceKind Kind,
    DeviceModel Model,
    int Slot,
    string Name,
    Guid? HostDeviceId,
    int? SizeMiB,
    DateTimeOffset CreatedAt);

/// <summary>A VM's devices, by slot.</summary>
/// <param name="Items">The devices.</param>
public sealed record VmDeviceList(IReadOnlyList<VmDeviceResponse> Items);
