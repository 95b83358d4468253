using Microsoft.AspNetCore.Http.HttpResults;
using VirtApi.Contracts;
using VirtApi.Hypervisor.Devices;
using VirtApi.Machine.Board;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;
using VirtApi.Problems;

namespace VirtApi.Devices;

/// <summary>
/// What makes a VM's devices valid (issue 8), shared by attach, create, clone and import: the request
/// fields, the kinds with a device model, the slots and the names the hypervisor relies on
/// (<see cref="DeviceSlots"/>), and what a passthrough device forbids.
/// </summary>
public static class DeviceRules
{
    public const int DefaultDiskMiB = 16;
    public const int MaxDiskMiB = 1024;

    /// <summary>Split devices: one per virtio-mmio slot.</summary>
    public const int VirtioSlots = DeviceSlots.VirtioSlotCount;

    /// <summary>Emulated and passthrough devices share the legacy slots.</summary>
    public const int LegacySlots = DeviceSlots.LegacySlotCount;

    /// <summary>The kinds with a device model in this build (the hypervisor's answer); <c>net</c> (optional in the issue) has none.</summary>
    public static bool HasModel(DeviceKind kind) => VmDevices.HasModel(kind);

    /// <summary>
    /// Field checks of one device request, each problem under <paramref name="prefix"/> + the field
    /// (<c>kind</c>, or <c>devices[2].kind</c> when the device comes with a new VM).
    /// </summary>
    public static void Validate(AttachDeviceRequest? request, string prefix, Dictionary<string, string[]> errors)
    {
        if (request is null)
        {
            errors[prefix.TrimEnd('.')] = ["must be an object"];
            return;
        }
        if (request.Kind is null)
        {
            errors[prefix + "kind"] = [$"is required: one of {string.Join(", ", EnumNames.All<DeviceKind>())}"];
        }
        if (request.Model is null)
        {
            errors[prefix + "model"] = [$"is required: one of {string.Join(", ", EnumNames.All<DeviceModel>())}"];
        }
        if (request.Model == DeviceModel.Passthrough && request.HostDeviceId is null)
        {
            errors[prefix + "hostDeviceId"] = ["is required for a passthrough device: the id of a free device of the VM's host"];
        }
        else if (request.Model is not null and not DeviceModel.Passthrough && request.HostDeviceId is not null)
        {
            errors[prefix + "hostDeviceId"] = [$"must be left out: only a passthrough device is a host device, this one is {EnumNames.ToName(request.Model.Value)}"];
        }
        if (request.SizeMiB is { } size)
        {
            if (request.Model == DeviceModel.Passthrough)
            {
                errors[prefix + "sizeMiB"] = ["must be left out: a passthrough disk has the size of its host device"];
            }
            else if (request.Kind is not null and not DeviceKind.Block)
            {
                errors[prefix + "sizeMiB"] = [$"must be left out: only a block device has a size, this one is {EnumNames.ToName(request.Kind.Value)}"];
            }
            else if (size is < 1 or > MaxDiskMiB)
            {
                errors[prefix + "sizeMiB"] = [$"must be between 1 and {MaxDiskMiB}, was {size}"];
            }
        }
    }

    /// <summary>The 422 when a request names a kind without a device model; null when every kind has one.</summary>
    public static ProblemHttpResult? KindProblem(IEnumerable<AttachDeviceRequest> requests)
    {
        if (requests.Select(r => r.Kind).FirstOrDefault(k => k is { } kind && !HasModel(kind)) is not { } missing)
        {
            return null;
        }
        var available = Enum.GetValues<DeviceKind>().Where(HasModel).Select(EnumNames.ToName).ToArray();
        return ApiProblem.Unprocessable(
            ProblemCode.DeviceKindUnavailable,
            $"Device kind {EnumNames.ToName(missing)} has no device model in this build; GET /api/v1/info lists the kinds that have one ({string.Join(", ", available)}).",
            new Dictionary<string, object?> { ["kind"] = EnumNames.ToName(missing), ["available"] = available });
    }

    /// <summary>Whether a device of <paramref name="model"/> takes a virtio-mmio slot (split) or a legacy slot (emulated, passthrough).</summary>
    public static bool IsVirtio(DeviceModel model) => model == DeviceModel.Split;

