using VirtApi.Hypervisor.Devices;

namespace VirtApi.Persistence.Entities;

/// <summary>A physical machine the service manages (DESIGN.md "Hosts").</summary>
public sealed class HostEntity
{
    public Guid Id { get; set; }

    /// <summary>DNS-label name, unique among hosts.</summary>
    public required string Name { get; set; }

    public int PhysicalCpus { get; set; }

    /// <summary>Machine memory of the host, in MiB: the pool VMs' memory is charged to.</summary>
    public long MemoryMiB { get; set; }

    /// <summary>Memory charged to the host by the VMs placed on it, in MiB.</summary>
    public long MemoryChargedMiB { get; set; }

    /// <summary>How many VMs are placed on the host.</summary>
    public int PlacedVms { get; set; }

    public HypervisorType HypervisorType { get; set; }

    /// <summary>Whether the host came from <c>appsettings.json</c> rather than the API.</summary>
    public bool FromConfiguration { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public List<HostDeviceEntity> Devices { get; set; } = [];
}

/// <summary>One physical device in a host's inventory, available for passthrough.</summary>
public sealed class HostDeviceEntity
{
    public Guid Id { get; set; }

    public Guid HostId { get; set; }

    public DeviceKind Kind { get; set; }

    /// <summary>Name unique within the host (e.g. <c>nvme0</c>).</summary>
    public required string Name { get; set; }

    /// <summary>
    /// A block device's size: its backing file in the data folder is created with this many MiB on
    /// first use. Null for other kinds.
    /// </summary>
    public int? SizeMiB { get; set; }
}
