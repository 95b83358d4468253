using VirtApi.Hypervisor.Devices;
using VirtApi.Persistence.Entities;

namespace VirtApi.Contracts;

/// <summary>A host to create. Every field is checked; a missing or invalid one is named in the 400.</summary>
public sealed record CreateHostRequest
{
    /// <summary>DNS label: 1–63 lowercase letters, digits and hyphens, not starting or ending with a hyphen; unique.</summary>
    /// <example>host-c</example>
    public string? Name { get; init; }

    /// <summary>Physical CPUs, 1–1024.</summary>
    /// <example>4</example>
    public int? PhysicalCpus { get; init; }

    /// <summary>Machine memory in MiB, 64–4194304 (4 TiB).</summary>
    /// <example>8192</example>
    public long? MemoryMiB { get; init; }

    /// <summary><c>bare-metal</c> (device back ends in a service VM) or <c>hosted</c> (back ends in the VMM).</summary>
    /// <example>hosted</example>
    public HypervisorType? HypervisorType { get; init; }

    /// <summary>Physical devices available for passthrough (at most 64).</summary>
    public IReadOnlyList<HostDeviceRequest>? Devices { get; init; }
}

/// <summary>A physical device in a new host's inventory.</summary>
public sealed record HostDeviceRequest
{
    /// <summary><c>block</c>, <c>net</c> or <c>console</c>.</summary>
    /// <example>block</example>
    public DeviceKind? Kind { get; init; }

    /// <summary>DNS label, unique within the host.</summary>
    /// <example>nvme0</example>
    public string? Name { get; init; }

    /// <summary>Block devices only: the size of its backing file, 1–4096 MiB; default 64.</summary>
    /// <example>64</example>
    public int? SizeMiB { get; init; }
}

/// <summary>A host as the API shows it.</summary>
/// <param name="Id">The host's id.</param>
/// <param name="Name">The host's unique name.</param>
/// <param name="PhysicalCpus">Physical CPUs.</param>
/// <param name="MemoryMiB">Machine memory in MiB.</param>
/// <param name="HypervisorType">bare-metal or hosted.</param>
/// <param name="Devices">Physical devices available for passthrough.</param>
/// <param name="Usage">What the VMs placed on the host use of it.</param>
/// <param name="FromConfiguration">True for the default hosts seeded from appsettings.json.</param>
/// <param name="CreatedAt">When the host was added.</param>
public sealed record HostResponse(
    Guid Id,
    string Name,
    int PhysicalCpus,
    long MemoryMiB,
    HypervisorType HypervisorType,
    IReadOnlyList<HostDeviceResponse> Devices,
    HostUsage Usage,
    bool FromConfiguration,
    DateTimeOffset CreatedAt);

/// <summary>A physical device of a host.</summary>
/// <param name="Id">The device's id (used to assign it to a VM).</param>
/// <param name="Kind">block, net or console.</param>
/// <param name="Name">The device's name on the host.</param>
/// <param name="SizeMiB">A block device's size; null for other kinds.</param>
/// <param name="AssignedVmId">The VM it is passed through to; null while it is free.</param>
public sealed record HostDeviceResponse(Guid Id, DeviceKind Kind, string Name, int? SizeMiB, Guid? AssignedVmId);

/// <summary>How much of a host its VMs use.</summary>
/// <param name="MemoryUsedMiB">Memory charged to the host by its VMs.</param>
/// <param name="MemoryFreeMiB">Memory still free for new VMs.</param>
/// <param name="Vms">VMs placed on the host.</param>
public sealed record HostUsage(long MemoryUsedMiB, long MemoryFreeMiB, int Vms);