    /// <summary>
    /// A device's name on the board and in statistics: split block <c>virtio-blk{slot}</c>, split
    /// console <c>virtio-console{slot}</c>, emulated or passthrough block <c>ata{slot}</c>, emulated
    /// or passthrough console <c>uart{slot+1}</c> (uart0 is the board's own console).
    /// </summary>
    public static string NameOf(DeviceKind kind, DeviceModel model, int slot) => (kind, IsVirtio(model)) switch
    {
        (DeviceKind.Block, true) => $"virtio-blk{slot}",
        (DeviceKind.Console, true) => $"virtio-console{slot}",
        (DeviceKind.Block, false) => $"ata{slot}",
        (DeviceKind.Console, false) => $"uart{slot + 1}",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no device model for this kind"),
    };

    /// <summary>The lowest slot of <paramref name="model"/>'s slot space that no device in <paramref name="taken"/> holds; null when all are taken.</summary>
    public static int? FreeSlot(IEnumerable<(DeviceModel Model, int Slot)> taken, DeviceModel model)
    {
        var virtio = IsVirtio(model);
        var used = taken.Where(t => IsVirtio(t.Model) == virtio).Select(t => t.Slot).ToHashSet();
        var count = virtio ? VirtioSlots : LegacySlots;
        for (var slot = 0; slot < count; slot++)
        {
            if (!used.Contains(slot))
            {
                return slot;
            }
        }
        return null;
    }

    /// <summary>The 409 when <paramref name="model"/>'s slot space is full; <paramref name="holders"/> are the devices in it.</summary>
    public static ProblemHttpResult SlotsFull(string vmName, DeviceModel model, IEnumerable<string> holders)
    {
        var names = holders.ToArray();
        return IsVirtio(model)
            ? ApiProblem.Conflict(
                ProblemCode.VirtioSlotsFull,
                $"VM '{vmName}' has no free virtio slot: a VM holds at most {VirtioSlots} split (virtio) devices, and it has {string.Join(", ", names)}.",
                new Dictionary<string, object?> { ["slots"] = VirtioSlots, ["devices"] = names })
            : ApiProblem.Conflict(
                ProblemCode.LegacySlotsFull,
                $"VM '{vmName}' has no free legacy slot: emulated and passthrough devices share {LegacySlots}, and it has {string.Join(", ", names)}.",
                new Dictionary<string, object?> { ["slots"] = LegacySlots, ["devices"] = names });
    }

    /// <summary>The 409 for a host device another (or the same) VM holds.</summary>
    public static ProblemHttpResult HostDeviceAssigned(HostDeviceEntity hostDevice, Guid vmId, string vmName) =>
        ApiProblem.Conflict(
            ProblemCode.HostDeviceAssigned,
            $"Host device '{hostDevice.Name}' is passed through to VM '{vmName}' ({vmId}); a host device belongs to one VM at a time, so detach it there first.",
            new Dictionary<string, object?> { ["hostDeviceId"] = hostDevice.Id, ["vmId"] = vmId, ["vmName"] = vmName });

    /// <summary>
    /// The devices that keep a VM from being snapshotted or live-migrated (DESIGN.md "Device
    /// virtualization": a passthrough device is the host's hardware, whose state the hypervisor
    /// neither sees nor can move). Empty when nothing stands in the way. Snapshots call it now;
    /// live migration (issue 9) calls it too.
    /// </summary>
    public static IReadOnlyList<DeviceBlocker> Blockers(IEnumerable<VmDeviceEntity> devices) =>
    [
        .. Ordered(devices)
            .Where(d => d.Model == DeviceModel.Passthrough)
            .Select(d => new DeviceBlocker(d.Id, d.Name, d.HostDeviceId, "a passthrough device's state lives in the host's hardware, out of the hypervisor's reach")),
    ];

    /// <summary>The 409 for <paramref name="what"/> (snapshot, live-migrate …) refused because of <paramref name="blockers"/>.</summary>
    public static ProblemHttpResult Blocked(VmEntity vm, IReadOnlyList<DeviceBlocker> blockers, string what) =>
        ApiProblem.Conflict(
            ProblemCode.PassthroughDeviceAttached,
            $"VM '{vm.Name}' cannot {what} while it has a passthrough device ({string.Join(", ", blockers.Select(b => b.Name))}); detach it first.",
            new Dictionary<string, object?> { ["devices"] = blockers });

