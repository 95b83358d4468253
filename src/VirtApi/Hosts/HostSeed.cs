using VirtApi.Contracts;
using VirtApi.Hypervisor.Devices;
using VirtApi.Persistence.Entities;

namespace VirtApi.Hosts;

/// <summary>One entry of the <c>Hosts</c> array in <c>appsettings.json</c>: a default host seeded at start.</summary>
public sealed class HostSeed
{
    public const string Section = "Hosts";

    public string? Name { get; set; }

    public int? PhysicalCpus { get; set; }

    public long? MemoryMiB { get; set; }

    public string? HypervisorType { get; set; }

    public List<HostDeviceSeed> Devices { get; set; } = [];

    /// <summary>The same request the API would take, so seeding and the API share one set of rules.</summary>
    public CreateHostRequest ToRequest() => new()
    {
        Name = Name,
        PhysicalCpus = PhysicalCpus,
        MemoryMiB = MemoryMiB,
        HypervisorType = Persistence.EnumNames.TryParse<HypervisorType>(HypervisorType, out var type) ? type : null,
        Devices = Devices.Select(d => new HostDeviceRequest
        {
            Kind = Persistence.EnumNames.TryParse<DeviceKind>(d.Kind, out var kind) ? kind : null,
            Name = d.Name,
            SizeMiB = d.SizeMiB,
        }).ToList(),
    };
}

/// <summary>A physical device of a seeded host.</summary>
public sealed class HostDeviceSeed
{
    public string? Kind { get; set; }

    public string? Name { get; set; }

    /// <summary>A block device's size in MiB; default 64.</summary>
    public int? SizeMiB { get; set; }
}
