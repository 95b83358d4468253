using VirtApi.Contracts;
using VirtApi.Hypervisor.Devices;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;

namespace VirtApi.Hosts;

/// <summary>What makes a host definition valid, shared by the API and the appsettings.json seeding.</summary>
public static class HostRules
{
    public const int MaxCpus = 1024;
    public const long MinMemoryMiB = 64;
    public const long MaxMemoryMiB = 4L * 1024 * 1024;
    public const int MaxDevices = 64;
    public const int DefaultBlockSizeMiB = 64;
    public const int MaxBlockSizeMiB = 4096;

    /// <summary>Every problem with <paramref name="request"/>, by field (camelCase JSON path).</summary>
    public static Dictionary<string, string[]> Validate(CreateHostRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        CheckName(errors, "name", request.Name);
        if (request.PhysicalCpus is null)
        {
            errors["physicalCpus"] = ["is required"];
        }
        else if (request.PhysicalCpus is < 1 or > MaxCpus)
        {
            errors["physicalCpus"] = [$"must be between 1 and {MaxCpus}, was {request.PhysicalCpus}"];
        }
        if (request.MemoryMiB is null)
        {
            errors["memoryMiB"] = ["is required"];
        }
        else if (request.MemoryMiB is < MinMemoryMiB or > MaxMemoryMiB)
        {
            errors["memoryMiB"] = [$"must be between {MinMemoryMiB} and {MaxMemoryMiB}, was {request.MemoryMiB}"];
        }
        if (request.HypervisorType is null)
        {
            errors["hypervisorType"] = [$"is required: one of {string.Join(", ", EnumNames.All<HypervisorType>())}"];
        }
        var devices = request.Devices ?? [];
        if (devices.Count > MaxDevices)
        {
            errors["devices"] = [$"at most {MaxDevices} devices, was {devices.Count}"];
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < devices.Count; i++)
        {
            var device = devices[i];
            if (device is null)
            {
                errors[$"devices[{i}]"] = ["must be an object"];
                continue;
            }
            if (device.Kind is null)
            {
                errors[$"devices[{i}].kind"] = [$"is required: one of {string.Join(", ", EnumNames.All<DeviceKind>())}"];
            }
            if (CheckName(errors, $"devices[{i}].name", device.Name) && !seen.Add(device.Name!))
            {
                errors[$"devices[{i}].name"] = [$"'{device.Name}' is already used by another device of this host"];
            }
            if (device.SizeMiB is { } size)
            {
                if (device.Kind is not null and not DeviceKind.Block)
                {
                    errors[$"devices[{i}].sizeMiB"] = [$"only a block device has a size; this is a {EnumNames.ToName(device.Kind.Value)} device"];
                }
                else if (size is < 1 or > MaxBlockSizeMiB)
                {
                    errors[$"devices[{i}].sizeMiB"] = [$"must be between 1 and {MaxBlockSizeMiB}, was {size}"];
                }
            }
        }
        return errors;
    }

    /// <summary>The entity for a request <see cref="Validate"/> accepted.</summary>
    public static HostEntity ToEntity(CreateHostRequest request, bool fromConfiguration, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        Name = request.Name!,
        PhysicalCpus = request.PhysicalCpus!.Value,
        MemoryMiB = request.MemoryMiB!.Value,
        HypervisorType = request.HypervisorType!.Value,
        FromConfiguration = fromConfiguration,
        CreatedAt = now,
        Devices = (request.Devices ?? []).Select(d => new HostDeviceEntity
        {
            Id = Guid.CreateVersion7(now),
            Kind = d.Kind!.Value,
            Name = d.Name!,
            SizeMiB = d.Kind == DeviceKind.Block ? d.SizeMiB ?? DefaultBlockSizeMiB : null,
        }).ToList(),
    };

    /// <summary>The API's view of a host; <paramref name="holders"/> maps each assigned host device to the VM that holds it.</summary>
    public static HostResponse ToResponse(HostEntity host, IReadOnlyDictionary<Guid, Guid> holders) => new(
        host.Id,
        host.Name,
        host.PhysicalCpus,
        host.MemoryMiB,
        host.HypervisorType,
        host.Devices.OrderBy(d => d.Name, StringComparer.Ordinal)
            .Select(d => new HostDeviceResponse(d.Id, d.Kind, d.Name, d.SizeMiB, holders.TryGetValue(d.Id, out var vmId) ? vmId : null))
            .ToList(),
        new HostUsage(host.MemoryChargedMiB, host.MemoryMiB - host.MemoryChargedMiB, host.PlacedVms),
        host.FromConfiguration,
        host.CreatedAt);

    private static bool CheckName(Dictionary<string, string[]> errors, string field, string? name)
    {
        var error = Names.CheckDnsLabel(name);
        if (error is not null)
        {
            errors[field] = [error];
        }
        return error is null;
    }
}