    /// <summary>Devices by slot, then name: the order of responses and of the worker's spec.</summary>
    public static IEnumerable<VmDeviceEntity> Ordered(IEnumerable<VmDeviceEntity> devices) =>
        devices.OrderBy(d => d.Slot).ThenBy(d => d.Name, StringComparer.Ordinal);

    public static VmDeviceResponse ToResponse(VmDeviceEntity d) =>
        new(d.Id, d.Kind, d.Model, d.Slot, d.Name, d.HostDeviceId, d.SizeMiB, d.CreatedAt);

    /// <summary>The device list a snapshot records.</summary>
    public static List<SnapshotDevice> ToSnapshot(IEnumerable<VmDeviceEntity> devices) =>
        [.. Ordered(devices).Select(d => new SnapshotDevice { Kind = d.Kind, Model = d.Model, Slot = d.Slot, Name = d.Name, SizeMiB = d.SizeMiB })];

    /// <summary>The devices a clone of a snapshot gets: the same kinds, models, slots, names and sizes, new ids (and new, empty disks).</summary>
    public static List<VmDeviceEntity> FromSnapshot(IEnumerable<SnapshotDevice> devices, DateTimeOffset now) =>
        [.. devices.Select(d => new VmDeviceEntity { Id = Guid.CreateVersion7(now), Kind = d.Kind, Model = d.Model, Slot = d.Slot, Name = d.Name, SizeMiB = d.SizeMiB, CreatedAt = now })];

    /// <summary>A device list in words, to compare and to show (<c>virtio-blk0 split block 16 MiB, uart1 emulated console</c>).</summary>
    public static string Describe(IEnumerable<(DeviceKind Kind, DeviceModel Model, int Slot, string Name, int? SizeMiB)> devices)
    {
        var described = devices
            .OrderBy(d => d.Slot).ThenBy(d => d.Name, StringComparer.Ordinal)
            .Select(d => $"{d.Name} {EnumNames.ToName(d.Model)} {EnumNames.ToName(d.Kind)}{(d.SizeMiB is { } size ? $" {size} MiB" : "")}")
            .ToArray();
        return described.Length == 0 ? "no devices" : $"[{string.Join(", ", described)}]";
    }

    /// <summary>
    /// Null when a saved device list (from an imported file) is one a VM can have: kinds with a model,
    /// no passthrough, each slot in range and taken once, names and sizes as attach gives them.
    /// </summary>
    public static string? CheckSaved(IEnumerable<SnapshotDevice> devices)
    {
        var taken = new HashSet<(bool Virtio, int Slot)>();
        foreach (var d in devices)
        {
            if (!HasModel(d.Kind))
            {
                return $"device {d.Name} is a {EnumNames.ToName(d.Kind)} device, which has no device model in this build";
            }
            if (d.Model == DeviceModel.Passthrough)
            {
                return $"device {d.Name} is a passthrough device, which a snapshot cannot hold";
            }
            if (d.Slot < 0 || d.Slot >= (IsVirtio(d.Model) ? VirtioSlots : LegacySlots) || !taken.Add((IsVirtio(d.Model), d.Slot)))
            {
                return $"device {d.Name} has slot {d.Slot}, outside its slot space or taken twice";
            }
            if (d.Name != NameOf(d.Kind, d.Model, d.Slot))
            {
                return $"device {d.Name} should be named {NameOf(d.Kind, d.Model, d.Slot)}";
            }
            if (d.Kind == DeviceKind.Block ? d.SizeMiB is not (>= 1 and <= MaxDiskMiB) : d.SizeMiB is not null)
            {
                return $"device {d.Name} has size {d.SizeMiB?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}; a block disk has 1 to {MaxDiskMiB} MiB, a console none";
            }
        }
        return null;
    }
}

/// <summary>A device that keeps a VM from being snapshotted or migrated, and why.</summary>
/// <param name="DeviceId">The VM device.</param>
/// <param name="Name">Its name (<c>ata0</c>).</param>
/// <param name="HostDeviceId">The host device it passes through.</param>
/// <param name="Reason">Why it blocks.</param>
public sealed record DeviceBlocker(Guid DeviceId, string Name, Guid? HostDeviceId, string Reason);
